package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/internal/lab"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/pki"
)

// runCmd runs one of the subcommands and returns its exit status and output.
func runCmd(t *testing.T, cmd func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := cmd(args, &out, &errb)
	return rc, out.String(), errb.String()
}

// mustInit runs init into a new directory and returns it.
func mustInit(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vpn")
	rc, out, errs := runCmd(t, cmdInit, append([]string{dir}, args...)...)
	if rc != 0 {
		t.Fatalf("init %v: exit %d\n%s%s", args, rc, out, errs)
	}
	return dir
}

// load reads a configuration as `openvpn-go check` does and fails on any
// error or warning.
func load(t *testing.T, path string) *config.Options {
	t.Helper()
	o, d, err := config.Load(path)
	if err != nil {
		t.Fatalf("%s does not pass openvpn-go check: %v", path, err)
	}
	for _, w := range d.Warnings() {
		t.Errorf("%s: warning: %v", path, w.Error())
	}
	return o
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}

func pushes(o *config.Options) []string {
	var l []string
	for _, p := range o.Server.Push {
		if !p.Generated {
			l = append(l, p.Option)
		}
	}
	return l
}

func TestInitDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vpn")
	rc, out, errs := runCmd(t, cmdInit, dir)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	for _, want := range []string{"server.conf", "ca.key", "client-profile " + dir + " NAME --remote HOST", "openvpn --config " + filepath.Join(dir, "server.conf")} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	for path, mode := range map[string]os.FileMode{
		dir:                              0o755,
		dir + "/server.conf":             0o644,
		dir + "/setup.json":              0o644,
		dir + "/tls-crypt-v2-server.key": 0o600,
		dir + "/auth-token.key":          0o600,
		dir + "/pki/ca.crt":              0o644,
		dir + "/pki/private":             0o700,
		dir + "/pki/private/ca.key":      0o600,
		dir + "/pki/private/server.key":  0o600,
		dir + "/pki/issued/server.crt":   0o644,
		dir + "/pki/crl.pem":             0o644,
		dir + "/pki/index.json":          0o644,
	} {
		checkMode(t, path, mode)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("init left %s behind", e.Name())
		}
	}
	if b, _ := os.ReadFile(dir + "/tls-crypt-v2-server.key"); len(b) == 0 {
		t.Error("empty tls-crypt-v2 server key")
	} else if _, err := keys.ParseTLSCryptV2ServerKey(b); err != nil {
		t.Errorf("tls-crypt-v2 server key: %v", err)
	}
	if b, _ := os.ReadFile(dir + "/auth-token.key"); len(b) == 0 {
		t.Error("empty auth-token key")
	} else if _, err := keys.ParseAuthTokenKey(b); err != nil {
		t.Errorf("auth-token key: %v", err)
	}

	// server.conf reads cleanly and says what init promised.
	o := load(t, filepath.Join(dir, "server.conf"))
	if o.Mode != config.ModeServer || o.Server == nil || len(o.Connections) != 1 {
		t.Fatalf("not a server: mode %v", o.Mode)
	}
	c := o.Connections[0]
	if c.Proto != config.ProtoUDP || c.Family != config.FamilyIPv6 || c.LocalPort != 1194 || c.BindIPv6Only {
		t.Errorf("transport %s port %d ipv6only %v, want dual-stack udp6 1194", config.ProtoName(c.Proto, c.Family), c.LocalPort, c.BindIPv6Only)
	}
	if c.ExplicitExitNotify != 1 {
		t.Errorf("explicit-exit-notify %d", c.ExplicitExitNotify)
	}
	if c.Wrap.Mode.String() != "tls-crypt-v2" || c.Wrap.Key == nil || c.Wrap.Key.ResolvedPath != filepath.Join(dir, "tls-crypt-v2-server.key") {
		t.Errorf("wrap %v %+v", c.Wrap.Mode, c.Wrap.Key)
	}
	m := o.Server.Macro
	if m.Network != netip.MustParsePrefix("10.8.0.0/24") {
		t.Errorf("server network %v", m.Network)
	}
	if !m.Network6.IsValid() || m.Network6.Bits() != 64 || !netip.MustParsePrefix("fd00::/8").Contains(m.Network6.Addr()) {
		t.Errorf("server-ipv6 %v, want a ULA /64", m.Network6)
	}
	if o.Device.Topology.String() != "subnet" {
		t.Errorf("topology %v", o.Device.Topology)
	}
	if o.TLS.RemoteCertTLS.String() != "client" || !o.TLS.DHNone || o.TLS.CRL == nil || o.TLS.CA == nil || o.TLS.Cert == nil || o.TLS.Key == nil {
		t.Errorf("tls: remote-cert-tls %v dh none %v crl %v", o.TLS.RemoteCertTLS, o.TLS.DHNone, o.TLS.CRL)
	}
	if o.Server.AuthGenToken == nil || o.Server.TokenSecret == nil || o.Server.TokenSecret.ResolvedPath != filepath.Join(dir, "auth-token.key") {
		t.Errorf("auth-gen-token %+v secret %+v", o.Server.AuthGenToken, o.Server.TokenSecret)
	}
	if o.Timers.Ping != 10*time.Second || o.Timers.PingRestart != 120*time.Second {
		t.Errorf("keepalive: ping %v ping-restart %v", o.Timers.Ping, o.Timers.PingRestart)
	}
	if o.Log.Verb != 3 || o.Log.Status != filepath.Join(dir, "openvpn-status.log") || o.Server.PoolPersist != filepath.Join(dir, "ipp.txt") {
		t.Errorf("verb %d status %q ipp %q", o.Log.Verb, o.Log.Status, o.Server.PoolPersist)
	}
	if p := pushes(o); len(p) != 0 {
		t.Errorf("pushes %v, want none by default", p)
	}
	if got, want := o.Server.Pool6.Addr(), pool6Start(m.Network6); got != want {
		t.Errorf("IPv6 pool starts at %v, server.conf's comment says %v", got, want)
	}
	if len(o.Data.Ciphers) == 0 {
		t.Error("no data ciphers")
	}

	// The server's certificate as openvpn needs it, from the CA of the setup.
	ca, err := pki.Open(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	srv := parseCert(t, o.TLS.Cert.Data)
	if srv.Subject.CommonName != "server" || !slices.Equal(srv.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || srv.KeyUsage == 0 {
		t.Errorf("server certificate CN %q EKU %v KU %b", srv.Subject.CommonName, srv.ExtKeyUsage, srv.KeyUsage)
	}
	verifyChain(t, srv, ca.Cert, x509.ExtKeyUsageServerAuth)

	var st setup
	b, _ := os.ReadFile(filepath.Join(dir, "setup.json"))
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.ServerName != "server" || st.Port != 1194 || st.Proto != "udp" || st.PublicAddress != "" || st.Network6 != m.Network6.String() {
		t.Errorf("setup.json %+v", st)
	}

	// Two setups get different IPv6 networks and CAs.
	dir2 := mustInit(t)
	o2 := load(t, filepath.Join(dir2, "server.conf"))
	if o2.Server.Macro.Network6 == m.Network6 {
		t.Errorf("two setups share %v", m.Network6)
	}
	if bytes.Equal(o2.TLS.CA.Data, o.TLS.CA.Data) {
		t.Error("two setups share a CA")
	}
}

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("no certificate in %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verifyChain(t *testing.T, c, ca *x509.Certificate, usage x509.ExtKeyUsage) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Errorf("%s: %v", c.Subject.CommonName, err)
	}
}

