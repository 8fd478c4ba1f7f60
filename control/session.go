package control

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/reliable"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Role says which side of the protocol a session plays. The OpenVPN client is
// always the TLS client, whoever starts a renegotiation.
type Role int

const (
	RoleClient Role = iota
	RoleServer
)

func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// Wrapper protects control packets on the wire (package ctlwrap).
type Wrapper = ctlwrap.Wrapper

// wkcWrapper is implemented by a tls-crypt-v2 client wrapper, which appends
// its wrapped client key to P_CONTROL_HARD_RESET_CLIENT_V3 and
// P_CONTROL_WKC_V1 packets.
type wkcWrapper interface {
	WKcLen() int
}

// Defaults from openvpn 2.6.
const (
	DefaultHandWindow    = 60 * time.Second
	DefaultTranWindow    = 3600 * time.Second
	DefaultMaxPacketSize = 1250
	ackDelay             = 5 * time.Millisecond
	ipUDPOverhead        = 48 // IPv6 + UDP, used for TCP too, as openvpn does
)

// Config configures a Session.
type Config struct {
	Role Role
	// TLS is the crypto/tls configuration (certificates and verification).
	// The session clones it and disables dynamic record sizing and session
	// tickets, which OpenVPN's framing requires.
	TLS *tls.Config
	// Wrap protects control packets; nil means no wrapping (ctlwrap.None).
	Wrap Wrapper
	// ResetV3 makes a client start with P_CONTROL_HARD_RESET_CLIENT_V3
	// (tls-crypt-v2).
	ResetV3 bool
	// ResendWKc makes a server put EARLY_NEG_FLAGS RESEND_WKC in its reset
	// (for tls-crypt-v2 clients that signalled early negotiation).
	ResendWKc bool
	// TLSTimeout is the initial control-packet retransmit timeout
	// (--tls-timeout, default 2 s).
	TLSTimeout time.Duration
	// HandWindow bounds each TLS handshake plus key exchange (default 60 s).
	HandWindow time.Duration
	// TranWindow is how long the previous key survives a renegotiation
	// (default 3600 s).
	TranWindow time.Duration
	// RenegSec starts a renegotiation this long after a key became active;
	// 0 disables time-based renegotiation.
	RenegSec time.Duration
	// MaxPacketSize is --max-packet-size (default 1250): control packets,
	// IP and UDP headers included, stay below it.
	MaxPacketSize int
	// Options is the OCC options string sent in key-method 2.
	Options string
	// ClientCredentials, on a client, returns the username, password (or
	// auth-token) and peer-info to send in the key-method message of key_id.
	ClientCredentials func(kid wire.KeyID) (username, password, peerInfo string)
	// Rand is the source of session ids and key material; nil means
	// crypto/rand.
	Rand io.Reader
	// Logger receives protocol events at debug level; nil discards them.
	Logger *slog.Logger
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventKeyExchanged: the key-method messages of KeyID were exchanged;
	// DataKeys can derive its keys. For KeyID 0 on a client the cipher is
	// known only after PUSH_REPLY; for later key_ids the negotiated cipher
	// applies at once. PeerKeyMethod returns what the peer sent.
	EventKeyExchanged EventKind = iota + 1
	// EventMessage: a control message (Message) arrived on KeyID.
	EventMessage
	// EventFailed: the negotiation of KeyID failed (Err). For the first key
	// the session is unusable; for a renegotiation the previous key stays.
	EventFailed
	// EventKeyRetired: the lame-duck key KeyID expired; remove its data keys.
	EventKeyRetired
	// EventRenegotiating: a renegotiation for KeyID started (either side).
	EventRenegotiating
)

// Event is something the owner must act on.
type Event struct {
	Kind    EventKind
	KeyID   wire.KeyID
	Message string
	Err     error
}

