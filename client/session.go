package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/dataplane"
	"github.com/openvpn-go/openvpn-go/event"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/tlsconf"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/tun"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Timing constants from openvpn 2.6.
const (
	pushRequestInterval = 5 * time.Second // PUSH_REQUEST_INTERVAL
	housekeeping        = time.Second
)

// conn is the state of one connection attempt; it belongs to the owner
// loop (connect).
type conn struct {
	c    *Client
	o    *config.Options
	t    target
	link transport.Conn
	sess *control.Session
	dp   *dataplane.Client
	tlsr *tlsconf.Result

	started     time.Time
	heard       bool // a valid packet arrived from the server
	ciphers     []string
	push        pushState
	pushSentAt  time.Time
	pushExpires time.Time // give up waiting for PUSH_REPLY (no-push-reply)
	connected   bool      // PUSH_REPLY applied, tunnel up
	settings    negotiated
	tunnelUp    bool
	// The tunnel this connection set up or adopted: its device, its spec,
	// and whether the routes of spec were applied after the up script.
	dev      tun.Device
	spec     TunnelSpec
	routesUp bool
	// routesAt is when route-delay's wait ends (zero: no routes pending);
	// routesDetail the CONNECTED detail so far.
	routesAt     time.Time
	routesDetail string

	ping, pingRestart, pingExit time.Duration
	inactive                    dataplane.Inactivity // "inactive", armed when connected
	renegBytes, renegPkts       int64
	keyStats                    dataplane.Stats // counters when the current key started
	exitNotify                  int
	ccExit                      bool
	sessionTimeout              time.Time

	env *scriptEnv
}

// negotiated is what the server's push decided.
type negotiated struct {
	cipher string
	derive control.KeyDerivation
	suite  datacrypto.Suite
}

// connect runs one connection attempt to t until it ends.
func (c *Client) connect(ctx context.Context, t target) (res outcome) {
	o := c.opt
	cn := &conn{c: c, o: o, t: t, started: time.Now()}
	if err := c.auth.ensure(ctx, c.cfg.Credentials); err != nil {
		return outcome{exit: true, err: err, reason: "auth-failure"}
	}
	var err error
	if cn.ciphers, err = supportedCiphers(o); err != nil {
		return outcome{exit: true, err: err}
	}
	if cn.tlsr, err = tlsconf.Client(&o.TLS); err != nil {
		return outcome{exit: true, err: err}
	}
	for _, w := range cn.tlsr.Warnings {
		c.log.Warn(w)
	}
	wrap, resetV3, err := newWrapper(t.entry, o, control.RoleClient)
	if err != nil {
		return outcome{exit: true, err: err}
	}

	if transport.IsStream(t.network) {
		c.setState(event.TCPConnect, "", nil)
	} else {
		c.setState(event.Connecting, "", nil)
	}
	dctx, cancel := context.WithTimeout(ctx, connectTimeout(t.entry))
	local := localAddr(t.entry, t.addr)
	cn.link, err = c.cfg.Dialer.Dial(dctx, t.network, local, t.addr)
	cancel()
	if err != nil {
		c.log.Warn(fmt.Sprintf("%s: connect to %s failed: %v", strings.ToUpper(t.network), t, err))
		return outcome{reason: "connection-failed", advance: true}
	}
	defer cn.link.Close()
	c.log.Info(fmt.Sprintf("%s link local: %s", linkName(t.network), boundName(local, cn.link)))
	c.log.Info(fmt.Sprintf("%s link remote: %s", linkName(t.network), t))

	cn.sess, err = control.New(control.Config{
		Role:          control.RoleClient,
		TLS:           cn.tlsConfig(),
		Wrap:          wrap,
		ResetV3:       resetV3,
		TLSTimeout:    o.TLS.Timeout,
		HandWindow:    o.TLS.HandWindow,
		TranWindow:    o.TLS.TranWindow,
		RenegSec:      o.TLS.Reneg.Seconds,
		MaxPacketSize: t.entry.MaxPacketSize,
		Options:       occString(o, t.entry, t.addr, transport.IsStream(t.network)),
		ClientCredentials: func(kid wire.KeyID) (string, string, string) {
			u, p := c.auth.credentials()
			return u, p, peerInfo(o, cn.ciphers, c.cfg.DisableEKM)
		},
		Logger: c.log,
	})
	if err != nil {
		return outcome{exit: true, err: err}
	}
	defer cn.sess.Close()

	cn.dp = dataplane.NewClient(cn.link, c.log)
	cn.dp.Start()
	defer func() {
		cn.teardown(res)
		cn.dp.Close()
		cn.dp.Wait()
	}()

	cn.ping = 0
	cn.pingRestart = o.Timers.PingRestart
	cn.pingExit = o.Timers.PingExit
	cn.renegBytes, cn.renegPkts = o.TLS.Reneg.Bytes, o.TLS.Reneg.Packets
	cn.exitNotify = t.entry.ExplicitExitNotify
	if o.Timers.SessionTimeout > 0 {
		cn.sessionTimeout = cn.started.Add(o.Timers.SessionTimeout)
	}
	return cn.loop(ctx)
}

