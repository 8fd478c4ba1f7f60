package client

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/hook"
)

// scriptEnv is the environment openvpn gives the client's scripts (up,
// down, route-up, route-pre-down), built with package hook: the same names
// and formats as openvpn 2.6, so existing scripts (update-resolv-conf,
// update-systemd-resolved, NetworkManager's helper) work unchanged. It
// belongs to the connection's owner goroutine.
type scriptEnv struct {
	*hook.Env
	run *hook.Runner
	// up is what the up script was told; down and route-pre-down get the
	// same arguments.
	up hook.UpDown
}

// daemonStart is exported as daemon_start_time.
var daemonStart = time.Now()

// scriptTimeout bounds one script run (openvpn waits for ever; a hung
// script would hang the connection).
const scriptTimeout = 60 * time.Second

// newScriptEnv collects what openvpn 2.6 has exported by the time the
// tunnel comes up: the configuration (config, verb, daemon*, proto_N,
// remote_N..., setenv values), the server's certificate chain (tls_id_N,
// tls_digest_N, X509_N_*, common_name), its address (untrusted_ip and,
// once authenticated, trusted_ip) and the pushed setenv-safe values
// (OPENVPN_*).
func newScriptEnv(o *config.Options, cn *conn) *scriptEnv {
	e := hook.NewEnv()
	e.SetOptions(o, daemonStart, os.Getpid())
	if cn.sess != nil {
		chain := cn.sess.PeerCertificates(0)
		if st, ok := cn.sess.ConnectionState(0); ok && len(st.VerifiedChains) > 0 {
			chain = st.VerifiedChains[0]
		}
		e.SetPeerChain(chain)
	}
	e.SetUntrusted(cn.t.addr)
	e.SetTrusted(cn.t.addr)
	e.SetSetenv(cn.push.p.SetenvSafe)
	r := hook.NewRunner(o.Scripts, o.Dir, cn.c.log)
	r.Timeout = scriptTimeout
	return &scriptEnv{Env: e, run: r}
}

func (e *scriptEnv) set(k, v string) { e.Set(k, v) }

func (e *scriptEnv) get(k string) string {
	v, _ := e.Get(k)
	return v
}

// dnsEnv exports DNS settings as 2.6 does on Linux: every dhcp-option as
// foreign_option_N, and the dns option both as dns_* variables and, for old
// scripts, as foreign_option_N lines (options.c foreign_options_copy_dns).
func (cn *conn) dnsEnv(e *scriptEnv) {
	o, p := cn.o, &cn.push.p
	n := 0
	fo := func(s string) {
		n++
		e.set(fmt.Sprintf("foreign_option_%d", n), s)
	}
	dns := o.DNS
	if len(p.DNS.Servers) > 0 || len(p.DNS.SearchDomains) > 0 {
		dns.Servers = mergeDNSServers(dns.Servers, p.DNS.Servers)
		if len(p.DNS.SearchDomains) > 0 {
			dns.SearchDomains = p.DNS.SearchDomains
		}
	}
	hasDNS := len(dns.Servers) > 0
	for _, d := range append(slices.Clone(o.DNS.DHCPOptions), p.DHCPOptions...) {
		if hasDNS && (d.Type == "DNS" || d.Type == "DNS6" || d.Type == "DOMAIN-SEARCH") {
			continue // --dns overrides the DNS-related dhcp-options
		}
		if d.Value == "" {
			fo("dhcp-option " + d.Type)
		} else {
			fo("dhcp-option " + d.Type + " " + d.Value)
		}
	}
	for i, d := range dns.SearchDomains {
		e.set(fmt.Sprintf("dns_search_domain_%d", i+1), d)
		fo("dhcp-option DOMAIN-SEARCH " + d)
	}
	for _, s := range dns.Servers {
		for j, a := range s.Addresses {
			e.set(fmt.Sprintf("dns_server_%d_address_%d", s.Priority, j+1), a.Addr().String())
			if a.Port() != 0 {
				e.set(fmt.Sprintf("dns_server_%d_port_%d", s.Priority, j+1), fmt.Sprint(a.Port()))
			}
			if a.Addr().Is4() {
				fo("dhcp-option DNS " + a.Addr().String())
			} else {
				fo("dhcp-option DNS6 " + a.Addr().String())
			}
		}
		for j, d := range s.ResolveDomains {
			e.set(fmt.Sprintf("dns_server_%d_resolve_domain_%d", s.Priority, j+1), d)
		}
		if s.DNSSEC != "" {
			e.set(fmt.Sprintf("dns_server_%d_dnssec", s.Priority), s.DNSSEC)
		}
		if s.Transport != "" {
			e.set(fmt.Sprintf("dns_server_%d_transport", s.Priority), s.Transport)
		}
		if s.SNI != "" {
			e.set(fmt.Sprintf("dns_server_%d_sni", s.Priority), s.SNI)
		}
	}
}