func (e Event) String() string {
	switch e.Kind {
	case EventKeyExchanged:
		return fmt.Sprintf("key %d exchanged", e.KeyID)
	case EventMessage:
		return fmt.Sprintf("key %d message %q", e.KeyID, e.Message)
	case EventFailed:
		return fmt.Sprintf("key %d failed: %v", e.KeyID, e.Err)
	case EventKeyRetired:
		return fmt.Sprintf("key %d retired", e.KeyID)
	case EventRenegotiating:
		return fmt.Sprintf("key %d renegotiating", e.KeyID)
	}
	return "unknown event"
}

// Errors returned by HandlePacket for packets that are dropped. They are
// expected under attack or loss and are counted, not logged per packet.
var (
	ErrUnwrap       = errors.New("control: packet failed authentication or replay check")
	ErrBadSession   = errors.New("control: packet for another session")
	ErrUnexpected   = errors.New("control: unexpected packet")
	ErrHandshake    = errors.New("control: TLS key negotiation failed")
	ErrHandWindow   = errors.New("control: TLS key negotiation failed to occur within the hand-window")
	ErrNotConnected = errors.New("control: no active key to send on")
)

// Session is one control session. See the package documentation.
type Session struct {
	cfg    Config
	tlsCfg *tls.Config
	log    *slog.Logger

	local      wire.SessionID
	remote     wire.SessionID
	haveRemote bool

	primary *slot // active key (nil until the first key is exchanged)
	pending *slot // key being negotiated (the first key, or a renegotiation)
	lame    *slot // previous primary

	wake   chan struct{}
	out    [][]byte
	events []Event

	plainBuf []byte
	ackBuf   []uint32
	closed   bool
}