func connectTimeout(ce *config.Connection) time.Duration {
	if ce.ConnectTimeout > 0 {
		return ce.ConnectTimeout
	}
	return 120 * time.Second
}

func localAddr(ce *config.Connection, remote netip.AddrPort) netip.AddrPort {
	if !ce.Bind {
		return netip.AddrPort{}
	}
	var a netip.Addr
	if ce.Local != "" {
		if p, err := netip.ParseAddr(ce.Local); err == nil {
			a = p
		}
	}
	if !a.IsValid() {
		if remote.Addr().Is4() {
			a = netip.IPv4Unspecified()
		} else {
			a = netip.IPv6Unspecified()
		}
	}
	return netip.AddrPortFrom(a, ce.LocalPort)
}

func linkName(network string) string {
	switch network {
	case "udp4":
		return "UDPv4"
	case "udp6":
		return "UDPv6"
	case "tcp4":
		return "TCPv4_CLIENT"
	}
	return "TCPv6_CLIENT"
}

func boundName(local netip.AddrPort, l transport.Conn) string {
	if !local.IsValid() {
		return "(not bound)"
	}
	return l.LocalAddr().String()
}

// loop is the owner loop of one connection.
func (cn *conn) loop(ctx context.Context) outcome {
	c := cn.c
	now := time.Now()
	cn.sess.Start(now)
	cn.flush()
	timer := time.NewTimer(housekeeping)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			// openvpn names an exit that told the server
			// "exit-with-notification" (the down scripts' signal, the
			// EXITING state's detail).
			reason := exitReason(ctx)
			if cn.sendExitNotify(ctx) {
				reason = "exit-with-notification"
			}
			return outcome{exit: true, reason: reason}
		case reason := <-c.reconnect:
			return outcome{reason: reason}
		case pkt := <-cn.dp.Control():
			now = time.Now()
			if err := cn.sess.HandlePacket(now, pkt); err == nil {
				cn.dp.Peer().MarkReceived(now)
				if !cn.heard {
					cn.heard = true
					if id, ok := cn.sess.RemoteSessionID(); ok {
						c.log.Info(fmt.Sprintf("TLS: Initial packet from %s, sid=%v", cn.t, id))
					}
				}
			}
		case <-cn.sess.Wake():
			now = time.Now()
			cn.sess.Tick(now)
		case err := <-cn.dp.Err():
			c.log.Warn(fmt.Sprintf("Connection reset, restarting: %v", err))
			return outcome{reason: "connection-reset", advance: !cn.connected, connected: cn.connected}
		case <-timer.C:
			now = time.Now()
			cn.sess.Tick(now)
		}
		if res, done := cn.process(now); done {
			return res
		}
		cn.flush()
		// Re-arm the timer for the earliest deadline (at most housekeeping).
		next := now.Add(housekeeping)
		if d := cn.sess.NextDeadline(); !d.IsZero() && d.Before(next) {
			next = d
		}
		if !cn.routesAt.IsZero() && cn.routesAt.Before(next) {
			next = cn.routesAt
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

// flush sends the control packets the session produced.
func (cn *conn) flush() {
	if pkts := cn.sess.Outgoing(); len(pkts) > 0 {
		if err := cn.dp.SendControl(pkts); err != nil {
			cn.c.log.Debug("control send", "err", err)
		}
	}
}

// process handles session events and timers.
func (cn *conn) process(now time.Time) (outcome, bool) {
	c := cn.c
	for _, ev := range cn.sess.Events() {
		switch ev.Kind {
		case control.EventKeyExchanged:
			if res, done := cn.keyExchanged(ev.KeyID, now); done {
				return res, true
			}
		case control.EventMessage:
			if res, done := cn.message(ev.Message, now); done {
				return res, true
			}
		case control.EventFailed:
			if ev.KeyID == 0 || !cn.connected {
				c.log.Warn(fmt.Sprintf("TLS Error: TLS handshake failed: %v", ev.Err))
				return outcome{reason: "tls-error", advance: true}, true
			}
			c.log.Warn(fmt.Sprintf("TLS Error: renegotiation of key %d failed: %v", ev.KeyID, ev.Err))
		case control.EventKeyRetired:
			cn.dp.Peer().RemoveKey(ev.KeyID)
		case control.EventRenegotiating:
			c.log.Info(fmt.Sprintf("TLS: soft reset sec=%d/%d bytes=%d/%d pkts=%d/%d",
				0, int(cn.o.TLS.Reneg.Seconds.Seconds()), 0, cn.renegBytes, 0, cn.renegPkts))
		}
	}
	// Timers.
	if !cn.routesAt.IsZero() && !now.Before(cn.routesAt) {
		cn.routesAt = time.Time{}
		if err := cn.addRoutes(cn.routesDetail); err != nil {
			return outcome{exit: true, err: err}, true
		}
	}
	if !cn.heard && now.Sub(cn.started) > connectTimeout(cn.t.entry) {
		c.log.Warn(fmt.Sprintf("Server poll timeout, trying next remote entry..."))
		return outcome{reason: "server-poll", advance: true}, true
	}
	if cn.pushSentAt.IsZero() == false && !cn.connected {
		if now.After(cn.pushExpires) {
			c.log.Warn("No reply from server to push requests in time")
			return outcome{reason: "no-push-reply", advance: true}, true
		}
		if now.Sub(cn.pushSentAt) >= pushRequestInterval {
			cn.sendPushRequest(now)
		}
	}
	last := cn.dp.Peer().LastReceive()
	if cn.pingExit > 0 && (cn.connected || cn.heard) && now.Sub(last) > cn.pingExit {
		c.log.Warn(fmt.Sprintf("[%s] Inactivity timeout (--ping-exit), exiting", cn.t))
		return outcome{exit: true, err: ErrPingExit, reason: "ping-exit"}, true
	}
	if cn.pingRestart > 0 && cn.heard && now.Sub(last) > cn.pingRestart {
		c.log.Warn(fmt.Sprintf("[%s] Inactivity timeout (--ping-restart), restarting", cn.t))
		return outcome{reason: "ping-restart", connected: cn.connected}, true
	}
	if cn.connected {
		if cn.ping > 0 && now.Sub(cn.dp.Peer().LastSend()) >= cn.ping {
			cn.dp.Peer().SendPing()
		}
		if cn.dp.Peer().ExitRequested() {
			return outcome{reason: "remote-exit", connected: true}, true
		}
		cn.checkReneg(now)
		if cn.inactive.Expired(cn.dp.Peer(), now) {
			c.log.Warn(fmt.Sprintf("[%s] Inactivity timeout (--inactive), exiting", cn.t))
			return outcome{exit: true, err: ErrInactive, reason: "inactive", connected: true}, true
		}
		if !cn.sessionTimeout.IsZero() && now.After(cn.sessionTimeout) {
			return outcome{reason: "session-timeout", connected: true}, true
		}
	}
	return outcome{}, false
}

// checkReneg starts a renegotiation on reneg-bytes, reneg-pkts or when the
// packet-id nears its end.
func (cn *conn) checkReneg(now time.Time) {
	p := cn.dp.Peer()
	st := p.Stats()
	need := false
	if cn.renegBytes > 0 && int64(st.LinkRxBytes+st.LinkTxBytes-cn.keyStats.LinkRxBytes-cn.keyStats.LinkTxBytes) >= cn.renegBytes {
		need = true
	}
	if cn.renegPkts > 0 && int64(st.LinkRxPackets+st.LinkTxPackets-cn.keyStats.LinkRxPackets-cn.keyStats.LinkTxPackets) >= cn.renegPkts {
		need = true
	}
	if k := p.SendKey(); k != nil && k.NeedsRenegotiation() {
		need = true
	}
	if need && cn.sess.Renegotiate(now) {
		cn.keyStats = st
	}
}

func (cn *conn) keyExchanged(kid wire.KeyID, now time.Time) (outcome, bool) {
	c := cn.c
	if kid == 0 && !cn.connected {
		if st, ok := cn.sess.ConnectionState(0); ok {
			c.log.Info(fmt.Sprintf("Control Channel: %s, cipher %s", tlsVersionName(st.Version), tlsCipherName(st.CipherSuite)))
		}
		c.log.Info(fmt.Sprintf("[%s] Peer Connection Initiated with %s", peerCN(cn.sess), cn.t))
		cn.runIPChange()
		c.setState(event.GetConfig, "", nil)
		cn.pushExpires = now.Add(cn.o.TLS.HandWindow)
		if cn.o.TLS.HandWindow == 0 {
			cn.pushExpires = now.Add(control.DefaultHandWindow)
		}
		cn.sendPushRequest(now)
		return outcome{}, false
	}
	if !cn.connected {
		return outcome{}, false
	}
	if err := cn.installKey(kid); err != nil {
		c.log.Warn(fmt.Sprintf("renegotiated key %d: %v", kid, err))
		return outcome{reason: "tls-error", connected: true}, true
	}
	cn.keyStats = cn.dp.Peer().Stats()
	return outcome{}, false
}

// installKey derives and installs the data keys of kid with the negotiated
// cipher.
func (cn *conn) installKey(kid wire.KeyID) error {
	key2, err := cn.sess.DataKeys(kid, cn.settings.derive)
	if err != nil {
		return err
	}
	k, err := datacrypto.NewKey(datacrypto.Config{
		Suite:           cn.settings.suite,
		Role:            datacrypto.RoleClient,
		ReplayWindow:    cn.o.Data.ReplayWindow,
		ReplayBacktrack: cn.o.Data.ReplayTime,
	}, (*[256]byte)(&key2))
	clear(key2[:])
	if err != nil {
		return err
	}
	cn.dp.Peer().InstallKey(kid, k, true)
	return nil
}

func (cn *conn) sendPushRequest(now time.Time) {
	cn.pushSentAt = now
	if err := cn.sess.SendMessage(now, "PUSH_REQUEST"); err != nil {
		cn.c.log.Debug("PUSH_REQUEST", "err", err)
	}
}

// sendExitNotify tells the server we are leaving (explicit-exit-notify):
// the EXIT control message when cc-exit was negotiated, OCC_EXIT data
// packets otherwise. It waits at most the configured number of seconds and
// reports whether it told the server.
func (cn *conn) sendExitNotify(ctx context.Context) bool {
	if cn.exitNotify <= 0 || !cn.connected {
		return false
	}
	if cn.ccExit {
		cn.sess.SendMessage(time.Now(), "EXIT")
		cn.flush()
		cn.c.log.Info("SENT CONTROL [server]: 'EXIT' (status=1)")
	} else {
		cn.dp.Peer().SendOCCExit()
	}
	// Keep the session alive briefly so the message is retransmitted and
	// acknowledged.
	deadline := time.Now().Add(time.Duration(cn.exitNotify) * time.Second)
	t := time.NewTimer(200 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case pkt := <-cn.dp.Control():
			cn.sess.HandlePacket(time.Now(), pkt)
		case <-cn.sess.Wake():
			cn.sess.Tick(time.Now())
		case <-t.C:
			cn.sess.Tick(time.Now())
			if !cn.ccExit {
				cn.dp.Peer().SendOCCExit()
			}
			t.Reset(time.Second)
		}
		cn.flush()
	}
	return true
}

