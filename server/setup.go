package server

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/dataplane"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/ippool"
	"github.com/openvpn-go/openvpn-go/wire"
)

// setup runs after a successful authentication: per-client configuration
// (client-config-dir), address assignment, client-connect (which may defer
// its answer: errDeferred), then finishSetup.
func (in *instance) setup(now time.Time) error {
	s := in.s
	if err := in.loadCCD(); err != nil {
		return err
	}
	// Addresses before client-connect, so that its script sees them.
	if err := s.pool.assign(in, now); err != nil {
		return err
	}
	in.setPoolEnv()
	in.env.SetConnectTime(in.started)
	sc := s.o.Scripts.ClientConnect
	if sc == nil {
		return in.finishSetup(now)
	}
	ctx, cancel := context.WithTimeout(s.ctx, in.handWindow())
	defer cancel()
	res, err := s.hooks.ClientConnect(ctx, sc, in.env)
	if err != nil {
		return &authError{log: fmt.Sprintf("MULTI: client-connect script failed: %v", err)}
	}
	switch res.Status {
	case hook.ConnectDeferred:
		in.connPend, in.connUntil = res.Deferred, now.Add(in.handWindow())
		in.logf("MULTI: client-connect script deferred its answer")
		return errDeferred
	case hook.ConnectSucceeded:
		if err := in.applyConnectConfig(now, res.Config); err != nil {
			return err
		}
		return in.finishSetup(now)
	}
	return &authError{log: "MULTI: client-connect script failed: the client is refused"}
}

// pollConnect checks a deferred client-connect and continues with its
// outcome.
func (in *instance) pollConnect(now time.Time) {
	d := in.connPend
	st, cfg := d.Poll()
	if st == hook.ConnectDeferred && now.Before(in.connUntil) {
		return
	}
	in.connPend = nil
	d.Close()
	var err error
	switch st {
	case hook.ConnectSucceeded:
		if err = in.applyConnectConfig(now, cfg); err == nil {
			err = in.finishSetup(now)
		}
	case hook.ConnectFailed:
		err = &authError{log: "MULTI: deferred client-connect failed: the client is refused"}
	default:
		err = &authError{log: "MULTI: deferred client-connect timed out (hand-window)"}
	}
	if err != nil {
		in.authFailed(err, now)
		return
	}
	in.pushIfRequested(now)
}

// setPoolEnv exports the client's tunnel addresses to its scripts.
func (in *instance) setPoolEnv() {
	o := in.s.o
	pa := hook.PoolAddrs{RemoteIP: in.vaddr4, RemoteIP6: in.vaddr6, LocalIP6: o.Ifconfig.IPv6.Addr(), IP6Bits: o.Ifconfig.IPv6.Bits()}
	if in.s.pool.topo == ippool.Subnet {
		pa.Netmask = in.vmask4
	} else {
		pa.LocalIP = in.vmask4
	}
	in.env.SetPoolAddrs(pa)
}

// applyConnectConfig merges what client-connect returned (ccd syntax) into
// the client's configuration; new static addresses replace the assigned
// ones.
func (in *instance) applyConnectConfig(now time.Time, text []byte) error {
	if len(bytes.TrimSpace(text)) == 0 {
		return nil
	}
	c, diags, err := config.ParseCCD(bytes.NewReader(text), "client-connect output")
	if err != nil {
		return &authError{log: fmt.Sprintf("MULTI: client-connect output: %v", diags.Err())}
	}
	if in.ccd == nil {
		in.ccd = c
	} else {
		// client-connect options come after the ccd file's.
		merged := *in.ccd
		if c.IfconfigPush != nil {
			merged.IfconfigPush = c.IfconfigPush
		}
		if c.IfconfigIPv6Push.IsValid() {
			merged.IfconfigIPv6Push, merged.IfconfigIPv6Remote = c.IfconfigIPv6Push, c.IfconfigIPv6Remote
		}
		merged.IRoutes = append(merged.IRoutes, c.IRoutes...)
		merged.IRoutes6 = append(merged.IRoutes6, c.IRoutes6...)
		merged.Push = append(merged.Push, c.Push...)
		merged.PushReset = merged.PushReset || c.PushReset
		merged.PushRemove = append(merged.PushRemove, c.PushRemove...)
		merged.Disable = merged.Disable || c.Disable
		if c.PingSet {
			merged.Ping, merged.PingSet = c.Ping, true
		}
		if c.PingRecSet {
			merged.PingRestart, merged.PingRecSet = c.PingRestart, true
		}
		if c.InactiveSet {
			merged.Inactive, merged.InactiveBytes, merged.InactiveSet = c.Inactive, c.InactiveBytes, true
		}
		if c.CompressionSet {
			merged.Compression, merged.CompressionSet = c.Compression, true
		}
		in.ccd = &merged
	}
	if c.IfconfigPush != nil || c.IfconfigIPv6Push.IsValid() {
		in.s.pool.release(in, now)
		in.vaddr4, in.vmask4, in.vaddr6 = netip.Addr{}, netip.Addr{}, netip.Addr{}
		if err := in.s.pool.assign(in, now); err != nil {
			return err
		}
		in.setPoolEnv()
	}
	return nil
}

