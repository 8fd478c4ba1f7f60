package hook_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/internal/lab"
	"github.com/openvpn-go/openvpn-go/x509name"
)

// dumpScriptText records every call: the arguments and the exact
// environment (/proc/$$/environ, as execve passed it), NUL-separated, in
// DIR/<script_type>.XXXXXX.{args,env}, plus the via-file credentials and
// the exported peer certificate.
const dumpScriptText = `#!/bin/sh
f=$(mktemp "DIR/${script_type:-none}.XXXXXX")
for a in "$@"; do printf '%s\0' "$a"; done > "$f.args"
cat /proc/$$/environ > "$f.env"
case "$script_type" in
user-pass-verify) cp "$1" "$f.creds"; stat -c %a "$1" > "$f.mode";;
client-connect) printf 'push "setenv-safe PUSHED yes"\n' > "$1";;
tls-verify) cp "$peer_cert" "$f.pem";;
esac
exit 0
`

type call struct {
	args []string
	env  map[string]string
	file string // the dump's base name
}

func writeDumpScript(t *testing.T) (dir, script string) {
	t.Helper()
	dir = t.TempDir()
	os.Chmod(dir, 0o755)
	script = filepath.Join(dir, "dump.sh")
	if err := os.WriteFile(script, []byte(strings.ReplaceAll(dumpScriptText, "DIR", dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, script
}

func splitNUL(b []byte) []string {
	if len(b) == 0 {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// readCalls returns the recorded calls per script type, in file-name order.
func readCalls(t *testing.T, dir string) map[string][]call {
	t.Helper()
	out := map[string][]call{}
	envs, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	slices.Sort(envs)
	for _, f := range envs {
		base := strings.TrimSuffix(f, ".env")
		eb, _ := os.ReadFile(f)
		ab, _ := os.ReadFile(base + ".args")
		env := map[string]string{}
		for _, kv := range splitNUL(eb) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		typ := strings.SplitN(filepath.Base(base), ".", 2)[0]
		out[typ] = append(out[typ], call{args: splitNUL(ab), env: env, file: base})
	}
	return out
}

func waitForCall(t *testing.T, dir, typ string, n int) {
	t.Helper()
	deadline := time.Now().Add(lab.ReadyTimeout)
	for time.Now().Before(deadline) {
		if len(readCalls(t, dir)[typ]) >= n {
			return
		}
		time.Sleep(100 * time.Millisecond) // waiting for another process
	}
	t.Fatalf("no %s call recorded in %s", typ, dir)
}

func names(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReference runs the reference openvpn 2.6 server and client with
// every script hook pointing at a dump script, and our client next to the
// reference client, then compares what the scripts got with what this
// package produces.
func TestReference(t *testing.T) {
	n := lab.NewNet(t, lab.Clients(2))
	pki := lab.NewPKI(t)
	srvDir, srvScript := writeDumpScript(t)
	tmp := filepath.Join(srvDir, "tmp")
	os.Mkdir(tmp, 0o700)
	srvText := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Extra: []string{
		"script-security 2",
		"auth-user-pass-verify " + srvScript + " via-file",
		"client-connect " + srvScript,
		"client-disconnect " + srvScript,
		"learn-address " + srvScript,
		`tls-verify "` + srvScript + ` tlsarg"`,
		"tmp-dir " + tmp,
		"tls-export-cert " + tmp,
		`setenv FOO "bar baz"`,
		"setenv-safe SAFE x",
		"keepalive 2 10",
		"duplicate-cn",
	}})
	srvConf := filepath.Join(t.TempDir(), "server.conf")
	os.WriteFile(srvConf, []byte(srvText), 0o600)
	srv := n.Server.Start(t, "server", "openvpn", "--config", srvConf)
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)

	creds := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(creds, []byte("us er/..\npa ss\n"), 0o600)
	clientCert := pki.Client(t, "alice smith/..")
	clientConf := func(script string) []string {
		return []string{
			"client", "dev tun", "proto udp", fmt.Sprintf("remote %s 1194", n.Server.IPv4), "nobind",
			"ca " + pki.CA.CertFile, "cert " + clientCert.CertFile, "key " + clientCert.KeyFile,
			"remote-cert-tls server", "auth-user-pass " + creds, "verb 3",
			"script-security 2", "up " + script, "down " + script, "route-up " + script,
			"route-pre-down " + script, "ipchange " + script,
			"setenv UV_TEAM blue", "setenv-safe CSAFE y", "explicit-exit-notify 1",
		}
	}
	refDir, refScript := writeDumpScript(t)
	refConf := filepath.Join(t.TempDir(), "ref.conf")
	os.WriteFile(refConf, []byte(strings.Join(append(clientConf(refScript), "disable-dco"), "\n")+"\n"), 0o600)
	ref := n.Clients[0].Start(t, "ref-client", "openvpn", "--config", refConf)
	ref.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)

	oursDir, oursScript := writeDumpScript(t)
	oursConf := filepath.Join(t.TempDir(), "ours.conf")
	os.WriteFile(oursConf, []byte(strings.Join(clientConf(oursScript), "\n")+"\n"), 0o600)
	ours := n.Clients[1].Start(t, "our-client", lab.BuildOpenVPNGo(t), "--config", oursConf)
	ours.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)

	waitForCall(t, srvDir, "client-connect", 2)
	waitForCall(t, srvDir, "learn-address", 4)
	waitForCall(t, refDir, "route-up", 1)
	waitForCall(t, oursDir, "route-up", 1)
	ref.Stop()
	ours.Stop()
	waitForCall(t, refDir, "down", 1)
	waitForCall(t, oursDir, "down", 1)
	waitForCall(t, srvDir, "client-disconnect", 2)
	// openvpn runs learn-address delete for a gone client's addresses
	// whenever its route reaper gets to them (at once or 20 s later); on
	// exit it runs them all, and Stop waits for the exit.
	srv.Stop()
	waitForCall(t, srvDir, "learn-address", 8)

	srvCalls := readCalls(t, srvDir)
	t.Run("tls-verify", func(t *testing.T) {
		// One call per depth and client; compare with SetCert for the same
		// certificates (the exported PEM is the certificate verified).
		for _, c := range srvCalls["tls-verify"] {
			if len(c.args) != 3 || c.args[0] != "tlsarg" {
				t.Fatalf("tls-verify args %q", c.args)
			}
			cert := readCert(t, c.file+".pem")
			depth := c.args[1]
			if got := x509name.Subject(cert); got != c.args[2] {
				t.Errorf("Subject = %q, openvpn passed %q", got, c.args[2])
			}
			e := hook.NewEnv()
			e.SetCert(int(depth[0]-'0'), cert)
			for _, kv := range e.Vars() {
				k, v, _ := strings.Cut(kv, "=")
				if c.env[k] != v {
					t.Errorf("depth %s: %s = %q, openvpn exported %q", depth, k, v, c.env[k])
				}
			}
			for k := range c.env {
				if strings.HasSuffix(k, "_"+depth) && (strings.HasPrefix(k, "tls_") || strings.HasPrefix(k, "X509_")) {
					if _, ok := e.Get(k); !ok {
						t.Errorf("openvpn exported %s=%q; SetCert did not", k, c.env[k])
					}
				}
			}
			if depth == "0" {
				cn, _ := hook.PeerCommonName(cert)
				if c.env["common_name"] != cn {
					t.Errorf("common_name %q, PeerCommonName %q", c.env["common_name"], cn)
				}
			}
			if !strings.HasPrefix(filepath.Base(c.env["peer_cert"]), "openvpn_pef_") {
				t.Errorf("peer_cert = %q", c.env["peer_cert"])
			}
		}
	})
	t.Run("user-pass-verify", func(t *testing.T) {
		for _, c := range srvCalls["user-pass-verify"] {
			b, _ := os.ReadFile(c.file + ".creds")
			mode, _ := os.ReadFile(c.file + ".mode")
			if string(b) != "us er/..\npa ss\n" || strings.TrimSpace(string(mode)) != "600" {
				t.Errorf("via-file contents %q, mode %s", b, mode)
			}
			if len(c.args) != 1 || filepath.Dir(c.args[0]) != tmp || !strings.HasPrefix(filepath.Base(c.args[0]), "openvpn_up_") {
				t.Errorf("args %q", c.args)
			}
			if c.env["username"] != hook.RemapUsername("us er/..") {
				t.Errorf("username %q", c.env["username"])
			}
			for _, v := range []string{"auth_control_file", "auth_pending_file", "auth_failed_reason_file"} {
				if filepath.Dir(c.env[v]) != tmp {
					t.Errorf("%s = %q", v, c.env[v])
				}
			}
			if _, ok := c.env["password"]; ok {
				t.Error("password exported with via-file")
			}
			// Peer info as openvpn exports it: every IV_/UV_ variable is a
			// validated line.
			for k, v := range c.env {
				if strings.HasPrefix(k, "IV_") || strings.HasPrefix(k, "UV_") {
					if got, ok := hook.ValidatePeerInfoLine(k + "=" + v); !ok || got != k+"="+v {
						t.Errorf("peer info %s=%q", k, v)
					}
				}
			}
			ap := netip.MustParseAddrPort(c.env["untrusted_ip"] + ":" + c.env["untrusted_port"])
			e := hook.NewEnv()
			e.SetUntrusted(ap)
			if got := e.Vars(); !slices.Equal(got, []string{"untrusted_port=" + c.env["untrusted_port"], "untrusted_ip=" + c.env["untrusted_ip"]}) {
				t.Errorf("SetUntrusted = %q", got)
			}
		}
	})
	t.Run("options", func(t *testing.T) {
		o, _, err := config.Load(srvConf)
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		e := hook.NewEnv()
		e.SetOptions(o, time.Unix(0, 0), 0)
		c := srvCalls["client-connect"][0]
		for _, kv := range e.Vars() {
			k, v, _ := strings.Cut(kv, "=")
			if k == "daemon_pid" || k == "daemon_start_time" {
				if _, ok := c.env[k]; !ok {
					t.Errorf("openvpn did not export %s", k)
				}
				continue
			}
			if c.env[k] != v {
				t.Errorf("%s = %q, openvpn exported %q", k, v, c.env[k])
			}
		}
	})
	t.Run("client-connect", func(t *testing.T) {
		for _, c := range srvCalls["client-connect"] {
			if len(c.args) != 1 || c.args[0] != c.env["client_connect_config_file"] ||
				!strings.HasPrefix(filepath.Base(c.env["client_connect_deferred_file"]), "openvpn_ccr_") {
				t.Errorf("args %q, env files %q %q", c.args, c.env["client_connect_config_file"], c.env["client_connect_deferred_file"])
			}
			e := hook.NewEnv()
			e.SetTrusted(netip.MustParseAddrPort(c.env["trusted_ip"] + ":" + c.env["trusted_port"]))
			e.SetPoolAddrs(hook.PoolAddrs{
				RemoteIP: netip.MustParseAddr(c.env["ifconfig_pool_remote_ip"]), Netmask: netip.MustParseAddr("255.255.255.0"),
				RemoteIP6: netip.MustParseAddr(c.env["ifconfig_pool_remote_ip6"]), LocalIP6: lab.ServerTunIPv6, IP6Bits: 64,
			})
			ts, _ := time.Parse(time.DateTime, c.env["time_ascii"])
			e.SetConnectTime(time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), 0, time.Local))
			for _, kv := range e.Vars() {
				k, v, _ := strings.Cut(kv, "=")
				if c.env[k] != v {
					t.Errorf("%s = %q, openvpn exported %q", k, v, c.env[k])
				}
			}
		}
		for _, c := range srvCalls["client-disconnect"] {
			for _, k := range []string{"bytes_received", "bytes_sent", "time_duration"} {
				if _, ok := c.env[k]; !ok {
					t.Errorf("client-disconnect lacks %s", k)
				}
			}
			if _, ok := c.env["client_connect_config_file"]; ok {
				t.Error("client-disconnect still has client_connect_config_file")
			}
		}
	})
	t.Run("learn-address", func(t *testing.T) {
		deletes := 0
		for _, c := range srvCalls["learn-address"] {
			switch c.args[0] {
			case "add", "update":
				if len(c.args) != 3 || c.args[2] != "alice smith/.." {
					t.Errorf("args %q", c.args)
				}
			case "delete":
				// Only script_type (LearnAddress's doc).
				deletes++
				if len(c.args) != 2 || len(c.env) != 1 || c.env["script_type"] != "learn-address" {
					t.Errorf("delete: args %q env %q", c.args, names(c.env))
				}
			}
		}
		if deletes != 4 {
			t.Errorf("%d learn-address delete calls, want 4 (two clients, an IPv4 and an IPv6 address each)", deletes)
		}
	})

	refCalls, ourCalls := readCalls(t, refDir), readCalls(t, oursDir)
	t.Run("ipchange", func(t *testing.T) {
		c := refCalls["ipchange"][0]
		want := hook.IPChangeArg(netip.AddrPortFrom(n.Server.IPv4, 1194))
		if !slices.Equal(c.args, []string{want}) {
			t.Errorf("openvpn ipchange args %q, IPChangeArg %q", c.args, want)
		}
	})
	// Our client against the reference client: same arguments and the same
	// variable names, except what the client does not produce yet.
	notYet := map[string]string{
		"signal":            "the client does not tell runDown why the tunnel goes down",
		"redirect_gateway":  "client/tunnel.go exports it only with redirect-gateway",
		"route_net_gateway": "depends on the namespace's default route",
	}
	// Exported by our client where the reference does not.
	extra := map[string]string{
		"route_vpn_gateway": "client/tunnel.go exports it without routes; openvpn only with a route list",
	}
	for _, typ := range []string{"up", "route-up", "route-pre-down", "down"} {
		t.Run("client/"+typ, func(t *testing.T) {
			rc, oc := refCalls[typ], ourCalls[typ]
			if len(rc) == 0 || len(oc) == 0 {
				t.Fatalf("calls: reference %d, ours %d", len(rc), len(oc))
			}
			r, o := rc[0], oc[0]
			if len(r.args) != len(o.args) {
				t.Fatalf("args: reference %q, ours %q", r.args, o.args)
			}
			for i := range r.args {
				if i != 3 && r.args[i] != o.args[i] { // 3 is the pool address
					t.Errorf("arg %d: reference %q, ours %q", i+1, r.args[i], o.args[i])
				}
			}
			for _, k := range names(r.env) {
				if _, ok := o.env[k]; !ok && notYet[k] == "" && k != "PWD" {
					t.Errorf("reference exports %s=%q; our client does not", k, r.env[k])
				}
			}
			for _, k := range names(o.env) {
				if _, ok := r.env[k]; !ok && extra[k] == "" && k != "PWD" {
					t.Errorf("our client exports %s=%q; the reference does not", k, o.env[k])
				}
			}
			for _, k := range []string{"script_type", "dev", "dev_type", "tun_mtu", "script_context", "proto_1", "remote_1", "remote_port_1",
				"common_name", "tls_id_0", "tls_id_1", "tls_digest_0", "tls_serial_0", "X509_0_CN", "X509_1_CN", "trusted_ip", "trusted_port",
				"untrusted_ip", "ifconfig_netmask", "UV_TEAM", "OPENVPN_CSAFE", "OPENVPN_PUSHED", "config", "verb", "daemon"} {
				if k == "config" {
					if (r.env[k] == "") != (o.env[k] == "") {
						t.Errorf("%s: reference %q, ours %q", k, r.env[k], o.env[k])
					}
					continue
				}
				if r.env[k] != o.env[k] {
					t.Errorf("%s: reference %q, ours %q", k, r.env[k], o.env[k])
				}
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("reference: %q\nours:      %q", names(r.env), names(o.env))
			}
		})
	}
}
