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

	mu     sync.Mutex
	tun    tun.Device
	wg     sync.WaitGroup
	closed bool
	err    chan error // first fatal link error
}

// NewClient returns a data plane over conn. Call Start to begin reading.
func NewClient(conn transport.Conn, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		conn: conn,
		peer: newPeer(),
		log:  log,
		ctl:  make(chan []byte, controlInbox),
		err:  make(chan error, 1),
	}
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
	c.wg.Add(1)
	go c.readTun(dev)
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
func (c *Client) Wait() { c.wg.Wait() }

func (c *Client) fatal(err error) {
	select {
	case c.err <- err:
	default:
	}
}

// readLink is the inbound loop.
func (c *Client) readLink() {
	defer c.wg.Done()
	n := c.conn.BatchSize()
	full := make([][]byte, n)  // whole buffers
	rbufs := make([][]byte, n) // the same, from Offset: packets are read there
	sizes := make([]int, n)
	for i := range full {
		full[i] = make([]byte, BufSize)
		rbufs[i] = full[i][Offset:]
	}
	out := make([][]byte, 0, n)
	scratch := make([]byte, decompressMax)
	stream := c.conn.Stream()
	p := c.peer
	for {
		got, err := c.conn.ReadBatch(rbufs, sizes)
		if err != nil {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if !closed {
				c.fatal(err)
			}
			return
		}
		now := time.Now()
		out = out[:0]
		var rxBytes, tunBytes uint64
		for i := 0; i < got; i++ {
			b := full[i]
			pkt := b[Offset : Offset+sizes[i]]
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
			payload, kind := p.open(pkt, scratch, now)
			if kind == rxAuthFailed && stream {
				// openvpn 2.6 treats any decrypt or replay failure on TCP as
				// fatal for the connection.
				c.fatal(errors.New("dataplane: data packet failed authentication or replay check on a TCP link"))
				c.conn.Close()
				return
			}
			if kind != rxData {
				continue
			}
			if mss := p.Settings().MSS; mss != 0 {
				ippkt.MSSClamp(payload, mss)
			}
			// Move the payload to the common offset of the batched tun write
			// (it may alias scratch after decompression, or sit after the
			// header inside b).
			if len(payload) > len(b)-Offset {
				continue
			}
			copy(b[Offset:], payload)
			tunBytes += uint64(len(payload))
			out = append(out, b[:Offset+len(payload)])
		}
		p.linkRxBytes.Add(rxBytes)
		p.linkRxPackets.Add(uint64(got))
		if len(out) == 0 {
			continue
		}
		c.mu.Lock()
		t := c.tun
		c.mu.Unlock()
		if t == nil {
			continue
		}
		if _, err := t.Write(out, Offset); err != nil {
			c.log.Debug("tun write", "err", err)
		}
		p.tunRxBytes.Add(tunBytes)
	}
}

// readTun is the outbound loop.
func (c *Client) readTun(dev tun.Device) {
	defer c.wg.Done()
	n := dev.BatchSize()
	bufs := make([][]byte, n)
	sizes := make([]int, n)
	for i := range bufs {
		bufs[i] = make([]byte, BufSize)
	}
	pkts := make([][]byte, 0, n)
	replies := make([][]byte, 0, n)
	replyBufs := make([][]byte, n)
	for i := range replyBufs {
		replyBufs[i] = make([]byte, Offset, Offset+1280)
	}
	for {
		for i := range bufs {
			bufs[i] = bufs[i][:cap(bufs[i])]
		}
		got, err := dev.Read(bufs, sizes, Offset)
		if err != nil {
			if errors.Is(err, wgtun.ErrTooManySegments) {
				continue
			}
			return
		}
		p := c.peer
		set := p.Settings()
		pkts = pkts[:0]
		replies = replies[:0]
		var tunBytes, txBytes uint64
		for i := 0; i < got; i++ {
			tunBytes += uint64(sizes[i])
			ip := bufs[i][Offset : Offset+sizes[i]]
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
			k := len(pkts)
			pkts = p.sealOut(bufs[i], Offset, Offset+sizes[i], pkts)
			for _, pkt := range pkts[k:] {
				txBytes += uint64(len(pkt))
			}
		}
		p.tunTxBytes.Add(tunBytes)
		if len(replies) > 0 {
			dev.Write(replies, Offset)
		}
		if len(pkts) == 0 {
			continue
		}
		if err := c.conn.WriteBatch(pkts); err != nil {
			c.log.Debug("link write", "err", err)
			continue
		}
		p.linkTxBytes.Add(txBytes)
		p.linkTxPackets.Add(uint64(len(pkts)))
		p.lastSend.Store(time.Now().UnixNano())
	}
}
