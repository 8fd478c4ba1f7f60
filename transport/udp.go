package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// DefaultBatchSize is the number of packets per recvmmsg/sendmmsg.
const DefaultBatchSize = 128

// socketBuffer is the size requested for SO_RCVBUF/SO_SNDBUF (wireguard-go
// uses 7 MiB); the FORCE variants are tried first (they need CAP_NET_ADMIN).
const socketBuffer = 7 << 20

// udpSock is a UDP socket with batched, offloaded I/O (see udp_mmsg.go).
//
// Concurrency: the receive state r is used only by ReadBatch, which the
// Conn/PacketConn contract confines to one goroutine at a time; the send
// state w is guarded by wmu because WriteBatch may be called concurrently
// (data plane and control session). Close may be called at any time and
// unblocks both.
//
// Buffer ownership: WriteBatch's iovecs point into the caller's packets
// only for the duration of the call (nothing is copied and nothing is
// retained for use after it returns). ReadBatch writes into the caller's
// buffers during the call; with GRO, datagrams are first read into the
// socket's own buffers and copied out.
type udpSock struct {
	c     *net.UDPConn
	rc    syscall.RawConn
	local netip.AddrPort
	v6    bool // AF_INET6 socket

	gsoOn atomic.Bool // UDP_SEGMENT in use (cleared when the kernel refuses it)
	groOn bool        // UDP_GRO on (fixed at set-up)

	r udpReader

	wmu sync.Mutex
	w   udpWriter
}

func newUDPSock(c *net.UDPConn, connected bool, pol offloadPolicy) (*udpSock, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	s := &udpSock{c: c, rc: rc}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort()
	s.local = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	s.v6 = !la.Addr().Is4()
	setBuffers(rc)
	gso, gro := probeOffloads(rc, pol)
	s.gsoOn.Store(gso)
	s.groOn = gro
	s.r.init(gro, connected)
	s.w.init(gso)
	return s, nil
}

func setBuffers(rc syscall.RawConn) {
	rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], socketBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], socketBuffer)
			}
		}
	})
}

// Offloads reports the UDP offloads this socket uses now.
func (s *udpSock) Offloads() Offloads {
	return Offloads{GSO: s.gsoOn.Load(), GRO: s.groOn}
}

var (
	_ Conn       = (*udpConn)(nil)
	_ PacketConn = (*udpPacketConn)(nil)
	_ Offloader  = (*udpConn)(nil)
	_ Offloader  = (*udpPacketConn)(nil)
)

// udpConn is a connected UDP socket: the client side.
type udpConn struct {
	*udpSock
	remote netip.AddrPort
	maxPay int // largest UDP payload to remote (a GSO send's bound)
}

func newUDPConn(c *net.UDPConn, remote netip.AddrPort, pol offloadPolicy) (*udpConn, error) {
	s, err := newUDPSock(c, true, pol)
	if err != nil {
		return nil, err
	}
	u := &udpConn{udpSock: s, remote: netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()), maxPay: maxIPv6UDPPayload}
	if u.remote.Addr().Is4() {
		u.maxPay = maxIPv4UDPPayload
	}
	return u, nil
}

// ReadBatch implements Conn. With GRO, the segments of a coalesced
// datagram that do not fit in bufs are returned by the next call.
func (u *udpConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	return read(u.udpSock, connIn{bufs, sizes})
}

// WriteBatch implements Conn: runs of equal-sized packets (the last may be
// shorter) leave as one GSO datagram when the kernel supports it.
func (u *udpConn) WriteBatch(pkts [][]byte) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	return write(u.udpSock, connOut{pkts, u.maxPay})
}

func (u *udpConn) BatchSize() int             { return DefaultBatchSize }
func (u *udpConn) Stream() bool               { return false }
func (u *udpConn) LocalAddr() netip.AddrPort  { return u.local }
func (u *udpConn) RemoteAddr() netip.AddrPort { return u.remote }
func (u *udpConn) Close() error               { return u.c.Close() }

// isTransient reports whether a socket error concerns one datagram (or a
// stale ICMP error) rather than the socket: datagrams are lossy, the
// socket carries on.
func isTransient(e syscall.Errno) bool {
	switch e {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EMSGSIZE, unix.ENOBUFS, unix.EAGAIN, unix.EPERM:
		return true
	}
	return false
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
//
// The socket uses UDP GSO and GRO when the kernel supports them (see
// Offloads); OPENVPN_GO_UDP_OFFLOAD=0 turns them off.
func ListenUDP(network string, local netip.AddrPort, v6only bool) (PacketConn, error) {
	return listenUDP(network, local, v6only, envOffloadPolicy())
}

func listenUDP(network string, local netip.AddrPort, v6only bool, pol offloadPolicy) (*udpPacketConn, error) {
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
	s, err := newUDPSock(pc.(*net.UDPConn), false, pol)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return &udpPacketConn{s}, nil
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

// ReadBatch implements PacketConn: msgs[i].Buf is filled, msgs[i].N and
// msgs[i].Addr (unmapped) are set. With GRO, the segments of a coalesced
// datagram that do not fit in msgs are returned by the next call.
func (u *udpPacketConn) ReadBatch(msgs []Message) (int, error) {
	return read(u.udpSock, packetIn(msgs))
}

// WriteBatch implements PacketConn: runs of consecutive messages to the
// same address with equal lengths (the last may be shorter) leave as one
// GSO datagram. IPv4 destinations on an IPv6 socket are sent v4-mapped.
func (u *udpPacketConn) WriteBatch(msgs []Message) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	return write(u.udpSock, packetOut{msgs, u.v6})
}

func (u *udpPacketConn) BatchSize() int            { return DefaultBatchSize }
func (u *udpPacketConn) LocalAddr() netip.AddrPort { return u.local }
func (u *udpPacketConn) Close() error              { return u.c.Close() }
