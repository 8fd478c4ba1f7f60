package ippkt

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Ethernet framing for TAP mode.
const (
	EthHeaderLen  = 14
	EtherTypeIPv4 = 0x0800
	EtherTypeIPv6 = 0x86DD
)

// MAC is an Ethernet address. It is comparable and can key a map.
type MAC [6]byte

// Broadcast is ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsBroadcast reports whether m is the broadcast address.
func (m MAC) IsBroadcast() bool { return m == MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// IsMulticast reports whether m is a group address (the I/G bit, the low
// bit of the first byte), which includes broadcast. OpenVPN's server floods
// such frames to every client instead of looking them up.
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// String formats m as six colon-separated lower-case hex bytes. It
// allocates; it is meant for logs.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// EthDst returns the destination address of an Ethernet frame; ok is false
// if the frame is shorter than its 14-byte header.
func EthDst(frame []byte) (mac MAC, ok bool) {
	if len(frame) < EthHeaderLen {
		return MAC{}, false
	}
	return MAC(frame[0:6]), true
}

// EthSrc returns the source address of an Ethernet frame, as EthDst.
func EthSrc(frame []byte) (mac MAC, ok bool) {
	if len(frame) < EthHeaderLen {
		return MAC{}, false
	}
	return MAC(frame[6:12]), true
}

// EthType returns the EtherType of an Ethernet frame (no VLAN tag is
// interpreted) and its payload, which aliases frame.
func EthType(frame []byte) (etherType uint16, payload []byte, ok bool) {
	if len(frame) < EthHeaderLen {
		return 0, nil, false
	}
	return binary.BigEndian.Uint16(frame[12:]), frame[EthHeaderLen:], true
}

// AppendICMPv6NoRouteEth is AppendICMPv6NoRoute for TAP mode: frame is an
// Ethernet frame carrying IPv6, and the reply gets an Ethernet header with
// the frame's addresses swapped, as OpenVPN builds it. ok is false if the
// frame does not carry IPv6 or no reply is due.
func AppendICMPv6NoRouteEth(dst, frame []byte, src netip.Addr) (out []byte, ok bool) {
	et, payload, ok := EthType(frame)
	if !ok || et != EtherTypeIPv6 {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, frame[6:12]...)
	dst = append(dst, frame[0:6]...)
	dst = binary.BigEndian.AppendUint16(dst, EtherTypeIPv6)
	if dst, ok = AppendICMPv6NoRoute(dst, payload, src); !ok {
		return dst[:start], false
	}
	return dst, true
}