// finishSetup negotiates the cipher, installs the keys and the client's
// routes: the client is then ready for its PUSH_REPLY.
func (in *instance) finishSetup(now time.Time) error {
	s := in.s
	o := s.o
	if in.ccd != nil && in.ccd.Disable {
		return &authError{log: "MULTI: client is disabled (ccd 'disable')"}
	}
	km, _ := in.sess.PeerKeyMethod(0)
	cipher, err := in.chooseCipher(km)
	if err != nil {
		return &authError{client: err.Error(), log: err.Error()}
	}
	suite, err := datacrypto.NewSuite(cipher, o.Data.Auth)
	if err != nil {
		return fmt.Errorf("data channel %s: %w", cipher, err)
	}
	in.cipher, in.suite = cipher, suite
	in.derive = control.DerivePRF
	if in.ivProto&wire.IVProtoTLSKeyExport != 0 {
		in.derive = control.DeriveEKM
	} else if o.Server.ForceKeyMaterialExport {
		msg := "Data channel negotiation failed: Keying Material Exporters (RFC 5705) support missing in the client (force-tls-key-material-export)"
		return &authError{client: msg, log: msg}
	}
	mode := dataplane.Compression(o.Data.Compression.Algorithm)
	if in.ccd != nil && in.ccd.CompressionSet {
		mode = dataplane.Compression(in.ccd.Compression)
	}
	in.peer.Configure(dataplane.PeerSettings{
		PeerID:      in.peer.ID(),
		UseDataV2:   in.ivProto&wire.IVProtoDataV2 != 0,
		Compression: mode,
	})
	if err := in.installKey(0); err != nil {
		return err
	}
	// Routes: the client's tunnel addresses and iroutes, each accepted by
	// learn-address when there is one.
	if in.vaddr4.IsValid() {
		in.learn(netip.PrefixFrom(in.vaddr4, 32))
	}
	if in.vaddr6.IsValid() {
		in.learn(netip.PrefixFrom(in.vaddr6, 128))
	}
	if in.ccd != nil {
		for _, r := range append(append([]netip.Prefix(nil), in.ccd.IRoutes...), in.ccd.IRoutes6...) {
			in.learn(r)
		}
		if in.ccd.PingSet {
			in.ping = in.ccd.Ping
		}
		if in.ccd.PingRecSet {
			in.pingRestart = in.ccd.PingRestart
		}
	}
	inactive, inactiveBytes := o.Timers.Inactive, o.Timers.InactiveBytes
	if in.ccd != nil && in.ccd.InactiveSet {
		inactive, inactiveBytes = in.ccd.Inactive, in.ccd.InactiveBytes
	}
	in.inactive.Set(inactive, inactiveBytes, &in.peer.Peer, now)
	in.ready = true
	in.connectedAt = now
	in.publish()
	in.logf("Data Channel: cipher '%s', peer-id: %d, key derivation: %v", cipher, in.peer.ID(), in.derive)
	in.logf("MULTI: primary virtual IP for %s: %v", in.cn, in.vaddr4)
	return nil
}

// learn routes r to the client, unless the learn-address script refuses
// it (openvpn 2.6 then does not learn the address).
func (in *instance) learn(r netip.Prefix) {
	s := in.s
	if sc := s.o.Scripts.LearnAddress; sc != nil {
		addr := r.String()
		if r.IsSingleIP() {
			addr = r.Addr().String()
		}
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		err := s.hooks.LearnAddress(ctx, sc, in.env, hook.LearnAdd, addr, in.cn)
		cancel()
		if err != nil {
			in.logf("learn-address refused %s: %v", addr, err)
			return
		}
	}
	s.dp.AddRoute(r, in.peer)
	in.routes = append(in.routes, r)
}

// unlearn tells learn-address that the client's routes are gone
// (dataplane.Server.RemovePeer removed them).
func (in *instance) unlearn() {
	s := in.s
	for _, r := range in.routes {
		if sc := s.o.Scripts.LearnAddress; sc != nil {
			addr := r.String()
			if r.IsSingleIP() {
				addr = r.Addr().String()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s.hooks.LearnAddress(ctx, sc, nil, hook.LearnDelete, addr, "")
			cancel()
		}
	}
	in.routes = nil
}

// loadCCD reads client-config-dir/CN (or DEFAULT).
func (in *instance) loadCCD() error {
	dir := in.s.srv.ClientConfigDir
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(in.s.o.Dir, dir)
	}
	for _, name := range []string{in.cn, "DEFAULT"} {
		name, ok := hook.CCDFileName(name)
		if !ok {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		c, diags, err := (&config.Loader{}).LoadCCD(p)
		if err != nil {
			return fmt.Errorf("client-config-dir file %s: %v", p, diags.Err())
		}
		in.ccd = c
		return nil
	}
	if in.s.srv.CCDExclusive {
		return fmt.Errorf("MULTI: client-config-dir entry for %q missing and ccd-exclusive is set: refusing", in.cn)
	}
	return nil
}
