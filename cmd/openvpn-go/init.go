package main

// openvpn-go init, client-profile and revoke: a complete server setup and
// single-file client profiles in one command each, without easy-rsa.

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/pki"
)

// Names inside a setup directory made by init.
const (
	setupFileName    = "setup.json"
	serverConfName   = "server.conf"
	pkiDirName       = "pki"
	tc2ServerKeyName = "tls-crypt-v2-server.key"
	authTokenKeyName = "auth-token.key"
	clientsDirName   = "clients"
	statusFileName   = "openvpn-status.log"
	ippFileName      = "ipp.txt"
)

// initOwned lists what init creates at the top of DIR; init refuses to run
// when any of them exists.
var initOwned = []string{setupFileName, serverConfName, pkiDirName, tc2ServerKeyName, authTokenKeyName, clientsDirName}

// setupVersion is the format version of setup.json.
const setupVersion = 1

// setup is setup.json: what init decided, for client-profile.
type setup struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// ServerName is the server certificate's CN (verify-x509-name).
	ServerName string `json:"server_name"`
	// PublicAddress is the host name or address clients connect to ("":
	// client-profile needs --remote).
	PublicAddress string `json:"public_address,omitempty"`
	// Port and Proto ("udp" or "tcp") are what clients use, unless
	// server.conf says otherwise by the time a profile is made.
	Port  int    `json:"port"`
	Proto string `json:"proto"`
	// Network and Network6 are the tunnel networks ("" for no IPv6).
	Network  string `json:"network"`
	Network6 string `json:"network6,omitempty"`
}

// initOptions are the choices of `openvpn-go init`.
type initOptions struct {
	dir           string // absolute
	serverName    string
	network       netip.Prefix
	network6      netip.Prefix // invalid: no IPv6 in the tunnel
	port          int
	proto         string // "udp" or "tcp"
	dns           []netip.Addr
	redirect      bool
	publicAddress string
	keyType       pki.KeyType
}

// addrList is a repeatable flag of IP addresses.
type addrList []netip.Addr

