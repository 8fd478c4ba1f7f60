package netconf

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Recorder is a Configurator that leaves the host alone: it applies Configs
// to an in-memory model of a host, with the same diff logic as the Linux
// implementation, and records every change it makes as an ip(8) command line
// such as "ip route add 0.0.0.0/1 via 10.8.0.5 dev tun0". It is meant for
// tests of code that drives a Configurator, without root.
//
// The model starts with only "lo" (index 1, 127.0.0.1/8 and ::1/128); AddLink,
// AddAddr and AddRoute describe the rest of the host without being recorded.
// It behaves like Linux where that matters to a caller: adding what exists
// fails with EEXIST, removing what does not with ESRCH or EADDRNOTAVAIL, an
// address on an up link brings its prefix route, a link going down loses its
// routes and IPv6 addresses, a route needs its link up and its gateway
// on-link, and lookups pick the longest prefix, then the lowest metric, in
// the main table (there are no policy rules or local table).
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	e *engine
	h *fakeHost
}

var _ Configurator = (*Recorder)(nil)

// NewRecorder returns a Recorder whose model host has only the loopback link.
func NewRecorder() *Recorder {
	h := &fakeHost{links: map[int]*fakeLink{}, next: 1}
	lo := h.newLink("lo", 65536, true)
	h.seedAddr(lo, Addr{Prefix: netip.MustParsePrefix("127.0.0.1/8")})
	h.seedAddr(lo, Addr{Prefix: netip.MustParsePrefix("::1/128")})
	return &Recorder{e: newEngine(h, nil), h: h}
}

// Set implements Configurator.
func (r *Recorder) Set(ctx context.Context, cfg *Config) error { return r.e.Set(ctx, cfg) }

// RouteTo implements Configurator.
func (r *Recorder) RouteTo(ctx context.Context, dst netip.Addr) (RouteInfo, error) {
	return r.e.RouteTo(ctx, dst)
}

// DefaultRoutes implements Configurator.
func (r *Recorder) DefaultRoutes(ctx context.Context, fam Family) ([]RouteInfo, error) {
	return r.e.DefaultRoutes(ctx, fam)
}

// Close implements Configurator.
func (r *Recorder) Close() error { return r.e.Close() }

// Lines returns the changes recorded since NewRecorder or the last Reset,
// oldest first.
func (r *Recorder) Lines() []string {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	return slices.Clone(r.h.lines)
}

// Reset forgets the recorded lines.
func (r *Recorder) Reset() {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.lines = nil
}

// FailOn makes every later change whose line starts with prefix fail with
// err, without changing the model; a nil err removes the rule.
func (r *Recorder) FailOn(prefix string, err error) {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.fails = slices.DeleteFunc(r.h.fails, func(f failRule) bool { return f.prefix == prefix })
	if err != nil {
		r.h.fails = append(r.h.fails, failRule{prefix, err})
	}
}

// AddLink adds a link with the next free index to the model host.
func (r *Recorder) AddLink(name string, mtu int, up bool) error {
	if err := checkLinkName(name); err != nil {
		return err
	}
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	if r.h.byName(name) != nil {
		return fmt.Errorf("netconf: recorder: link %s exists", name)
	}
	r.h.newLink(name, mtu, up)
	return nil
}

// RemoveLink removes a link, its addresses and its routes from the model
// host, as when a tun device is closed.
func (r *Recorder) RemoveLink(name string) error {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	l := r.h.byName(name)
	if l == nil {
		return fmt.Errorf("netconf: recorder: link %s: %w", name, errLinkNotFound)
	}
	delete(r.h.links, l.index)
	r.h.flushRoutes(l.index)
	return nil
}

// AddAddr adds an address to a link of the model host.
func (r *Recorder) AddAddr(linkName string, a Addr) error {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	l := r.h.byName(linkName)
	if l == nil {
		return fmt.Errorf("netconf: recorder: link %s: %w", linkName, errLinkNotFound)
	}
	return r.h.seedAddr(l, a)
}

// AddRoute adds a route to the model host; rt.Link must be set.
func (r *Recorder) AddRoute(rt Route) error {
	if err := (&Config{Routes: []Route{rt}}).validate(); err != nil {
		return err
	}
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	l := r.h.byName(rt.Link)
	if l == nil {
		return fmt.Errorf("netconf: recorder: link %s: %w", rt.Link, errLinkNotFound)
	}
	sr := sysRoute{dst: rt.Dst, gw: rt.Gateway, linkIndex: l.index, linkName: l.name,
		metric: normMetric(familyOf(rt.Dst.Addr()), rt.Metric), table: normTable(rt.Table)}
	if err := r.h.checkRoute(sr); err != nil {
		return fmt.Errorf("netconf: recorder: add route %s: %w", sr, err)
	}
	r.h.rtab = append(r.h.rtab, fakeRoute{sysRoute: sr})
	return nil
}