func TestInitOptions(t *testing.T) {
	dir := mustInit(t, "--proto", "tcp", "--port", "443", "--network", "10.9.0.0/16", "--network6", "none",
		"--dns", "10.9.0.1", "--dns", "2001:db8::53", "--redirect", "--public-address", "vpn.example.com",
		"--server-name", "vpn1.example.com", "--key-type", "rsa")
	o := load(t, filepath.Join(dir, "server.conf"))
	c := o.Connections[0]
	if c.Proto != config.ProtoTCPServer || c.Family != config.FamilyIPv6 || c.LocalPort != 443 || c.ExplicitExitNotify != 0 {
		t.Errorf("transport %s port %d exit-notify %d", config.ProtoName(c.Proto, c.Family), c.LocalPort, c.ExplicitExitNotify)
	}
	if o.Server.Macro.Network != netip.MustParsePrefix("10.9.0.0/16") || o.Server.Macro.Network6.IsValid() {
		t.Errorf("networks %v %v", o.Server.Macro.Network, o.Server.Macro.Network6)
	}
	want := []string{"redirect-gateway def1", "dhcp-option DNS 10.9.0.1", "dhcp-option DNS6 2001:db8::53"}
	if got := pushes(o); !slices.Equal(got, want) {
		t.Errorf("pushes %q, want %q", got, want)
	}
	srv := parseCert(t, o.TLS.Cert.Data)
	if srv.Subject.CommonName != "vpn1.example.com" || srv.PublicKeyAlgorithm != x509.RSA || srv.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("server certificate %q %v %v", srv.Subject.CommonName, srv.PublicKeyAlgorithm, srv.SignatureAlgorithm)
	}
	if srv.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
		t.Errorf("RSA server key usage %b", srv.KeyUsage)
	}

	// The profile takes the public address, port, proto and server name.
	rc, out, errs := runCmd(t, cmdClientProfile, dir, "alice")
	if rc != 0 {
		t.Fatalf("client-profile: %d %s", rc, errs)
	}
	if !strings.Contains(out, "vpn.example.com port 443 over tcp") {
		t.Errorf("output: %s", out)
	}
	p := load(t, filepath.Join(dir, "clients", "alice.ovpn"))
	pc := p.Connections[0]
	if pc.Remote != "vpn.example.com" || pc.RemotePort != 443 || pc.Proto != config.ProtoTCPClient || pc.Family != config.FamilyAny {
		t.Errorf("remote %s %d %s", pc.Remote, pc.RemotePort, config.ProtoName(pc.Proto, pc.Family))
	}
	if v := p.TLS.VerifyX509Name; v == nil || v.Name != "vpn1.example.com" || v.Type.String() != "name" {
		t.Errorf("verify-x509-name %+v", v)
	}
	if parseCert(t, p.TLS.Cert.Data).PublicKeyAlgorithm != x509.RSA {
		t.Error("client key is not RSA")
	}
	// The init summary mentions NAT for --redirect.
	dir2 := filepath.Join(t.TempDir(), "v")
	if _, out, _ := runCmd(t, cmdInit, dir2, "--redirect"); !strings.Contains(out, "masquerade") || !strings.Contains(out, "ip6 saddr") {
		t.Errorf("init --redirect does not explain NAT:\n%s", out)
	}
	if o := load(t, filepath.Join(dir2, "server.conf")); !slices.Equal(pushes(o), []string{"redirect-gateway def1 ipv6"}) {
		t.Errorf("pushes %q", pushes(o))
	}
}

