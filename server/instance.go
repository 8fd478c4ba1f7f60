package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openvpn-go/openvpn-go/authtoken"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/dataplane"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/wire"
	"github.com/openvpn-go/openvpn-go/x509name"
)

// instance is one client: its control session and everything negotiated.
// Its fields belong to the instance's goroutine (run), except floatTo and
// the info snapshot.
type instance struct {
	s    *Server
	peer *dataplane.ServerPeer
	sess *control.Session
	wrap control.Wrapper
	tcp  bool
	addr netip.AddrPort

	floatTo atomic.Pointer[netip.AddrPort]
	stopReq chan int
	snap    atomic.Pointer[ClientInfo]
	keyInfo ctlwrap.ClientKeyInfo

	started    time.Time
	cn         string
	username   string
	peerInfo   map[string]string
	ivProto    int
	authErr    string // why authentication failed (log text); "" until then
	failReason string // the reason sent with AUTH_FAILED ("" for none)
	env        *hook.Env
	pending    *pendingAuth          // a deferred auth-user-pass-verify
	connPend   *hook.DeferredConnect // a deferred client-connect
	connUntil  time.Time
	v2checked  bool // tls-crypt-v2-verify ran
	authed     bool
	ready      bool // keys installed, addresses assigned: PUSH_REPLY can go
	pushReq    bool
	pushSent   time.Time
	exitAt     time.Time
	token      string // the current token issued to this client
	heldToken  string // the connection's first verified token

	cipher string
	suite  datacrypto.Suite
	derive control.KeyDerivation

	ccd    *config.CCD
	vaddr4 netip.Addr
	vmask4 netip.Addr // netmask (subnet) or peer (net30/p2p) pushed with vaddr4
	addrs  addrs      // what the address pool gave
	vaddr6 netip.Addr
	routes []netip.Prefix

	ping, pingRestart time.Duration
	inactive          dataplane.Inactivity // "inactive"
	connectedAt       time.Time
}

