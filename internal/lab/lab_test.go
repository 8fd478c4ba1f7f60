package lab_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

// TestOpenVPNPair proves the lab end to end: the reference openvpn as server
// and client in two namespaces (UDP, tls-crypt, topology subnet, IPv4 and
// IPv6 pools), ping over both families through the tunnel, then 2 seconds of
// iperf3.
func TestOpenVPNPair(t *testing.T) {
	n := lab.NewNet(t)
	lab.RequireBinary(t, "openvpn", "ping", "iperf3")
	pki := lab.NewPKI(t)
	w := lab.Wrap{TLSCrypt: lab.NewStaticKey(t)}

	start := time.Now()
	srv := lab.StartOpenVPN(t, n.Server, "server", lab.OpenVPNServerConfig(lab.ServerOptions{
		CA: pki.CA.CertFile, Cert: pki.Server(t), Wrap: w,
	}))
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	cli := lab.StartOpenVPN(t, n.Client, "client", lab.OpenVPNClientConfig(lab.ClientOptions{
		CA: pki.CA.CertFile, Cert: pki.Client(t, "alice"), Remote: n.Server.IPv4, Wrap: w,
	}))
	cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	t.Logf("tunnel up after %v", time.Since(start).Round(time.Millisecond))

	n.Client.Ping(t, lab.ServerTunIPv4, 3)
	n.Client.Ping(t, lab.ServerTunIPv6, 3)

	r := lab.Iperf3(t, n.Client, n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: 2 * time.Second})
	t.Logf("iperf3 through the tunnel: sent %.1f Mbit/s, received %.1f Mbit/s, %d retransmits",
		r.SentBPS/1e6, r.ReceivedBPS/1e6, r.Retransmits)
	if r.ReceivedBPS <= 0 {
		t.Errorf("iperf3 measured %v bit/s", r.ReceivedBPS)
	}
}

// TestOpenVPNVariants runs the reference openvpn in other set-ups the lab
// offers (wrapping, transport, NAT) and checks that the negative
// certificate options fail the way openvpn reports them.
func TestOpenVPNVariants(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireBinary(t, "openvpn", "ping")
	pki := lab.NewPKI(t)
	srvCert, cliCert := pki.Server(t), pki.Client(t, "alice")
	v2srv := lab.NewTLSCryptV2ServerKey(t)
	v2cli := lab.NewTLSCryptV2ClientKey(t, v2srv, []byte("user=alice"))
	ta := lab.NewStaticKey(t)
	revoked := pki.Client(t, "mallory")
	crl := pki.CRL(t, revoked)

	tests := []struct {
		name     string
		routed   bool
		proto    string
		v6       bool // connect to the server's IPv6 address
		srvWrap  lab.Wrap
		cliWrap  lab.Wrap
		srvCert  *lab.Cert
		cliCert  *lab.Cert
		crl      string
		failLog  string // "": must connect; else the server (S) or client (C) log line
		failSide string
		peer     string // when connecting: how the server logs the client's address
	}{
		{name: "tls-auth over udp6", proto: "udp6", v6: true,
			srvWrap: lab.Wrap{TLSAuth: ta}, cliWrap: lab.Wrap{TLSAuth: ta}, peer: `\[AF_INET6\]fd00:200::2:\d+`},
		{name: "tls-crypt-v2 over tcp through NAT", routed: true, proto: "tcp",
			srvWrap: lab.Wrap{TLSCryptV2: v2srv}, cliWrap: lab.Wrap{TLSCryptV2: v2cli},
			peer: `\[AF_INET6?\](::ffff:)?10\.202\.0\.1:\d+`}, // the router's address
		{name: "expired client", cliCert: pki.Client(t, "old", lab.Expired()),
			failSide: "S", failLog: `VERIFY ERROR: .*certificate has expired`},
		{name: "server with client EKU", srvCert: pki.Server(t, lab.ExtKeyUsage(x509.ExtKeyUsageClientAuth)),
			failSide: "C", failLog: `VERIFY ERROR: .*unsuitable certificate purpose`},
		{name: "server without CN", srvCert: pki.Server(t, lab.NoCommonName()),
			failSide: "C", failLog: `VERIFY ERROR: could not extract CN`},
		{name: "revoked client", cliCert: revoked, crl: crl,
			failSide: "S", failLog: `VERIFY ERROR: .*certificate revoked`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []lab.NetOption
			if tc.routed {
				opts = append(opts, lab.Routed())
			}
			n := lab.NewNet(t, opts...)
			if tc.routed {
				n.Masquerade(t)
			}
			so := lab.ServerOptions{CA: pki.CA.CertFile, Cert: srvCert, Proto: tc.proto, Wrap: tc.srvWrap, CRL: tc.crl}
			if tc.srvCert != nil {
				so.Cert = tc.srvCert
			}
			remote := n.Server.IPv4
			if tc.v6 {
				remote = n.Server.IPv6
			}
			co := lab.ClientOptions{CA: pki.CA.CertFile, Cert: cliCert, Remote: remote, Proto: tc.proto, Wrap: tc.cliWrap}
			if tc.cliCert != nil {
				co.Cert = tc.cliCert
			}
			srv := lab.StartOpenVPN(t, n.Server, "server", lab.OpenVPNServerConfig(so))
			srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
			cli := lab.StartOpenVPN(t, n.Client, "client", lab.OpenVPNClientConfig(co))
			switch tc.failSide {
			case "S":
				srv.WaitLog(t, tc.failLog, lab.ReadyTimeout)
			case "C":
				cli.WaitLog(t, tc.failLog, lab.ReadyTimeout)
			default:
				cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
				n.Client.Ping(t, lab.ServerTunIPv4, 2)
				n.Client.Ping(t, lab.ServerTunIPv6, 2)
				srv.WaitLog(t, `Peer Connection Initiated with `+tc.peer, time.Second)
			}
		})
	}
}
