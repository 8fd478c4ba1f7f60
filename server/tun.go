package server

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/netconf"
	"github.com/openvpn-go/openvpn-go/tun"
)

// setupTun creates the server's tun device with its addresses and routes.
func (s *Server) setupTun(ctx context.Context) error {
	o := s.o
	kind := tun.TUN
	if o.Device.Type == config.DevTap {
		kind = tun.TAP
	}
	mtu := o.Connections[0].TunMTU
	if mtu == 0 {
		mtu = 1500
	}
	dev, err := tun.Create(o.Device.Name, mtu, kind)
	if err != nil {
		return fmt.Errorf("server: creating the %s device: %w", kind, err)
	}
	s.dev = dev
	name, _ := dev.Name()
	s.log.Info(fmt.Sprintf("TUN/TAP device %s opened", name))
	nc, err := netconf.New(s.log)
	if err != nil {
		dev.Close()
		return err
	}
	s.nc = nc
	cfg := netconf.Config{Link: name, MTU: mtu, Up: true}
	if l := o.Ifconfig.Local; l.IsValid() && !o.Ifconfig.NoExec {
		s.tunA = l
		r := o.Ifconfig.Remote
		if o.Device.Topology == config.TopologySubnet || kind == tun.TAP {
			cfg.Addrs = append(cfg.Addrs, netconf.Addr{Prefix: netip.PrefixFrom(l, maskLen(r))})
		} else {
			cfg.Addrs = append(cfg.Addrs, netconf.Addr{Prefix: netip.PrefixFrom(l, 32), Peer: r})
		}
	}
	if p := o.Ifconfig.IPv6; p.IsValid() && !o.Ifconfig.NoExec {
		s.tun6 = p.Addr()
		cfg.Addrs = append(cfg.Addrs, netconf.Addr{Prefix: p})
	}
	if !o.Routing.NoExec {
		gw := o.Server.LocalRouteGateway
		for _, lr := range o.Server.LocalRoutes {
			cfg.Routes = append(cfg.Routes, netconf.Route{Dst: lr.Masked(), Gateway: o.Ifconfig.Remote})
		}
		for _, r := range o.Routing.Routes {
			if !r.Prefix.IsValid() {
				continue
			}
			g := gw
			if r.Gateway != "" && r.Gateway != "vpn_gateway" {
				if a, err := netip.ParseAddr(r.Gateway); err == nil {
					g = a
				}
			}
			if !g.IsValid() {
				g = o.Ifconfig.Remote
			}
			cfg.Routes = append(cfg.Routes, netconf.Route{Dst: r.Prefix.Masked(), Gateway: g, Metric: r.Metric})
		}
		for _, r := range o.Routing.Routes6 {
			cfg.Routes = append(cfg.Routes, netconf.Route{Dst: r.Prefix.Masked(), Gateway: r.Gateway, Metric: r.Metric})
		}
	}
	if err := nc.Set(ctx, &cfg); err != nil {
		s.log.Warn(fmt.Sprintf("ERROR: server network set-up: %v", err))
	}
	return nil
}

func (s *Server) teardownTun() {
	if s.nc != nil {
		if err := s.nc.Close(); err != nil {
			s.log.Warn(fmt.Sprintf("restoring the network configuration: %v", err))
		}
	}
	if s.dev != nil {
		s.dev.Close()
	}
}
