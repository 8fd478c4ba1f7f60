package client_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
	"github.com/openvpn-go/openvpn-go/internal/pcap"
)

// TestRenegotiationNoLoss: with reneg-sec 10 on the server, 40 seconds of
// pings at 5 per second lose nothing across the key changes.
func TestRenegotiationNoLoss(t *testing.T) {
	t.Parallel()
	e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
		srvOpts: []string{"reneg-sec 10"}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := e.n.Client.Run(ctx, "ping", "-n", "-q", "-c", "200", "-i", "0.2", "-W", "2", lab.ServerTunIPv4.String())
	if err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if !strings.Contains(out, " 0% packet loss") {
		t.Fatalf("packets lost across renegotiation:\n%s", out)
	}
	// The server renegotiated several times (2.6 logs each new key).
	n := strings.Count(e.srv.Log(), "TLS: soft reset")
	if n < 3 {
		t.Fatalf("only %d renegotiations in 40 s:\n%s", n, e.srv.Tail(30))
	}
	if strings.Count(e.cli.Log(), "Initialization Sequence Completed") != 1 {
		t.Fatalf("client reconnected:\n%s", e.cli.Tail(30))
	}
	t.Logf("%d renegotiations, %s", n, strings.TrimSpace(out[strings.Index(out, "---"):]))
}

// TestAuthToken: username/password with auth-gen-token on the server.
// Renegotiations use the token (the verify script runs once); after the
// server restarts with a new secret the client falls back to its password.
func TestAuthToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	count := filepath.Join(dir, "verify.count")
	script := filepath.Join(dir, "verify.sh")
	os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
