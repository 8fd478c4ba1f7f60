// Package lab runs integration tests: the reference openvpn 2.6 and our own
// binary side by side in Linux network namespaces on this machine, with a
// throwaway PKI, static and tls-crypt-v2 keys, ping and iperf3, and NAT on a
// router namespace. Everything it creates is removed in t.Cleanup, and
// namespaces left by killed test processes are swept at first use.
//
// An integration test in ten lines:
//
//	func TestPing(t *testing.T) {
//		n := lab.NewNet(t) // skips unless root; lab.Routed() adds a router
//		pki := lab.NewPKI(t)
//		w := lab.Wrap{TLSCrypt: lab.NewStaticKey(t)}
//		srv := lab.StartOpenVPN(t, n.Server, "server", lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Wrap: w}))
//		srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
//		cli := lab.StartOpenVPN(t, n.Client, "client", lab.OpenVPNClientConfig(lab.ClientOptions{CA: pki.CA.CertFile, Cert: pki.Client(t, "alice"), Remote: n.Server.IPv4, Wrap: w}))
//		cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
//		n.Client.Ping(t, lab.ServerTunIPv4, 3)
//	}
//
// Each namespace is an *NS: Start runs a program inside it with its output in
// a log file (WaitLog waits for a line and fails fast if the program dies;
// on failure the tail of every log is printed), Run runs a command to
// completion, Do runs Go code on a thread inside it (sockets made there stay
// there). BuildOpenVPNGo builds ./cmd/openvpn-go once per test process.
//
// Tests skip when the machine cannot run the lab (not root, no
// /dev/net/tun, a program missing); with OPENVPN_GO_REQUIRE_LAB=1 they fail
// instead, so CI cannot skip them silently. Namespaces are named
// "ovt<pid>-<start>-<n>": tests in many packages may run at once.
package lab
