package config

// Post-processing and consistency checks, after OpenVPN 2.6's
// options_postprocess_* functions, with messages that say how to fix the
// configuration.

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// whole returns a position for problems about the configuration as a whole.
func (e *evaluator) whole() Directive {
	f := e.topFile
	if f == "" {
		f = CmdLineFile
	}
	return Directive{File: f}
}

// at returns the directive that set an option, or the whole-config position.
func (e *evaluator) at(name string) Directive {
	if d, ok := e.seen[name]; ok {
		return d
	}
	return e.whole()
}

func (e *evaluator) errAt(name, format string, args ...any) {
	d := e.at(name)
	e.d.errorf(d, name, format, args...)
}

// finishCiphers settles data-ciphers, cipher and the fallback
// (options_postprocess_setdefault_ncpciphers, _cipher, compat-mode).
func (e *evaluator) finishCiphers() {
	o := e.o
	dc := &o.Data
	if !e.ciphersSet {
		dc.Ciphers = append([]string(nil), DefaultDataCiphers...)
	}
	compat := func(v int) bool { return o.CompatMode != 0 && o.CompatMode < v }
	if compat(20400) && dc.Cipher == "" {
		dc.Cipher = "BF-CBC"
	}
	if dc.Cipher != "" && compat(20500) && !contains(dc.Ciphers, dc.Cipher) {
		if _, ok, _ := canonicalCipher(dc.Cipher); ok {
			dc.Ciphers = append(dc.Ciphers, dc.Cipher)
		}
	}
	pullOrServer := o.Pull || o.Client || o.Mode == ModeServer || e.srv.anyMacro()
	if !pullOrServer {
		// Point-to-point: "cipher" is the cipher (static key) or the
		// fallback (TLS); unset means the old default BF-CBC.
		c := dc.Cipher
		if c == "" {
			c = "BF-CBC"
		}
		_, supported, _ := canonicalCipher(c)
		if e.refs.secret != nil {
			if !supported {
				at := e.whole()
				if dc.Cipher != "" {
					at = e.cipherAt
				}
				e.d.errorf(at, "cipher", "static-key mode uses cipher %s, which openvpn-go does not support: set 'cipher AES-256-CBC' on both ends", c)
			}
			dc.Cipher = c
		} else if dc.Cipher != "" && dc.Fallback == "" && supported {
			dc.Fallback = dc.Cipher
		}
		return
	}
	if dc.Cipher != "" && dc.Fallback == "" && !contains(dc.Ciphers, dc.Cipher) {
		e.d.warnf(e.cipherAt, "cipher", "DEPRECATED OPTION: cipher %s is not in data-ciphers (%s) and is ignored for negotiation; add it to data-ciphers if the server needs it, or set data-ciphers-fallback for peers that cannot negotiate", dc.Cipher, strings.Join(dc.Ciphers, ":"))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// finishTLS settles the TLS role and version range.
func (e *evaluator) finishTLS() {
	o := e.o
	n := 0
	for _, b := range []bool{e.tlsServer, e.tlsClient, e.refs.secret != nil} {
		if b {
			n++
		}
	}
	if n > 1 {
		e.d.errorf(e.whole(), "", "specify only one of tls-server, tls-client (or client) and secret")
	}
	switch {
	case e.tlsServer:
		o.Role = RoleServer
	case e.tlsClient:
		o.Role = RoleClient
	}
	t := &o.TLS
	if !e.tlsMinSet {
		switch {
		case o.CompatMode != 0 && o.CompatMode < 20307:
			t.VersionMin = 0x0301
		case t.VersionMax == 0 || t.VersionMax >= 0x0303:
			t.VersionMin = 0x0303
		default:
			t.VersionMin = t.VersionMax
		}
	}
	if t.VersionMax != 0 && t.VersionMax < t.VersionMin {
		e.errAt("tls-version-max", "tls-version-min %s is above tls-version-max %s", tlsVersionName(t.VersionMin), tlsVersionName(t.VersionMax))
	}
	if o.Role == RoleServer {
		if e.refs.dh == nil && !t.DHNone {
			e.d.warnf(e.whole(), "dh", "no 'dh' given: OpenVPN 2.6 refuses to start without 'dh FILE' or 'dh none'; openvpn-go uses ECDHE only (as 'dh none' does), so add 'dh none'")
		} else if e.refs.dh != nil {
			e.d.warnf(e.refs.dh.at, "dh", "DH parameters are not used: Go's TLS has no finite-field DHE, so openvpn-go negotiates ECDHE (or TLS 1.3) only; write 'dh none'")
		}
	} else if e.refs.dh != nil || t.DHNone {
		if d, ok := e.seen["dh"]; ok && o.Role == RoleClient {
			e.d.warnf(d, "dh", "ignored in tls-client mode: dh belongs in the server configuration")
		}
		e.refs.dh = nil
	}
}

// finishCompression settles the allow-compression policy
// (options_set_backwards_compatible_options, check_compression_settings_valid).
func (e *evaluator) finishCompression() {
	c := &e.o.Data.Compression
	if e.allowCompSet {
		if c.Allow == AllowCompressionNo && c.Algorithm.Compresses() {
			e.d.errorf(e.allowCompAt, "allow-compression", "'allow-compression no' conflicts with '%s': remove the compression option or use 'compress stub-v2'", e.compAt.String())
		}
		return
	}
	if c.Algorithm.Compresses() {
		c.Allow = AllowCompressionAsym
		msg := "compression for receiving enabled: received packets are decompressed, sent packets are not compressed unless 'allow-compression yes' is also set (compression has been used to break encryption)"
		if e.compAt.Name == "comp-lzo" {
			msg = "DEPRECATED OPTION: comp-lzo; " + msg + ". Use 'compress stub-v2' or 'comp-lzo no' unless the server really compresses"
		}
		e.d.warn(e.compAt, e.compAt.Name, msg)
	}
}

// finishTimers applies the pre-pull ping-restart default
// (update_options_ce_post).
func (e *evaluator) finishTimers() {
	t := &e.o.Timers
	udp := false
	for _, c := range e.o.Connections {
		udp = udp || c.Proto == ProtoUDP
	}
	if e.o.Pull && udp && !e.pingRecSet && e.keepaliveAt == nil {
		t.PingRestart = 120 * time.Second
		t.PingRestartDefault = true
	}
}

// verify reports inconsistent combinations (options_postprocess_verify).
func (e *evaluator) verify() {
	o := e.o
	w := e.whole()
	if o.Device.Name == "" && !o.Device.MkTun && !o.Device.RmTun {
		e.d.errorf(w, "dev", "no device: add 'dev tun' (routed, the usual choice) or 'dev tap' (bridged)")
	} else if o.Device.Type == DevUnset && o.Device.Name != "" {
		e.errAt("dev", "cannot tell whether device %q is tun or tap: add 'dev-type tun' or 'dev-type tap'", o.Device.Name)
	}
	if o.Device.LLAddr != "" && o.Device.Type != DevTap {
		e.errAt("lladdr", "lladdr only works with a tap device")
	}
	server := o.Mode == ModeServer
	if (o.Client || o.Pull) && !server {
		hasRemote := false
		for _, c := range o.Connections {
			hasRemote = hasRemote || c.Remote != ""
		}
		if !hasRemote {
			e.d.errorf(w, "remote", "no 'remote': a client needs the server's address, e.g. 'remote vpn.example.com 1194 udp'")
		}
	}
	for i := range o.Connections {
		e.verifyEntry(&o.Connections[i], &e.entryRefs[i])
	}
	e.verifyWrapConflicts()
	if server {
		e.verifyServer()
	} else {
		e.verifyNotServer()
	}
	if o.Data.NoReplay && (o.Data.ReplayWindow != 64 || o.Data.ReplayTime != 15*time.Second) {
		e.errAt("replay-window", "replay-window makes no sense when replay protection is disabled with no-replay")
	}
	e.verifyTLS()
	if e.refs.userPass != nil && !o.Pull {
		e.d.errorf(e.refs.userPass.at, "auth-user-pass", "auth-user-pass needs pull mode: add 'client' (or 'pull')")
	}
	if m := o.Management; m != nil {
		if e.mgmtAt == nil {
			e.d.errorf(w, "management", "management-* options are given without 'management HOST PORT' or 'management PATH unix'")
		} else {
			if (m.ClientUser != "" || m.ClientGroup != "") && !m.Unix {
				e.d.errorf(*e.mgmtAt, "management", "management-client-user/-group only work with a unix socket ('management PATH unix')")
			}
			if !m.Unix && m.PasswordFile == "" {
				e.d.warnf(*e.mgmtAt, "management", "a management TCP port without a password file is insecure; add a password file or use a unix socket")
			}
		}
	}
	for _, s := range o.DNS.Servers {
		if len(s.Addresses) == 0 {
			e.errAt("dns", "dns server %d has no address: add 'dns server %d address ADDR'", s.Priority, s.Priority)
		}
	}
	if o.Device.Type == DevTun && o.Routing.RedirectGateway != nil && o.Routing.RedirectGateway.IPv6 && !o.Routing.BlockIPv6 && !o.Ifconfig.IPv6.IsValid() && !o.Pull {
		e.errAt("redirect-gateway", "the ipv6 flag needs IPv6 on the tunnel (ifconfig-ipv6)")
	}
}

// verifyEntry checks one connection entry (options_postprocess_verify_ce).
func (e *evaluator) verifyEntry(c *Connection, cs *connState) {
	o := e.o
	at := Directive{File: c.File, Line: c.Line}
	if c.File == "" {
		at = e.at("proto")
	}
	if c.Proto == ProtoTCP {
		e.d.errorf(at, "proto", "'tcp' is ambiguous here: write 'proto tcp-client' or 'proto tcp-server' (or use 'client'/'server')")
	}
	if cs.tunMTUSet && cs.linkMTUSet {
		e.d.errorf(at, "link-mtu", "only one of tun-mtu and link-mtu may be given; keep tun-mtu")
	}
	if c.Local != "" && c.Local == c.Remote && c.LocalPort == c.RemotePort && c.Bind {
		e.d.errorf(at, "local", "local and remote are the same address and port")
	}
	for _, a := range []string{o.Ifconfig.Local.String(), o.Ifconfig.Remote.String()} {
		if o.Ifconfig.Local.IsValid() && (c.Remote == a || c.Local == a) {
			e.d.errorf(at, "ifconfig", "the tunnel addresses (ifconfig) must differ from the local and remote addresses")
		}
	}
	if cs.bindDefined && cs.nobind {
		e.d.errorf(at, "nobind", "bind and nobind cannot be used together")
	}
	if c.Local != "" && cs.nobind {
		e.d.errorf(at, "nobind", "local and nobind cannot be used together")
	}
	if cs.localPortDefined && cs.nobind {
		e.d.errorf(at, "nobind", "lport and nobind cannot be used together")
	}
	if c.Remote == "" && cs.nobind && o.Mode != ModeServer {
		e.d.errorf(at, "nobind", "nobind makes no sense without a remote")
	}
	if c.Fragment > 0 && c.Proto != ProtoUDP {
		e.d.errorf(at, "fragment", "fragment only works with proto udp")
	}
	if c.Remote == "" && c.Proto == ProtoTCPClient {
		e.d.errorf(at, "remote", "TCP client mode needs a remote")
	}
	if c.HTTPProxy != nil {
		if c.Proto != ProtoTCPClient {
			e.d.errorf(at, "http-proxy", "http-proxy needs proto tcp-client (or tcp with client)")
		}
		if c.HTTPProxy.Host == "" {
			e.d.errorf(at, "http-proxy", "http-proxy options given without 'http-proxy HOST PORT'")
		}
		if c.SocksProxy != nil {
			e.d.errorf(at, "socks-proxy", "http-proxy and socks-proxy cannot be used together")
		}
	}
	if c.SocksProxy != nil && c.Proto == ProtoTCPServer {
		e.d.errorf(at, "socks-proxy", "socks-proxy cannot be used in TCP server mode")
	}
	if c.Proto == ProtoTCPServer && len(o.Connections) > 1 && c.Remote != "" {
		e.d.errorf(at, "proto", "TCP server mode allows at most one remote")
	}
	if c.Proto == ProtoTCPServer && o.Client {
		e.d.errorf(at, "proto", "a client cannot use proto tcp-server: write 'proto tcp' or 'tcp-client'")
	}
}

// verifyWrapConflicts checks that at most one control-channel protection is
// configured per place.
func (e *evaluator) verifyWrapConflicts() {
	check := func(a, c, v2 *fileRef) {
		if a != nil && c != nil {
			e.d.errorf(c.at, "tls-crypt", "tls-auth and tls-crypt are mutually exclusive: keep one (tls-crypt if the server supports it)")
		}
		if v2 != nil && (a != nil || c != nil) {
			if e.o.Mode == ModeServer {
				e.d.errorf(v2.at, "tls-crypt-v2", "openvpn-go supports one control-channel protection per server; remove tls-auth/tls-crypt or tls-crypt-v2")
			} else {
				e.d.errorf(v2.at, "tls-crypt-v2", "tls-crypt-v2, tls-auth and tls-crypt are mutually exclusive on a client: keep one")
			}
		}
	}
	check(e.gwrap.tlsAuth, e.gwrap.tlsCrypt, e.gwrap.tlsCryptV2)
	for _, b := range e.blocks {
		check(b.tlsAuth, b.tlsCrypt, b.tlsCryptV2)
	}
}

// verifyServer checks mode server.
func (e *evaluator) verifyServer() {
	o := e.o
	s := &e.srv
	w := e.whole()
	if o.Device.Type != DevTun && o.Device.Type != DevTap && o.Device.Name != "" {
		e.errAt("dev", "mode server only works with dev tun or dev tap")
	}
	if o.Pull || o.Client {
		e.d.errorf(w, "client", "client/pull cannot be used with mode server")
	}
	if len(o.Routing.PullFilters) > 0 {
		e.d.warnf(e.at("pull-filter"), "pull-filter", "ignored in mode server")
	}
	if o.Role != RoleServer {
		e.d.errorf(e.at("mode"), "mode", "mode server needs tls-server (the 'server' directive sets both)")
	}
	for _, c := range o.Connections {
		if c.Proto != ProtoUDP && c.Proto != ProtoTCPServer {
			e.errAt("proto", "mode server supports proto udp, udp4, udp6, tcp-server, tcp4-server and tcp6-server only")
		}
		if c.Remote != "" {
			e.d.errorf(Directive{File: c.File, Line: c.Line}, "remote", "remote cannot be used with mode server")
		}
		if !c.Bind {
			e.errAt("nobind", "nobind cannot be used with mode server")
		}
		if c.HTTPProxy != nil || c.SocksProxy != nil {
			e.errAt("http-proxy", "proxies cannot be used with mode server")
		}
		if c.Proto != ProtoUDP && (s.s.ConnectFreq.N != 0 || s.s.ConnectFreq.Per != 0) {
			e.errAt("connect-freq", "connect-freq only works with proto udp; use max-clients instead")
		}
	}
	if len(e.blocks) > 0 {
		e.d.errorf(Directive{File: e.blocks[0].c.File, Line: e.blocks[0].c.Line}, "connection", "<connection> blocks cannot be used with mode server")
	}
	if o.Scripts.IPChange != nil {
		e.errAt("ipchange", "ipchange cannot be used with mode server (use client-connect)")
	}
	if s.pool != nil && s.pool.Netmask.IsValid() && !(o.Device.Type == DevTap || o.Device.Topology == TopologySubnet) {
		e.errAt("ifconfig-pool", "the netmask argument of ifconfig-pool only applies to dev tap or topology subnet")
	}
	if o.Routing.RedirectGateway != nil {
		e.errAt("redirect-gateway", "redirect-gateway cannot be used with mode server; push it to the clients instead: push \"redirect-gateway def1\"")
	}
	if o.Routing.DelaySet {
		e.errAt("route-delay", "route-delay cannot be used with mode server")
	}
	if o.Scripts.UpDelay {
		e.errAt("up-delay", "up-delay cannot be used with mode server")
	}
	if s.pool == nil && !s.pool6.IsValid() && s.s.PoolPersist != "" {
		e.errAt("ifconfig-pool-persist", "ifconfig-pool-persist needs a pool (server or ifconfig-pool, or ifconfig-ipv6-pool)")
	}
	if s.pool6.IsValid() && !o.Ifconfig.IPv6.IsValid() {
		e.errAt("ifconfig-ipv6-pool", "ifconfig-ipv6-pool needs ifconfig-ipv6 (or use server-ipv6)")
	}
	if o.Routing.AllowRecursiveRouting {
		e.errAt("allow-recursive-routing", "allow-recursive-routing cannot be used with mode server")
	}
	if e.refs.userPass != nil {
		e.d.errorf(e.refs.userPass.at, "auth-user-pass", "auth-user-pass cannot be used with mode server (it belongs in the client configuration)")
	}
	if s.s.CCDExclusive && s.s.ClientConfigDir == "" {
		e.errAt("ccd-exclusive", "ccd-exclusive needs client-config-dir")
	}
	if g := s.s.AuthGenToken; g != nil {
		if o.TLS.Reneg.Seconds == 0 {
			e.errAt("auth-gen-token", "auth-gen-token needs renegotiation: reneg-sec must not be 0")
		}
		if g.Renewal != 0 && g.Renewal < 2*o.TLS.HandWindow {
			e.errAt("auth-gen-token", "the renewal time (%d s) must be at least twice hand-window (%d s)", g.Renewal/time.Second, o.TLS.HandWindow/time.Second)
		}
	}
	ccnr := o.Scripts.AuthUserPassVerify != nil || len(o.Scripts.Plugins) > 0 || (o.Management != nil && o.Management.ClientAuth)
	const postfix = "needs another way to authenticate clients: management-client-auth, an auth-user-pass-verify script (or a plugin)"
	if s.s.VerifyClientCert != ClientCertRequire && !ccnr {
		e.errAt("verify-client-cert", "verify-client-cert none|optional %s", postfix)
	}
	if s.s.UsernameAsCommonName && !ccnr {
		e.errAt("username-as-common-name", "username-as-common-name %s", postfix)
	}
	if s.s.AuthUserPassOptional && !ccnr {
		e.errAt("auth-user-pass-optional", "auth-user-pass-optional %s", postfix)
	}
	if s.s.VerifyClientCert != ClientCertRequire {
		e.d.warnf(e.at("verify-client-cert"), "verify-client-cert", "WARNING: POTENTIALLY DANGEROUS: verify-client-cert none|optional may accept clients without a certificate")
	}
	if s.s.VLANTagging && o.Device.Type != DevTap {
		e.errAt("vlan-tagging", "vlan-tagging needs dev tap")
	}
	if !s.s.VLANTagging {
		if s.s.VLANAccept != "all" {
			e.errAt("vlan-accept", "vlan-accept needs vlan-tagging")
		}
		if s.s.VLANPVID != 1 {
			e.errAt("vlan-pvid", "vlan-pvid needs vlan-tagging")
		}
	}
	if s.serverAt == nil && s.bridgeAt == nil && s.pool == nil && !s.pool6.IsValid() && !o.Ifconfig.Local.IsValid() && !o.Ifconfig.IPv6.IsValid() && o.Device.Type == DevTun {
		e.d.warnf(e.at("mode"), "mode", "no addresses: without 'server', ifconfig or a pool, clients must get addresses from client-config-dir or client-connect")
	}
}

// verifyNotServer reports server-only options outside mode server.
func (e *evaluator) verifyNotServer() {
	o := e.o
	for _, name := range []string{"ifconfig-pool", "ifconfig-pool-persist", "ifconfig-ipv6-pool", "client-config-dir", "ccd-exclusive", "client-to-client", "duplicate-cn", "connect-freq", "username-as-common-name", "auth-user-pass-optional", "opt-verify", "auth-gen-token", "port-share", "stale-routes-check", "vlan-tagging", "force-tls-key-material-export", "hash-size"} {
		if d, ok := e.srv.marks[name]; ok {
			e.d.errorf(d, name, "%s requires mode server (add 'server NETWORK NETMASK', or 'mode server' with 'tls-server')", name)
		}
	}
	if e.o.Server == nil && e.srv.s.VerifyClientCert != ClientCertRequire {
		e.errAt("verify-client-cert", "verify-client-cert requires mode server")
	}
	for _, name := range []string{"learn-address", "client-connect", "client-disconnect", "client-crresponse", "auth-user-pass-verify"} {
		if d, ok := e.scriptAt[name]; ok {
			e.d.errorf(d, name, "%s requires mode server", name)
		}
	}
	if d, ok := e.srv.marks["push"]; ok && o.Role != RoleServer {
		e.d.warnf(d, "push", "push has no effect without tls-server (mode server, or a point-to-point TLS server)")
	}
	if o.Device.Type == DevTun && !o.Pull && o.Device.Topology == TopologySubnet && o.Ifconfig.Local.IsValid() {
		if _, ok := netmaskBits(o.Ifconfig.Remote); !ok {
			e.errAt("ifconfig", "with topology subnet the second ifconfig address is a netmask; %s is not one", o.Ifconfig.Remote)
		}
	}
}

// verifyTLS checks TLS material combinations.
func (e *evaluator) verifyTLS() {
	o := e.o
	t := &o.TLS
	r := &e.refs
	w := e.whole()
	mgmt := o.Management
	extKey := mgmt != nil && mgmt.ExternalKey
	extCert := mgmt != nil && mgmt.ExternalCert != ""
	if o.Role == RoleNone {
		if r.secret == nil {
			e.d.errorf(w, "", "no TLS role and no static key: the tunnel would be unencrypted. Add 'client' (or tls-client/tls-server with certificates, or peer-fingerprint)")
		}
		for name, set := range map[string]bool{"ca": r.ca != nil, "cert": r.cert != nil, "key": r.key != nil, "pkcs12": r.pkcs12 != nil, "dh": r.dh != nil, "crl-verify": r.crl != nil, "tls-auth": e.gwrap.tlsAuth != nil, "tls-crypt": e.gwrap.tlsCrypt != nil, "tls-crypt-v2": e.gwrap.tlsCryptV2 != nil, "verify-x509-name": t.VerifyX509Name != nil, "remote-cert-tls": t.RemoteCertTLS != CertUsageNone} {
			if set {
				e.errAt(name, "%s only applies in TLS mode (with tls-client/tls-server or client/server), not with a static key", name)
			}
		}
		if o.Pull {
			e.d.errorf(w, "pull", "pull needs TLS mode (tls-client)")
		}
		return
	}
	if t.VersionMinOrHighest {
		// fine
	}
	noCA := r.ca == nil && t.CAPath == "" && r.pkcs12 == nil
	if noCA && len(t.PeerFingerprints) == 0 {
		e.d.errorf(w, "ca", "no CA: add 'ca FILE' (or an inline <ca> block), or pin the peer certificate with peer-fingerprint")
	}
	if noCA && len(t.VerifyHash) > 0 && len(t.PeerFingerprints) == 0 {
		e.d.errorf(*e.verifyHashAt, "verify-hash", "verify-hash checks the CA above the peer; it cannot replace 'ca' (peer-fingerprint can)")
	}
	switch {
	case extKey && r.key != nil:
		e.errAt("key", "key and management-external-key are mutually exclusive")
	case extCert:
		if r.cert != nil {
			e.errAt("cert", "cert and management-external-cert are mutually exclusive")
		} else if !extKey {
			e.errAt("management-external-cert", "management-external-cert needs management-external-key")
		}
	case r.pkcs12 != nil:
		if t.CAPath != "" {
			e.errAt("capath", "capath cannot be used with pkcs12")
		}
		if r.cert != nil {
			e.d.errorf(r.cert.at, "cert", "cert cannot be used with pkcs12 (the PKCS#12 file holds the certificate)")
		}
		if r.key != nil {
			e.d.errorf(r.key.at, "key", "key cannot be used with pkcs12 (the PKCS#12 file holds the key)")
		}
		if extKey {
			e.errAt("management-external-key", "management-external-key cannot be used with pkcs12")
		}
	default:
		hasCert := r.cert != nil || extCert
		hasKey := r.key != nil || extKey
		if o.Pull {
			switch {
			case !hasCert && !hasKey:
				if r.userPass == nil {
					e.d.errorf(w, "", "no client authentication: give 'cert' and 'key', 'pkcs12', or 'auth-user-pass'")
				}
			case hasCert != hasKey:
				e.d.errorf(w, "", "cert and key must be given together")
			}
		} else {
			if !hasCert {
				e.d.errorf(w, "cert", "no certificate: give 'cert FILE' (or 'pkcs12 FILE')")
			}
			if !hasKey {
				e.d.errorf(w, "key", "no private key: give 'key FILE' (or 'pkcs12 FILE')")
			}
		}
	}
	if t.CRLDir != "" {
		if st, err := e.files.stat(resolve(e.dir, t.CRLDir)); err != nil || !st.IsDir() {
			e.errAt("crl-verify", "CRL directory %q does not exist", t.CRLDir)
		}
	}
}

// checkMaterials does light format checks on the files read, so that a
// wrong file is reported by check rather than at the first connection.
func (e *evaluator) checkMaterials() {
	o := e.o
	t := &o.TLS
	pemCheck := func(m *Material, option string, wantType func(string) bool, what string) {
		if m == nil {
			return
		}
		found := false
		rest := m.Data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if wantType(b.Type) {
				found = true
			}
		}
		if !found {
			e.d.errorf(Directive{File: m.File, Line: m.Line}, option, "%s: no %s found (expected a PEM block such as -----BEGIN %s-----)", materialName(m), what, strings.ToUpper(what))
		}
	}
	isCert := func(s string) bool {
		return s == "CERTIFICATE" || s == "TRUSTED CERTIFICATE" || s == "X509 CERTIFICATE"
	}
	pemCheck(t.CA, "ca", isCert, "certificate")
	pemCheck(t.Cert, "cert", isCert, "certificate")
	pemCheck(t.ExtraCerts, "extra-certs", isCert, "certificate")
	pemCheck(t.Key, "key", func(s string) bool { return strings.HasSuffix(s, "PRIVATE KEY") }, "private key")
	if t.CRL != nil && bytes.Contains(t.CRL.Data, []byte("-----BEGIN")) {
		pemCheck(t.CRL, "crl-verify", func(s string) bool { return s == "X509 CRL" }, "X509 CRL")
	}
	if m := o.Data.Secret; m != nil {
		if err := checkStaticKey(m.Data); err != nil {
			e.d.errorf(Directive{File: m.File, Line: m.Line}, "secret", "%s: %v", materialName(m), err)
		}
	}
	seen := map[*Material]bool{}
	for _, c := range o.Connections {
		m := c.Wrap.Key
		if m == nil || seen[m] {
			continue
		}
		seen[m] = true
		at := Directive{File: m.File, Line: m.Line}
		switch c.Wrap.Mode {
		case WrapTLSAuth, WrapTLSCrypt:
			if err := checkStaticKey(m.Data); err != nil {
				e.d.errorf(at, c.Wrap.Mode.String(), "%s: %v", materialName(m), err)
			}
		case WrapTLSCryptV2:
			want := "OpenVPN tls-crypt-v2 client key"
			if o.Mode == ModeServer {
				want = "OpenVPN tls-crypt-v2 server key"
			}
			if !hasPEMType(m.Data, want) {
				e.d.errorf(at, "tls-crypt-v2", "%s: no '-----BEGIN %s-----' block (is this the right key for a %s?)", materialName(m), want, map[bool]string{true: "server", false: "client"}[o.Mode == ModeServer])
			}
		}
	}
	if o.Server != nil && o.Server.TokenSecret != nil {
		m := o.Server.TokenSecret
		if !hasPEMType(m.Data, "OpenVPN auth-token server key") {
			e.d.errorf(Directive{File: m.File, Line: m.Line}, "auth-gen-token-secret", "%s: no '-----BEGIN OpenVPN auth-token server key-----' block (generate one with 'openvpn --genkey auth-token FILE')", materialName(m))
		}
	}
}

func materialName(m *Material) string {
	if m.Inline {
		return "inline block"
	}
	return m.Path
}

// hasPEMType reports whether data contains a PEM block of the given type.
func hasPEMType(data []byte, typ string) bool {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false
		}
		if b.Type == typ {
			return true
		}
	}
}

