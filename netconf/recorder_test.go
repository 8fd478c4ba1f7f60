package netconf

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

// fakeUplinkHost returns a Recorder whose host has an uplink eth0 with IPv4
// and IPv6 default routes and a down tunnel link tun0, with nothing recorded.
func fakeUplinkHost(t *testing.T) *Recorder {
	t.Helper()
	r := NewRecorder()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddLink("eth0", 1500, true))
	must(r.AddAddr("eth0", Addr{Prefix: pfx("192.0.2.2/24")}))
	must(r.AddAddr("eth0", Addr{Prefix: pfx("2001:db8:1::2/64")}))
	must(r.AddRoute(Route{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Link: "eth0"}))
	must(r.AddRoute(Route{Dst: pfx("::/0"), Gateway: addr("fe80::1"), Link: "eth0"}))
	must(r.AddLink("tun0", 1500, false))
	return r
}

// redirectConfig is a client's config for net30 addressing, redirect-gateway
// def1 ipv6 and the server at 198.51.100.7 / 2001:db8:99::7.
func redirectConfig() *Config {
	return &Config{
		Link: "tun0",
		MTU:  1400,
		Up:   true,
		Addrs: []Addr{
			{Prefix: pfx("10.8.0.6/32"), Peer: addr("10.8.0.5")},
			{Prefix: pfx("2001:db8:8::1000/64")},
		},
		Routes: []Route{
			{Dst: pfx("0.0.0.0/1"), Gateway: addr("10.8.0.5")},
			{Dst: pfx("128.0.0.0/1"), Gateway: addr("10.8.0.5")},
			{Dst: pfx("::/3")},
			{Dst: pfx("2000::/4")},
			{Dst: pfx("3000::/4")},
			{Dst: pfx("fc00::/7")},
		},
		Bypass: []Bypass{{Addr: addr("198.51.100.7")}, {Addr: addr("2001:db8:99::7")}},
	}
}

var redirectLines = []string{
	"ip link set dev tun0 mtu 1400",
	"ip link set dev tun0 up",
	"ip addr add 10.8.0.6 peer 10.8.0.5/32 dev tun0",
	"ip addr add 2001:db8:8::1000/64 dev tun0",
	"ip route add 198.51.100.7/32 via 192.0.2.1 dev eth0",
	"ip route add 2001:db8:99::7/128 via fe80::1 dev eth0",
	"ip route add 0.0.0.0/1 via 10.8.0.5 dev tun0",
	"ip route add 128.0.0.0/1 via 10.8.0.5 dev tun0",
	"ip route add ::/3 dev tun0",
	"ip route add 2000::/4 dev tun0",
	"ip route add 3000::/4 dev tun0",
	"ip route add fc00::/7 dev tun0",
}

var redirectCloseLines = []string{
	"ip route del fc00::/7 dev tun0",
	"ip route del 3000::/4 dev tun0",
	"ip route del 2000::/4 dev tun0",
	"ip route del ::/3 dev tun0",
	"ip route del 128.0.0.0/1 via 10.8.0.5 dev tun0",
	"ip route del 0.0.0.0/1 via 10.8.0.5 dev tun0",
	"ip route del 2001:db8:99::7/128 via fe80::1 dev eth0",
	"ip route del 198.51.100.7/32 via 192.0.2.1 dev eth0",
	"ip addr del 2001:db8:8::1000/64 dev tun0",
	"ip addr del 10.8.0.6 peer 10.8.0.5/32 dev tun0",
	"ip link set dev tun0 mtu 1500",
	"ip link set dev tun0 down",
}

// step is one action on a Recorder and the lines and error it must produce.
type step struct {
	name    string
	do      func(r *Recorder) error
	want    []string
	wantErr string // substring of the error; "" for none
}

func set(cfg *Config) func(*Recorder) error {
	return func(r *Recorder) error { return r.Set(context.Background(), cfg) }
}

func closeIt(r *Recorder) error { return r.Close() }

