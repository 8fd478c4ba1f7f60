package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/netconf"
	"github.com/openvpn-go/openvpn-go/tun"
)

// Tunnel is the local side of a connection: it creates the tunnel device
// and brings the host's addresses and routes to the wanted state, and
// reverts all of it. The OS implementation uses a tun device and netlink;
// tests and embedders (mobile platforms, a privileged helper) provide
// their own.
type Tunnel interface {
	// Up creates the device described by spec and applies spec.Net with
	// spec.Net.Link set to the device's name. If the device exists but part
	// of the configuration failed (a route the kernel refused), Up returns
	// the device and a *RouteError: the tunnel works, as with openvpn's
	// ROUTE_ERROR. Any other error means there is no device; Down must still
	// be called to revert what was applied.
	//
	// The client calls Up with the device's addresses only, and Apply
	// afterwards for the routes, so that the up script runs between the two
	// as in openvpn.
	Up(ctx context.Context, spec TunnelSpec) (tun.Device, error)
	// Apply brings the host configuration of the device created by Up to
	// cfg (cfg.Link is set to the device's name): the routes are added after
	// the up script and removed before the device closes. A failure is a
	// *RouteError: the device keeps working.
	Apply(ctx context.Context, cfg netconf.Config) error
	// Down reverts everything Up and Apply did (routes, addresses, the
	// device).
	Down() error
	// RouteTo returns the host's current route to dst (for net_gateway and
	// the host route to the server).
	RouteTo(ctx context.Context, dst netip.Addr) (netconf.RouteInfo, error)
}

// TunnelSpec describes the tunnel a connection wants.
type TunnelSpec struct {
	// Device is the "dev" name ("tun", "tun0", "tap"...); Kind its type.
	Device string
	Kind   tun.Kind
	// MTU is the device MTU (tun-mtu, possibly pushed).
	MTU int
	// Net is the host configuration (addresses and routes); Link is filled
	// in by Up. With ifconfig-noexec/route-noexec the corresponding parts
	// are empty: scripts apply them.
	Net netconf.Config
	// addr4/addr6 are the tunnel addresses for status output.
	addr4, addr6 netip.Addr
}

// withoutRoutes is the spec with addresses only: what exists while the up
// script runs.
func (s TunnelSpec) withoutRoutes() TunnelSpec {
	s.Net.Routes, s.Net.Bypass = nil, nil
	return s
}

// Addr4 returns the tunnel's IPv4 address, if any.
func (s TunnelSpec) Addr4() netip.Addr { return s.addr4 }

// Addr6 returns the tunnel's IPv6 address, if any.
func (s TunnelSpec) Addr6() netip.Addr { return s.addr6 }

// osTunnel is the Tunnel of the host: a tun device and netlink.
type osTunnel struct {
	log *slog.Logger

	mu  sync.Mutex
	nc  netconf.Configurator
	dev tun.Device
}

// NewOSTunnel returns the Tunnel of the operating system.
func NewOSTunnel(log *slog.Logger) Tunnel { return &osTunnel{log: log} }

func (t *osTunnel) configurator() (netconf.Configurator, error) {
	if t.nc == nil {
		nc, err := netconf.New(t.log)
		if err != nil {
			return nil, err
		}
		t.nc = nc
	}
	return t.nc, nil
}

func (t *osTunnel) RouteTo(ctx context.Context, dst netip.Addr) (netconf.RouteInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	nc, err := t.configurator()
	if err != nil {
		return netconf.RouteInfo{}, err
	}
	return nc.RouteTo(ctx, dst)
}

func (t *osTunnel) Up(ctx context.Context, spec TunnelSpec) (tun.Device, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	nc, err := t.configurator()
	if err != nil {
		return nil, err
	}
	dev, err := tun.Create(spec.Device, spec.MTU, spec.Kind)
	if err != nil {
		return nil, err
	}
	name, err := dev.Name()
	if err != nil {
		dev.Close()
		return nil, err
	}
	t.dev = dev
	cfg := spec.Net
	cfg.Link = name
	if err := nc.Set(ctx, &cfg); err != nil {
		return dev, &RouteError{Err: err}
	}
	return dev, nil
}

