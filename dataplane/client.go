package dataplane

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/ippkt"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/tun"
	"github.com/openvpn-go/openvpn-go/wire"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// blockIPv6Src is the source of the ICMPv6 errors block-ipv6 sends back
// into the tunnel (openvpn uses fe80::7 without an IPv6 remote).
var blockIPv6Src = netip.MustParseAddr("fe80::7")

// controlInbox bounds the control packets waiting for the session owner;
// beyond it they are dropped (the peer retransmits), so a flood cannot grow
// memory.
const controlInbox = 256

// Client is the data plane of a client: one link to the server and, once
// the tunnel is configured, one tun device.
//
// Goroutines: Start runs one link reader (inbound: link → tun, and control
// packets to Control); AttachTun adds one tun reader (outbound: tun →
// link). Close stops both and waits for them.
type Client struct {
	conn transport.Conn
	peer *Peer
	log  *slog.Logger
	ctl  chan []byte

	mu      sync.Mutex
	tun     tun.Device
	tunDone chan struct{} // closed when the tun reader exits
	wg      sync.WaitGroup
	closed  bool
	err     chan error // first fatal link error

	work     *workers // crypto workers of both directions
	seq      outSeq   // packet-id order of everything sent
	stopWork sync.Once
	// in is the state of the inbound writer stage.
	in struct {
		scratch []byte
		out     [][]byte
		stream  bool
		dead    bool // the link failed a TCP packet: drop the rest
	}
}

// NewClient returns a data plane over conn. Call Start to begin reading.
func NewClient(conn transport.Conn, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		conn: conn,
		log:  log,
		ctl:  make(chan []byte, controlInbox),
		err:  make(chan error, 1),
		work: startWorkers(parallelism),
	}
	c.peer = newPeer(&c.seq)
	c.peer.send = conn.WriteBatch
	return c
}

// Peer returns the server's data-channel state.
func (c *Client) Peer() *Peer { return c.peer }

// Control delivers the control packets read from the link (copies).
func (c *Client) Control() <-chan []byte { return c.ctl }

// Err delivers the error that ended the link reader (connection reset,
// decryption failure on TCP).
func (c *Client) Err() <-chan error { return c.err }

// SendControl writes control packets to the link.
func (c *Client) SendControl(pkts [][]byte) error {
	if len(pkts) == 0 {
		return nil
	}
	err := c.conn.WriteBatch(pkts)
	if err == nil {
		c.peer.lastSend.Store(time.Now().UnixNano())
	}
	return err
}

// Start starts the link reader.
func (c *Client) Start() {
	c.wg.Add(1)
	go c.readLink()
}

// AttachTun starts moving packets between dev and the link.
func (c *Client) AttachTun(dev tun.Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.tun != nil {
		return
	}
	c.tun = dev
	c.tunDone = make(chan struct{})
	c.wg.Add(1)
	go c.readTun(dev, c.tunDone)
}

// DetachTun stops using the tun device without closing it, for persist-tun:
// the device outlives this data plane and the next one attaches it. It
// interrupts the tun reader with a read deadline and waits for it, then
// clears the deadline. It returns false, leaving everything as it was, when
// the device's file cannot take deadlines; the caller then closes the
// device as usual.
func (c *Client) DetachTun() bool {
	c.mu.Lock()
	dev, done := c.tun, c.tunDone
	c.mu.Unlock()
	if dev == nil {
		return false
	}
	f := dev.File()
	if f == nil || f.SetReadDeadline(time.Unix(1, 0)) != nil {
		return false
	}
	c.mu.Lock()
	c.tun = nil // the inbound writer stops writing to it
	c.mu.Unlock()
	<-done
	f.SetReadDeadline(time.Time{})
	return true
}

// Close closes the link (not the tun device, which the caller owns) and
// waits for the goroutines. The caller closes the tun device first or
// afterwards; the tun reader exits when it is closed.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.conn.Close()
}

// Wait waits for the goroutines to exit (after Close and closing the tun).
func (c *Client) Wait() {
	c.wg.Wait()
	c.stopWork.Do(c.work.stop)
}

