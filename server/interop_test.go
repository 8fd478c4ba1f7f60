package server_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