// State describes the model host, one line per link, address and route, in
// a stable order: compare two States to check that a host was restored.
func (r *Recorder) State() []string {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	var out []string
	for _, idx := range r.h.indexes() {
		l := r.h.links[idx]
		state := "down"
		if l.up {
			state = "up"
		}
		out = append(out, fmt.Sprintf("link %d %s mtu %d %s", l.index, l.name, l.mtu, state))
		for _, a := range l.addrs {
			out = append(out, fmt.Sprintf("addr %s dev %s", a, l.name))
		}
	}
	var routes []string
	for _, fr := range r.h.rtab {
		s := "route " + fr.String()
		if fr.kernel {
			s += " proto kernel"
		}
		routes = append(routes, s)
	}
	slices.Sort(routes)
	return append(out, routes...)
}

// fakeHost is the Recorder's model host: the system behind its engine.
type fakeHost struct {
	mu    sync.Mutex
	links map[int]*fakeLink
	next  int
	rtab  []fakeRoute // every route of every table
	lines []string
	fails []failRule
}

type fakeLink struct {
	link
	addrs []Addr
}

// fakeRoute is a route of the model; kernel marks prefix routes the model
// added for an address.
type fakeRoute struct {
	sysRoute
	kernel bool
}

type failRule struct {
	prefix string
	err    error
}

func (h *fakeHost) newLink(name string, mtu int, up bool) *fakeLink {
	l := &fakeLink{link: link{index: h.next, name: name, mtu: mtu, up: up}}
	h.links[l.index] = l
	h.next++
	return l
}