func TestInitNetwork6(t *testing.T) {
	for _, n6 := range []string{"fd00:1234::/64", "fd00:1234::/112", "fd00:1234::ab00/120"} {
		dir := mustInit(t, "--network6", n6)
		o := load(t, filepath.Join(dir, "server.conf"))
		p := netip.MustParsePrefix(n6)
		if o.Server.Macro.Network6 != p {
			t.Errorf("%s: server-ipv6 %v", n6, o.Server.Macro.Network6)
		}
		if o.Server.Pool6.Addr() != pool6Start(p) {
			t.Errorf("%s: pool starts at %v, pool6Start says %v", n6, o.Server.Pool6.Addr(), pool6Start(p))
		}
	}
}

func TestInitRefuses(t *testing.T) {
	dir := mustInit(t)
	before, _ := os.ReadFile(filepath.Join(dir, "server.conf"))
	caBefore, _ := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	rc, _, errs := runCmd(t, cmdInit, dir)
	if rc == 0 || !strings.Contains(errs, "already holds an OpenVPN setup") || !strings.Contains(errs, "refusing to overwrite") {
		t.Fatalf("second init: exit %d: %s", rc, errs)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "server.conf"))
	caAfter, _ := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	if !bytes.Equal(before, after) || !bytes.Equal(caBefore, caAfter) {
		t.Fatal("a refused init changed the setup")
	}

	// An existing directory with other files is fine; one of ours is not.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "README"), []byte("x"), 0o644)
	if rc, _, errs := runCmd(t, cmdInit, other); rc != 0 {
		t.Fatalf("init into a directory with unrelated files: %s", errs)
	}
	partial := t.TempDir()
	os.Mkdir(filepath.Join(partial, "pki"), 0o700)
	if rc, _, _ := runCmd(t, cmdInit, partial); rc == 0 {
		t.Fatal("init over an existing pki/ succeeded")
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if rc, _, errs := runCmd(t, cmdInit, file); rc == 0 || !strings.Contains(errs, "not a directory") {
		t.Fatalf("init onto a file: %d %s", rc, errs)
	}

	for _, args := range [][]string{
		{},
		{"a", "b"},
		{"--network", "10.8.0.1/24"},
		{"--network", "10.8.0.0/30"},
		{"--network", "fd00::/64"},
		{"--network6", "fd00::1/64"},
		{"--network6", "fd00::/48"},
		{"--network6", "10.0.0.0/8"},
		{"--port", "0"},
		{"--port", "70000"},
		{"--proto", "sctp"},
		{"--dns", "dns.example.com"},
		{"--server-name", "my server"},
		{"--server-name", "ca"},
		{"--public-address", "vpn.example.com:1194"},
		{"--public-address", "bad host"},
		{"--key-type", "dsa"},
		{"--no-such-flag"},
	} {
		d := filepath.Join(t.TempDir(), "x")
		a := args
		if len(args) > 0 && strings.HasPrefix(args[0], "--") {
			a = append([]string{d}, args...)
		}
		rc, out, errs := runCmd(t, cmdInit, a...)
		if rc != 2 {
			t.Errorf("init %v: exit %d, want 2 (usage)\n%s%s", args, rc, out, errs)
		}
		if errs == "" {
			t.Errorf("init %v: no message", args)
		}
		if _, err := os.Stat(d); err == nil {
			t.Errorf("init %v created %s", args, d)
		}
	}
}

