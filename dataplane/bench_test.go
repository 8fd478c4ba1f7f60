package dataplane

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/tun"
	"github.com/openvpn-go/openvpn-go/wire"
)

// benchTun is a tun device that returns a fixed batch of packets on every
// Read (until stopped) and discards writes: it measures the data path
// without the kernel.
type benchTun struct {
	pkt     []byte
	batch   int
	reads   atomic.Int64
	limit   int64
	done    chan struct{}
	once    sync.Once
	written atomic.Int64
}

func (d *benchTun) File() *os.File { return nil }
func (d *benchTun) Read(bufs [][]byte, sizes []int, off int) (int, error) {
	if d.reads.Add(1) > d.limit {
		d.once.Do(func() { close(d.done) })
		<-make(chan struct{}) // block until the process ends the benchmark
	}
	n := min(d.batch, len(bufs))
	for i := 0; i < n; i++ {
		sizes[i] = copy(bufs[i][off:], d.pkt)
	}
	return n, nil
}
func (d *benchTun) Write(bufs [][]byte, off int) (int, error) {
	d.written.Add(int64(len(bufs)))
	return len(bufs), nil
}
func (d *benchTun) MTU() (int, error)        { return 1500, nil }
func (d *benchTun) Name() (string, error)    { return "bench0", nil }
func (d *benchTun) Events() <-chan tun.Event { return nil }
func (d *benchTun) Close() error             { return nil }
func (d *benchTun) BatchSize() int           { return d.batch }
func (d *benchTun) reset(limit int64) {
	d.reads.Store(0)
	d.limit = limit
	d.done = make(chan struct{})
	d.once = sync.Once{}
}
func (d *benchTun) wait() { <-d.done }

// benchConn discards writes and counts them.
type benchConn struct {
	sent  atomic.Int64
	bytes atomic.Int64
	block chan struct{}
}

func (c *benchConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	<-c.block
	return 0, transport.ErrClosed
}
func (c *benchConn) WriteBatch(pkts [][]byte) error {
	c.sent.Add(int64(len(pkts)))
	for _, p := range pkts {
		c.bytes.Add(int64(len(p)))
	}
	return nil
}
func (c *benchConn) BatchSize() int             { return 128 }
func (c *benchConn) Stream() bool               { return false }
func (c *benchConn) LocalAddr() netip.AddrPort  { return netip.AddrPort{} }
func (c *benchConn) RemoteAddr() netip.AddrPort { return netip.AddrPort{} }
func (c *benchConn) Close() error               { return nil }

// BenchmarkOutbound measures tun batch → frame → seal → socket batch per
// packet (1400-byte packets, batches of 64), without the kernel.
//
// workers=1 is the serial path; workers=N spreads the crypto of each batch
// over N goroutines (the crew).
func BenchmarkOutbound(b *testing.B) {
	for _, cipher := range []string{"AES-256-GCM", "CHACHA20-POLY1305", "AES-256-CBC"} {
		for _, workers := range workerCounts() {
			b.Run(fmt.Sprintf("%s/workers=%d", cipher, workers), func(b *testing.B) { benchOutbound(b, cipher, workers) })
		}
	}
}

func benchOutbound(b *testing.B, cipher string, workers int) {
	defer setParallelism(workers)()
	ck, _ := keyPair(b, cipher)
	conn := &benchConn{block: make(chan struct{})}
	c := NewClient(conn, nil)
	c.Peer().Configure(PeerSettings{PeerID: 1, UseDataV2: true, MSS: 1400})
	c.Peer().InstallKey(0, ck, true)
	dev := &benchTun{pkt: ipPacket(1400, 1), batch: 64}
	// b.N packets: b.N/64 reads.
	dev.reset(int64(b.N/64 + 1))
	b.SetBytes(1400)
	b.ReportAllocs()
	b.ResetTimer()
	c.AttachTun(dev)
	dev.wait()
	b.StopTimer()
	if n := conn.sent.Load(); n > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
	}
}

