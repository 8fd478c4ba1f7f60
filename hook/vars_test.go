package hook

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// parseConfig evaluates a configuration; errors about missing keys and
// certificates are irrelevant here (the Options are complete anyway).
func parseConfig(t *testing.T, text string) *config.Options {
	t.Helper()
	o, _, _ := config.Parse(strings.NewReader(text), "/etc/openvpn/test.conf")
	if o == nil {
		t.Fatal("config: no options")
	}
	return o
}

func TestSetOptions(t *testing.T) {
	start := time.Unix(1700000000, 0)
	tests := []struct {
		name   string
		config string
		want   []string // every variable, most recent first
	}{
		{
			name: "client",
			config: `client
dev tun
remote vpn.example.com 1194 udp
remote 192.0.2.7 443 tcp
nobind
setenv FOO "bar baz"
setenv UV_TEAM blue
setenv-safe SAFE x
verb 4
`,
			want: []string{
				"remote_port_2=443", "remote_2=192.0.2.7", "proto_2=tcp-client",
				"remote_port_1=1194", "remote_1=vpn.example.com", "proto_1=udp",
				"daemon_pid=4242", "daemon_start_time=1700000000", "daemon_log_redirect=0", "daemon=0",
				"verb=4", "config=/etc/openvpn/test.conf",
				"OPENVPN_SAFE=x", "UV_TEAM=blue", "FOO=bar baz",
			},
		},
		{
			name: "server",
			config: `port 1194
proto udp6
dev tun
local 2001:db8::1
log /var/log/openvpn.log
`,
			want: []string{
				"remote_port_1=1194", "local_port_1=1194", "local_1=2001:db8::1", "proto_1=udp6",
				"daemon_pid=4242", "daemon_start_time=1700000000", "daemon_log_redirect=1", "daemon=0",
				"verb=1", "config=/etc/openvpn/test.conf",
			},
		},
	}
	for _, tt := range tests {
		o := parseConfig(t, tt.config)
		e := NewEnv()
		e.SetOptions(o, start, 4242)
		if got := e.Vars(); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestSetOptionsLongSafeName(t *testing.T) {
	o := &config.Options{Setenv: []config.Setenv{
		{Name: strings.Repeat("N", 55), Value: "fits", Safe: true},
		{Name: strings.Repeat("L", 56), Value: "too long", Safe: true},
	}}
	e := NewEnv()
	e.SetOptions(o, time.Unix(0, 0), 1)
	if _, ok := e.Get("OPENVPN_" + strings.Repeat("N", 55)); !ok {
		t.Error("63-byte setenv-safe name missing")
	}
	if _, ok := e.Get("OPENVPN_" + strings.Repeat("L", 56)); ok {
		t.Error("64-byte setenv-safe name set; openvpn drops it")
	}
	if _, ok := e.Get("config"); ok {
		t.Error("config set without a configuration file")
	}
}

func TestUpDown(t *testing.T) {
	tests := []struct {
		u        UpDown
		args     []string
		signal   string
		hasType  bool
		scriptCx string
	}{
		{UpDown{Dev: "tun0", DevType: "tun", TunMTU: 1500, IfconfigLocal: "10.8.0.2", IfconfigRemote: "255.255.255.0"},
			[]string{"tun0", "1500", "0", "10.8.0.2", "255.255.255.0", "init"}, "", true, "init"},
		{UpDown{Dev: "tun1", TunMTU: 1400, Context: "restart", Signal: "sigusr1"},
			[]string{"tun1", "1400", "0", "", "", "restart"}, "sigusr1", false, "restart"},
	}
	for _, tt := range tests {
		if got := tt.u.Args(); !slices.Equal(got, tt.args) {
			t.Errorf("Args = %q, want %q", got, tt.args)
		}
		e := NewEnv()
		e.SetUpDown(tt.u)
		if got, _ := e.Get("script_context"); got != tt.scriptCx {
			t.Errorf("script_context = %q", got)
		}
		if got, _ := e.Get("signal"); got != tt.signal {
			t.Errorf("signal = %q, want %q", got, tt.signal)
		}
		if _, ok := e.Get("dev_type"); ok != tt.hasType {
			t.Errorf("dev_type set = %v", ok)
		}
		if got, _ := e.Get("dev"); got != tt.u.Dev {
			t.Errorf("dev = %q", got)
		}
	}
}

func TestTrustedUntrusted(t *testing.T) {
	tests := []struct {
		ap   string
		want []string
	}{
		{"192.0.2.1:1194", []string{"trusted_port=1194", "trusted_ip=192.0.2.1"}},
		{"[::ffff:192.0.2.1]:40000", []string{"trusted_port=40000", "trusted_ip=192.0.2.1"}},
		{"[2001:db8::1]:1194", []string{"trusted_port=1194", "trusted_ip6=2001:db8::1"}},
		{"[fe80::1%eth0]:5", []string{"trusted_port=5", "trusted_ip6=fe80::1%eth0"}},
		{"192.0.2.1:0", []string{"trusted_ip=192.0.2.1"}},
	}
	for _, tt := range tests {
		ap := netip.MustParseAddrPort(tt.ap)
		e := NewEnv()
		e.SetTrusted(ap)
		if got := e.Vars(); !slices.Equal(got, tt.want) {
			t.Errorf("SetTrusted(%s) = %q, want %q", tt.ap, got, tt.want)
		}
		u := NewEnv()
		u.SetUntrusted(ap)
		for i, kv := range u.Vars() {
			if "un"+tt.want[i] != kv {
				t.Errorf("SetUntrusted(%s) = %q", tt.ap, u.Vars())
			}
		}
	}
	e := NewEnv()
	e.SetTrusted(netip.AddrPort{})
	if e.Len() != 0 {
		t.Errorf("invalid address exported: %q", e.Vars())
	}
}

func TestSetPoolAddrs(t *testing.T) {
	e := NewEnv()
	e.Set("ifconfig_pool_local_ip", "stale")
	e.Set("ifconfig_pool_remote_ip6", "stale")
	e.SetPoolAddrs(PoolAddrs{
		RemoteIP:  netip.MustParseAddr("10.8.0.2"),
		Netmask:   netip.MustParseAddr("255.255.255.0"),
		RemoteIP6: netip.MustParseAddr("fd00:8::1000"),
		LocalIP6:  netip.MustParseAddr("fd00:8::1"),
		IP6Bits:   64,
	})
	want := []string{
		"ifconfig_pool_ip6_netbits=64", "ifconfig_pool_local_ip6=fd00:8::1", "ifconfig_pool_remote_ip6=fd00:8::1000",
		"ifconfig_pool_netmask=255.255.255.0", "ifconfig_pool_remote_ip=10.8.0.2",
	}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Errorf("SetPoolAddrs subnet = %q, want %q", got, want)
	}
	e.SetPoolAddrs(PoolAddrs{RemoteIP: netip.MustParseAddr("10.8.0.6"), LocalIP: netip.MustParseAddr("10.8.0.5"), Netmask: netip.IPv4Unspecified()})
	want = []string{"ifconfig_pool_local_ip=10.8.0.5", "ifconfig_pool_remote_ip=10.8.0.6"}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Errorf("SetPoolAddrs net30 = %q, want %q", got, want)
	}
}

func TestConnectTimeAndDisconnect(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	e := NewEnv()
	e.SetConnectTime(time.Date(2026, 11, 22, 5, 7, 19, 999, loc))
	e.SetDisconnect(2068, 2060, 4*time.Second+900*time.Millisecond)
	want := []string{"time_duration=4", "bytes_sent=2060", "bytes_received=2068", "time_unix=1795320439", "time_ascii=2026-11-22 05:07:19"}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
