package client

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/dataplane"
	"github.com/openvpn-go/openvpn-go/event"
	"github.com/openvpn-go/openvpn-go/hook"
)

const fragmentHeaderLen = 4

// pushState accumulates a (possibly continued) PUSH_REPLY.
type pushState struct {
	p config.Pushed
}

// pushReply handles one PUSH_REPLY message.
func (cn *conn) pushReply(msg string, now time.Time) (outcome, bool) {
	c := cn.c
	opts, err := config.ParsePushReply(msg)
	if err != nil {
		c.log.Warn(fmt.Sprintf("PUSH: bad PUSH_REPLY from the server: %v", err))
		return outcome{}, false
	}
	if cn.connected {
		// A later PUSH_REPLY (on renegotiation) only renews the auth-token.
		var p config.Pushed
		p.Apply(opts, cn.pushPolicy())
		if p.AuthToken != "" {
			c.auth.setToken(p.AuthToken, p.AuthTokenUser)
			c.log.Info("PUSH: received a renewed auth-token")
		}
		return outcome{}, false
	}
	c.log.Info(fmt.Sprintf("PUSH: Received control message: '%s'", redactToken(msg)))
	err = cn.push.p.Apply(opts, cn.pushPolicy())
	for _, n := range cn.push.p.Notes {
		c.log.Warn("Options error: " + n.String())
	}
	cn.push.p.Notes = nil
	if err != nil {
		c.log.Warn(fmt.Sprintf("OPTIONS ERROR: %v", err))
		if errors.Is(err, config.ErrPushRejected) {
			return outcome{reason: "pull-filter-reject", advance: true}, true
		}
		return outcome{reason: "push-error", advance: true}, true
	}
	if !cn.push.p.Complete() {
		return outcome{}, false
	}
	if err := cn.applyPush(now); err != nil {
		c.log.Warn(err.Error())
		return outcome{reason: "push-error", advance: true}, true
	}
	return outcome{}, false
}

func redactToken(msg string) string {
	var out []string
	for _, o := range strings.Split(msg, ",") {
		if strings.HasPrefix(strings.TrimSpace(o), "auth-token ") {
			o = "auth-token SESS_ID"
		}
		out = append(out, o)
	}
	return strings.Join(out, ",")
}

// negotiateCipher picks the data cipher after the push (ssl_ncp.c
// check_pull_client_ncp).
func (cn *conn) negotiateCipher(p *config.Pushed) (string, error) {
	fallback := cn.o.Data.Fallback
	allowed := func(name string) bool {
		return slices.Contains(cn.ciphers, name) || (fallback != "" && name == fallback)
	}
	if p.Cipher != "" {
		name, err := datacrypto.Canonical(p.Cipher)
		if err != nil {
			return "", fmt.Errorf("client: the server pushed cipher %s, which openvpn-go does not support: %w", p.Cipher, err)
		}
		if !allowed(name) {
			return "", fmt.Errorf("client: the server pushed cipher %s, which is not in data-ciphers %s (negotiated cipher not allowed)", name, strings.Join(cn.ciphers, ":"))
		}
		return name, nil
	}
	// Poor man's NCP: the server's OCC string names its cipher.
	if km, ok := cn.sess.PeerKeyMethod(0); ok {
		for _, f := range strings.Split(km.Options, ",") {
			if name, ok := strings.CutPrefix(f, "cipher "); ok {
				if n, err := datacrypto.Canonical(name); err == nil && allowed(n) {
					return n, nil
				}
			}
		}
	}
	if fallback != "" {
		return datacrypto.Canonical(fallback)
	}
	return "", fmt.Errorf("%w: the server pushed no cipher and has none of data-ciphers; set data-ciphers-fallback to the server's cipher", errNoCipher)
}

