package config

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
)

// labFS holds the openvpn 2.6.14 lab directory, plus the scripts and
// credential files the runs used but that are not part of the vectors.
func labFS(t *testing.T) (fstest.MapFS, string) {
	dir := vectors.Dir(t, "testvectors/openvpn-2.6.14")
	fsys := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".pcap") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"auth.sh", "auth2.sh", "auth3.sh"} {
		fsys[s] = &fstest.MapFile{Data: []byte("#!/bin/sh\nexit 0\n"), Mode: 0o755}
	}
	fsys["up.txt"] = &fstest.MapFile{Data: []byte("alice\nsecret\n")}
	return fsys, dir
}

// paramRe matches a line of openvpn's "Current Parameter Settings" dump.
var paramRe = regexp.MustCompile(`^\S+ \S+ us=\d+ +(\S+) = (.*)$`)

// labParams reads the parameter dump of a verb-9 log: every name with its
// values in order (push_entry repeats).
func labParams(t *testing.T, path string) map[string][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Current Parameter Settings") {
			in = true
			continue
		}
		if !in {
			continue
		}
		m := paramRe.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "OpenVPN 2.6") {
				break
			}
			continue
		}
		out[m[1]] = append(out[m[1]], strings.Trim(m[2], "'"))
	}
	return out
}

// TestLabServers checks the server macro expansion against what openvpn
// 2.6.14 printed for the same configurations (verb 9 parameter dumps).
func TestLabServers(t *testing.T) {
	fsys, dir := labFS(t)
	cases := []struct {
		name string
		args []string
		log  string
	}{
		{"srv", []string{"srv.conf"}, "srv.log"},
		{"srv2", []string{"srv2.conf"}, "srv2.log"},
		{"srv3", []string{"srv3.conf"}, "srv3.log"},
		// The control runs add dev and port on the command line.
		{"control-plain", []string{"--config", "control/srv-common.conf", "--dev", "ovcs", "--port", "47301"}, "control/plain.srv.log"},
		{"control-tcp", []string{"--config", "control/srv-common.conf", "--dev", "ovcs", "--proto", "tcp-server"}, "control/tcp.srv.log"},
		{"control-tcv2", []string{"--config", "control/srv-common.conf", "--dev", "ovcs", "--tls-crypt-v2", "v2srv.key"}, "control/tcv2.srv.log"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{FS: fsys}
			var (
				o  *Options
				ds *Diagnostics
			)
			if len(tc.args) == 1 {
				o, ds, _ = l.Load(tc.args[0])
			} else {
				o, ds, _ = l.LoadArgs(tc.args)
			}
			if ds.HasErrors() {
				var b bytes.Buffer
				ds.WriteTo(&b)
				t.Fatalf("unexpected errors:\n%s", b.String())
			}
			p := labParams(t, filepath.Join(dir, tc.log))
			var push []string
			for _, e := range o.Server.Push {
				push = append(push, e.Option)
			}
			if got, want := strings.Join(push, "|"), strings.Join(p["push_entry"], "|"); got != want {
				t.Errorf("push list\n got: %s\nwant: %s", got, want)
			}
			eq := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, openvpn 2.6.14 has %q", what, got, want)
				}
			}
			one := func(k string) string { return first(p[k]) }
			eq("pool start", o.Server.Pool.Start.String(), one("ifconfig_pool_start"))
			eq("pool end", o.Server.Pool.End.String(), one("ifconfig_pool_end"))
			mask := "0.0.0.0"
			if o.Server.Pool.Netmask.IsValid() {
				mask = o.Server.Pool.Netmask.String()
			}
			eq("pool netmask", mask, one("ifconfig_pool_netmask"))
			eq("ifconfig local", o.Ifconfig.Local.String(), one("ifconfig_local"))
			eq("ifconfig netmask", o.Ifconfig.Remote.String(), one("ifconfig_remote_netmask"))
			eq("ping", secs(o.Timers.Ping), one("ping_send_timeout"))
			eq("ping-restart", secs(o.Timers.PingRestart), one("ping_rec_timeout"))
			rg := "[UNDEF]"
			if o.Server.LocalRouteGateway.IsValid() {
				rg = o.Server.LocalRouteGateway.String()
			}
			eq("route gateway", rg, one("route_default_gateway"))
			eq("data-ciphers", strings.Join(o.Data.Ciphers, ":"), one("ncp_ciphers"))
			eq("auth", o.Data.Auth, one("authname"))
			eq("proto", o.Connections[0].Proto.String(), one("proto"))
			eq("mssfix", itoa(o.Connections[0].MSSFix.Max), one("mssfix"))
			eq("reneg-sec", secs(o.TLS.Reneg.Seconds), one("renegotiate_seconds"))
			eq("hand-window", secs(o.TLS.HandWindow), one("handshake_window"))
			eq("max-clients", itoa(o.Server.MaxClients), one("max_clients"))
			eq("topology", itoa(map[Topology]int{TopologyNet30: 1, TopologyP2P: 2, TopologySubnet: 3}[o.Device.Topology]), one("topology"))
		})
	}
}