// readProfile loads a profile and checks what is inside its inline blocks.
func readProfile(t *testing.T, dir, path, name string) (*config.Options, *x509.Certificate) {
	t.Helper()
	checkMode(t, path, 0o600)
	o := load(t, path)
	if !o.Client || o.Role.String() != "tls-client" {
		t.Errorf("%s is not a client profile", path)
	}
	for _, m := range []*config.Material{o.TLS.CA, o.TLS.Cert, o.TLS.Key, o.Connections[0].Wrap.Key} {
		if m == nil || !m.Inline {
			t.Fatalf("%s: material not inline: %+v", path, m)
		}
	}
	if o.TLS.RemoteCertTLS.String() != "server" {
		t.Errorf("remote-cert-tls %v", o.TLS.RemoteCertTLS)
	}
	if v := o.TLS.VerifyX509Name; v == nil || v.Name != "server" || v.Type.String() != "name" {
		t.Errorf("verify-x509-name %+v", v)
	}
	if !o.Persist.Key || !o.Persist.Tun || o.Connections[0].Bind {
		t.Errorf("persist-key %v persist-tun %v bind %v", o.Persist.Key, o.Persist.Tun, o.Connections[0].Bind)
	}

	ca, err := pki.Open(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(o.TLS.CA.Data), bytes.TrimSpace(ca.CertPEM)) {
		t.Error("<ca> is not the setup's CA")
	}
	cert := parseCert(t, o.TLS.Cert.Data)
	if cert.Subject.CommonName != name || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || cert.KeyUsage == 0 {
		t.Errorf("client certificate CN %q EKU %v KU %b", cert.Subject.CommonName, cert.ExtKeyUsage, cert.KeyUsage)
	}
	verifyChain(t, cert, ca.Cert, x509.ExtKeyUsageClientAuth)
	kb, _ := pem.Decode(o.TLS.Key.Data)
	if kb == nil {
		t.Fatal("no key in <key>")
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok || !signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
		t.Error("<key> does not match <cert>")
	}

	// The tls-crypt-v2 client key unwraps with the server key and carries a
	// timestamp.
	ck, err := keys.ParseTLSCryptV2ClientKey(o.Connections[0].Wrap.Key.Data)
	if err != nil {
		t.Fatal(err)
	}
	skb, _ := os.ReadFile(filepath.Join(dir, "tls-crypt-v2-server.key"))
	sk, err := keys.ParseTLSCryptV2ServerKey(skb)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ctlwrap.NewV2ServerKey(&sk)
	if err != nil {
		t.Fatal(err)
	}
	var info ctlwrap.ClientKeyInfo
	if err := srv.UnwrapClientKey(ck.WKc, &info); err != nil {
		t.Fatalf("tls-crypt-v2 client key does not unwrap with the server key: %v", err)
	}
	if ts, ok := info.Timestamp(); !ok || time.Since(ts) > time.Hour || time.Until(ts) > time.Minute {
		t.Errorf("tls-crypt-v2 metadata timestamp %v %v", ts, ok)
	}
	return o, cert
}

