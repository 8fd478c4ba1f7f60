package ippkt

import (
	"encoding/binary"
	"net/netip"
)

// Header lengths and protocol numbers.
const (
	IPv4HeaderLen = 20 // without options
	IPv6HeaderLen = 40
	tcpHeaderLen  = 20

	protoTCP    = 6
	protoICMPv6 = 58
)

// Version returns the IP version nibble of pkt (4 or 6 for valid tunnel
// packets), or 0 for an empty slice.
func Version(pkt []byte) int {
	if len(pkt) == 0 {
		return 0
	}
	return int(pkt[0] >> 4)
}

// Src returns the source address of an IPv4 or IPv6 packet. ok is false if
// pkt is neither or too short for its fixed header. Only the fixed header
// is examined.
func Src(pkt []byte) (addr netip.Addr, ok bool) {
	switch Version(pkt) {
	case 4:
		if len(pkt) >= IPv4HeaderLen {
			return netip.AddrFrom4([4]byte(pkt[12:16])), true
		}
	case 6:
		if len(pkt) >= IPv6HeaderLen {
			return netip.AddrFrom16([16]byte(pkt[8:24])), true
		}
	}
	return netip.Addr{}, false
}

// Dst returns the destination address of an IPv4 or IPv6 packet, as Src.
func Dst(pkt []byte) (addr netip.Addr, ok bool) {
	switch Version(pkt) {
	case 4:
		if len(pkt) >= IPv4HeaderLen {
			return netip.AddrFrom4([4]byte(pkt[16:20])), true
		}
	case 6:
		if len(pkt) >= IPv6HeaderLen {
			return netip.AddrFrom16([16]byte(pkt[24:40])), true
		}
	}
	return netip.Addr{}, false
}

// checksumAdd adds b to the one's complement sum sum as big-endian 16-bit
// words (a trailing odd byte is padded with zero) and returns the sum,
// folded to 16 bits.
func checksumAdd(sum uint32, b []byte) uint32 {
	for len(b) >= 8 {
		sum += uint32(binary.BigEndian.Uint16(b)) + uint32(binary.BigEndian.Uint16(b[2:])) +
			uint32(binary.BigEndian.Uint16(b[4:])) + uint32(binary.BigEndian.Uint16(b[6:]))
		b = b[8:]
		sum = sum&0xffff + sum>>16
	}
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum
}
