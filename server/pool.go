package server

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/openvpn-go/openvpn-go/config"
)

// addrPool assigns tunnel addresses: a static ifconfig-push from the
// client's configuration, else the next free address of the pool (a /30
// block with topology net30), with the IPv6 pool in step.
type addrPool struct {
	mu      sync.Mutex
	pool    *config.Pool
	pool6   netip.Prefix
	local6  netip.Addr
	used    map[int]*instance // index → holder
	size    int
	subnet  bool
	mask    netip.Addr
	server4 netip.Addr // the server's own tunnel address (net30/p2p peer)
}

func newAddrPool(o *config.Options) (*addrPool, error) {
	p := &addrPool{pool: o.Server.Pool, pool6: o.Server.Pool6, local6: o.Ifconfig.IPv6.Addr(), used: map[int]*instance{}}
	if p.pool != nil {
		start, end := p.pool.Start.As4(), p.pool.End.As4()
		s := int(start[0])<<24 | int(start[1])<<16 | int(start[2])<<8 | int(start[3])
		e := int(end[0])<<24 | int(end[1])<<16 | int(end[2])<<8 | int(end[3])
		if e < s {
			return nil, fmt.Errorf("server: ifconfig-pool %s-%s is empty", p.pool.Start, p.pool.End)
		}
		p.size = e - s + 1
		if p.pool.Net30 {
			p.size /= 4
		}
		p.mask = p.pool.Netmask
		p.subnet = p.mask.IsValid()
	}
	p.server4 = o.Ifconfig.Local
	return p, nil
}

func addAddr4(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func addAddr6(a netip.Addr, n int) netip.Addr {
	b := a.As16()
	carry := uint64(n)
	for i := 15; i >= 0 && carry > 0; i-- {
		sum := uint64(b[i]) + carry&0xff
		b[i] = byte(sum)
		carry = carry>>8 + sum>>8
	}
	return netip.AddrFrom16(b)
}

// assign gives in its addresses.
func (p *addrPool) assign(in *instance) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := -1
	if c := in.ccd; c != nil && c.IfconfigPush != nil {
		in.vaddr4, in.vmask4 = c.IfconfigPush.Local, c.IfconfigPush.Remote
	} else if p.pool != nil {
		for i := 0; i < p.size; i++ {
			if p.used[i] == nil {
				idx = i
				break
			}
		}
		if idx < 0 {
			return fmt.Errorf("MULTI: no free address in the pool %s-%s: increase it (ifconfig-pool / server netmask)", p.pool.Start, p.pool.End)
		}
		p.used[idx] = in
		if p.pool.Net30 {
			base := addAddr4(p.pool.Start, 4*idx)
			in.vaddr4, in.vmask4 = addAddr4(base, 2), addAddr4(base, 1)
		} else {
			in.vaddr4 = addAddr4(p.pool.Start, idx)
			in.vmask4 = p.mask
			if !p.subnet {
				in.vmask4 = p.server4
			}
		}
	}
	if c := in.ccd; c != nil && c.IfconfigIPv6Push.IsValid() {
		in.vaddr6 = c.IfconfigIPv6Push.Addr()
	} else if p.pool6.IsValid() {
		i := idx
		if i < 0 {
			// No IPv4 pool index: take the first free slot for IPv6 alone.
			for j := 0; ; j++ {
				if p.used[-1-j] == nil {
					i = -1 - j
					p.used[i] = in
					break
				}
			}
			in.vaddr6 = addAddr6(p.pool6.Addr(), -1-i)
		} else {
			in.vaddr6 = addAddr6(p.pool6.Addr(), idx)
		}
	}
	return nil
}

// release returns in's addresses.
func (p *addrPool) release(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.used {
		if v == in {
			delete(p.used, k)
		}
	}
}
