package netconf

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// system is the seam between the diff engine and a host: the Linux
// implementation talks rtnetlink, the Recorder's fake models a host in
// memory. Methods return raw errors (a syscall.Errno where the kernel gave
// one, errLinkNotFound for a missing link); the engine adds context. The
// engine serializes all calls.
type system interface {
	linkByName(name string) (link, error)
	linkByIndex(index int) (link, error)
	setMTU(l link, mtu int) error
	setUp(l link, up bool) error
	addrs(l link) ([]Addr, error)
	addAddr(l link, a Addr) error
	delAddr(l link, a Addr) error
	// routes lists the unicast, single-path routes of one table.
	routes(fam Family, table int) ([]sysRoute, error)
	addRoute(r sysRoute) error
	delRoute(r sysRoute) error
	routeGet(dst netip.Addr) (RouteInfo, error)
	close() error
}

// errLinkNotFound is wrapped by system errors for a link that does not exist.
var errLinkNotFound = errors.New("link not found")

// link is a link's identity and the state netconf manages.
type link struct {
	index int // > 0 for a link that exists
	name  string
	mtu   int
	up    bool
}

// sysRoute is a route in kernel terms: the link by index, metric and table
// normalized (IPv6 metric 0 is 1024, table 0 is main). src and linkName are
// informational and not part of its identity.
type sysRoute struct {
	dst       netip.Prefix
	gw        netip.Addr
	linkIndex int
	linkName  string
	src       netip.Addr
	metric    int
	table     int
}

// same reports whether r and o are the same route as far as netconf is
// concerned: destination, gateway, link, metric and table.
func (r sysRoute) same(o sysRoute) bool {
	return r.dst == o.dst && r.gw == o.gw && r.linkIndex == o.linkIndex && r.metric == o.metric && r.table == o.table
}

// String formats r in ip(8) syntax, leaving out default metric and table.
func (r sysRoute) String() string {
	var b strings.Builder
	b.WriteString(r.dst.String())
	if r.gw.IsValid() {
		b.WriteString(" via " + r.gw.String())
	}
	name := r.linkName
	if name == "" {
		name = fmt.Sprintf("if%d", r.linkIndex)
	}
	b.WriteString(" dev " + name)
	if r.metric != normMetric(familyOf(r.dst.Addr()), 0) {
		fmt.Fprintf(&b, " metric %d", r.metric)
	}
	if r.table != TableMain {
		fmt.Fprintf(&b, " table %d", r.table)
	}
	return b.String()
}

func (r sysRoute) info() RouteInfo {
	return RouteInfo{Dst: r.dst, Gateway: r.gw, Link: r.linkName, LinkIndex: r.linkIndex, Src: r.src, Metric: r.metric, Table: r.table}
}

// normMetric returns the metric the kernel gives a route added with metric m.
func normMetric(fam Family, m int) int {
	if m == 0 && fam == IPv6 {
		return 1024 // IP6_RT_PRIO_USER
	}
	return m
}

// normTable returns the table number the kernel uses for table t.
func normTable(t int) int {
	if t == 0 {
		return TableMain
	}
	return t
}

func containsRoute(rs []sysRoute, r sysRoute) bool {
	return slices.ContainsFunc(rs, r.same)
}

// isGone reports whether err says that what was to be removed is already
// gone (with its link, or by itself).
func isGone(err error) bool {
	return errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.ENODEV) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, errLinkNotFound)
}

// ownedAddr is an address netconf added.
type ownedAddr struct {
	link link
	addr Addr
}

// linkJournal is what netconf changed on one link, and the original values.
type linkJournal struct {
	name       string
	origMTU    int
	mtuChanged bool
	origUp     bool
	upChanged  bool
}

// engine is the Configurator logic shared by every system: it diffs Configs
// against its journal and the host and applies the difference.
type engine struct {
	mu     sync.Mutex
	sys    system
	log    *slog.Logger // nil: no logging
	closed bool

	// The journal: what this engine changed, oldest first.
	links  map[int]*linkJournal // by link index
	addrs  []ownedAddr
	routes []sysRoute // includes bypass host routes

	// bypass holds the resolution of each Bypass of the current Config: its
	// host route, or the zero sysRoute if the address is local.
	bypass map[Bypass]sysRoute
}

