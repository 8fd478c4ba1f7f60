package dataplane

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/race"
	"github.com/openvpn-go/openvpn-go/transport"
)

// recordConn keeps copies of everything written, in write order.
type recordConn struct {
	mu    sync.Mutex
	pkts  [][]byte
	block chan struct{}
}

func (c *recordConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	<-c.block
	return 0, transport.ErrClosed
}
func (c *recordConn) WriteBatch(pkts [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range pkts {
		c.pkts = append(c.pkts, append([]byte(nil), p...))
	}
	return nil
}
func (c *recordConn) BatchSize() int             { return 64 }
func (c *recordConn) Stream() bool               { return true }
func (c *recordConn) LocalAddr() netip.AddrPort  { return netip.AddrPort{} }
func (c *recordConn) RemoteAddr() netip.AddrPort { return netip.AddrPort{} }
func (c *recordConn) Close() error {
	select {
	case <-c.block:
	default:
		close(c.block)
	}
	return nil
}

// TestWireOrder: packets leave in packet-id order although the batches are
// sealed on several workers and keepalive pings are sealed concurrently on
// another goroutine (a 2.6 peer on TCP drops the connection on any id
// lower than one it has seen).
func TestWireOrder(t *testing.T) {
	for _, workers := range []int{1, 4} {
		defer setParallelism(workers)()
		conn := &recordConn{block: make(chan struct{})}
		c := NewClient(conn, nil)
		ck, sk := keyPair(t, "AES-256-GCM")
		c.Peer().Configure(PeerSettings{PeerID: 1, UseDataV2: true})
		c.Peer().InstallKey(0, ck, true)
		const reads = 200
		dev := &benchTun{pkt: ipPacket(1000, 1), batch: 32}
		dev.reset(reads)
		c.AttachTun(dev)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					c.Peer().SendPing()
				}
			}
		}()
		dev.wait()
		close(stop)
		wg.Wait()
		c.Close()
		// benchTun blocks its reader for ever once done; the pipeline holds
		// what was read before.
		conn.mu.Lock()
		pkts := conn.pkts
		conn.mu.Unlock()
		if len(pkts) < reads*32/2 {
			t.Fatalf("workers=%d: only %d packets written", workers, len(pkts))
		}
		var last uint32
		for i, p := range pkts {
			_, pid, err := sk.Open(p)
			if err != nil {
				t.Fatalf("workers=%d: packet %d: %v", workers, i, err)
			}
			if pid <= last {
				t.Fatalf("workers=%d: packet %d has id %d after %d", workers, i, pid, last)
			}
			last = pid
		}
	}
}

// TestPipelineAllocs: the outbound and inbound pipelines allocate nothing
// per packet in steady state (whatever the number of workers).
func TestPipelineAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	for _, workers := range workerCounts() {
		for name, bench := range map[string]func(*testing.B, string, int){"outbound": benchOutbound, "inbound": benchInbound} {
			r := testing.Benchmark(func(b *testing.B) { bench(b, "AES-256-GCM", workers) })
			if a := r.AllocsPerOp(); a != 0 {
				t.Errorf("%s, %d workers: %d allocations per packet", name, workers, a)
			}
		}
	}
}