// message handles a control message from the server.
func (cn *conn) message(msg string, now time.Time) (outcome, bool) {
	c := cn.c
	switch {
	case strings.HasPrefix(msg, "PUSH_REPLY"):
		return cn.pushReply(msg, now)
	case strings.HasPrefix(msg, "AUTH_FAILED"):
		return cn.authFailed(strings.TrimPrefix(strings.TrimPrefix(msg, "AUTH_FAILED"), ","))
	case strings.HasPrefix(msg, "RESTART"):
		text, flags := serverSignal(msg, "RESTART")
		c.log.Info(fmt.Sprintf("Server requested reconnect: %q", text))
		if !strings.Contains(flags, "P") {
			// Credentials are purged unless the server says to keep them.
		}
		return outcome{reason: "server-pushed-connection-reset", advance: strings.Contains(flags, "N"), connected: cn.connected}, true
	case strings.HasPrefix(msg, "HALT"):
		text, _ := serverSignal(msg, "HALT")
		c.log.Warn(fmt.Sprintf("Server requested exit: %q", text))
		return outcome{exit: true, reason: "server-pushed-halt", err: &ServerError{Kind: "HALT", Message: text, Err: ErrHalted}}, true
	case strings.HasPrefix(msg, "EXIT"):
		return outcome{reason: "remote-exit", connected: cn.connected}, true
	case strings.HasPrefix(msg, "AUTH_PENDING"):
		to := control.DefaultHandWindow
		if _, arg, ok := strings.Cut(msg, "timeout "); ok {
			if n, err := time.ParseDuration(strings.TrimSpace(arg) + "s"); err == nil && n > 0 {
				to = max(n, to)
			}
		}
		cn.pushExpires = now.Add(to)
		c.setState(event.AuthPending, "timeout "+fmt.Sprint(int(to.Seconds())), nil)
	case strings.HasPrefix(msg, "INFO"):
		c.log.Info(fmt.Sprintf("INFO: %s", msg))
	default:
		c.log.Warn(fmt.Sprintf("WARNING: Received unknown control message: %s", msg))
	}
	return outcome{}, false
}

