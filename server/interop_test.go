package server_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

type srvEnv struct {
	n       *lab.Net
	pki     *lab.PKI
	bin     string
	srv     *lab.Proc
	srvConf string
	wrapCli lab.Wrap
}

// startServer runs openvpn-go as the server with a 2.6 server config.
func startServer(t *testing.T, wrap string, proto string, extra []string, netOpts ...lab.NetOption) *srvEnv {
	t.Helper()
	e := &srvEnv{n: lab.NewNet(t, netOpts...), pki: lab.NewPKI(t), bin: lab.BuildOpenVPNGo(t)}
	var sw lab.Wrap
	switch wrap {
	case "tls-auth":
		k := lab.NewStaticKey(t)
		sw.TLSAuth, e.wrapCli.TLSAuth = k, k
	case "tls-crypt":
		k := lab.NewStaticKey(t)
		sw.TLSCrypt, e.wrapCli.TLSCrypt = k, k
	case "tls-crypt-v2":
		sk := lab.NewTLSCryptV2ServerKey(t)
		sw.TLSCryptV2 = sk
		e.wrapCli.TLSCryptV2 = lab.NewTLSCryptV2ClientKey(t, sk, nil)
	}
	conf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: e.pki.CA.CertFile, Cert: e.pki.Server(t), Proto: proto, Wrap: sw,
		Extra: append([]string{"keepalive 2 10"}, extra...)})
	e.srvConf = filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(e.srvConf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	e.srv = e.n.Server.Start(t, "openvpn-go-server", e.bin, "--config", e.srvConf)
	e.srv.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)
	return e
}

// client starts a reference openvpn client in ns.
func (e *srvEnv) client(t *testing.T, ns *lab.NS, name string, remote string, proto string, extra ...string) *lab.Proc {
	t.Helper()
	conf := lab.OpenVPNClientConfig(lab.ClientOptions{CA: e.pki.CA.CertFile, Cert: e.pki.Client(t, name), Remote: netipMust(remote), Proto: proto, Wrap: e.wrapCli, Extra: extra})
	conf = strings.Replace(conf, "remote <nil> 1194", "remote "+remote+" 1194", 1)
	p := lab.StartOpenVPN(t, ns, name, strings.Replace(conf, "remote invalid IP 1194", "remote "+remote+" 1194", 1))
	p.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)
	return p
}

