package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/openvpn-go/openvpn-go/internal/race"
	"golang.org/x/sys/unix"
)

func TestUDPClientServer(t *testing.T) {
	for _, tc := range []struct{ listen, dial, addr string }{
		{"udp", "udp4", "127.0.0.1"},
		{"udp", "udp6", "::1"},
		{"udp4", "udp4", "127.0.0.1"},
		{"udp6", "udp4", "127.0.0.1"}, // dual-stack like openvpn's udp6
	} {
		t.Run(tc.listen+"-"+tc.dial, func(t *testing.T) {
			srv, err := ListenUDP(tc.listen, netip.AddrPort{}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			port := srv.LocalAddr().Port()
			c, err := Net{}.Dial(context.Background(), tc.dial, netip.AddrPort{}, netip.AddrPortFrom(netip.MustParseAddr(tc.addr), port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var pkts [][]byte
			for i := 0; i < 200; i++ {
				pkts = append(pkts, []byte(fmt.Sprintf("packet %03d", i)))
			}
			if err := c.WriteBatch(pkts); err != nil {
				t.Fatal(err)
			}
			msgs := make([]Message, 64)
			for i := range msgs {
				msgs[i].Buf = make([]byte, 2048)
			}
			got := 0
			var from netip.AddrPort
			for got < 200 {
				n, err := srv.ReadBatch(msgs)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i++ {
					if want := fmt.Sprintf("packet %03d", got); string(msgs[i].Buf[:msgs[i].N]) != want {
						t.Fatalf("got %q want %q", msgs[i].Buf[:msgs[i].N], want)
					}
					from = msgs[i].Addr
					got++
				}
			}
			if from.Addr().Is4In6() || from.Addr().String() != tc.addr {
				t.Fatalf("source %v", from)
			}
			// Reply.
			if err := srv.WriteBatch([]Message{{Buf: []byte("reply"), Addr: from}}); err != nil {
				t.Fatal(err)
			}
			bufs := [][]byte{make([]byte, 100), make([]byte, 100)}
			sizes := make([]int, 2)
			n, err := c.ReadBatch(bufs, sizes)
			if err != nil || n != 1 || string(bufs[0][:sizes[0]]) != "reply" {
				t.Fatal(n, err)
			}
		})
	}
}

func TestTCPFraming(t *testing.T) {
	l, err := ListenTCP("tcp", netip.AddrPort{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan Conn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err == nil {
			accepted <- NewStream(c)
		}
	}()
	port := netip.MustParseAddrPort(l.Addr().String()).Port()
	c, err := Net{}.Dial(context.Background(), "tcp", netip.AddrPort{}, netip.AddrPortFrom(netip.MustParseAddr("::1"), port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	defer s.Close()
	var pkts [][]byte
	for i := 0; i < 300; i++ {
		pkts = append(pkts, bytes.Repeat([]byte{byte(i)}, 1+i*5))
	}
	go c.WriteBatch(pkts)
	bufs := make([][]byte, 32)
	for i := range bufs {
		bufs[i] = make([]byte, 4096)
	}
	sizes := make([]int, 32)
	got := 0
	for got < 300 {
		n, err := s.ReadBatch(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if sizes[i] != 1+got*5 || bufs[i][0] != byte(got) {
				t.Fatalf("packet %d: size %d", got, sizes[i])
			}
			got++
		}
	}
	// Close unblocks the reader.
	done := make(chan error)
	go func() { _, err := s.ReadBatch(bufs, sizes); done <- err }()
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read after close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader not unblocked")
	}
}

func TestCloseUnblocksUDP(t *testing.T) {
	srv, err := ListenUDP("udp4", netip.MustParseAddrPort("127.0.0.1:0"), false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := srv.ReadBatch([]Message{{Buf: make([]byte, 10)}})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	srv.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("err %v", err)
	}
	_ = net.ErrClosed
}

// ---- UDP GSO/GRO ----

// mkPkt returns packet seq of size bytes: seq in the first 4 bytes (as
// far as they fit), then seq's low byte.
func mkPkt(seq, size int) []byte {
	b := make([]byte, size)
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(seq))
	n := copy(b, h[:])
	for i := n; i < size; i++ {
		b[i] = byte(seq)
	}
	return b
}

func checkPkt(t *testing.T, got []byte, seq, size int) {
	t.Helper()
	if len(got) != size {
		t.Fatalf("packet %d: %d bytes, want %d", seq, len(got), size)
	}
	if !bytes.Equal(got, mkPkt(seq, size)) {
		t.Fatalf("packet %d (%d bytes): wrong contents %x", seq, size, got[:min(len(got), 8)])
	}
}

var (
	polOn      = offloadPolicy{}
	polOff     = offloadPolicy{noGSO: true, noGRO: true}
	polGSOOnly = offloadPolicy{noGRO: true}
	polGROOnly = offloadPolicy{noGSO: true}
)

type pairCase struct {
	name           string
	listen         string
	listenAddr     string // "" for the unspecified address
	v6only         bool
	dial, dialAddr string
}

var pairCases = []pairCase{
	{"v4", "udp4", "127.0.0.1", false, "udp4", "127.0.0.1"},
	{"v6", "udp6", "::1", true, "udp6", "::1"},
	{"dual-v4", "udp", "", false, "udp4", "127.0.0.1"},
	{"dual-v6", "udp", "", false, "udp6", "::1"},
}

func newServer(t *testing.T, tc pairCase, pol offloadPolicy) *udpPacketConn {
	t.Helper()
	var la netip.AddrPort
	if tc.listenAddr != "" {
		la = netip.AddrPortFrom(netip.MustParseAddr(tc.listenAddr), 0)
	}
	s, err := listenUDP(tc.listen, la, tc.v6only, pol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dialClient(t *testing.T, network string, remote netip.AddrPort, pol offloadPolicy) *udpConn {
	t.Helper()
	nc, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(remote))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newUDPConn(nc, remote, pol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newPair(t *testing.T, tc pairCase, pol offloadPolicy) (*udpPacketConn, *udpConn) {
	t.Helper()
	s := newServer(t, tc, pol)
	c := dialClient(t, tc.dial, netip.AddrPortFrom(netip.MustParseAddr(tc.dialAddr), s.LocalAddr().Port()), pol)
	checkOffloads(t, s.Offloads(), pol)
	checkOffloads(t, c.Offloads(), pol)
	return s, c
}

// checkOffloads fails unless the socket uses exactly the offloads the
// policy allows (on kernels that have them: GSO >= 4.18, GRO >= 5.12).
func checkOffloads(t *testing.T, got Offloads, pol offloadPolicy) {
	t.Helper()
	if !kernelAtLeast(5, 12) {
		t.Skip("kernel older than 5.12: no UDP_GRO probe")
	}
	if want := (Offloads{GSO: !pol.noGSO, GRO: !pol.noGRO}); got != want {
		t.Fatalf("offloads %+v, want %+v", got, want)
	}
}

const ioTimeout = 10 * time.Second

// readConn reads n slots from c with nbufs buffers of bufSize bytes per
// call and returns them (empty for dropped datagrams).
func readConn(t *testing.T, c *udpConn, n, nbufs, bufSize int) [][]byte {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	bufs := make([][]byte, nbufs)
	for i := range bufs {
		bufs[i] = make([]byte, bufSize)
	}
	sizes := make([]int, nbufs)
	var out [][]byte
	for len(out) < n {
		got, err := c.ReadBatch(bufs, sizes)
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(out), n, err)
		}
		for i := range got {
			out = append(out, bytes.Clone(bufs[i][:sizes[i]]))
		}
	}
	if len(out) != n {
		t.Fatalf("read %d packets, want %d", len(out), n)
	}
	return out
}

// readServer reads n slots from s.
func readServer(t *testing.T, s *udpPacketConn, n, nbufs, bufSize int) []Message {
	t.Helper()
	s.c.SetReadDeadline(time.Now().Add(ioTimeout))
	msgs := make([]Message, nbufs)
	var out []Message
	for len(out) < n {
		for i := range msgs {
			msgs[i] = Message{Buf: make([]byte, bufSize)}
		}
		got, err := s.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(out), n, err)
		}
		for _, m := range msgs[:got] {
			out = append(out, Message{Buf: m.Buf[:m.N], N: m.N, Addr: m.Addr})
		}
	}
	if len(out) != n {
		t.Fatalf("read %d packets, want %d", len(out), n)
	}
	return out
}

// mixedSizes returns n packet sizes: mostly runs of equal sizes, with
// shorter, longer, tiny and empty packets in between.
func mixedSizes(n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	choices := []int{1400, 1400, 1400, 1400, 1399, 1200, 700, 64, 1, 0, 1500}
	var sizes []int
	for len(sizes) < n {
		size, run := choices[rng.IntN(len(choices))], 1+rng.IntN(50)
		for range run {
			sizes = append(sizes, size)
		}
		if rng.IntN(2) == 0 {
			sizes = append(sizes, rng.IntN(size+1)) // a shorter tail
		}
	}
	return sizes[:n]
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func TestUDPOffloadPairs(t *testing.T) {
	for _, pc := range []struct {
		name string
		pol  offloadPolicy
	}{{"gso+gro", polOn}, {"plain", polOff}, {"gso-only", polGSOOnly}, {"gro-only", polGROOnly}} {
		for _, tc := range pairCases {
			t.Run(pc.name+"/"+tc.name, func(t *testing.T) {
				s, c := newPair(t, tc, pc.pol)
				cliAddr := unmapped(c.LocalAddr())
				check := func(sizes []int) {
					t.Helper()
					pkts := make([][]byte, len(sizes))
					for i, size := range sizes {
						pkts[i] = mkPkt(i, size)
					}
					// client → server
					if err := c.WriteBatch(pkts); err != nil {
						t.Fatal(err)
					}
					for i, m := range readServer(t, s, len(sizes), DefaultBatchSize, 2048) {
						checkPkt(t, m.Buf, i, sizes[i])
						if m.Addr != cliAddr {
							t.Fatalf("packet %d from %v, want %v", i, m.Addr, cliAddr)
						}
					}
					// server → client
					msgs := make([]Message, len(pkts))
					for i := range pkts {
						msgs[i] = Message{Buf: pkts[i], Addr: cliAddr}
					}
					if err := s.WriteBatch(msgs); err != nil {
						t.Fatal(err)
					}
					for i, b := range readConn(t, c, len(sizes), DefaultBatchSize, 2048) {
						checkPkt(t, b, i, sizes[i])
					}
				}
				t.Run("equal-sizes-short-last", func(t *testing.T) {
					sizes := make([]int, 150)
					for i := range sizes {
						sizes[i] = 1400
					}
					sizes[len(sizes)-1] = 600
					check(sizes)
				})
				t.Run("small-packets", func(t *testing.T) {
					sizes := make([]int, 300)
					for i := range sizes {
						sizes[i] = 80
					}
					check(sizes)
				})
				t.Run("mixed-sizes", func(t *testing.T) {
					check(mixedSizes(1000, 7))
				})
				if !pc.pol.noGSO && (c.w.gsoSends == 0 || s.w.gsoSends == 0) {
					t.Errorf("GSO on but unused: client %d, server %d GSO sends", c.w.gsoSends, s.w.gsoSends)
				}
				if pc.pol.noGSO && (c.w.gsoSends != 0 || s.w.gsoSends != 0) {
					t.Errorf("GSO off but used")
				}
				// Coalesced datagrams arrive only from GSO senders over
				// loopback (which has no GRO engine of its own).
				if pc.pol == polOn && (c.r.coalesced == 0 || s.r.coalesced == 0) {
					t.Errorf("GRO on but nothing coalesced: client %d, server %d", c.r.coalesced, s.r.coalesced)
				}
				t.Logf("client: %d GSO sends (%d packets), %d GRO reads (%d segments); server: %d GSO sends (%d packets), %d GRO reads (%d segments)",
					c.w.gsoSends, c.w.gsoPackets, c.r.coalesced, c.r.segs, s.w.gsoSends, s.w.gsoPackets, s.r.coalesced, s.r.segs)
			})
		}
	}
}

// TestUDPServerDestinations sends one server WriteBatch to several clients
// (IPv4 and IPv6 on a dual-stack socket) in interleaved runs.
func TestUDPServerDestinations(t *testing.T) {
	s := newServer(t, pairCase{listen: "udp"}, polOn)
	port := s.LocalAddr().Port()
	clients := []*udpConn{
		dialClient(t, "udp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), polOn),
		dialClient(t, "udp6", netip.AddrPortFrom(netip.MustParseAddr("::1"), port), polOn),
		dialClient(t, "udp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), polOn),
	}
	addrs := make([]netip.AddrPort, len(clients))
	for i, c := range clients {
		addrs[i] = unmapped(c.LocalAddr())
	}
	type run struct{ dst, n, size int }
	runs := []run{{0, 10, 1400}, {1, 10, 1400}, {0, 5, 1400}, {2, 47, 1300}, {1, 3, 200}, {0, 1, 1400}, {0, 60, 1000}, {2, 2, 1300}, {1, 100, 1400}}
	var msgs []Message
	want := make([][]int, len(clients)) // sizes per client
	for _, r := range runs {
		for range r.n {
			msgs = append(msgs, Message{Buf: mkPkt(len(want[r.dst]), r.size), Addr: addrs[r.dst]})
			want[r.dst] = append(want[r.dst], r.size)
		}
	}
	for i := range msgs {
		if i%13 == 12 {
			msgs[i].Buf = msgs[i].Buf[:len(msgs[i].Buf)-1] // a shorter tail now and then
			want[indexOf(addrs, msgs[i].Addr)][int(binary.BigEndian.Uint32(msgs[i].Buf))]--
		}
	}
	if err := s.WriteBatch(msgs); err != nil {
		t.Fatal(err)
	}
	for ci, c := range clients {
		for i, b := range readConn(t, c, len(want[ci]), 64, 2048) {
			checkPkt(t, b, i, want[ci][i])
		}
	}
	if s.w.gsoSends == 0 {
		t.Error("no GSO sends")
	}
}

func indexOf(as []netip.AddrPort, a netip.AddrPort) int {
	for i := range as {
		if as[i] == a {
			return i
		}
	}
	return -1
}

// TestUDPGROCarryOver reads coalesced datagrams with fewer buffers than
// they have segments: the rest waits for the next call, in order.
func TestUDPGROCarryOver(t *testing.T) {
	s, c := newPair(t, pairCases[0], polOn)
	const n = 3 * 46
	pkts := make([][]byte, n)
	for i := range pkts {
		pkts[i] = mkPkt(i, 1000)
	}
	if err := c.WriteBatch(pkts); err != nil {
		t.Fatal(err)
	}
	msgs := make([]Message, 5)
	carried := 0
	for got := 0; got < n; {
		for i := range msgs {
			msgs[i].Buf = make([]byte, 2048)
		}
		k, err := s.ReadBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[:k] {
			checkPkt(t, m.Buf[:m.N], got, 1000)
			got++
		}
		if s.r.next < s.r.got {
			carried++
		}
	}
	if carried == 0 || s.r.coalesced == 0 {
		t.Fatalf("no carry-over (%d) or no coalesced read (%d)", carried, s.r.coalesced)
	}
	// And on the client side, one buffer at a time.
	msgs = make([]Message, n)
	for i := range msgs {
		msgs[i] = Message{Buf: pkts[i], Addr: unmapped(c.LocalAddr())}
	}
	if err := s.WriteBatch(msgs); err != nil {
		t.Fatal(err)
	}
	for i, b := range readConn(t, c, n, 1, 2048) {
		checkPkt(t, b, i, 1000)
	}
}

// TestUDPTruncated: datagrams (or GRO segments) longer than their buffer
// are reported with size 0, in their place.
func TestUDPTruncated(t *testing.T) {
	for _, pol := range []offloadPolicy{polOn, polOff} {
		s, c := newPair(t, pairCases[0], pol)
		sizes := []int{1400, 1400, 1400, 500, 500, 1400, 300}
		pkts := make([][]byte, len(sizes))
		for i := range pkts {
			pkts[i] = mkPkt(i, sizes[i])
		}
		if err := c.WriteBatch(pkts); err != nil {
			t.Fatal(err)
		}
		for i, m := range readServer(t, s, len(sizes), 16, 1000) {
			if sizes[i] > 1000 {
				if m.N != 0 {
					t.Fatalf("%+v: packet %d: size %d, want 0 (truncated)", pol, i, m.N)
				}
				continue
			}
			checkPkt(t, m.Buf, i, sizes[i])
		}
	}
}

// faultCase makes the (simulated) kernel refuse some GSO sends.
type faultCase struct {
	name  string
	fault func(segs, size int) syscall.Errno
	check func(t *testing.T, w *udpWriter, o Offloads)
}

var faultCases = []faultCase{
	{"EIO", func(segs, _ int) syscall.Errno {
		if segs > 1 {
			return unix.EIO
		}
		return 0
	}, func(t *testing.T, w *udpWriter, o Offloads) {
		if o.GSO || w.gso {
			t.Error("GSO still on after EIO")
		}
	}},
	{"EMSGSIZE", func(segs, size int) syscall.Errno {
		if segs > 1 && size > 1000 {
			return unix.EMSGSIZE
		}
		return 0
	}, func(t *testing.T, w *udpWriter, o Offloads) {
		// The smallest refused segment size above 1000 sets the limit.
		if !o.GSO || w.segLimit < 1000 || w.segLimit >= 1400 || w.gsoSends == 0 {
			t.Errorf("after EMSGSIZE: GSO %v, segment limit %d, %d GSO sends", o.GSO, w.segLimit, w.gsoSends)
		}
	}},
	{"EINVAL", func(segs, _ int) syscall.Errno {
		if segs > 1 {
			return unix.EINVAL
		}
		return 0
	}, func(t *testing.T, w *udpWriter, o Offloads) {
		if o.GSO {
			t.Error("GSO still on after EINVAL")
		}
	}},
	{"EINVAL-64", func(segs, _ int) syscall.Errno {
		if segs > 64 {
			return unix.EINVAL // a kernel with UDP_MAX_SEGMENTS 64
		}
		return 0
	}, func(t *testing.T, w *udpWriter, o Offloads) {
		if !o.GSO || w.maxSegs != 64 || w.gsoSends == 0 {
			t.Errorf("after EINVAL for >64 segments: GSO %v, max segments %d, %d GSO sends", o.GSO, w.maxSegs, w.gsoSends)
		}
	}},
}

// faultSizes mixes runs of large, small (many segments) and odd packets,
// starting with a plain datagram so that a refused GSO send follows sent
// messages in the same sendmmsg.
func faultSizes() []int {
	sizes := []int{333}
	for range 60 {
		sizes = append(sizes, 1400)
	}
	for range 200 {
		sizes = append(sizes, 100)
	}
	sizes = append(sizes, 77)
	for range 30 {
		sizes = append(sizes, 800)
	}
	return append(sizes, mixedSizes(300, 3)...)
}

// TestUDPGSOFallback simulates the kernel refusing GSO sends (EIO: no tx
// checksum offload; EMSGSIZE: segment above the path MTU; EINVAL) and
// checks that no packet is lost or duplicated and that the offload state
// follows.
func TestUDPGSOFallback(t *testing.T) {
	for _, fc := range faultCases {
		t.Run("client/"+fc.name, func(t *testing.T) {
			s, c := newPair(t, pairCases[2], polOn)
			if fc.name == "EINVAL-64" && c.w.maxSegs != gsoSegmentsNew {
				t.Skip("kernel older than 6.11: already 64 segments")
			}
			faults := 0
			c.w.fault = func(segs, size int) syscall.Errno {
				e := fc.fault(segs, size)
				if e != 0 {
					faults++
				}
				return e
			}
			sizes := faultSizes()
			for range 2 {
				pkts := make([][]byte, len(sizes))
				for i := range pkts {
					pkts[i] = mkPkt(i, sizes[i])
				}
				if err := c.WriteBatch(pkts); err != nil {
					t.Fatal(err)
				}
				for i, m := range readServer(t, s, len(sizes), DefaultBatchSize, 2048) {
					checkPkt(t, m.Buf, i, sizes[i])
				}
			}
			if faults == 0 {
				t.Fatal("fault never triggered")
			}
			fc.check(t, &c.w, c.Offloads())
		})
		t.Run("server/"+fc.name, func(t *testing.T) {
			s := newServer(t, pairCase{listen: "udp"}, polOn)
			if fc.name == "EINVAL-64" && s.w.maxSegs != gsoSegmentsNew {
				t.Skip("kernel older than 6.11: already 64 segments")
			}
			port := s.LocalAddr().Port()
			a := dialClient(t, "udp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), polOn)
			b := dialClient(t, "udp6", netip.AddrPortFrom(netip.MustParseAddr("::1"), port), polOn)
			faults := 0
			s.w.fault = func(segs, size int) syscall.Errno {
				e := fc.fault(segs, size)
				if e != 0 {
					faults++
				}
				return e
			}
			sizes := faultSizes()
			var msgs []Message
			var wantA, wantB []int
			for i, size := range sizes {
				// Alternate destinations every 70 packets.
				if (i/70)%2 == 0 {
					msgs = append(msgs, Message{Buf: mkPkt(len(wantA), size), Addr: unmapped(a.LocalAddr())})
					wantA = append(wantA, size)
				} else {
					msgs = append(msgs, Message{Buf: mkPkt(len(wantB), size), Addr: unmapped(b.LocalAddr())})
					wantB = append(wantB, size)
				}
			}
			if err := s.WriteBatch(msgs); err != nil {
				t.Fatal(err)
			}
			for i, p := range readConn(t, a, len(wantA), DefaultBatchSize, 2048) {
				checkPkt(t, p, i, wantA[i])
			}
			for i, p := range readConn(t, b, len(wantB), DefaultBatchSize, 2048) {
				checkPkt(t, p, i, wantB[i])
			}
			if faults == 0 {
				t.Fatal("fault never triggered")
			}
			fc.check(t, &s.w, s.Offloads())
		})
	}
}

// TestUDPGSOSegmentLimitRecovers: after an EMSGSIZE, full-size segments
// are tried again later (a PMTU drop need not be permanent).
func TestUDPGSOSegmentLimitRecovers(t *testing.T) {
	_, c := newPair(t, pairCases[0], polOn)
	c.w.fault = faultCases[1].fault
	pkts := [][]byte{mkPkt(0, 1400), mkPkt(1, 1400)}
	if err := c.WriteBatch(pkts); err != nil {
		t.Fatal(err)
	}
	if c.w.segLimit != 1399 {
		t.Fatalf("segment limit %d", c.w.segLimit)
	}
	for range segLimitRetry + 1 {
		c.WriteBatch(nil)
	}
	if c.w.segLimit != 1<<16 {
		t.Fatalf("segment limit %d after %d writes", c.w.segLimit, segLimitRetry+1)
	}
}

// TestUDPGSOMaxSegments: the real kernel accepts the segment count we
// assume (128 on Linux >= 6.11, else 64) without falling back.
func TestUDPGSOMaxSegments(t *testing.T) {
	s, c := newPair(t, pairCases[0], polOn)
	maxSegs := c.w.maxSegs
	pkts := make([][]byte, maxSegs)
	for i := range pkts {
		pkts[i] = mkPkt(i, 100)
	}
	if err := c.WriteBatch(pkts); err != nil {
		t.Fatal(err)
	}
	for i, m := range readServer(t, s, len(pkts), DefaultBatchSize, 2048) {
		checkPkt(t, m.Buf, i, 100)
	}
	if c.w.gsoSends != 1 || c.w.maxSegs != maxSegs || !c.Offloads().GSO {
		t.Fatalf("%d GSO sends of %d segments, max now %d", c.w.gsoSends, maxSegs, c.w.maxSegs)
	}
}

// TestUDPAllocs: WriteBatch and ReadBatch allocate nothing in steady
// state, with and without offloads, including the v4-mapped destinations
// of a dual-stack socket.
func TestUDPAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	for _, pol := range []offloadPolicy{polOn, polOff} {
		for _, tc := range pairCases {
			s, c := newPair(t, tc, pol)
			const n = 64
			pkts := make([][]byte, n)
			msgs := make([]Message, n)
			cliAddr := unmapped(c.LocalAddr())
			for i := range pkts {
				pkts[i] = mkPkt(i, 1400)
				msgs[i] = Message{Buf: pkts[i], Addr: cliAddr}
			}
			rmsgs := make([]Message, DefaultBatchSize)
			rfull := make([][]byte, DefaultBatchSize)
			bufs := make([][]byte, DefaultBatchSize)
			sizes := make([]int, DefaultBatchSize)
			for i := range rmsgs {
				rfull[i] = make([]byte, 2048)
				bufs[i] = make([]byte, 2048)
			}
			roundTrip := func() {
				if err := c.WriteBatch(pkts); err != nil {
					t.Fatal(err)
				}
				for got := 0; got < n; {
					for i := range rmsgs {
						rmsgs[i].Buf = rfull[i]
					}
					k, err := s.ReadBatch(rmsgs)
					if err != nil {
						t.Fatal(err)
					}
					got += k
				}
				if err := s.WriteBatch(msgs); err != nil {
					t.Fatal(err)
				}
				for got := 0; got < n; {
					k, err := c.ReadBatch(bufs, sizes)
					if err != nil {
						t.Fatal(err)
					}
					got += k
				}
			}
			c.c.SetReadDeadline(time.Now().Add(time.Minute))
			s.c.SetReadDeadline(time.Now().Add(time.Minute))
			roundTrip()
			if a := testing.AllocsPerRun(200, roundTrip); a != 0 {
				t.Errorf("%s %+v: %v allocations per round trip of %d packets each way", tc.name, pol, a, n)
			}
		}
	}
}

func TestGSOCmsgLayout(t *testing.T) {
	var c gsoCmsg
	if int(unsafe.Offsetof(c.size)) != unix.CmsgLen(0) || int(unsafe.Sizeof(c)) < unix.CmsgSpace(2) {
		t.Fatalf("gsoCmsg layout: data at %d (want %d), size %d (want >= %d)",
			unsafe.Offsetof(c.size), unix.CmsgLen(0), unsafe.Sizeof(c), unix.CmsgSpace(2))
	}
}

// ---- benchmarks ----

// benchPair is a loopback pair for the benchmarks: 1400-byte packets
// from client to server.
func benchPair(b *testing.B, pol offloadPolicy) (*udpPacketConn, *udpConn) {
	s, err := listenUDP("udp4", netip.MustParseAddrPort("127.0.0.1:0"), false, pol)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(s.LocalAddr()))
	if err != nil {
		b.Fatal(err)
	}
	c, err := newUDPConn(nc, s.LocalAddr(), pol)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); c.Close() })
	return s, c
}

// BenchmarkUDPWriteBatch: ns per 1400-byte packet sent by the client in
// batches of 128, while a goroutine drains the server.
func BenchmarkUDPWriteBatch(b *testing.B) {
	for _, bc := range []struct {
		name string
		pol  offloadPolicy
	}{{"gso", polOn}, {"plain", polOff}} {
		b.Run(bc.name, func(b *testing.B) {
			s, c := benchPair(b, bc.pol)
			go drain(s)
			pkts := make([][]byte, DefaultBatchSize)
			for i := range pkts {
				pkts[i] = make([]byte, 1400)
			}
			b.ReportAllocs()
			b.SetBytes(1400)
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += len(pkts) {
				if err := c.WriteBatch(pkts[:min(len(pkts), b.N-sent)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func drain(s *udpPacketConn) {
	msgs := make([]Message, DefaultBatchSize)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 2048)
	}
	for {
		if _, err := s.ReadBatch(msgs); err != nil {
			return
		}
	}
}

// BenchmarkUDPReadBatch: ns per 1400-byte packet received by the server
// with 128 buffers per call. Each round queues 256 packets in the socket
// (sent in batches of 128, timer stopped), then times reading them.
func BenchmarkUDPReadBatch(b *testing.B) {
	for _, bc := range []struct {
		name string
		pol  offloadPolicy
	}{{"gro", polOn}, {"plain", polOff}, {"gro-from-plain-sender", polOn}} {
		b.Run(bc.name, func(b *testing.B) {
			s, c := benchPair(b, bc.pol)
			if bc.name == "gro-from-plain-sender" {
				c.wmu.Lock()
				c.w.gso = false
				c.gsoOn.Store(false)
				c.wmu.Unlock()
			}
			const round = 2 * DefaultBatchSize
			pkts := make([][]byte, DefaultBatchSize)
			for i := range pkts {
				pkts[i] = make([]byte, 1400)
			}
			msgs := make([]Message, DefaultBatchSize)
			for i := range msgs {
				msgs[i].Buf = make([]byte, 2048)
			}
			b.ReportAllocs()
			b.SetBytes(1400)
			b.ResetTimer()
			for done := 0; done < b.N; done += round {
				b.StopTimer()
				for range round / DefaultBatchSize {
					if err := c.WriteBatch(pkts); err != nil {
						b.Fatal(err)
					}
				}
				s.c.SetReadDeadline(time.Now().Add(ioTimeout))
				b.StartTimer()
				for got := 0; got < round; {
					n, err := s.ReadBatch(msgs)
					if err != nil {
						b.Fatal(err) // a timeout: the socket dropped packets
					}
					got += n
				}
			}
		})
	}
}
