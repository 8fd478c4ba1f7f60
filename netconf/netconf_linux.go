//go:build linux

package netconf

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// New returns a Configurator for the network namespace of the calling
// thread (normally the process's). log, if not nil, receives one Info record
// per change made to the host.
func New(log *slog.Logger) (Configurator, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netconf: open rtnetlink socket: %w", err)
	}
	return newEngine(&netlinkSystem{h: h}, log), nil
}

// NewInNamespace returns a Configurator for the network namespace ns, which
// the caller may close once NewInNamespace returns. log is as for New.
func NewInNamespace(ns netns.NsHandle, log *slog.Logger) (Configurator, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netconf: open rtnetlink socket in namespace %s: %w", ns, err)
	}
	return newEngine(&netlinkSystem{h: h}, log), nil
}

// netlinkSystem is the Linux system: rtnetlink through one handle, whose
// socket is bound to the namespace it was opened in.
type netlinkSystem struct {
	h *netlink.Handle
}

func (s *netlinkSystem) close() error {
	s.h.Close()
	return nil
}

// dumpRetries bounds the retries of a dump the kernel interrupted because
// the table changed during it.
const dumpRetries = 5

func toLink(l netlink.Link) link {
	a := l.Attrs()
	return link{index: a.Index, name: a.Name, mtu: a.MTU, up: a.Flags&net.FlagUp != 0}
}

func nlLink(l link) netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: l.index, Name: l.name}}
}

func linkErr(err error) error {
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("%w (%v)", errLinkNotFound, err)
	}
	return err
}

func (s *netlinkSystem) linkByName(name string) (link, error) {
	l, err := s.h.LinkByName(name)
	if err != nil {
		return link{}, linkErr(err)
	}
	return toLink(l), nil
}

func (s *netlinkSystem) linkByIndex(index int) (link, error) {
	l, err := s.h.LinkByIndex(index)
	if err != nil {
		return link{}, linkErr(err)
	}
	return toLink(l), nil
}

func (s *netlinkSystem) setMTU(l link, mtu int) error {
	return s.h.LinkSetMTU(nlLink(l), mtu)
}

func (s *netlinkSystem) setUp(l link, up bool) error {
	if up {
		return s.h.LinkSetUp(nlLink(l))
	}
	return s.h.LinkSetDown(nlLink(l))
}

// addrFromIP converts a kernel address (4 or 16 bytes, as the kernel sent
// it) to netip.
func addrFromIP(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

// routeAddr converts an address of a route of family fam: the netlink
// package gives the default route's IPv4 destination in 16-byte form.
func routeAddr(fam Family, ip net.IP) netip.Addr {
	a := addrFromIP(ip)
	if fam == IPv4 {
		a = a.Unmap()
	}
	return a
}

func (s *netlinkSystem) addrs(l link) ([]Addr, error) {
	var (
		list []netlink.Addr
		err  error
	)
	for range dumpRetries {
		list, err = s.h.AddrList(nlLink(l), netlink.FAMILY_ALL)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]Addr, 0, len(list))
	for _, a := range list {
		if a.IPNet == nil {
			continue
		}
		local := addrFromIP(a.IP)
		if a.Peer != nil {
			bits, _ := a.Peer.Mask.Size()
			out = append(out, Addr{Prefix: netip.PrefixFrom(local, bits), Peer: addrFromIP(a.Peer.IP)})
			continue
		}
		bits, _ := a.Mask.Size()
		out = append(out, Addr{Prefix: netip.PrefixFrom(local, bits)})
	}
	return out, nil
}

func nlAddr(a Addr) *netlink.Addr {
	local := a.Prefix.Addr()
	n := &netlink.Addr{IPNet: &net.IPNet{
		IP:   local.AsSlice(),
		Mask: net.CIDRMask(a.Prefix.Bits(), local.BitLen()),
	}}
	if a.Peer.IsValid() {
		n.IPNet.Mask = net.CIDRMask(local.BitLen(), local.BitLen())
		n.Peer = &net.IPNet{IP: a.Peer.AsSlice(), Mask: net.CIDRMask(a.Prefix.Bits(), local.BitLen())}
	}
	return n
}