func newEngine(sys system, log *slog.Logger) *engine {
	return &engine{sys: sys, log: log, links: map[int]*linkJournal{}, bypass: map[Bypass]sysRoute{}}
}

// note logs a change that was made, in ip(8) syntax.
func (e *engine) note(op string) {
	if e.log != nil {
		e.log.Info("netconf: changed host network", "op", op)
	}
}

func (e *engine) ownsRoute(r sysRoute) bool { return containsRoute(e.routes, r) }

func (e *engine) ownsAddr(index int, a Addr) bool {
	return slices.ContainsFunc(e.addrs, func(o ownedAddr) bool { return o.link.index == index && o.addr == a })
}

// Set implements Configurator.
func (e *engine) Set(ctx context.Context, cfg *Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if cfg == nil {
		cfg = &Config{}
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	p := newPass(ctx, e)
	p.apply(cfg)
	return errors.Join(p.errs...)
}

// Close implements Configurator.
func (e *engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed && len(e.routes) == 0 && len(e.addrs) == 0 && len(e.links) == 0 {
		return nil
	}
	e.closed = true
	p := newPass(context.Background(), e)
	p.removeRoutes(nil)
	p.removeAddrs(0, nil)
	for _, idx := range slices.Sorted(maps.Keys(e.links)) {
		p.restoreLink(idx)
	}
	e.bypass = nil
	if len(p.errs) > 0 {
		return errors.Join(p.errs...)
	}
	if err := e.sys.close(); err != nil {
		return fmt.Errorf("netconf: close: %w", err)
	}
	return nil
}

// RouteTo implements Configurator.
func (e *engine) RouteTo(ctx context.Context, dst netip.Addr) (RouteInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return RouteInfo{}, ErrClosed
	}
	if !dst.IsValid() {
		return RouteInfo{}, errors.New("netconf: route lookup for an invalid address")
	}
	if err := ctx.Err(); err != nil {
		return RouteInfo{}, err
	}
	info, err := e.sys.routeGet(dst.Unmap())
	if err != nil {
		return RouteInfo{}, fmt.Errorf("netconf: look up route to %s: %w", dst, err)
	}
	return info, nil
}