# via-file: $1 holds the username and the password on two lines.
user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")
echo "$user" >> %s
[ "$user" = alice ] && [ "$pass" = 's3cret pass' ]
`, count)), 0o755)
	secret := lab.NewAuthTokenKey(t)
	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte("alice\ns3cret pass\n"), 0o600)
	srvOpts := []string{
		"script-security 2",
		"auth-user-pass-verify " + script + " via-file",
		"auth-gen-token 0 120",
		"auth-gen-token-secret " + secret,
		"reneg-sec 4",
		"explicit-exit-notify 1",
	}
	e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
		srvOpts: srvOpts, cliOpts: []string{"auth-user-pass " + creds}})
	// Wait for three renegotiations.
	e.srv.WaitLogN(t, "TLS: soft reset", 3, 30*time.Second)
	e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	lines := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "\n")
	}
	if n := lines(); n != 1 {
		t.Fatalf("verify script ran %d times; renegotiations must use the token", n)
	}
	if !strings.Contains(e.srv.Log(), "auth-token") {
		t.Fatalf("server did not push an auth-token:\n%s", e.srv.Tail(20))
	}

	// Restart the server with a new secret: the token becomes invalid.
	conf := e.srvConf
	e.srv.Stop()
	if err := os.Remove(secret); err != nil {
		t.Fatal(err)
	}
	lab.WriteAuthTokenKey(context.Background(), secret)
	srv2 := lab.StartOpenVPN(t, e.n.Server, "server2", conf)
	srv2.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)
	e.cli.WaitLogN(t, "Initialization Sequence Completed", 2, 60*time.Second)
	e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	if !regexp.MustCompile(`AUTH_FAILED`).MatchString(e.cli.Log()) {
		t.Fatalf("the new server did not refuse the old token:\n%s", e.cli.Tail(40))
	}
	if n := lines(); n != 2 {
		t.Fatalf("verify script ran %d times; want 2 (initial, then the password after the token was refused)", n)
	}
}

// TestRedirectGateway: redirect-gateway def1 ipv6 plus a pushed IPv6 route
// covering the server's own address. Traffic flows through the tunnel, the
// server stays reachable outside it (host routes), and after exit the
// routing tables are exactly as before.
func TestRedirectGateway(t *testing.T) {
	for _, fam := range []int{4, 6} {
		t.Run(fmt.Sprintf("transport-ipv%d", fam), func(t *testing.T) {
			t.Parallel()
			// The server is behind a router; the pushed routes cover its
			// own address in both families, as does redirect-gateway.
			e := startInterop(t, interop{proto: "udp", family: fam, wrap: "tls-crypt", topo: "subnet", routed: true,
				srvOpts: []string{
					`push "redirect-gateway def1 ipv6"`,
					`push "route-ipv6 ` + lab.ServerSideV6.String() + `"`,
					`push "route ` + lab.ServerSideV4.Masked().Addr().String() + ` 255.255.255.0"`,
				},
				beforeClient: func(e *interopEnv) {
					e.routesBefore = routeTables(t, e.n.Client)
				}})
			e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
			e.n.Client.Ping(t, lab.ServerTunIPv6, 2)
			// Everything else goes through the tunnel...
			for _, dst := range []string{"8.8.8.8", "2001:db8::1", lab.ServerSideV4.Masked().Addr().Next().Next().Next().String()} {
				if out := e.n.Client.MustRun(t, "ip", "route", "get", dst); !strings.Contains(out, "dev tun") {
					t.Errorf("%s is not routed into the tunnel: %s", dst, out)
				}
			}
			// ...but the server's own address keeps its path.
			server := e.n.Server.IPv4
			if fam == 6 {
				server = e.n.Server.IPv6
			}
			if out := e.n.Client.MustRun(t, "ip", "route", "get", server.String()); strings.Contains(out, "dev tun") {
				t.Errorf("the server %s is routed into the tunnel: %s", server, out)
			}
			if !strings.Contains(e.cli.Log(), "STATE: CONNECTED (SUCCESS)") {
				t.Errorf("routes failed:\n%s", e.cli.Tail(30))
			}
			// Exit: the routing tables are restored exactly.
			e.cli.Stop()
			if after := routeTables(t, e.n.Client); after != e.routesBefore {
				t.Fatalf("routing tables differ after exit.\nbefore:\n%s\nafter:\n%s", e.routesBefore, after)
			}
		})
	}
}

func routeTables(t *testing.T, ns *lab.NS) string {
	t.Helper()
	return ns.MustRun(t, "ip", "-4", "route", "show", "table", "all") + ns.MustRun(t, "ip", "-6", "route", "show", "table", "all") +
		ns.MustRun(t, "ip", "addr", "show")
}

// TestHostileServer sends the client garbage, truncated, bit-flipped and
// replayed packets from the server's address and port (spoofed with a raw
// socket): the client must drop them all, keep its tunnel up and never
// crash or reconnect.
func TestHostileServer(t *testing.T) {
	t.Parallel()
	e := startInterop(t, interop{proto: "udp", family: 4, wrap: "none", topo: "subnet"})
	// Capture real server→client packets to replay and mutate them.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	capFile := filepath.Join(t.TempDir(), "cap.pcap")
	dump := e.n.Client.Start(t, "tcpdump", "tcpdump", "-Z", "root", "--immediate-mode", "-i", "eth0", "-U", "-w", capFile, "udp", "and", "src", "port", "1194")
	dump.WaitLog(t, "listening on", 10*time.Second)
	e.n.Client.Ping(t, lab.ServerTunIPv4, 5)
	time.Sleep(200 * time.Millisecond) // let tcpdump write the last packets
	dump.Stop()
	pkts, err := pcap.ReadFile(capFile)
	if err != nil || len(pkts) == 0 {
		t.Fatalf("capture: %v (%d packets)", err, len(pkts))
	}
	// The client's port: the destination of the captured packets.
	dst := pkts[0].Dst
	src := pkts[0].Src
	rng := mrand.New(mrand.NewPCG(1, 2))
	var bad [][]byte
	for _, p := range pkts {
		bad = append(bad, p.Data) // replayed as is
		for i := 0; i < len(p.Data); i += 7 {
			bad = append(bad, p.Data[:i]) // truncated
		}
		for i := 0; i < 20; i++ {
			f := append([]byte(nil), p.Data...)
			f[rng.IntN(len(f))] ^= byte(1 << rng.IntN(8))
			bad = append(bad, f) // bit-flipped
		}
	}
	for i := 0; i < 3000; i++ {
		b := make([]byte, rng.IntN(1400))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if len(b) > 0 && i%3 == 0 {
			b[0] = byte(rng.IntN(12)) << 3 // a plausible opcode
		}
		bad = append(bad, b)
	}
	if err := e.n.Server.SpoofUDP(src, dst, bad); err != nil {
		t.Fatal(err)
	}
	_ = ctx
	// Still up, same session, traffic flows.
	e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
	if exited, _ := e.cli.Exited(); exited {
		t.Fatalf("client died:\n%s", e.cli.Tail(30))
	}
	if n := strings.Count(e.cli.Log(), "Initialization Sequence Completed"); n != 1 {
		t.Fatalf("client reconnected (%d sessions):\n%s", n, e.cli.Tail(30))
	}
	t.Logf("sent %d hostile packets", len(bad))
}