func TestClientProfile(t *testing.T) {
	dir := mustInit(t)
	index := func() []byte { b, _ := os.ReadFile(filepath.Join(dir, "pki", "index.json")); return b }

	// No public address recorded and no --remote: refused before issuing.
	before := index()
	rc, _, errs := runCmd(t, cmdClientProfile, dir, "alice")
	if rc != 1 || !strings.Contains(errs, "--remote") {
		t.Fatalf("without an address: %d %s", rc, errs)
	}
	if !bytes.Equal(before, index()) {
		t.Fatal("a refused client-profile issued a certificate")
	}

	rc, out, errs := runCmd(t, cmdClientProfile, dir, "alice", "--remote", "vpn.example.com")
	if rc != 0 {
		t.Fatalf("client-profile: %d %s", rc, errs)
	}
	path := filepath.Join(dir, "clients", "alice.ovpn")
	if !strings.Contains(out, path) {
		t.Errorf("output does not name %s:\n%s", path, out)
	}
	checkMode(t, filepath.Join(dir, "clients"), 0o700)
	o, cert1 := readProfile(t, dir, path, "alice")
	c := o.Connections[0]
	if c.Remote != "vpn.example.com" || c.RemotePort != 1194 || c.Proto != config.ProtoUDP || c.Family != config.FamilyAny || c.ExplicitExitNotify != 1 {
		t.Errorf("remote %s %d %s exit-notify %d", c.Remote, c.RemotePort, config.ProtoName(c.Proto, c.Family), c.ExplicitExitNotify)
	}

	// The same name again: refused, unless --force, which revokes the old.
	prof1, _ := os.ReadFile(path)
	rc, _, errs = runCmd(t, cmdClientProfile, dir, "alice", "--remote", "vpn.example.com")
	if rc != 1 || !strings.Contains(errs, "--force") {
		t.Fatalf("second alice: %d %s", rc, errs)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, prof1) {
		t.Fatal("a refused client-profile changed the profile")
	}
	rc, out, errs = runCmd(t, cmdClientProfile, dir, "alice", "--remote", "vpn.example.com", "--force")
	if rc != 0 || !strings.Contains(out, "Revoked the previous certificate") {
		t.Fatalf("--force: %d %s%s", rc, out, errs)
	}
	_, cert2 := readProfile(t, dir, path, "alice")
	if cert2.SerialNumber.Cmp(cert1.SerialNumber) == 0 {
		t.Fatal("--force kept the serial number")
	}
	crl := readCRL(t, dir)
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert1.SerialNumber) != 0 {
		t.Errorf("CRL after --force: %v", crl.RevokedCertificateEntries)
	}

	// --remote forms and --out.
	for _, tc := range []struct {
		remote, host string
		port         uint16
	}{
		{"203.0.113.7", "203.0.113.7", 1194},
		{"203.0.113.7:443", "203.0.113.7", 443},
		{"2001:db8::7", "2001:db8::7", 1194},
		{"[2001:db8::7]:1195", "2001:db8::7", 1195},
		{"vpn.example.com:2000", "vpn.example.com", 2000},
	} {
		name := "u" + strings.NewReplacer(".", "", ":", "", "[", "", "]", "").Replace(tc.remote)
		out := filepath.Join(t.TempDir(), name+".ovpn")
		if rc, _, errs := runCmd(t, cmdClientProfile, dir, name, "--remote", tc.remote, "--out", out); rc != 0 {
			t.Fatalf("--remote %s: %s", tc.remote, errs)
		}
		o, _ := readProfile(t, dir, out, name)
		if c := o.Connections[0]; c.Remote != tc.host || c.RemotePort != tc.port {
			t.Errorf("--remote %s: remote %s %d", tc.remote, c.Remote, c.RemotePort)
		}
	}

	// Standard output.
	var so, se bytes.Buffer
	if rc := cmdClientProfile([]string{dir, "carol", "--remote", "h.example", "--out", "-"}, &so, &se); rc != 0 {
		t.Fatalf("--out -: %s", se.String())
	}
	if !strings.HasPrefix(so.String(), "# OpenVPN client profile") || !strings.Contains(so.String(), "<tls-crypt-v2>") {
		t.Errorf("--out - wrote:\n%s", so.String())
	}

	// The port follows server.conf when it is edited.
	conf := filepath.Join(dir, "server.conf")
	b, _ := os.ReadFile(conf)
	os.WriteFile(conf, bytes.Replace(b, []byte("\nport 1194\n"), []byte("\nport 443\n"), 1), 0o644)
	if rc, _, errs := runCmd(t, cmdClientProfile, dir, "dave", "--remote", "h.example"); rc != 0 {
		t.Fatalf("dave: %s", errs)
	}
	if o, _ := readProfile(t, dir, filepath.Join(dir, "clients", "dave.ovpn"), "dave"); o.Connections[0].RemotePort != 443 {
		t.Errorf("port %d after editing server.conf to 443", o.Connections[0].RemotePort)
	}

	// Refusals.
	for _, args := range [][]string{
		{dir, "server", "--remote", "h"},
		{dir, "bad name", "--remote", "h"},
		{dir, "-x", "--remote", "h"},
		{dir, "erin", "--remote", "bad host"},
		{dir, "erin", "--remote", "h:0"},
		{t.TempDir(), "erin", "--remote", "h"},
		{dir, "erin", "--remote", "h", "--out", "/nonexistent/erin.ovpn"},
	} {
		before := index()
		if rc, _, errs := runCmd(t, cmdClientProfile, args...); rc == 0 || errs == "" {
			t.Errorf("client-profile %v: exit %d %q", args, rc, errs)
		}
		if !bytes.Equal(before, index()) {
			t.Errorf("client-profile %v failed but changed the index", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "clients", "erin.ovpn")); err == nil {
		t.Error("a refused profile was written")
	}
	if rc, _, _ := runCmd(t, cmdClientProfile, dir); rc != 2 {
		t.Errorf("usage error: exit %d", rc)
	}
}