func (t *osTunnel) Apply(ctx context.Context, cfg netconf.Config) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dev == nil || t.nc == nil {
		return errors.New("client: no tunnel device to configure")
	}
	name, err := t.dev.Name()
	if err != nil {
		return &RouteError{Err: err}
	}
	cfg.Link = name
	if err := t.nc.Set(ctx, &cfg); err != nil {
		return &RouteError{Err: err}
	}
	return nil
}

// RouteError reports that the tunnel is up but part of the host
// configuration (usually a route) could not be applied.
type RouteError struct{ Err error }

func (e *RouteError) Error() string { return "route set-up: " + e.Err.Error() }
func (e *RouteError) Unwrap() error { return e.Err }

func (t *osTunnel) Down() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	if t.nc != nil {
		err = t.nc.Close()
		t.nc = nil
	}
	if t.dev != nil {
		if cerr := t.dev.Close(); err == nil {
			err = cerr
		}
		t.dev = nil
	}
	return err
}

// ctxTunnel bounds network set-up.
func (cn *conn) ctxTunnel() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_ = cancel // released when the timeout fires; set-up is short
	return ctx
}

// IPv6 destinations of redirect-gateway ipv6 (init.c): more specific than
// ::/0 so the original default route stays.
var redirect6 = []netip.Prefix{
	netip.MustParsePrefix("::/3"),
	netip.MustParsePrefix("2000::/4"),
	netip.MustParsePrefix("3000::/4"),
	netip.MustParsePrefix("fc00::/7"),
}

var def1 = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/1"), netip.MustParsePrefix("128.0.0.0/1")}