// applyPush turns the complete push into keys, timers, the tunnel and
// routes, and reports CONNECTED.
func (cn *conn) applyPush(now time.Time) error {
	c, o, p := cn.c, cn.o, &cn.push.p
	cipher, err := cn.negotiateCipher(p)
	if err != nil {
		return err
	}
	auth := o.Data.Auth
	suite, err := datacrypto.NewSuite(cipher, auth)
	if err != nil {
		return fmt.Errorf("client: data channel %s/%s: %w", cipher, auth, err)
	}
	cn.settings = negotiated{cipher: cipher, suite: suite, derive: control.DerivePRF}
	if p.KeyDerivationEKM || p.TLSEKM {
		cn.settings.derive = control.DeriveEKM
	}
	cn.ccExit = p.CCExit
	if p.AuthToken != "" {
		c.auth.setToken(p.AuthToken, p.AuthTokenUser)
	}

	// Data channel.
	mode := compMode(o)
	if p.CompressionSet {
		mode = dataplane.Compression(p.Compression)
	}
	set := dataplane.PeerSettings{
		PeerID:      p.PeerID,
		UseDataV2:   p.PeerIDSet,
		Compression: mode,
		BlockIPv6:   o.Routing.BlockIPv6 || p.BlockIPv6,
	}
	set.MSS = mssFor(o, cn.t, suite.Cipher(), suite.Auth().Size, set.UseDataV2, isV1Framing(mode))
	if ce := cn.t.entry; ce.Fragment > 0 && !cn.link.Stream() {
		hdr := 1
		if set.UseDataV2 {
			hdr = 4
		}
		max := ce.Fragment - suite.MaxOverhead(hdr) - fragmentHeaderLen
		if ce.FragmentMTU {
			max -= 28
			if cn.t.addr.Addr().Is6() {
				max -= 20
			}
		}
		if max < 64 {
			return fmt.Errorf("client: fragment %d leaves no room for data after the headers", ce.Fragment)
		}
		set.Fragment = max
	}
	cn.dp.Peer().Configure(set)
	if err := cn.installKey(0); err != nil {
		return fmt.Errorf("client: data channel keys: %w", err)
	}
	cn.keyStats = cn.dp.Peer().Stats()
	peerID := "unset"
	if p.PeerIDSet {
		peerID = fmt.Sprint(p.PeerID)
	}
	c.log.Info(fmt.Sprintf("Data Channel: cipher '%s', peer-id: %s, key derivation: %v, compression: %v", cipher, peerID, cn.settings.derive, mode))

	// Timers: pushed values replace the configured ones.
	cn.ping = o.Timers.Ping
	if p.PingSet {
		cn.ping = p.Ping
	}
	if p.PingRecSet {
		cn.pingRestart, cn.pingExit = p.PingRestart, p.PingExit
	}
	if p.ExplicitExitSet && !cn.link.Stream() {
		cn.exitNotify = p.ExplicitExitNotify
	}
	inactive, inactiveBytes := o.Timers.Inactive, o.Timers.InactiveBytes
	if p.InactiveSet {
		inactive, inactiveBytes = p.Inactive, p.InactiveBytes
	}
	cn.inactive.Set(inactive, inactiveBytes, cn.dp.Peer(), now)
	if p.SessionTimeoutSet && p.SessionTimeout > 0 {
		cn.sessionTimeout = now.Add(p.SessionTimeout)
	}

	// Tunnel device, addresses, routes.
	c.setState(event.AssignIP, "", nil)
	spec, env, err := cn.tunnelSpec()
	if err != nil {
		return err
	}
	if k := c.kept; k != nil {
		c.kept = nil
		if reflect.DeepEqual(k.spec, spec) {
			return cn.adoptTunnel(k, spec, env)
		}
		c.log.Info("NOTE: Pulled options changed on restart, will need to close and reopen TUN/TAP device.")
		c.closeTunnel(k, k.reason)
	}
	// openvpn's order (init.c do_open_tun, route order "after tun" on
	// Linux): the device with its addresses, the up script, the routes,
	// the route-up script.
	dev, err := c.cfg.Tunnel.Up(cn.ctxTunnel(), spec.withoutRoutes())
	cn.tunnelUp = true // whatever was applied is reverted by teardown
	detail := "SUCCESS"
	if err != nil {
		if dev == nil {
			return fmt.Errorf("client: setting up the tunnel: %w", err)
		}
		if detail, err = cn.partialSetUp(err); err != nil {
			return err
		}
	}
	name, _ := dev.Name()
	c.log.Info(fmt.Sprintf("TUN/TAP device %s opened", name))
	cn.dp.AttachTun(dev)
	cn.env = env
	cn.env.set("dev", name)
	cn.dev, cn.spec = dev, spec
	if err := cn.runUp(name, spec); err != nil {
		return err
	}
	cn.connected = true
	// route-delay n (configured or pushed): the routes n seconds later,
	// from the owner loop's timers (process), as openvpn's route timer.
	delay := time.Duration(0)
	if p.RouteDelaySet {
		delay = p.RouteDelay
	} else if o.Routing.DelaySet {
		delay = o.Routing.Delay
	}
	if delay > 0 {
		c.log.Info(fmt.Sprintf("Adding the routes in %d seconds (route-delay)", int(delay/time.Second)))
		cn.routesAt, cn.routesDetail = time.Now().Add(delay), detail
		return nil
	}
	return cn.addRoutes(detail)
}

// addRoutes adds the routes of the tunnel, runs route-up and reports the
// tunnel complete. detail is the CONNECTED state's detail so far
// (SUCCESS, or ROUTE_ERROR when set-up already failed in part).
func (cn *conn) addRoutes(detail string) error {
	c, spec := cn.c, cn.spec
	c.setState(event.AddRoutes, "", nil)
	if len(spec.Net.Routes) > 0 || len(spec.Net.Bypass) > 0 {
		cn.routesUp = true
		if err := c.cfg.Tunnel.Apply(cn.ctxTunnel(), spec.Net); err != nil {
			if detail, err = cn.partialSetUp(err); err != nil {
				return err
			}
		}
	}
	cn.runRouteUp()
	cn.completed(spec, detail)
	return nil
}

