package netconf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
)

// Family is an IP address family.
type Family int

// The address families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// TableMain is the number of the main routing table, the one a Route or
// Bypass with Table 0 goes to.
const TableMain = 254

// Config is the host network state a Configurator establishes. The zero value
// asks for nothing: applying it reverts everything earlier Configs applied.
type Config struct {
	// Link is the name of the link (normally the tunnel device) that MTU, Up
	// and Addrs apply to, and that routes without their own Link use. It must
	// exist when Set is called.
	Link string

	// MTU, when nonzero, is the MTU in bytes to give Link. Zero leaves the MTU
	// alone (restoring the original if an earlier Config changed it).
	MTU int

	// Up asks for Link to be brought up. False leaves the link state alone
	// (bringing it back down if an earlier Config brought it up).
	Up bool

	// Addrs are the addresses Link should have.
	Addrs []Addr

	// Routes are the routes to add, in order: a route whose gateway is
	// reached through another route of the list must come after it.
	Routes []Route

	// Bypass lists destinations (normally the VPN server's addresses) that
	// must keep the path they had before the tunnel. Each gets a host route
	// through the gateway and link that a route lookup to it returns when it
	// first appears in a Config — before any of this Config's routes are
	// added. They are added before Routes.
	Bypass []Bypass
}

// Addr is an interface address.
//
// Without Peer, Prefix is the address and the length of its on-link subnet:
// 10.8.0.2/24 is `ip addr add 10.8.0.2/24`. With Peer it is a point-to-point
// address as OpenVPN's net30 and p2p topologies use: the local address is
// Prefix.Addr(), the peer Peer, and the prefix length applies to the peer, so
// {10.8.0.6/32, 10.8.0.5} is `ip addr add 10.8.0.6 peer 10.8.0.5/32`.
type Addr struct {
	Prefix netip.Prefix
	Peer   netip.Addr
}

// String formats a in ip(8) syntax.
func (a Addr) String() string {
	if a.Peer.IsValid() {
		return fmt.Sprintf("%s peer %s", a.Prefix.Addr(), netip.PrefixFrom(a.Peer, a.Prefix.Bits()))
	}
	return a.Prefix.String()
}

// Route is a unicast route.
type Route struct {
	// Dst is the destination. It must not have host bits set.
	Dst netip.Prefix
	// Gateway is the next hop; the zero Addr makes Dst on-link.
	Gateway netip.Addr
	// Link is the outgoing link; "" means Config.Link.
	Link string
	// Metric is the route priority, lower wins; 0 is the kernel default
	// (0 for IPv4, 1024 for IPv6).
	Metric int
	// Table is the routing table; 0 means the main table.
	Table int
}

