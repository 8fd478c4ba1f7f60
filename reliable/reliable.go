// Package reliable is OpenVPN's control-channel reliability layer, sans I/O.
//
// One Layer serves one key slot (one key_id) of one control session, in both
// directions. It numbers outgoing packets with message ids, keeps at most
// SendWindow of them unacknowledged and retransmits each with exponential
// backoff until it is acknowledged; on the receive side it acknowledges every
// packet it sees (duplicates included), buffers up to RecvWindow packets ahead
// of the next expected id and releases payloads strictly in order.
//
// Behaviour follows openvpn 2.6 (reliable.c, ssl.c tls_process): send window 6,
// receive window 12, acks carried on every packet (at most 4 on packets that
// carry data, 8 on a P_ACK_V1), a most-recently-used list of the last 8 acked
// ids used to re-acknowledge, fast retransmit after 3 acks of later packets,
// and an initial retransmit timeout of --tls-timeout (2 s) doubling per try.
//
// A Layer has no timers and no goroutines: every method takes now, and
// NextDeadline says when Transmit must run again. It is not safe for
// concurrent use: it belongs to the session's owner goroutine.
package reliable

import (
	"slices"
	"time"

	"github.com/openvpn-go/openvpn-go/wire"
)

// Defaults from openvpn 2.6.
const (
	DefaultSendWindow     = 6  // TLS_RELIABLE_N_SEND_BUFFERS
	DefaultRecvWindow     = 12 // TLS_RELIABLE_N_REC_BUFFERS
	DefaultInitialTimeout = 2 * time.Second
	fastRetransmitAcks    = 3 // N_ACK_RETRANSMIT
	maxBackoff            = 64 * time.Second
)

// Config tunes a Layer. Zero fields take the defaults above.
type Config struct {
	SendWindow     int
	RecvWindow     int
	InitialTimeout time.Duration // --tls-timeout
}

type sendEntry struct {
	mid      uint32
	op       wire.Opcode
	payload  []byte
	nextSend time.Time // zero: send at the next Transmit
	timeout  time.Duration
	lateAcks int
	sent     int // number of transmissions
}

type recvEntry struct {
	valid   bool
	op      wire.Opcode
	payload []byte
}

// Layer is the reliability state of one key slot.
type Layer struct {
	cfg Config

	nextMID uint32
	unacked []sendEntry // ordered by mid

	nextExpected uint32
	recv         []recvEntry // recv[i] holds mid nextExpected+i
	pending      []uint32    // ids to acknowledge, oldest first, at most wire.MaxAcks
	mru          []uint32    // recently acknowledged ids, newest first, at most wire.MaxAcks
}

// New returns a Layer whose first outgoing and first expected message id are 0.
func New(cfg Config) *Layer {
	if cfg.SendWindow <= 0 {
		cfg.SendWindow = DefaultSendWindow
	}
	if cfg.RecvWindow <= 0 {
		cfg.RecvWindow = DefaultRecvWindow
	}
	if cfg.InitialTimeout <= 0 {
		cfg.InitialTimeout = DefaultInitialTimeout
	}
	return &Layer{
		cfg:     cfg,
		recv:    make([]recvEntry, cfg.RecvWindow),
		pending: make([]uint32, 0, wire.MaxAcks),
		mru:     make([]uint32, 0, wire.MaxAcks),
	}
}

// Skip marks message ids below n as already sent and acknowledged, and ids
// below m as already received. A 2.6 UDP server uses it for a session created
// from the third packet of the stateless handshake: its reset (mid 0) was sent
// without state, and the client's reset (mid 0) was acknowledged then.
func (l *Layer) Skip(sentBelow, receivedBelow uint32) {
	l.nextMID = sentBelow
	l.nextExpected = receivedBelow
}

// SendSpace returns how many new packets Queue accepts now.
func (l *Layer) SendSpace() int {
	// openvpn does not create packet k while the lowest unacked id is <= k-6.
	if len(l.unacked) == 0 {
		return l.cfg.SendWindow
	}
	lowest := l.unacked[0].mid
	n := int(int64(lowest) + int64(l.cfg.SendWindow) - int64(l.nextMID))
	return max(n, 0)
}

// Queue appends a new packet and returns its message id. payload is copied.
// The caller checks SendSpace first; Queue beyond the window still works but
// the peer may drop the packet.
func (l *Layer) Queue(op wire.Opcode, payload []byte) uint32 {
	mid := l.nextMID
	l.nextMID++
	l.unacked = append(l.unacked, sendEntry{
		mid:     mid,
		op:      op,
		payload: slices.Clone(payload),
		timeout: l.cfg.InitialTimeout,
	})
	return mid
}

// NextMID returns the message id the next Queue will use.
func (l *Layer) NextMID() uint32 { return l.nextMID }

// AllAcked reports whether every queued packet has been acknowledged.
func (l *Layer) AllAcked() bool { return len(l.unacked) == 0 }

// IsAcked reports whether message id mid has been sent and acknowledged.
func (l *Layer) IsAcked(mid uint32) bool {
	if mid >= l.nextMID {
		return false
	}
	for _, e := range l.unacked {
		if e.mid == mid {
			return false
		}
	}
	return true
}