// New creates a session. A client session must be started with Start; a
// server session is created when the client's hard reset arrives and is
// given that packet with HandlePacket.
func New(cfg Config) (*Session, error) {
	if cfg.TLS == nil {
		return nil, errors.New("control: no TLS configuration")
	}
	if cfg.HandWindow <= 0 {
		cfg.HandWindow = DefaultHandWindow
	}
	if cfg.TranWindow <= 0 {
		cfg.TranWindow = DefaultTranWindow
	}
	if cfg.TLSTimeout <= 0 {
		cfg.TLSTimeout = reliable.DefaultInitialTimeout
	}
	if cfg.MaxPacketSize <= 0 {
		cfg.MaxPacketSize = DefaultMaxPacketSize
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Wrap == nil {
		cfg.Wrap = ctlwrap.None{}
	}
	s := &Session{
		cfg:  cfg,
		log:  cfg.Logger,
		wake: make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	tc := cfg.TLS.Clone()
	tc.DynamicRecordSizingDisabled = true
	tc.SessionTicketsDisabled = true
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	s.tlsCfg = tc
	if _, err := io.ReadFull(cfg.Rand, s.local[:]); err != nil {
		return nil, fmt.Errorf("control: session id: %w", err)
	}
	if s.local.IsZero() {
		s.local[0] = 1
	}
	return s, nil
}

// SetLocalSessionID replaces the random session id (a 2.6 UDP server uses
// its HMAC cookie). Call before the first packet is sent.
func (s *Session) SetLocalSessionID(id wire.SessionID) { s.local = id }

// LocalSessionID returns our session id.
func (s *Session) LocalSessionID() wire.SessionID { return s.local }

// RemoteSessionID returns the peer's session id, once known.
func (s *Session) RemoteSessionID() (wire.SessionID, bool) { return s.remote, s.haveRemote }

// Wake fires when a TLS goroutine produced output; the owner then calls Tick.
func (s *Session) Wake() <-chan struct{} { return s.wake }

func (s *Session) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start queues a client's hard reset for key_id 0.
func (s *Session) Start(now time.Time) {
	if s.cfg.Role != RoleClient || s.pending != nil || s.primary != nil {
		return
	}
	op := wire.OpControlHardResetClientV2
	if s.cfg.ResetV3 {
		op = wire.OpControlHardResetClientV3
	}
	sl := s.newSlot(0, now)
	sl.rel.Queue(op, nil)
	s.pending = sl
	s.Tick(now)
}

// AcceptStateless sets up a server session for a client whose third packet
// passed the stateless cookie check: the client's session id is known, our
// reset (mid 0) counts as sent and acknowledged, and the client's reset as
// received. The third packet itself is then given to HandlePacket.
func (s *Session) AcceptStateless(remote wire.SessionID, now time.Time) {
	s.remote, s.haveRemote = remote, true
	sl := s.newSlot(0, now)
	sl.rel.Skip(1, 1)
	sl.resetAcked = true
	sl.peerReset = true
	s.pending = sl
	sl.startTLS(s)
}

// Outgoing returns the wire packets to send, in order, and forgets them.
func (s *Session) Outgoing() [][]byte {
	o := s.out
	s.out = nil
	return o
}

// Events returns the events since the last call, in order.
func (s *Session) Events() []Event {
	e := s.events
	s.events = nil
	return e
}

func (s *Session) emit(e Event) {
	s.log.Debug("control event", "event", e.String())
	s.events = append(s.events, e)
}

// HandlePacket processes one control packet as received from the link
// (wrapped). It returns an error if the packet was dropped.
func (s *Session) HandlePacket(now time.Time, pkt []byte) error {
	if s.closed {
		return ErrUnexpected
	}
	op, kid, ok := wire.PeekOpcode(pkt)
	if !ok || !op.IsControl() {
		return ErrUnexpected
	}
	plain, err := s.cfg.Wrap.Unwrap(s.plainBuf[:0], pkt, now)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnwrap, err)
	}
	s.plainBuf = plain[:0]
	p, err := wire.ParseControl(plain)
	if err != nil {
		return err
	}
	if err := s.checkSession(&p); err != nil {
		return err
	}
	sl := s.slotFor(kid)
	switch {
	case sl == nil && op == wire.OpControlSoftResetV1:
		sl = s.acceptSoftReset(kid, now)
		if sl == nil {
			return fmt.Errorf("%w: soft reset for key %d out of sequence", ErrUnexpected, kid)
		}
	case sl == nil && s.cfg.Role == RoleServer && s.primary == nil && s.pending == nil && kid == 0 &&
		(op == wire.OpControlHardResetClientV2 || op == wire.OpControlHardResetClientV3):
		sl = s.newSlot(0, now)
		s.pending = sl
		s.remote, s.haveRemote = p.SessionID, true
		s.queueServerReset(sl)
	case sl == nil:
		return fmt.Errorf("%w: %v for unknown key %d", ErrUnexpected, op, kid)
	}
	if err := s.checkOpcode(sl, op); err != nil {
		return err
	}
	sl.rel.OnAcks(p.AckList(), now)
	if op.HasMessageID() {
		if sl.rel.OnPacket(op, p.MessageID, p.Payload) && (op.IsHardReset() || op == wire.OpControlSoftResetV1) {
			// The peer (re)started: retransmit everything outstanding now.
			sl.rel.Burst(now)
		}
		if sl.ackDue.IsZero() {
			// Acks wait briefly so the next packet (often TLS output that is
			// being produced right now) can carry them.
			sl.ackDue = now.Add(ackDelay)
		}
	}
	s.drainInbound(sl, now)
	s.Tick(now)
	return nil
}

func (s *Session) checkSession(p *wire.ControlPacket) error {
	if p.SessionID.IsZero() {
		return fmt.Errorf("%w: zero session id", ErrBadSession)
	}
	if p.NumAcks > 0 && p.RemoteSessionID != s.local {
		return fmt.Errorf("%w: ack for session %v", ErrBadSession, p.RemoteSessionID)
	}
	if s.haveRemote && p.SessionID != s.remote {
		return fmt.Errorf("%w: from session %v, expected %v", ErrBadSession, p.SessionID, s.remote)
	}
	if !s.haveRemote {
		// A client learns the server's session id from its reset.
		if s.cfg.Role == RoleClient && p.Opcode == wire.OpControlHardResetServerV2 && p.KeyID == 0 {
			s.remote, s.haveRemote = p.SessionID, true
			return nil
		}
		if s.cfg.Role == RoleServer {
			return nil // the slot logic accepts only a client reset
		}
		return fmt.Errorf("%w: %v before the server's reset", ErrUnexpected, p.Opcode)
	}
	return nil
}