// checkStaticKey checks an "OpenVPN Static key V1" file: 256 bytes in hex
// between the BEGIN and END lines.
func checkStaticKey(data []byte) error {
	const begin, end = "-----BEGIN OpenVPN Static key V1-----", "-----END OpenVPN Static key V1-----"
	s := string(data)
	i := strings.Index(s, begin)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("not an OpenVPN static key (no %s ... %s; generate one with 'openvpn --genkey secret FILE')", begin, end)
	}
	var hexs strings.Builder
	for _, line := range strings.Split(s[i+len(begin):j], "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		hexs.WriteString(line)
	}
	raw, err := hex.DecodeString(hexs.String())
	if err != nil {
		return fmt.Errorf("static key is not valid hex: %v", err)
	}
	if len(raw) != 256 {
		return fmt.Errorf("static key holds %d bytes; an OpenVPN static key has 256", len(raw))
	}
	return nil
}

// checkScripts checks that every hook's executable exists and warns when
// script-security will stop it from running.
func (e *evaluator) checkScripts() {
	o := e.o
	sc := &o.Scripts
	hooks := []struct {
		name string
		s    *Script
	}{
		{"up", sc.Up}, {"down", sc.Down}, {"route-up", sc.RouteUp}, {"route-pre-down", sc.RoutePreDown},
		{"ipchange", sc.IPChange}, {"tls-verify", sc.TLSVerify}, {"client-connect", sc.ClientConnect},
		{"client-disconnect", sc.ClientDisconnect}, {"client-crresponse", sc.ClientCRResponse},
		{"learn-address", sc.LearnAddress}, {"auth-user-pass-verify", sc.AuthUserPassVerify},
		{"tls-crypt-v2-verify", sc.TLSCryptV2Verify},
	}
	for _, h := range hooks {
		s := h.s
		if s == nil {
			continue
		}
		at := Directive{File: s.File, Line: s.Line}
		if s.Path == "" {
			e.d.errorf(at, h.name, "no path to an executable in %q", s.Command)
			continue
		}
		full := resolve(o.Dir, s.Path)
		s.Path = full
		st, err := e.files.stat(full)
		switch {
		case err != nil:
			e.d.errorf(at, h.name, "script %q not found (looked for %s): %s", firstWord(s.Command), full, describeFileError(err))
		case st.IsDir():
			e.d.errorf(at, h.name, "script %q is a directory", full)
		case st.Mode().Perm()&0o111 == 0 && st.Mode()&fs.ModeType == 0:
			e.d.errorf(at, h.name, "script %q is not executable (chmod +x %s)", full, full)
		}
		if sc.Security < 2 {
			e.d.warnf(at, h.name, "the script will not run: script-security is %d; add 'script-security 2' to allow user scripts", sc.Security)
		}
	}
	if sc.AuthUserPassVerify != nil && sc.AuthUserPassVerifyMethod == ViaEnv && sc.Security < 3 && sc.Security >= 2 {
		e.d.warnf(Directive{File: sc.AuthUserPassVerify.File, Line: sc.AuthUserPassVerify.Line}, "auth-user-pass-verify", "via-env only passes the password with 'script-security 3'; use via-file or raise script-security")
	}
	// Output files: their directory must exist, as OpenVPN checks.
	for _, f := range []struct{ option, name string }{
		{"status", o.Log.Status}, {"writepid", o.Process.WritePID}, {"log", o.Log.File},
	} {
		if f.name == "" {
			continue
		}
		dir := filepath.Dir(resolve(o.Dir, f.name))
		if st, err := e.files.stat(dir); err != nil || !st.IsDir() {
			e.errAt(f.option, "directory %s for %q does not exist", dir, f.name)
		}
	}
	if m := o.Management; m != nil && m.PasswordFile != "" && m.PasswordFile != "stdin" {
		p := resolve(o.Dir, m.PasswordFile)
		if _, err := e.files.stat(p); err != nil {
			e.errAt("management", "password file %q not found (looked for %s): %s", m.PasswordFile, p, describeFileError(err))
		}
	}
	if o.Server != nil && o.Server.ClientConfigDir != "" {
		dir := resolve(o.Dir, o.Server.ClientConfigDir)
		if st, err := e.files.stat(dir); err != nil || !st.IsDir() {
			e.errAt("client-config-dir", "client-config-dir %q does not exist (looked for %s)", o.Server.ClientConfigDir, dir)
		}
	}
}

func firstWord(s string) string {
	w, err := splitLine(s)
	if err != nil || len(w) == 0 {
		return s
	}
	return w[0]
}
