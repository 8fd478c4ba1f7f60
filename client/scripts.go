package client

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// scriptEnv is the environment openvpn gives its scripts (up, down,
// route-up...): the same names, so existing scripts (update-resolv-conf,
// update-systemd-resolved, NetworkManager's helper) work unchanged.
type scriptEnv struct {
	vars map[string]string
}

func newScriptEnv(o *config.Options, cn *conn) *scriptEnv {
	e := &scriptEnv{vars: map[string]string{}}
	e.set("script_context", "init")
	e.set("config", o.ConfigFile)
	e.set("verb", fmt.Sprint(o.Log.Verb))
	e.set("daemon", "0")
	e.set("daemon_pid", fmt.Sprint(os.Getpid()))
	e.set("dev_type", "tun")
	if o.Device.Type == config.DevTap {
		e.set("dev_type", "tap")
	}
	proto := "udp"
	if strings.HasPrefix(cn.t.network, "tcp") {
		proto = "tcp-client"
	}
	e.set("proto_1", proto)
	e.set("remote_1", cn.t.entry.Remote)
	e.set("remote_port_1", fmt.Sprint(cn.t.addr.Port()))
	if cn.t.addr.Addr().Is4() {
		e.set("trusted_ip", cn.t.addr.Addr().String())
	} else {
		e.set("trusted_ip6", cn.t.addr.Addr().String())
	}
	e.set("trusted_port", fmt.Sprint(cn.t.addr.Port()))
	if cn.link != nil {
		e.set("local_port_1", fmt.Sprint(cn.link.LocalAddr().Port()))
	}
	if cn.sess != nil {
		if cs := cn.sess.PeerCertificates(0); len(cs) > 0 {
			e.set("common_name", cs[0].Subject.CommonName)
		}
	}
	for _, s := range o.Setenv {
		if !strings.HasPrefix(s.Name, "IV_") && !strings.HasPrefix(s.Name, "UV_") {
			e.set(s.Name, s.Value)
		}
	}
	if u, _ := cn.c.auth.credentials(); u != "" {
		e.set("username", u)
	}
	return e
}

func (e *scriptEnv) set(k, v string) { e.vars[k] = v }

func (e *scriptEnv) environ(scriptType string) []string {
	out := os.Environ()
	keys := make([]string, 0, len(e.vars))
	for k := range e.vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+e.vars[k])
	}
	return append(out, "script_type="+scriptType)
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

// runScript runs a hook with openvpn's arguments and environment, if
// script-security allows user scripts.
func (cn *conn) runScript(s *config.Script, typ string, args ...string) error {
	if s == nil {
		return nil
	}
	if cn.o.Scripts.Security < 2 {
		cn.c.log.Warn(fmt.Sprintf("WARNING: External program may not be called unless '--script-security 2' or higher is enabled. %s script %q not run", typ, s.Command))
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(slices.Clone(s.Args), args...)
	cmd := exec.CommandContext(ctx, s.Path, argv...)
	cmd.Env = cn.env.environ(typ)
	cmd.Dir = cn.o.Dir
	out, err := cmd.CombinedOutput()
	if len(out) > 0 {
		cn.c.log.Info(fmt.Sprintf("%s script output: %s", typ, strings.TrimSpace(string(out))))
	}
	if err != nil {
		return fmt.Errorf("client: %s script %q failed: %v", typ, s.Command, err)
	}
	return nil
}

// upArgs are the positional arguments of up/down scripts: tun_dev tun_mtu
// link_mtu ifconfig_local_ip ifconfig_remote_ip_or_netmask init|restart.
func (cn *conn) upArgs(dev string, spec TunnelSpec) []string {
	rem := cn.env.vars["ifconfig_remote"]
	if rem == "" {
		rem = cn.env.vars["ifconfig_netmask"]
	}
	return []string{dev, fmt.Sprint(spec.MTU), fmt.Sprint(spec.MTU + 41), cn.env.vars["ifconfig_local"], rem, "init"}
}

func (cn *conn) runUp(dev string, spec TunnelSpec) error {
	cn.upArgsSaved = cn.upArgs(dev, spec)
	if err := cn.runScript(cn.o.Scripts.Up, "up", cn.upArgsSaved...); err != nil {
		return err
	}
	return cn.runScript(cn.o.Scripts.RouteUp, "route-up")
}

func (cn *conn) runDown() {
	if cn.env == nil {
		return
	}
	if err := cn.runScript(cn.o.Scripts.RoutePreDown, "route-pre-down"); err != nil {
		cn.c.log.Warn(err.Error())
	}
	if err := cn.runScript(cn.o.Scripts.Down, "down", cn.upArgsSaved...); err != nil {
		cn.c.log.Warn(err.Error())
	}
}