func readCRL(t *testing.T, dir string) *x509.RevocationList {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pki", "crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "X509 CRL" {
		t.Fatalf("crl.pem: %q", b)
	}
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func TestRevoke(t *testing.T) {
	dir := mustInit(t, "--public-address", "vpn.example.com")
	if rc, _, errs := runCmd(t, cmdClientProfile, dir, "alice"); rc != 0 {
		t.Fatal(errs)
	}
	_, cert := readProfile(t, dir, filepath.Join(dir, "clients", "alice.ovpn"), "alice")
	rc, out, errs := runCmd(t, cmdRevoke, dir, "alice")
	if rc != 0 || !strings.Contains(out, "Revoked the certificate of alice") || !strings.Contains(out, "delete it") {
		t.Fatalf("revoke: %d %s%s", rc, out, errs)
	}
	crl := readCRL(t, dir)
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Fatalf("CRL %v", crl.RevokedCertificateEntries)
	}
	// The server still reads its configuration (with the new CRL).
	load(t, filepath.Join(dir, "server.conf"))
	for _, args := range [][]string{{dir, "alice"}, {dir, "server"}, {dir, "nobody"}, {t.TempDir(), "alice"}} {
		if rc, _, errs := runCmd(t, cmdRevoke, args...); rc != 1 || errs == "" {
			t.Errorf("revoke %v: %d %q", args, rc, errs)
		}
	}
	if _, _, errs := runCmd(t, cmdRevoke, dir, "server"); !strings.Contains(errs, "server's certificate") {
		t.Errorf("revoke server: %s", errs)
	}
	// alice can be issued again after revocation, without --force.
	if rc, _, errs := runCmd(t, cmdClientProfile, dir, "alice", "--force"); rc != 0 {
		t.Fatal(errs)
	}
	if rc, _, _ := runCmd(t, cmdRevoke, dir); rc != 2 {
		t.Errorf("usage: exit %d", rc)
	}
}

// TestSubcommandsWired checks that main's switch reaches the commands.
func TestSubcommandsWired(t *testing.T) {
	for _, tc := range []struct{ cmd, usage string }{
		{"init", "usage: openvpn-go init DIR"},
		{"client-profile", "usage: openvpn-go client-profile DIR NAME"},
		{"revoke", "usage: openvpn-go revoke DIR NAME"},
	} {
		var out, errb bytes.Buffer
		if rc := run([]string{tc.cmd}, strings.NewReader(""), &out, &errb); rc != 2 || !strings.Contains(errb.String(), tc.usage) {
			t.Errorf("openvpn-go %s: exit %d, stderr %q", tc.cmd, rc, errb.String())
		}
	}
	var out bytes.Buffer
	run([]string{"help"}, strings.NewReader(""), &out, io.Discard)
	for _, c := range []string{"init DIR", "client-profile DIR NAME", "revoke DIR NAME"} {
		if !strings.Contains(out.String(), c) {
			t.Errorf("help does not mention %q", c)
		}
	}
}

