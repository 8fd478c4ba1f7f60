package config

import (
	"bufio"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
)

// labPushReplies returns the PUSH_REPLY messages the 2.6.14 lab clients
// logged (the server printed the auth-token redacted as SESS_ID).
func labPushReplies(t testing.TB) []string {
	dir := vectors.Dir(t, "testvectors/openvpn-2.6.14")
	re := regexp.MustCompile(`Received control message: '(PUSH_REPLY[^']*)'`)
	seen := map[string]bool{}
	var out []string
	paths, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(dir, "control", "*.log"))
	for _, p := range append(paths, more...) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
		f.Close()
	}
	if len(out) == 0 {
		t.Fatal("no PUSH_REPLY found in the lab logs")
	}
	return out
}

func defaultPolicy() PushPolicy {
	return PushPolicy{TunMTUMax: 1600}
}

func TestPushReplyLab(t *testing.T) {
	var full string
	for _, m := range labPushReplies(t) {
		opts, err := ParsePushReply(m)
		if err != nil {
			t.Fatalf("%q: %v", m, err)
		}
		var p Pushed
		if err := p.Apply(opts, defaultPolicy()); err != nil {
			t.Fatalf("%q: %v", m, err)
		}
		if len(p.Notes) != 0 {
			t.Errorf("%q: unexpected notes %v", m, p.Notes)
		}
		if len(p.Accepted) != len(opts) {
			t.Errorf("%q: accepted %d of %d", m, len(p.Accepted), len(opts))
		}
		if strings.Contains(m, "dhcp-option") && strings.Contains(m, "AES-256-GCM") && !strings.Contains(m, "compress") {
			full = m
		}
	}
	opts, _ := ParsePushReply(full)
	var p Pushed
	if err := p.Apply(opts, defaultPolicy()); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s wrong: %+v", what, p)
		}
	}
	check("ifconfig", p.Ifconfig == a("10.77.0.2") && p.IfconfigRemote == a("255.255.255.0"))
	check("topology", p.TopologySet && p.Topology == TopologySubnet)
	check("route-gateway", p.RouteGateway == a("10.77.0.1"))
	check("route", len(p.Routes) == 1 && p.Routes[0].Prefix == netip.MustParsePrefix("192.168.99.0/24"))
	check("dhcp-option", len(p.DHCPOptions) == 1 && p.DHCPOptions[0].Type == "DNS" && p.DHCPOptions[0].Addr == a("10.77.0.1"))
	check("ping", p.PingSet && p.Ping == 2*time.Second && p.PingRestart == 10*time.Second)
	check("peer-id", p.PeerIDSet && p.PeerID == 0)
	check("cipher", p.Cipher == "AES-256-GCM")
	check("protocol-flags", p.CCExit && p.TLSEKM && p.DynTLSCrypt)
	check("tun-mtu", p.TunMTU == 1500)
	check("auth-token", p.AuthToken == "SESS_ID")
	check("complete", p.Complete())
}

