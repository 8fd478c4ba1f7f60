// Package transporttest provides in-memory transports for tests: a
// datagram pipe between two Conns, optionally lossy (a gremlin that drops,
// duplicates and reorders packets).
package transporttest

import (
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/openvpn-go/openvpn-go/transport"
)

// Gremlin perturbs packets on a Pipe. The zero value delivers everything in
// order.
type Gremlin struct {
	Loss, Duplicate, Reorder float64 // probabilities in [0,1]
	Seed                     uint64
}

// Pipe returns two connected datagram Conns. Packets written to one are
// read from the other, copied.
func Pipe(g Gremlin) (a, b *Conn) {
	ab := make(chan []byte, 1024)
	ba := make(chan []byte, 1024)
	rng := rand.New(rand.NewPCG(g.Seed, g.Seed^0x9e3779b97f4a7c15))
	mu := &sync.Mutex{}
	a = &Conn{in: ba, out: ab, g: g, rng: rng, rngMu: mu, closed: make(chan struct{}),
		local: netip.MustParseAddrPort("192.0.2.1:1194"), remote: netip.MustParseAddrPort("192.0.2.2:1194")}
	b = &Conn{in: ab, out: ba, g: g, rng: rng, rngMu: mu, closed: make(chan struct{}),
		local: a.remote, remote: a.local}
	a.peer, b.peer = b, a
	return a, b
}

// Conn is one end of a Pipe.
type Conn struct {
	in, out       chan []byte
	g             Gremlin
	rng           *rand.Rand
	rngMu         *sync.Mutex
	held          []byte // reordering: a packet delayed behind the next
	wmu           sync.Mutex
	closeOnce     sync.Once
	closed        chan struct{}
	peer          *Conn
	local, remote netip.AddrPort
}

var _ transport.Conn = (*Conn)(nil)

func (c *Conn) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return c.rng.Float64() < p
}

// ReadBatch implements transport.Conn.
func (c *Conn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	select {
	case p := <-c.in:
		sizes[0] = copy(bufs[0], p)
	case <-c.closed:
		return 0, transport.ErrClosed
	}
	n := 1
	for n < len(bufs) {
		select {
		case p := <-c.in:
			sizes[n] = copy(bufs[n], p)
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

// WriteBatch implements transport.Conn.
func (c *Conn) WriteBatch(pkts [][]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, p := range pkts {
		select {
		case <-c.closed:
			return transport.ErrClosed
		default:
		}
		if c.chance(c.g.Loss) {
			continue
		}
		cp := append([]byte(nil), p...)
		if c.chance(c.g.Reorder) && c.held == nil {
			c.held = cp
			continue
		}
		c.deliver(cp)
		if c.chance(c.g.Duplicate) {
			c.deliver(cp)
		}
		if c.held != nil {
			c.deliver(c.held)
			c.held = nil
		}
	}
	return nil
}

func (c *Conn) deliver(p []byte) {
	select {
	case c.out <- p:
	case <-c.peer.closed:
	default: // full: dropped, as a real link would
	}
}

func (c *Conn) BatchSize() int             { return 64 }
func (c *Conn) Stream() bool               { return false }
func (c *Conn) LocalAddr() netip.AddrPort  { return c.local }
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }
func (c *Conn) Close() error               { c.closeOnce.Do(func() { close(c.closed) }); return nil }
