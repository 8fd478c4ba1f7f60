package ippkt

import "encoding/binary"

// TCP option kinds.
const (
	tcpOptEOL    = 0
	tcpOptNOP    = 1
	tcpOptMSS    = 2
	tcpOptMSSLen = 4
	tcpFlagSYN   = 0x02
)

// MSSClamp lowers the MSS option of a TCP SYN (or SYN-ACK) in the IPv4 or
// IPv6 packet pkt, in place, and reports whether it changed the packet. mss
// is OpenVPN's mssfix value, which is an IPv4 MSS: IPv4 SYNs are clamped to
// mss and IPv6 SYNs to mss-20, as OpenVPN's mss_fixup_ipv6 does (an mss of
// 20 or less leaves IPv6 packets alone; 0 disables clamping). Only MSS
// options larger than the target are rewritten, and the TCP checksum is
// updated incrementally (RFC 1624), correctly also for an MSS option at an
// odd offset.
//
// Like OpenVPN, it looks only at unfragmented-or-first-fragment IPv4
// packets and at IPv6 packets whose first next-header is TCP (no extension
// headers). Bytes after the length the IP header declares (link padding)
// are ignored; a packet shorter than it declares is left alone. Malformed
// packets are left unchanged; MSSClamp never panics and allocates nothing.
func MSSClamp(pkt []byte, mss uint16) bool {
	if mss == 0 {
		return false
	}
	switch Version(pkt) {
	case 4:
		if len(pkt) < IPv4HeaderLen {
			return false
		}
		ihl := int(pkt[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:]))
		if pkt[9] != protoTCP || ihl < IPv4HeaderLen || total > len(pkt) || total < ihl+tcpHeaderLen ||
			binary.BigEndian.Uint16(pkt[6:])&0x1fff != 0 {
			return false
		}
		return clampTCP(pkt[ihl:total], mss)
	case 6:
		if len(pkt) < IPv6HeaderLen || mss <= 20 {
			return false
		}
		total := IPv6HeaderLen + int(binary.BigEndian.Uint16(pkt[4:]))
		if pkt[6] != protoTCP || total > len(pkt) || total < IPv6HeaderLen+tcpHeaderLen {
			return false
		}
		return clampTCP(pkt[IPv6HeaderLen:total], mss-20)
	}
	return false
}

// clampTCP lowers the MSS options of the TCP segment seg (header and data)
// to mss if it is a SYN.
func clampTCP(seg []byte, mss uint16) bool {
	if len(seg) < tcpHeaderLen || seg[13]&tcpFlagSYN == 0 {
		return false
	}
	hlen := int(seg[12]>>4) * 4
	if hlen <= tcpHeaderLen || hlen > len(seg) {
		return false
	}
	changed := false
	opts := seg[tcpHeaderLen:hlen]
	for off := 0; off < len(opts)-1; {
		kind := opts[off]
		if kind == tcpOptEOL {
			break
		}
		if kind == tcpOptNOP {
			off++
			continue
		}
		olen := int(opts[off+1])
		if olen < 2 || off+olen > len(opts) {
			break
		}
		if kind == tcpOptMSS && olen == tcpOptMSSLen {
			pos := tcpHeaderLen + off + 2 // of the MSS value within seg
			old := binary.BigEndian.Uint16(seg[pos:])
			if old > mss {
				binary.BigEndian.PutUint16(seg[pos:], mss)
				// A 16-bit field at an odd offset straddles two checksum
				// words: its contribution is byte-swapped.
				o, n := old, mss
				if pos%2 == 1 {
					o, n = o>>8|o<<8, n>>8|n<<8
				}
				updateChecksum(seg[16:18], o, n)
				changed = true
			}
		}
		off += olen
	}
	return changed
}

// updateChecksum applies RFC 1624's equation 3, HC' = ~(~HC + ~m + m'), to
// the big-endian checksum at c for a 16-bit word changing from m to m1.
func updateChecksum(c []byte, m, m1 uint16) {
	sum := uint32(^binary.BigEndian.Uint16(c)) + uint32(^m) + uint32(m1)
	sum = sum&0xffff + sum>>16
	sum = sum&0xffff + sum>>16
	binary.BigEndian.PutUint16(c, ^uint16(sum))
}