// checkOpcode enforces which opcodes each role accepts.
func (s *Session) checkOpcode(sl *slot, op wire.Opcode) error {
	switch op {
	case wire.OpControlHardResetServerV2:
		if s.cfg.Role != RoleClient || sl.keyID != 0 {
			return fmt.Errorf("%w: server reset", ErrUnexpected)
		}
	case wire.OpControlHardResetClientV2, wire.OpControlHardResetClientV3:
		if s.cfg.Role != RoleServer || sl.keyID != 0 {
			return fmt.Errorf("%w: client reset", ErrUnexpected)
		}
	case wire.OpControlWKCV1:
		if s.cfg.Role != RoleServer {
			return fmt.Errorf("%w: P_CONTROL_WKC_V1 to a client", ErrUnexpected)
		}
	}
	return nil
}

func (s *Session) slotFor(kid wire.KeyID) *slot {
	for _, sl := range []*slot{s.pending, s.primary, s.lame} {
		if sl != nil && sl.keyID == kid {
			return sl
		}
	}
	return nil
}

// acceptSoftReset creates the slot for a renegotiation the peer started.
func (s *Session) acceptSoftReset(kid wire.KeyID, now time.Time) *slot {
	if s.primary == nil || s.pending != nil || kid != wire.NextKeyID(s.primary.keyID) {
		return nil
	}
	sl := s.newSlot(kid, now)
	sl.rel.Queue(wire.OpControlSoftResetV1, nil)
	s.pending = sl
	s.emit(Event{Kind: EventRenegotiating, KeyID: kid})
	return sl
}

// Renegotiate starts a soft reset on the next key_id, unless one is running
// or no key is active yet. It reports whether one was started.
func (s *Session) Renegotiate(now time.Time) bool {
	if !s.renegotiate(now) {
		return false
	}
	s.Tick(now)
	return true
}

func (s *Session) renegotiate(now time.Time) bool {
	if s.closed || s.primary == nil || s.pending != nil {
		return false
	}
	kid := wire.NextKeyID(s.primary.keyID)
	sl := s.newSlot(kid, now)
	sl.rel.Queue(wire.OpControlSoftResetV1, nil)
	s.pending = sl
	s.emit(Event{Kind: EventRenegotiating, KeyID: kid})
	return true
}

func (s *Session) queueServerReset(sl *slot) {
	var payload []byte
	if s.cfg.ResendWKc {
		payload = wire.AppendEarlyNegFlags(nil, wire.EarlyNegFlagResendWKC)
	}
	sl.rel.Queue(wire.OpControlHardResetServerV2, payload)
}

// SendMessage sends a control message (without its NUL) on the primary key,
// or on the key being negotiated if it has exchanged keys and no primary
// exists.
func (s *Session) SendMessage(now time.Time, msg string) error {
	sl := s.primary
	if sl == nil {
		return ErrNotConnected
	}
	if len(msg)+1 > wire.MaxControlMessageLen {
		return fmt.Errorf("control: message of %d bytes exceeds %d", len(msg)+1, wire.MaxControlMessageLen)
	}
	if err := sl.tls.write(wire.AppendControlMessage(nil, msg)); err != nil {
		return fmt.Errorf("control: send %.20q: %w", msg, err)
	}
	s.Tick(now)
	return nil
}

// PrimaryKeyID returns the key_id whose keys encrypt data, if any.
func (s *Session) PrimaryKeyID() (wire.KeyID, bool) {
	if s.primary == nil {
		return 0, false
	}
	return s.primary.keyID, true
}

// PeerKeyMethod returns the key-method message the peer sent on kid.
func (s *Session) PeerKeyMethod(kid wire.KeyID) (*wire.KeyMethodMessage, bool) {
	sl := s.slotFor(kid)
	if sl == nil || !sl.gotKey {
		return nil, false
	}
	return &sl.peerKM, true
}

