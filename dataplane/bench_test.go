package dataplane

import (
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
func BenchmarkOutbound(b *testing.B) {
	for _, cipher := range []string{"AES-256-GCM", "CHACHA20-POLY1305", "AES-256-CBC"} {
		b.Run(cipher, func(b *testing.B) {
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
		})
	}
}

// BenchmarkInbound measures socket batch → open → replay → unframe → tun
// batch per packet, through the receive path of the client data plane.
func BenchmarkInbound(b *testing.B) {
	for _, cipher := range []string{"AES-256-GCM", "CHACHA20-POLY1305"} {
		b.Run(cipher, func(b *testing.B) {
			ck, sk := keyPair(b, cipher)
			c := NewClient(&benchConn{block: make(chan struct{})}, nil)
			c.Peer().Configure(PeerSettings{PeerID: 1, UseDataV2: true})
			c.Peer().InstallKey(0, ck, true)
			dev := &benchTun{batch: 64}
			c.tun = dev
			// Pre-seal a batch of packets with increasing packet-ids; each
			// round re-seals them (the replay window needs fresh ids), which
			// is outside the timed part.
			const batch = 64
			full := make([][]byte, batch)
			for i := range full {
				full[i] = make([]byte, BufSize)
			}
			scratch := make([]byte, decompressMax)
			plain := ipPacket(1400, 3)
			pkts := make([][]byte, batch)
			out := make([][]byte, 0, batch)
			now := time.Now()
			b.SetBytes(1400)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				b.StopTimer()
				for i := range pkts {
					buf := full[i][:datacrypto.Headroom+len(plain)]
					copy(buf[datacrypto.Headroom:], plain)
					p, err := sk.Seal(wire.DataHeader{Opcode: wire.OpDataV2, PeerID: 1}, buf, datacrypto.Headroom)
					if err != nil {
						b.Fatal(err)
					}
					pkts[i] = p
				}
				b.StartTimer()
				out = out[:0]
				for i := range pkts {
					payload, kind := c.peer.open(pkts[i], scratch, now)
					if kind != rxData {
						b.Fatal("dropped")
					}
					out = append(out, payload)
				}
				dev.Write(out, 0)
			}
		})
	}
}
