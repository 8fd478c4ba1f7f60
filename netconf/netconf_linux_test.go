//go:build linux

package netconf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newTestNetns returns a new, empty network namespace, closed when the test
// ends. The calling thread is moved back to its own namespace before the
// function returns: nothing a test does through handles bound to the new
// namespace can reach the host's.
func newTestNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netconf: this test needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create a network namespace; run it as root")
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get current network namespace: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		t.Fatalf("create network namespace: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		ns.Close()
		// The thread stays locked and dies with this goroutine.
		t.Fatalf("return to the original network namespace: %v", err)
	}
	runtime.UnlockOSThread()
	t.Cleanup(func() { ns.Close() })
	return ns
}

// testHost is a namespace with an uplink (uplink0: 192.0.2.2/24 and
// 2001:db8:1::2/64, default routes via 192.0.2.1 and fe80::1, a route in
// table 100) and a tunnel link tun0, down. Both are real tun devices whose
// descriptors stay open until the test ends (so they have carrier and no
// peer whose state could change behind the test's back).
type testHost struct {
	ns netns.NsHandle
	h  *netlink.Handle
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	ns := newTestNetns(t)
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle in test namespace: %v", err)
	}
	t.Cleanup(h.Close)
	th := &testHost{ns: ns, h: h}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("set up test host: %s: %v", what, err)
		}
	}
	lo, err := h.LinkByName("lo")
	must("find lo", err)
	must("lo up", h.LinkSetUp(lo))
	for _, name := range []string{"uplink0", "tun0"} {
		th.createTun(t, name)
		// No automatic link-local addresses: the host stays exactly as set up.
		must("addrgenmode "+name, h.LinkSetIP6AddrGenMode(th.link(t, name), 1 /* IN6_ADDR_GEN_MODE_NONE */))
	}
	up := th.link(t, "uplink0")
	must("uplink0 up", h.LinkSetUp(up))
	for _, p := range []string{"192.0.2.2/24", "2001:db8:1::2/64"} {
		a, err := netlink.ParseAddr(p)
		must("parse "+p, err)
		a.Flags = unix.IFA_F_NODAD
		must("address "+p, h.AddrAdd(up, a))
	}
	th.addRoute(t, "0.0.0.0/0 via 192.0.2.1 dev uplink0")
	th.addRoute(t, "::/0 via fe80::1 dev uplink0")
	th.addRoute(t, "10.100.0.0/16 via 192.0.2.1 dev uplink0 table 100")
	th.waitRoutes(t, up.Attrs().Index, map[string]int{
		"ff00::/8":          unix.RT_TABLE_LOCAL,
		"2001:db8:1::2/128": unix.RT_TABLE_LOCAL,
		"2001:db8:1::/64":   unix.RT_TABLE_MAIN,
		"192.0.2.2/32":      unix.RT_TABLE_LOCAL,
		"192.0.2.0/24":      unix.RT_TABLE_MAIN,
	})
	return th
}

// createTun creates a tun device in the test namespace. TUNSETIFF works in
// the calling thread's namespace, so the thread visits it for the call.
func (th *testHost) createTun(t *testing.T, name string) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(th.ns); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter test namespace: %v", err)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		var ifr *unix.Ifreq
		if ifr, err = unix.NewIfreq(name); err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			if err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
				unix.Close(fd)
			}
		}
	}
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("return from test namespace: %v", serr) // the thread stays locked and dies
	}
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatalf("create tun device %s: %v", name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
}

// waitRoutes waits until the kernel has added the routes (destination →
// table) for the link. It brings up IPv6 on a link asynchronously, once the
// link's operational state is up, adding the multicast route ff00::/8 and
// the routes of addresses given before: a snapshot taken earlier would not
// be the state the test starts from.
func (th *testHost) waitRoutes(t *testing.T, index int, want map[string]int) {
	t.Helper()
	ch := make(chan netlink.RouteUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	ns := th.ns
	if err := netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: &ns, ListExisting: true}); err != nil {
		t.Fatalf("subscribe to routes: %v", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				t.Fatal("route subscription ended")
			}
			if u.Type == unix.RTM_NEWROUTE && u.LinkIndex == index && u.Dst != nil {
				if table, ok := want[u.Dst.String()]; ok && table == u.Table {
					delete(want, u.Dst.String())
				}
			}
			if len(want) == 0 {
				return
			}
		case <-deadline:
			t.Fatalf("routes of link %d still missing after 10s: %v", index, want)
		}
	}
}

