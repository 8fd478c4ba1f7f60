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

// TestServerScripts: the server's script hooks with reference openvpn 2.6
// clients. alice is accepted by a deferred auth-user-pass-verify (exit 2,
// then "1" in auth_control_file), gets a static address from
// client-connect, is learned and unlearned by learn-address and reported
// by client-disconnect; mallory is refused with the reason the script
// wrote; eve's tls-crypt-v2 key carries metadata tls-crypt-v2-verify
// refuses; tls-verify sees every certificate of each chain and refuses
// trudy's.
func TestServerScripts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	verify := script("verify.sh", fmt.Sprintf(`env > %[1]s/auth-env.$username
if [ "$username" = alice ] && [ "$password" = secret ]; then
  (sleep 2; echo 1 > "$auth_control_file") >/dev/null 2>&1 &
  exit 2
fi
echo "go away" > "$auth_failed_reason_file"
exit 1
`, dir))
	connect := script("connect.sh", fmt.Sprintf("env > %s/connect-env.$common_name\necho 'ifconfig-push 10.8.0.77 255.255.255.0' > \"$1\"\n", dir))
	disconnect := script("disconnect.sh", fmt.Sprintf("env > %[1]s/tmp.$$ && mv %[1]s/tmp.$$ %[1]s/disconnect-env.$common_name\n", dir))
	learn := script("learn.sh", fmt.Sprintf("echo \"$*\" >> %s/learn.log\n", dir))
	tlsverify := script("tlsverify.sh", fmt.Sprintf("echo \"$1 $2 $untrusted_ip $X509_0_CN\" >> %s/tlsverify.log\ncase \"$2\" in *CN=trudy) exit 1;; esac\n", dir))
	v2verify := script("v2verify.sh", fmt.Sprintf("m=$(cat \"$metadata_file\")\necho \"$metadata_type $m\" >> %s/v2.log\n[ \"$m\" != deny ]\n", dir))

	n := lab.NewNet(t, lab.Clients(4))
	pki := lab.NewPKI(t)
	bin := lab.BuildOpenVPNGo(t)
	sk := lab.NewTLSCryptV2ServerKey(t)
	conf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Wrap: lab.Wrap{TLSCryptV2: sk},
		Extra: []string{"keepalive 2 10", "script-security 3",
			"auth-user-pass-verify " + verify + " via-env",
			"client-connect " + connect, "client-disconnect " + disconnect,
			"learn-address " + learn, "tls-crypt-v2-verify " + v2verify, "tls-verify " + tlsverify}})
	confFile := filepath.Join(dir, "server.conf")
	os.WriteFile(confFile, []byte(conf), 0o600)
	srv := n.Server.Start(t, "openvpn-go-server", bin, "--config", confFile)
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)

	client := func(i int, name, pass, meta string) *lab.Proc {
		creds := filepath.Join(dir, name+".creds")
		os.WriteFile(creds, []byte(name+"\n"+pass+"\n"), 0o600)
		return lab.StartOpenVPN(t, n.Clients[i], name, lab.OpenVPNClientConfig(lab.ClientOptions{
			CA: pki.CA.CertFile, Cert: pki.Client(t, name), Remote: n.Server.IPv4,
			Wrap:  lab.Wrap{TLSCryptV2: lab.NewTLSCryptV2ClientKey(t, sk, []byte(meta))},
			Extra: []string{"auth-user-pass " + creds, "explicit-exit-notify 1"}}))
	}
	alice := client(0, "alice", "secret", "alice-ok")
	mallory := client(1, "mallory", "guess", "m")
	eve := client(2, "eve", "secret", "deny")
	trudy := client(3, "trudy", "secret", "trudy")

	alice.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	n.Server.Ping(t, netip.MustParseAddr("10.8.0.77"), 2)
	mallory.WaitLog(t, `AUTH_FAILED,go away`, lab.ReadyTimeout)
	srv.WaitLog(t, `tls-crypt-v2-verify refused the client key`, lab.ReadyTimeout)
	if strings.Contains(eve.Log(), "Initialization Sequence Completed") {
		t.Fatalf("eve connected despite tls-crypt-v2-verify:\n%s", eve.Tail(20))
	}
	srv.WaitLog(t, `VERIFY SCRIPT ERROR: depth=0, CN=trudy`, lab.ReadyTimeout)
	if strings.Contains(trudy.Log(), "Initialization Sequence Completed") {
		t.Fatalf("trudy connected despite tls-verify:\n%s", trudy.Tail(20))
	}

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v\nserver:\n%s", name, err, srv.Tail(30))
		}
		return string(b)
	}
	has := func(name string, want ...string) {
		t.Helper()
		s := read(name)
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, s)
			}
		}
	}
	lacks := func(name string, bad ...string) {
		t.Helper()
		s := read(name)
		for _, b := range bad {
			if strings.Contains(s, b) {
				t.Errorf("%s has %q:\n%s", name, b, s)
			}
		}
	}
	has("auth-env.alice", "script_type=user-pass-verify", "common_name=alice", "username=alice", "password=secret",
		"untrusted_ip="+n.Clients[0].IPv4.String(), "IV_VER=2.6", "auth_control_file=", "X509_0_CN=alice", "tls_serial_0=")
	has("connect-env.alice", "script_type=client-connect", "common_name=alice", "trusted_ip="+n.Clients[0].IPv4.String(),
		"ifconfig_pool_remote_ip=10.8.0.2", "ifconfig_pool_netmask=255.255.255.0", "ifconfig_pool_remote_ip6=fd00:8::1000", "time_unix=")
	lacks("connect-env.alice", "password=", "PATH=")
	has("v2.log", "0 alice-ok\n", "0 deny\n")
	has("tlsverify.log", "1 CN=openvpn-go lab CA "+n.Clients[0].IPv4.String()+" \n", "0 CN=alice "+n.Clients[0].IPv4.String()+" alice\n")
	has("learn.log", "add 10.8.0.77 alice\n", "add fd00:8::1000 alice\n")

	alice.Stop()
	srv.WaitLog(t, `alice/.*client-instance exiting`, 20*time.Second)
	// The scripts run after that line.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "disconnect-env.alice")); err == nil && strings.Contains(read("learn.log"), "delete fd00:8::1000") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	has("learn.log", "delete 10.8.0.77\n", "delete fd00:8::1000\n")
	has("disconnect-env.alice", "script_type=client-disconnect", "bytes_received=", "bytes_sent=", "time_duration=")
}