// String formats r in ip(8) syntax.
func (r Route) String() string {
	var b strings.Builder
	b.WriteString(r.Dst.String())
	if r.Gateway.IsValid() {
		b.WriteString(" via " + r.Gateway.String())
	}
	if r.Link != "" {
		b.WriteString(" dev " + r.Link)
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	if r.Table != 0 && r.Table != TableMain {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	return b.String()
}

// Bypass is a destination that keeps its pre-tunnel path through a host
// route (/32 or /128). An IPv4-mapped IPv6 address counts as IPv4.
type Bypass struct {
	Addr netip.Addr
	// Metric and Table are those of the host route, as in Route.
	Metric int
	Table  int
}

// RouteInfo describes the route the host uses to reach a destination.
type RouteInfo struct {
	// Dst is the destination prefix of the matching route (0.0.0.0/0 for a
	// default route). RouteTo leaves it zero on kernels that cannot report
	// the match (before Linux 4.13).
	Dst netip.Prefix
	// Gateway is the next hop, or the zero Addr if the destination is on-link.
	Gateway netip.Addr
	// Link and LinkIndex identify the outgoing link.
	Link      string
	LinkIndex int
	// Src is the preferred source address: the kernel's choice for RouteTo,
	// the route's own (often none) for DefaultRoutes.
	Src netip.Addr
	// Metric and Table are those of the matching route.
	Metric int
	Table  int
	// Local reports whether the destination is an address of this host.
	Local bool
}

// Configurator applies Configs to a host and reverts them. Implementations
// are safe for concurrent use; calls are serialized. Netlink requests cannot
// be cancelled: a done ctx stops Set between two changes, not during one.
type Configurator interface {
	// Set makes the host match cfg (nil means the zero Config): it reverts
	// what earlier Configs added and cfg no longer wants, re-adds what went
	// missing, and adds the rest. It is idempotent. It applies as much of
	// cfg as it can and returns every failure, joined; what was applied is
	// journaled either way, so Close reverts it. An invalid cfg is rejected
	// before anything changes.
	Set(ctx context.Context, cfg *Config) error

	// RouteTo returns the route the host currently uses to reach dst
	// (`ip route get`), including any route this Configurator added.
	RouteTo(ctx context.Context, dst netip.Addr) (RouteInfo, error)

	// DefaultRoutes returns the unicast default routes of family fam in the
	// main table, lowest metric first; none is not an error. Multipath
	// routes are not reported.
	DefaultRoutes(ctx context.Context, fam Family) ([]RouteInfo, error)

	// Close reverts every change Set made, newest first, and releases the
	// Configurator: routes and addresses it added are removed, MTU and link
	// state restored. Later calls to Set return ErrClosed. If a change
	// cannot be reverted Close returns the errors and keeps it journaled:
	// calling Close again retries. Close after a successful Close returns nil.
	Close() error
}

// ErrClosed is returned by Set, RouteTo and DefaultRoutes after Close.
var ErrClosed = errors.New("netconf: configurator is closed")

// ErrNoRoute is wrapped by the error Set returns when a Bypass address has
// no route outside the tunnel.
var ErrNoRoute = errors.New("no route outside the tunnel")

// maxLinkName is IFNAMSIZ-1.
const maxLinkName = 15

func checkLinkName(name string) error {
	if name == "" || len(name) > maxLinkName || name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\r\v\f") {
		return fmt.Errorf("netconf: %q is not a valid link name (1 to %d bytes, no '/', ':' or spaces)", name, maxLinkName)
	}
	return nil
}

func checkMetricTable(what string, metric, table int) error {
	if metric < 0 || int64(metric) > math.MaxUint32 {
		return fmt.Errorf("netconf: %s: metric %d is out of range 0..%d", what, metric, uint32(math.MaxUint32))
	}
	if table < 0 || int64(table) > math.MaxUint32 {
		return fmt.Errorf("netconf: %s: table %d is out of range 0..%d", what, table, uint32(math.MaxUint32))
	}
	return nil
}

// validate reports every problem of c, joined, or nil.
func (c *Config) validate() error {
	var errs []error
	if c.Link != "" {
		if err := checkLinkName(c.Link); err != nil {
			errs = append(errs, err)
		}
	} else if c.MTU != 0 || c.Up || len(c.Addrs) > 0 {
		errs = append(errs, errors.New("netconf: MTU, Up and Addrs need Config.Link: name the link they apply to"))
	}
	if c.MTU != 0 && (c.MTU < 68 || c.MTU > 65535) {
		errs = append(errs, fmt.Errorf("netconf: MTU %d is out of range: use 68..65535, or 0 to leave it alone", c.MTU))
	}
	for _, a := range c.Addrs {
		p := a.Prefix
		switch {
		case !p.IsValid():
			errs = append(errs, fmt.Errorf("netconf: address %q is not a valid prefix", a.Prefix))
		case p.Addr().Is4In6() || a.Peer.Is4In6():
			errs = append(errs, fmt.Errorf("netconf: address %s is IPv4-mapped IPv6: give IPv4 addresses in IPv4 form", a))
		case p.Addr().IsUnspecified():
			errs = append(errs, fmt.Errorf("netconf: address %s is unspecified", a))
		case a.Peer.IsValid() && a.Peer.Is4() != p.Addr().Is4():
			errs = append(errs, fmt.Errorf("netconf: address %s mixes IPv4 and IPv6", a))
		}
	}
	for _, r := range c.Routes {
		switch {
		case !r.Dst.IsValid():
			errs = append(errs, fmt.Errorf("netconf: route %q: destination is not a valid prefix", r.Dst))
			continue
		case r.Dst.Addr().Is4In6() || r.Gateway.Is4In6():
			errs = append(errs, fmt.Errorf("netconf: route %s is IPv4-mapped IPv6: give IPv4 routes in IPv4 form", r))
		case r.Dst != r.Dst.Masked():
			errs = append(errs, fmt.Errorf("netconf: route %s: destination has host bits set: use %s", r, r.Dst.Masked()))
		case r.Gateway.IsValid() && r.Gateway.Is4() != r.Dst.Addr().Is4():
			errs = append(errs, fmt.Errorf("netconf: route %s mixes IPv4 and IPv6", r))
		}
		if r.Link == "" && c.Link == "" {
			errs = append(errs, fmt.Errorf("netconf: route %s has no link: set Route.Link or Config.Link", r))
		} else if r.Link != "" {
			if err := checkLinkName(r.Link); err != nil {
				errs = append(errs, fmt.Errorf("netconf: route %s: %w", r, err))
			}
		}
		if err := checkMetricTable("route "+r.String(), r.Metric, r.Table); err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range c.Bypass {
		if !b.Addr.IsValid() || b.Addr.Unmap().IsUnspecified() {
			errs = append(errs, fmt.Errorf("netconf: bypass address %q is not a usable address", b.Addr))
			continue
		}
		if err := checkMetricTable("bypass "+b.Addr.String(), b.Metric, b.Table); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
