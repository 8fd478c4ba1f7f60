package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/wire"
)

// The 2.6 stateless three-way handshake (protocol-control-channel.md §5.3):
// a client's reset is answered with a server reset whose session id is an
// HMAC cookie over the client's address, its session id and a time slot;
// state is created only when the client's next packet acknowledges that
// reset with the cookie. Spoofed sources therefore cost no memory.

// cookieJar makes and checks session-id cookies. Safe for concurrent use.
type cookieJar struct {
	key  [32]byte
	slot time.Duration
	pool sync.Pool
}

func newCookieJar(handWindow time.Duration) (*cookieJar, error) {
	if handWindow <= 0 {
		handWindow = control.DefaultHandWindow
	}
	j := &cookieJar{slot: (handWindow + time.Second) / 2}
	if _, err := rand.Read(j.key[:]); err != nil {
		return nil, err
	}
	j.pool.New = func() any { return hmac.New(sha256.New, j.key[:]) }
	return j, nil
}

func (j *cookieJar) at(slot int64, from netip.AddrPort, sid wire.SessionID) wire.SessionID {
	m := j.pool.Get().(interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
		Reset()
	})
	defer j.pool.Put(m)
	m.Reset()
	var b [8 + 16 + 2 + 8]byte
	binary.BigEndian.PutUint64(b[:], uint64(slot))
	a := from.Addr().As16()
	copy(b[8:], a[:])
	binary.BigEndian.PutUint16(b[24:], from.Port())
	copy(b[26:], sid[:])
	m.Write(b[:])
	var sum [sha256.Size]byte
	var out wire.SessionID
	copy(out[:], m.Sum(sum[:0]))
	if out.IsZero() {
		out[0] = 1
	}
	return out
}

func (j *cookieJar) make(now time.Time, from netip.AddrPort, sid wire.SessionID) wire.SessionID {
	return j.at(now.UnixNano()/int64(j.slot), from, sid)
}

// valid reports whether cookie was made for (from, sid) in the current time
// slot or one of the two before it (2.6.16+: never a future slot).
func (j *cookieJar) valid(now time.Time, from netip.AddrPort, sid, cookie wire.SessionID) bool {
	slot := now.UnixNano() / int64(j.slot)
	ok := 0
	for d := int64(0); d < 3; d++ {
		c := j.at(slot-d, from, sid)
		if hmac.Equal(c[:], cookie[:]) {
			ok = 1
		}
	}
	return ok == 1
}

// rate is a simple "n per interval" limiter. Safe for concurrent use.
type rate struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	start time.Time
	used  int
}

func newRate(r config.Rate) *rate { return &rate{n: r.N, per: r.Per} }

func (r *rate) allow(now time.Time) bool {
	if r == nil || r.n <= 0 || r.per <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.start) >= r.per {
		r.start, r.used = now, 0
	}
	if r.used >= r.n {
		return false
	}
	r.used++
	return true
}

// wrapFactory builds per-session wrappers and verifies packets statelessly.
type wrapFactory struct {
	mode        config.WrapMode
	stateless   ctlwrap.Stateless // none, tls-auth, tls-crypt
	newSession  func() (control.Wrapper, error)
	v2          *ctlwrap.V2ServerKey
	opts        ctlwrap.Options
	forceCookie bool
}

func newWrapFactory(ce *config.Connection, o *config.Options) (wrapFactory, error) {
	f := wrapFactory{mode: ce.Wrap.Mode, opts: ctlwrap.Options{ReplayWindow: o.Data.ReplayWindow, ReplayBacktrack: o.Data.ReplayTime}, forceCookie: ce.Wrap.ForceCookie}
	if ce.Wrap.Mode == config.WrapTLSCryptV2 {
		k, err := keys.ParseTLSCryptV2ServerKey(ce.Wrap.Key.Data)
		if err != nil {
			return f, fmt.Errorf("server: tls-crypt-v2 server key %s: %w", ce.Wrap.Key.Source(), err)
		}
		if f.v2, err = ctlwrap.NewV2ServerKey(&k); err != nil {
			return f, err
		}
		f.newSession = func() (control.Wrapper, error) { return ctlwrap.NewTLSCryptV2Server(f.v2, f.opts), nil }
		return f, nil
	}
	mk, err := ctlwrap.FromConfig(&ce.Wrap, o.Data.Auth, true, f.opts)
	if err != nil {
		return f, fmt.Errorf("server: %w", err)
	}
	if f.stateless, err = mk(); err != nil {
		return f, fmt.Errorf("server: %w", err)
	}
	f.newSession = func() (control.Wrapper, error) { return mk() }
	return f, nil
}

// unwrapStateless verifies and unwraps a packet of an unknown client.
func (f *wrapFactory) unwrapStateless(dst, pkt []byte, info *ctlwrap.ClientKeyInfo) ([]byte, error) {
	if f.v2 != nil {
		return f.v2.UnwrapStateless(dst, pkt, info)
	}
	return f.stateless.UnwrapStateless(dst, pkt)
}

