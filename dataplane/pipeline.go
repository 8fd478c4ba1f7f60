package dataplane

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The data path runs in three stages per direction, as wireguard-go's
// does: a reader goroutine fills a batch (system call, parsing, framing,
// packet ids in wire order), the crypto workers encrypt or decrypt whole
// batches in parallel, and a writer goroutine finishes the batches in the
// order they were read (replay checks, delivery, the batched write). A
// fixed number of batches circulates between the stages, which bounds
// memory and pushes back on the reader; channels carry batches, never
// single packets. With one CPU (or parallelism 1) the reader does all
// three stages itself.

// parallelism is the number of crypto workers of a data plane:
// GOMAXPROCS, or OPENVPN_GO_CRYPTO_WORKERS (1 runs every pipeline
// serially; for A/B measurements). Tests and benchmarks change it.
var parallelism = workersFromEnv()

func workersFromEnv() int {
	if v, err := strconv.Atoi(os.Getenv("OPENVPN_GO_CRYPTO_WORKERS")); err == nil && v > 0 {
		return v
	}
	return runtime.GOMAXPROCS(0)
}

// inFlight is the number of batches per pipeline.
const inFlight = 4

// batchesFor returns how many batches a pipeline circulates: one when it
// runs serially.
func batchesFor(w *workers) int {
	if w == nil {
		return 1
	}
	return inFlight
}

// batch is one unit of work through a pipeline.
type batch interface {
	// crypt is the parallel stage: it encrypts or decrypts the batch and
	// then calls stage().done.
	crypt()
	// finish is the ordered stage, on the writer goroutine.
	finish()
	stage() *batchState
	// size is the number of packets to encrypt or decrypt.
	size() int
}

// inlineBelow: a batch of fewer packets, with nothing ahead of it in the
// pipeline, runs all stages on the reader: handing it over would cost more
// than its crypto (small UDP packets arrive in small batches).
const inlineBelow = 16

// batchState tracks a batch through the crypto stage.
type batchState struct{ mu sync.Mutex }

func (s *batchState) start() { s.mu.Lock() }
func (s *batchState) done()  { s.mu.Unlock() }
func (s *batchState) wait()  { s.mu.Lock(); s.mu.Unlock() }

// workers run the crypto stage for all pipelines of a data plane.
type workers struct {
	ch chan batch
	wg sync.WaitGroup
}

// startWorkers starts n workers, or none (nil) for n <= 1: pipelines then
// run serially.
func startWorkers(n int) *workers {
	if n <= 1 {
		return nil
	}
	w := &workers{ch: make(chan batch, 64)}
	w.wg.Add(n)
	for range n {
		go func() {
			defer w.wg.Done()
			for b := range w.ch {
				b.crypt()
			}
		}()
	}
	return w
}

// stop ends the workers once every pipeline using them is closed.
func (w *workers) stop() {
	if w != nil {
		close(w.ch)
		w.wg.Wait()
	}
}

// pipeline moves the batches of one reader through the workers to its
// writer. The reader calls next, fills the batch, then submit; close ends
// the writer after the batches in flight.
type pipeline[B batch] struct {
	free  chan B
	order chan batch // B, and sealedBatch from the pipeline's outSeq
	work  *workers
	seq   *outSeq
	done  chan struct{}
	// queued counts the batches between submit (or outSeq.sendSealed) and
	// the end of their finish: at zero nothing is ahead of a new batch.
	queued atomic.Int32
}

// newPipeline starts the writer goroutine (none when work is nil) over
// the given batches. An outbound pipeline passes its peers' outSeq, an
// inbound one nil.
func newPipeline[B batch](work *workers, batches []B, seq *outSeq) *pipeline[B] {
	p := &pipeline[B]{free: make(chan B, len(batches)), order: make(chan batch, len(batches)+8), work: work, seq: seq, done: make(chan struct{})}
	for _, b := range batches {
		p.free <- b
	}
	if work == nil {
		close(p.done)
		return p
	}
	if seq != nil {
		seq.mu.Lock()
		seq.order, seq.queued = p.order, &p.queued
		seq.mu.Unlock()
	}
	go p.writer()
	return p
}

