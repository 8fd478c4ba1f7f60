package ippkt

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// FuzzMSSClamp: never a panic; the length never changes; a packet whose
// TCP checksum was right stays right; only the MSS option values and the
// checksum may change, and only downwards to the target.
func FuzzMSSClamp(f *testing.F) {
	f.Add(ipv4TCP(tcpSegment(0x02, linuxSYNOptions(1460), nil), nil), uint16(1400))
	f.Add(ipv6TCP(tcpSegment(0x12, linuxSYNOptions(1440), nil)), uint16(1362))
	f.Add(ipv4TCP(tcpSegment(0x02, append([]byte{1}, mssOpt(1460)...), nil), []byte{1, 1, 1, 0}), uint16(536))
	f.Fuzz(func(t *testing.T, pkt []byte, mss uint16) {
		orig := append([]byte{}, pkt...)
		validBefore := wellFormedTCP(orig) && tcpChecksumOK(orig)
		changed := MSSClamp(pkt, mss)
		if len(pkt) != len(orig) {
			t.Fatal("length changed")
		}
		if !changed {
			if !bytes.Equal(pkt, orig) {
				t.Fatal("modified without reporting it")
			}
			return
		}
		if validBefore && !tcpChecksumOK(pkt) {
			t.Fatalf("checksum broken:\n%x\n%x", orig, pkt)
		}
		diff := 0
		for i := range pkt {
			if pkt[i] != orig[i] {
				diff++
			}
		}
		if diff == 0 || diff > 4*10 { // at most 10 MSS options of 2 bytes + checksum
			t.Fatalf("%d bytes changed", diff)
		}
	})
}

// wellFormedTCP reports whether pkt's length fields are consistent enough
// for tcpChecksumOK to read it.
func wellFormedTCP(p []byte) bool {
	switch Version(p) {
	case 4:
		if len(p) < 20 {
			return false
		}
		ihl, total := int(p[0]&15)*4, int(binary.BigEndian.Uint16(p[2:]))
		return ihl >= 20 && total <= len(p) && total >= ihl+20 && p[9] == 6
	case 6:
		return len(p) >= 60 && 40+int(binary.BigEndian.Uint16(p[4:])) <= len(p) && p[6] == 6
	}
	return false
}

func FuzzAddrs(f *testing.F) {
	f.Add(ipv4TCP(tcpSegment(0x02, nil, nil), nil))
	f.Add(ipv6TCP(tcpSegment(0x02, nil, nil)))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		v := Version(pkt)
		s, sok := Src(pkt)
		d, dok := Dst(pkt)
		if sok != dok {
			t.Fatal("Src and Dst disagree")
		}
		if sok && ((v == 4) != (s.Is4() && d.Is4()) || (v == 6) != (s.Is6() && d.Is6())) {
			t.Fatalf("version %d with %v -> %v", v, s, d)
		}
		if sok && v != 4 && v != 6 {
			t.Fatalf("addresses for version %d", v)
		}
		EthDst(pkt)
		EthSrc(pkt)
		EthType(pkt)
	})
}

// FuzzICMPv6NoRoute: any reply is at most 1280 bytes, goes back to the
// offender's source, and has a correct checksum.
func FuzzICMPv6NoRoute(f *testing.F) {
	f.Add(ipv6TCP(tcpSegment(0x02, nil, nil)), false)
	f.Add(ipv6TCP(tcpSegment(0x10, nil, make([]byte, 1300))), true)
	f.Fuzz(func(t *testing.T, pkt []byte, eth bool) {
		src := netip.MustParseAddr("fd00::1")
		if eth {
			frame := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd}, pkt...)
			out, ok := AppendICMPv6NoRouteEth(nil, frame, src)
			if ok && (len(out) > 14+MaxICMPv6ErrorLen || !bytes.Equal(out[:6], frame[6:12])) {
				t.Fatalf("eth reply of %d bytes", len(out))
			}
			return
		}
		out, ok := AppendICMPv6NoRoute(nil, pkt, src)
		if !ok {
			if len(out) != 0 {
				t.Fatal("output without a reply")
			}
			return
		}
		if len(out) > MaxICMPv6ErrorLen || len(out) < 48 {
			t.Fatalf("reply of %d bytes", len(out))
		}
		if !bytes.Equal(out[24:40], pkt[8:24]) {
			t.Fatal("reply not sent to the offender's source")
		}
		n := len(out) - 40
		pseudo := append(append([]byte{}, out[8:40]...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 58)
		if naiveSum(pseudo, out[40:]) != 0xffff {
			t.Fatal("bad checksum")
		}
	})
}
