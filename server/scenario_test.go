package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
	"github.com/openvpn-go/openvpn-go/wire"
)

// TestFloat: the client's NAT rebinds (new source address and port) in the
// middle of the session; once a packet from the new address authenticates,
// the server moves the client there and pings continue.
func TestFloat(t *testing.T) {
	t.Parallel()
	e := startServer(t, "tls-crypt", "udp", nil, lab.Routed())
	r := e.n.Router.Links[1].IPv4.Addr()
	e.n.SNAT(t, netip.AddrPortFrom(r, 40000))
	e.client(t, e.n.Client, "alice", e.n.Server.IPv4.String(), "udp")
	e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
	if !strings.Contains(e.srv.Log(), fmt.Sprintf("%s:40000", r)) {
		t.Fatalf("client not seen at the NAT address:\n%s", e.srv.Tail(10))
	}
	// Rebind: another port and another address.
	other := r.Next().Next().Next()
	e.n.SNAT(t, netip.AddrPortFrom(other, 50123))
	e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
	e.n.Client.Ping(t, lab.ServerTunIPv6, 3)
	e.srv.WaitLog(t, regexp.QuoteMeta(fmt.Sprintf("peer floated to %s:50123", other)), 5*time.Second)
	if strings.Count(e.srv.Log(), "Peer Connection Initiated") != 1 {
		t.Fatalf("the client reconnected instead of floating:\n%s", e.srv.Tail(20))
	}
}

// TestAuthTokenAcrossServers: a token minted by the reference openvpn
// server is accepted by openvpn-go with the same secret, and the other way
// round; tokens survive server restarts. The password check runs once.
func TestAuthTokenAcrossServers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	count := filepath.Join(dir, "verify.count")
	script := filepath.Join(dir, "verify.sh")
	os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")
echo "$user" >> %s
[ "$user" = alice ] && [ "$pass" = secret ]
`, count)), 0o755)
	secret := lab.NewAuthTokenKey(t)
	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte("alice\nsecret\n"), 0o600)
	extra := []string{"script-security 2", "auth-user-pass-verify " + script + " via-file",
		"auth-gen-token 0 120", "auth-gen-token-secret " + secret, "explicit-exit-notify 1"}

	n := lab.NewNet(t)
	pki := lab.NewPKI(t)
	bin := lab.BuildOpenVPNGo(t)
	k := lab.NewStaticKey(t)
	w := lab.Wrap{TLSCrypt: k}
	conf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Proto: "udp", Wrap: w,
		Extra: append([]string{"keepalive 2 10"}, extra...)})
	confFile := filepath.Join(dir, "server.conf")
	os.WriteFile(confFile, []byte(conf), 0o600)
	lines := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "\n")
	}
	startRef := func(name string) *lab.Proc {
		p := lab.StartOpenVPN(t, n.Server, name, conf)
		p.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		return p
	}
	startOurs := func(name string) *lab.Proc {
		p := n.Server.Start(t, name, bin, "--config", confFile)
		p.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		return p
	}
	srv := startRef("reference-1")
	cli := lab.StartOpenVPN(t, n.Client, "client", lab.OpenVPNClientConfig(lab.ClientOptions{
		CA: pki.CA.CertFile, Cert: pki.Client(t, "alice"), Remote: n.Server.IPv4, Wrap: w,
		Extra: []string{"auth-user-pass " + creds}}))
	cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	n.Client.Ping(t, lab.ServerTunIPv4, 2)
	steps := []struct {
		name  string
		start func(string) *lab.Proc
	}{{"openvpn-go-1", startOurs}, {"openvpn-go-2 (restart, same secret)", startOurs}, {"reference-2", startRef}}
	for i, st := range steps {
		srv.Stop()
		srv = st.start(fmt.Sprintf("server-%d", i+2))
		cli.WaitLogN(t, lab.ReadyPattern, i+2, 60*time.Second)
		n.Client.Ping(t, lab.ServerTunIPv4, 2)
		if l := lines(); l != 1 {
			t.Fatalf("after switching to %s the password check ran %d times; the token should have been accepted.\nclient:\n%s\nserver:\n%s",
				st.name, l, cli.Tail(20), srv.Tail(20))
		}
	}
	if strings.Contains(cli.Log(), "AUTH_FAILED") {
		t.Fatalf("a token was refused:\n%s", cli.Tail(30))
	}
}

// TestAuthTokenExternalAuth: with auth-gen-token's external-auth the
// authentication script runs for every authentication, tokens included,
// and sees session_state and session_id. The reference server is the
// judge: the same script behind it and behind openvpn-go, with a stock
// client renegotiating every 4 s and a token lifetime of 6 s, must see the
// same sequence (Initial with the password, Authenticated with the token,
// then Expired, accepted by the script) and the same session id throughout.
func TestAuthTokenExternalAuth(t *testing.T) {
	t.Parallel()
	trace := func(t *testing.T, ours bool) string {
		dir := t.TempDir()
		out := filepath.Join(dir, "trace")
		script := filepath.Join(dir, "verify.sh")
		os.WriteFile(script, []byte(`#!/bin/sh