func TestServerBasic(t *testing.T) {
	e := startServer(t, "tls-crypt", "udp", nil)
	cli := e.client(t, e.n.Client, "alice", e.n.Server.IPv4.String(), "udp")
	e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
	e.n.Client.Ping(t, lab.ServerTunIPv6, 3)
	_ = cli
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestThreeClients: three reference openvpn clients at once — UDP over
// IPv4, UDP over IPv6 to the same dual-stack socket, and TCP on a second
// listener. Each pings the server over IPv4 and IPv6 in the tunnel, they
// reach each other with client-to-client, a subnet behind one client
// (iroute) is reachable, and a client offering only AES-256-CBC gets it
// while the others use AES-256-GCM.
func TestThreeClients(t *testing.T) {
	ccd := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(ccd, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("alice", "ifconfig-push 10.8.0.10 255.255.255.0\nifconfig-ipv6-push fd00:8::10/64\niroute 192.168.50.0 255.255.255.0\n")
	write("bob", "ifconfig-push 10.8.0.11 255.255.255.0\nifconfig-ipv6-push fd00:8::11/64\n")
	write("carol", "ifconfig-push 10.8.0.12 255.255.255.0\nifconfig-ipv6-push fd00:8::12/64\n")
	e := startServer(t, "tls-crypt", "udp", []string{
		"local * 1194 udp",
		"local * 1194 tcp",
		"client-to-client",
		"client-config-dir " + ccd,
		"route 192.168.50.0 255.255.255.0",
		`push "route 192.168.50.0 255.255.255.0"`,
		"data-ciphers AES-256-GCM:AES-128-GCM:AES-256-CBC",
		"auth SHA256",
	}, lab.Clients(3))
	// A subnet behind alice.
	e.n.Clients[0].MustRun(t, "ip", "addr", "add", "192.168.50.1/32", "dev", "lo")
	alice := e.client(t, e.n.Clients[0], "alice", e.n.Server.IPv4.String(), "udp")
	bob := e.client(t, e.n.Clients[1], "bob", e.n.Server.IPv6.String(), "udp")
	carol := e.client(t, e.n.Clients[2], "carol", e.n.Server.IPv4.String(), "tcp", "data-ciphers AES-256-CBC", "auth SHA256")
	for _, c := range e.n.Clients {
		c.Ping(t, lab.ServerTunIPv4, 2)
		c.Ping(t, lab.ServerTunIPv6, 2)
	}
	// client-to-client, both families.
	e.n.Clients[0].Ping(t, netip.MustParseAddr("10.8.0.11"), 2)
	e.n.Clients[1].Ping(t, netip.MustParseAddr("fd00:8::12"), 2)
	e.n.Clients[2].Ping(t, netip.MustParseAddr("10.8.0.10"), 2)
	// The subnet behind alice, from the server and from bob.
	e.n.Server.Ping(t, netip.MustParseAddr("192.168.50.1"), 2)
	e.n.Clients[1].Ping(t, netip.MustParseAddr("192.168.50.1"), 2)
	for _, tc := range []struct {
		p      *lab.Proc
		cipher string
	}{{alice, "AES-256-GCM"}, {bob, "AES-256-GCM"}, {carol, "AES-256-CBC"}} {
		if !strings.Contains(tc.p.Log(), "Data Channel: cipher '"+tc.cipher+"'") {
			t.Errorf("%s: not %s:\n%s", tc.p.Name, tc.cipher, tc.p.Tail(10))
		}
	}
	if !strings.Contains(e.srv.Log(), "bob/[fd00:200::") {
		t.Errorf("bob did not connect over IPv6:\n%s", e.srv.Tail(20))
	}
}

// TestServerMatrix: reference openvpn 2.6 clients against openvpn-go as the
// server over UDP and TCP, IPv4 and IPv6 transport, every control-channel
// wrapping, the three ciphers and both topologies.
func TestServerMatrix(t *testing.T) {
	ciphers := []struct{ cipher, auth string }{{"AES-256-GCM", ""}, {"CHACHA20-POLY1305", ""}, {"AES-256-CBC", "SHA256"}}
	i := 0
	for _, proto := range []string{"udp", "tcp"} {
		for _, fam := range []int{4, 6} {
			for _, w := range []string{"none", "tls-auth", "tls-crypt", "tls-crypt-v2"} {
				c := ciphers[i%3]
				topo := "subnet"
				if (i/3)%2 == 1 {
					topo = "net30"
				}
				i++
				name := fmt.Sprintf("%s%d-%s-%s-%s", proto, fam, w, c.cipher, topo)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					extra := []string{"data-ciphers " + c.cipher}
					var cliExtra []string
					cliExtra = append(cliExtra, "data-ciphers "+c.cipher)
					if c.auth != "" {
						extra = append(extra, "auth "+c.auth)
						cliExtra = append(cliExtra, "auth "+c.auth)
					}
					if topo == "net30" {
						extra = append(extra, "topology net30")
					}
					e := startServer(t, w, proto+"6", extra)
					remote := e.n.Server.IPv4.String()
					if fam == 6 {
						remote = e.n.Server.IPv6.String()
					}
					cli := e.client(t, e.n.Client, "alice", remote, proto, cliExtra...)
					e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
					e.n.Client.Ping(t, lab.ServerTunIPv6, 2)
					r := lab.Iperf3(t, e.n.Client, e.n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: time.Second})
					t.Logf("%s: iperf3 %.0f Mbit/s", name, r.ReceivedBPS/1e6)
					if !strings.Contains(cli.Log(), "Data Channel: cipher '"+c.cipher+"'") {
						t.Errorf("client did not use %s:\n%s", c.cipher, cli.Tail(10))
					}
				})
			}
		}
	}
}

// TestServerTopologyP2P: "topology p2p": the pool hands out single
// addresses (from .4, as the 2.6 "server" macro sets the pool) pushed
// with the server's tun address as the peer.
func TestServerTopologyP2P(t *testing.T) {
	t.Parallel()
	e := startServer(t, "tls-crypt", "udp", []string{"topology p2p"})
	cli := e.client(t, e.n.Client, "alice", e.n.Server.IPv4.String(), "udp")
	e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	e.n.Client.Ping(t, lab.ServerTunIPv6, 2)
	if !strings.Contains(cli.Log(), "topology p2p") || !strings.Contains(cli.Log(), "ifconfig 10.8.0.4 10.8.0.1") {
		t.Errorf("not pushed as topology p2p:\n%s", cli.Tail(20))
	}
}

// TestOwnClient: openvpn-go client against openvpn-go server.
func TestOwnClient(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			e := startServer(t, "tls-crypt-v2", proto+"6", nil)
			cert := e.pki.Client(t, "alice")
			conf := strings.Join([]string{"client", "dev tun", "proto " + proto, "remote " + e.n.Server.IPv6.String() + " 1194",
				"ca " + e.pki.CA.CertFile, "cert " + cert.CertFile, "key " + cert.KeyFile, "remote-cert-tls server",
				"tls-crypt-v2 " + e.wrapCli.TLSCryptV2, "verb 3"}, "\n") + "\n"
			f := filepath.Join(t.TempDir(), "client.ovpn")
			os.WriteFile(f, []byte(conf), 0o600)
			cli := e.n.Client.Start(t, "openvpn-go-client", e.bin, "--config", f)
			cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
			e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
			e.n.Client.Ping(t, lab.ServerTunIPv6, 2)
			r := lab.Iperf3(t, e.n.Client, e.n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: time.Second})
			t.Logf("openvpn-go <-> openvpn-go %s: iperf3 %.0f Mbit/s", proto, r.ReceivedBPS/1e6)
		})
	}
}