// DefaultRoutes implements Configurator.
func (e *engine) DefaultRoutes(ctx context.Context, fam Family) ([]RouteInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if fam != IPv4 && fam != IPv6 {
		return nil, fmt.Errorf("netconf: default routes of unknown family %d: use IPv4 or IPv6", int(fam))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs, err := e.sys.routes(fam, TableMain)
	if err != nil {
		return nil, fmt.Errorf("netconf: list %s routes: %w", fam, err)
	}
	var out []RouteInfo
	for _, r := range rs {
		if r.dst.Bits() == 0 {
			out = append(out, r.info())
		}
	}
	slices.SortStableFunc(out, func(a, b RouteInfo) int { return cmp.Compare(a.Metric, b.Metric) })
	return out, nil
}

// pass is one run of Set or Close: it collects errors and caches the host's
// links and route tables while it works.
type pass struct {
	ctx     context.Context
	e       *engine
	errs    []error
	stopped bool
	links   map[string]link
	tables  map[[2]int][]sysRoute // by {family, table}
}

func newPass(ctx context.Context, e *engine) *pass {
	return &pass{ctx: ctx, e: e, links: map[string]link{}, tables: map[[2]int][]sysRoute{}}
}

func (p *pass) fail(err error) { p.errs = append(p.errs, err) }

// proceed reports whether the pass may make another change; once ctx is
// done it records that and refuses.
func (p *pass) proceed() bool {
	if p.stopped {
		return false
	}
	if err := p.ctx.Err(); err != nil {
		p.stopped = true
		p.fail(fmt.Errorf("netconf: stopped before every change was made: %w", err))
		return false
	}
	return true
}

// link looks a link up by name once per pass; ok is false (and the failure
// recorded) if it does not exist.
func (p *pass) link(name string) (link, bool) {
	if l, seen := p.links[name]; seen {
		return l, l.index > 0
	}
	l, err := p.e.sys.linkByName(name)
	if err != nil {
		p.fail(fmt.Errorf("netconf: find link %s: %w", name, err))
		l = link{}
	}
	p.links[name] = l
	return l, l.index > 0
}

// table returns a route table, listed once and then kept in step with the
// changes the pass makes.
func (p *pass) table(fam Family, table int) ([]sysRoute, error) {
	key := [2]int{int(fam), table}
	if rs, ok := p.tables[key]; ok {
		return rs, nil
	}
	rs, err := p.e.sys.routes(fam, table)
	if err != nil {
		return nil, fmt.Errorf("netconf: list %s routes of table %d: %w", fam, table, err)
	}
	p.tables[key] = rs
	return rs, nil
}

// forgetTables drops cached tables after a change with side effects on
// routes (addresses, link state).
func (p *pass) forgetTables() { clear(p.tables) }

func (p *pass) tableKey(r sysRoute) [2]int { return [2]int{int(familyOf(r.dst.Addr())), r.table} }

// present reports whether the host has r.
func (p *pass) present(r sysRoute) (bool, error) {
	rs, err := p.table(familyOf(r.dst.Addr()), r.table)
	if err != nil {
		return false, err
	}
	return containsRoute(rs, r), nil
}

// apply makes the host match cfg (validated).
func (p *pass) apply(cfg *Config) {
	e := p.e
	// Resolve everything first: nothing changes until the Config is known
	// in kernel terms, and bypass lookups see the host as it is.
	tunnel, haveTunnel := link{}, false
	if cfg.Link != "" {
		tunnel, haveTunnel = p.link(cfg.Link)
	}
	var addrs []Addr
	if haveTunnel {
		for _, a := range cfg.Addrs {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	var routes []sysRoute
	for _, r := range cfg.Routes {
		name := cmp.Or(r.Link, cfg.Link)
		l, ok := p.link(name)
		if !ok {
			continue
		}
		sr := sysRoute{
			dst:       r.Dst,
			gw:        r.Gateway,
			linkIndex: l.index,
			linkName:  l.name,
			metric:    normMetric(familyOf(r.Dst.Addr()), r.Metric),
			table:     normTable(r.Table),
		}
		if !containsRoute(routes, sr) {
			routes = append(routes, sr)
		}
	}
	bypass := map[Bypass]sysRoute{}
	var hostRoutes []sysRoute
	for _, b := range cfg.Bypass {
		b.Addr = b.Addr.Unmap()
		if _, dup := bypass[b]; dup {
			continue
		}
		r, ok := p.resolveBypass(b, tunnel.index)
		if !ok {
			continue
		}
		bypass[b] = r
		if r.linkIndex > 0 && !containsRoute(hostRoutes, r) && !containsRoute(routes, r) {
			hostRoutes = append(hostRoutes, r)
		}
	}
	want := append(hostRoutes, routes...)

	p.removeRoutes(want)
	p.removeAddrs(tunnel.index, addrs)
	p.setLinks(cfg, tunnel, haveTunnel)
	if haveTunnel {
		p.addAddrs(tunnel, addrs)
	}
	p.addRoutes(want)
	e.bypass = bypass
}

// resolveBypass returns the host route that keeps b on its current path, or
// the zero sysRoute if b is an address of this host. A resolution from an
// earlier Set is kept as long as its route is on the host.
func (p *pass) resolveBypass(b Bypass, tunnelIndex int) (sysRoute, bool) {
	e := p.e
	prev, resolved := e.bypass[b]
	if resolved {
		if prev.linkIndex == 0 {
			return prev, true
		}
		if ok, err := p.present(prev); err == nil && ok {
			return prev, true
		}
	}
	// On failure keep an earlier resolution, so that its route stays.
	failed := func(err error) (sysRoute, bool) {
		p.fail(err)
		return prev, resolved
	}
	info, err := e.sys.routeGet(b.Addr)
	if err != nil {
		return failed(fmt.Errorf("netconf: bypass %s: look up its route: %w", b.Addr, err))
	}
	if info.Local {
		return sysRoute{}, true
	}
	if (tunnelIndex > 0 && info.LinkIndex == tunnelIndex) || p.ownedMatch(info) {
		// The lookup went through the tunnel (an earlier Config's routes are
		// in place, e.g. after a reconnect to another server address): find
		// the path that does not.
		info, err = p.routeOutside(b.Addr, tunnelIndex)
		if err != nil {
			return failed(err)
		}
	}
	fam := familyOf(b.Addr)
	return sysRoute{
		dst:       netip.PrefixFrom(b.Addr, b.Addr.BitLen()),
		gw:        info.Gateway,
		linkIndex: info.LinkIndex,
		linkName:  info.Link,
		metric:    normMetric(fam, b.Metric),
		table:     normTable(b.Table),
	}, true
}

// ownedMatch reports whether the route a lookup matched is one netconf added.
func (p *pass) ownedMatch(info RouteInfo) bool {
	if !info.Dst.IsValid() {
		return false
	}
	return slices.ContainsFunc(p.e.routes, func(r sysRoute) bool {
		return r.dst == info.Dst && r.table == info.Table && r.metric == info.Metric
	})
}

// routeOutside finds the route to addr in the main table that neither
// netconf added nor leaves through the tunnel: longest prefix, then lowest
// metric. Policy rules are not consulted.
func (p *pass) routeOutside(addr netip.Addr, tunnelIndex int) (RouteInfo, error) {
	rs, err := p.table(familyOf(addr), TableMain)
	if err != nil {
		return RouteInfo{}, fmt.Errorf("netconf: bypass %s: %w", addr, err)
	}
	var best *sysRoute
	for i := range rs {
		r := &rs[i]
		if !r.dst.Contains(addr) || r.linkIndex <= 0 || r.linkIndex == tunnelIndex || p.e.ownsRoute(*r) {
			continue
		}
		if best == nil || r.dst.Bits() > best.dst.Bits() || (r.dst.Bits() == best.dst.Bits() && r.metric < best.metric) {
			best = r
		}
	}
	if best == nil {
		return RouteInfo{}, fmt.Errorf("netconf: bypass %s: %w in the main table: add a route to it that does not use the tunnel", addr, ErrNoRoute)
	}
	return best.info(), nil
}

// removeRoutes deletes the routes netconf added that want does not have,
// newest first. Routes already gone are forgotten silently.
func (p *pass) removeRoutes(want []sysRoute) {
	e := p.e
	var kept []sysRoute
	for i := len(e.routes) - 1; i >= 0; i-- {
		r := e.routes[i]
		if containsRoute(want, r) || !p.proceed() {
			kept = append(kept, r)
			continue
		}
		if err := e.sys.delRoute(r); err != nil {
			if !isGone(err) {
				p.fail(fmt.Errorf("netconf: delete route %s: %w", r, err))
				kept = append(kept, r)
			}
			continue
		}
		e.note("ip route del " + r.String())
		key := p.tableKey(r)
		if rs, ok := p.tables[key]; ok {
			p.tables[key] = slices.DeleteFunc(slices.Clone(rs), r.same)
		}
	}
	slices.Reverse(kept)
	e.routes = kept
}

// removeAddrs deletes the addresses netconf added that are not in want on
// the link with index keep, newest first.
func (p *pass) removeAddrs(keep int, want []Addr) {
	e := p.e
	var kept []ownedAddr
	for i := len(e.addrs) - 1; i >= 0; i-- {
		o := e.addrs[i]
		if (o.link.index == keep && slices.Contains(want, o.addr)) || !p.proceed() {
			kept = append(kept, o)
			continue
		}
		if err := e.sys.delAddr(o.link, o.addr); err != nil {
			if !isGone(err) {
				p.fail(fmt.Errorf("netconf: delete address %s dev %s: %w", o.addr, o.link.name, err))
				kept = append(kept, o)
			}
			continue
		}
		e.note(fmt.Sprintf("ip addr del %s dev %s", o.addr, o.link.name))
		p.forgetTables()
	}
	slices.Reverse(kept)
	e.addrs = kept
}

// setLinks restores links netconf changed that are no longer the Config's,
// and gives the Config's link its MTU and state.
func (p *pass) setLinks(cfg *Config, tunnel link, haveTunnel bool) {
	e := p.e
	for _, idx := range slices.Sorted(maps.Keys(e.links)) {
		if !haveTunnel || idx != tunnel.index {
			p.restoreLink(idx)
		}
	}
	if !haveTunnel {
		return
	}
	j := e.links[tunnel.index]
	if j == nil {
		j = &linkJournal{name: tunnel.name}
	}
	switch {
	case cfg.MTU != 0 && cfg.MTU != tunnel.mtu:
		if p.setMTU(tunnel, cfg.MTU) && !j.mtuChanged {
			j.origMTU, j.mtuChanged = tunnel.mtu, true
		}
	case cfg.MTU == 0 && j.mtuChanged:
		if tunnel.mtu == j.origMTU || p.setMTU(tunnel, j.origMTU) {
			j.mtuChanged = false
		}
	}
	switch {
	case cfg.Up && !tunnel.up:
		if p.setUp(tunnel, true) && !j.upChanged {
			j.origUp, j.upChanged = false, true
		}
	case !cfg.Up && j.upChanged:
		if tunnel.up == j.origUp || p.setUp(tunnel, j.origUp) {
			j.upChanged = false
		}
	}
	if j.mtuChanged || j.upChanged {
		e.links[tunnel.index] = j
	} else {
		delete(e.links, tunnel.index)
	}
}

// restoreLink gives a journaled link back its original MTU and state, and
// forgets it once done or gone.
func (p *pass) restoreLink(idx int) {
	e := p.e
	j := e.links[idx]
	l, err := e.sys.linkByIndex(idx)
	if err != nil || l.name != j.name {
		if err != nil && !isGone(err) {
			p.fail(fmt.Errorf("netconf: find link %s to restore it: %w", j.name, err))
			return
		}
		delete(e.links, idx) // gone (or replaced): nothing to restore
		return
	}
	if j.mtuChanged && (l.mtu == j.origMTU || p.setMTU(l, j.origMTU)) {
		j.mtuChanged = false
	}
	if j.upChanged && (l.up == j.origUp || p.setUp(l, j.origUp)) {
		j.upChanged = false
	}
	if !j.mtuChanged && !j.upChanged {
		delete(e.links, idx)
	}
}

func (p *pass) setMTU(l link, mtu int) bool {
	if !p.proceed() {
		return false
	}
	if err := p.e.sys.setMTU(l, mtu); err != nil {
		p.fail(fmt.Errorf("netconf: set MTU of %s to %d: %w", l.name, mtu, err))
		return false
	}
	p.e.note(fmt.Sprintf("ip link set dev %s mtu %d", l.name, mtu))
	return true
}

func (p *pass) setUp(l link, up bool) bool {
	if !p.proceed() {
		return false
	}
	state := "down"
	if up {
		state = "up"
	}
	if err := p.e.sys.setUp(l, up); err != nil {
		p.fail(fmt.Errorf("netconf: set link %s %s: %w", l.name, state, err))
		return false
	}
	p.e.note(fmt.Sprintf("ip link set dev %s %s", l.name, state))
	p.forgetTables() // the kernel adds or flushes routes with the link state
	return true
}

// addAddrs adds the wanted addresses the link lacks. One that is present
// but was not added by netconf stays unowned.
func (p *pass) addAddrs(l link, want []Addr) {
	if len(want) == 0 {
		return
	}
	e := p.e
	have, err := e.sys.addrs(l)
	if err != nil {
		p.fail(fmt.Errorf("netconf: list addresses of %s: %w", l.name, err))
		return
	}
	for _, a := range want {
		if slices.Contains(have, a) {
			continue
		}
		if !p.proceed() {
			return
		}
		if err := e.sys.addAddr(l, a); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				err = fmt.Errorf("%w (the address is on the host in another form: remove it or use the same prefix length and peer)", err)
			}
			p.fail(fmt.Errorf("netconf: add address %s dev %s: %w", a, l.name, err))
			continue
		}
		e.note(fmt.Sprintf("ip addr add %s dev %s", a, l.name))
		p.forgetTables()
		if !e.ownsAddr(l.index, a) {
			e.addrs = append(e.addrs, ownedAddr{link: l, addr: a})
		}
	}
}

// addRoutes adds the wanted routes the host lacks, in order. One that is
// present but was not added by netconf stays unowned.
func (p *pass) addRoutes(want []sysRoute) {
	e := p.e
	for _, r := range want {
		ok, err := p.present(r)
		if err != nil {
			p.fail(err)
			continue
		}
		if ok {
			continue
		}
		if !p.proceed() {
			return
		}
		if err := e.sys.addRoute(r); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				err = fmt.Errorf("%w (another route with this destination, metric and table is on the host: remove it or give this route another metric)", err)
			}
			p.fail(fmt.Errorf("netconf: add route %s: %w", r, err))
			continue
		}
		e.note("ip route add " + r.String())
		key := p.tableKey(r)
		p.tables[key] = append(slices.Clone(p.tables[key]), r)
		if !e.ownsRoute(r) {
			e.routes = append(e.routes, r)
		}
	}
}