user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")
kind=password; case "$pass" in SESS_ID_AT_*) kind=token;; esac
echo "$user $kind $session_state $session_id" >> `+out+`
[ "$user" = alice ] && { [ "$pass" = secret ] || [ $kind = token ]; }
`), 0o755)
		creds := filepath.Join(dir, "creds")
		os.WriteFile(creds, []byte("alice\nsecret\n"), 0o600)
		n := lab.NewNet(t)
		pki := lab.NewPKI(t)
		w := lab.Wrap{TLSCrypt: lab.NewStaticKey(t)}
		conf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Proto: "udp", Wrap: w,
			Extra: []string{"keepalive 2 10", "script-security 2", "auth-user-pass-verify " + script + " via-file",
				"auth-gen-token 6 120 external-auth", "auth-gen-token-secret " + lab.NewAuthTokenKey(t)}})
		var srv *lab.Proc
		if ours {
			f := filepath.Join(dir, "server.conf")
			os.WriteFile(f, []byte(conf), 0o600)
			srv = n.Server.Start(t, "openvpn-go", lab.BuildOpenVPNGo(t), "--config", f)
		} else {
			srv = lab.StartOpenVPN(t, n.Server, "reference", conf)
		}
		srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		cli := lab.StartOpenVPN(t, n.Client, "client", lab.OpenVPNClientConfig(lab.ClientOptions{
			CA: pki.CA.CertFile, Cert: pki.Client(t, "alice"), Remote: n.Server.IPv4, Wrap: w,
			Extra: []string{"auth-user-pass " + creds, "reneg-sec 4"}}))
		cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		deadline := time.Now().Add(30 * time.Second)
		var lines []string
		for time.Now().Before(deadline) {
			b, _ := os.ReadFile(out)
			if lines = strings.SplitAfter(string(b), "\n"); len(lines) > 3 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		n.Client.Ping(t, lab.ServerTunIPv4, 1)
		if len(lines) <= 3 {
			t.Fatalf("the script ran %d times in 30 s:\n%s\nserver:\n%s", len(lines)-1, strings.Join(lines, ""), srv.Tail(30))
		}
		// Session ids are random: name them by order of appearance.
		ids := map[string]string{}
		for i, l := range lines[:3] {
			f := strings.Fields(l)
			if len(f) == 4 {
				if ids[f[3]] == "" {
					ids[f[3]] = fmt.Sprintf("S%d", len(ids)+1)
				}
				f[3] = ids[f[3]]
			}
			lines[i] = strings.Join(f, " ") + "\n"
		}
		return strings.Join(lines[:3], "")
	}
	var want, got string
	t.Run("reference", func(t *testing.T) { t.Parallel(); want = trace(t, false) })
	t.Run("openvpn-go", func(t *testing.T) { t.Parallel(); got = trace(t, true) })
	t.Cleanup(func() {
		if want != "alice password Initial S1\nalice token Authenticated S1\nalice token Expired S1\n" {
			t.Logf("the reference's script saw an unexpected sequence:\n%s", want)
		}
		if got != want {
			t.Errorf("openvpn-go's script saw\n%s\nthe reference's saw\n%s", got, want)
		}
	})
}

// TestSpoofedFlood: 10,000 hard resets from spoofed sources get stateless
// cookie replies and create no client state; random, truncated and
// replayed packets never crash the server or disturb a connected client.
func TestSpoofedFlood(t *testing.T) {
	// Not parallel: the flood would slow the other tests' pings.
	e := startServer(t, "none", "udp", nil)
	e.client(t, e.n.Client, "alice", e.n.Server.IPv4.String(), "udp")
	e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	pid := e.srv.Pid()
	rss0, thr0 := procStats(t, pid)

	dst := netip.AddrPortFrom(e.n.Server.IPv4, 1194)
	var resets [][]byte
	for i := 0; i < 10000; i++ {
		var sid wire.SessionID
		rand.Read(sid[:])
		p := wire.ControlPacket{Opcode: wire.OpControlHardResetClientV2, SessionID: sid}
		resets = append(resets, p.Append(nil))
	}
	rng := mrand.New(mrand.NewPCG(9, 9))
	for i := 0; i < 10000; i += 500 {
		// Each burst from a different spoofed address and port.
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, byte(rng.IntN(250)), byte(2 + rng.IntN(250))}), uint16(1024+rng.IntN(60000)))
		if err := e.n.Client.SpoofUDP(src, dst, resets[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	// Garbage and replays from the real client's address.
	var junk [][]byte
	for i := 0; i < 3000; i++ {
		b := make([]byte, rng.IntN(1400))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if len(b) > 0 && i%2 == 0 {
			b[0] = byte(rng.IntN(12)) << 3
		}
		junk = append(junk, b)
	}
	for _, r := range resets[:100] {
		junk = append(junk, r[:rng.IntN(len(r))])
	}
	if err := e.n.Client.SpoofUDP(netip.AddrPortFrom(e.n.Client.IPv4, 1), dst, junk); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let the server drain its socket
	e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
	if exited, _ := e.srv.Exited(); exited {
		t.Fatalf("server died:\n%s", e.srv.Tail(30))
	}
	if n := strings.Count(e.srv.Log(), "Peer Connection Initiated"); n != 1 {
		t.Fatalf("%d client sessions; spoofed resets must not create state:\n%s", n, e.srv.Tail(20))
	}
	rss1, thr1 := procStats(t, pid)
	t.Logf("server RSS %d -> %d KiB, threads %d -> %d", rss0, rss1, thr0, thr1)
	if rss1-rss0 > 16<<10 {
		t.Errorf("server memory grew by %d KiB during the flood", rss1-rss0)
	}
	if thr1 > thr0+4 {
		t.Errorf("server threads grew from %d to %d", thr0, thr1)
	}
}

// procStats reads VmRSS (KiB) and Threads from /proc/PID/status.
func procStats(t *testing.T, pid int) (rss, threads int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rss, threads
}

var _ = context.Background

// TestPoolPersist: ifconfig-pool-persist. A hint in the file gives alice
// her remembered address (and the IPv6 address of the same entry), bob the
// lowest free one; the file openvpn-go writes at shutdown is read by the
// reference server, which gives alice the same address again.
func TestPoolPersist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ipp := filepath.Join(dir, "ipp.txt")
	if err := os.WriteFile(ipp, []byte("# hints\nalice,10.8.0.50,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := lab.NewNet(t, lab.Clients(2))
	pki := lab.NewPKI(t)
	bin := lab.BuildOpenVPNGo(t)
	w := lab.Wrap{TLSCrypt: lab.NewStaticKey(t)}
	conf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Wrap: w,
		Extra: []string{"keepalive 2 10", "ifconfig-pool-persist " + ipp + " 1"}})
	confFile := filepath.Join(dir, "server.conf")
	os.WriteFile(confFile, []byte(conf), 0o600)
	srv := n.Server.Start(t, "openvpn-go-server", bin, "--config", confFile)
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	var clients []*lab.Proc
	for i, name := range []string{"alice", "bob"} {
		c := lab.StartOpenVPN(t, n.Clients[i], name, lab.OpenVPNClientConfig(lab.ClientOptions{
			CA: pki.CA.CertFile, Cert: pki.Client(t, name), Remote: n.Server.IPv4, Wrap: w}))
		c.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
		clients = append(clients, c)
	}
	for _, a := range []string{"10.8.0.50", "fd00:8::1030", "10.8.0.2", "fd00:8::1000"} {
		n.Server.Ping(t, netip.MustParseAddr(a), 2)
	}
	srv.Stop()
	b, err := os.ReadFile(ipp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice,10.8.0.50,fd00:8::1030\n", "bob,10.8.0.2,fd00:8::1000\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("persist file lacks %q:\n%s\nserver:\n%s", want, b, srv.Tail(20))
		}
	}
	ref := lab.StartOpenVPN(t, n.Server, "reference-server", conf)
	ref.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	clients[0].WaitLogN(t, lab.ReadyPattern, 2, 60*time.Second)
	n.Server.Ping(t, netip.MustParseAddr("10.8.0.50"), 2)
}

// TestInactive: with "inactive 3" a client whose tunnel carries traffic
// stays; once the traffic stops (keepalive pings do not count) the server
// drops it and logs why.
func TestInactive(t *testing.T) {
	t.Parallel()
	e := startServer(t, "tls-crypt", "udp", []string{"inactive 3"})
	e.client(t, e.n.Client, "alice", e.n.Server.IPv4.String(), "udp")
	e.n.Client.Ping(t, lab.ServerTunIPv4, 50) // 10/s for 5 s
	if strings.Contains(e.srv.Log(), "--inactive") {
		t.Fatalf("client dropped despite traffic:\n%s", e.srv.Tail(20))
	}
	e.srv.WaitLog(t, `alice/.*Inactivity timeout \(--inactive\), exiting`, 15*time.Second)
}
