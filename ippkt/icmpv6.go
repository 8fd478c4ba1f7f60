package ippkt

import (
	"encoding/binary"
	"net/netip"
)

// ICMPv6 "destination unreachable, no route to destination".
const (
	icmpv6DstUnreach = 1
	icmpv6NoRoute    = 0
	icmpv6HeaderLen  = 8

	// MaxICMPv6ErrorLen is the largest ICMPv6 error RFC 4443 allows: an
	// error must fit the IPv6 minimum MTU. The reply quotes as much of the
	// offending packet as fits.
	MaxICMPv6ErrorLen = 1280
)

// FallbackICMPv6Source is the source OpenVPN uses for its `block-ipv6`
// replies when no `ifconfig-ipv6` remote address is known (fe80::7).
var FallbackICMPv6Source = netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: 0x07})

// AppendICMPv6NoRoute appends to dst the ICMPv6 "no route to destination"
// error (type 1, code 0) that answers the IPv6 packet pkt, as OpenVPN does
// for `block-ipv6`, and returns the extended slice. The reply comes from src
// (the `ifconfig-ipv6` remote address, or FallbackICMPv6Source) and goes to
// pkt's source; it keeps pkt's traffic class, flow label and hop limit, as
// OpenVPN does, and quotes the start of pkt so that the whole reply is at
// most MaxICMPv6ErrorLen bytes (OpenVPN can exceed 1280; we do not). The
// checksum is computed over the pseudo-header.
//
// ok is false, and dst returned unchanged, when no reply is due: pkt is not
// an IPv6 packet of at least 40 bytes, src is not an IPv6 address, or RFC
// 4443 §2.4(e) forbids an error (pkt is itself an ICMPv6 error, or its source
// is unspecified or multicast, or its destination is multicast). It
// allocates only if dst lacks the capacity (48 + quoted bytes).
func AppendICMPv6NoRoute(dst, pkt []byte, src netip.Addr) (out []byte, ok bool) {
	if len(pkt) < IPv6HeaderLen || Version(pkt) != 6 || !src.Is6() || src.Is4In6() {
		return dst, false
	}
	origSrc := netip.AddrFrom16([16]byte(pkt[8:24]))
	origDst := netip.AddrFrom16([16]byte(pkt[24:40]))
	if origSrc.IsUnspecified() || origSrc.IsMulticast() || origDst.IsMulticast() {
		return dst, false
	}
	if pkt[6] == protoICMPv6 && (len(pkt) < IPv6HeaderLen+1 || pkt[IPv6HeaderLen] < 128) {
		return dst, false // an ICMPv6 error (type < 128), or no type at all
	}
	quote := pkt[:min(len(pkt), MaxICMPv6ErrorLen-IPv6HeaderLen-icmpv6HeaderLen)]
	icmpLen := icmpv6HeaderLen + len(quote)

	start := len(dst)
	dst = append(dst, pkt[:8]...) // version, traffic class, flow label, length, next header, hop limit
	s16 := src.As16()
	dst = append(dst, s16[:]...)
	dst = append(dst, pkt[8:24]...)
	dst = append(dst, icmpv6DstUnreach, icmpv6NoRoute, 0, 0, 0, 0, 0, 0)
	dst = append(dst, quote...)
	r := dst[start:]
	binary.BigEndian.PutUint16(r[4:], uint16(icmpLen))
	r[6] = protoICMPv6

	// Pseudo-header: source, destination, upper-layer length, next header.
	sum := checksumAdd(0, r[8:40])
	sum += uint32(icmpLen) + protoICMPv6
	sum = checksumAdd(sum, r[IPv6HeaderLen:])
	binary.BigEndian.PutUint16(r[IPv6HeaderLen+2:], ^uint16(sum))
	return dst, true
}