// serverSignal parses RESTART[,[flags]text] / HALT[,[flags]text].
func serverSignal(msg, kind string) (text, flags string) {
	rest := strings.TrimPrefix(msg, kind)
	rest = strings.TrimPrefix(rest, ",")
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			return rest[i+1:], rest[1:i]
		}
	}
	return rest, ""
}

// authFailed handles AUTH_FAILED[,reason].
func (cn *conn) authFailed(reason string) (outcome, bool) {
	c := cn.c
	c.log.Warn(fmt.Sprintf("AUTH: Received control message: AUTH_FAILED%s", prefixComma(reason)))
	if strings.HasPrefix(reason, "TEMP") {
		backoff, advance := parseAuthTemp(reason)
		return outcome{reason: "auth-failure", backoff: backoff, advance: advance}, true
	}
	if c.auth.refused(cn.o.Auth.Retry == config.AuthRetryInteract) {
		// The server refused our token: reconnect with the password.
		c.log.Info("The server rejected the auth-token; reconnecting with the username and password")
		return outcome{reason: "auth-failure", backoff: time.Millisecond}, true
	}
	switch cn.o.Auth.Retry {
	case config.AuthRetryNoInteract, config.AuthRetryInteract:
		return outcome{reason: "auth-failure"}, true
	}
	return outcome{exit: true, reason: "auth-failure", err: &ServerError{Kind: "AUTH_FAILED", Message: reason, Err: ErrAuthFailed}}, true
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return "," + s
}