func (s *netlinkSystem) addAddr(l link, a Addr) error { return s.h.AddrAdd(nlLink(l), nlAddr(a)) }

func (s *netlinkSystem) delAddr(l link, a Addr) error { return s.h.AddrDel(nlLink(l), nlAddr(a)) }

func nlFamily(fam Family) int {
	if fam == IPv4 {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func (s *netlinkSystem) routes(fam Family, table int) ([]sysRoute, error) {
	var (
		list []netlink.Route
		err  error
	)
	for range dumpRetries {
		list, err = s.h.RouteListFiltered(nlFamily(fam), &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	if links, err := s.h.LinkList(); err == nil {
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	out := make([]sysRoute, 0, len(list))
	for _, r := range list {
		if r.Type != unix.RTN_UNICAST || len(r.MultiPath) > 0 || r.Table != table {
			continue
		}
		out = append(out, sysRoute{
			dst:       routeDst(fam, r.Dst),
			gw:        routeAddr(fam, r.Gw),
			linkIndex: r.LinkIndex,
			linkName:  names[r.LinkIndex],
			src:       routeAddr(fam, r.Src),
			metric:    r.Priority,
			table:     r.Table,
		})
	}
	return out, nil
}

// routeDst converts a route destination; nil is the default route.
func routeDst(fam Family, dst *net.IPNet) netip.Prefix {
	if dst == nil {
		if fam == IPv4 {
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	bits, _ := dst.Mask.Size()
	return netip.PrefixFrom(routeAddr(fam, dst.IP), bits)
}

func nlRoute(r sysRoute) *netlink.Route {
	a := r.dst.Addr()
	n := &netlink.Route{
		LinkIndex: r.linkIndex,
		Dst:       &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(r.dst.Bits(), a.BitLen())},
		Priority:  r.metric,
		Table:     r.table,
		Family:    nlFamily(familyOf(a)),
	}
	if r.gw.IsValid() {
		n.Gw = r.gw.AsSlice()
	} else if a.Is4() {
		n.Scope = netlink.SCOPE_LINK // like ip(8): an on-link IPv4 route can be a gateway's route
	}
	return n
}

func (s *netlinkSystem) addRoute(r sysRoute) error { return s.h.RouteAdd(nlRoute(r)) }

func (s *netlinkSystem) delRoute(r sysRoute) error {
	n := nlRoute(r)
	n.Scope = netlink.SCOPE_NOWHERE // match the route whatever its scope
	return s.h.RouteDel(n)
}

func (s *netlinkSystem) routeGet(dst netip.Addr) (RouteInfo, error) {
	rs, err := s.h.RouteGet(dst.AsSlice())
	if err != nil {
		return RouteInfo{}, err
	}
	if len(rs) == 0 {
		return RouteInfo{}, unix.ENETUNREACH
	}
	r := rs[0]
	fam := familyOf(dst)
	info := RouteInfo{
		Gateway:   routeAddr(fam, r.Gw),
		LinkIndex: r.LinkIndex,
		Src:       routeAddr(fam, r.Src),
		Metric:    r.Priority,
		Table:     r.Table,
		Local:     r.Type == unix.RTN_LOCAL,
	}
	if l, err := s.h.LinkByIndex(r.LinkIndex); err == nil {
		info.Link = l.Attrs().Name
	}
	// The matching route itself (prefix, metric, table): Linux 4.13+.
	if m, err := s.h.RouteGetWithOptions(dst.AsSlice(), &netlink.RouteGetOptions{FIBMatch: true}); err == nil && len(m) > 0 {
		info.Dst = routeDst(fam, m[0].Dst)
		info.Metric = m[0].Priority
		info.Table = m[0].Table
	}
	return info, nil
}