// OnAcks processes the ids acknowledged by the peer. Unknown and repeated ids
// are ignored. An unacknowledged packet older than an acknowledged one is
// retransmitted at once after the third such ack.
func (l *Layer) OnAcks(ids []uint32, now time.Time) {
	for _, id := range ids {
		i := slices.IndexFunc(l.unacked, func(e sendEntry) bool { return e.mid == id })
		if i < 0 {
			continue
		}
		l.unacked = slices.Delete(l.unacked, i, i+1)
		for j := range l.unacked {
			e := &l.unacked[j]
			if e.mid < id && e.sent > 0 {
				e.lateAcks++
				if e.lateAcks >= fastRetransmitAcks {
					e.lateAcks = 0
					e.nextSend = now
				}
			}
		}
	}
}

// OnPacket records an incoming packet that carries a message id. It returns
// whether the packet was new and is buffered for Pop. Packets inside or below
// the receive window are acknowledged, duplicates included; a packet beyond
// the window is neither stored nor acknowledged, so the peer sends it again.
// payload is copied.
func (l *Layer) OnPacket(op wire.Opcode, mid uint32, payload []byte) (stored bool) {
	if mid < l.nextExpected {
		l.ack(mid)
		return false
	}
	d := mid - l.nextExpected
	if d >= uint32(len(l.recv)) {
		return false
	}
	l.ack(mid)
	e := &l.recv[d]
	if e.valid {
		return false
	}
	*e = recvEntry{valid: true, op: op, payload: slices.Clone(payload)}
	return true
}

func (l *Layer) ack(mid uint32) {
	if slices.Contains(l.pending, mid) {
		return
	}
	if len(l.pending) >= wire.MaxAcks {
		return // the peer retransmits
	}
	l.pending = append(l.pending, mid)
}

// Pop returns the next in-order payload. ok is false when the next expected
// packet has not arrived. The returned payload is owned by the caller.
func (l *Layer) Pop() (op wire.Opcode, payload []byte, ok bool) {
	e := l.recv[0]
	if !e.valid {
		return 0, nil, false
	}
	copy(l.recv, l.recv[1:])
	l.recv[len(l.recv)-1] = recvEntry{}
	l.nextExpected++
	return e.op, e.payload, true
}

// NextExpected returns the message id Pop will return next.
func (l *Layer) NextExpected() uint32 { return l.nextExpected }

// HasPendingAcks reports whether received packets are waiting to be acked.
func (l *Layer) HasPendingAcks() bool { return len(l.pending) > 0 }

// AckBlock appends up to max ids to dst for an outgoing packet's ack block:
// first the pending ones (which then count as sent), then recently acked ids
// from the MRU list so that lost acks are repeated, as openvpn 2.6 does.
func (l *Layer) AckBlock(dst []uint32, max int) []uint32 {
	max = min(max, wire.MaxAcks)
	n := min(len(l.pending), max)
	sent := l.pending[:n]
	dst = append(dst, sent...)
	for _, id := range l.mru {
		if len(dst) >= max {
			break
		}
		if !slices.Contains(dst, id) {
			dst = append(dst, id)
		}
	}
	// Move the sent ids to the front of the MRU list.
	for i := len(sent) - 1; i >= 0; i-- {
		id := sent[i]
		if j := slices.Index(l.mru, id); j >= 0 {
			l.mru = slices.Delete(l.mru, j, j+1)
		}
		if len(l.mru) == wire.MaxAcks {
			l.mru = l.mru[:len(l.mru)-1]
		}
		l.mru = slices.Insert(l.mru, 0, id)
	}
	l.pending = append(l.pending[:0], l.pending[n:]...)
	return dst
}

// Transmit calls send for every packet that is due at now (new packets and
// expired retransmission timers) in message-id order and reschedules it with
// a doubled timeout.
func (l *Layer) Transmit(now time.Time, send func(op wire.Opcode, mid uint32, payload []byte)) {
	for i := range l.unacked {
		e := &l.unacked[i]
		if e.sent > 0 && now.Before(e.nextSend) {
			continue
		}
		send(e.op, e.mid, e.payload)
		e.sent++
		e.nextSend = now.Add(e.timeout)
		e.timeout = min(2*e.timeout, maxBackoff)
	}
}

// Burst makes every unacknowledged packet due now with a fresh timeout, as
// openvpn does when the peer starts a new session or renegotiation.
func (l *Layer) Burst(now time.Time) {
	for i := range l.unacked {
		l.unacked[i].nextSend = now
		l.unacked[i].timeout = l.cfg.InitialTimeout
	}
}

// NextDeadline returns when Transmit has work to do: the zero time if a packet
// is due now (never sent, or fast retransmit), the earliest retransmission
// otherwise, and ok=false if nothing is outstanding.
func (l *Layer) NextDeadline() (t time.Time, ok bool) {
	for _, e := range l.unacked {
		if e.sent == 0 {
			return time.Time{}, true
		}
		if !ok || e.nextSend.Before(t) {
			t, ok = e.nextSend, true
		}
	}
	return t, ok
}
