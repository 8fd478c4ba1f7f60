package client_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
	"software.sslmate.com/src/go-pkcs12"
)

// TestClientFeatures covers client behaviour beyond the interop matrix,
// each against the reference openvpn 2.6 server.
func TestClientFeatures(t *testing.T) {
	t.Run("prf-keys", func(t *testing.T) {
		t.Parallel()
		// Without IV_PROTO bit 3 the 2.6 server derives keys with the OpenVPN
		// PRF (as with 2.4/2.5 peers); our PRF must match its.
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-auth", topo: "subnet", clientEnv: []string{"OPENVPN_GO_DISABLE_EKM=1"}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 3)
		if !strings.Contains(e.cli.Log(), "key derivation: OpenVPN PRF") {
			t.Fatalf("EKM was used:\n%s", e.cli.Tail(20))
		}
	})
	t.Run("dual-stack-fallback", func(t *testing.T) {
		t.Parallel()
		// vpn.test resolves to a dead IPv4 address (first in RFC 6724 order:
		// IPv4 is preferred over ULA IPv6) and to the server's IPv6 address:
		// after server-poll-timeout the client must try the next address.
		dead := e4(t)
		e := startInterop(t, interop{proto: "udp", family: 6, wrap: "tls-crypt", topo: "subnet",
			remote: "vpn.test", cliOpts: []string{"connect-retry 1", "server-poll-timeout 3"},
			beforeClient: func(e *interopEnv) {
				hosts(t, e.n.Client, dead+" vpn.test\n"+e.n.Server.IPv6.String()+" vpn.test\n")
			}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
		log := e.cli.Log()
		i4, i6 := strings.Index(log, "link remote: [AF_INET]"+dead), strings.Index(log, "link remote: [AF_INET6]"+e.n.Server.IPv6.String())
		if i4 < 0 || i6 < 0 || i4 > i6 {
			t.Fatalf("addresses not tried in order:\n%s", log)
		}
	})
	t.Run("auth-failed-exits", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		script := filepath.Join(dir, "deny.sh")
		os.WriteFile(script, []byte("#!/bin/sh\nexit 1\n"), 0o755)
		creds := filepath.Join(dir, "creds")
		os.WriteFile(creds, []byte("alice\nwrong\n"), 0o600)
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "none", topo: "subnet", noWait: true,
			srvOpts: []string{"script-security 2", "auth-user-pass-verify " + script + " via-file"},
			cliOpts: []string{"auth-user-pass " + creds}})
		if err := e.cli.Wait(30 * time.Second); err == nil {
			t.Fatal("client exited with status 0 after AUTH_FAILED")
		}
		if !strings.Contains(e.cli.Log(), "AUTH_FAILED") {
			t.Fatalf("no AUTH_FAILED in the log:\n%s", e.cli.Tail(20))
		}
	})
	t.Run("inactive", func(t *testing.T) {
		t.Parallel()
		// The server pushes "inactive 3": pings through the tunnel keep the
		// client up; once they stop, it exits within a few seconds (keepalive
		// pings do not count as activity).
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{`push "inactive 3"`}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 50) // 10/s: 5 s, longer than 3 s
		if ok, _ := e.cli.Exited(); ok {
			t.Fatalf("client exited despite traffic:\n%s", e.cli.Tail(20))
		}
		if err := e.cli.Wait(15 * time.Second); err == nil || !strings.Contains(e.cli.Log(), "Inactivity timeout (--inactive), exiting") {
			t.Fatalf("client did not exit for inactivity (err %v):\n%s", err, e.cli.Tail(20))
		}
	})
	t.Run("pkcs12", func(t *testing.T) {
		t.Parallel()
		// The client's certificate, key and CA from one PKCS#12 file.
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			beforeClient: func(e *interopEnv) {
				b, _ := os.ReadFile(e.cliConf)
				var keep []string
				var certFile, keyFile string
				for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					switch {
					case strings.HasPrefix(l, "cert "):
						certFile = strings.TrimPrefix(l, "cert ")
					case strings.HasPrefix(l, "key "):
						keyFile = strings.TrimPrefix(l, "key ")
					case strings.HasPrefix(l, "ca "):
					default:
						keep = append(keep, l)
					}
				}
				p12 := filepath.Join(e.dir, "alice.p12")
				writePKCS12(t, p12, certFile, keyFile, e.pki.CA.CertFile)
				keep = append(keep, "pkcs12 "+p12)
				os.WriteFile(e.cliConf, []byte(strings.Join(keep, "\n")+"\n"), 0o600)
			}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	})
	t.Run("static-challenge", func(t *testing.T) {
		t.Parallel()
		// The password comes from the file, the challenge response from the
		// terminal (a pty made by script(1)); the server's script checks
		// the SCRV1 format.
		dir := t.TempDir()
		verify := filepath.Join(dir, "verify.sh")
		os.WriteFile(verify, []byte(`#!/bin/sh
pass=$(sed -n 2p "$1")
[ "$pass" = "SCRV1:$(printf secret | base64):$(printf 1234 | base64)" ]
`), 0o755)
		creds := filepath.Join(dir, "creds")
		os.WriteFile(creds, []byte("alice\nsecret\n"), 0o600)
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{"script-security 2", "auth-user-pass-verify " + verify + " via-file"},
			cliOpts: []string{"auth-user-pass " + creds, `static-challenge "Enter PIN" 1`},
			clientCmd: func(bin, conf string) []string {
				return []string{"sh", "-c", "(sleep 1; printf '1234\\n'; sleep 3600) | script -qfec '" + bin + " --config " + conf + "' /dev/null"}
			}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
		if !strings.Contains(e.cli.Log(), "CHALLENGE: Enter PIN") {
			t.Errorf("no challenge prompt:\n%s", e.cli.Tail(20))
		}
	})
	t.Run("block-ipv6", func(t *testing.T) {
		t.Parallel()
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{`push "block-ipv6"`}})
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := e.n.Client.Run(ctx, "ping", "-c", "1", "-W", "2", lab.ServerTunIPv6.String())
		if err == nil || !strings.Contains(out, "Destination unreachable") {
			t.Fatalf("IPv6 not blocked with an ICMPv6 error (err %v):\n%s", err, out)
		}
	})
	t.Run("up-script-env", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		dump := filepath.Join(dir, "env")
		script := filepath.Join(dir, "up.sh")
		os.WriteFile(script, []byte("#!/bin/sh\nenv > "+dump+"\necho \"args: $*\" >> "+dump+"\n"), 0o755)
		tlsverify := filepath.Join(dir, "tlsverify.sh")
		os.WriteFile(tlsverify, []byte("#!/bin/sh\necho \"$1 $2 $untrusted_ip\" >> "+dir+"/tlsverify.out\n"), 0o755)
		ipchange := filepath.Join(dir, "ipchange.sh")
		os.WriteFile(ipchange, []byte("#!/bin/sh\necho \"$script_type $*\" > "+dir+"/ipchange.out\n"), 0o755)
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{`push "dhcp-option DNS 10.8.0.1"`, `push "dhcp-option DOMAIN corp.example"`,
				`push "route 192.168.77.0 255.255.255.0"`},
			cliOpts: []string{"script-security 2", "up " + script, "ipchange " + ipchange, "tls-verify " + tlsverify}})
		if b, _ := os.ReadFile(filepath.Join(dir, "tlsverify.out")); !strings.Contains(string(b), "1 CN=openvpn-go lab CA "+e.n.Server.IPv4.String()+"\n0 CN=server "+e.n.Server.IPv4.String()+"\n") {
			t.Errorf("tls-verify ran with %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "ipchange.out")); string(b) != "ipchange [AF_INET]"+e.n.Server.IPv4.String()+" 1194\n" {
			t.Errorf("ipchange ran with %q", b)
		}
		b, err := os.ReadFile(dump)
		if err != nil {
			t.Fatal(err)
		}
		env := string(b)
		for _, want := range []string{"foreign_option_1=dhcp-option DNS 10.8.0.1", "foreign_option_2=dhcp-option DOMAIN corp.example",
			"script_type=up", "dev=tun", "ifconfig_local=10.8.0.2", "ifconfig_netmask=255.255.255.0",
			"route_network_1=192.168.77.0", "route_netmask_1=255.255.255.0", "route_vpn_gateway=10.8.0.1",
			"trusted_ip=" + e.n.Server.IPv4.String(), "common_name=server", "args: tun"} {
			if !strings.Contains(env, want) {
				t.Errorf("up script environment lacks %q", want)
			}
		}
		if t.Failed() {
			t.Log(env)
		}
	})
	for _, v := range []struct {
		name, opt string
		runs      int // script runs expected
	}{{"script-order", "", 8}, {"persist-tun", "persist-tun", 4}, {"route-delay", "route-delay 2", 8}} {
		t.Run(v.name, func(t *testing.T) {
			// The reference client is the judge: the same scripts run by
			// openvpn 2.6 and by openvpn-go across a start, a SIGUSR1
			// restart and SIGTERM must see the same sequence, arguments,
			// signal variable, and the same state of device, address and
			// pushed route. With persist-tun the device, its address and
			// routes stay across the restart and no script runs.
			t.Parallel()
			dir := t.TempDir()
			trace := filepath.Join(dir, "trace")
			script := filepath.Join(dir, "hook.sh")
			os.WriteFile(script, []byte(`#!/bin/sh
exec >> `+trace+` 2>&1
dev=n; ip link show tun0 >/dev/null 2>&1 && dev=y
echo "$script_type signal=${signal-} args=[$*] dev=$dev addr=$(ip -4 -o addr show dev tun0 2>/dev/null | wc -l) route=$(ip route show 192.168.77.0/24 | wc -l)"
`), 0o755)
			opts := []string{"script-security 2", "up " + script, "route-up " + script, "route-pre-down " + script,
				"down " + script, "explicit-exit-notify 1", v.opt}
			run := func(e *interopEnv, p *lab.Proc) string {
				p.WaitLog(t, "Initialization Sequence Completed", lab.ReadyTimeout)
				e.n.Client.Ping(t, lab.ServerTunIPv4, 1)
				p.Signal(syscall.SIGUSR1)
				p.WaitLogN(t, "Initialization Sequence Completed", 2, 30*time.Second)
				e.n.Client.Ping(t, lab.ServerTunIPv4, 1)
				p.Stop()
				b, err := os.ReadFile(trace)
				if err != nil {
					t.Fatal(err)
				}
				os.Remove(trace)
				out := regexp.MustCompile(`10\.8\.0\.\d+`).ReplaceAllString(string(b), "10.8.0.X")
				if v.opt == "persist-tun" && !strings.Contains(p.Log(), "Preserving previous TUN/TAP instance: tun0") {
					t.Errorf("%s did not keep the device:\n%s", p.Name, p.Tail(30))
				}
				if v.opt == "route-delay 2" && p.Name == "openvpn-go-2" && !strings.Contains(p.Log(), "Adding the routes in 2 seconds") {
					t.Errorf("%s did not delay the routes:\n%s", p.Name, p.Tail(30))
				}
				return out
			}
			e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet", noWait: true,
				srvOpts: []string{`push "route 192.168.77.0 255.255.255.0"`}, cliOpts: opts,
				clientCmd: func(_, conf string) []string { return []string{"openvpn", "--config", conf} }})
			want := run(e, e.cli)
			got := run(e, e.n.Client.Start(t, "openvpn-go-2", e.bin, "--config", e.cliConf))
			if got != want || strings.Count(want, "\n") != v.runs {
				t.Errorf("scripts saw\n%s\nopenvpn 2.6's saw (%d runs expected)\n%s", got, v.runs, want)
			}
		})
	}
	t.Run("pull-filter", func(t *testing.T) {
		t.Parallel()
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{`push "route 192.168.77.0 255.255.255.0"`, `push "route 192.168.78.0 255.255.255.0"`},
			cliOpts: []string{`pull-filter ignore "route 192.168.78."`}})
		if out := e.n.Client.MustRun(t, "ip", "route", "get", "192.168.77.1"); !strings.Contains(out, "dev tun") {
			t.Errorf("accepted route missing: %s", out)
		}
		// Filtered: not routed into the tunnel (there is no other route).
		if out, _ := e.n.Client.Run(context.Background(), "ip", "route", "get", "192.168.78.1"); strings.Contains(out, "dev tun") {
			t.Errorf("filtered route installed: %s", out)
		}
	})
	t.Run("explicit-exit-notify", func(t *testing.T) {
		t.Parallel()
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			cliOpts: []string{"explicit-exit-notify 1"}})
		e.cli.Stop()
		e.srv.WaitLog(t, "exit message received|remote-exit", 10*time.Second)
	})
}

// hosts gives a namespace its own /etc/hosts (ip netns exec bind-mounts
// /etc/netns/NAME/hosts over /etc/hosts).
func hosts(t *testing.T, ns *lab.NS, content string) {
	dir := filepath.Join("/etc/netns", ns.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// e4 is an address on the lab's IPv4 link where nobody answers.
func e4(t *testing.T) string { return "10.200.0.99" }

// writePKCS12 bundles a certificate, its key and the CA into a PKCS#12 file
// without a password.
func writePKCS12(t *testing.T, path, certFile, keyFile, caFile string) {
	t.Helper()
	parse := func(f string) []byte {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s: no PEM", f)
		}
		return blk.Bytes
	}
	cert, err := x509.ParseCertificate(parse(certFile))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(parse(caFile))
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(parse(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	der, err := pkcs12.Modern.Encode(key, cert, []*x509.Certificate{ca}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
}