// tunnelSpec computes the device, addresses and routes from the profile and
// the push, and the script environment describing them.
func (cn *conn) tunnelSpec() (TunnelSpec, *scriptEnv, error) {
	o, p := cn.o, &cn.push.p
	ctx := cn.ctxTunnel()
	spec := TunnelSpec{Device: o.Device.Name, MTU: cn.t.entry.TunMTU}
	kind := tun.TUN
	if o.Device.Type == config.DevTap {
		kind = tun.TAP
	}
	spec.Kind = kind
	if p.TunMTU > 0 {
		spec.MTU = p.TunMTU
	}
	if spec.MTU == 0 {
		spec.MTU = 1500
	}
	env := newScriptEnv(o, cn)
	env.set("tun_mtu", fmt.Sprint(spec.MTU))
	nc := &spec.Net
	nc.MTU = spec.MTU
	nc.Up = true

	topology := o.Device.Topology
	if p.TopologySet {
		topology = p.Topology
	}
	local, remote := o.Ifconfig.Local, o.Ifconfig.Remote
	if p.Ifconfig.IsValid() {
		local, remote = p.Ifconfig, p.IfconfigRemote
	}
	subnet := topology == config.TopologySubnet || kind == tun.TAP
	var vpnGW netip.Addr
	if local.IsValid() {
		spec.addr4 = local
		env.set("ifconfig_local", local.String())
		if subnet {
			bits := maskBits(remote)
			if bits < 0 {
				return spec, nil, fmt.Errorf("client: ifconfig netmask %s is not a valid netmask", remote)
			}
			env.set("ifconfig_netmask", remote.String())
			if !o.Ifconfig.NoExec && !p.IfconfigNoExec {
				nc.Addrs = append(nc.Addrs, netconf.Addr{Prefix: netip.PrefixFrom(local, bits)})
			}
		} else {
			env.set("ifconfig_remote", remote.String())
			vpnGW = remote
			if !o.Ifconfig.NoExec && !p.IfconfigNoExec {
				nc.Addrs = append(nc.Addrs, netconf.Addr{Prefix: netip.PrefixFrom(local, 32), Peer: remote})
			}
		}
	}
	v6, v6remote := o.Ifconfig.IPv6, o.Ifconfig.IPv6Remote
	if p.IfconfigIPv6.IsValid() {
		v6, v6remote = p.IfconfigIPv6, p.IfconfigIPv6Remote
	}
	if v6.IsValid() {
		spec.addr6 = v6.Addr()
		env.set("ifconfig_ipv6_local", v6.Addr().String())
		env.set("ifconfig_ipv6_netbits", fmt.Sprint(v6.Bits()))
		if v6remote.IsValid() {
			env.set("ifconfig_ipv6_remote", v6remote.String())
		}
		if !o.Ifconfig.NoExec && !p.IfconfigNoExec {
			nc.Addrs = append(nc.Addrs, netconf.Addr{Prefix: v6})
		}
	}
	// route-gateway (pushed or configured) overrides the p2p remote.
	if p.RouteGateway.IsValid() {
		vpnGW = p.RouteGateway
	} else if o.Routing.Gateway.IsValid() {
		vpnGW = o.Routing.Gateway
	}
	if vpnGW.IsValid() {
		env.set("route_vpn_gateway", vpnGW.String())
	}
	// The pre-tunnel path, for net_gateway and the host route to the server.
	var netGW netconf.RouteInfo
	if ri, err := cn.c.cfg.Tunnel.RouteTo(ctx, netip.MustParseAddr("8.8.8.8")); err == nil {
		netGW = ri
		if ri.Gateway.IsValid() {
			env.set("route_net_gateway", ri.Gateway.String())
		}
	}
	if ri, err := cn.c.cfg.Tunnel.RouteTo(ctx, netip.MustParseAddr("2001:4860:4860::8888")); err == nil && ri.Gateway.IsValid() {
		env.set("net_gateway_ipv6", ri.Gateway.String())
	}

	metric := o.Routing.Metric
	if p.RouteMetricSet {
		metric = p.RouteMetric
	}
	routeNoExec := o.Routing.NoExec
	var routes []netconf.Route
	add := func(r netconf.Route) {
		if !slices.ContainsFunc(routes, func(x netconf.Route) bool { return x.Dst == r.Dst && x.Table == r.Table }) {
			routes = append(routes, r)
		}
	}
	// IPv4 routes: configured, then pushed (route-nopull is applied by Pushed).
	v4routes := append(slices.Clone(o.Routing.Routes), p.Routes...)
	n := 0
	for _, r := range v4routes {
		dst, gw, err := cn.resolveRoute(r, vpnGW, netGW)
		if err != nil {
			cn.c.log.Warn(fmt.Sprintf("route %s: %v (skipped)", r.Network, err))
			continue
		}
		m := metric
		if r.MetricSet {
			m = r.Metric
		}
		rt := netconf.Route{Dst: dst.Masked(), Gateway: gw, Metric: m}
		if strings.TrimSpace(r.Gateway) == "net_gateway" && netGW.Link != "" {
			rt.Link = netGW.Link // outside the tunnel
		}
		n++
		env.set(fmt.Sprintf("route_network_%d", n), dst.Addr().String())
		env.set(fmt.Sprintf("route_netmask_%d", n), bitsMask(dst.Bits()).String())
		if gw.IsValid() {
			env.set(fmt.Sprintf("route_gateway_%d", n), gw.String())
		}
		env.set(fmt.Sprintf("route_metric_%d", n), fmt.Sprint(m))
		add(rt)
	}
	n6 := 0
	for _, r := range append(slices.Clone(o.Routing.Routes6), p.Routes6...) {
		m := metric
		if r.MetricSet {
			m = r.Metric
		}
		n6++
		env.set(fmt.Sprintf("route_ipv6_network_%d", n6), r.Prefix.String())
		if r.Gateway.IsValid() {
			env.set(fmt.Sprintf("route_ipv6_gateway_%d", n6), r.Gateway.String())
		}
		add(netconf.Route{Dst: r.Prefix.Masked(), Gateway: r.Gateway, Metric: m})
	}
	// redirect-gateway: pushed flags replace configured ones.
	rg := o.Routing.RedirectGateway
	if p.RedirectGateway != nil {
		rg = p.RedirectGateway
	}
	if rg != nil {
		if rg.IPv4 && !rg.Private {
			if !vpnGW.IsValid() {
				return spec, nil, fmt.Errorf("client: redirect-gateway needs the VPN gateway: the server pushed no route-gateway and no p2p ifconfig")
			}
			// def1 or not, two /1 routes: they take precedence over the
			// default route without replacing it, so nothing is lost if we
			// die (openvpn without def1 deletes and restores the default).
			for _, d := range def1 {
				add(netconf.Route{Dst: d, Gateway: vpnGW, Metric: metric})
			}
			if rg.BlockLocal && netGW.Link != "" {
				cn.blockLocal(ctx, netGW, vpnGW, metric, add)
			}
		}
		if rg.IPv6 {
			for _, d := range redirect6 {
				add(netconf.Route{Dst: d, Metric: metric})
			}
		}
		env.set("redirect_gateway", "1")
	}
	if !routeNoExec {
		nc.Routes = routes
		// Keep the server reachable outside the tunnel whenever a route we
		// add would capture its address, for IPv4 and IPv6 alike (unless
		// redirect-gateway local says the server is on the local network).
		server := cn.t.addr.Addr()
		local := rg != nil && (rg.Local || rg.AutoLocal)
		if !local && slices.ContainsFunc(routes, func(r netconf.Route) bool { return r.Dst.Contains(server) }) {
			nc.Bypass = append(nc.Bypass, netconf.Bypass{Addr: server})
		}
	}
	cn.dnsEnv(env)
	return spec, env, nil
}