func (th *testHost) link(t *testing.T, name string) netlink.Link {
	t.Helper()
	l, err := th.h.LinkByName(name)
	if err != nil {
		t.Fatalf("find link %s: %v", name, err)
	}
	return l
}

// addRoute adds a route given as "dst [via gw] dev link [metric n] [table n]".
func (th *testHost) addRoute(t *testing.T, spec string) {
	t.Helper()
	f := strings.Fields(spec)
	dst := netip.MustParsePrefix(f[0])
	r := &netlink.Route{Dst: &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())}}
	for i := 1; i+1 < len(f); i += 2 {
		switch f[i] {
		case "via":
			r.Gw = netip.MustParseAddr(f[i+1]).AsSlice()
		case "dev":
			r.LinkIndex = th.link(t, f[i+1]).Attrs().Index
		case "metric":
			fmt.Sscan(f[i+1], &r.Priority)
		case "table":
			fmt.Sscan(f[i+1], &r.Table)
		}
	}
	if r.Gw == nil && dst.Addr().Is4() {
		r.Scope = netlink.SCOPE_LINK
	}
	if err := th.h.RouteAdd(r); err != nil {
		t.Fatalf("add route %s: %v", spec, err)
	}
}

// snapshot describes every link, address and route (all tables, both
// families) of the namespace, sorted.
func (th *testHost) snapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	links, err := th.h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		a := l.Attrs()
		out = append(out, fmt.Sprintf("link %d %s mtu %d flags %v", a.Index, a.Name, a.MTU, a.Flags))
	}
	addrs, err := th.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		out = append(out, fmt.Sprintf("addr if%d %s peer %v flags %#x scope %d", a.LinkIndex, a.IPNet, a.Peer, a.Flags, a.Scope))
	}
	routes, err := th.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		out = append(out, fmt.Sprintf("route fam %d table %d type %d %v via %v if%d src %v metric %d proto %d scope %d flags %#x",
			r.Family, r.Table, r.Type, r.Dst, r.Gw, r.LinkIndex, r.Src, r.Priority, r.Protocol, r.Scope, r.Flags))
	}
	slices.Sort(out)
	return out
}

func diffLines(got, want []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "\n  missing: %s", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "\n  extra:   %s", l)
		}
	}
	return b.String()
}

func (th *testHost) checkRestored(t *testing.T, before []string) {
	t.Helper()
	if d := diffLines(th.snapshot(t), before); d != "" {
		t.Errorf("host not restored:%s", d)
	}
}

// expectVia checks the kernel's route to dst: out of link, through gw (""
// for on-link).
func (th *testHost) expectVia(t *testing.T, dst, link, gw string) {
	t.Helper()
	rs, err := th.h.RouteGet(netip.MustParseAddr(dst).AsSlice())
	if err != nil || len(rs) == 0 {
		t.Errorf("route get %s: %v", dst, err)
		return
	}
	l, err := th.h.LinkByIndex(rs[0].LinkIndex)
	if err != nil {
		t.Errorf("route get %s: link %d: %v", dst, rs[0].LinkIndex, err)
		return
	}
	var got string
	if rs[0].Gw != nil {
		got = addrFromIP(rs[0].Gw).Unmap().String()
	}
	if l.Attrs().Name != link || got != gw {
		t.Errorf("route get %s: dev %s via %q; want dev %s via %q", dst, l.Attrs().Name, got, link, gw)
	}
}

// hasRoute reports whether the main table of the namespace has a route
// with destination dst out of link.
func (th *testHost) hasRoute(t *testing.T, dst, link string) bool {
	t.Helper()
	p := netip.MustParsePrefix(dst)
	fam := IPv4
	if p.Addr().Is6() {
		fam = IPv6
	}
	rs, err := (&netlinkSystem{h: th.h}).routes(fam, TableMain)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(rs, func(r sysRoute) bool { return r.dst == p && r.linkName == link })
}