// parseAuthTemp parses "TEMP[backoff N,advance no|addr|remote]:msg".
func parseAuthTemp(reason string) (time.Duration, bool) {
	rest := strings.TrimPrefix(reason, "TEMP")
	var backoff time.Duration
	advance := false
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			for _, f := range strings.Split(rest[1:i], ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(f), " ")
				switch k {
				case "backoff":
					if d, err := time.ParseDuration(v + "s"); err == nil {
						backoff = d
					}
				case "advance":
					advance = v == "addr" || v == "remote"
				}
			}
		}
	}
	return backoff, advance
}

// teardown ends this connection's use of the tunnel. With persist-tun and a
// restart (not an exit), the device stays as it is, with its addresses and
// routes and without scripts, for the next connection to adopt (openvpn:
// "Preserving previous TUN/TAP instance"); otherwise everything is undone.
// res is how the connection ended, for the scripts' signal variable.
func (cn *conn) teardown(res outcome) {
	if cn.tunnelUp {
		t := &keptTunnel{dev: cn.dev, spec: cn.spec, env: cn.env, routesUp: cn.routesUp, reason: res.reason}
		if cn.o.Persist.Tun && !res.exit && cn.dev != nil && cn.dp.DetachTun() {
			cn.c.kept = t
		} else {
			cn.c.closeTunnel(t, res.reason)
		}
		cn.tunnelUp = false
	}
	cn.dp.Peer().RemoveAllKeys()
}

