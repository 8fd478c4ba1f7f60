package ippkt

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// naiveSum is an independent Internet checksum: it concatenates the parts,
// adds big-endian 16-bit words in 64 bits and folds once at the end.
func naiveSum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint64
	for i := 0; i < len(all); i += 2 {
		s += uint64(all[i])<<8 | uint64(all[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// tcpChecksumOK verifies the TCP checksum of an IPv4 or IPv6 packet.
func tcpChecksumOK(pkt []byte) bool {
	if Version(pkt) == 4 {
		ihl := int(pkt[0]&15) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:]))
		seg := pkt[ihl:total]
		pseudo := append(append([]byte{}, pkt[12:20]...), 0, 6, byte(len(seg)>>8), byte(len(seg)))
		return naiveSum(pseudo, seg) == 0xffff
	}
	seg := pkt[40 : 40+int(binary.BigEndian.Uint16(pkt[4:]))]
	pseudo := append(append([]byte{}, pkt[8:40]...), 0, 0, byte(len(seg)>>8), byte(len(seg)), 0, 0, 0, 6)
	return naiveSum(pseudo, seg) == 0xffff
}

// tcpSegment builds a TCP header with the given flags and options (padded
// to a multiple of 4 with EOL) and a payload; the checksum is left zero.
func tcpSegment(flags byte, opts, payload []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	seg := make([]byte, 20, 20+len(opts)+len(payload))
	binary.BigEndian.PutUint16(seg[0:], 40000)
	binary.BigEndian.PutUint16(seg[2:], 443)
	binary.BigEndian.PutUint32(seg[4:], 0x01020304)
	seg[12] = byte((20+len(opts))/4) << 4
	seg[13] = flags
	binary.BigEndian.PutUint16(seg[14:], 64240)
	seg = append(seg, opts...)
	return append(seg, payload...)
}