func TestParsePushReply(t *testing.T) {
	tests := []struct {
		msg  string
		want []string
		err  bool
	}{
		{"PUSH_REPLY", nil, false},
		{"PUSH_REPLY,", nil, false},
		{"PUSH_REPLY,route 10.0.0.0 255.0.0.0,ping 10", []string{"route 10.0.0.0 255.0.0.0", "ping 10"}, false},
		{"PUSH_REPLY,a,,b", []string{"a", "b"}, false},
		{"PUSH_REPLYX", nil, true},
		{"AUTH_FAILED", nil, true},
		{"PUSH_REPLY," + strings.Repeat("x", 70000), nil, true},
	}
	for _, tc := range tests {
		got, err := ParsePushReply(tc.msg)
		if (err != nil) != tc.err {
			t.Errorf("%.40q: err %v", tc.msg, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%.40q: got %q want %q", tc.msg, got, tc.want)
		}
	}
}

func TestPushedApply(t *testing.T) {
	tests := []struct {
		name   string
		opts   []string
		pol    PushPolicy
		reject bool
		notes  []string // "action:substring"
		check  func(p *Pushed) bool
	}{
		{name: "refused options", opts: []string{"dev tun", "setenv FOO 1", "cd /", "up /bin/sh", "route 10.0.0.0 255.0.0.0"},
			notes: []string{"refused:cannot be used in this context", "refused:cannot be used", "refused:cannot be used", "refused:cannot be used"},
			check: func(p *Pushed) bool { return len(p.Routes) == 1 }},
		{name: "windows-only tolerated", opts: []string{"block-outside-dns", "register-dns", "ip-win32 dynamic", "route-method exe", "dhcp-option DNS 1.1.1.1"},
			notes: []string{"ignored:Windows", "ignored:Windows", "ignored:Windows", "ignored:Windows"},
			check: func(p *Pushed) bool { return len(p.DHCPOptions) == 1 }},
		{name: "unknown and malformed", opts: []string{"frobnicate 1", "route 10.0.0.1 255.0.0.0", "route host.example.com", "ping x", "ping 5"},
			notes: []string{"error:unrecognized", "error:host bits", "error:not an IPv4", "error:not a number"},
			check: func(p *Pushed) bool { return p.Ping == 5*time.Second && len(p.Routes) == 0 }},
		{name: "fqdn allowed", opts: []string{"route host.example.com"}, pol: PushPolicy{AllowPullFQDN: true},
			check: func(p *Pushed) bool { return len(p.Routes) == 1 && p.Routes[0].Network == "host.example.com" }},
		{name: "route-nopull", opts: []string{"route 10.0.0.0 255.0.0.0", "route-ipv6 2001:db8::/32", "dhcp-option DNS 10.0.0.1", "dns server 0 address 10.0.0.1", "redirect-gateway def1", "ifconfig 10.8.0.6 10.8.0.5", "route-gateway 10.8.0.5"},
			pol:   PushPolicy{RouteNoPull: true},
			notes: []string{"refused:route-nopull", "refused:route-nopull", "refused:route-nopull", "refused:route-nopull", "refused:route-nopull"},
			check: func(p *Pushed) bool {
				return len(p.Routes) == 0 && p.RedirectGateway == nil && p.Ifconfig.IsValid() && p.RouteGateway.IsValid()
			}},
		{name: "pull-filter first match wins", opts: []string{"  redirect-gateway def1", "route 10.1.0.0 255.255.0.0", "route 10.2.0.0 255.255.0.0"},
			pol:   PushPolicy{Filters: []PullFilter{{PullIgnore, "redirect-gateway"}, {PullAccept, "route 10.1."}, {PullIgnore, "route"}}},
			notes: []string{"filtered:ignore \"redirect-gateway\"", "filtered:ignore \"route\""},
			check: func(p *Pushed) bool { return p.RedirectGateway == nil && len(p.Routes) == 1 }},
		{name: "pull-filter reject", opts: []string{"ping 1", "route-ipv6 ::/0", "ping 2"},
			pol: PushPolicy{Filters: []PullFilter{{PullReject, "route-ipv6"}}}, reject: true,
			notes: []string{"filtered:reject"},
			check: func(p *Pushed) bool { return p.Ping == time.Second }},
		{name: "compression forbidden", opts: []string{"comp-lzo"}, reject: true, notes: []string{"refused:allow-compression"}},
		{name: "compression stub allowed", opts: []string{"comp-lzo no", "compress stub-v2"},
			check: func(p *Pushed) bool { return p.CompressionSet && p.Compression == CompStubV2 }},
		{name: "compression asym", opts: []string{"compress lz4-v2"}, pol: PushPolicy{AllowCompression: AllowCompressionAsym},
			check: func(p *Pushed) bool { return p.Compression == CompLZ4V2 }},
		{name: "redirect flags", opts: []string{"redirect-gateway def1 bypass-dhcp", "redirect-gateway ipv6 !ipv4", "redirect-gateway bogus"},
			notes: []string{"error:unknown flag"},
			check: func(p *Pushed) bool {
				rg := p.RedirectGateway
				return rg != nil && rg.Def1 && rg.BypassDHCP && rg.IPv6 && !rg.IPv4
			}},
		{name: "continuation", opts: []string{"route 10.0.0.0 255.0.0.0", "push-continuation 2"},
			check: func(p *Pushed) bool { return !p.Complete() }},
		{name: "tun-mtu clamp", opts: []string{"tun-mtu 9000", "tun-mtu 50"}, pol: PushPolicy{TunMTUMax: 1600},
			notes: []string{"ignored:tun-mtu-max", "error:below 100"},
			check: func(p *Pushed) bool { return p.TunMTU == 1600 }},
		{name: "dns", opts: []string{"dns server 1 address 10.0.0.1 [2001:db8::1]:853", "dns server 1 resolve-domains corp.example", "dns search-domains example.com", "dns server -1 address 10.0.0.2"},
			notes: []string{"error:out of range"},
			check: func(p *Pushed) bool {
				return len(p.DNS.Servers) == 1 && len(p.DNS.Servers[0].Addresses) == 2 && p.DNS.Servers[0].Addresses[1].Port() == 853 && len(p.DNS.SearchDomains) == 1
			}},
		{name: "auth token user", opts: []string{"auth-token-user YWxpY2U=", "auth-token SESS_ID_AT_x"},
			check: func(p *Pushed) bool { return p.AuthTokenUser == "alice" && p.AuthToken == "SESS_ID_AT_x" }},
		{name: "protocol flags unknown", opts: []string{"protocol-flags cc-exit future-flag"}, notes: []string{"ignored:future-flag"},
			check: func(p *Pushed) bool { return p.CCExit }},
		{name: "too long", opts: []string{"echo " + strings.Repeat("x", 300)}, notes: []string{"error:longer than 255"}},
		{name: "timers", opts: []string{"ping-exit 30", "inactive 600 1000", "session-timeout 3600", "explicit-exit-notify"},
			check: func(p *Pushed) bool {
				return p.PingExit == 30*time.Second && p.InactiveBytes == 1000 && p.SessionTimeout == time.Hour && p.ExplicitExitNotify == 1
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Pushed
			err := p.Apply(tc.opts, tc.pol)
			if tc.reject != (err != nil) || err != nil && !errors.Is(err, ErrPushRejected) {
				t.Errorf("err = %v, want reject=%v", err, tc.reject)
			}
			if len(p.Notes) != len(tc.notes) {
				t.Fatalf("notes = %v, want %v", p.Notes, tc.notes)
			}
			for i, n := range tc.notes {
				action, sub, _ := strings.Cut(n, ":")
				if p.Notes[i].Action != action || !strings.Contains(p.Notes[i].String(), sub) {
					t.Errorf("note %d = %v, want %s", i, p.Notes[i], n)
				}
			}
			if tc.check != nil && !tc.check(&p) {
				t.Errorf("result wrong: %+v", p)
			}
		})
	}
}

func TestPushNotesRedactToken(t *testing.T) {
	var p Pushed
	p.Apply([]string{"auth-token " + strings.Repeat("s", 300)}, PushPolicy{})
	if len(p.Notes) != 1 || strings.Contains(p.Notes[0].String(), "sss") {
		t.Errorf("token leaked into notes: %v", p.Notes)
	}
}

func TestOptionsPushPolicy(t *testing.T) {
	o, _, _ := (&Loader{FS: mapFS("c.ovpn", "client\ndev tun\nremote a\nca ca.crt\nroute-nopull\npull-filter ignore route\nallow-compression asym\ncomp-lzo no\ntun-mtu-max 9000\n", "ca.crt", testCA)}).Load("c.ovpn")
	pol := o.PushPolicy()
	if !pol.RouteNoPull || len(pol.Filters) != 1 || pol.AllowCompression != AllowCompressionAsym || pol.TunMTUMax != 9000 {
		t.Errorf("policy %+v", pol)
	}
}