func (f *wrapFactory) wrapStateless(dst, plain []byte, info *ctlwrap.ClientKeyInfo, pid wire.WrapPID) ([]byte, error) {
	if f.v2 != nil {
		return f.v2.WrapStateless(dst, plain, info, pid)
	}
	return f.stateless.WrapStateless(dst, plain, pid)
}

// session returns a wrapper for a new client session; for tls-crypt-v2 the
// client key learned statelessly is installed.
func (f *wrapFactory) session(info *ctlwrap.ClientKeyInfo) (control.Wrapper, error) {
	w, err := f.newSession()
	if err != nil {
		return nil, err
	}
	if v, ok := w.(*ctlwrap.TLSCryptV2Server); ok && info != nil {
		if err := v.SetClientKey(info); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// newControl handles a control packet from an address without a client
// instance. It runs on the UDP reader goroutine: no blocking, no state for
// packets that do not carry a valid cookie.
func (s *Server) newControl(pc transport.PacketConn, from netip.AddrPort, pkt []byte) {
	op, kid, ok := wire.PeekOpcode(pkt)
	if !ok || kid != 0 || len(pkt) < wire.HeaderLen+1 {
		return
	}
	switch op {
	case wire.OpControlHardResetClientV2, wire.OpControlHardResetClientV3,
		wire.OpControlV1, wire.OpControlWKCV1, wire.OpAckV1:
	default:
		return
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	info := &sc.info
	info.Zero()
	plain, err := s.wrap.unwrapStateless(sc.plain[:0], pkt, info)
	if err != nil {
		return
	}
	p, err := wire.ParseControl(plain)
	if err != nil || p.SessionID.IsZero() {
		return
	}
	now := time.Now()
	switch op {
	case wire.OpControlHardResetClientV2, wire.OpControlHardResetClientV3:
		if p.MessageID != 0 || p.NumAcks != 0 || len(p.Payload) != 0 {
			return
		}
		earlyNeg := op == wire.OpControlHardResetClientV3 && ctlwrap.HasEarlyNegMarker(pkt)
		if op == wire.OpControlHardResetClientV3 && !earlyNeg {
			// A pre-2.6 tls-crypt-v2 client cannot resend its WKc: handle it
			// statefully, as 2.6 does, unless force-cookie.
			if s.wrap.forceCookie {
				return
			}
			s.admit(pc, from, wire.SessionID{}, p.SessionID, info, pkt, false)
			return
		}
		if !s.initialRate.allow(now) {
			return
		}
		reply := wire.ControlPacket{
			Opcode: wire.OpControlHardResetServerV2, SessionID: s.cookie.make(now, from, p.SessionID),
			NumAcks: 1, RemoteSessionID: p.SessionID,
		}
		if earlyNeg {
			reply.Payload = wire.AppendEarlyNegFlags(sc.tlv[:0], wire.EarlyNegFlagResendWKC)
		}
		out, err := s.wrap.wrapStateless(sc.out[:0], reply.Append(sc.reply[:0]), info, wire.WrapPID{ID: 1, Time: uint32(now.Unix())})
		if err != nil {
			return
		}
		sc.msg[0] = transport.Message{Buf: out, Addr: from}
		pc.WriteBatch(sc.msg[:])
	default:
		// The third packet: it must acknowledge our reset with the cookie.
		if p.NumAcks == 0 {
			return
		}
		for _, a := range p.AckList() {
			if a > 1 {
				return
			}
		}
		if op != wire.OpAckV1 && p.MessageID > 1 {
			return
		}
		if !s.cookie.valid(now, from, p.SessionID, p.RemoteSessionID) {
			return
		}
		s.admit(pc, from, p.RemoteSessionID, p.SessionID, info, pkt, true)
	}
}

// scratch is the working memory of one stateless packet, pooled so that a
// flood of spoofed packets allocates nothing.
type scratch struct {
	info  ctlwrap.ClientKeyInfo
	plain [2048]byte
	reply [128]byte
	tlv   [8]byte
	out   [512]byte
	msg   [1]transport.Message
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// admit creates the instance of a new UDP client and hands it pkt.
func (s *Server) admit(pc transport.PacketConn, from netip.AddrPort, cookie, clientSID wire.SessionID, info *ctlwrap.ClientKeyInfo, pkt []byte, stateless bool) {
	if !s.connectRate.allow(time.Now()) {
		return
	}
	if s.dp.PeerByAddr(from) != nil {
		return
	}
	p, err := s.dp.AddUDPPeer(pc, from)
	if err != nil {
		s.log.Warn(fmt.Sprintf("MULTI: new connection from %s refused: %v", from, err))
		return
	}
	in, err := s.newInstance(p, from, false)
	if err != nil {
		s.log.Warn(fmt.Sprintf("%s: %v", from, err))
		s.dp.RemovePeer(p)
		return
	}
	if info.Metadata() != nil || s.wrap.v2 != nil {
		in.keyInfo = *info
	}
	if err := in.initSession(info, cookie, clientSID, stateless); err != nil {
		s.log.Warn(fmt.Sprintf("%s: %v", from, err))
		s.dp.RemovePeer(p)
		return
	}
	// The packet goes through the instance's own (fresh) wrapper.
	select {
	case p.Inject() <- append([]byte(nil), pkt...):
	default:
	}
	s.start(in)
}
