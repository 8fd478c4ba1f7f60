package lab

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// SpoofUDP sends UDP datagrams with an arbitrary IPv4 source address and
// port from inside ns, through a raw socket (the source can be another
// host's address, or a port a running process holds). Payloads longer than
// 1400 bytes are refused. The UDP checksum is left zero (allowed for IPv4).
func (ns *NS) SpoofUDP(src, dst netip.AddrPort, payloads [][]byte) error {
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return fmt.Errorf("lab: SpoofUDP supports IPv4 only")
	}
	return ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("lab: raw socket: %w", err)
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrInet4{Addr: dst.Addr().As4()}
		pkt := make([]byte, 0, 1500)
		for _, p := range payloads {
			if len(p) > 1400 {
				return fmt.Errorf("lab: SpoofUDP payload of %d bytes is too long", len(p))
			}
			pkt = pkt[:28+len(p)]
			clear(pkt[:28])
			pkt[0], pkt[8], pkt[9] = 0x45, 64, unix.IPPROTO_UDP
			binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
			s4, d4 := src.Addr().As4(), dst.Addr().As4()
			copy(pkt[12:], s4[:])
			copy(pkt[16:], d4[:])
			binary.BigEndian.PutUint16(pkt[20:], src.Port())
			binary.BigEndian.PutUint16(pkt[22:], dst.Port())
			binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(p)))
			copy(pkt[28:], p)
			if err := unix.Sendto(fd, pkt, 0, sa); err != nil {
				return fmt.Errorf("lab: raw send: %w", err)
			}
		}
		return nil
	})
}