func (l *addrList) String() string {
	s := make([]string, len(*l))
	for i, a := range *l {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (l *addrList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q is not an IP address", f)
		}
		*l = append(*l, a.Unmap())
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments ("init DIR --port 443"), and returns the
// positional arguments. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

const initUsage = `usage: openvpn-go init DIR [options]

Creates DIR with everything an OpenVPN server needs: a certificate authority,
the server's certificate and key, a tls-crypt-v2 server key, an auth-token
secret and DIR/server.conf, which both openvpn 2.6 and openvpn-go run.
Make client profiles afterwards with: openvpn-go client-profile DIR NAME

Options:
`

// cmdInit implements "openvpn-go init DIR [options]".
func cmdInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverName := fs.String("server-name", "server", "the server certificate's name (CN), which clients check")
	network := fs.String("network", "10.8.0.0/24", "the IPv4 tunnel network (the server takes its first address)")
	network6 := fs.String("network6", "", "the IPv6 tunnel network, a /64 to /124 (default: a random unique local fdXX:XXXX:XXXX::/64; none: IPv4 only)")
	port := fs.Int("port", 1194, "the port the server listens on")
	proto := fs.String("proto", "udp", "the transport: udp or tcp")
	var dns addrList
	fs.Var(&dns, "dns", "a DNS server to push to clients (repeatable, or comma-separated)")
	redirect := fs.Bool("redirect", false, "send all of the clients' traffic through the VPN (push redirect-gateway def1 ipv6)")
	public := fs.String("public-address", "", "the host name or address clients connect to (recorded for client-profile)")
	keyType := fs.String("key-type", "ecdsa", "the key type of the CA and certificates: ecdsa (P-256) or rsa (3072 bits)")
	fs.Usage = func() {
		fmt.Fprint(stderr, initUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	o, err := checkInitOptions(pos[0], *serverName, *network, *network6, *port, *proto, dns, *redirect, *public, *keyType)
	if err != nil {
		fmt.Fprintf(stderr, "openvpn-go init: %v\n", err)
		return 2
	}
	created, err := runInit(o)
	if err != nil {
		fmt.Fprintf(stderr, "openvpn-go init: %v\n", err)
		return 1
	}
	printInitSummary(stdout, o, created)
	return 0
}

// checkInitOptions validates and completes the command line of init.
func checkInitOptions(dir, serverName, network, network6 string, port int, proto string, dns []netip.Addr, redirect bool, public, keyType string) (*initOptions, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", dir, err)
	}
	if strings.ContainsAny(abs, " \t\n\r\"'\\#;") {
		// server.conf names files in DIR; keep those lines unquoted.
		return nil, fmt.Errorf("directory %q contains a space, quote, backslash, # or ;: choose a simpler path", abs)
	}
	o := &initOptions{dir: abs, serverName: serverName, port: port, proto: proto, dns: dns, redirect: redirect}
	if err := pki.ValidName(serverName); err != nil {
		return nil, fmt.Errorf("--server-name: %w", err)
	}
	if o.keyType, err = pki.ParseKeyType(keyType); err != nil {
		return nil, fmt.Errorf("--key-type: %w", err)
	}
	if o.network, err = netip.ParsePrefix(network); err != nil || !o.network.Addr().Is4() {
		return nil, fmt.Errorf("--network %q is not an IPv4 network such as 10.8.0.0/24", network)
	}
	if b := o.network.Bits(); b < 8 || b > 29 {
		return nil, fmt.Errorf("--network %s: the prefix length must be between /8 and /29 (openvpn needs room for a pool)", network)
	}
	if o.network != o.network.Masked() {
		return nil, fmt.Errorf("--network %s has host bits set: did you mean %s?", network, o.network.Masked())
	}
	switch strings.ToLower(network6) {
	case "none", "off", "no":
	case "":
		if o.network6, err = randomULA(); err != nil {
			return nil, err
		}
	default:
		if o.network6, err = netip.ParsePrefix(network6); err != nil || !o.network6.Addr().Is6() || o.network6.Addr().Is4In6() || o.network6.Addr().Zone() != "" {
			return nil, fmt.Errorf("--network6 %q is not an IPv6 network such as fd00:1234:5678::/64 (or none)", network6)
		}
		if b := o.network6.Bits(); b < 64 || b > 124 {
			return nil, fmt.Errorf("--network6 %s: openvpn's server-ipv6 needs a prefix length between /64 and /124", network6)
		}
		if o.network6 != o.network6.Masked() {
			return nil, fmt.Errorf("--network6 %s has host bits set: did you mean %s?", network6, o.network6.Masked())
		}
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("--port %d is not a port number (1 to 65535)", port)
	}
	if proto != "udp" && proto != "tcp" {
		return nil, fmt.Errorf("--proto %q: use udp or tcp (the server listens on IPv4 and IPv6 either way)", proto)
	}
	if public != "" {
		host, p, err := parseRemote(public)
		if err != nil {
			return nil, fmt.Errorf("--public-address: %w", err)
		}
		if p != 0 {
			return nil, fmt.Errorf("--public-address %q: give the host only; the port is --port", public)
		}
		o.publicAddress = host
	}
	return o, nil
}

// randomULA returns a random unique local /64 (RFC 4193: fd00::/8, a
// 40-bit random global ID, subnet 0).
func randomULA() (netip.Prefix, error) {
	var a [16]byte
	a[0] = 0xfd
	if _, err := rand.Read(a[1:6]); err != nil {
		return netip.Prefix{}, fmt.Errorf("reading random bytes: %w", err)
	}
	return netip.PrefixFrom(netip.AddrFrom16(a), 64), nil
}

// created is one thing init made, for the summary.
type created struct{ path, what string }

// runInit creates the setup. Everything is made in a staging directory
// inside DIR and moved into place at the end, so a failure leaves no
// half-made setup behind.
func runInit(o *initOptions) ([]created, error) {
	if st, err := os.Stat(o.dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s exists and is not a directory: choose another DIR", o.dir)
	}
	for _, n := range initOwned {
		p := filepath.Join(o.dir, n)
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s already holds an OpenVPN setup (%s exists); refusing to overwrite it. "+
				"Make client profiles with `openvpn-go client-profile %s NAME`, or choose another directory "+
				"(removing this one invalidates every client profile made from it)", o.dir, p, o.dir)
		}
	}
	madeDir := false
	if _, err := os.Stat(o.dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", o.dir, err)
		}
		madeDir = true
	}
	stage, err := os.MkdirTemp(o.dir, ".openvpn-go-init-")
	if err != nil {
		return nil, fmt.Errorf("creating a staging directory in %s: %w", o.dir, err)
	}
	ok := false
	defer func() {
		os.RemoveAll(stage)
		if !ok && madeDir {
			os.Remove(o.dir) // only if still empty
		}
	}()
	ca, err := pki.Create(filepath.Join(stage, pkiDirName), pki.Options{KeyType: o.keyType})
	if err != nil {
		return nil, fmt.Errorf("creating the certificate authority: %w", err)
	}
	srv, err := ca.Issue(pki.Server, o.serverName, pki.IssueOptions{})
	if err != nil {
		return nil, fmt.Errorf("issuing the server certificate: %w", err)
	}
	tc2, err := keys.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("generating the tls-crypt-v2 server key: %w", err)
	}
	tc2PEM := keys.MarshalTLSCryptV2ServerKey(&tc2)
	tc2.Zero()
	tok, err := keys.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("generating the auth-token secret: %w", err)
	}
	tokPEM := keys.MarshalAuthTokenKey(&tok)
	tok.Zero()

	st := setup{
		Version: setupVersion, Created: timeNow().UTC().Truncate(time.Second),
		ServerName: o.serverName, PublicAddress: o.publicAddress,
		Port: o.port, Proto: o.proto, Network: o.network.String(),
	}
	if o.network6.IsValid() {
		st.Network6 = o.network6.String()
	}
	stJSON, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", setupFileName, err)
	}
	files := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{tc2ServerKeyName, tc2PEM, 0o600},
		{authTokenKeyName, tokPEM, 0o600},
		{setupFileName, append(stJSON, '\n'), 0o644},
		{serverConfName, []byte(renderServerConf(o, ca.Cert.Subject.CommonName)), 0o644},
	}
	for _, f := range files {
		if err := writeNewFile(filepath.Join(stage, f.name), f.data, f.perm); err != nil {
			return nil, err
		}
	}
	// Move into place; the pki directory last but one and server.conf last,
	// so that a setup is complete once server.conf exists.
	for _, n := range []string{tc2ServerKeyName, authTokenKeyName, setupFileName, pkiDirName, serverConfName} {
		if err := os.Rename(filepath.Join(stage, n), filepath.Join(o.dir, n)); err != nil {
			for _, m := range initOwned {
				// Undo what was moved: nothing else can have made these yet.
				if m != clientsDirName {
					os.RemoveAll(filepath.Join(o.dir, m))
				}
			}
			return nil, fmt.Errorf("moving %s into %s: %w", n, o.dir, err)
		}
	}
	ok = true
	final := func(p string) string { return filepath.Join(o.dir, p) }
	rel := func(p string) string {
		r, err := filepath.Rel(ca.Dir, p)
		if err != nil {
			return p
		}
		return final(filepath.Join(pkiDirName, r))
	}
	return []created{
		{final(serverConfName), "the server configuration (every line is explained in it)"},
		{rel(ca.CertFile()), fmt.Sprintf("the CA certificate, %q, valid until %s", ca.Cert.Subject.CommonName, ca.Cert.NotAfter.Format(time.DateOnly))},
		{rel(ca.KeyFile()), "the CA key: whoever has it can make client certificates; keep it secret and backed up"},
		{rel(srv.CertFile), fmt.Sprintf("the server certificate, %q, valid until %s", o.serverName, srv.Cert.NotAfter.Format(time.DateOnly))},
		{rel(srv.KeyFile), "the server key"},
		{rel(ca.CRLFile()), "the certificate revocation list (empty; openvpn-go revoke adds to it)"},
		{rel(ca.IndexFile()), "the list of issued certificates"},
		{final(tc2ServerKeyName), "the tls-crypt-v2 server key (each client profile gets a key wrapped with it)"},
		{final(authTokenKeyName), "the auth-gen-token secret"},
		{final(setupFileName), "the choices of init, which client-profile reads"},
	}, nil
}

