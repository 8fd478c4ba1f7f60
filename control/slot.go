package control

import (
	"fmt"
	"io"
	"time"

	"github.com/openvpn-go/openvpn-go/reliable"
	"github.com/openvpn-go/openvpn-go/wire"
)

type slotState int

const (
	stateInitial slotState = iota // our reset queued, not yet acknowledged
	stateStart                    // our reset acknowledged: TLS runs
	stateActive                   // key-method messages exchanged
	stateFailed
)

// slot is one key_id's negotiation: reliability layer, TLS session and the
// key-method exchange.
type slot struct {
	keyID   wire.KeyID
	state   slotState
	started time.Time
	rel     *reliable.Layer

	resetAcked bool // our reset (mid 0) was acknowledged
	peerReset  bool // the peer's reset (mid 0) was received
	resendWKc  bool // the server asked for the WKc on mid 1 (tls-crypt-v2)

	tls     *tlsEngine
	tlsDone bool
	sendBuf []byte // TLS ciphertext not yet in a packet

	localKM wire.KeyMethodMessage
	sentKey bool
	peerKM  wire.KeyMethodMessage
	gotKey  bool

	ackDue   time.Time // when pending acks must go out on their own
	renegAt  time.Time // primary: time-based renegotiation
	expireAt time.Time // lame duck: end of the transition window
}

func (s *Session) newSlot(kid wire.KeyID, now time.Time) *slot {
	return &slot{
		keyID:   kid,
		started: now,
		rel:     reliable.New(reliable.Config{InitialTimeout: s.cfg.TLSTimeout}),
	}
}

func (sl *slot) startTLS(s *Session) {
	if sl.tls != nil {
		return
	}
	sl.state = stateStart
	sl.tls = startTLS(s.tlsCfg, s.cfg.Role == RoleServer, s.notify)
}

// drainInbound hands in-order payloads to TLS and notes resets.
func (s *Session) drainInbound(sl *slot, now time.Time) {
	if !sl.resetAcked && sl.rel.IsAcked(0) {
		sl.resetAcked = true
	}
	for {
		op, payload, ok := sl.rel.Pop()
		if !ok {
			break
		}
		switch op {
		case wire.OpControlHardResetServerV2:
			sl.peerReset = true
			if len(payload) > 0 {
				flags, err := wire.EarlyNegFlags(payload)
				if err != nil {
					s.fail(sl, fmt.Errorf("%w: server reset: %v", ErrHandshake, err))
					return
				}
				sl.resendWKc = flags&wire.EarlyNegFlagResendWKC != 0
			}
		case wire.OpControlHardResetClientV2, wire.OpControlHardResetClientV3, wire.OpControlSoftResetV1:
			sl.peerReset = true
		case wire.OpControlV1, wire.OpControlWKCV1:
			if sl.tls == nil {
				// Data before our reset was acknowledged: start TLS now; a
				// server's TLS only reads.
				sl.startTLS(s)
			}
			sl.tls.pipe.feed(payload)
		}
	}
	if sl.resetAcked && sl.peerReset && sl.tls == nil && sl.state != stateFailed {
		sl.startTLS(s)
	}
}

// pollTLS collects handshake completion, records and errors from the TLS
// goroutine and runs the key-method exchange.
func (s *Session) pollTLS(sl *slot, now time.Time) {
	if sl.tls == nil || sl.state == stateFailed {
		return
	}
	done, records, err := sl.tls.poll()
	if done {
		sl.tlsDone = true
		if s.cfg.Role == RoleClient {
			if err := s.writeKeyMethod(sl); err != nil {
				s.fail(sl, err)
				return
			}
		}
	}
	for _, r := range records {
		if !sl.gotKey {
			km, err := wire.ParseKeyMethod(r, s.cfg.Role == RoleServer)
			if err != nil {
				s.fail(sl, fmt.Errorf("%w: peer key-method message: %v", ErrHandshake, err))
				return
			}
			sl.peerKM, sl.gotKey = km, true
			if s.cfg.Role == RoleServer {
				if err := s.writeKeyMethod(sl); err != nil {
					s.fail(sl, err)
					return
				}
			}
			if sl.sentKey {
				s.activate(sl, now)
			}
			continue
		}
		wire.SplitControlMessages(r, func(m []byte) {
			s.emit(Event{Kind: EventMessage, KeyID: sl.keyID, Message: string(m)})
		})
	}
	if err != nil && err != io.EOF {
		if sl.state == stateActive {
			// An established TLS session closing is not a negotiation error.
			s.log.Debug("TLS session ended", "key", sl.keyID, "err", err)
			return
		}
		s.fail(sl, fmt.Errorf("%w: %v", ErrHandshake, err))
	}
}