// ipv4TCP wraps seg in an IPv4 header (with optional IP options) and sets
// both checksums.
func ipv4TCP(seg, ipOpts []byte) []byte {
	ihl := 20 + len(ipOpts)
	p := make([]byte, ihl, ihl+len(seg))
	p[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(p[2:], uint16(ihl+len(seg)))
	binary.BigEndian.PutUint16(p[6:], 0x4000) // DF
	p[8], p[9] = 64, 6
	copy(p[12:], []byte{10, 8, 0, 2, 93, 184, 216, 34})
	copy(p[20:], ipOpts)
	binary.BigEndian.PutUint16(p[10:], ^naiveSum(p[:ihl]))
	p = append(p, seg...)
	pseudo := append(append([]byte{}, p[12:20]...), 0, 6, byte(len(seg)>>8), byte(len(seg)))
	binary.BigEndian.PutUint16(p[ihl+16:], ^naiveSum(pseudo, p[ihl:]))
	return p
}

func ipv6TCP(seg []byte) []byte {
	p := make([]byte, 40, 40+len(seg))
	p[0], p[1], p[2], p[3] = 0x60, 0x0f, 0x24, 0x27
	binary.BigEndian.PutUint16(p[4:], uint16(len(seg)))
	p[6], p[7] = 6, 64
	copy(p[8:], netip.MustParseAddr("fd00:251::1").AsSlice())
	copy(p[24:], netip.MustParseAddr("2001:db8::2").AsSlice())
	p = append(p, seg...)
	pseudo := append(append([]byte{}, p[8:40]...), 0, 0, byte(len(seg)>>8), byte(len(seg)), 0, 0, 0, 6)
	binary.BigEndian.PutUint16(p[40+16:], ^naiveSum(pseudo, p[40:]))
	return p
}

func mssOpt(v uint16) []byte { return []byte{2, 4, byte(v >> 8), byte(v)} }

// linuxSYNOptions is what Linux sends: MSS, SACK-permitted, timestamps,
// NOP, window scale.
func linuxSYNOptions(mss uint16) []byte {
	o := mssOpt(mss)
	o = append(o, 4, 2, 8, 10, 0x88, 0xaa, 0x35, 0x1e, 0, 0, 0, 0, 1, 3, 3, 10)
	return o
}

// mssValues returns every well-formed MSS option value of the TCP header.
func mssValues(seg []byte) []uint16 {
	var v []uint16
	opts := seg[20 : int(seg[12]>>4)*4]
	for i := 0; i < len(opts)-1; {
		switch opts[i] {
		case 0:
			return v
		case 1:
			i++
			continue
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return v
		}
		if opts[i] == 2 && l == 4 {
			v = append(v, binary.BigEndian.Uint16(opts[i+2:]))
		}
		i += l
	}
	return v
}

func TestMSSClamp(t *testing.T) {
	const syn, synack, ack = 0x02, 0x12, 0x10
	tests := []struct {
		name    string
		pkt     []byte
		mss     uint16
		changed bool
		want    []uint16 // MSS values after
	}{
		{"ipv4 syn", ipv4TCP(tcpSegment(syn, linuxSYNOptions(1460), nil), nil), 1400, true, []uint16{1400}},
		{"ipv4 syn-ack", ipv4TCP(tcpSegment(synack, linuxSYNOptions(1460), nil), nil), 1362, true, []uint16{1362}},
		{"ipv4 mss already lower", ipv4TCP(tcpSegment(syn, linuxSYNOptions(1300), nil), nil), 1400, false, []uint16{1300}},
		{"ipv4 mss equal", ipv4TCP(tcpSegment(syn, linuxSYNOptions(1400), nil), nil), 1400, false, []uint16{1400}},
		{"ipv4 not a syn", ipv4TCP(tcpSegment(ack, linuxSYNOptions(1460), nil), nil), 1400, false, []uint16{1460}},
		{"ipv4 with ip options", ipv4TCP(tcpSegment(syn, linuxSYNOptions(1460), nil), []byte{1, 1, 1, 0}), 1400, true, []uint16{1400}},
		{"ipv4 odd-aligned mss", ipv4TCP(tcpSegment(syn, append([]byte{1}, mssOpt(1460)...), nil), nil), 1400, true, []uint16{1400}},
		{"ipv4 odd-aligned, odd values", ipv4TCP(tcpSegment(syn, append([]byte{1}, mssOpt(0xff01)...), nil), nil), 0x01ff, true, []uint16{0x01ff}},
		{"ipv4 two mss options", ipv4TCP(tcpSegment(syn, append(mssOpt(9000), mssOpt(1460)...), nil), nil), 1400, true, []uint16{1400, 1400}},
		{"ipv4 syn with data", ipv4TCP(tcpSegment(syn, mssOpt(1460), []byte("hello, world")), nil), 1000, true, []uint16{1000}},
		{"ipv4 no options", ipv4TCP(tcpSegment(syn, nil, nil), nil), 1400, false, nil},
		{"ipv4 mss option of wrong length", ipv4TCP(tcpSegment(syn, []byte{2, 6, 5, 0xb4, 0, 0}, nil), nil), 1400, false, nil},
		{"ipv4 eol before mss", ipv4TCP(tcpSegment(syn, append([]byte{0, 1, 1, 1}, mssOpt(1460)...), nil), nil), 1400, false, nil},
		{"ipv4 zero-length option stops the walk", ipv4TCP(tcpSegment(syn, append([]byte{8, 0, 1, 1}, mssOpt(1460)...), nil), nil), 1400, false, []uint16{}},
		{"ipv4 option overrunning the header", ipv4TCP(tcpSegment(syn, []byte{1, 1, 8, 40}, nil), nil), 1400, false, nil},
		{"mss 0 disables", ipv4TCP(tcpSegment(syn, linuxSYNOptions(1460), nil), nil), 0, false, []uint16{1460}},
		{"ipv6 syn: mss-20", ipv6TCP(tcpSegment(syn, linuxSYNOptions(1440), nil)), 1400, true, []uint16{1380}},
		{"ipv6 syn-ack", ipv6TCP(tcpSegment(synack, linuxSYNOptions(1440), nil)), 1362, true, []uint16{1342}},
		{"ipv6 mss already lower", ipv6TCP(tcpSegment(syn, linuxSYNOptions(1380), nil)), 1400, false, []uint16{1380}},
		{"ipv6 mss 20 leaves ipv6 alone", ipv6TCP(tcpSegment(syn, linuxSYNOptions(1440), nil)), 20, false, []uint16{1440}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tcpChecksumOK(tt.pkt) {
				t.Fatal("test packet has a bad checksum")
			}
			pkt := append([]byte{}, tt.pkt...)
			if got := MSSClamp(pkt, tt.mss); got != tt.changed {
				t.Errorf("MSSClamp = %v, want %v", got, tt.changed)
			}
			if !tcpChecksumOK(pkt) {
				t.Errorf("TCP checksum wrong after clamping")
			}
			ihl := 40
			if Version(pkt) == 4 {
				ihl = int(pkt[0]&15) * 4
			}
			if got := mssValues(pkt[ihl:]); tt.want != nil && !equalU16(got, tt.want) {
				t.Errorf("MSS options %v, want %v", got, tt.want)
			}
			if !tt.changed && !bytes.Equal(pkt, tt.pkt) {
				t.Errorf("unchanged packet was modified")
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMSSClampMalformed(t *testing.T) {
	good4 := ipv4TCP(tcpSegment(0x02, linuxSYNOptions(1460), nil), nil)
	good6 := ipv6TCP(tcpSegment(0x02, linuxSYNOptions(1440), nil))
	mut := func(p []byte, f func([]byte) []byte) []byte { return f(append([]byte{}, p...)) }
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"version 5", mut(good4, func(p []byte) []byte { p[0] = 0x55; return p })},
		{"ipv4 short", good4[:19]},
		{"ipv4 ihl 4", mut(good4, func(p []byte) []byte { p[0] = 0x44; return p })},
		{"ipv4 ihl beyond packet", mut(good4, func(p []byte) []byte { p[0] = 0x4f; return p })},
		{"ipv4 total length beyond packet", mut(good4, func(p []byte) []byte { p[3] += 1; return p })},
		{"ipv4 truncated", good4[:len(good4)-4]},
		{"ipv4 total length under ihl+20", mut(good4, func(p []byte) []byte { binary.BigEndian.PutUint16(p[2:], 30); return p })},
		{"ipv4 later fragment", mut(good4, func(p []byte) []byte { p[7] = 1; return p })},
		{"ipv4 udp", mut(good4, func(p []byte) []byte { p[9] = 17; return p })},
		{"tcp data offset beyond segment", mut(good4, func(p []byte) []byte { p[20+12] = 0xf0; return p })},
		{"tcp data offset 5", mut(good4, func(p []byte) []byte { p[20+12] = 0x50; return p })},
		{"tcp data offset 0", mut(good4, func(p []byte) []byte { p[20+12] = 0x00; return p })},
		{"ipv6 short", good6[:39]},
		{"ipv6 payload length beyond packet", mut(good6, func(p []byte) []byte { p[5]++; return p })},
		{"ipv6 payload length under 20", mut(good6, func(p []byte) []byte { p[4], p[5] = 0, 19; return p })},
		{"ipv6 hop-by-hop header first", mut(good6, func(p []byte) []byte { p[6] = 0; return p })},
		{"ipv6 tcp data offset beyond", mut(good6, func(p []byte) []byte { p[40+12] = 0xf0; return p })},
	}
	for _, tt := range tests {
		pkt := append([]byte{}, tt.pkt...)
		if MSSClamp(pkt, 1200) {
			t.Errorf("%s: clamped", tt.name)
		}
		if !bytes.Equal(pkt, tt.pkt) {
			t.Errorf("%s: modified", tt.name)
		}
	}
	// Link padding after the declared length is ignored (TAP frames are
	// padded to 60 bytes); a first fragment (MF set) is clamped.
	padded := append(append([]byte{}, good4...), 0, 0, 0, 0)
	if !MSSClamp(padded, 1200) || !tcpChecksumOK(padded) {
		t.Error("padded packet not clamped correctly")
	}
	first := mut(good4, func(p []byte) []byte { p[6] |= 0x20; return p })
	if !MSSClamp(first, 1200) {
		t.Error("first fragment not clamped")
	}
}

func TestAddrs(t *testing.T) {
	v4 := ipv4TCP(tcpSegment(0x02, nil, nil), nil)
	v6 := ipv6TCP(tcpSegment(0x02, nil, nil))
	tests := []struct {
		name     string
		pkt      []byte
		ver      int
		src, dst string // "" when not ok
	}{
		{"ipv4", v4, 4, "10.8.0.2", "93.184.216.34"},
		{"ipv4 header only", v4[:20], 4, "10.8.0.2", "93.184.216.34"},
		{"ipv4 short", v4[:19], 4, "", ""},
		{"ipv6", v6, 6, "fd00:251::1", "2001:db8::2"},
		{"ipv6 short", v6[:39], 6, "", ""},
		{"empty", nil, 0, "", ""},
		{"ethernet-ish", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 8, 0, 0x45, 0, 0, 20, 0, 0, 0, 0}, 15, "", ""},
	}
	for _, tt := range tests {
		if v := Version(tt.pkt); v != tt.ver {
			t.Errorf("%s: Version = %d, want %d", tt.name, v, tt.ver)
		}
		src, sok := Src(tt.pkt)
		dst, dok := Dst(tt.pkt)
		if tt.src == "" {
			if sok || dok {
				t.Errorf("%s: Src/Dst ok on a bad packet: %v %v", tt.name, src, dst)
			}
			continue
		}
		if !sok || !dok || src != netip.MustParseAddr(tt.src) || dst != netip.MustParseAddr(tt.dst) {
			t.Errorf("%s: Src, Dst = %v %v, %v %v", tt.name, src, sok, dst, dok)
		}
	}
}

func TestICMPv6NoRoute(t *testing.T) {
	src := netip.MustParseAddr("fd00:251::2")
	orig := ipv6TCP(tcpSegment(0x02, linuxSYNOptions(1440), nil))
	reply, ok := AppendICMPv6NoRoute(nil, orig, src)
	if !ok {
		t.Fatal("no reply")
	}
	if len(reply) != 48+len(orig) {
		t.Fatalf("reply %d bytes, want %d", len(reply), 48+len(orig))
	}
	if !bytes.Equal(reply[0:4], orig[0:4]) || reply[7] != orig[7] {
		t.Errorf("version/class/flow/hop limit not kept: %x vs %x", reply[:8], orig[:8])
	}
	if int(binary.BigEndian.Uint16(reply[4:])) != 8+len(orig) || reply[6] != 58 {
		t.Errorf("payload length %d / next header %d", binary.BigEndian.Uint16(reply[4:]), reply[6])
	}
	if s, _ := Src(reply); s != src {
		t.Errorf("reply source %v", s)
	}
	if d, _ := Dst(reply); d != netip.MustParseAddr("fd00:251::1") {
		t.Errorf("reply destination %v, want the offender's source", d)
	}
	if reply[40] != 1 || reply[41] != 0 || !bytes.Equal(reply[44:48], []byte{0, 0, 0, 0}) {
		t.Errorf("ICMPv6 header %x, want type 1 code 0", reply[40:48])
	}
	if !bytes.Equal(reply[48:], orig) {
		t.Error("offending packet not quoted")
	}
	icmpLen := len(reply) - 40
	pseudo := append(append([]byte{}, reply[8:40]...), 0, 0, byte(icmpLen>>8), byte(icmpLen), 0, 0, 0, 58)
	if naiveSum(pseudo, reply[40:]) != 0xffff {
		t.Error("ICMPv6 checksum wrong")
	}

	// A large packet is quoted up to 1280 bytes in all.
	big := ipv6TCP(tcpSegment(0x10, nil, make([]byte, 1900)))
	reply, ok = AppendICMPv6NoRoute(make([]byte, 0, 1500), big, FallbackICMPv6Source)
	if !ok || len(reply) != MaxICMPv6ErrorLen || !bytes.Equal(reply[48:], big[:1232]) {
		t.Fatalf("large: ok=%v len=%d", ok, len(reply))
	}
	icmpLen = len(reply) - 40
	pseudo = append(append([]byte{}, reply[8:40]...), 0, 0, byte(icmpLen>>8), byte(icmpLen), 0, 0, 0, 58)
	if naiveSum(pseudo, reply[40:]) != 0xffff {
		t.Error("large: ICMPv6 checksum wrong")
	}
	if s, _ := Src(reply); s.String() != "fe80::7" {
		t.Errorf("fallback source %v", s)
	}
	// Appending keeps what dst held.
	reply, ok = AppendICMPv6NoRoute([]byte("prefix"), orig, src)
	if !ok || string(reply[:6]) != "prefix" || len(reply) != 6+48+len(orig) {
		t.Errorf("append: ok=%v %q", ok, reply[:6])
	}

	mut := func(f func([]byte)) []byte { p := append([]byte{}, orig...); f(p); return p }
	icmpErr := mut(func(p []byte) { p[6] = 58; p[40] = 1 })
	echo := mut(func(p []byte) { p[6] = 58; p[40] = 128 })
	noReply := []struct {
		name string
		pkt  []byte
		src  netip.Addr
	}{
		{"ipv4 packet", ipv4TCP(tcpSegment(0x02, nil, nil), nil), src},
		{"short", orig[:39], src},
		{"ipv4 source address", orig, netip.MustParseAddr("10.0.0.1")},
		{"v4-mapped source address", orig, netip.MustParseAddr("::ffff:10.0.0.1")},
		{"invalid source address", orig, netip.Addr{}},
		{"icmpv6 error", icmpErr, src},
		{"icmpv6 without type", icmpErr[:40], src},
		{"multicast destination", mut(func(p []byte) { p[24] = 0xff }), src},
		{"multicast source", mut(func(p []byte) { p[8] = 0xff }), src},
		{"unspecified source", mut(func(p []byte) { clear(p[8:24]) }), src},
	}
	for _, tt := range noReply {
		if out, ok := AppendICMPv6NoRoute([]byte{1}, tt.pkt, tt.src); ok || len(out) != 1 {
			t.Errorf("%s: replied (%d bytes)", tt.name, len(out))
		}
	}
	if _, ok := AppendICMPv6NoRoute(nil, echo, src); !ok {
		t.Error("no reply to an ICMPv6 echo request")
	}
}

func TestEthernet(t *testing.T) {
	frame := []byte{
		0x33, 0x33, 0, 0, 0, 1, // dst: IPv6 multicast
		0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, // src
		0x86, 0xdd,
	}
	frame = append(frame, ipv6TCP(tcpSegment(0x02, nil, nil))...)
	dst, ok1 := EthDst(frame)
	src, ok2 := EthSrc(frame)
	et, payload, ok3 := EthType(frame)
	if !ok1 || !ok2 || !ok3 || et != EtherTypeIPv6 || Version(payload) != 6 {
		t.Fatalf("parse: %v %v %v %#x", ok1, ok2, ok3, et)
	}
	if !dst.IsMulticast() || dst.IsBroadcast() || src.IsMulticast() || src.String() != "02:aa:bb:cc:dd:ee" {
		t.Errorf("dst %v multicast=%v, src %v multicast=%v", dst, dst.IsMulticast(), src, src.IsMulticast())
	}
	if !Broadcast.IsBroadcast() || !Broadcast.IsMulticast() {
		t.Error("broadcast")
	}
	for _, n := range []int{0, 13} {
		if _, ok := EthDst(frame[:n]); ok {
			t.Errorf("EthDst on %d bytes", n)
		}
		if _, ok := EthSrc(frame[:n]); ok {
			t.Errorf("EthSrc on %d bytes", n)
		}
		if _, _, ok := EthType(frame[:n]); ok {
			t.Errorf("EthType on %d bytes", n)
		}
	}

	// block-ipv6 in TAP mode: the IPv6 destination decides whether a reply
	// is due (multicast: none), the MACs are swapped.
	mcast := append([]byte{}, frame...)
	copy(mcast[14+24:], netip.MustParseAddr("ff02::1").AsSlice())
	if out, ok := AppendICMPv6NoRouteEth([]byte{9}, mcast, FallbackICMPv6Source); ok || len(out) != 1 {
		t.Error("replied to a multicast IPv6 destination")
	}
	reply, ok := AppendICMPv6NoRouteEth(nil, frame, FallbackICMPv6Source)
	if !ok || !bytes.Equal(reply[0:6], frame[6:12]) || !bytes.Equal(reply[6:12], frame[0:6]) || reply[12] != 0x86 || reply[13] != 0xdd {
		t.Fatalf("eth reply: ok=%v %x", ok, reply[:min(len(reply), 14)])
	}
	if len(reply) != 14+48+len(frame)-14 {
		t.Errorf("eth reply %d bytes", len(reply))
	}
	ipv4Frame := append(append([]byte{}, frame[:12]...), 0x08, 0x00)
	if out, ok := AppendICMPv6NoRouteEth([]byte{9}, ipv4Frame, FallbackICMPv6Source); ok || len(out) != 1 {
		t.Error("replied to IPv4 frame")
	}
}

func TestZeroAllocs(t *testing.T) {
	v4 := ipv4TCP(tcpSegment(0x02, linuxSYNOptions(1460), nil), nil)
	v6 := ipv6TCP(tcpSegment(0x02, linuxSYNOptions(1440), nil))
	buf := make([]byte, 0, 1500)
	src := netip.MustParseAddr("fd00:251::2")
	allocs := testing.AllocsPerRun(100, func() {
		binary.BigEndian.PutUint16(v4[20+22:], 1460) // restore (checksum drifts; irrelevant here)
		MSSClamp(v4, 1400)
		MSSClamp(v6, 1400)
		_, _ = Src(v4)
		_, _ = Dst(v6)
		_, _ = AppendICMPv6NoRoute(buf[:0], v6, src)
		_, _ = EthDst(v4)
		_, _, _ = EthType(v4)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per run", allocs)
	}
}

func BenchmarkMSSClamp(b *testing.B) {
	pkt := ipv4TCP(tcpSegment(0x02, linuxSYNOptions(1460), nil), nil)
	ack := ipv4TCP(tcpSegment(0x10, nil, make([]byte, 1400)), nil)
	b.Run("syn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			binary.BigEndian.PutUint16(pkt[20+22:], 1460)
			MSSClamp(pkt, 1400)
		}
	})
	b.Run("data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			MSSClamp(ack, 1400)
		}
	})
}

func BenchmarkDst(b *testing.B) {
	v4 := ipv4TCP(tcpSegment(0x10, nil, nil), nil)
	v6 := ipv6TCP(tcpSegment(0x10, nil, nil))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Dst(v4)
		_, _ = Dst(v6)
	}
}

func BenchmarkICMPv6NoRoute(b *testing.B) {
	orig := ipv6TCP(tcpSegment(0x10, nil, make([]byte, 1400)))
	buf := make([]byte, 0, 1500)
	src := netip.MustParseAddr("fd00:251::2")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = AppendICMPv6NoRoute(buf[:0], orig, src)
	}
}