func (s *Server) newInstance(p *dataplane.ServerPeer, addr netip.AddrPort, tcp bool) (*instance, error) {
	in := &instance{s: s, peer: p, addr: addr, tcp: tcp, stopReq: make(chan int, 1), started: time.Now()}
	if tcp {
		if err := in.initSession(nil, wire.SessionID{}, wire.SessionID{}, false); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// initSession creates the control session. For a client admitted by the
// stateless handshake, cookie is our session id and the client's reset
// counts as acknowledged.
func (in *instance) initSession(info *ctlwrap.ClientKeyInfo, cookie, clientSID wire.SessionID, stateless bool) error {
	s := in.s
	o := s.o
	var err error
	if in.wrap, err = s.wrap.session(info); err != nil {
		return err
	}
	reneg := o.TLS.Reneg.Seconds
	if reneg > 0 {
		// A 2.6 server renegotiates at a random point in the last 10 %
		// (or between reneg-sec's min and max).
		lo := reneg - reneg/10
		if o.TLS.Reneg.MinSeconds > 0 {
			lo = o.TLS.Reneg.MinSeconds
		}
		if reneg > lo {
			reneg = lo + time.Duration(rand.Int64N(int64(reneg-lo)))
		}
	}
	in.sess, err = control.New(control.Config{
		Role:          control.RoleServer,
		TLS:           in.tlsConfig(),
		Wrap:          in.wrap,
		ResendWKc:     s.wrap.v2 != nil,
		TLSTimeout:    o.TLS.Timeout,
		HandWindow:    o.TLS.HandWindow,
		TranWindow:    o.TLS.TranWindow,
		RenegSec:      reneg,
		MaxPacketSize: o.Connections[0].MaxPacketSize,
		Options:       serverOCC(o, in.tcp),
		Logger:        s.log,
	})
	if err != nil {
		return err
	}
	if stateless {
		in.sess.SetLocalSessionID(cookie)
		in.wrap.SetSendID(1) // the stateless reset carried pid 1
		in.sess.AcceptStateless(clientSID, time.Now())
	}
	return nil
}

// tlsConfig is the server's TLS configuration, with tls-verify run on the
// client's chain when configured.
func (in *instance) tlsConfig() *tls.Config {
	s := in.s
	sc := s.o.Scripts.TLSVerify
	if sc == nil {
		return s.tlsr.Config
	}
	addr := in.addr // the TLS goroutine must not read the instance
	return s.tlsr.WithChainCheck(func(chain []*x509.Certificate) error {
		env := s.newEnv()
		env.SetUntrusted(addr)
		return s.hooks.TLSVerifyChain(s.ctx, sc, env, chain, s.o.TLS.ExportCertDir)
	})
}

// stop asks the instance to end; notify > 0 first tells the client to
// reconnect (explicit-exit-notify: RESTART, or RESTART,[N] for 2).
func (in *instance) stop(notify int) {
	select {
	case in.stopReq <- notify:
	default:
	}
}

func (in *instance) logf(format string, args ...any) {
	who := in.addr.String()
	if in.cn != "" {
		who = in.cn + "/" + who
	}
	in.s.log.Info(who + " " + fmt.Sprintf(format, args...))
}

// run is the instance's owner loop.
func (in *instance) run(ctx context.Context) {
	s := in.s
	defer in.cleanup()
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	o := s.o
	in.ping = o.Timers.Ping
	in.pingRestart = o.Timers.PingRestart
	now := time.Now()
	in.peer.MarkReceived(now)
	for {
		select {
		case <-ctx.Done():
			in.notifyExit(s.o.Connections[0].ExplicitExitNotify)
			return
		case n := <-in.stopReq:
			in.notifyExit(n)
			return
		case pkt, ok := <-in.peer.Control():
			if !ok {
				in.logf("Connection reset, client-instance exiting")
				return
			}
			now = time.Now()
			if err := in.sess.HandlePacket(now, pkt); err != nil {
				if errors.Is(err, control.ErrBadSession) && isReset(pkt) && !in.tcp {
					// The client restarted with a new session: start over.
					in.logf("client restarted its session; new handshake")
					in.cleanup()
					s.newControl(in.peer.PacketConn(), in.peer.Addr(), pkt)
					return
				}
			} else {
				in.peer.MarkReceived(now)
			}
			if !in.verifyV2() {
				return
			}
		case <-in.sess.Wake():
			now = time.Now()
			in.sess.Tick(now)
		case <-timer.C:
			now = time.Now()
			in.sess.Tick(now)
		}
		if a := in.floatTo.Swap(nil); a != nil {
			in.logf("peer floated to %s", *a)
			in.addr = *a
			in.publish()
		}
		if done := in.process(now); done {
			in.flush()
			return
		}
		in.flush()
		next := now.Add(time.Second)
		if d := in.sess.NextDeadline(); !d.IsZero() && d.Before(next) {
			next = d
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// verifyV2 runs tls-crypt-v2-verify once on the metadata of the client's
// tls-crypt-v2 key, as soon as the wrapper has unwrapped it; false ends the
// instance.
func (in *instance) verifyV2() bool {
	if in.v2checked {
		return true
	}
	sc := in.s.o.Scripts.TLSCryptV2Verify
	v, ok := in.wrap.(*ctlwrap.TLSCryptV2Server)
	if sc == nil || !ok {
		in.v2checked = true
		return true
	}
	info, ok := v.ClientKey()
	if !ok {
		return true
	}
	in.v2checked = true
	ctx, cancel := context.WithTimeout(in.s.ctx, in.handWindow())
	defer cancel()
	if err := in.s.hooks.TLSCryptV2Verify(ctx, sc, info.Metadata()); err != nil {
		in.logf("TLS Error: tls-crypt-v2-verify refused the client key: %v", err)
		return false
	}
	return true
}

func isReset(pkt []byte) bool {
	op, _, _ := wire.PeekOpcode(pkt)
	return op == wire.OpControlHardResetClientV2 || op == wire.OpControlHardResetClientV3
}

func (in *instance) flush() {
	if pkts := in.sess.Outgoing(); len(pkts) > 0 {
		in.peer.SendControl(pkts)
	}
}

// process handles session events and timers; it reports whether the
// instance must end.
func (in *instance) process(now time.Time) bool {
	for _, ev := range in.sess.Events() {
		switch ev.Kind {
		case control.EventKeyExchanged:
			if !in.keyExchanged(ev.KeyID, now) {
				return true
			}
		case control.EventMessage:
			if in.message(ev.Message, now) {
				return true
			}
		case control.EventFailed:
			if ev.KeyID == 0 || !in.ready {
				in.logf("TLS Error: TLS handshake failed: %v", ev.Err)
				return true
			}
			in.logf("TLS Error: renegotiation of key %d failed: %v", ev.KeyID, ev.Err)
		case control.EventKeyRetired:
			in.peer.RemoveKey(ev.KeyID)
		}
	}
	if in.pending != nil {
		in.pollPending(now)
	}
	if in.connPend != nil {
		in.pollConnect(now)
	}
	if !in.exitAt.IsZero() && now.After(in.exitAt) {
		return true
	}
	last := in.peer.LastReceive()
	if in.pingRestart > 0 && now.Sub(last) > in.pingRestart {
		in.logf("[%s] Inactivity timeout (--ping-restart), restarting", in.cn)
		return true
	}
	if in.ready && in.inactive.Expired(&in.peer.Peer, now) {
		in.logf("[%s] Inactivity timeout (--inactive), exiting", in.cn)
		return true
	}
	if in.ready && in.ping > 0 && now.Sub(in.peer.LastSend()) >= in.ping {
		in.peer.SendPing()
	}
	if in.ready && in.peer.ExitRequested() {
		in.logf("OCC_EXIT received: client is leaving")
		return true
	}
	if !in.ready && now.Sub(in.started) > in.handWindow() {
		in.logf("TLS Error: TLS key negotiation failed to occur within %v", in.handWindow())
		return true
	}
	return false
}

func (in *instance) handWindow() time.Duration {
	if w := in.s.o.TLS.HandWindow; w > 0 {
		return w
	}
	return control.DefaultHandWindow
}

// keyExchanged authenticates the client on every key and installs keys;
// false ends the instance.
func (in *instance) keyExchanged(kid wire.KeyID, now time.Time) bool {
	km, ok := in.sess.PeerKeyMethod(kid)
	if !ok {
		return false
	}
	if kid == 0 && !in.authed && in.authErr == "" && in.pending == nil {
		in.peerInfo = parsePeerInfo(km.PeerInfo)
		in.ivProto, _ = strconv.Atoi(in.peerInfo["IV_PROTO"])
		in.env = in.s.newEnv()
		in.env.SetUntrusted(in.addr)
		in.env.SetPeerInfo(km.PeerInfo)
		if certs := in.sess.PeerCertificates(0); len(certs) > 0 {
			in.env.SetPeerChain(certs)
			cn, ok := hook.PeerCommonName(certs[0])
			if !ok {
				in.authFailed(errors.New("VERIFY ERROR: the client certificate has no common name of at most 64 bytes"), now)
				return true
			}
			in.cn = cn
			in.logf("VERIFY OK: depth=0, %s", x509name.Subject(certs[0]))
		}
		err := in.authenticate(km, now)
		if err == errDeferred {
			return true
		}
		in.authenticated(err, now)
		return true
	}
	if !in.ready {
		return true
	}
	// Renegotiation: authenticate again (the token normally), then install.
	if err := in.reauthenticate(kid, km, now); err != nil {
		if err == errDeferred {
			return true
		}
		in.reauthFailed(err, now)
		return true
	}
	return in.keyAuthenticated(kid, now)
}

// authenticated continues after the first authentication's outcome: the
// client's set-up and its PUSH_REPLY, or AUTH_FAILED.
func (in *instance) authenticated(err error, now time.Time) {
	if err != nil {
		in.authFailed(err, now)
		return
	}
	in.authed = true
	in.env.SetTrusted(in.addr)
	in.logf("[%s] Peer Connection Initiated with %s", in.cn, in.addr)
	if err := in.setup(now); err != nil {
		if err != errDeferred {
			in.authFailed(err, now)
		}
		return
	}
	in.pushIfRequested(now)
}

func (in *instance) pushIfRequested(now time.Time) {
	if in.ready && (in.pushReq || in.ivProto&wire.IVProtoRequestPush != 0) {
		in.sendPush(now)
	}
}

// authFailed refuses the client: AUTH_FAILED (with the reason of an
// authError) once it asks for its configuration, then the end.
func (in *instance) authFailed(err error, now time.Time) {
	in.authErr = err.Error()
	var ae *authError
	if errors.As(err, &ae) {
		in.failReason = ae.client
	}
	in.logf("%v", err)
	if in.ivProto&wire.IVProtoRequestPush != 0 || in.pushReq {
		in.sendAuthFailed(now)
	}
}

// reauthFailed ends a client whose renegotiation was refused.
func (in *instance) reauthFailed(err error, now time.Time) {
	in.logf("TLS Auth Error on renegotiation: %v", err)
	reason := ""
	var ae *authError
	if errors.As(err, &ae) {
		reason = ae.client
	}
	in.sendAuthFailedMsg(now, reason)
	in.exitAt = now.Add(5 * time.Second)
}

// keyAuthenticated installs a renegotiated key and sends the renewed
// token; false ends the instance.
func (in *instance) keyAuthenticated(kid wire.KeyID, now time.Time) bool {
	if err := in.installKey(kid); err != nil {
		in.logf("renegotiated key %d: %v", kid, err)
		return false
	}
	if in.token != "" {
		in.sess.SendMessage(now, "PUSH_REPLY,auth-token "+in.token)
	}
	return true
}

// message handles a control message from the client.
func (in *instance) message(msg string, now time.Time) bool {
	switch {
	case msg == "PUSH_REQUEST":
		in.pushReq = true
		if in.authErr != "" {
			in.sendAuthFailed(now)
			return false
		}
		if in.ready && (in.pushSent.IsZero() || now.Sub(in.pushSent) > 30*time.Second) {
			in.sendPush(now)
		}
	case strings.HasPrefix(msg, "EXIT"):
		in.logf("CC-EEN exit message received by peer")
		in.exitAt = now.Add(2 * time.Second)
	case strings.HasPrefix(msg, "CR_RESPONSE"):
		in.logf("CR_RESPONSE received (not handled: no management interface)")
	default:
		in.logf("WARNING: Received unknown control message: %.64s", msg)
	}
	return false
}

func (in *instance) sendAuthFailed(now time.Time) {
	in.sendAuthFailedMsg(now, in.failReason)
	in.exitAt = now.Add(5 * time.Second)
}

func (in *instance) sendAuthFailedMsg(now time.Time, reason string) {
	msg := "AUTH_FAILED"
	if reason != "" {
		msg += "," + reason
	}
	in.sess.SendMessage(now, msg)
}

// installKey derives and installs the data keys of kid.
func (in *instance) installKey(kid wire.KeyID) error {
	key2, err := in.sess.DataKeys(kid, in.derive)
	if err != nil {
		return err
	}
	k, err := datacrypto.NewKey(datacrypto.Config{
		Suite: in.suite, Role: datacrypto.RoleServer,
		ReplayWindow: in.s.o.Data.ReplayWindow, ReplayBacktrack: in.s.o.Data.ReplayTime,
	}, &key2)
	clear(key2[:])
	if err != nil {
		return err
	}
	in.peer.InstallKey(kid, k, true)
	return nil
}

// notifyExit tells a connected client the server is going away.
func (in *instance) notifyExit(n int) {
	if n <= 0 || !in.ready || in.tcp {
		return
	}
	msg := "RESTART"
	if n >= 2 {
		msg = "RESTART,[N]"
	}
	in.sess.SendMessage(time.Now(), msg)
	in.flush()
}

// cleanup releases everything the instance holds.
func (in *instance) cleanup() {
	if in.sess != nil {
		in.sess.Close()
	}
	in.s.dp.RemovePeer(in.peer)
	in.unlearn()
	in.s.pool.release(in, time.Now())
	if in.pending != nil {
		in.pending.d.Close()
		in.pending = nil
	}
	if in.connPend != nil {
		in.connPend.Close()
		in.connPend = nil
	}
	if in.ready {
		in.logf("client-instance exiting")
		in.runDisconnect()
	}
	in.ready = false
}

func (in *instance) publish() {
	st := in.peer.Stats()
	in.snap.Store(&ClientInfo{
		CommonName: in.cn, Username: in.username, Real: in.addr,
		VirtualIPv4: in.vaddr4, VirtualIPv6: in.vaddr6,
		BytesReceived: st.LinkRxBytes, BytesSent: st.LinkTxBytes,
		ConnectedAt: in.connectedAt, PeerID: in.peer.ID(), Cipher: in.cipher,
	})
}

func (in *instance) info() (ClientInfo, bool) {
	p := in.snap.Load()
	if p == nil {
		return ClientInfo{}, false
	}
	ci := *p
	st := in.peer.Stats()
	ci.BytesReceived, ci.BytesSent = st.LinkRxBytes, st.LinkTxBytes
	ci.Real = in.peer.Addr()
	return ci, true
}

// parsePeerInfo splits the IV_/UV_ lines; names must be [A-Za-z0-9_]+.
func parsePeerInfo(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" || strings.IndexFunc(k, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		}) >= 0 {
			continue
		}
		m[k] = v
	}
	return m
}

// tokenPolicy returns the auth-gen-token limits.
func (s *Server) tokenPolicy() authtoken.Policy {
	g := s.srv.AuthGenToken
	p := authtoken.Policy{Lifetime: g.Lifetime, Renewal: g.Renewal}
	if p.Renewal == 0 {
		p.Renewal = s.o.TLS.Reneg.Seconds
	}
	if p.Renewal == 0 {
		p.Renewal = time.Hour
	}
	return p
}

// supportsNCP reports whether the client can take a pushed cipher.
func (in *instance) supportsNCP() bool {
	n, _ := strconv.Atoi(in.peerInfo["IV_NCP"])
	_, ciphers := in.peerInfo["IV_CIPHERS"]
	return n >= 2 || ciphers
}

// chooseCipher is the 2.6 server's NCP (ssl_ncp.c ncp_get_best_cipher).
func (in *instance) chooseCipher(km *wire.KeyMethodMessage) (string, error) {
	o := in.s.o
	var list []string
	if c, ok := in.peerInfo["IV_CIPHERS"]; ok {
		list = strings.Split(c, ":")
	} else if n, _ := strconv.Atoi(in.peerInfo["IV_NCP"]); n >= 2 {
		list = []string{"AES-256-GCM", "AES-128-GCM"}
	}
	occ := ""
	if _, ok := in.peerInfo["IV_CIPHERS"]; !ok {
		for _, f := range strings.Split(km.Options, ",") {
			if c, ok := strings.CutPrefix(f, "cipher "); ok {
				occ = c
				if occ == "[null-cipher]" {
					occ = "none"
				}
			}
		}
	}
	for i := range list {
		if c, err := datacrypto.Canonical(list[i]); err == nil {
			list[i] = c
		}
	}
	if occ != "" {
		if c, err := datacrypto.Canonical(occ); err == nil {
			occ = c
		}
	}
	for _, c := range o.Data.Ciphers {
		if slices.Contains(list, c) || c == occ {
			if _, err := datacrypto.LookupCipher(c); err == nil {
				return c, nil
			}
		}
	}
	if len(list) == 0 && occ == "" && o.Data.Fallback != "" {
		return datacrypto.Canonical(o.Data.Fallback)
	}
	return "", errors.New("Data channel cipher negotiation failed (no shared cipher)")
}
