// Package transport is the link layer under the OpenVPN protocol: it moves
// whole OpenVPN packets (control or data, exactly the bytes of one UDP
// payload) between peers. UDP carries one packet per datagram; TCP carries a
// stream of packets each preceded by a 16-bit length (wire.AppendFrame).
//
// The interfaces are batch-shaped from the start (recvmmsg/sendmmsg on
// Linux) so the data plane moves many packets per system call. A pluggable
// transport (obfuscation, HTTPS-looking tunnels, PT binaries) implements Conn
// or PacketConn and is handed to the client or server instead of the
// built-in dialers; the protocol code above never sees the difference.
package transport

import (
	"context"
	"errors"
	"net/netip"
)

// MaxPacketSize is the largest OpenVPN packet a transport must carry
// (tun-mtu 1500 plus every overhead, with room for jumbo tun-mtu up to 9000
// later).
const MaxPacketSize = 1 << 16

// Conn is a link to one peer: a client's connection to its server, or one
// TCP client on a server. Packets are addressed implicitly.
//
// ReadBatch must be called from one goroutine at a time. WriteBatch is safe
// for concurrent use (the data plane and the control session both send).
// Close unblocks a blocked ReadBatch.
type Conn interface {
	// ReadBatch reads at least one packet, blocking until one arrives, and at
	// most len(bufs). Packet i is stored at the start of bufs[i] and its
	// length in sizes[i]; bufs is never reordered. A packet longer than its
	// buffer is an error for streams, and for datagrams is dropped with
	// sizes[i] = 0 (callers skip empty packets).
	ReadBatch(bufs [][]byte, sizes []int) (n int, err error)
	// WriteBatch sends the packets in order.
	WriteBatch(pkts [][]byte) error
	// BatchSize is the preferred number of packets per call.
	BatchSize() int
	// Stream reports whether this is a stream transport (TCP): it changes
	// protocol rules (no cookie handshake, decrypt errors are fatal).
	Stream() bool
	LocalAddr() netip.AddrPort
	RemoteAddr() netip.AddrPort
	Close() error
}

// Message is one datagram of a PacketConn.
type Message struct {
	Buf  []byte         // read: buffer to fill (never swapped); write: the packet
	N    int            // read: bytes received, 0 for a dropped datagram
	Addr netip.AddrPort // read: source; write: destination
}

// PacketConn is a server's datagram socket shared by all its UDP clients.
// The same concurrency rules as Conn apply.
type PacketConn interface {
	ReadBatch(msgs []Message) (n int, err error)
	WriteBatch(msgs []Message) error
	BatchSize() int
	LocalAddr() netip.AddrPort
	Close() error
}

// Dialer opens a client's link. The built-in implementation is Net;
// pluggable transports provide their own.
type Dialer interface {
	// Dial connects to remote over network ("udp", "udp4", "udp6", "tcp",
	// "tcp4", "tcp6"), binding to local unless it is the zero value.
	Dial(ctx context.Context, network string, local, remote netip.AddrPort) (Conn, error)
}

// Offloads are the kernel offloads a datagram transport uses.
type Offloads struct {
	// GSO (UDP_SEGMENT, Linux >= 4.18): a run of equal-sized packets to
	// one peer leaves in one system call and is segmented by the kernel
	// or the NIC. It is switched off for good if the egress device
	// refuses it (EIO: no tx checksum offload).
	GSO bool
	// GRO (UDP_GRO, used on Linux >= 5.12): datagrams of one flow arrive
	// coalesced and are split by the transport.
	GRO bool
}

// Offloader is implemented by the built-in UDP transports (Conn and
// PacketConn) to report their offloads, e.g. for a log line.
type Offloader interface {
	Offloads() Offloads
}

// ErrClosed is returned by operations on a closed transport.
var ErrClosed = errors.New("transport: use of closed connection")

// IsStream reports whether a network name is a stream network.
func IsStream(network string) bool {
	return network == "tcp" || network == "tcp4" || network == "tcp6"
}