// mergeDNSServers lets a pushed server replace the local one with the same
// priority.
func mergeDNSServers(local, pushed []config.DNSServer) []config.DNSServer {
	out := slices.Clone(pushed)
	for _, l := range local {
		if !slices.ContainsFunc(pushed, func(p config.DNSServer) bool { return p.Priority == l.Priority }) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b config.DNSServer) int { return a.Priority - b.Priority })
	return out
}

// upDown describes the tunnel to the up, down and route-pre-down scripts,
// whose arguments are "dev tun_mtu 0 ifconfig_local ifconfig_remote init"
// (the netmask replaces the remote address with topology subnet and tap).
func (cn *conn) upDown(dev string, spec TunnelSpec) hook.UpDown {
	rem := cn.env.get("ifconfig_remote")
	if rem == "" {
		rem = cn.env.get("ifconfig_netmask")
	}
	typ := "tun"
	if cn.o.Device.Type == config.DevTap {
		typ = "tap"
	}
	return hook.UpDown{Dev: dev, DevType: typ, TunMTU: spec.MTU, IfconfigLocal: cn.env.get("ifconfig_local"), IfconfigRemote: rem}
}

// runUp runs the up script, whose failure (a refusal by script-security
// included) fails the connection, as it is fatal in openvpn. The runner logs
// failures in openvpn's words.
func (cn *conn) runUp(dev string, spec TunnelSpec) error {
	e := cn.env
	e.up = cn.upDown(dev, spec)
	if err := e.run.RunUpDown(context.Background(), cn.o.Scripts.Up, hook.TypeUp, e.Env, e.up); err != nil {
		return fmt.Errorf("client: up script %q: %w", cn.o.Scripts.Up.Command, err)
	}
	return nil
}

// runRouteUp runs route-up once the routes are in place; its failure is
// only a warning.
func (cn *conn) runRouteUp() {
	e := cn.env
	e.run.Run(context.Background(), cn.o.Scripts.RouteUp, hook.TypeRouteUp, e.Env)
}

// runDown runs route-pre-down or down with the arguments of up and the
// reason the tunnel goes down in signal; the runner logs failures, there
// is nothing else to do about them while tearing down.
func runDown(e *scriptEnv, sc *config.Script, typ, signal string) {
	if e == nil {
		return
	}
	u := e.up
	u.DevType = "" // openvpn sets dev_type for up only
	u.Signal = signal
	e.run.RunUpDown(context.Background(), sc, typ, e.Env, u)
}

// signalText is the reason a connection ended as openvpn names it in the
// down scripts' signal variable (signal_description): the signal in lower
// case ("sigterm", "sigusr1", "sighup") or the restart's own name
// ("ping-restart", "connection-reset", "server-pushed-connection-reset").
func signalText(reason string) string {
	if strings.HasPrefix(reason, "SIG") {
		return strings.ToLower(reason)
	}
	if reason == "" {
		return "sigterm"
	}
	return reason
}

// runIPChange runs the ipchange script once the server is authenticated,
// with the server's address as openvpn passes it ("[AF_INET]1.2.3.4 1194").
func (cn *conn) runIPChange() {
	sc := cn.o.Scripts.IPChange
	if sc == nil {
		return
	}
	e := newScriptEnv(cn.o, cn)
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	e.run.IPChange(ctx, sc, e.Env, cn.t.addr)
}