// writeNewFile creates path (which must not exist) with mode perm.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil { // the umask may have narrowed it
		f.Close()
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// serverProto is the server's proto line: the IPv6 variant, which openvpn
// 2.6 opens as one dual-stack socket (IPV6_V6ONLY off). Plain "udp"/"tcp"
// would listen on IPv4 only on Linux.
func serverProto(proto string) string {
	if proto == "tcp" {
		return "tcp6-server"
	}
	return "udp6"
}

// renderServerConf writes server.conf.
func renderServerConf(o *initOptions, caName string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	f := func(name string) string { return filepath.Join(o.dir, name) }
	pkiFile := func(parts ...string) string { return filepath.Join(append([]string{o.dir, pkiDirName}, parts...)...) }

	p("# OpenVPN server configuration written by `openvpn-go init` on %s.", timeNow().UTC().Format(time.DateOnly))
	p("# Both openvpn 2.6 and openvpn-go run it, as root:")
	p("#   openvpn --config %s", f(serverConfName))
	p("#   openvpn-go %s", f(serverConfName))
	p("# After editing, check it with: openvpn-go check %s", f(serverConfName))
	p("# Make a client profile with:   openvpn-go client-profile %s NAME", o.dir)
	p("# Revoke one with:              openvpn-go revoke %s NAME", o.dir)
	p("# File names are absolute: if you move %s, change them.", o.dir)
	p("")
	p("# A routed (layer 3) tunnel: one tun interface carrying IP packets.")
	p("dev tun")
	p("")
	if o.proto == "tcp" {
		p("# TCP on IPv6 and IPv4 at once: openvpn 2.6 opens an IPv6 socket that also")
		p("# accepts IPv4 clients (dual stack); \"proto tcp\" would listen on IPv4 only.")
		p("# On a host with IPv6 disabled, use \"proto tcp4-server\".")
	} else {
		p("# UDP on IPv6 and IPv4 at once: openvpn 2.6 opens an IPv6 socket that also")
		p("# accepts IPv4 clients (dual stack); \"proto udp\" would listen on IPv4 only.")
		p("# On a host with IPv6 disabled, use \"proto udp4\".")
	}
	p("proto %s", serverProto(o.proto))
	p("# The port clients connect to: open it in the firewall. If you change the port")
	p("# or the proto, client-profile follows this file; existing profiles do not.")
	p("port %d", o.port)
	p("")
	p("# One address per client in a shared subnet (2.6's default, net30, spends four")
	p("# addresses per client and is deprecated).")
	p("topology subnet")
	last := lastAddr(o.network)
	p("# The IPv4 tunnel network: the server is %s, clients get addresses up to %s.", o.network.Addr().Next(), last)
	p("server %s %s", o.network.Addr(), net.IP(net.CIDRMask(o.network.Bits(), 32)))
	if o.network6.IsValid() {
		p("# The IPv6 tunnel network: the server is %s, clients get addresses from %s on.", o.network6.Addr().Next(), pool6Start(o.network6))
		p("server-ipv6 %s", o.network6)
	} else {
		p("# No IPv6 inside the tunnel (init --network6 none). To add it: server-ipv6 PREFIX/64")
	}
	p("# Give a returning client the address it had before, across restarts.")
	p("ifconfig-pool-persist %s", f(ippFileName))
	p("")
	p("# Ping every 10 seconds when idle; a silent peer is dropped after 60 seconds")
	p("# (the server waits twice as long). Pushed to clients as ping 10, ping-restart 60.")
	p("keepalive 10 60")
	p("")
	p("# The certificate authority (%s) and the server's certificate and key.", caName)
	p("ca %s", pkiFile("ca.crt"))
	p("cert %s", pkiFile("issued", o.serverName+".crt"))
	p("key %s", pkiFile("private", o.serverName+".key"))
	p("# No Diffie-Hellman parameters: the key exchange uses elliptic curves (ECDHE).")
	p("dh none")
	p("# Accept only certificates issued for clients (Extended Key Usage clientAuth).")
	p("remote-cert-tls client")
	p("# Refuse revoked client certificates. `openvpn-go revoke` rewrites this file and")
	p("# openvpn reads it again for every new connection: no restart needed.")
	p("crl-verify %s", pkiFile("crl.pem"))
	p("")
	p("# Encrypt and authenticate the control channel with a key per client profile")
	p("# (tls-crypt-v2): the TLS handshake is hidden, and packets from anyone without a")
	p("# profile are dropped before any TLS processing (no port scans, no DoS on TLS).")
	p("tls-crypt-v2 %s", f(tc2ServerKeyName))
	p("")
	p("# Data channel ciphers: openvpn 2.6's default list, negotiated with each client")
	p("# (AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305), so no data-ciphers line.")
	p("")
	p("# Session tokens: after a client authenticates, the server gives it a token that")
	p("# replaces its password on renegotiation and reconnection. This only matters once")
	p("# you add username/password authentication (auth-user-pass-verify or a plugin);")
	p("# certificate-only clients are unaffected. The secret makes tokens survive a restart.")
	p("auth-gen-token")
	p("auth-gen-token-secret %s", f(authTokenKeyName))
	p("")
	if o.proto == "udp" {
		p("# When the server stops or restarts, tell UDP clients so they reconnect at once")
		p("# instead of waiting for the keepalive timeout.")
		p("explicit-exit-notify 1")
		p("")
	}
	p("# Keep the keys and the tun device across internal restarts (ping-restart, SIGUSR1).")
	p("persist-key")
	p("persist-tun")
	p("")
	if o.redirect {
		p("# Send all of the clients' traffic through the VPN (def1: without replacing their")
		p("# default route). The server must forward and NAT it: see the output of init.")
		if o.network6.IsValid() {
			p("push \"redirect-gateway def1 ipv6\"")
		} else {
			p("push \"redirect-gateway def1\"")
		}
	} else {
		p("# Clients reach the server and each other's tunnel addresses only. To send all")
		p("# their traffic through the VPN (and NAT it here), uncomment:")
		if o.network6.IsValid() {
			p("#push \"redirect-gateway def1 ipv6\"")
		} else {
			p("#push \"redirect-gateway def1\"")
		}
	}
	if len(o.dns) > 0 {
		p("# The DNS servers clients should use while connected.")
		for _, a := range o.dns {
			if a.Is4() {
				p("push \"dhcp-option DNS %s\"", a)
			} else {
				p("push \"dhcp-option DNS6 %s\"", a)
			}
		}
	} else {
		p("# Push a DNS server to clients, e.g. one reachable through the tunnel:")
		p("#push \"dhcp-option DNS %s\"", o.network.Addr().Next())
	}
	p("")
	p("# The connected clients, rewritten every 60 seconds.")
	p("status %s", f(statusFileName))
	p("# Log verbosity: 3 is normal; 4 or 5 to debug a connection problem.")
	p("verb 3")
	p("")
	p("# To drop root after start-up, uncomment, and make %s", filepath.Join(o.dir, pkiDirName, "crl.pem"))
	p("# and the directories above it readable by that user: the CRL is read again for")
	p("# every connection.")
	p("#user nobody")
	p("#group nogroup")
	return b.String()
}

