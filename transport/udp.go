package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// DefaultBatchSize is the number of packets per recvmmsg/sendmmsg.
const DefaultBatchSize = 128

// socketBuffer is the size requested for SO_RCVBUF/SO_SNDBUF (wireguard-go
// uses 7 MiB); the FORCE variants are tried first (they need CAP_NET_ADMIN).
const socketBuffer = 7 << 20

// batcher is the common part of x/net's ipv4/ipv6 PacketConn.
type batcher interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

type udpSock struct {
	wmu   sync.Mutex // serialises WriteBatch (wmsgs is shared)
	c     *net.UDPConn
	b     batcher
	rmsgs []ipv4.Message
	wmsgs []ipv4.Message
	local netip.AddrPort
}

func newUDPSock(c *net.UDPConn) *udpSock {
	s := &udpSock{c: c}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort()
	s.local = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	if la.Addr().Is4() {
		s.b = ipv4.NewPacketConn(c)
	} else {
		s.b = ipv6.NewPacketConn(c)
	}
	s.rmsgs = make([]ipv4.Message, DefaultBatchSize)
	s.wmsgs = make([]ipv4.Message, DefaultBatchSize)
	for i := range s.rmsgs {
		s.rmsgs[i].Buffers = make([][]byte, 1)
		s.wmsgs[i].Buffers = make([][]byte, 1)
	}
	setBuffers(c)
	return s
}

func setBuffers(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], socketBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], socketBuffer)
			}
		}
	})
}

// udpConn is a connected UDP socket: the client side.
type udpConn struct {
	*udpSock
	remote netip.AddrPort
}

func (u *udpConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	n := min(len(bufs), len(u.rmsgs))
	ms := u.rmsgs[:n]
	for i := range ms {
		ms[i].Buffers[0] = bufs[i]
		ms[i].N, ms[i].Flags = 0, 0
	}
	for {
		got, err := u.b.ReadBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return 0, ErrClosed
			}
			if isTransient(err) {
				// ICMP errors on a connected socket (port unreachable while
				// the server restarts): keep reading.
				continue
			}
			return 0, err
		}
		for i := 0; i < got; i++ {
			sizes[i] = ms[i].N
			if ms[i].Flags&unix.MSG_TRUNC != 0 {
				sizes[i] = 0 // too long for its buffer: dropped
			}
		}
		if got > 0 {
			return got, nil
		}
	}
}

func (u *udpConn) WriteBatch(pkts [][]byte) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	for len(pkts) > 0 {
		n := min(len(pkts), len(u.wmsgs))
		ms := u.wmsgs[:n]
		for i := range ms {
			ms[i].Buffers[0] = pkts[i]
			ms[i].Addr = nil
		}
		sent, err := u.b.WriteBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			if isTransient(err) {
				// Port unreachable or a full queue: datagrams are lossy.
				sent = max(sent, 1)
			} else {
				return err
			}
		}
		pkts = pkts[sent:]
	}
	return nil
}

func (u *udpConn) BatchSize() int             { return len(u.rmsgs) }
func (u *udpConn) Stream() bool               { return false }
func (u *udpConn) LocalAddr() netip.AddrPort  { return u.local }
func (u *udpConn) RemoteAddr() netip.AddrPort { return u.remote }
func (u *udpConn) Close() error               { return u.c.Close() }

func isTransient(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EMSGSIZE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN)
}

// udpPacketConn is a server's UDP socket.
type udpPacketConn struct {
	*udpSock
}

// ListenUDP opens a server UDP socket. network is "udp4", "udp6" or "udp".
// With "udp" and an unspecified address the socket is dual-stack: one IPv6
// socket with IPV6_V6ONLY off that serves IPv4 clients as v4-mapped
// addresses (reported unmapped). v6only forces IPV6_V6ONLY on ("bind
// ipv6only").
func ListenUDP(network string, local netip.AddrPort, v6only bool) (PacketConn, error) {
	lc := net.ListenConfig{}
	addr := local
	switch network {
	case "udp":
		if !local.Addr().IsValid() || local.Addr().IsUnspecified() {
			addr = netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())
			network = "udp6"
			lc.Control = v6onlyControl(v6only)
		} else if local.Addr().Is4() {
			network = "udp4"
		} else {
			network = "udp6"
			lc.Control = v6onlyControl(v6only)
		}
	case "udp4":
		if !addr.Addr().IsValid() {
			addr = netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port())
		}
	case "udp6":
		if !addr.Addr().IsValid() {
			addr = netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())
		}
		// OpenVPN 2.6: proto udp6 binds a dual-stack socket unless ipv6only.
		lc.Control = v6onlyControl(v6only)
	default:
		return nil, fmt.Errorf("transport: unknown network %q", network)
	}
	pc, err := lc.ListenPacket(context.Background(), network, addr.String())
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s %v: %w", network, addr, err)
	}
	return &udpPacketConn{newUDPSock(pc.(*net.UDPConn))}, nil
}

func v6onlyControl(on bool) func(string, string, syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			v := 0
			if on {
				v = 1
			}
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v)
		})
		if err != nil {
			return err
		}
		return serr
	}
}

func (u *udpPacketConn) ReadBatch(msgs []Message) (int, error) {
	n := min(len(msgs), len(u.rmsgs))
	ms := u.rmsgs[:n]
	for i := range ms {
		ms[i].Buffers[0] = msgs[i].Buf
		ms[i].N, ms[i].Flags, ms[i].Addr = 0, 0, nil
	}
	for {
		got, err := u.b.ReadBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return 0, ErrClosed
			}
			if isTransient(err) {
				continue
			}
			return 0, err
		}
		for i := 0; i < got; i++ {
			msgs[i].N = 0
			ua, ok := ms[i].Addr.(*net.UDPAddr)
			if !ok || ms[i].Flags&unix.MSG_TRUNC != 0 {
				continue // dropped: N stays 0
			}
			ap := ua.AddrPort()
			msgs[i].N = ms[i].N
			msgs[i].Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		if got > 0 {
			return got, nil
		}
	}
}

func (u *udpPacketConn) WriteBatch(msgs []Message) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	for len(msgs) > 0 {
		n := min(len(msgs), len(u.wmsgs))
		ms := u.wmsgs[:n]
		for i := range ms {
			ms[i].Buffers[0] = msgs[i].Buf
			ms[i].Addr = u.udpAddr(msgs[i].Addr)
		}
		sent, err := u.b.WriteBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			if !isTransient(err) {
				return err
			}
			sent = max(sent, 1)
		}
		msgs = msgs[sent:]
	}
	return nil
}

// udpAddr converts a destination for this socket: IPv4 destinations on an
// IPv6 socket are sent v4-mapped.
func (u *udpPacketConn) udpAddr(a netip.AddrPort) *net.UDPAddr {
	ip := a.Addr()
	if ip.Is4() && !u.local.Addr().Is4() {
		ip = netip.AddrFrom16(ip.As16())
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, a.Port()))
}

func (u *udpPacketConn) BatchSize() int            { return len(u.rmsgs) }
func (u *udpPacketConn) LocalAddr() netip.AddrPort { return u.local }
func (u *udpPacketConn) Close() error              { return u.c.Close() }
