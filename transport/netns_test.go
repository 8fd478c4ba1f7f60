package transport

import (
	"net"
	"net/netip"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

// TestUDPGSODeviceWithoutChecksumOffload sends batches both ways through
// real devices with transmit checksumming and segmentation offloads off
// (ethtool -K eth0 tx off gso off tx-udp-segmentation off). Older kernels
// refuse UDP GSO sends on such a device with EIO (udp_send_skb; seen in
// 2023 in quic-go#3911): the sockets must then fall back to one datagram per
// packet and report GSO off. Recent kernels (6.18 here) checksum and segment
// in software and GSO stays on. Either way, unlike TestUDPGSOFallback,
// nothing is simulated, and no packet may be lost, repeated or reordered;
// receiving (GRO) is not affected.
func TestUDPGSODeviceWithoutChecksumOffload(t *testing.T) {
	lab.RequireBinary(t, "ethtool")
	n := lab.NewNet(t)
	for _, ns := range []*lab.NS{n.Client, n.Server} {
		ns.MustRun(t, "ethtool", "-K", ns.Iface, "tx", "off", "gso", "off", "tx-udp-segmentation", "off")
	}

	var s *udpPacketConn
	err := n.Server.Do(func() (err error) {
		s, err = listenUDP("udp4", netip.AddrPortFrom(n.Server.IPv4, 0), false, polOn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var c *udpConn
	err = n.Client.Do(func() error {
		remote := netip.AddrPortFrom(n.Server.IPv4, s.LocalAddr().Port())
		nc, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(remote))
		if err != nil {
			return err
		}
		if c, err = newUDPConn(nc, remote, polOn); err != nil {
			nc.Close()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !c.Offloads().GSO {
		t.Skip("this kernel has no UDP GSO")
	}
	groBefore := map[string]bool{"client": c.Offloads().GRO, "server": s.Offloads().GRO}

	// Runs of same-size packets (one GSO send each where allowed) and odd
	// sizes, three batches from the client, one back from the server.
	sizes := faultSizes()
	seq := 0
	for range 3 {
		pkts := make([][]byte, len(sizes))
		for i := range pkts {
			pkts[i] = mkPkt(seq+i, sizes[i])
		}
		if err := c.WriteBatch(pkts); err != nil {
			t.Fatalf("client write: %v", err)
		}
		for i, m := range readServer(t, s, len(sizes), DefaultBatchSize, 2048) {
			checkPkt(t, m.Buf, seq+i, sizes[i])
		}
		seq += len(sizes)
	}
	// And back: the server's batches to the client.
	var msgs []Message
	for i, size := range sizes {
		msgs = append(msgs, Message{Buf: mkPkt(seq+i, size), Addr: unmapped(c.LocalAddr())})
	}
	if err := s.WriteBatch(msgs); err != nil {
		t.Fatalf("server write: %v", err)
	}
	for i, p := range readConn(t, c, len(sizes), DefaultBatchSize, 2048) {
		checkPkt(t, p, seq+i, sizes[i])
	}
	for _, w := range []struct {
		name string
		o    Offloads
		w    *udpWriter
	}{{"client", c.Offloads(), &c.w}, {"server", s.Offloads(), &s.w}} {
		if !w.o.GSO && w.w.gsoSends != 0 {
			t.Errorf("%s reports GSO off, yet %d GSO sends went out", w.name, w.w.gsoSends)
		}
		t.Logf("%s: GSO %v (%d GSO sends of %d packets)", w.name, w.o.GSO, w.w.gsoSends, w.w.gsoPackets)
		if groBefore[w.name] && !w.o.GRO {
			t.Errorf("%s lost GRO: only sending is refused", w.name)
		}
	}
}