// pool6Start is where openvpn 2.6's server-ipv6 starts the client pool:
// the network + 0x1000, or + 2 for a /112 or longer (helper.c).
func pool6Start(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	off := uint16(0x1000)
	if p.Bits() >= 112 {
		off = 2
	}
	v := uint16(a[14])<<8 | uint16(a[15])
	v += off
	a[14], a[15] = byte(v>>8), byte(v)
	return netip.AddrFrom16(a)
}

// lastAddr is the last usable address of an IPv4 prefix (before broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	v--
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// printInitSummary prints what init made and what to do next.
func printInitSummary(w io.Writer, o *initOptions, files []created) {
	fmt.Fprintf(w, "Created an OpenVPN server setup in %s:\n", o.dir)
	for _, c := range files {
		fmt.Fprintf(w, "  %s\n      %s\n", c.path, c.what)
	}
	fmt.Fprintf(w, "\nTunnel networks: %s", o.network)
	if o.network6.IsValid() {
		fmt.Fprintf(w, " and %s", o.network6)
	}
	fmt.Fprintf(w, "; the server listens on %s port %d (IPv4 and IPv6).\n", o.proto, o.port)
	conf := filepath.Join(o.dir, serverConfName)
	fmt.Fprintf(w, "\nNext steps:\n")
	fmt.Fprintf(w, "  1. Allow %s port %d in the firewall.\n", strings.ToUpper(o.proto), o.port)
	fmt.Fprintf(w, "  2. Start the server (as root):\n       openvpn --config %s\n     or\n       openvpn-go %s\n", conf, conf)
	remote := ""
	if o.publicAddress == "" {
		remote = " --remote HOST"
	}
	fmt.Fprintf(w, "  3. Make a profile for each user or device:\n       openvpn-go client-profile %s NAME%s\n", o.dir, remote)
	if o.publicAddress == "" {
		fmt.Fprintf(w, "     HOST is this server's public name or address, as clients reach it (init was\n     not given --public-address).\n")
	}
	fmt.Fprintf(w, "     and copy %s/NAME.ovpn to the device securely: it holds a private key.\n", filepath.Join(o.dir, clientsDirName))
	if o.redirect {
		fmt.Fprintf(w, "  4. Forward and NAT the clients' traffic, e.g. (OUT is the internet interface):\n")
		fmt.Fprintf(w, "       sysctl -w net.ipv4.ip_forward=1\n")
		fmt.Fprintf(w, "       nft add table ip openvpn\n")
		fmt.Fprintf(w, "       nft add chain ip openvpn post '{ type nat hook postrouting priority 100; }'\n")
		fmt.Fprintf(w, "       nft add rule ip openvpn post ip saddr %s oifname OUT masquerade\n", o.network)
		if o.network6.IsValid() {
			fmt.Fprintf(w, "     and for IPv6 (%s is a unique local network, so it needs NAT too):\n", o.network6)
			fmt.Fprintf(w, "       sysctl -w net.ipv6.conf.all.forwarding=1\n")
			fmt.Fprintf(w, "       nft add table ip6 openvpn\n")
			fmt.Fprintf(w, "       nft add chain ip6 openvpn post '{ type nat hook postrouting priority 100; }'\n")
			fmt.Fprintf(w, "       nft add rule ip6 openvpn post ip6 saddr %s oifname OUT masquerade\n", o.network6)
		}
		if len(o.dns) == 0 {
			fmt.Fprintf(w, "     Clients keep their own DNS servers, which may be unreachable through the VPN:\n     consider pushing one (uncomment the dhcp-option line of server.conf).\n")
		}
	}
	fmt.Fprintf(w, "Revoke a profile with: openvpn-go revoke %s NAME\n", o.dir)
}

