package client_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

// interop describes one case of the matrix: the reference openvpn 2.6
// server and openvpn-go as the client, in two network namespaces.
type interop struct {
	proto   string // udp, tcp
	family  int    // 4 or 6: the transport address family
	wrap    string // none, tls-auth, tls-crypt, tls-crypt-v2
	cipher  string
	auth    string
	topo    string // subnet, net30
	iperf   bool
	srvOpts []string
	cliOpts []string
	// routed puts a router between client and server (the server is reached
	// through a gateway, as on the internet).
	routed bool
	// remote overrides the server address in the client's remote line.
	remote string
	// clientEnv is extra environment for the client process.
	clientEnv []string
	// noWait returns without waiting for the client's tunnel.
	noWait bool
	// beforeClient runs after the server is up, before the client starts.
	beforeClient func(*interopEnv)
	// clientCmd, if set, replaces the client's command line (it gets the
	// binary and the config path).
	clientCmd func(bin, conf string) []string
}

func (c interop) name() string {
	return fmt.Sprintf("%s%d-%s-%s-%s", c.proto, c.family, c.wrap, c.cipher, c.topo)
}

type interopEnv struct {
	n       *lab.Net
	pki     *lab.PKI
	bin     string
	dir     string
	srv     *lab.Proc
	cli     *lab.Proc
	cliConf string
	srvConf string

	routesBefore string
}

// startInterop starts the reference server and our client for c and waits
// until the client reports the tunnel up.
func startInterop(t *testing.T, c interop) *interopEnv {
	t.Helper()
	var netOpts []lab.NetOption
	if c.routed {
		netOpts = append(netOpts, lab.Routed())
	}
	e := &interopEnv{n: lab.NewNet(t, netOpts...), pki: lab.NewPKI(t), bin: lab.BuildOpenVPNGo(t), dir: t.TempDir()}
	var sw, cw lab.Wrap
	var cliWrap []string
	switch c.wrap {
	case "tls-auth":
		k := lab.NewStaticKey(t)
		sw.TLSAuth = k
		cliWrap = []string{"tls-auth " + k + " 1"}
	case "tls-crypt":
		k := lab.NewStaticKey(t)
		sw.TLSCrypt = k
		cliWrap = []string{"tls-crypt " + k}
	case "tls-crypt-v2":
		sk := lab.NewTLSCryptV2ServerKey(t)
		sw.TLSCryptV2 = sk
		cliWrap = []string{"tls-crypt-v2 " + lab.NewTLSCryptV2ClientKey(t, sk, nil)}
	}
	_ = cw
	extra := []string{"keepalive 2 10"}
	if c.cipher != "" {
		extra = append(extra, "data-ciphers "+c.cipher)
	}
	if c.auth != "" {
		extra = append(extra, "auth "+c.auth)
	}
	extra = append(extra, c.srvOpts...)
	proto := c.proto
	srvConf := lab.OpenVPNServerConfig(lab.ServerOptions{
		CA: e.pki.CA.CertFile, Cert: e.pki.Server(t), Proto: proto + "6", Wrap: sw, Extra: extra,
	})
	if c.topo == "net30" {
		srvConf = strings.Replace(srvConf, "topology subnet", "topology net30", 1)
	}
	e.srvConf = srvConf
	e.srv = lab.StartOpenVPN(t, e.n.Server, "server", srvConf)
	e.srv.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)

	remote := e.n.Server.IPv4.String()
	if c.family == 6 {
		remote = e.n.Server.IPv6.String()
	}
	if c.remote != "" {
		remote = c.remote
	}
	cert := e.pki.Client(t, "alice")
	cli := []string{
		"client",
		"dev tun",
		"proto " + c.proto,
		"remote " + remote + " 1194",
		"nobind",
		"ca " + e.pki.CA.CertFile,
		"cert " + cert.CertFile,
		"key " + cert.KeyFile,
		"remote-cert-tls server",
		"verb 4",
	}
	if c.cipher != "" {
		cli = append(cli, "data-ciphers "+c.cipher)
	}
	if c.auth != "" {
		cli = append(cli, "auth "+c.auth)
	}
	cli = append(cli, cliWrap...)
	cli = append(cli, c.cliOpts...)
	e.cliConf = filepath.Join(e.dir, "client.ovpn")
	if err := os.WriteFile(e.cliConf, []byte(strings.Join(cli, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.beforeClient != nil {
		c.beforeClient(e)
	}
	if c.clientCmd != nil {
		args := c.clientCmd(e.bin, e.cliConf)
		e.cli = e.n.Client.Start(t, "openvpn-go", args[0], args[1:]...)
	} else if len(c.clientEnv) > 0 {
		e.cli = e.n.Client.Start(t, "openvpn-go", "env", append(c.clientEnv, e.bin, "--config", e.cliConf)...)
	} else {
		e.cli = e.n.Client.Start(t, "openvpn-go", e.bin, "--config", e.cliConf)
	}
	if !c.noWait {
		e.cli.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)
	}
	return e
}

// TestInteropCompression: servers that still compress (comp-lzo, lz4-v2)
// send compressed packets; openvpn-go decompresses them and sends
// uncompressed framing back.
func TestInteropCompression(t *testing.T) {
	for _, c := range []struct{ name, opt string }{
		{"comp-lzo", "comp-lzo yes"},
		{"lz4-v2", "compress lz4-v2"},
		{"lz4", "compress lz4"},
		{"stub-v2", "compress stub-v2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
				srvOpts: []string{c.opt, "allow-compression yes", `push "` + c.opt + `"`}})
			// Large, compressible pings: the server compresses them.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := e.n.Client.Run(ctx, "ping", "-n", "-q", "-c", "5", "-i", "0.2", "-s", "1200", "-p", "00", lab.ServerTunIPv4.String())
			if err != nil || !strings.Contains(out, " 0% packet loss") {
				t.Fatalf("ping: %v\n%s", err, out)
			}
			r := lab.Iperf3(t, e.n.Client, e.n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: time.Second, Reverse: true})
			t.Logf("%s: iperf3 (server to client) %.0f Mbit/s", c.name, r.ReceivedBPS/1e6)
		})
	}
}