func (c *Client) fatal(err error) {
	select {
	case c.err <- err:
	default:
	}
}

// clientIn is one batch of the inbound pipeline (link → tun).
type clientIn struct {
	st    batchState
	c     *Client
	full  [][]byte // whole buffers
	rbufs [][]byte // the same from Offset: packets are read there
	sizes []int
	open  openBatch
	now   time.Time
}

func (b *clientIn) stage() *batchState { return &b.st }
func (b *clientIn) size() int          { return len(b.open.jobs) }

func (b *clientIn) crypt() {
	b.open.run(0, len(b.open.jobs))
	b.st.done()
}

// finish checks replay, unframes and writes the batch to tun, in order.
func (b *clientIn) finish() {
	c := b.c
	p := c.peer
	in := &c.in
	if in.dead {
		return
	}
	out := in.out[:0]
	var tunBytes uint64
	for i := range b.open.jobs {
		j := &b.open.jobs[i]
		payload, kind := p.accept(j, in.scratch, b.now)
		if kind == rxAuthFailed && in.stream {
			// openvpn 2.6 treats any decrypt or replay failure on TCP as
			// fatal for the connection.
			c.fatal(errors.New("dataplane: data packet failed authentication or replay check on a TCP link"))
			c.conn.Close()
			in.dead = true
			return
		}
		if kind != rxData {
			continue
		}
		if mss := p.Settings().MSS; mss != 0 {
			ippkt.MSSClamp(payload, mss)
		}
		// Move the payload to the common offset of the batched tun write
		// (it may alias the scratch buffer after decompression, or sit
		// after the header inside the buffer).
		buf := j.buf
		if len(payload) > len(buf)-Offset {
			continue
		}
		copy(buf[Offset:], payload)
		tunBytes += uint64(len(payload))
		out = append(out, buf[:Offset+len(payload)])
	}
	in.out = out
	if len(out) == 0 {
		return
	}
	c.mu.Lock()
	t := c.tun
	c.mu.Unlock()
	if t == nil {
		return
	}
	if _, err := t.Write(out, Offset); err != nil {
		c.log.Debug("tun write", "err", err)
	}
	p.tunRxBytes.Add(tunBytes)
}

// readLink is the inbound reader: it reads batches from the link, passes
// control packets to the session owner and data packets down the
// pipeline.
func (c *Client) readLink() {
	defer c.wg.Done()
	n := c.conn.BatchSize()
	c.in.scratch = make([]byte, decompressMax)
	c.in.out = make([][]byte, 0, n)
	c.in.stream = c.conn.Stream()
	batches := make([]*clientIn, batchesFor(c.work))
	for k := range batches {
		b := &clientIn{c: c, full: make([][]byte, n), rbufs: make([][]byte, n), sizes: make([]int, n), open: openBatch{jobs: make([]openJob, 0, n)}}
		for i := range b.full {
			b.full[i] = make([]byte, BufSize)
			b.rbufs[i] = b.full[i][Offset:]
		}
		batches[k] = b
	}
	pl := newPipeline(c.work, batches, nil)
	defer pl.close()
	p := c.peer
	for {
		b := pl.next()
		got, err := c.conn.ReadBatch(b.rbufs, b.sizes)
		if err != nil {
			pl.recycle(b)
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if !closed {
				c.fatal(err)
			}
			return
		}
		b.now = time.Now()
		var rxBytes uint64
		b.open.jobs = b.open.jobs[:0]
		for i := 0; i < got; i++ {
			pkt := b.full[i][Offset : Offset+b.sizes[i]]
			rxBytes += uint64(len(pkt))
			op, _, _ := wire.PeekOpcode(pkt)
			if !op.IsData() {
				if op.IsControl() {
					select {
					case c.ctl <- append([]byte(nil), pkt...):
					default:
					}
				}
				continue
			}
			b.open.jobs = append(b.open.jobs, openJob{key: p.keyFor(pkt), pkt: pkt, buf: b.full[i]})
		}
		p.linkRxBytes.Add(rxBytes)
		p.linkRxPackets.Add(uint64(got))
		if len(b.open.jobs) == 0 {
			pl.recycle(b)
			continue
		}
		pl.submit(b)
	}
}