// parseRemote reads HOST, HOST:PORT, [IPV6]:PORT or a bare IPv6 address.
// port is 0 when none is given.
func parseRemote(s string) (host string, port int, err error) {
	hp := strings.TrimSpace(s)
	if hp == "" {
		return "", 0, errors.New("empty address: give a host name or an IP address")
	}
	ps := ""
	switch {
	case strings.HasPrefix(hp, "["):
		if strings.HasSuffix(hp, "]") {
			host = hp[1 : len(hp)-1]
		} else if host, ps, err = net.SplitHostPort(hp); err != nil || ps == "" {
			return "", 0, fmt.Errorf("%q: write [IPv6]:PORT", s)
		}
	case strings.Count(hp, ":") == 1:
		if host, ps, err = net.SplitHostPort(hp); err != nil || ps == "" {
			return "", 0, fmt.Errorf("%q: write HOST:PORT", s)
		}
	default:
		host = hp
	}
	if ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("%q: the port %q is not a number from 1 to 65535", s, ps)
		}
		port = n
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", 0, fmt.Errorf("%q: an address with a zone (%%%s) cannot be reached from other hosts", s, a.Zone())
		}
		return a.Unmap().String(), port, nil
	}
	if strings.Contains(host, ":") {
		return "", 0, fmt.Errorf("%q is not an IPv6 address; write [IPv6]:PORT to give a port", s)
	}
	if !isHostName(host) {
		return "", 0, fmt.Errorf("%q is neither an IP address nor a host name (letters, digits, - and .)", host)
	}
	return host, port, nil
}

