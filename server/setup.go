package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/dataplane"
)

// setup runs after a successful authentication: per-client configuration
// (client-config-dir, client-connect), address assignment, cipher
// negotiation, data keys and routes. The client is then ready for its
// PUSH_REPLY.
func (in *instance) setup(now time.Time) error {
	s := in.s
	o := s.o
	if err := in.loadCCD(); err != nil {
		return err
	}
	if err := in.runClientConnect(); err != nil {
		return err
	}
	if in.ccd != nil && in.ccd.Disable {
		return errors.New("client is disabled (ccd 'disable')")
	}
	if err := s.pool.assign(in, now); err != nil {
		return err
	}
	km, _ := in.sess.PeerKeyMethod(0)
	cipher, err := in.chooseCipher(km)
	if err != nil {
		return err
	}
	suite, err := datacrypto.NewSuite(cipher, o.Data.Auth)
	if err != nil {
		return fmt.Errorf("data channel %s: %w", cipher, err)
	}
	in.cipher, in.suite = cipher, suite
	in.derive = control.DerivePRF
	if in.ivProto&ivTLSKeyExport != 0 {
		in.derive = control.DeriveEKM
	} else if o.Server.ForceKeyMaterialExport {
		return errors.New("Data channel negotiation failed: Keying Material Exporters (RFC 5705) support missing in the client (force-tls-key-material-export)")
	}
	mode := compModeOf(o.Data.Compression.Algorithm)
	if in.ccd != nil && in.ccd.CompressionSet {
		mode = compModeOf(in.ccd.Compression)
	}
	in.peer.Configure(dataplane.PeerSettings{
		PeerID:      in.peer.ID(),
		UseDataV2:   in.ivProto&ivDataV2 != 0,
		Compression: mode,
	})
	if err := in.installKey(0); err != nil {
		return err
	}
	// Routes: the client's tunnel addresses and iroutes.
	if in.vaddr4.IsValid() {
		s.dp.AddRoute(netip.PrefixFrom(in.vaddr4, 32), in.peer)
	}
	if in.vaddr6.IsValid() {
		s.dp.AddRoute(netip.PrefixFrom(in.vaddr6, 128), in.peer)
	}
	if in.ccd != nil {
		for _, r := range append(append([]netip.Prefix(nil), in.ccd.IRoutes...), in.ccd.IRoutes6...) {
			s.dp.AddRoute(r, in.peer)
			in.routes = append(in.routes, r)
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
		if name == "" || name == "." || name == ".." {
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

// runClientConnect runs the client-connect script; its output file holds
// ccd-format options that extend the client's configuration.
func (in *instance) runClientConnect() error {
	o := in.s.o
	sc := o.Scripts.ClientConnect
	if sc == nil || o.Scripts.Security < 2 {
		return nil
	}
	dir := o.Scripts.TmpDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "openvpn_cc_")
	if err != nil {
		return err
	}
	f.Close()
	defer os.Remove(f.Name())
	ctx, cancel := context.WithTimeout(context.Background(), in.handWindow())
	defer cancel()
	cmd := exec.CommandContext(ctx, sc.Path, append(append([]string(nil), sc.Args...), f.Name())...)
	cmd.Env = append(in.baseEnv("client-connect"), "client_connect_config_file="+f.Name())
	cmd.Dir = o.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("client-connect script failed: %v %s", err, out)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil || len(b) == 0 {
		return nil
	}
	c, diags, err := (&config.Loader{}).LoadCCD(f.Name())
	if err != nil {
		return fmt.Errorf("client-connect output: %v", diags.Err())
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
		in.ccd = &merged
	}
	return nil
}

func compModeOf(a config.CompAlgorithm) comp.Mode {
	switch a {
	case config.CompLZOStub:
		return comp.LZOStub
	case config.CompLZO:
		return comp.LZO
	case config.CompStub:
		return comp.StubSwap
	case config.CompLZ4:
		return comp.LZ4
	case config.CompStubV2:
		return comp.StubV2
	case config.CompLZ4V2:
		return comp.LZ4V2
	}
	return comp.None
}