// clientOut is one batch of the outbound pipeline (tun → link).
type clientOut struct {
	st    batchState
	c     *Client
	bufs  [][]byte
	sizes []int
	seal  sealBatch
	arena fragArena
	pkts  [][]byte
}

func (b *clientOut) stage() *batchState { return &b.st }
func (b *clientOut) size() int          { return len(b.seal.jobs) }

func (b *clientOut) crypt() {
	b.seal.run(0, len(b.seal.jobs))
	b.st.done()
}

// finish writes the sealed batch to the link.
func (b *clientOut) finish() {
	c := b.c
	p := c.peer
	pkts := b.pkts[:0]
	var txBytes uint64
	for i := range b.seal.jobs {
		if pkt := b.seal.jobs[i].out; pkt != nil {
			pkts = append(pkts, pkt)
			txBytes += uint64(len(pkt))
		}
	}
	b.pkts = pkts
	if len(pkts) == 0 {
		return
	}
	if err := c.conn.WriteBatch(pkts); err != nil {
		c.log.Debug("link write", "err", err)
		return
	}
	p.linkTxBytes.Add(txBytes)
	p.linkTxPackets.Add(uint64(len(pkts)))
	p.lastSend.Store(time.Now().UnixNano())
}

// readTun is the outbound reader: it reads batches from tun, frames them
// and assigns packet ids in order, and passes them down the pipeline.
func (c *Client) readTun(dev tun.Device, done chan struct{}) {
	defer c.wg.Done()
	defer close(done)
	n := dev.BatchSize()
	batches := make([]*clientOut, batchesFor(c.work))
	for k := range batches {
		b := &clientOut{c: c, bufs: make([][]byte, n), sizes: make([]int, n), seal: sealBatch{jobs: make([]sealJob, 0, n)}, pkts: make([][]byte, 0, n)}
		for i := range b.bufs {
			b.bufs[i] = make([]byte, BufSize)
		}
		batches[k] = b
	}
	pl := newPipeline(c.work, batches, &c.seq)
	defer pl.close()
	replies := make([][]byte, 0, n)
	replyBufs := make([][]byte, n)
	for i := range replyBufs {
		replyBufs[i] = make([]byte, Offset, Offset+1280)
	}
	for {
		b := pl.next()
		for i := range b.bufs {
			b.bufs[i] = b.bufs[i][:cap(b.bufs[i])]
		}
		got, err := dev.Read(b.bufs, b.sizes, Offset)
		if err != nil {
			pl.recycle(b)
			if errors.Is(err, wgtun.ErrTooManySegments) {
				continue
			}
			return
		}
		p := c.peer
		set := p.Settings()
		replies = replies[:0]
		c.seq.mu.Lock() // ids are reserved in the order the batches are queued
		b.seal.jobs = b.seal.jobs[:0]
		b.arena.reset()
		var tunBytes uint64
		for i := 0; i < got; i++ {
			tunBytes += uint64(b.sizes[i])
			ip := b.bufs[i][Offset : Offset+b.sizes[i]]
			if set.BlockIPv6 && ippkt.Version(ip) == 6 {
				// block-ipv6: answer with ICMPv6 "no route" instead of sending.
				if r, ok := ippkt.AppendICMPv6NoRoute(replyBufs[len(replies)][:Offset], ip, blockIPv6Src); ok {
					replies = append(replies, r)
				}
				continue
			}
			if set.MSS != 0 {
				ippkt.MSSClamp(ip, set.MSS)
			}
			b.seal.jobs = p.prepareSeal(b.bufs[i], Offset, Offset+b.sizes[i], &b.arena, b.seal.jobs)
		}
		if len(b.seal.jobs) == 0 {
			pl.recycle(b)
		} else {
			pl.submit(b)
		}
		c.seq.mu.Unlock()
		p.tunTxBytes.Add(tunBytes)
		if len(replies) > 0 {
			dev.Write(replies, Offset)
		}
	}
}