// PeerCertificates returns the peer's verified certificate chain on kid
// (leaf first), after the handshake.
func (s *Session) PeerCertificates(kid wire.KeyID) []*x509.Certificate {
	sl := s.slotFor(kid)
	if sl == nil || sl.tls == nil {
		return nil
	}
	return sl.tls.connectionState().PeerCertificates
}

// ConnectionState returns the TLS state of kid after its handshake.
func (s *Session) ConnectionState(kid wire.KeyID) (tls.ConnectionState, bool) {
	sl := s.slotFor(kid)
	if sl == nil || sl.tls == nil || !sl.tlsDone {
		return tls.ConnectionState{}, false
	}
	return sl.tls.connectionState(), true
}

// Close stops all TLS goroutines and waits for them to exit.
func (s *Session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, sl := range []*slot{s.pending, s.primary, s.lame} {
		if sl != nil && sl.tls != nil {
			sl.tls.close()
			sl.tls.wait()
		}
	}
}

// NextDeadline returns when Tick must run next even if nothing arrives.
func (s *Session) NextDeadline() time.Time {
	var d time.Time
	upd := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	for _, sl := range []*slot{s.pending, s.primary, s.lame} {
		if sl == nil {
			continue
		}
		if t, ok := sl.rel.NextDeadline(); ok {
			if t.IsZero() {
				t = time.Unix(0, 1) // due now
			}
			upd(t)
		}
		upd(sl.ackDue)
		if sl.state != stateActive && sl.state != stateFailed {
			upd(sl.started.Add(s.cfg.HandWindow))
		}
		upd(sl.renegAt)
		upd(sl.expireAt)
	}
	return d
}

// Tick processes TLS progress and timers and produces packets.
func (s *Session) Tick(now time.Time) {
	if s.closed {
		return
	}
	for _, sl := range []*slot{s.pending, s.primary, s.lame} {
		if sl != nil {
			s.pollTLS(sl, now)
		}
	}
	s.timers(now)
	for _, sl := range []*slot{s.pending, s.primary, s.lame} {
		if sl != nil {
			s.flush(sl, now)
		}
	}
}

func (s *Session) timers(now time.Time) {
	if sl := s.pending; sl != nil && sl.state != stateActive && !now.Before(sl.started.Add(s.cfg.HandWindow)) {
		s.fail(sl, ErrHandWindow)
	}
	if sl := s.primary; sl != nil && !sl.renegAt.IsZero() && !now.Before(sl.renegAt) {
		sl.renegAt = time.Time{}
		s.renegotiate(now)
	}
	if sl := s.lame; sl != nil && !sl.expireAt.IsZero() && !now.Before(sl.expireAt) {
		s.retire(sl)
	}
}

func (s *Session) fail(sl *slot, err error) {
	if sl.state == stateFailed {
		return
	}
	sl.state = stateFailed
	s.emit(Event{Kind: EventFailed, KeyID: sl.keyID, Err: err})
	if sl == s.pending {
		s.pending = nil
		if sl.tls != nil {
			sl.tls.close()
		}
	}
}

func (s *Session) retire(sl *slot) {
	if sl.tls != nil {
		sl.tls.close()
	}
	if s.lame == sl {
		s.lame = nil
	}
	s.emit(Event{Kind: EventKeyRetired, KeyID: sl.keyID})
}

// activate makes the pending slot primary once its keys are exchanged.
func (s *Session) activate(sl *slot, now time.Time) {
	sl.state = stateActive
	if s.pending != sl {
		return
	}
	s.pending = nil
	if old := s.lame; old != nil {
		s.retire(old)
	}
	if s.primary != nil {
		s.lame = s.primary
		s.lame.renegAt = time.Time{}
		s.lame.expireAt = now.Add(s.cfg.TranWindow)
	}
	s.primary = sl
	if s.cfg.RenegSec > 0 {
		sl.renegAt = now.Add(s.cfg.RenegSec)
	}
	s.emit(Event{Kind: EventKeyExchanged, KeyID: sl.keyID})
}