func (s *Session) writeKeyMethod(sl *slot) error {
	km := &sl.localKM
	km.Options = s.cfg.Options
	if s.cfg.Role == RoleClient {
		km.HasPreMast = true
		if _, err := io.ReadFull(s.cfg.Rand, km.PreMaster[:]); err != nil {
			return err
		}
		if s.cfg.ClientCredentials != nil {
			km.Username, km.Password, km.PeerInfo = s.cfg.ClientCredentials(sl.keyID)
		}
	}
	if _, err := io.ReadFull(s.cfg.Rand, km.Random1[:]); err != nil {
		return err
	}
	if _, err := io.ReadFull(s.cfg.Rand, km.Random2[:]); err != nil {
		return err
	}
	msg := wire.AppendKeyMethod(nil, km)
	if len(msg) > wire.MaxKeyMethodLen {
		return fmt.Errorf("control: key-method message of %d bytes exceeds %d: shorten the peer-info or credentials", len(msg), wire.MaxKeyMethodLen)
	}
	if err := sl.tls.write(msg); err != nil {
		return fmt.Errorf("%w: write key-method message: %v", ErrHandshake, err)
	}
	sl.sentKey = true
	return nil
}

// maxPayload returns the TLS bytes that fit in one control packet.
func (s *Session) maxPayload(withWKc bool) int {
	overhead := wire.HeaderLen + wire.AckBlockLen(wire.MaxPiggybackAcks) + 4 + s.cfg.Wrap.Overhead() + 16 + ipUDPOverhead
	if withWKc {
		if w, ok := s.cfg.Wrap.(wkcWrapper); ok {
			overhead += w.WKcLen()
		}
	}
	return max(min(s.cfg.MaxPacketSize, wire.MaxKeyMethodLen)-overhead, 16)
}

// flush moves TLS output into packets, transmits what is due and sends
// standalone acknowledgements.
func (s *Session) flush(sl *slot, now time.Time) {
	if sl.tls != nil {
		sl.sendBuf = append(sl.sendBuf, sl.tls.pipe.drain()...)
	}
	for len(sl.sendBuf) > 0 && sl.rel.SendSpace() > 0 && sl.resetAcked {
		op := wire.OpControlV1
		wkc := sl.resendWKc && sl.rel.NextMID() == 1
		if wkc {
			op = wire.OpControlWKCV1
		}
		n := min(len(sl.sendBuf), s.maxPayload(wkc))
		sl.rel.Queue(op, sl.sendBuf[:n])
		sl.sendBuf = sl.sendBuf[n:]
	}
	if len(sl.sendBuf) == 0 {
		sl.sendBuf = nil
	}
	// tls-crypt-v2 early negotiation: the WKc must reach the server in mid 1,
	// so acks that would go out alone ride on an empty P_CONTROL_WKC_V1.
	if sl.resendWKc && sl.rel.NextMID() == 1 && sl.rel.HasPendingAcks() && !sl.ackDue.After(now) {
		sl.rel.Queue(wire.OpControlWKCV1, nil)
	}
	sl.rel.Transmit(now, func(op wire.Opcode, mid uint32, payload []byte) {
		s.send(sl, op, mid, payload, wire.MaxPiggybackAcks)
	})
	if sl.rel.HasPendingAcks() && !sl.ackDue.After(now) {
		s.send(sl, wire.OpAckV1, 0, nil, wire.MaxAcks)
	}
	if !sl.rel.HasPendingAcks() {
		sl.ackDue = time.Time{}
	}
}

func (s *Session) send(sl *slot, op wire.Opcode, mid uint32, payload []byte, maxAcks int) {
	p := wire.ControlPacket{
		Opcode:          op,
		KeyID:           sl.keyID,
		SessionID:       s.local,
		RemoteSessionID: s.remote,
		MessageID:       mid,
		Payload:         payload,
	}
	if s.haveRemote {
		s.ackBuf = sl.rel.AckBlock(s.ackBuf[:0], maxAcks)
		p.NumAcks = copy(p.Acks[:], s.ackBuf)
	}
	plain := p.Append(make([]byte, 0, p.Len()))
	room := len(plain) + s.cfg.Wrap.Overhead()
	if w, ok := s.cfg.Wrap.(wkcWrapper); ok {
		room += w.WKcLen()
	}
	pkt, err := s.cfg.Wrap.Wrap(make([]byte, 0, room), plain)
	if err != nil {
		s.log.Debug("control: wrap failed", "err", err)
		return
	}
	s.out = append(s.out, pkt)
}