func modify(f func(*Config)) *Config {
	c := redirectConfig()
	f(c)
	return c
}

func TestRecorderScenarios(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(r *Recorder) error // host state before, not recorded
		steps     []step
		noRestore bool // the steps change the host themselves
	}{
		{
			name: "apply, reapply, close",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"reapply is a no-op", set(redirectConfig()), nil, ""},
				{"close reverts newest first", closeIt, redirectCloseLines, ""},
				{"close again", closeIt, nil, ""},
				{"set after close", set(redirectConfig()), nil, "closed"},
			},
		},
		{
			name: "changed config applies only the difference",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"change", set(modify(func(c *Config) {
					c.MTU = 1300
					c.Addrs[1] = Addr{Prefix: pfx("2001:db8:8::2000/64")}
					c.Routes = slices.Delete(c.Routes, 5, 6) // fc00::/7
					c.Routes = append(c.Routes, Route{Dst: pfx("10.10.0.0/16"), Gateway: addr("10.8.0.5"), Metric: 5})
					c.Routes[2].Metric = 7 // ::/3
				})), []string{
					"ip route del fc00::/7 dev tun0",
					"ip route del ::/3 dev tun0",
					"ip addr del 2001:db8:8::1000/64 dev tun0",
					"ip link set dev tun0 mtu 1300",
					"ip addr add 2001:db8:8::2000/64 dev tun0",
					"ip route add ::/3 dev tun0 metric 7",
					"ip route add 10.10.0.0/16 via 10.8.0.5 dev tun0 metric 5",
				}, ""},
				{"MTU and state left alone restores them", set(modify(func(c *Config) {
					c.MTU, c.Up = 0, false
					c.Addrs, c.Routes = nil, nil
				})), []string{
					"ip route del 10.10.0.0/16 via 10.8.0.5 dev tun0 metric 5",
					"ip route del ::/3 dev tun0 metric 7",
					"ip route del 3000::/4 dev tun0",
					"ip route del 2000::/4 dev tun0",
					"ip route del 128.0.0.0/1 via 10.8.0.5 dev tun0",
					"ip route del 0.0.0.0/1 via 10.8.0.5 dev tun0",
					"ip addr del 2001:db8:8::2000/64 dev tun0",
					"ip addr del 10.8.0.6 peer 10.8.0.5/32 dev tun0",
					"ip link set dev tun0 mtu 1500",
					"ip link set dev tun0 down",
				}, ""},
				{"close removes the bypass routes", closeIt, []string{
					"ip route del 2001:db8:99::7/128 via fe80::1 dev eth0",
					"ip route del 198.51.100.7/32 via 192.0.2.1 dev eth0",
				}, ""},
			},
		},
		{
			name: "nil config reverts everything and stays usable",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"nil", set(nil), redirectCloseLines, ""},
				{"apply again", set(redirectConfig()), redirectLines, ""},
				{"close", closeIt, redirectCloseLines, ""},
			},
		},
		{
			name: "what exists is used, not owned",
			setup: func(r *Recorder) error {
				return errors.Join(
					r.AddRoute(Route{Dst: pfx("198.51.100.7/32"), Gateway: addr("192.0.2.1"), Link: "eth0"}),
					// IPv4: Linux drops IPv6 addresses when a link goes down.
					r.AddAddr("tun0", Addr{Prefix: pfx("10.8.0.6/32"), Peer: addr("10.8.0.5")}),
				)
			},
			steps: []step{
				{"apply", set(redirectConfig()), slices.DeleteFunc(slices.Clone(redirectLines), func(l string) bool {
					return strings.Contains(l, "198.51.100.7") || strings.Contains(l, "10.8.0.6")
				}), ""},
				{"close keeps them", closeIt, slices.DeleteFunc(slices.Clone(redirectCloseLines), func(l string) bool {
					return strings.Contains(l, "198.51.100.7") || strings.Contains(l, "10.8.0.6")
				}), ""},
			},
		},
		{
			name: "a conflicting route is an error, the rest is applied",
			setup: func(r *Recorder) error {
				return r.AddRoute(Route{Dst: pfx("0.0.0.0/1"), Gateway: addr("192.0.2.1"), Link: "eth0"})
			},
			steps: []step{
				{"apply", set(redirectConfig()), slices.DeleteFunc(slices.Clone(redirectLines), func(l string) bool {
					return strings.HasPrefix(l, "ip route add 0.0.0.0/1")
				}), "netconf: add route 0.0.0.0/1 via 10.8.0.5 dev tun0: file exists"},
				{"close", closeIt, slices.DeleteFunc(slices.Clone(redirectCloseLines), func(l string) bool {
					return strings.HasPrefix(l, "ip route del 0.0.0.0/1")
				}), ""},
			},
		},
		{
			name: "partial failure, then close",
			setup: func(r *Recorder) error {
				r.FailOn("ip route add 128.0.0.0/1", syscall.EPERM)
				r.FailOn("ip addr add 2001:db8:8::1000/64", syscall.EACCES)
				return nil
			},
			steps: []step{
				{"apply", set(redirectConfig()), slices.DeleteFunc(slices.Clone(redirectLines), func(l string) bool {
					return strings.HasPrefix(l, "ip route add 128.0.0.0/1") || strings.HasPrefix(l, "ip addr add 2001:db8:8::1000/64")
				}), "netconf: add route 128.0.0.0/1 via 10.8.0.5 dev tun0: operation not permitted"},
				{"close reverts the rest", closeIt, slices.DeleteFunc(slices.Clone(redirectCloseLines), func(l string) bool {
					return strings.HasPrefix(l, "ip route del 128.0.0.0/1") || strings.HasPrefix(l, "ip addr del 2001:db8:8::1000/64")
				}), ""},
			},
		},
		{
			name: "a failed revert is retried by the next Close",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"close fails once", func(r *Recorder) error {
					r.FailOn("ip route del 0.0.0.0/1", syscall.EBUSY)
					return r.Close()
				}, slices.DeleteFunc(slices.Clone(redirectCloseLines), func(l string) bool {
					return strings.HasPrefix(l, "ip route del 0.0.0.0/1")
				}), "netconf: delete route 0.0.0.0/1 via 10.8.0.5 dev tun0: device or resource busy"},
				{"close again", func(r *Recorder) error {
					r.FailOn("ip route del 0.0.0.0/1", nil)
					return r.Close()
				}, nil /* the link went down and took the route */, ""},
				{"closed", set(redirectConfig()), nil, "closed"},
			},
		},
		{
			name: "reconnect to another server address",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"new server", set(modify(func(c *Config) {
					c.Bypass = []Bypass{{Addr: addr("203.0.113.9")}, {Addr: addr("2001:db8:99::7")}}
				})), []string{
					"ip route del 198.51.100.7/32 via 192.0.2.1 dev eth0",
					// Resolved around the tunnel's 128.0.0.0/1.
					"ip route add 203.0.113.9/32 via 192.0.2.1 dev eth0",
				}, ""},
			},
		},
		{
			name: "tunnel device recreated",
			steps: []step{
				{"apply", set(redirectConfig()), redirectLines, ""},
				{"device gone", func(r *Recorder) error {
					return errors.Join(r.RemoveLink("tun0"), r.AddLink("tun0", 1500, false))
				}, nil, ""},
				{"apply again", set(redirectConfig()), slices.DeleteFunc(slices.Clone(redirectLines), func(l string) bool {
					return strings.Contains(l, "dev eth0") // the bypass routes are still there
				}), ""},
				{"close", closeIt, redirectCloseLines, ""},
			},
			noRestore: true, // tun0 has a new index
		},
		{
			name: "missing link",
			steps: []step{
				{"apply", set(modify(func(c *Config) { c.Link = "tun9" })), []string{
					"ip route add 198.51.100.7/32 via 192.0.2.1 dev eth0",
					"ip route add 2001:db8:99::7/128 via fe80::1 dev eth0",
				}, "netconf: find link tun9: link not found"},
				{"close", closeIt, []string{
					"ip route del 2001:db8:99::7/128 via fe80::1 dev eth0",
					"ip route del 198.51.100.7/32 via 192.0.2.1 dev eth0",
				}, ""},
			},
		},
		{
			name: "bypass edge cases",
			steps: []step{
				{"local, on-link, mapped and duplicate", set(&Config{Bypass: []Bypass{
					{Addr: addr("192.0.2.2")},         // this host's: nothing to do
					{Addr: addr("192.0.2.50")},        // on-link
					{Addr: addr("::ffff:192.0.2.50")}, // the same, IPv4-mapped
					{Addr: addr("2001:db8:1::50"), Metric: 1, Table: 100},
				}}), []string{
					"ip route add 192.0.2.50/32 dev eth0",
					"ip route add 2001:db8:1::50/128 dev eth0 metric 1 table 100",
				}, ""},
			},
		},
		{
			name: "cancelled context changes nothing",
			steps: []step{
				{"apply", func(r *Recorder) error {
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					err := r.Set(ctx, redirectConfig())
					if !errors.Is(err, context.Canceled) {
						return errors.New("error does not wrap context.Canceled")
					}
					return err
				}, nil, "stopped before every change was made"},
				{"close", closeIt, nil, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fakeUplinkHost(t)
			if tt.setup != nil {
				if err := tt.setup(r); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			before := r.State()
			closed := false
			for _, s := range tt.steps {
				r.Reset()
				err := s.do(r)
				if s.wantErr == "" && err != nil {
					t.Fatalf("%s: unexpected error: %v", s.name, err)
				}
				if s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)) {
					t.Fatalf("%s: error %v, want one containing %q", s.name, err, s.wantErr)
				}
				if got := r.Lines(); !slices.Equal(got, s.want) {
					t.Fatalf("%s: lines\n%s\nwant\n%s", s.name, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
				}
				closed = closed || strings.HasPrefix(s.name, "close")
			}
			if closed && !tt.noRestore {
				if after := r.State(); !slices.Equal(after, before) {
					t.Errorf("host not restored:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero", Config{}, ""},
		{"full", *redirectConfig(), ""},
		{"bad link", Config{Link: "a/b"}, "not a valid link name"},
		{"long link", Config{Link: "abcdefghijklmnop"}, "not a valid link name"},
		{"MTU without link", Config{MTU: 1400}, "need Config.Link"},
		{"MTU too small", Config{Link: "tun0", MTU: 60}, "out of range"},
		{"invalid address", Config{Link: "tun0", Addrs: []Addr{{}}}, "not a valid prefix"},
		{"mapped address", Config{Link: "tun0", Addrs: []Addr{{Prefix: pfx("::ffff:10.0.0.1/128")}}}, "IPv4-mapped"},
		{"mixed peer", Config{Link: "tun0", Addrs: []Addr{{Prefix: pfx("10.0.0.1/32"), Peer: addr("fe80::1")}}}, "mixes IPv4 and IPv6"},
		{"host bits", Config{Link: "tun0", Routes: []Route{{Dst: pfx("10.1.2.3/8")}}}, "use 10.0.0.0/8"},
		{"mixed gateway", Config{Link: "tun0", Routes: []Route{{Dst: pfx("10.0.0.0/8"), Gateway: addr("fe80::1")}}}, "mixes"},
		{"route without link", Config{Routes: []Route{{Dst: pfx("10.0.0.0/8")}}}, "has no link"},
		{"negative metric", Config{Link: "tun0", Routes: []Route{{Dst: pfx("10.0.0.0/8"), Metric: -1}}}, "metric -1"},
		{"bad bypass", Config{Bypass: []Bypass{{Addr: addr("0.0.0.0")}}}, "not a usable address"},
		{"bypass table", Config{Bypass: []Bypass{{Addr: addr("192.0.2.9"), Table: -2}}}, "table -2"},
	}
	for _, tt := range tests {
		err := tt.cfg.validate()
		if tt.wantErr == "" && err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: error %v, want containing %q", tt.name, err, tt.wantErr)
		}
	}
	// An invalid Config changes nothing.
	r := fakeUplinkHost(t)
	if err := r.Set(context.Background(), &Config{Link: "tun0", Up: true, MTU: 1}); err == nil {
		t.Error("Set accepted an invalid config")
	}
	if l := r.Lines(); len(l) != 0 {
		t.Errorf("invalid config made changes: %v", l)
	}
}

func TestRecorderLookups(t *testing.T) {
	r := fakeUplinkHost(t)
	ctx := context.Background()
	if err := r.AddRoute(Route{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.254"), Link: "eth0", Metric: 600}); err != nil {
		t.Fatal(err)
	}
	defs, err := r.DefaultRoutes(ctx, IPv4)
	if err != nil || len(defs) != 2 || defs[0].Gateway != addr("192.0.2.1") || defs[1].Metric != 600 || defs[0].Link != "eth0" {
		t.Fatalf("DefaultRoutes(IPv4) = %+v, %v", defs, err)
	}
	defs, err = r.DefaultRoutes(ctx, IPv6)
	if err != nil || len(defs) != 1 || defs[0].Gateway != addr("fe80::1") || defs[0].Metric != 1024 {
		t.Fatalf("DefaultRoutes(IPv6) = %+v, %v", defs, err)
	}
	if err := r.Set(ctx, redirectConfig()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dst      string
		wantLink string
		wantGW   string
		local    bool
	}{
		{"198.51.100.7", "eth0", "192.0.2.1", false},
		{"8.8.8.8", "tun0", "10.8.0.5", false},
		{"192.0.2.77", "eth0", "", false},
		{"10.8.0.5", "tun0", "", false},
		{"2001:db8:99::7", "eth0", "fe80::1", false},
		{"2606:4700::1111", "tun0", "", false},
		{"192.0.2.2", "lo", "", true},
	}
	for _, tt := range tests {
		info, err := r.RouteTo(ctx, addr(tt.dst))
		if err != nil {
			t.Errorf("RouteTo(%s): %v", tt.dst, err)
			continue
		}
		var gw netip.Addr
		if tt.wantGW != "" {
			gw = addr(tt.wantGW)
		}
		if info.Link != tt.wantLink || info.Gateway != gw || info.Local != tt.local {
			t.Errorf("RouteTo(%s) = %+v; want link %s gateway %s local %v", tt.dst, info, tt.wantLink, tt.wantGW, tt.local)
		}
	}
	r.Close()
	if _, err := r.RouteTo(ctx, addr("8.8.8.8")); !errors.Is(err, ErrClosed) {
		t.Errorf("RouteTo after Close: %v", err)
	}
}

func TestRecorderBypassWithoutPath(t *testing.T) {
	r := NewRecorder()
	for _, err := range []error{
		r.AddLink("eth0", 1500, true),
		r.AddAddr("eth0", Addr{Prefix: pfx("192.0.2.2/24")}), // no default route
		r.AddLink("tun0", 1500, false),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	cfg := &Config{
		Link:   "tun0",
		Up:     true,
		Addrs:  []Addr{{Prefix: pfx("10.8.0.6/32"), Peer: addr("10.8.0.5")}},
		Routes: []Route{{Dst: pfx("0.0.0.0/1"), Gateway: addr("10.8.0.5")}},
	}
	if err := r.Set(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	// 8.8.8.8 is only reachable through the tunnel now: no bypass is possible.
	cfg.Bypass = []Bypass{{Addr: addr("8.8.8.8")}}
	r.Reset()
	err := r.Set(ctx, cfg)
	if !errors.Is(err, ErrNoRoute) || !strings.Contains(err.Error(), "netconf: bypass 8.8.8.8: ") {
		t.Errorf("Set = %v, want an error wrapping ErrNoRoute", err)
	}
	if l := r.Lines(); len(l) != 0 {
		t.Errorf("changes made: %v", l)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