// workerCounts returns 1 and GOMAXPROCS (if more).
func workerCounts() []int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

// setParallelism sets the crews' size and returns the restore function.
func setParallelism(n int) func() {
	old := parallelism
	parallelism = n
	return func() { parallelism = old }
}

// ringConn replays a ring of pre-sealed data packets as link reads, in
// batches; when the ring wraps it installs a fresh receive key (same key
// material, empty replay window) so every packet is accepted again.
type ringConn struct {
	ring  [][]byte
	next  int
	batch int
	left  atomic.Int64
	done  chan struct{}
	once  sync.Once
	rekey func()
	block chan struct{}
}

func (c *ringConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	if c.left.Add(-int64(c.batch)) < 0 {
		c.once.Do(func() { close(c.done) })
		<-c.block
		return 0, transport.ErrClosed
	}
	n := min(c.batch, len(bufs))
	for i := 0; i < n; i++ {
		if c.next == len(c.ring) {
			c.next = 0
			c.rekey()
		}
		sizes[i] = copy(bufs[i], c.ring[c.next])
		c.next++
	}
	return n, nil
}
func (c *ringConn) WriteBatch(pkts [][]byte) error { return nil }
func (c *ringConn) BatchSize() int                 { return c.batch }
func (c *ringConn) Stream() bool                   { return false }
func (c *ringConn) LocalAddr() netip.AddrPort      { return netip.AddrPort{} }
func (c *ringConn) RemoteAddr() netip.AddrPort     { return netip.AddrPort{} }
func (c *ringConn) Close() error                   { return nil }

// BenchmarkInbound measures socket batch → open (on the crypto workers) →
// replay → unframe → tun batch per packet: the client's link reader
// pipeline, without the kernel (1400-byte packets, batches of 64).
func BenchmarkInbound(b *testing.B) {
	for _, cipher := range []string{"AES-256-GCM", "CHACHA20-POLY1305"} {
		for _, workers := range workerCounts() {
			b.Run(fmt.Sprintf("%s/workers=%d", cipher, workers), func(b *testing.B) { benchInbound(b, cipher, workers) })
		}
	}
}

func benchInbound(b *testing.B, cipher string, workers int) {
	defer setParallelism(workers)()
	var k2 [256]byte
	rand.Read(k2[:])
	suite, _ := datacrypto.NewSuite(cipher, "SHA256")
	sk, _ := datacrypto.NewKey(datacrypto.Config{Suite: suite, Role: datacrypto.RoleServer}, &k2)
	newCK := func() *datacrypto.Key {
		k, _ := datacrypto.NewKey(datacrypto.Config{Suite: suite, Role: datacrypto.RoleClient}, &k2)
		return k
	}
	plain := ipPacket(1400, 3)
	ring := make([][]byte, 4096)
	for i := range ring {
		buf := make([]byte, datacrypto.Headroom+len(plain), datacrypto.Headroom+len(plain)+datacrypto.Tailroom)
		copy(buf[datacrypto.Headroom:], plain)
		pkt, err := sk.Seal(wire.DataHeader{Opcode: wire.OpDataV2, PeerID: 1}, buf, datacrypto.Headroom)
		if err != nil {
			b.Fatal(err)
		}
		ring[i] = pkt
	}
	conn := &ringConn{ring: ring, batch: 64, done: make(chan struct{}), block: make(chan struct{})}
	c := NewClient(conn, nil)
	c.Peer().Configure(PeerSettings{PeerID: 1, UseDataV2: true})
	conn.rekey = func() { c.Peer().InstallKey(0, newCK(), true) }
	conn.rekey()
	dev := &benchTun{batch: 64}
	c.tun = dev
	conn.left.Store(int64(b.N))
	b.SetBytes(1400)
	b.ReportAllocs()
	b.ResetTimer()
	c.Start()
	<-conn.done
	// The batches still in the pipeline are not waited for: at most a few
	// batches of b.N.
	b.StopTimer()
	if dev.written.Load() > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	}
}