// opLog collects the changes a Configurator logs.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *opLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *opLog) WithGroup(string) slog.Handler            { return l }
func (l *opLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "op" {
			l.mu.Lock()
			l.ops = append(l.ops, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *opLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := l.ops
	l.ops = nil
	return ops
}

func newTestConfigurator(t *testing.T, th *testHost) (Configurator, *opLog) {
	t.Helper()
	ops := &opLog{}
	c, err := NewInNamespace(th.ns, slog.New(ops))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ops
}

// linuxRedirectConfig is redirectConfig with the test host's names, subnet
// topology on top of net30, and bypasses for on-link servers too.
func linuxRedirectConfig() *Config {
	c := redirectConfig()
	c.Addrs = append(c.Addrs, Addr{Prefix: pfx("10.9.0.2/24")})
	c.Routes = append([]Route{{Dst: pfx("10.8.0.1/32"), Gateway: addr("10.8.0.5")}}, c.Routes...)
	c.Bypass = append(c.Bypass, Bypass{Addr: addr("192.0.2.50")}, Bypass{Addr: addr("2001:db8:1::50")})
	return c
}

func TestLinuxRedirectAndRevert(t *testing.T) {
	t.Parallel()
	th := newTestHost(t)
	before := th.snapshot(t)
	c, ops := newTestConfigurator(t, th)
	ctx := context.Background()

	if err := c.Set(ctx, linuxRedirectConfig()); err != nil {
		t.Fatalf("Set: %v", err)
	}
	tun := th.link(t, "tun0").Attrs()
	if tun.MTU != 1400 || tun.Flags&net.FlagUp == 0 {
		t.Errorf("tun0: MTU %d flags %v; want 1400, up", tun.MTU, tun.Flags)
	}
	have, err := (&netlinkSystem{h: th.h}).addrs(link{index: tun.Index, name: "tun0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range linuxRedirectConfig().Addrs {
		if !slices.Contains(have, a) {
			t.Errorf("tun0 lacks address %s (has %v)", a, have)
		}
	}
	// The servers keep their path; everything else goes into the tunnel.
	th.expectVia(t, "198.51.100.7", "uplink0", "192.0.2.1")
	th.expectVia(t, "192.0.2.50", "uplink0", "")
	th.expectVia(t, "2001:db8:99::7", "uplink0", "fe80::1")
	th.expectVia(t, "2001:db8:1::50", "uplink0", "")
	th.expectVia(t, "8.8.8.8", "tun0", "10.8.0.5")
	th.expectVia(t, "198.51.100.8", "tun0", "10.8.0.5")
	th.expectVia(t, "10.8.0.1", "tun0", "10.8.0.5")
	th.expectVia(t, "10.9.0.77", "tun0", "")
	th.expectVia(t, "2001:db8:99::8", "tun0", "")
	th.expectVia(t, "fd00::1", "tun0", "")
	for _, r := range []string{"198.51.100.7/32", "2001:db8:99::7/128", "192.0.2.50/32", "2001:db8:1::50/128"} {
		if !th.hasRoute(t, r, "uplink0") {
			t.Errorf("no host route %s dev uplink0", r)
		}
	}
	if got := ops.take(); len(got) != 16 {
		t.Errorf("first Set logged %d changes, want 16:\n%s", len(got), strings.Join(got, "\n"))
	}

	// Idempotent: the same Config again changes nothing.
	applied := th.snapshot(t)
	if err := c.Set(ctx, linuxRedirectConfig()); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	if got := ops.take(); len(got) != 0 {
		t.Errorf("second Set made changes: %v", got)
	}
	if d := diffLines(th.snapshot(t), applied); d != "" {
		t.Errorf("second Set changed the host:%s", d)
	}

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	th.checkRestored(t, before)
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Set(ctx, linuxRedirectConfig()); !errors.Is(err, ErrClosed) {
		t.Errorf("Set after Close: %v, want ErrClosed", err)
	}
	th.checkRestored(t, before)
}

func TestLinuxChangedConfig(t *testing.T) {
	t.Parallel()
	th := newTestHost(t)
	before := th.snapshot(t)
	c, ops := newTestConfigurator(t, th)
	ctx := context.Background()
	if err := c.Set(ctx, linuxRedirectConfig()); err != nil {
		t.Fatalf("Set A: %v", err)
	}
	ops.take()

	// A reconnect: another server address, a new IPv6 address, one route
	// fewer, one more, a new MTU.
	b := linuxRedirectConfig()
	b.MTU = 1300
	b.Addrs[1] = Addr{Prefix: pfx("2001:db8:8::2000/64")}
	b.Routes = slices.DeleteFunc(b.Routes, func(r Route) bool { return r.Dst == pfx("fc00::/7") })
	b.Routes = append(b.Routes, Route{Dst: pfx("10.10.0.0/16"), Gateway: addr("10.8.0.5"), Metric: 5})
	b.Bypass[0] = Bypass{Addr: addr("203.0.113.9")}
	if err := c.Set(ctx, b); err != nil {
		t.Fatalf("Set B: %v", err)
	}
	want := []string{
		"ip route del fc00::/7 dev tun0",
		"ip route del 198.51.100.7/32 via 192.0.2.1 dev uplink0",
		"ip addr del 2001:db8:8::1000/64 dev tun0",
		"ip link set dev tun0 mtu 1300",
		"ip addr add 2001:db8:8::2000/64 dev tun0",
		"ip route add 203.0.113.9/32 via 192.0.2.1 dev uplink0", // resolved around the tunnel
		"ip route add 10.10.0.0/16 via 10.8.0.5 dev tun0 metric 5",
	}
	if got := ops.take(); !slices.Equal(got, want) {
		t.Errorf("Set B changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	th.expectVia(t, "203.0.113.9", "uplink0", "192.0.2.1")
	th.expectVia(t, "198.51.100.7", "tun0", "10.8.0.5")
	th.expectVia(t, "10.10.1.1", "tun0", "10.8.0.5")
	if th.hasRoute(t, "fc00::/7", "tun0") || !th.hasRoute(t, "::/3", "tun0") {
		t.Error("IPv6 routes not updated")
	}
	if mtu := th.link(t, "tun0").Attrs().MTU; mtu != 1300 {
		t.Errorf("MTU %d, want 1300", mtu)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	th.checkRestored(t, before)
}

func TestLinuxPartialFailure(t *testing.T) {
	t.Parallel()
	th := newTestHost(t)
	before := th.snapshot(t)
	c, _ := newTestConfigurator(t, th)
	cfg := linuxRedirectConfig()
	cfg.Routes = append(cfg.Routes,
		Route{Dst: pfx("10.99.0.0/16"), Gateway: addr("172.31.0.1")}, // gateway not on-link
		Route{Dst: pfx("10.98.0.0/16"), Link: "nope0"},               // no such link
	)
	err := c.Set(context.Background(), cfg)
	for _, want := range []string{
		"netconf: add route 10.99.0.0/16 via 172.31.0.1 dev tun0: ",
		"netconf: find link nope0: link not found",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Set error %v, want one containing %q", err, want)
		}
	}
	// The rest was applied.
	th.expectVia(t, "8.8.8.8", "tun0", "10.8.0.5")
	th.expectVia(t, "198.51.100.7", "uplink0", "192.0.2.1")
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	th.checkRestored(t, before)
}

func TestLinuxPreexisting(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, th *testHost)
		cfg     func() *Config
		wantErr string
	}{
		{
			name: "identical route and address are used, not owned",
			setup: func(t *testing.T, th *testHost) {
				th.addRoute(t, "203.0.113.0/24 via 192.0.2.1 dev uplink0")
				th.addRoute(t, "198.51.100.7/32 via 192.0.2.1 dev uplink0")
				a, _ := netlink.ParseAddr("10.9.0.2/24")
				if err := th.h.AddrAdd(th.link(t, "tun0"), a); err != nil {
					t.Fatal(err)
				}
			},
			cfg: func() *Config {
				c := linuxRedirectConfig()
				c.Routes = append(c.Routes, Route{Dst: pfx("203.0.113.0/24"), Gateway: addr("192.0.2.1"), Link: "uplink0"})
				return c
			},
		},
		{
			name: "a conflicting route is reported",
			setup: func(t *testing.T, th *testHost) {
				th.addRoute(t, "0.0.0.0/1 via 192.0.2.1 dev uplink0")
			},
			cfg:     linuxRedirectConfig,
			wantErr: "netconf: add route 0.0.0.0/1 via 10.8.0.5 dev tun0: file exists",
		},
		{
			name: "the server is this host",
			setup: func(t *testing.T, th *testHost) {
			},
			cfg: func() *Config {
				c := linuxRedirectConfig()
				c.Bypass = append(c.Bypass, Bypass{Addr: addr("192.0.2.2")})
				return c
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := newTestHost(t)
			tt.setup(t, th)
			before := th.snapshot(t)
			c, _ := newTestConfigurator(t, th)
			err := c.Set(context.Background(), tt.cfg())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Set: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Set error %v, want one containing %q", err, tt.wantErr)
			}
			th.expectVia(t, "198.51.100.7", "uplink0", "192.0.2.1")
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			th.checkRestored(t, before)
		})
	}
}

func TestLinuxLookups(t *testing.T) {
	t.Parallel()
	th := newTestHost(t)
	th.addRoute(t, "0.0.0.0/0 via 192.0.2.254 dev uplink0 metric 600")
	c, _ := newTestConfigurator(t, th)
	ctx := context.Background()

	defs, err := c.DefaultRoutes(ctx, IPv4)
	if err != nil || len(defs) != 2 {
		t.Fatalf("DefaultRoutes(IPv4) = %+v, %v; want 2 routes", defs, err)
	}
	if d := defs[0]; d.Gateway != addr("192.0.2.1") || d.Link != "uplink0" || d.Metric != 0 || d.Dst != pfx("0.0.0.0/0") || d.Table != TableMain {
		t.Errorf("first IPv4 default route %+v", d)
	}
	if defs[1].Metric != 600 {
		t.Errorf("second IPv4 default route %+v, want metric 600", defs[1])
	}
	defs, err = c.DefaultRoutes(ctx, IPv6)
	if err != nil || len(defs) != 1 || defs[0].Gateway != addr("fe80::1") || defs[0].Metric != 1024 || defs[0].Dst != pfx("::/0") {
		t.Errorf("DefaultRoutes(IPv6) = %+v, %v", defs, err)
	}

	tests := []struct {
		dst   string
		want  RouteInfo
		local bool
	}{
		{"198.51.100.7", RouteInfo{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Link: "uplink0", Src: addr("192.0.2.2"), Table: TableMain}, false},
		{"192.0.2.9", RouteInfo{Dst: pfx("192.0.2.0/24"), Link: "uplink0", Src: addr("192.0.2.2"), Table: TableMain}, false},
		{"2001:db8:99::7", RouteInfo{Dst: pfx("::/0"), Gateway: addr("fe80::1"), Link: "uplink0", Src: addr("2001:db8:1::2"), Metric: 1024, Table: TableMain}, false},
		{"::ffff:198.51.100.7", RouteInfo{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Link: "uplink0", Src: addr("192.0.2.2"), Table: TableMain}, false},
	}
	for _, tt := range tests {
		got, err := c.RouteTo(ctx, addr(tt.dst))
		if err != nil {
			t.Errorf("RouteTo(%s): %v", tt.dst, err)
			continue
		}
		got.LinkIndex = 0
		if got != tt.want {
			t.Errorf("RouteTo(%s) = %+v\nwant %+v", tt.dst, got, tt.want)
		}
	}
	if got, err := c.RouteTo(ctx, addr("192.0.2.2")); err != nil || !got.Local {
		t.Errorf("RouteTo(own address) = %+v, %v; want Local", got, err)
	}
	if _, err := c.RouteTo(ctx, netip.Addr{}); err == nil {
		t.Error("RouteTo(invalid address) succeeded")
	}
}