// isHostName reports whether s is a DNS host name.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// readSetup reads DIR/setup.json.
func readSetup(dir string) (*setup, error) {
	path := filepath.Join(dir, setupFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a setup made by openvpn-go init (%s is missing): run `openvpn-go init %s` first", dir, path, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var st setup
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s is damaged (%w): restore it, or recreate it from server.conf", path, err)
	}
	if st.Version != setupVersion {
		return nil, fmt.Errorf("%s has format version %d; this openvpn-go reads version %d", path, st.Version, setupVersion)
	}
	return &st, nil
}

const clientProfileUsage = `usage: openvpn-go client-profile DIR NAME [options]

Issues a client certificate for NAME from the setup in DIR (made by
openvpn-go init), with its own tls-crypt-v2 key, and writes a single-file
profile, DIR/clients/NAME.ovpn, for openvpn 2.6, OpenVPN Connect or openvpn-go.
NAME (letters, digits, . _ @ -) becomes the certificate's CN.

Options:
`

// cmdClientProfile implements "openvpn-go client-profile DIR NAME".
func cmdClientProfile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client-profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	remote := fs.String("remote", "", "the server as clients reach it: HOST, HOST:PORT or [IPv6]:PORT (default: init's --public-address)")
	out := fs.String("out", "", "the profile to write (default DIR/clients/NAME.ovpn; - for standard output)")
	force := fs.Bool("force", false, "issue a new certificate even if NAME has one (the old one is revoked) and overwrite the profile")
	fs.Usage = func() {
		fmt.Fprint(stderr, clientProfileUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	res, err := makeClientProfile(pos[0], pos[1], *remote, *out, *force, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "openvpn-go client-profile: %v\n", err)
		return 1
	}
	if res.file == "-" {
		return 0
	}
	for _, e := range res.superseded {
		fmt.Fprintf(stdout, "Revoked the previous certificate of %s (serial %s).\n", e.Name, e.Serial)
	}
	fmt.Fprintf(stdout, "Wrote %s: the profile of %q (certificate serial %s, valid until %s),\n", res.file, res.name, res.serial, res.notAfter.Format(time.DateOnly))
	fmt.Fprintf(stdout, "connecting to %s port %d over %s.\n", res.host, res.port, res.proto)
	fmt.Fprintf(stdout, "It holds a private key: copy it to the device securely, then import it into the\n")
	fmt.Fprintf(stdout, "OpenVPN app, or run: openvpn --config %s   (or: openvpn-go %s)\n", filepath.Base(res.file), filepath.Base(res.file))
	fmt.Fprintf(stdout, "Revoke it with: openvpn-go revoke %s %s\n", res.dir, res.name)
	return 0
}

// profileResult describes a profile just made.
type profileResult struct {
	dir, name, file string
	host            string
	port            int
	proto           string
	serial          string
	notAfter        time.Time
	superseded      []pki.Entry
}

