package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/openvpn-go/openvpn-go/wire"
)

// tcpConn frames OpenVPN packets on a TCP stream.
type tcpConn struct {
	c      *net.TCPConn
	r      *bufio.Reader
	local  netip.AddrPort
	remote netip.AddrPort

	wmu  sync.Mutex
	wbuf []byte
}

// NewStream wraps an established TCP connection (a client's dial or a
// server's accept) as a Conn. It sets TCP_NODELAY: each WriteBatch is one
// write of whole packets, so Nagle's algorithm would only hold back the
// tail of a batch. A server that follows openvpn's tcp-nodelay default
// turns it off again on the *net.TCPConn.
func NewStream(c *net.TCPConn) Conn {
	c.SetNoDelay(true)
	c.SetReadBuffer(socketBuffer)
	c.SetWriteBuffer(socketBuffer)
	la := c.LocalAddr().(*net.TCPAddr).AddrPort()
	ra := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	return &tcpConn{
		c:      c,
		r:      bufio.NewReaderSize(c, 256<<10),
		local:  netip.AddrPortFrom(la.Addr().Unmap(), la.Port()),
		remote: netip.AddrPortFrom(ra.Addr().Unmap(), ra.Port()),
	}
}

// ReadBatch returns the first packet (blocking) and then every further
// packet that is already complete in the read buffer.
func (t *tcpConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	n := 0
	for n < len(bufs) {
		if n > 0 {
			// Only take packets that are entirely buffered already.
			b := t.r.Buffered()
			if b < wire.FrameHeaderLen {
				break
			}
			hdr, _ := t.r.Peek(wire.FrameHeaderLen)
			if b < wire.FrameHeaderLen+int(hdr[0])<<8|int(hdr[1]) {
				break
			}
		}
		p, err := wire.ReadFrame(t.r, bufs[n])
		if err != nil {
			if n > 0 && !errors.Is(err, wire.ErrFrameLength) {
				break
			}
			if errors.Is(err, net.ErrClosed) {
				return 0, ErrClosed
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return 0, err
		}
		sizes[n] = len(p)
		n++
	}
	return n, nil
}

// WriteBatch frames all packets into one buffer and writes it at once.
func (t *tcpConn) WriteBatch(pkts [][]byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	b := t.wbuf[:0]
	for _, p := range pkts {
		if len(p) > wire.MaxFrameLen {
			return fmt.Errorf("transport: packet of %d bytes too long for TCP framing", len(p))
		}
		b = wire.AppendFrame(b, p)
	}
	t.wbuf = b
	if _, err := t.c.Write(b); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}

func (t *tcpConn) BatchSize() int             { return DefaultBatchSize }
func (t *tcpConn) Stream() bool               { return true }
func (t *tcpConn) LocalAddr() netip.AddrPort  { return t.local }
func (t *tcpConn) RemoteAddr() netip.AddrPort { return t.remote }
func (t *tcpConn) Close() error               { return t.c.Close() }

// Net is the built-in Dialer: plain UDP and TCP sockets.
type Net struct {
	// Control, if set, is called on every socket before it connects (for
	// SO_MARK, SO_BINDTODEVICE or a privileged helper's socket protection).
	Control func(network, address string, c syscall.RawConn) error
}

// Dial implements Dialer.
func (d Net) Dial(ctx context.Context, network string, local, remote netip.AddrPort) (Conn, error) {
	nd := net.Dialer{}
	if d.Control != nil {
		nd.Control = d.Control
	}
	if local.IsValid() {
		if IsStream(network) {
			nd.LocalAddr = net.TCPAddrFromAddrPort(local)
		} else {
			nd.LocalAddr = net.UDPAddrFromAddrPort(local)
		}
	}
	c, err := nd.DialContext(ctx, network, remote.String())
	if err != nil {
		return nil, err
	}
	switch c := c.(type) {
	case *net.UDPConn:
		u, err := newUDPConn(c, remote, envOffloadPolicy())
		if err != nil {
			c.Close()
			return nil, err
		}
		return u, nil
	case *net.TCPConn:
		return NewStream(c), nil
	}
	c.Close()
	return nil, fmt.Errorf("transport: unexpected connection type %T", c)
}

// ListenTCP opens a server TCP listener with the same address rules as
// ListenUDP.
func ListenTCP(network string, local netip.AddrPort, v6only bool) (*net.TCPListener, error) {
	lc := net.ListenConfig{}
	addr := local
	switch network {
	case "tcp", "tcp6":
		if !local.Addr().IsValid() || local.Addr().IsUnspecified() {
			addr = netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())
			network = "tcp6"
			lc.Control = v6onlyControl(v6only)
		} else if local.Addr().Is4() {
			network = "tcp4"
		} else {
			network = "tcp6"
			lc.Control = v6onlyControl(v6only)
		}
	case "tcp4":
		if !addr.Addr().IsValid() {
			addr = netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port())
		}
	default:
		return nil, fmt.Errorf("transport: unknown network %q", network)
	}
	l, err := lc.Listen(context.Background(), network, addr.String())
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s %v: %w", network, addr, err)
	}
	return l.(*net.TCPListener), nil
}
