//go:build linux

package tun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// waitLimit bounds every wait for the kernel; it is a failure deadline, not
// a timing assumption.
const waitLimit = 10 * time.Second

// enterNetns locks the calling goroutine to its thread and moves that thread
// into a new, empty network namespace (with lo up) until the test ends, so
// nothing the test creates is visible in the host's namespace. It returns a
// netlink handle bound to the new namespace. Call it from the test's own
// goroutine, after t.Parallel.
func enterNetns(t *testing.T) *netlink.Handle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("tun: this test needs root (CAP_NET_ADMIN) to create a network namespace and devices; run it as root")
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get current network namespace: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		orig.Close()
		t.Fatalf("create network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			// Keep the thread locked: it dies with the goroutine instead of
			// running other goroutines in the test namespace.
			t.Errorf("restore network namespace: %v", err)
			return
		}
		runtime.UnlockOSThread()
		ns.Close()
		orig.Close()
	})
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("bring lo up: %v", err)
	}
	return h
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name     string
		kind     Kind
		mtu      int
		wantName string // regexp
		wantMTU  int
	}{
		{"tun", TUN, 1400, `^tun\d+$`, 1400},
		{"", TAP, 0, `^tap\d+$`, 1500},
		{"tap", TAP, 1500, `^tap\d+$`, 1500},
		{"tun7", TUN, 9000, `^tun7$`, 9000},
		{"mytun", TUN, 1280, `^mytun$`, 1280},
		{"vpn-lan", TAP, 1500, `^vpn-lan$`, 1500},
		{"ovpn%d", TUN, 1500, `^ovpn\d+$`, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			h := enterNetns(t)
			dev, err := Create(tt.name, tt.mtu, tt.kind)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			defer dev.Close()
			go drain(dev.Events())

			name, err := dev.Name()
			if err != nil || !regexp.MustCompile(tt.wantName).MatchString(name) {
				t.Fatalf("Name = %q, %v; want match for %s", name, err, tt.wantName)
			}
			if mtu, err := dev.MTU(); err != nil || mtu != tt.wantMTU {
				t.Errorf("MTU = %d, %v; want %d", mtu, err, tt.wantMTU)
			}
			// Other goroutines run on threads in the host's namespace, where
			// the device does not exist: MTU and Name must still work there.
			type answer struct {
				name string
				mtu  int
				err  error
			}
			elsewhere := make(chan answer)
			go func() {
				mtu, err := dev.MTU()
				name, err2 := dev.Name()
				elsewhere <- answer{name, mtu, errors.Join(err, err2)}
			}()
			if a := <-elsewhere; a.err != nil || a.mtu != tt.wantMTU || a.name != name {
				t.Errorf("from another thread: Name %q MTU %d, %v; want %q, %d", a.name, a.mtu, a.err, name, tt.wantMTU)
			}
			link, err := h.LinkByName(name)
			if err != nil {
				t.Fatalf("link %s not found: %v", name, err)
			}
			tt2, ok := link.(*netlink.Tuntap)
			if !ok {
				t.Fatalf("link %s has type %s, want tuntap", name, link.Type())
			}
			wantMode := netlink.TUNTAP_MODE_TUN
			if tt.kind == TAP {
				wantMode = netlink.TUNTAP_MODE_TAP
			}
			if tt2.Mode != wantMode || link.Attrs().MTU != tt.wantMTU {
				t.Errorf("link %s: mode %v MTU %d; want mode %v MTU %d", name, tt2.Mode, link.Attrs().MTU, wantMode, tt.wantMTU)
			}
			if tt.kind == TUN && dev.BatchSize() <= 1 {
				t.Errorf("tun BatchSize = %d, want > 1 (offloads enabled)", dev.BatchSize())
			}
			if tt.kind == TAP && dev.BatchSize() != 1 {
				t.Errorf("tap BatchSize = %d, want 1", dev.BatchSize())
			}
			// The kernel's MTU changes are seen by MTU.
			if err := h.LinkSetMTU(link, 1300); err != nil {
				t.Fatal(err)
			}
			if mtu, err := dev.MTU(); err != nil || mtu != 1300 {
				t.Errorf("MTU after change = %d, %v; want 1300", mtu, err)
			}
			if err := dev.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := h.LinkByName(name); err == nil {
				t.Errorf("link %s still exists after Close", name)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	h := enterNetns(t)
	// A name taken by a device of the other kind.
	tap, err := Create("taken0", 1500, TAP)
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	go drain(tap.Events())
	if dev, err := Create("taken0", 1500, TUN); err == nil {
		dev.Close()
		t.Fatal("Create(taken0, TUN) succeeded over an existing tap device")
	} else if !bytes.Contains([]byte(err.Error()), []byte("taken0")) {
		t.Errorf("error does not name the device: %v", err)
	}
	if _, err := Create("tun0", 20, TUN); err == nil {
		t.Error("MTU 20 accepted")
	}
	if _, err := h.LinkByName("tun0"); err == nil {
		t.Error("a rejected Create left a device behind")
	}
}

// readMatching reads from dev until match accepts a packet and returns a copy
// of it. It fails the test after waitLimit (closing dev to unblock the read).
func readMatching(t *testing.T, dev Device, match func(p []byte) bool) []byte {
	t.Helper()
	type result struct {
		p   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		bufs := make([][]byte, dev.BatchSize())
		for i := range bufs {
			bufs[i] = make([]byte, Offset+MaxPacketSize)
		}
		sizes := make([]int, len(bufs))
		for {
			n, err := dev.Read(bufs, sizes, Offset)
			if err != nil {
				ch <- result{err: err}
				return
			}
			for i := 0; i < n; i++ {
				if p := bufs[i][Offset : Offset+sizes[i]]; match(p) {
					ch <- result{p: bytes.Clone(p)}
					return
				}
			}
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Read: %v", r.err)
		}
		return r.p
	case <-time.After(waitLimit):
		dev.Close()
		<-ch
		t.Fatalf("no matching packet read within %v", waitLimit)
		return nil
	}
}

// writePacket writes p to dev with Offset bytes of headroom.
func writePacket(t *testing.T, dev Device, p []byte) {
	t.Helper()
	buf := make([]byte, Offset+len(p))
	copy(buf[Offset:], p)
	if n, err := dev.Write([][]byte{buf}, Offset); n != 1 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
}

// addrUp gives the link an address and brings it up.
func addrUp(t *testing.T, h *netlink.Handle, name string, prefixes ...string) {
	t.Helper()
	link, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prefixes {
		a, err := netlink.ParseAddr(p)
		if err != nil {
			t.Fatal(err)
		}
		a.Flags = unix.IFA_F_NODAD
		if err := h.AddrAdd(link, a); err != nil {
			t.Fatalf("add %s to %s: %v", p, name, err)
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
}

// udpTo sends payload from a socket in the current namespace to dst.
func udpTo(t *testing.T, dst netip.AddrPort, payload []byte) {
	t.Helper()
	c, err := net.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(payload, dst); err != nil {
		t.Fatalf("send to %s: %v", dst, err)
	}
}

// isUDPTo reports whether p is an IPv4 or IPv6 UDP packet to dst carrying payload.
func isUDPTo(p []byte, dst netip.AddrPort, payload []byte) bool {
	var l4 []byte
	switch {
	case len(p) >= 20 && p[0]>>4 == 4 && p[9] == unix.IPPROTO_UDP:
		if a, _ := netip.AddrFromSlice(p[16:20]); a != dst.Addr() {
			return false
		}
		l4 = p[int(p[0]&0xf)*4:]
	case len(p) >= 40 && p[0]>>4 == 6 && p[6] == unix.IPPROTO_UDP:
		if a, _ := netip.AddrFromSlice(p[24:40]); a != dst.Addr() {
			return false
		}
		l4 = p[40:]
	default:
		return false
	}
	return len(l4) >= 8 && binary.BigEndian.Uint16(l4[2:4]) == dst.Port() && bytes.Equal(l4[8:], payload)
}

func TestTUNPackets(t *testing.T) {
	h := enterNetns(t)
	dev, err := Create("tun0", 1400, TUN)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	go drain(dev.Events())
	addrUp(t, h, "tun0", "10.9.0.1/30", "2001:db8:9::1/64")

	// Outbound: the kernel routes a datagram for the peer into the device.
	for _, dst := range []netip.AddrPort{
		netip.MustParseAddrPort("10.9.0.2:9"),
		netip.MustParseAddrPort("[2001:db8:9::2]:9"),
	} {
		payload := []byte("outbound to " + dst.String())
		udpTo(t, dst, payload)
		readMatching(t, dev, func(p []byte) bool { return isUDPTo(p, dst, payload) })
	}

	// Inbound: an echo request written to the device is answered by the kernel.
	local, peer := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	req := echoRequest(peer, local, []byte("ping through tun"))
	writePacket(t, dev, req)
	reply := readMatching(t, dev, func(p []byte) bool {
		return len(p) >= 28 && p[0]>>4 == 4 && p[9] == unix.IPPROTO_ICMP &&
			netip.AddrFrom4([4]byte(p[12:16])) == local && netip.AddrFrom4([4]byte(p[16:20])) == peer &&
			p[20] == 0 // echo reply
	})
	if !bytes.Equal(reply[28:], req[28:]) {
		t.Errorf("echo reply payload %q, want %q", reply[28:], req[28:])
	}
}

// echoRequest builds an IPv4 ICMP echo request from src to dst.
func echoRequest(src, dst netip.Addr, payload []byte) []byte {
	p := make([]byte, 28, 28+len(payload))
	p = append(p, payload...)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64 // TTL
	p[9] = unix.IPPROTO_ICMP
	copy(p[12:16], src.AsSlice())
	copy(p[16:20], dst.AsSlice())
	binary.BigEndian.PutUint16(p[10:], inetChecksum(p[:20]))
	p[20] = 8                                  // echo request
	binary.BigEndian.PutUint16(p[24:], 0x4242) // identifier
	binary.BigEndian.PutUint16(p[26:], 1)      // sequence
	binary.BigEndian.PutUint16(p[22:], inetChecksum(p[20:]))
	return p
}

// inetChecksum is the RFC 1071 Internet checksum of b.
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// arpFrame builds an Ethernet ARP request or reply.
func arpFrame(dstMAC, srcMAC net.HardwareAddr, op uint16, senderIP, targetIP netip.Addr, targetMAC net.HardwareAddr) []byte {
	f := make([]byte, 0, 42)
	f = append(f, dstMAC...)
	f = append(f, srcMAC...)
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_ARP)
	f = append(f, 0, 1, 8, 0, 6, 4) // Ethernet, IPv4, sizes
	f = binary.BigEndian.AppendUint16(f, op)
	f = append(f, srcMAC...)
	f = append(f, senderIP.AsSlice()...)
	f = append(f, targetMAC...)
	return append(f, targetIP.AsSlice()...)
}

func TestTAPFrames(t *testing.T) {
	h := enterNetns(t)
	dev, err := Create("tap0", 1400, TAP)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	go drain(dev.Events())
	addrUp(t, h, "tap0", "10.9.1.1/30")
	link, err := h.LinkByName("tap0")
	if err != nil {
		t.Fatal(err)
	}
	tapMAC := link.Attrs().HardwareAddr
	local, peer := netip.MustParseAddr("10.9.1.1"), netip.MustParseAddr("10.9.1.2")
	isARP := func(op uint16, target netip.Addr) func([]byte) bool {
		return func(f []byte) bool {
			return len(f) >= 42 && binary.BigEndian.Uint16(f[12:14]) == unix.ETH_P_ARP &&
				binary.BigEndian.Uint16(f[20:22]) == op && netip.AddrFrom4([4]byte(f[38:42])) == target
		}
	}

	// Outbound: a datagram for the peer makes the kernel ask who has it.
	udpTo(t, netip.AddrPortFrom(peer, 9), []byte("x"))
	req := readMatching(t, dev, isARP(1, peer))
	if !bytes.Equal(req[6:12], tapMAC) {
		t.Errorf("ARP request from %x, want the tap's address %x", req[6:12], tapMAC)
	}

	// Inbound: the kernel answers our ARP request for its address.
	peerMAC := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	writePacket(t, dev, arpFrame(bcast, peerMAC, 1, peer, local, make(net.HardwareAddr, 6)))
	rep := readMatching(t, dev, isARP(2, peer))
	if !bytes.Equal(rep[0:6], peerMAC) || !bytes.Equal(rep[22:28], tapMAC) {
		t.Errorf("ARP reply %x: want it sent to %s from %s", rep[:42], peerMAC, tapMAC)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	for _, kind := range []Kind{TUN, TAP} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			enterNetns(t)
			dev, err := Create("", 1500, kind)
			if err != nil {
				t.Fatal(err)
			}
			events := dev.Events()
			readErr := make(chan error, 1)
			go func() {
				bufs := make([][]byte, dev.BatchSize())
				for i := range bufs {
					bufs[i] = make([]byte, Offset+MaxPacketSize)
				}
				_, err := dev.Read(bufs, make([]int, len(bufs)), Offset)
				readErr <- err
			}()
			if err := dev.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			select {
			case err := <-readErr:
				if !errors.Is(err, os.ErrClosed) {
					t.Errorf("Read after Close returned %v, want os.ErrClosed", err)
				}
			case <-time.After(waitLimit):
				t.Fatalf("Read still blocked %v after Close", waitLimit)
			}
			if err := dev.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := dev.Write([][]byte{make([]byte, Offset+20)}, Offset); err == nil {
				t.Error("Write after Close succeeded")
			}
			deadline := time.After(waitLimit)
			for {
				select {
				case _, ok := <-events:
					if !ok {
						return
					}
				case <-deadline:
					t.Fatalf("Events not closed %v after Close", waitLimit)
				}
			}
		})
	}
}

func TestTAPEvents(t *testing.T) {
	h := enterNetns(t)
	dev, err := Create("tap1", 1500, TAP)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	link, err := h.LinkByName("tap1")
	if err != nil {
		t.Fatal(err)
	}
	expect := func(want Event) {
		t.Helper()
		for {
			select {
			case e, ok := <-dev.Events():
				if !ok {
					t.Fatalf("Events closed while waiting for %d", want)
				}
				if e == want {
					return
				}
			case <-time.After(waitLimit):
				t.Fatalf("no event %d within %v", want, waitLimit)
			}
		}
	}
	steps := []struct {
		change func() error
		want   Event
	}{
		{func() error { return h.LinkSetUp(link) }, EventUp},
		{func() error { return h.LinkSetMTU(link, 1300) }, EventMTUUpdate},
		{func() error { return h.LinkSetDown(link) }, EventDown},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		expect(s.want)
	}
}

func TestCreateFromFile(t *testing.T) {
	tests := []struct {
		name      string
		flags     uint16
		wantBatch int
		wantErr   string
	}{
		{"tapf", unix.IFF_TAP | unix.IFF_NO_PI, 1, ""},
		{"tunf", unix.IFF_TUN | unix.IFF_NO_PI, 1, ""},
		{"tunv", unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR, -1, ""},
		{"tunpi", unix.IFF_TUN, 0, "IFF_NO_PI"},
		{"tapv", unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR, 0, "IFF_VNET_HDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := enterNetns(t)
			f, err := openClone(tt.name, tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			dev, err := CreateFromFile(f, 1300)
			f.Close() // the device keeps its own descriptor
			if tt.wantErr != "" {
				if err == nil {
					dev.Close()
					t.Fatalf("CreateFromFile succeeded, want error containing %q", tt.wantErr)
				}
				if !bytes.Contains([]byte(err.Error()), []byte(tt.wantErr)) {
					t.Fatalf("error %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateFromFile: %v", err)
			}
			defer dev.Close()
			go drain(dev.Events())
			if name, err := dev.Name(); err != nil || name != tt.name {
				t.Errorf("Name = %q, %v; want %q", name, err, tt.name)
			}
			if mtu, err := dev.MTU(); err != nil || mtu != 1300 {
				t.Errorf("MTU = %d, %v; want 1300", mtu, err)
			}
			if b := dev.BatchSize(); (tt.wantBatch > 0 && b != tt.wantBatch) || (tt.wantBatch < 0 && b <= 1) {
				t.Errorf("BatchSize = %d, want %d (-1: more than 1)", b, tt.wantBatch)
			}
			// The device still works once the caller's file is closed.
			addrUp(t, h, tt.name, "10.9.2.1/30")
			if tt.flags&unix.IFF_TUN != 0 {
				dst := netip.MustParseAddrPort("10.9.2.2:9")
				udpTo(t, dst, []byte("via fd"))
				readMatching(t, dev, func(p []byte) bool { return isUDPTo(p, dst, []byte("via fd")) })
			}
		})
	}
}

func drain(c <-chan Event) {
	for range c {
	}
}