// keptTunnel is a tunnel that was set up: the device, what was applied,
// and the environment its up script saw. Between connections it is the
// tunnel persist-tun keeps.
type keptTunnel struct {
	dev      tun.Device
	spec     TunnelSpec
	env      *scriptEnv
	routesUp bool
	reason   string // why its connection ended
}

// closeTunnel undoes a tunnel in openvpn's order (init.c do_close_tun):
// route-pre-down, the routes removed, the device closed, then the down
// script (before the device closes with down-pre).
func (c *Client) closeTunnel(t *keptTunnel, reason string) {
	sc, sig := &c.opt.Scripts, signalText(reason)
	// route-pre-down runs even without routes: a pulling client's route
	// lists always exist in openvpn (checked by hook's reference test).
	runDown(t.env, sc.RoutePreDown, hook.TypeRoutePreDown, sig)
	if t.routesUp {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := c.cfg.Tunnel.Apply(ctx, t.spec.withoutRoutes().Net); err != nil {
			c.log.Warn(fmt.Sprintf("removing the routes: %v", err))
		}
		cancel()
	}
	if sc.DownPre {
		runDown(t.env, sc.Down, hook.TypeDown, sig)
	}
	if err := c.cfg.Tunnel.Down(); err != nil {
		c.log.Warn(fmt.Sprintf("restoring the network configuration: %v", err))
	}
	if !sc.DownPre {
		runDown(t.env, sc.Down, hook.TypeDown, sig)
	}
}

// closeKept closes the tunnel persist-tun kept, when Run ends.
func (c *Client) closeKept(reason string) {
	if c.kept != nil {
		c.closeTunnel(c.kept, reason)
		c.kept = nil
	}
}

var errNoCipher = errors.New("client: failed to negotiate a data cipher with the server")

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}

func tlsCipherName(id uint16) string { return tls.CipherSuiteName(id) }

func peerCN(s *control.Session) string {
	if cs := s.PeerCertificates(0); len(cs) > 0 {
		return cs[0].Subject.CommonName
	}
	return "server"
}

// tlsConfig is the TLS configuration of the connection, with tls-verify run
// on the server's chain when configured.
func (cn *conn) tlsConfig() *tls.Config {
	sc := cn.o.Scripts.TLSVerify
	if sc == nil {
		return cn.tlsr.Config
	}
	o, addr, log := cn.o, cn.t.addr, cn.c.log
	return cn.tlsr.WithChainCheck(func(chain []*x509.Certificate) error {
		env := hook.NewEnv()
		env.SetOptions(o, daemonStart, os.Getpid())
		env.SetUntrusted(addr)
		r := hook.NewRunner(o.Scripts, o.Dir, log)
		return r.TLSVerifyChain(context.Background(), sc, env, chain, o.TLS.ExportCertDir)
	})
}