func TestParseRemote(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"vpn.example.com":      {"vpn.example.com", 0},
		"vpn.example.com:443":  {"vpn.example.com", 443},
		"203.0.113.1":          {"203.0.113.1", 0},
		"203.0.113.1:1":        {"203.0.113.1", 1},
		"2001:db8::1":          {"2001:db8::1", 0},
		"[2001:db8::1]":        {"2001:db8::1", 0},
		"[2001:db8::1]:65535":  {"2001:db8::1", 65535},
		"::ffff:203.0.113.1":   {"203.0.113.1", 0},
		" host ":               {"host", 0},
		"under_score.example.": {"under_score.example.", 0},
	} {
		h, p, err := parseRemote(in)
		if err != nil || h != want.host || p != want.port {
			t.Errorf("%q: %q %d %v, want %q %d", in, h, p, err, want.host, want.port)
		}
	}
	for _, in := range []string{"", "h:", "h:x", "h:0", "h:65536", "[2001:db8::1", "[::1]:x", "fe80::1%eth0", "a b", "-h", "h..x", "h/x", "2001:db8::g"} {
		if h, p, err := parseRemote(in); err == nil {
			t.Errorf("%q accepted as %q %d", in, h, p)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := fs.String("a", "", "")
	b := fs.Bool("b", false, "")
	pos, err := parseInterspersed(fs, []string{"p1", "--a", "v", "p2", "-b", "--", "--a", "p3"})
	if err != nil || *a != "v" || !*b || !slices.Equal(pos, []string{"p1", "p2", "--a", "p3"}) {
		t.Errorf("%v %q %v %v", pos, *a, *b, err)
	}
	if _, err := parseInterspersed(fs, []string{"p", "--zz"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestPool6StartAndLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"fd00::/64":      "fd00::1000",
		"fd00::/111":     "fd00::1000",
		"fd00::/112":     "fd00::2",
		"fd00::ab00/120": "fd00::ab02",
	} {
		if got := pool6Start(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("%s: %v, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"10.8.0.0/24": "10.8.0.254", "10.9.0.0/16": "10.9.255.254", "10.0.0.0/29": "10.0.0.6"} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("%s: %v, want %s", in, got, want)
		}
	}
}

// labCase is one run of the generated configurations in the lab.
type labCase struct {
	name     string
	initArgs []string
	// server is the implementation that runs server.conf: "openvpn" (the
	// reference 2.6) or "openvpn-go".
	server string
	// revoke also checks that a revoked client is refused by the running
	// server.
	revoke bool
}

// TestInitLab runs the generated configurations for real, in the lab: a
// server with server.conf, the reference openvpn 2.6 as clients with
// profiles that reach it over IPv4 (alice) and IPv6 (bob) on its
// dual-stack socket, and openvpn-go as a client (carol); each pings the
// server's tunnel addresses over IPv4 and IPv6. Then bob is revoked and can
// no longer connect.
func TestInitLab(t *testing.T) {
	tcpInit := []string{"--proto", "tcp", "--port", "443", "--network", "10.9.0.0/24", "--network6", "fd00:9::/64", "--key-type", "rsa"}
	for _, c := range []labCase{
		{name: "udp-openvpn", server: "openvpn", revoke: true},
		{name: "tcp-openvpn", server: "openvpn", initArgs: tcpInit},
		{name: "udp-openvpn-go", server: "openvpn-go", revoke: true},
		{name: "tcp-openvpn-go", server: "openvpn-go", initArgs: tcpInit},
	} {
		t.Run(c.name, func(t *testing.T) { runLabCase(t, c) })
	}
}

func runLabCase(t *testing.T, c labCase) {
	n := lab.NewNet(t, lab.Clients(3))
	lab.RequireBinary(t, "openvpn", "ping")
	dir := filepath.Join(t.TempDir(), "vpn")
	if rc, out, errs := runCmd(t, cmdInit, append([]string{dir}, c.initArgs...)...); rc != 0 {
		t.Fatalf("init: %s%s", out, errs)
	}
	profile := func(name, remote string) string {
		t.Helper()
		if rc, out, errs := runCmd(t, cmdClientProfile, dir, name, "--remote", remote); rc != 0 {
			t.Fatalf("client-profile %s: %s%s", name, out, errs)
		}
		b, err := os.ReadFile(filepath.Join(dir, "clients", name+".ovpn"))
		if err != nil {
			t.Fatal(err)
		}
		// The lab runs every openvpn without kernel offload.
		return string(b) + "disable-dco\n"
	}
	st, err := readSetup(dir)
	if err != nil {
		t.Fatal(err)
	}
	tun4 := netip.MustParsePrefix(st.Network).Addr().Next()
	tun6 := netip.MustParsePrefix(st.Network6).Addr().Next()

	conf, err := os.ReadFile(filepath.Join(dir, "server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *lab.Proc
	switch c.server {
	case "openvpn":
		srv = lab.StartOpenVPN(t, n.Server, "server", string(conf)+"disable-dco\n")
	case "openvpn-go":
		srv = n.Server.Start(t, "server", lab.BuildOpenVPNGo(t), "--config", filepath.Join(dir, "server.conf"))
	default:
		t.Fatalf("unknown server %q", c.server)
	}
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)

	alice := lab.StartOpenVPN(t, n.Clients[0], "alice", profile("alice", n.Server.IPv4.String()))
	bobConf := profile("bob", n.Server.IPv6.String())
	bob := lab.StartOpenVPN(t, n.Clients[1], "bob", bobConf)
	alice.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	bob.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	for _, cl := range n.Clients[:2] {
		cl.Ping(t, tun4, 3)
		cl.Ping(t, tun6, 3)
	}
	if c.server == "openvpn" {
		// The dual-stack socket took alice over IPv4 (2.6 prints her
		// v4-mapped) and bob over IPv6.
		srv.WaitLog(t, `\[alice\] Peer Connection Initiated with \[AF_INET6\]::ffff:`+regexp.QuoteMeta(n.Clients[0].IPv4.String())+`:`, lab.ReadyTimeout)
		srv.WaitLog(t, `\[bob\] Peer Connection Initiated with \[AF_INET6\]`+regexp.QuoteMeta(n.Clients[1].IPv6.String())+`:`, lab.ReadyTimeout)
	}
	for _, p := range []*lab.Proc{alice, bob} {
		if !strings.Contains(p.Log(), "VERIFY X509NAME OK: CN=server") {
			t.Errorf("%s did not check the server's name:\n%s", p.Name, p.Tail(30))
		}
	}
	for _, p := range []*lab.Proc{srv, alice, bob} {
		for l := range strings.Lines(p.Log()) {
			if strings.Contains(l, "WARNING") || strings.Contains(l, "DEPRECATED") {
				t.Errorf("%s: %s", p.Name, strings.TrimSpace(l))
			}
		}
	}

	t.Run("openvpn-go-client", func(t *testing.T) {
		bin := lab.BuildOpenVPNGo(t)
		path := filepath.Join(t.TempDir(), "carol.ovpn")
		if err := os.WriteFile(path, []byte(profile("carol", n.Server.IPv4.String())), 0o600); err != nil {
			t.Fatal(err)
		}
		carol := n.Clients[2].Start(t, "carol", bin, "--config", path)
		carol.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		n.Clients[2].Ping(t, tun4, 3)
		n.Clients[2].Ping(t, tun6, 3)
	})

	if !c.revoke {
		return
	}
	t.Run("revoked", func(t *testing.T) {
		if err := bob.Stop(); err != nil {
			t.Log(err)
		}
		if rc, out, errs := runCmd(t, cmdRevoke, dir, "bob"); rc != 0 {
			t.Fatalf("revoke: %s%s", out, errs)
		}
		// The running server reads the new CRL for the next connection.
		bob2 := lab.StartOpenVPN(t, n.Clients[1], "bob-again", bobConf)
		// openvpn: "VERIFY ERROR: depth=0, error=certificate revoked: CN=bob";
		// openvpn-go (tlsconf): "certificate CN=bob (serial ...) is revoked".
		srv.WaitLog(t, `certificate revoked: CN=bob|CN=bob .*is revoked`, lab.ReadyTimeout)
		if strings.Contains(bob2.Log(), lab.ReadyPattern) {
			t.Fatal("a revoked client connected")
		}
		// alice is unaffected.
		n.Clients[0].Ping(t, tun4, 2)
	})
}