// makeClientProfile does the work of client-profile. Everything that can be
// checked is checked before the certificate is issued, so that a mistake
// does not use up the name.
func makeClientProfile(dir, name, remote, out string, force bool, stdout, stderr io.Writer) (*profileResult, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", dir, err)
	}
	st, err := readSetup(abs)
	if err != nil {
		return nil, err
	}
	if err := pki.ValidName(name); err != nil {
		return nil, err
	}
	res := &profileResult{dir: abs, name: name, port: st.Port, proto: st.Proto}

	// Port and proto: server.conf is the truth when it reads cleanly.
	if port, proto, err := serverConfTransport(filepath.Join(abs, serverConfName)); err != nil {
		fmt.Fprintf(stderr, "openvpn-go client-profile: warning: %v; using port %d and %s from %s\n", err, st.Port, st.Proto, setupFileName)
	} else {
		res.port, res.proto = port, proto
	}
	res.host = st.PublicAddress
	if remote != "" {
		h, p, err := parseRemote(remote)
		if err != nil {
			return nil, fmt.Errorf("--remote: %w", err)
		}
		res.host = h
		if p != 0 {
			res.port = p
		}
	}
	if res.host == "" {
		return nil, errors.New("no address for clients to connect to: pass --remote HOST[:PORT] with this server's " +
			"public name or address (init was not given --public-address; openvpn-go does not guess it)")
	}

	res.file = out
	if out == "" {
		res.file = filepath.Join(abs, clientsDirName, name+".ovpn")
	}
	if res.file != "-" {
		if _, err := os.Lstat(res.file); err == nil && !force {
			return nil, fmt.Errorf("%s already exists: pass --force to issue a new certificate for %s and overwrite it, or --out to write elsewhere", res.file, name)
		}
		if out != "" {
			if st, err := os.Stat(filepath.Dir(res.file)); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("--out %s: the directory %s does not exist: create it first", out, filepath.Dir(res.file))
			}
		}
	}

	ca, err := pki.Open(filepath.Join(abs, pkiDirName))
	if err != nil {
		return nil, err
	}
	serverName, err := pickServerName(ca, st.ServerName)
	if err != nil {
		return nil, err
	}
	skPEM, err := os.ReadFile(filepath.Join(abs, tc2ServerKeyName))
	if err != nil {
		return nil, fmt.Errorf("reading the tls-crypt-v2 server key: %w", err)
	}
	sk, err := keys.ParseTLSCryptV2ServerKey(skPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(abs, tc2ServerKeyName), err)
	}
	srvKey, err := ctlwrap.NewV2ServerKey(&sk)
	sk.Zero()
	if err != nil {
		return nil, fmt.Errorf("the tls-crypt-v2 server key: %w", err)
	}
	if _, err := ca.Find(pki.Server, name); err == nil {
		return nil, fmt.Errorf("%q is the server's certificate name: choose another name for the client", name)
	}

	is, err := ca.Issue(pki.Client, name, pki.IssueOptions{Force: force})
	if errors.Is(err, pki.ErrExists) && !force {
		return nil, fmt.Errorf("%w\n(pass --force to issue a new certificate for %s and revoke the old one, or choose another name)", err, name)
	}
	if err != nil {
		return nil, err
	}
	res.serial, res.notAfter, res.superseded = is.Entry.Serial, is.Cert.NotAfter, is.Superseded
	ck, err := srvKey.GenerateClientKey(nil, ctlwrap.TimestampMetadata(timeNow()))
	if err != nil {
		return nil, fmt.Errorf("generating the tls-crypt-v2 client key: %w", err)
	}
	profile := renderProfile(profileParams{
		name: name, host: res.host, port: res.port, proto: res.proto, serverName: serverName,
		serial: is.Entry.Serial, notAfter: is.Cert.NotAfter,
		caPEM: ca.CertPEM, certPEM: is.CertPEM, keyPEM: is.KeyPEM, tc2PEM: ck.Marshal(),
	})
	if res.file == "-" {
		if _, err := io.WriteString(stdout, profile); err != nil {
			return nil, fmt.Errorf("writing the profile: %w", err)
		}
		return res, nil
	}
	if out == "" {
		if err := os.MkdirAll(filepath.Dir(res.file), 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", filepath.Dir(res.file), err)
		}
	}
	if err := writeSecretFile(res.file, []byte(profile), force); err != nil {
		return nil, fmt.Errorf("%w (the certificate of %s is issued: rerun with --force to write a new profile)", err, name)
	}
	return res, nil
}

// pickServerName returns the CN clients must check (verify-x509-name): the
// server certificate recorded by init, or the only valid one.
func pickServerName(ca *pki.CA, recorded string) (string, error) {
	srvs, err := ca.ValidOfKind(pki.Server)
	if err != nil {
		return "", err
	}
	for _, e := range srvs {
		if e.Name == recorded {
			return e.Name, nil
		}
	}
	if len(srvs) == 1 {
		return srvs[0].Name, nil
	}
	return "", fmt.Errorf("%s has no valid server certificate named %q (found %d server certificates): "+
		"the setup is damaged or expired; make a new one with openvpn-go init", ca.IndexFile(), recorded, len(srvs))
}

// serverConfTransport reads the port and the transport ("udp" or "tcp")
// clients must use from server.conf.
func serverConfTransport(path string) (int, string, error) {
	o, _, err := config.Load(path)
	if err != nil {
		return 0, "", fmt.Errorf("%s does not read cleanly (see openvpn-go check %s)", path, path)
	}
	if len(o.Connections) == 0 {
		return 0, "", fmt.Errorf("%s has no connection settings", path)
	}
	c := o.Connections[0]
	proto := "udp"
	if c.Proto.IsTCP() {
		proto = "tcp"
	}
	return int(c.LocalPort), proto, nil
}