func (p *pipeline[B]) writer() {
	defer close(p.done)
	for b := range p.order {
		b.stage().wait()
		b.finish()
		p.queued.Add(-1)
		if own, ok := b.(B); ok {
			p.free <- own
		}
	}
}

// next returns a free batch, waiting while all are in flight.
func (p *pipeline[B]) next() B { return <-p.free }

// submit sends a filled batch on its way, or runs it through all stages
// at once without workers or when it is small and nothing is ahead of it.
// An outbound reader calls it under its outSeq's mu.
func (p *pipeline[B]) submit(b B) {
	b.stage().start()
	if p.work == nil || b.size() < inlineBelow && p.queued.Load() == 0 {
		b.crypt()
		b.finish()
		p.free <- b
		return
	}
	p.queued.Add(1)
	p.order <- b
	p.work.ch <- b
}

// recycle returns a batch that was not submitted.
func (p *pipeline[B]) recycle(b B) { p.free <- b }

// close waits for the batches in flight and ends the writer. The reader
// must not call next or submit afterwards.
func (p *pipeline[B]) close() {
	if p.work != nil {
		if p.seq != nil {
			p.seq.mu.Lock()
			p.seq.order, p.seq.queued = nil, nil
			p.seq.mu.Unlock()
		}
		close(p.order)
	}
	<-p.done
}

// outSeq keeps the datagrams of an outbound path in packet-id order. The
// outbound reader holds mu from reserving the ids of a batch until the
// batch is queued; packets sealed elsewhere (keepalive pings, OCC,
// client-to-client forwarding) are sealed and queued under mu too, as a
// sealedBatch behind the batches in flight. Without a parallel outbound
// pipeline they are written directly, still under mu. (A peer receiving
// an id lower than one it has seen treats it as a replay beyond its
// window, and a 2.6 peer on TCP drops the connection.)
type outSeq struct {
	mu     sync.Mutex
	order  chan batch    // the running parallel pipeline's queue, or nil
	queued *atomic.Int32 // its count of batches ahead
}

// sealedBatch carries datagrams sealed outside the outbound reader through
// the outbound writer stage.
type sealedBatch struct {
	st   batchState
	pkts []sealedPkt
	run  [][]byte // scratch of finish
}

type sealedPkt struct {
	to  *Peer
	pkt []byte
	buf *[]byte // pooled buffer holding pkt, returned after the write
}

var sealedBatches = sync.Pool{New: func() any { return new(sealedBatch) }}

// sealBufs are the buffers of datagrams sealed outside the outbound reader.
var sealBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (b *sealedBatch) stage() *batchState { return &b.st }
func (b *sealedBatch) crypt()             {}
func (b *sealedBatch) size() int          { return 0 }

// finish writes the datagrams, one write per run of the same peer.
func (b *sealedBatch) finish() {
	pkts := b.pkts
	run := b.run
	for i := 0; i < len(pkts); {
		to := pkts[i].to
		run = run[:0]
		j := i
		for ; j < len(pkts) && pkts[j].to == to; j++ {
			run = append(run, pkts[j].pkt)
		}
		if to.send != nil && to.send(run) == nil {
			to.lastSend.Store(time.Now().UnixNano())
		}
		i = j
	}
	clear(run)
	b.run = run[:0]
	for i := range pkts {
		if pkts[i].buf != nil {
			sealBufs.Put(pkts[i].buf)
		}
		pkts[i] = sealedPkt{}
	}
	b.pkts = pkts[:0]
	sealedBatches.Put(b)
}

// sendSealed queues (or, without a parallel pipeline, writes) b; the
// caller holds q.mu and sealed b's packets under it.
func (q *outSeq) sendSealed(b *sealedBatch) {
	if len(b.pkts) == 0 {
		sealedBatches.Put(b)
		return
	}
	if q.order != nil && q.queued.Load() > 0 {
		q.queued.Add(1)
		q.order <- b
		return
	}
	b.finish()
}
