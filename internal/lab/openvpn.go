package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ReadyPattern is what openvpn (and openvpn-go) logs once a tunnel is up.
const ReadyPattern = "Initialization Sequence Completed"

// ReadyTimeout is a generous bound for ReadyPattern on a loaded machine.
const ReadyTimeout = 20 * time.Second

// Wrap selects the control-channel protection both configs use. Set at most
// one field.
type Wrap struct {
	// TLSAuth is a static key file (NewStaticKey): `tls-auth FILE 0|1`.
	TLSAuth string
	// TLSCrypt is a static key file (NewStaticKey): `tls-crypt FILE`.
	TLSCrypt string
	// TLSCryptV2 is the server key (NewTLSCryptV2ServerKey) in a server
	// config, a client key (NewTLSCryptV2ClientKey) in a client config.
	TLSCryptV2 string
}

func (w Wrap) lines(direction int) []string {
	var l []string
	if w.TLSAuth != "" {
		l = append(l, fmt.Sprintf("tls-auth %s %d", w.TLSAuth, direction))
	}
	if w.TLSCrypt != "" {
		l = append(l, "tls-crypt "+w.TLSCrypt)
	}
	if w.TLSCryptV2 != "" {
		l = append(l, "tls-crypt-v2 "+w.TLSCryptV2)
	}
	return l
}

// ServerOptions describes a reference openvpn server config. Zero fields
// take the defaults noted.
type ServerOptions struct {
	// CA is the CA certificate file (PKI.CA.CertFile). Required.
	CA string
	// Cert is the server certificate and key (PKI.Server). Required.
	Cert *Cert
	// Proto is "udp" (default), "tcp", "udp4", "udp6", "tcp4" or "tcp6".
	Proto string
	// Port is the listening port (default 1194).
	Port int
	// Local binds to one address (`local`); zero: all.
	Local netip.Addr
	// Network is the IPv4 pool for `server` (default 10.8.0.0/24).
	Network netip.Prefix
	// Network6 is the `server-ipv6` pool (default fd00:8::/64).
	Network6 netip.Prefix
	// NoIPv6 leaves `server-ipv6` out.
	NoIPv6 bool
	// Wrap protects the control channel.
	Wrap Wrap
	// CRL is a `crl-verify` file (PKI.CRL).
	CRL string
	// Verb is the log level (default 3).
	Verb int
	// Extra is appended verbatim, one directive per line.
	Extra []string
}

// Tunnel addresses of the default server pools: the server's own address in
// each (the first host of the pool).
var (
	DefaultNetwork  = netip.MustParsePrefix("10.8.0.0/24")
	DefaultNetwork6 = netip.MustParsePrefix("fd00:8::/64")
	ServerTunIPv4   = netip.MustParseAddr("10.8.0.1")
	ServerTunIPv6   = netip.MustParseAddr("fd00:8::1")
)

// OpenVPNServerConfig renders a config for the reference openvpn in server
// mode: `server` with topology subnet, the given pools, certificates and
// wrapping, `remote-cert-tls client`, `dh none` and `disable-dco`. Tests may
// edit the text before starting it.
func OpenVPNServerConfig(o ServerOptions) string {
	if o.Proto == "" {
		o.Proto = "udp"
	}
	if o.Port == 0 {
		o.Port = 1194
	}
	if !o.Network.IsValid() {
		o.Network = DefaultNetwork
	}
	if !o.Network6.IsValid() {
		o.Network6 = DefaultNetwork6
	}
	if o.Verb == 0 {
		o.Verb = 3
	}
	l := []string{
		"# reference openvpn server, written by internal/lab",
		"dev tun",
		"proto " + o.Proto,
		fmt.Sprintf("port %d", o.Port),
	}
	if o.Local.IsValid() {
		l = append(l, "local "+o.Local.String())
	}
	l = append(l,
		"topology subnet",
		fmt.Sprintf("server %s %s", o.Network.Masked().Addr(), net.IP(net.CIDRMask(o.Network.Bits(), 32))),
	)
	if !o.NoIPv6 {
		l = append(l, "server-ipv6 "+o.Network6.Masked().String())
	}
	l = append(l, "ca "+o.CA)
	if o.Cert != nil {
		l = append(l, "cert "+o.Cert.CertFile, "key "+o.Cert.KeyFile)
	}
	l = append(l, "dh none", "remote-cert-tls client")
	l = append(l, o.Wrap.lines(0)...)
	if o.CRL != "" {
		l = append(l, "crl-verify "+o.CRL)
	}
	l = append(l, "disable-dco", fmt.Sprintf("verb %d", o.Verb))
	l = append(l, o.Extra...)
	return strings.Join(l, "\n") + "\n"
}

// ClientOptions describes a reference openvpn client config. Zero fields
// take the defaults noted.
type ClientOptions struct {
	// CA is the CA certificate file (PKI.CA.CertFile). Required.
	CA string
	// Cert is the client certificate and key (PKI.Client). Required.
	Cert *Cert
	// Remote is the server's address (e.g. Net.Server.IPv4). Required.
	Remote netip.Addr
	// Port is the server's port (default 1194).
	Port int
	// Proto is "udp" (default), "tcp", "udp4", "udp6", "tcp4" or "tcp6".
	Proto string
	// Wrap protects the control channel; it must match the server's (with
	// the client key for tls-crypt-v2).
	Wrap Wrap
	// Verb is the log level (default 3).
	Verb int
	// Extra is appended verbatim, one directive per line.
	Extra []string
}

// OpenVPNClientConfig renders a config for the reference openvpn in client
// mode: `client`, `nobind`, the remote, certificates and wrapping,
// `remote-cert-tls server` and `disable-dco`. Tests may edit the text
// before starting it.
func OpenVPNClientConfig(o ClientOptions) string {
	if o.Proto == "" {
		o.Proto = "udp"
	}
	if o.Port == 0 {
		o.Port = 1194
	}
	if o.Verb == 0 {
		o.Verb = 3
	}
	l := []string{
		"# reference openvpn client, written by internal/lab",
		"client",
		"dev tun",
		"proto " + o.Proto,
		fmt.Sprintf("remote %s %d", o.Remote, o.Port),
		"nobind",
		"ca " + o.CA,
	}
	if o.Cert != nil {
		l = append(l, "cert "+o.Cert.CertFile, "key "+o.Cert.KeyFile)
	}
	l = append(l, "remote-cert-tls server")
	l = append(l, o.Wrap.lines(1)...)
	l = append(l, "disable-dco", fmt.Sprintf("verb %d", o.Verb))
	l = append(l, o.Extra...)
	return strings.Join(l, "\n") + "\n"
}

// StartOpenVPN writes config to NAME.conf in a new t.TempDir() and starts
// the reference openvpn with it inside ns (see NS.Start for logging and
// cleanup). Wait for readiness with p.WaitLog(t, lab.ReadyPattern,
// lab.ReadyTimeout).
func StartOpenVPN(t testing.TB, ns *NS, name, config string) *Proc {
	t.Helper()
	RequireBinary(t, "openvpn")
	path := filepath.Join(t.TempDir(), fileSafe(name)+".conf")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatalf("lab: writing the config of %s: %v", name, err)
	}
	return ns.Start(t, name, "openvpn", "--config", path)
}