// resolveRoute turns a route line into a destination and gateway.
func (cn *conn) resolveRoute(r config.Route, vpnGW netip.Addr, netGW netconf.RouteInfo) (netip.Prefix, netip.Addr, error) {
	dst := r.Prefix
	switch r.Network {
	case "vpn_gateway":
		dst = netip.PrefixFrom(vpnGW, 32)
	case "net_gateway":
		dst = netip.PrefixFrom(netGW.Gateway, 32)
	case "remote_host":
		dst = netip.PrefixFrom(cn.t.addr.Addr(), 32)
	}
	if !dst.IsValid() || !dst.Addr().Is4() {
		return dst, netip.Addr{}, fmt.Errorf("destination %q is not an IPv4 address", r.Network)
	}
	var gw netip.Addr
	switch g := strings.TrimSpace(r.Gateway); g {
	case "", "vpn_gateway":
		gw = vpnGW
	case "net_gateway":
		gw = netGW.Gateway
	case "remote_host":
		gw = cn.t.addr.Addr()
	default:
		a, err := netip.ParseAddr(g)
		if err != nil {
			return dst, gw, fmt.Errorf("gateway %q is not an address", g)
		}
		gw = a
	}
	if !gw.IsValid() {
		return dst, gw, fmt.Errorf("no gateway (no route-gateway pushed)")
	}
	return dst, gw, nil
}

// blockLocal routes the local LAN through the tunnel (redirect-gateway
// block-local), except the gateway itself: each local subnet is added as two
// halves so they win over the kernel's on-link route.
func (cn *conn) blockLocal(ctx context.Context, netGW netconf.RouteInfo, vpnGW netip.Addr, metric int, add func(netconf.Route)) {
	if !netGW.Src.IsValid() {
		return
	}
	// The local subnet is the one containing our source address on the
	// uplink; without its prefix length, assume a /24 as a common LAN.
	ri, err := cn.c.cfg.Tunnel.RouteTo(ctx, netGW.Src)
	if err != nil {
		return
	}
	_ = ri
	for bits := 24; bits == 24; bits++ {
		lan := netip.PrefixFrom(netGW.Src, bits).Masked()
		lo := netip.PrefixFrom(lan.Addr(), bits+1)
		hiAddr := lan.Addr().As4()
		hiAddr[3] |= 0x80
		hi := netip.PrefixFrom(netip.AddrFrom4(hiAddr), bits+1)
		add(netconf.Route{Dst: lo, Gateway: vpnGW, Metric: metric})
		add(netconf.Route{Dst: hi, Gateway: vpnGW, Metric: metric})
	}
	if netGW.Gateway.IsValid() {
		add(netconf.Route{Dst: netip.PrefixFrom(netGW.Gateway, 32), Link: netGW.Link, Metric: metric})
	}
}

// maskBits returns the prefix length of a dotted netmask, or -1.
func maskBits(m netip.Addr) int {
	if !m.Is4() {
		return -1
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&0x80000000 != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return bits
}

func bitsMask(bits int) netip.Addr {
	v := uint32(0)
	if bits > 0 {
		v = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