func (h *fakeHost) indexes() []int {
	idx := make([]int, 0, len(h.links))
	for i := range h.links {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

func (h *fakeHost) byName(name string) *fakeLink {
	for _, l := range h.links {
		if l.name == name {
			return l
		}
	}
	return nil
}

// get returns the model's link l; l may be stale (renamed, or gone).
func (h *fakeHost) get(l link) (*fakeLink, error) {
	fl := h.links[l.index]
	if fl == nil {
		return nil, syscall.ENODEV
	}
	return fl, nil
}

// commit records line as a change, unless a FailOn rule refuses it.
func (h *fakeHost) commit(line string) error {
	for _, f := range h.fails {
		if strings.HasPrefix(line, f.prefix) {
			return f.err
		}
	}
	h.lines = append(h.lines, line)
	return nil
}

// prefixRoute is the route Linux adds for an address: to the peer's prefix,
// or to the address's subnet unless it is a host address.
func prefixRoute(l *fakeLink, a Addr) (sysRoute, bool) {
	var dst netip.Prefix
	switch {
	case a.Peer.IsValid():
		dst = netip.PrefixFrom(a.Peer, a.Prefix.Bits()).Masked()
	case a.Prefix.Bits() == a.Prefix.Addr().BitLen():
		return sysRoute{}, false
	default:
		dst = a.Prefix.Masked()
	}
	metric := 0
	if familyOf(dst.Addr()) == IPv6 {
		metric = 256
	}
	return sysRoute{dst: dst, linkIndex: l.index, linkName: l.name, src: a.Prefix.Addr(), metric: metric, table: TableMain}, true
}

func (h *fakeHost) addPrefixRoute(l *fakeLink, a Addr) {
	if r, ok := prefixRoute(l, a); ok && !slices.ContainsFunc(h.rtab, func(o fakeRoute) bool { return o.same(r) }) {
		h.rtab = append(h.rtab, fakeRoute{sysRoute: r, kernel: true})
	}
}

func (h *fakeHost) flushRoutes(index int) {
	h.rtab = slices.DeleteFunc(h.rtab, func(r fakeRoute) bool { return r.linkIndex == index })
}

func addrConflict(have []Addr, a Addr) bool {
	return slices.ContainsFunc(have, func(o Addr) bool {
		return o == a || (familyOf(a.Prefix.Addr()) == IPv6 && o.Prefix.Addr() == a.Prefix.Addr())
	})
}

func (h *fakeHost) seedAddr(l *fakeLink, a Addr) error {
	if addrConflict(l.addrs, a) {
		return fmt.Errorf("netconf: recorder: add address %s dev %s: %w", a, l.name, syscall.EEXIST)
	}
	l.addrs = append(l.addrs, a)
	if l.up {
		h.addPrefixRoute(l, a)
	}
	return nil
}

// checkRoute reports why r cannot be added to the model, or nil.
func (h *fakeHost) checkRoute(r sysRoute) error {
	l := h.links[r.linkIndex]
	if l == nil {
		return syscall.ENODEV
	}
	if !l.up {
		return syscall.ENETDOWN
	}
	fam := familyOf(r.dst.Addr())
	if slices.ContainsFunc(h.rtab, func(o fakeRoute) bool {
		return familyOf(o.dst.Addr()) == fam && o.table == r.table && o.dst == r.dst && o.metric == r.metric
	}) {
		return syscall.EEXIST
	}
	if r.gw.IsValid() && !r.gw.IsLinkLocalUnicast() && !slices.ContainsFunc(h.rtab, func(o fakeRoute) bool {
		return o.linkIndex == r.linkIndex && !o.gw.IsValid() && o.dst.Contains(r.gw) && (o.table == r.table || o.table == TableMain)
	}) {
		return syscall.ENETUNREACH
	}
	return nil
}

// The system interface.

func (h *fakeHost) linkByName(name string) (link, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.byName(name); l != nil {
		return l.link, nil
	}
	return link{}, fmt.Errorf("%w: %s", errLinkNotFound, name)
}

func (h *fakeHost) linkByIndex(index int) (link, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.links[index]; l != nil {
		return l.link, nil
	}
	return link{}, fmt.Errorf("%w: index %d", errLinkNotFound, index)
}

func (h *fakeHost) setMTU(l link, mtu int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fl, err := h.get(l)
	if err != nil {
		return err
	}
	if err := h.commit(fmt.Sprintf("ip link set dev %s mtu %d", fl.name, mtu)); err != nil {
		return err
	}
	fl.mtu = mtu
	return nil
}

func (h *fakeHost) setUp(l link, up bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fl, err := h.get(l)
	if err != nil {
		return err
	}
	state := "down"
	if up {
		state = "up"
	}
	if err := h.commit(fmt.Sprintf("ip link set dev %s %s", fl.name, state)); err != nil {
		return err
	}
	if fl.up == up {
		return nil
	}
	fl.up = up
	if up {
		for _, a := range fl.addrs {
			h.addPrefixRoute(fl, a)
		}
		return nil
	}
	h.flushRoutes(fl.index)
	fl.addrs = slices.DeleteFunc(fl.addrs, func(a Addr) bool { return familyOf(a.Prefix.Addr()) == IPv6 })
	return nil
}

func (h *fakeHost) addrs(l link) ([]Addr, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fl, err := h.get(l)
	if err != nil {
		return nil, err
	}
	return slices.Clone(fl.addrs), nil
}

func (h *fakeHost) addAddr(l link, a Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fl, err := h.get(l)
	if err != nil {
		return err
	}
	if addrConflict(fl.addrs, a) {
		return syscall.EEXIST
	}
	if err := h.commit(fmt.Sprintf("ip addr add %s dev %s", a, fl.name)); err != nil {
		return err
	}
	fl.addrs = append(fl.addrs, a)
	if fl.up {
		h.addPrefixRoute(fl, a)
	}
	return nil
}

func (h *fakeHost) delAddr(l link, a Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fl, err := h.get(l)
	if err != nil {
		return err
	}
	i := slices.Index(fl.addrs, a)
	if i < 0 {
		return syscall.EADDRNOTAVAIL
	}
	if err := h.commit(fmt.Sprintf("ip addr del %s dev %s", a, fl.name)); err != nil {
		return err
	}
	fl.addrs = slices.Delete(fl.addrs, i, i+1)
	if r, ok := prefixRoute(fl, a); ok {
		h.rtab = slices.DeleteFunc(h.rtab, func(o fakeRoute) bool { return o.kernel && o.same(r) })
	}
	return nil
}

func (h *fakeHost) routes(fam Family, table int) ([]sysRoute, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sysRoute
	for _, r := range h.rtab {
		if familyOf(r.dst.Addr()) == fam && r.table == table {
			out = append(out, r.sysRoute)
		}
	}
	return out, nil
}

func (h *fakeHost) addRoute(r sysRoute) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.checkRoute(r); err != nil {
		return err
	}
	if err := h.commit("ip route add " + r.String()); err != nil {
		return err
	}
	h.rtab = append(h.rtab, fakeRoute{sysRoute: r})
	return nil
}

func (h *fakeHost) delRoute(r sysRoute) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.IndexFunc(h.rtab, func(o fakeRoute) bool { return o.same(r) })
	if i < 0 {
		return syscall.ESRCH
	}
	if err := h.commit("ip route del " + r.String()); err != nil {
		return err
	}
	h.rtab = slices.Delete(h.rtab, i, i+1)
	return nil
}

func (h *fakeHost) routeGet(dst netip.Addr) (RouteInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, idx := range h.indexes() {
		for _, a := range h.links[idx].addrs {
			if a.Prefix.Addr() == dst {
				lo := h.links[1]
				return RouteInfo{Dst: netip.PrefixFrom(dst, dst.BitLen()), Link: lo.name, LinkIndex: lo.index, Src: dst, Table: 255, Local: true}, nil
			}
		}
	}
	var best *fakeRoute
	for i := range h.rtab {
		r := &h.rtab[i]
		if r.table != TableMain || !r.dst.Contains(dst) {
			continue
		}
		if best == nil || r.dst.Bits() > best.dst.Bits() || (r.dst.Bits() == best.dst.Bits() && r.metric < best.metric) {
			best = r
		}
	}
	if best == nil {
		return RouteInfo{}, syscall.ENETUNREACH
	}
	info := best.info()
	if l := h.links[best.linkIndex]; l != nil {
		info.Link = l.name
		if !info.Src.IsValid() {
			for _, a := range l.addrs {
				if a.Prefix.Addr().Is4() == dst.Is4() {
					info.Src = a.Prefix.Addr()
					break
				}
			}
		}
	}
	return info, nil
}

func (h *fakeHost) close() error { return nil }