// partialSetUp handles a Tunnel error: a *RouteError leaves a working
// tunnel with some routes missing (logged, CONNECTED with ROUTE_ERROR, as
// in openvpn); anything else fails the connection.
func (cn *conn) partialSetUp(err error) (detail string, fatal error) {
	var re *RouteError
	if !errors.As(err, &re) {
		return "", fmt.Errorf("client: setting up the tunnel: %w", err)
	}
	cn.c.log.Warn(fmt.Sprintf("ERROR: %v", err))
	return "ROUTE_ERROR", nil
}

// adoptTunnel takes over the tunnel persist-tun kept, unchanged: no
// scripts run (the up script again, with "restart", only with up-restart),
// as in openvpn.
func (cn *conn) adoptTunnel(k *keptTunnel, spec TunnelSpec, env *scriptEnv) error {
	c := cn.c
	name, _ := k.dev.Name()
	c.log.Info(fmt.Sprintf("Preserving previous TUN/TAP instance: %s", name))
	cn.dp.AttachTun(k.dev)
	cn.tunnelUp = true
	cn.dev, cn.spec, cn.routesUp = k.dev, spec, k.routesUp
	env.set("dev", name)
	env.up = k.env.up
	cn.env = env
	if cn.o.Scripts.UpRestart {
		u := env.up
		u.Context = "restart"
		if err := env.run.RunUpDown(context.Background(), cn.o.Scripts.Up, hook.TypeUp, env.Env, u); err != nil {
			return fmt.Errorf("client: up script %q: %w", cn.o.Scripts.Up.Command, err)
		}
	}
	cn.connected = true
	if !cn.routesUp && (len(spec.Net.Routes) > 0 || len(spec.Net.Bypass) > 0) {
		// The restart came while route-delay was still waiting.
		return cn.addRoutes("SUCCESS")
	}
	cn.completed(spec, "SUCCESS")
	return nil
}

// completed reports the tunnel up: the CONNECTED state and openvpn's line.
func (cn *conn) completed(spec TunnelSpec, detail string) {
	c := cn.c
	tun4, tun6 := spec.Addr4(), spec.Addr6()
	c.setState(event.Connected, detail, func(st *event.StateChange) {
		st.TunIPv4, st.TunIPv6 = tun4, tun6
		st.Remote, st.Local = cn.t.addr, cn.link.LocalAddr()
	})
	c.log.Info("Initialization Sequence Completed")
}

// mssFor computes the mssfix value after the push (mss.c
// frame_calculate_mssfix): the largest TCP MSS whose packets, once
// encapsulated, fit in mssfix bytes.
func mssFor(o *config.Options, t target, ci datacrypto.CipherInfo, hmacLen int, v2, v1Framing bool) uint16 {
	m := t.entry.MSSFix
	if m.Max == 0 {
		return 0
	}
	if m.Fixed {
		return uint16(max(m.Max-40, 0))
	}
	overhead := 1
	if v2 {
		overhead = 4
	}
	tcp := strings.HasPrefix(t.network, "tcp")
	if tcp {
		overhead += 2
	}
	if ci.AEAD {
		overhead += 4 + ci.TagSize
	} else {
		overhead += ci.IVSize + hmacLen
	}
	if m.MTU {
		if t.addr.Addr().Is4() {
			overhead += 20
		} else {
			overhead += 40
		}
		if tcp {
			overhead += 20
		} else {
			overhead += 8
		}
	}
	target := m.Max - overhead
	payload := 40
	if !ci.AEAD && ci.BlockSize > 1 {
		target = target/ci.BlockSize*ci.BlockSize - 1
		payload += 4 // packet-id inside the encryption
	}
	if v1Framing {
		payload++
	}
	if t.entry.Fragment > 0 {
		payload += 4
	}
	if o.Device.Type == config.DevTap {
		payload += t.entry.TunMTUExtra
	}
	mss := target - payload
	if mss <= 0 {
		return 0
	}
	return uint16(mss)
}

// pushPolicy is the profile's push policy, except that real compression
// pushed by a server is accepted as "asym": openvpn-go decompresses what the
// server sends and never compresses what it sends, so the VORACLE class of
// attacks does not apply, and old servers that push comp-lzo or lz4 work
// (openvpn 2.6 would refuse the push with its default allow-compression no).
func (cn *conn) pushPolicy() config.PushPolicy {
	pol := cn.o.PushPolicy()
	if pol.AllowCompression == config.AllowCompressionNo {
		pol.AllowCompression = config.AllowCompressionAsym
	}
	return pol
}