// profileParams is what goes into a .ovpn profile.
type profileParams struct {
	name, host, proto, serverName string
	port                          int
	serial                        string
	notAfter                      time.Time
	caPEM, certPEM, keyPEM        []byte
	tc2PEM                        []byte
}

// renderProfile writes a single-file client profile.
func renderProfile(pp profileParams) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	block := func(tag string, pemData []byte) {
		p("<%s>", tag)
		b.WriteString(strings.TrimRight(string(pemData), "\n"))
		b.WriteString("\n")
		p("</%s>", tag)
	}
	p("# OpenVPN client profile of %q, made by `openvpn-go client-profile` on %s.", pp.name, timeNow().UTC().Format(time.DateOnly))
	p("# Certificate serial %s, valid until %s.", pp.serial, pp.notAfter.Format(time.DateOnly))
	p("# It contains a private key: anyone with this file can connect as %s. Keep it secret.", pp.name)
	p("# Use it with openvpn 2.6 (openvpn --config FILE), OpenVPN Connect, or openvpn-go FILE.")
	p("")
	p("# Take addresses, routes and options from the server.")
	p("client")
	p("# A routed (layer 3) tunnel, as the server's.")
	p("dev tun")
	p("proto %s", pp.proto)
	p("# The server: tried over IPv4 and IPv6 if the name has both.")
	p("remote %s %d", pp.host, pp.port)
	p("# Use any local port.")
	p("nobind")
	p("# Keep the keys and the tun device across reconnections.")
	p("persist-key")
	p("persist-tun")
	p("# Accept only a server certificate from this CA, issued for a server (EKU")
	p("# serverAuth), with exactly this name.")
	p("remote-cert-tls server")
	p("verify-x509-name %s name", pp.serverName)
	if pp.proto == "udp" {
		p("# Tell the server when disconnecting, so it frees the session at once.")
		p("explicit-exit-notify 1")
	}
	p("verb 3")
	p("")
	block("ca", pp.caPEM)
	block("cert", pp.certPEM)
	block("key", pp.keyPEM)
	p("# This profile's own control-channel key (tls-crypt-v2), wrapped by the server's.")
	block("tls-crypt-v2", pp.tc2PEM)
	return b.String()
}

// writeSecretFile writes a 0600 file: atomically replacing an existing one
// when replace is set, else only when path does not exist.
func writeSecretFile(path string, data []byte, replace bool) (err error) {
	if !replace {
		return writeNewFile(path, data, 0o600)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

const revokeUsage = `usage: openvpn-go revoke DIR NAME

Revokes the client certificate of NAME in the setup in DIR (made by
openvpn-go init) and rewrites DIR/pki/crl.pem, which the server reads for
every new connection.
`

// cmdRevoke implements "openvpn-go revoke DIR NAME".
func cmdRevoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, revokeUsage) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	dir, name := pos[0], pos[1]
	if err := revokeClient(dir, name, stdout); err != nil {
		fmt.Fprintf(stderr, "openvpn-go revoke: %v\n", err)
		return 1
	}
	return 0
}

func revokeClient(dir, name string, stdout io.Writer) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("directory %q: %w", dir, err)
	}
	if _, err := readSetup(abs); err != nil {
		return err
	}
	ca, err := pki.Open(filepath.Join(abs, pkiDirName))
	if err != nil {
		return err
	}
	if _, err := ca.Find(pki.Client, name); errors.Is(err, pki.ErrNotFound) {
		if _, serr := ca.Find(pki.Server, name); serr == nil {
			return fmt.Errorf("%q is the server's certificate, not a client's: clients check no CRL, so revoking it would change nothing", name)
		}
		return fmt.Errorf("%q has no valid client certificate (see %s for what was issued)", name, ca.IndexFile())
	} else if err != nil {
		return err
	}
	revoked, err := ca.Revoke(name)
	if err != nil {
		return err
	}
	for _, e := range revoked {
		fmt.Fprintf(stdout, "Revoked the certificate of %s (serial %s).\n", e.Name, e.Serial)
	}
	fmt.Fprintf(stdout, "Updated %s: the server refuses %s from its next connection on.\n", ca.CRLFile(), name)
	fmt.Fprintf(stdout, "A session already up lasts until it renegotiates (hourly by default) or reconnects: restart\n")
	fmt.Fprintf(stdout, "the server, or use the management interface's \"kill %s\", to cut it now.\n", name)
	if p := filepath.Join(abs, clientsDirName, name+".ovpn"); fileExists(p) {
		fmt.Fprintf(stdout, "%s no longer works; delete it.\n", p)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
