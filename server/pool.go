package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/ippool"
)

// addrPool assigns tunnel addresses: a static ifconfig-push /
// ifconfig-ipv6-push from the client's ccd file, else an entry of the
// ippool (server, server-ipv6, ifconfig-pool, ifconfig-ipv6-pool) chosen
// by common name as 2.6 does. Static addresses inside the pool are reserved
// while their client is connected, so no pool client gets them too.
// ifconfig-pool-persist is read at start and written every interval and at
// shutdown.
type addrPool struct {
	pool     *ippool.Pool // nil without any pool
	topo     ippool.Topology
	local6   netip.Addr
	persist  string
	interval time.Duration
	log      *slog.Logger
}

// addrs is what one instance holds.
type addrs struct {
	lease            ippool.Lease
	static4, static6 netip.Addr // reserved static addresses
}

func newAddrPool(o *config.Options, log *slog.Logger) (*addrPool, error) {
	srv := o.Server
	p := &addrPool{local6: o.Ifconfig.IPv6.Addr(), log: log, persist: srv.PoolPersist, interval: srv.PoolPersistInterval}
	c := ippool.Config{IPv6: srv.Pool6, DuplicateCN: srv.DuplicateCN, FixedHints: srv.PoolPersist != "" && srv.PoolPersistInterval == 0}
	switch {
	case o.Device.Type == config.DevTap || o.Device.Topology == config.TopologySubnet:
		c.Topology = ippool.Subnet
	case o.Device.Topology == config.TopologyP2P:
		c.Topology = ippool.P2P
		c.Local = o.Ifconfig.Local
	default:
		c.Topology = ippool.Net30
	}
	if srv.Pool != nil {
		c.Start, c.End, c.Netmask = srv.Pool.Start, srv.Pool.End, srv.Pool.Netmask
		if c.Topology == ippool.Subnet && !c.Netmask.IsValid() {
			c.Netmask = o.Ifconfig.Remote
		}
	}
	p.topo = c.Topology
	if srv.Pool == nil && !srv.Pool6.IsValid() {
		return p, nil // every client needs a static address (ccd)
	}
	var err error
	if p.pool, err = ippool.New(c); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	// The server's own addresses are never handed out.
	for _, a := range []netip.Addr{o.Ifconfig.Local, p.local6} {
		if a.IsValid() && p.pool.Contains(a) {
			if err := p.pool.Reserve(a); err != nil {
				return nil, fmt.Errorf("server: reserving the server's address %s in the pool: %w", a, err)
			}
		}
	}
	return p, nil
}

// load reads the persist file, if any. A missing file is not an error
// (2.6 creates it later); unreadable lines are warned about and skipped.
func (p *addrPool) load(now time.Time) error {
	if p.persist == "" || p.pool == nil {
		return nil
	}
	f, err := os.Open(p.persist)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: ifconfig-pool-persist: %w", err)
	}
	defer f.Close()
	n, problems, err := p.pool.Load(f, now)
	for _, e := range problems {
		p.log.Warn(fmt.Sprintf("ifconfig-pool-persist %s: %v", p.persist, e))
	}
	if err != nil {
		return fmt.Errorf("server: ifconfig-pool-persist %s: %w", p.persist, err)
	}
	p.log.Info(fmt.Sprintf("ifconfig_pool_read(), in='%s', %d entries", p.persist, n))
	return nil
}

// save writes the persist file atomically when it changed.
func (p *addrPool) save() {
	if p.persist == "" || p.pool == nil || p.interval == 0 || !p.pool.Changed() {
		return
	}
	var b bytes.Buffer
	if err := p.pool.Save(&b); err != nil {
		p.log.Warn(err.Error())
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.persist), ".ipp-*")
	if err == nil {
		_, err = tmp.Write(b.Bytes())
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), p.persist)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		p.log.Warn(fmt.Sprintf("ifconfig-pool-persist: cannot write %s: %v (will retry)", p.persist, err))
	}
}

// run saves the persist file every interval until ctx ends, then once more.
func (p *addrPool) run(ctx context.Context) {
	if p.persist == "" || p.pool == nil || p.interval == 0 {
		return
	}
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.save()
			return
		case <-t.C:
			p.save()
		}
	}
}

// assign gives in its addresses.
func (p *addrPool) assign(in *instance, now time.Time) error {
	var push *config.IfconfigPush
	var push6 netip.Prefix
	if c := in.ccd; c != nil {
		push, push6 = c.IfconfigPush, c.IfconfigIPv6Push
	}
	a := &in.addrs
	if push != nil {
		in.vaddr4, in.vmask4 = push.Local, push.Remote
		a.static4 = p.reserve(in, push.Local)
	}
	if push6.IsValid() {
		in.vaddr6 = push6.Addr()
		a.static6 = p.reserve(in, push6.Addr())
	}
	needPool := (push == nil && p.pool != nil && p.poolHas4()) || (!push6.IsValid() && p.pool != nil && p.poolHas6())
	if !needPool {
		return nil
	}
	l, err := p.pool.Acquire(in.cn, now)
	if err != nil {
		p.unreserve(a)
		return fmt.Errorf("MULTI: cannot allocate a tunnel address for '%s': %v: enlarge the pool (server / ifconfig-pool) or lower max-clients", in.cn, err)
	}
	a.lease = l
	if push == nil && l.IPv4.IsValid() {
		in.vaddr4 = l.IPv4
		if p.topo == ippool.Subnet {
			in.vmask4 = l.Netmask
		} else {
			in.vmask4 = l.Peer
		}
	}
	if !push6.IsValid() && l.IPv6.IsValid() {
		in.vaddr6 = l.IPv6
	}
	return nil
}

func (p *addrPool) poolHas4() bool { n, _ := p.pool.Sizes(); return n > 0 }
func (p *addrPool) poolHas6() bool { _, n := p.pool.Sizes(); return n > 0 }

// reserve keeps a static address out of the pool while in holds it. An
// address another client leased is left to both, as 2.6 does, with a
// warning.
func (p *addrPool) reserve(in *instance, a netip.Addr) netip.Addr {
	if p.pool == nil || !p.pool.Contains(a) {
		return netip.Addr{}
	}
	if err := p.pool.Reserve(a); err != nil {
		in.logf("static address %s from the client config is also leased from the pool to another client (%v): move it out of the pool", a, err)
		return netip.Addr{}
	}
	return a
}

func (p *addrPool) unreserve(a *addrs) {
	for _, s := range []*netip.Addr{&a.static4, &a.static6} {
		if s.IsValid() {
			p.pool.Unreserve(*s)
			*s = netip.Addr{}
		}
	}
}

// release returns in's addresses.
func (p *addrPool) release(in *instance, now time.Time) {
	if p.pool == nil {
		return
	}
	a := &in.addrs
	if a.lease.IsValid() {
		p.pool.Release(a.lease, now)
		a.lease = ippool.Lease{}
	}
	p.unreserve(a)
}