// TestLabClients checks client defaults against the 2.6.14 dumps.
func TestLabClients(t *testing.T) {
	fsys, dir := labFS(t)
	for _, name := range []string{"cli", "cli2", "cli3"} {
		t.Run(name, func(t *testing.T) {
			o, ds, _ := (&Loader{FS: fsys}).Load(name + ".conf")
			if ds.HasErrors() {
				var b bytes.Buffer
				ds.WriteTo(&b)
				t.Fatalf("unexpected errors:\n%s", b.String())
			}
			p := labParams(t, filepath.Join(dir, name+".log"))
			eq := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, openvpn 2.6.14 has %q", what, got, want)
				}
			}
			c := o.Connections[0]
			eq("remote", c.Remote, first(p["remote"]))
			eq("remote port", itoa(int(c.RemotePort)), first(p["remote_port"]))
			eq("bind", map[bool]string{true: "ENABLED", false: "DISABLED"}[c.Bind], first(p["bind_local"]))
			eq("connect-timeout", secs(c.ConnectTimeout), first(p["connect_timeout"]))
			eq("connect-retry", secs(c.ConnectRetry), first(p["connect_retry_seconds"]))
			eq("tun-mtu", itoa(c.TunMTU), first(p["tun_mtu"]))
			eq("mssfix", itoa(c.MSSFix.Max), first(p["mssfix"]))
			eq("data-ciphers", strings.Join(o.Data.Ciphers, ":"), first(p["ncp_ciphers"]))
			eq("auth", o.Data.Auth, first(p["authname"]))
			eq("explicit-exit-notify", itoa(c.ExplicitExitNotify), first(p["explicit_exit_notification"]))
			eq("replay-window", itoa(o.Data.ReplayWindow), first(p["replay_window"]))
			eq("replay-time", secs(o.Data.ReplayTime), first(p["replay_time"]))
			eq("tls-timeout", secs(o.TLS.Timeout), first(p["tls_timeout"]))
			eq("tran-window", secs(o.TLS.TranWindow), first(p["transition_window"]))
			eq("push-peer-info", map[bool]string{true: "ENABLED", false: "DISABLED"}[o.PushPeerInfo], first(p["push_peer_info"]))
			if o.Timers.PingRestart != 120*time.Second || !o.Timers.PingRestartDefault {
				t.Errorf("pre-pull ping-restart = %v (default %v), want 120s", o.Timers.PingRestart, o.Timers.PingRestartDefault)
			}
			if o.Auth.UserPass == nil || o.Auth.UserPass.Username != "alice" || !o.Auth.UserPass.HasPassword {
				t.Errorf("auth-user-pass not read: %+v", o.Auth.UserPass)
			}
		})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return "(absent)"
	}
	return s[0]
}

func secs(d time.Duration) string { return itoa(int(d / time.Second)) }

func itoa(n int) string { return strconv.Itoa(n) }