// TestInteropFragment: --fragment on both ends; large pings need several
// fragments each way.
func TestInteropFragment(t *testing.T) {
	t.Parallel()
	e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-auth", cipher: "AES-256-GCM", topo: "subnet",
		srvOpts: []string{"fragment 600", "mssfix 0"}, cliOpts: []string{"fragment 600", "mssfix 0"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, size := range []string{"100", "1400", "3000"} {
		out, err := e.n.Client.Run(ctx, "ping", "-n", "-q", "-c", "5", "-i", "0.2", "-s", size, lab.ServerTunIPv4.String())
		if err != nil || !strings.Contains(out, " 0% packet loss") {
			t.Fatalf("ping -s %s: %v\n%s", size, err, out)
		}
	}
	r := lab.Iperf3(t, e.n.Client, e.n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: time.Second})
	t.Logf("fragment 600: iperf3 %.0f Mbit/s", r.ReceivedBPS/1e6)
}

// TestInteropMatrix connects openvpn-go to the reference openvpn 2.6 server
// over every transport (UDP, TCP; IPv4 and IPv6 addresses), every
// control-channel wrapping, and the data ciphers and topologies the issue
// names, each case pinging the server's tunnel addresses over IPv4 and IPv6
// and running a short iperf3.
func TestInteropMatrix(t *testing.T) {
	ciphers := []struct{ cipher, auth string }{{"AES-256-GCM", ""}, {"CHACHA20-POLY1305", ""}, {"AES-256-CBC", "SHA256"}}
	wraps := []string{"none", "tls-auth", "tls-crypt", "tls-crypt-v2"}
	var cases []interop
	i := 0
	for _, proto := range []string{"udp", "tcp"} {
		for _, fam := range []int{4, 6} {
			for _, w := range wraps {
				c := ciphers[i%3]
				topo := "subnet"
				if (i/3)%2 == 1 {
					topo = "net30"
				}
				cases = append(cases, interop{proto: proto, family: fam, wrap: w, cipher: c.cipher, auth: c.auth, topo: topo})
				i++
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			e := startInterop(t, c)
			e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
			e.n.Client.Ping(t, lab.ServerTunIPv6, 3)
			r := lab.Iperf3(t, e.n.Client, e.n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: time.Second})
			t.Logf("%s: iperf3 %.0f Mbit/s", c.name(), r.ReceivedBPS/1e6)
			if !strings.Contains(e.srv.Log(), "Data Channel: cipher '"+c.cipher+"'") {
				t.Errorf("server did not use %s:\n%s", c.cipher, e.srv.Tail(20))
			}
		})
	}
}
