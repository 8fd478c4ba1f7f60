package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// status is how openvpn-go treats an OpenVPN option.
type status uint8

const (
	// stSupported: evaluated into Options.
	stSupported status = iota
	// stIgnored: accepted with a warning and no effect (Windows-only,
	// obsolete, or meaningless for openvpn-go).
	stIgnored
	// stNotYet: a valid OpenVPN 2.6 option openvpn-go does not implement
	// yet; reported by name (an error when ignoring it would change what the
	// configuration does, else a warning).
	stNotYet
	// stRemoved: removed from OpenVPN. Without an apply function it is an
	// error explaining what to write instead; with one, the safe modern
	// equivalent is applied with a warning.
	stRemoved
)

func (s status) String() string {
	switch s {
	case stIgnored:
		return "ignored"
	case stNotYet:
		return "not-yet-supported"
	case stRemoved:
		return "removed"
	}
	return "supported"
}

// optSpec describes one option: argument counts, where it may appear, its
// status and how to evaluate it.
type optSpec struct {
	min, max    int // argument count bounds (after the name); max -1: up to MaxParams-1
	class       class
	status      status
	notYetError bool
	usage       string
	note        string
	apply       func(e *evaluator, d Directive) error
}

func (s *optSpec) usageLine(name string) string {
	if s.usage == "" {
		return name
	}
	return name + " " + s.usage
}

var (
	tableOnce sync.Once
	table     map[string]*optSpec
)

// lookupOption returns the spec of an option, or nil for names OpenVPN 2.6
// does not know.
func lookupOption(name string) *optSpec {
	tableOnce.Do(func() { table = buildTable() })
	return table[name]
}

// OptionStatus reports how openvpn-go treats an OpenVPN option:
// "supported", "ignored", "not-yet-supported", "removed", or "unknown". The
// note explains the last four. It is meant for documentation and tools.
func OptionStatus(name string) (status, note string) {
	sp := lookupOption(strings.TrimPrefix(name, "--"))
	if sp == nil {
		return "unknown", ""
	}
	return sp.status.String(), sp.note
}

// OptionNames returns every option name OpenVPN 2.6 defines, sorted.
func OptionNames() []string {
	lookupOption("")
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func connectionOptionNames() []string {
	var out []string
	for _, n := range OptionNames() {
		if table[n].class&cConnection != 0 {
			out = append(out, n)
		}
	}
	return out
}

// suggestOption returns a known option close to name (a likely typo).
func suggestOption(name string) string {
	best, bestD := "", 3
	if len(name) < 4 {
		bestD = 2
	}
	for _, n := range OptionNames() {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Small constructors keep the table readable.

func opt(min, max int, c class, usage string, fn func(*evaluator, Directive) error) *optSpec {
	return &optSpec{min: min, max: max, class: c, usage: usage, apply: fn}
}

func ignored(min, max int, c class, note string) *optSpec {
	return &optSpec{min: min, max: max, class: c, status: stIgnored, note: note}
}

func notYet(min, max int, c class, usage, note string, isErr bool, fn func(*evaluator, Directive) error) *optSpec {
	return &optSpec{min: min, max: max, class: c, usage: usage, status: stNotYet, note: note, notYetError: isErr, apply: fn}
}

func removed(min, max int, c class, note string, fn func(*evaluator, Directive) error) *optSpec {
	return &optSpec{min: min, max: max, class: c, status: stRemoved, note: note, apply: fn}
}

const anyArgs = -1

func setBool(p func(e *evaluator) *bool) func(*evaluator, Directive) error {
	return func(e *evaluator, d Directive) error {
		*p(e) = true
		return nil
	}
}

func setSeconds(p func(e *evaluator) *time.Duration) func(*evaluator, Directive) error {
	return func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if err != nil {
			return err
		}
		*p(e) = v
		return nil
	}
}

func setString(p func(e *evaluator) *string) func(*evaluator, Directive) error {
	return func(e *evaluator, d Directive) error {
		*p(e) = d.Args[0]
		return nil
	}
}

const windowsOnly = "Windows-only option: ignored on Linux"

func buildTable() map[string]*optSpec {
	t := map[string]*optSpec{}

	// --- Configuration structure -------------------------------------
	t["config"] = opt(1, 1, cConfig, "FILE", nil) // handled by applyAll
	t["connection"] = opt(1, 1, cGeneral|cInline, "(inline <connection> block)", (*evaluator).optConnection)
	t["ignore-unknown-option"] = opt(1, anyArgs, cGeneral, "OPTION...", func(e *evaluator, d Directive) error {
		for _, n := range d.Args {
			e.ignoreUnknown[strings.TrimPrefix(n, "--")] = true
		}
		return nil
	})
	t["setenv"] = opt(1, 2, cGeneral, "NAME [VALUE]", (*evaluator).optSetenv)
	t["setenv-safe"] = opt(1, 2, cSetenv, "NAME [VALUE]", func(e *evaluator, d Directive) error {
		e.o.Setenv = append(e.o.Setenv, Setenv{Name: d.Args[0], Value: argOr(d, 1, ""), Safe: true})
		return nil
	})
	t["echo"] = opt(0, anyArgs, cEcho, "[TEXT...]", func(e *evaluator, d Directive) error {
		e.o.Echo = append(e.o.Echo, strings.Join(d.Args, " "))
		return nil
	})
	t["parameter"] = t["echo"]
	t["compat-mode"] = opt(1, 1, cGeneral, "X.Y.Z", func(e *evaluator, d Directive) error {
		parts := strings.Split(d.Args[0], ".")
		if len(parts) != 3 {
			return fmt.Errorf("cannot parse version %q: expected MAJOR.MINOR.PATCH such as 2.4.0", d.Args[0])
		}
		v := 0
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 99 {
				return fmt.Errorf("cannot parse version %q: expected MAJOR.MINOR.PATCH such as 2.4.0", d.Args[0])
			}
			v += n * []int{10000, 100, 1}[i]
		}
		e.o.CompatMode = v
		return nil
	})

	// --- Mode and roles ------------------------------------------------
	t["mode"] = opt(1, 1, cGeneral, "p2p|server", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "p2p":
			e.o.Mode = ModeP2P
		case "server":
			e.o.Mode = ModeServer
		default:
			return fmt.Errorf("unknown mode %q (p2p or server)", d.Args[0])
		}
		return nil
	})
	t["client"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Client }))
	t["pull"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Pull }))
	t["tls-client"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.tlsClient = true
		return nil
	})
	t["tls-server"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.tlsServer = true
		return nil
	})

	// --- Connection entries --------------------------------------------
	cg := cGeneral | cConnection
	t["remote"] = opt(1, 3, cg, "HOST [PORT] [PROTO]", (*evaluator).optRemote)
	t["proto"] = opt(1, 1, cg, "udp|tcp-client|tcp-server|tcp (with 4/6 variants)", func(e *evaluator, d Directive) error {
		p, f, ok := parseProto(d.Args[0])
		if !ok {
			return fmt.Errorf("unknown protocol %q (udp, udp4, udp6, tcp, tcp4, tcp6, tcp-client, tcp4-client, tcp6-client, tcp-server, tcp4-server, tcp6-server)", d.Args[0])
		}
		e.cur.c.Proto, e.cur.c.Family = p, f
		return nil
	})
	t["port"] = opt(1, 1, cg, "PORT", func(e *evaluator, d Directive) error {
		p, err := parsePort(d.Args[0], true)
		if err != nil {
			return err
		}
		e.cur.c.LocalPort, e.cur.c.RemotePort = p, p
		return nil
	})
	t["lport"] = opt(1, 1, cg, "PORT", func(e *evaluator, d Directive) error {
		p, err := parsePort(d.Args[0], true)
		if err != nil {
			return err
		}
		e.cur.c.LocalPort = p
		e.cur.localPortDefined = true
		return nil
	})
	t["rport"] = opt(1, 1, cg, "PORT", func(e *evaluator, d Directive) error {
		p, err := parsePort(d.Args[0], false)
		if err != nil {
			return err
		}
		e.cur.c.RemotePort = p
		return nil
	})
	// "local HOST [PORT [PROTO]]": 2.7 lets a server repeat it to listen
	// on several sockets (UDP and TCP, several addresses); openvpn-go does
	// the same. With one argument it is 2.6's local address.
	t["local"] = opt(1, 3, cg, "HOST|* [PORT [PROTO]]", func(e *evaluator, d Directive) error {
		l := localLine{host: d.Args[0], at: d}
		if l.host == "*" {
			l.host = ""
		}
		if len(d.Args) >= 2 {
			p, err := parsePort(d.Args[1], true)
			if err != nil {
				return err
			}
			l.port, l.portSet = p, true
		}
		if len(d.Args) == 3 {
			pr, f, ok := parseProto(d.Args[2])
			if !ok {
				return fmt.Errorf("unknown protocol %q (udp, udp4, udp6, tcp, tcp4, tcp6...)", d.Args[2])
			}
			l.proto, l.family, l.protoSet = pr, f, true
		}
		if e.cur == &e.global {
			e.locals = append(e.locals, l)
		}
		e.cur.c.Local = l.host
		if l.portSet {
			e.cur.c.LocalPort = l.port
			e.cur.localPortDefined = true
		}
		if l.protoSet {
			e.cur.c.Proto, e.cur.c.Family = l.proto, l.family
		}
		return nil
	})
	t["bind"] = opt(0, 1, cg, "[ipv6only]", func(e *evaluator, d Directive) error {
		e.cur.bindDefined = true
		if len(d.Args) == 1 {
			if d.Args[0] != "ipv6only" {
				return fmt.Errorf("unknown flag %q (only ipv6only)", d.Args[0])
			}
			e.cur.c.BindIPv6Only = true
		}
		return nil
	})
	t["nobind"] = opt(0, 0, cg, "", func(e *evaluator, d Directive) error {
		e.cur.nobind = true
		e.cur.c.Bind = false
		return nil
	})
	t["float"] = opt(0, 0, cg, "", func(e *evaluator, d Directive) error {
		e.cur.c.Float = true
		return nil
	})
	t["connect-retry"] = opt(1, 2, cg, "SECONDS [MAX]", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "retry delay")
		if err != nil {
			return err
		}
		if v > 0xFFFF*time.Second {
			e.warnf(d, "retry delay truncated to 65535 s")
			v = 0xFFFF * time.Second
		}
		e.cur.c.ConnectRetry = v
		if len(d.Args) == 2 {
			m, err := parseSeconds(d.Args[1], "maximum retry delay")
			if err != nil {
				return err
			}
			e.cur.c.ConnectRetryMaxDelay = max(m, v)
		}
		return nil
	})
	t["connect-retry-max"] = opt(1, 1, cg, "N", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "attempts")
		e.o.ConnectRetryMax = v
		return err
	})
	timeout := func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "timeout")
		e.cur.c.ConnectTimeout = v
		return err
	}
	t["connect-timeout"] = opt(1, 1, cg, "SECONDS", timeout)
	t["server-poll-timeout"] = opt(1, 1, cg, "SECONDS", timeout)
	t["explicit-exit-notify"] = opt(0, 1, cg|cExplicitNotify, "[N]", func(e *evaluator, d Directive) error {
		n := 1
		if len(d.Args) == 1 {
			v, err := parseNonNeg(d.Args[0], 255, "count")
			if err != nil {
				return err
			}
			n = v
		}
		e.cur.c.ExplicitExitNotify = n
		return nil
	})
	t["remote-random"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.RemoteRandom }))
	t["remote-random-hostname"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.RemoteRandomHostname }))
	t["resolv-retry"] = opt(1, 1, cGeneral, "SECONDS|infinite", func(e *evaluator, d Directive) error {
		if d.Args[0] == "infinite" {
			e.o.ResolvRetry = ResolvRetryInfinite
			return nil
		}
		v, err := parseSeconds(d.Args[0], "seconds")
		e.o.ResolvRetry = v
		return err
	})
	t["proto-force"] = opt(1, 1, cGeneral, "udp|tcp", func(e *evaluator, d Directive) error {
		p, _, ok := parseProto(d.Args[0])
		if !ok {
			return fmt.Errorf("unknown protocol %q", d.Args[0])
		}
		e.o.ProtoForce = p
		return nil
	})
	t["preresolve"] = notYet(0, 1, cGeneral, "[HOST]", "names are resolved when connecting", false, nil)
	t["ip-remote-hint"] = t["preresolve"]
	t["http-proxy"] = notYet(2, 4, cg, "HOST PORT [AUTHFILE|auto|auto-nct] [METHOD]", "HTTP proxies; connect directly or through a local forwarder", true, (*evaluator).optHTTPProxy)
	t["http-proxy-option"] = notYet(1, 3, cg, "TYPE [PARM...]", "HTTP proxies", true, func(e *evaluator, d Directive) error {
		if e.cur.c.HTTPProxy == nil {
			e.cur.c.HTTPProxy = &HTTPProxy{}
		}
		e.cur.c.HTTPProxy.Options = append(e.cur.c.HTTPProxy.Options, d.Args)
		return nil
	})
	t["http-proxy-user-pass"] = notYet(1, 1, cGeneral|cInline, "FILE", "HTTP proxies", true, func(e *evaluator, d Directive) error {
		e.setRef(&e.cur.proxyUserPass, d)
		return nil
	})
	t["http-proxy-retry"] = ignored(0, anyArgs, cg, "DEPRECATED OPTION: proxy connection retries are handled like regular connections since OpenVPN 2.4; use connect-retry-max 1 for a similar behaviour")
	t["socks-proxy-retry"] = t["http-proxy-retry"]
	t["http-proxy-timeout"] = ignored(1, 1, cg, "DEPRECATED OPTION: the proxy connect timeout is connect-timeout since OpenVPN 2.4")
	t["http-proxy-override"] = notYet(2, 3, cGeneral, "HOST PORT [FLAGS]", "HTTP proxies", true, nil)
	t["socks-proxy"] = notYet(1, 3, cg, "HOST [PORT] [AUTHFILE]", "SOCKS proxies; connect directly", true, func(e *evaluator, d Directive) error {
		sp := &SocksProxy{Host: d.Args[0], Port: 1080}
		if len(d.Args) > 1 {
			p, err := parsePort(d.Args[1], false)
			if err != nil {
				return err
			}
			sp.Port = p
		}
		sp.AuthFile = argOr(d, 2, "")
		e.cur.c.SocksProxy = sp
		return nil
	})

	// --- MTU -------------------------------------------------------------
	t["tun-mtu"] = opt(1, 2, cg|cPushMTU, "MTU [OCC-MTU]", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65535, "MTU")
		if err != nil {
			return err
		}
		if v < 68 {
			return fmt.Errorf("MTU %d is too small (at least 68)", v)
		}
		e.cur.c.TunMTU = v
		e.cur.tunMTUSet = true
		e.cur.c.TunMTUOCC = 0
		if len(d.Args) == 2 {
			if e.cur.c.TunMTUOCC, err = parseNonNeg(d.Args[1], 65535, "OCC MTU"); err != nil {
				return err
			}
		}
		return nil
	})
	t["tun-mtu-max"] = opt(1, 1, cMTU|cConnection, "MTU", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65536, "MTU")
		if err == nil && v < 68 {
			err = fmt.Errorf("MTU %d is too small (68-65536)", v)
		}
		if err != nil {
			return err
		}
		e.cur.c.TunMTUMax = v
		return nil
	})
	t["tun-mtu-extra"] = opt(1, 1, cMTU|cConnection, "BYTES", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65535, "bytes")
		e.cur.c.TunMTUExtra = v
		e.cur.tunMTUExtraSet = true
		return err
	})
	linkMTU := func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65535, "MTU")
		e.cur.c.LinkMTU = v
		e.cur.linkMTUSet = true
		if err == nil {
			e.warnf(d, "DEPRECATED OPTION: link-mtu only feeds the OCC options string in 2.6; set tun-mtu instead")
		}
		return err
	}
	t["link-mtu"] = opt(1, 1, cMTU|cConnection, "MTU", linkMTU)
	t["udp-mtu"] = t["link-mtu"]
	t["max-packet-size"] = opt(1, 1, cMTU|cConnection, "BYTES", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65535, "size")
		if err != nil {
			return err
		}
		c := min(max(v, 154), 2048)
		if c != v {
			e.warnf(d, "value outside the control-packet size range (154-2048); using %d", c)
		}
		e.cur.c.MaxPacketSize = c
		e.cur.c.MSSFix = MSSFix{Max: v, MTU: true}
		e.cur.mssfixDefault = false
		return nil
	})
	t["mssfix"] = opt(0, 2, cg, "[MAX] [mtu|fixed]", func(e *evaluator, d Directive) error {
		c := &e.cur.c
		if len(d.Args) == 0 {
			e.cur.mssfixDefault = true
			return nil
		}
		v, err := parseNonNeg(d.Args[0], 65535, "size")
		if err != nil {
			return err
		}
		e.cur.mssfixDefault = false
		c.MSSFix = MSSFix{Max: v}
		if len(d.Args) == 2 {
			switch d.Args[1] {
			case "mtu":
				c.MSSFix.MTU = true
			case "fixed":
				c.MSSFix.Fixed = true
			default:
				return fmt.Errorf("unknown flag %q (mtu or fixed)", d.Args[1])
			}
		}
		return nil
	})
	t["fragment"] = opt(1, 2, cMTU|cConnection, "MAX [mtu]", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 65535, "size")
		if err != nil {
			return err
		}
		if v < 68 {
			return fmt.Errorf("size %d is too small (at least 68)", v)
		}
		e.cur.c.Fragment = v
		if len(d.Args) == 2 {
			if d.Args[1] != "mtu" {
				return fmt.Errorf("unknown flag %q (only mtu)", d.Args[1])
			}
			e.cur.c.FragmentMTU = true
		}
		return nil
	})
	t["mtu-disc"] = opt(1, 1, cMTU|cConnection, "no|maybe|yes", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "no", "maybe", "yes":
			e.cur.c.MTUDisc = d.Args[0]
			return nil
		}
		return fmt.Errorf("unknown value %q (no, maybe or yes)", d.Args[0])
	})
	t["mtu-test"] = notYet(0, 0, cGeneral, "", "MTU testing; the option is ignored", false, nil)
	t["mtu-dynamic"] = removed(0, anyArgs, cMTU|cConnection, "removed option: use 'fragment MAX' instead", nil)

	// --- Device --------------------------------------------------------
	t["dev"] = opt(1, 1, cGeneral, "tun|tap|NAME", setString(func(e *evaluator) *string { return &e.o.Device.Name }))
	t["dev-type"] = opt(1, 1, cGeneral, "tun|tap", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "tun":
			e.o.Device.Type = DevTun
		case "tap":
			e.o.Device.Type = DevTap
		case "null":
			e.o.Device.Type = DevNull
		default:
			return fmt.Errorf("unknown device type %q (tun or tap)", d.Args[0])
		}
		return nil
	})
	t["dev-node"] = opt(1, 1, cGeneral, "NODE", setString(func(e *evaluator) *string { return &e.o.Device.Node }))
	t["topology"] = opt(1, 1, cUp, "net30|p2p|subnet", func(e *evaluator, d Directive) error {
		tp, err := parseTopology(d.Args[0])
		e.o.Device.Topology = tp
		return err
	})
	t["txqueuelen"] = opt(1, 1, cGeneral, "N", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "length")
		e.o.Device.TxQueueLen = v
		return err
	})
	t["lladdr"] = opt(1, 1, cUp, "MAC", func(e *evaluator, d Directive) error {
		if !isMAC(d.Args[0]) {
			return fmt.Errorf("%q is not a MAC address (xx:xx:xx:xx:xx:xx)", d.Args[0])
		}
		e.o.Device.LLAddr = d.Args[0]
		return nil
	})
	t["mktun"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Device.MkTun }))
	t["rmtun"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Device.RmTun }))
	t["tun-ipv6"] = ignored(0, 0, cUp, "Note: tun-ipv6 is ignored: modern systems need no special IPv6 tun handling")
	t["disable-dco"] = opt(0, anyArgs, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.DisableDCO }))
	t["ifconfig"] = opt(2, 2, cUp, "LOCAL REMOTE|NETMASK", func(e *evaluator, d Directive) error {
		l, err := parseIPv4(d.Args[0], "local address")
		if err != nil {
			return err
		}
		r, err := parseIPv4(d.Args[1], "remote address or netmask")
		if err != nil {
			return err
		}
		e.o.Ifconfig.Local, e.o.Ifconfig.Remote = l, r
		e.ifconfigAt = &d
		return nil
	})
	t["ifconfig-ipv6"] = opt(2, 2, cUp, "ADDR/BITS REMOTE", func(e *evaluator, d Directive) error {
		p, err := parseIPv6Prefix(d.Args[0], "address")
		if err != nil {
			return err
		}
		if p.Bits() < 64 || p.Bits() > 124 {
			return fmt.Errorf("/%d: the prefix length must be between 64 and 124", p.Bits())
		}
		r, err := parseIPv6(d.Args[1], "remote address")
		if err != nil {
			return err
		}
		e.o.Ifconfig.IPv6, e.o.Ifconfig.IPv6Remote = p, r
		return nil
	})
	t["ifconfig-noexec"] = opt(0, 0, cUp, "", setBool(func(e *evaluator) *bool { return &e.o.Ifconfig.NoExec }))
	t["ifconfig-nowarn"] = opt(0, 0, cUp, "", setBool(func(e *evaluator) *bool { return &e.o.Ifconfig.NoWarn }))
	t["iproute"] = notYet(1, 1, cGeneral, "CMD", "openvpn-go configures the network through netlink", false, nil)

	// --- Routing -------------------------------------------------------
	t["route"] = opt(1, 4, cRoute, "NETWORK [NETMASK] [GATEWAY] [METRIC]", func(e *evaluator, d Directive) error {
		r, err := parseRoute(d.Args, false, e.o.Routing.AllowPullFQDN)
		if err != nil {
			return err
		}
		r.File, r.Line = d.File, d.Line
		e.o.Routing.Routes = append(e.o.Routing.Routes, r)
		return nil
	})
	t["route-ipv6"] = opt(1, 3, cRoute, "NETWORK/BITS [GATEWAY] [METRIC]", func(e *evaluator, d Directive) error {
		r, err := parseRoute6(d.Args)
		if err != nil {
			if len(d.Args) > 1 && strings.Contains(d.Args[1], "-") {
				err = fmt.Errorf("%w; two options look fused on one line: put each option on its own line", err)
			}
			return err
		}
		r.File, r.Line = d.File, d.Line
		e.o.Routing.Routes6 = append(e.o.Routing.Routes6, r)
		return nil
	})
	t["route-gateway"] = opt(1, 1, cRouteExtras, "ADDR|dhcp", func(e *evaluator, d Directive) error {
		if d.Args[0] == "dhcp" {
			e.o.Routing.GatewayDHCP = true
			return nil
		}
		a, err := parseIPv4(d.Args[0], "gateway")
		e.o.Routing.Gateway = a
		return err
	})
	t["route-ipv6-gateway"] = opt(1, 1, cGeneral, "ADDR", func(e *evaluator, d Directive) error {
		a, err := parseIPv6(d.Args[0], "gateway")
		e.o.Routing.Gateway6 = a
		return err
	})
	t["route-metric"] = opt(1, 1, cRoute, "METRIC", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "metric")
		e.o.Routing.Metric = v
		return err
	})
	t["route-delay"] = opt(0, 2, cRouteExtras, "[SECONDS] [WINDOW]", func(e *evaluator, d Directive) error {
		r := &e.o.Routing
		r.DelaySet = true
		r.Delay = 0
		if len(d.Args) > 0 {
			v, err := parseSeconds(d.Args[0], "delay")
			if err != nil {
				return err
			}
			r.Delay = v
		}
		if len(d.Args) > 1 {
			v, err := parseSeconds(d.Args[1], "window")
			if err != nil {
				return err
			}
			r.DelayWindow = v
		}
		return nil
	})
	t["redirect-gateway"] = opt(0, anyArgs, cRoute, "[FLAGS...]", (*evaluator).optRedirect)
	t["redirect-private"] = t["redirect-gateway"]
	t["block-ipv6"] = opt(0, 0, cRoute, "", setBool(func(e *evaluator) *bool { return &e.o.Routing.BlockIPv6 }))
	t["route-nopull"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Routing.NoPull }))
	t["route-noexec"] = opt(0, 0, cScript, "", setBool(func(e *evaluator) *bool { return &e.o.Routing.NoExec }))
	t["allow-pull-fqdn"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Routing.AllowPullFQDN }))
	t["allow-recursive-routing"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Routing.AllowRecursiveRouting }))
	t["pull-filter"] = opt(2, 2, cGeneral, "accept|ignore|reject PREFIX", func(e *evaluator, d Directive) error {
		var a PullFilterAction
		switch d.Args[0] {
		case "accept":
			a = PullAccept
		case "ignore":
			a = PullIgnore
		case "reject":
			a = PullReject
		default:
			return fmt.Errorf("unknown action %q (accept, ignore or reject)", d.Args[0])
		}
		e.o.Routing.PullFilters = append(e.o.Routing.PullFilters, PullFilter{Action: a, Prefix: d.Args[1]})
		return nil
	})
	t["client-nat"] = notYet(4, 4, cRoute, "snat|dnat NETWORK NETMASK ALIAS", "client-side NAT", true, nil)
	t["max-routes"] = ignored(0, 1, cGeneral, "DEPRECATED OPTION: max-routes is ignored; the number of routes is unlimited since OpenVPN 2.4")

	// --- DNS -------------------------------------------------------------
	t["dhcp-option"] = opt(1, 2, cDHCPDNS, "TYPE [VALUE]", func(e *evaluator, d Directive) error {
		o, err := parseDHCPOption(d.Args)
		if err != nil {
			return err
		}
		e.o.DNS.DHCPOptions = append(e.o.DNS.DHCPOptions, o)
		return nil
	})
	t["dns"] = opt(2, anyArgs, cDHCPDNS, "search-domains DOMAIN... | server N SETTING VALUE...", func(e *evaluator, d Directive) error {
		dns := cloneDNS(e.o.DNS)
		if err := parseDNS(d.Args, false, &dns); err != nil {
			return err
		}
		e.o.DNS = dns
		return nil
	})
	for _, n := range []string{"block-outside-dns", "register-dns", "dhcp-renew", "dhcp-pre-release", "dhcp-release", "show-net-up"} {
		t[n] = ignored(0, 0, cDHCPDNS, windowsOnly)
	}
	t["show-net-up"].class = cUp
	t["ip-win32"] = ignored(1, 3, cDHCPDNS, windowsOnly)
	t["tap-sleep"] = ignored(1, 1, cDHCPDNS, windowsOnly)
	t["route-method"] = ignored(1, 1, cRouteExtras, windowsOnly)
	for _, n := range []string{"win-sys", "windows-driver", "msg-channel", "service"} {
		t[n] = ignored(1, 2, cGeneral, windowsOnly)
	}
	for _, n := range []string{"allow-nonadmin", "pause-exit", "show-adapters", "show-net", "show-valid-subnets", "dhcp-internal", "rdns-internal"} {
		t[n] = ignored(0, 1, cGeneral, windowsOnly)
	}
	t["cryptoapicert"] = notYet(1, 1, cGeneral, "SELECTOR", "the Windows certificate store does not exist on Linux; use cert/key or pkcs12", true, nil)

	// --- TLS material ------------------------------------------------------
	t["ca"] = opt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error { e.setRef(&e.refs.ca, d); return nil })
	t["cert"] = opt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error { e.setRef(&e.refs.cert, d); return nil })
	t["key"] = opt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error { e.setRef(&e.refs.key, d); return nil })
	t["extra-certs"] = opt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error { e.setRef(&e.refs.extra, d); return nil })
	t["pkcs12"] = opt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error { e.setRef(&e.refs.pkcs12, d); return nil })
	t["dh"] = opt(1, 1, cGeneral|cInline, "FILE|none", func(e *evaluator, d Directive) error {
		if !d.Inline && d.Args[0] == "none" {
			e.refs.dh = nil
			e.o.TLS.DHNone = true
			return nil
		}
		e.o.TLS.DHNone = false
		e.setRef(&e.refs.dh, d)
		return nil
	})
	t["crl-verify"] = opt(1, 2, cGeneral|cInline, "FILE [dir]", func(e *evaluator, d Directive) error {
		if len(d.Args) == 2 {
			if d.Args[1] != "dir" || d.Inline {
				return fmt.Errorf("unknown flag %q (only dir)", d.Args[1])
			}
			e.o.TLS.CRLDir = d.Args[0]
			e.refs.crl = nil
			return nil
		}
		e.o.TLS.CRLDir = ""
		e.setRef(&e.refs.crl, d)
		return nil
	})
	t["capath"] = notYet(1, 1, cGeneral, "DIR", "OpenSSL hashed CA directories; concatenate the certificates into one file for 'ca'", true, func(e *evaluator, d Directive) error {
		e.o.TLS.CAPath = d.Args[0]
		return nil
	})
	t["askpass"] = opt(0, 1, cGeneral, "[FILE]", func(e *evaluator, d Directive) error {
		if len(d.Args) == 0 || d.Args[0] == "stdin" {
			e.o.TLS.AskPassStdin = true
			e.refs.askpass = nil
			return nil
		}
		e.setRef(&e.refs.askpass, d)
		return nil
	})
	t["peer-fingerprint"] = opt(1, 1, cGeneral|cInline, "SHA256-FINGERPRINT", func(e *evaluator, d Directive) error {
		if e.verifyHashAt != nil {
			return errors.New("peer-fingerprint and verify-hash cannot be used together")
		}
		fps, err := parseFingerprints(d.Args[0], 32)
		if err != nil {
			return err
		}
		for _, fp := range fps {
			e.o.TLS.PeerFingerprints = append(e.o.TLS.PeerFingerprints, [32]byte(fp))
		}
		e.peerFPAt = &d
		return nil
	})
	t["verify-hash"] = opt(1, 2, cGeneral|cInline, "HASH [SHA1|SHA256]", func(e *evaluator, d Directive) error {
		if e.peerFPAt != nil {
			return errors.New("verify-hash and peer-fingerprint cannot be used together")
		}
		size := 20
		if len(d.Args) == 2 {
			switch d.Args[1] {
			case "SHA1":
			case "SHA256":
				size = 32
			default:
				return fmt.Errorf("unsupported hash %q (SHA1 or SHA256)", d.Args[1])
			}
		} else if d.Inline {
			size = 32
		}
		fps, err := parseFingerprints(d.Args[0], size)
		if err != nil {
			return err
		}
		e.o.TLS.VerifyHash = append(e.o.TLS.VerifyHash, fps...)
		e.verifyHashAt = &d
		e.warnf(d, "DEPRECATED OPTION: verify-hash is deprecated; use peer-fingerprint, or the CA as 'ca'")
		return nil
	})

	// --- Control-channel wrapping ----------------------------------------
	cgi := cGeneral | cConnection | cInline
	t["tls-auth"] = opt(1, 2, cgi, "FILE [0|1]", func(e *evaluator, d Directive) error {
		var dir KeyDirection
		var dirSet bool
		if len(d.Args) == 2 && !d.Inline {
			k, ok := parseKeyDirection(d.Args[1])
			if !ok {
				return fmt.Errorf("key direction %q must be 0 or 1", d.Args[1])
			}
			dir, dirSet = k, true
		}
		if e.ctx == ctxConnection {
			e.setRef(&e.cur.tlsAuth, d)
			e.cur.keyDir = dir
			return nil
		}
		e.setRef(&e.gwrap.tlsAuth, d)
		if dirSet {
			e.keyDir = dir
		}
		return nil
	})
	t["tls-crypt"] = opt(1, 1, cgi, "FILE", func(e *evaluator, d Directive) error {
		if e.ctx == ctxConnection {
			e.setRef(&e.cur.tlsCrypt, d)
		} else {
			e.setRef(&e.gwrap.tlsCrypt, d)
		}
		return nil
	})
	t["tls-crypt-v2"] = opt(1, 2, cgi, "FILE [force-cookie|allow-noncookie]", func(e *evaluator, d Directive) error {
		if e.ctx == ctxConnection {
			e.setRef(&e.cur.tlsCryptV2, d)
		} else {
			e.setRef(&e.gwrap.tlsCryptV2, d)
		}
		if len(d.Args) == 2 && !d.Inline {
			switch d.Args[1] {
			case "force-cookie":
				e.forceCookie, e.allowNoncook = true, false
			case "allow-noncookie":
				e.forceCookie, e.allowNoncook = false, true
			default:
				return fmt.Errorf("unknown flag %q (force-cookie or allow-noncookie)", d.Args[1])
			}
		}
		return nil
	})
	t["tls-crypt-v2-verify"] = opt(1, 1, cGeneral, "CMD", func(e *evaluator, d Directive) error {
		e.o.Scripts.TLSCryptV2Verify = e.script(d)
		return nil
	})
	t["key-direction"] = opt(1, 1, cg, "0|1|bidirectional", func(e *evaluator, d Directive) error {
		k, ok := parseKeyDirection(d.Args[0])
		if !ok {
			return fmt.Errorf("key direction %q must be 0, 1 or bidirectional", d.Args[0])
		}
		if e.ctx == ctxConnection {
			e.cur.keyDir = k
		} else {
			e.keyDir = k
		}
		return nil
	})
	t["secret"] = opt(1, 2, cGeneral|cInline, "FILE [0|1]", func(e *evaluator, d Directive) error {
		if e.refs.secret == nil {
			e.warnf(d, "DEPRECATED OPTION: static-key mode (secret) is deprecated and removed in OpenVPN 2.7; move to TLS (peer-fingerprint makes it easy)")
		}
		e.setRef(&e.refs.secret, d)
		if len(d.Args) == 2 && !d.Inline {
			k, ok := parseKeyDirection(d.Args[1])
			if !ok {
				return fmt.Errorf("key direction %q must be 0 or 1", d.Args[1])
			}
			e.keyDir = k
		}
		return nil
	})

	// --- TLS checks and parameters ---------------------------------------
	t["remote-cert-tls"] = opt(1, 1, cGeneral, "server|client", func(e *evaluator, d Directive) error {
		u, err := parseCertUsage(d.Args[0])
		e.o.TLS.RemoteCertTLS = u
		return err
	})
	t["ns-cert-type"] = opt(1, 1, cGeneral, "server|client", func(e *evaluator, d Directive) error {
		u, err := parseCertUsage(d.Args[0])
		if err != nil {
			return err
		}
		e.o.TLS.NSCertType = u
		e.warnf(d, "DEPRECATED OPTION: ns-cert-type checks the obsolete Netscape certificate type; openvpn-go checks the extended key usage instead (as 'remote-cert-tls %s' does): replace it with 'remote-cert-tls %s'", u, u)
		return nil
	})
	t["remote-cert-ku"] = opt(0, anyArgs, cGeneral, "[HEX...]", func(e *evaluator, d Directive) error {
		e.o.TLS.RemoteCertKU = nil
		if len(d.Args) == 0 {
			e.o.TLS.RemoteCertKURequired = true
			return nil
		}
		for _, a := range d.Args {
			v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(a, "0x"), "0X"), 16, 16)
			if err != nil {
				return fmt.Errorf("key usage %q is not a hex number such as 0x00a0", a)
			}
			e.o.TLS.RemoteCertKU = append(e.o.TLS.RemoteCertKU, uint16(v))
		}
		return nil
	})
	t["remote-cert-eku"] = opt(1, 1, cGeneral, "OID|NAME", setString(func(e *evaluator) *string { return &e.o.TLS.RemoteCertEKU }))
	t["verify-x509-name"] = opt(1, 2, cGeneral, "NAME [subject|name|name-prefix]", func(e *evaluator, d Directive) error {
		if d.Args[0] == "" {
			return errors.New("the name is empty")
		}
		v := &VerifyX509Name{Name: d.Args[0], Type: X509Subject}
		if len(d.Args) == 2 {
			switch d.Args[1] {
			case "subject":
			case "name":
				v.Type = X509Name
			case "name-prefix":
				v.Type = X509NamePrefix
			default:
				return fmt.Errorf("unknown name type %q (subject, name or name-prefix)", d.Args[1])
			}
		}
		e.o.TLS.VerifyX509Name = v
		return nil
	})
	t["tls-remote"] = removed(1, 1, cGeneral, "removed in OpenVPN 2.4 and refused: ignoring it would accept any server the CA signed. Write 'verify-x509-name NAME name' to check the common name (or 'verify-x509-name NAME-PREFIX name-prefix'), or 'verify-x509-name \"C=..., CN=...\" subject' for a whole subject DN", nil)
	t["x509-username-field"] = opt(1, anyArgs, cGeneral, "FIELD...", func(e *evaluator, d Directive) error {
		var fields []string
		for _, f := range d.Args {
			if !strings.HasPrefix(f, "ext:") && strings.ToLower(f) == f {
				e.warnf(d, "DEPRECATED FEATURE: field %q upper-cased to %q; write it in upper case", f, strings.ToUpper(f))
				f = strings.ToUpper(f)
			}
			if strings.HasPrefix(f, "ext:") && f != "ext:subjectAltName" {
				return fmt.Errorf("unsupported extension %q (only ext:subjectAltName)", f)
			}
			fields = append(fields, f)
		}
		e.o.TLS.X509UsernameField = fields
		return nil
	})
	t["x509-track"] = notYet(1, 1, cGeneral, "ATTRIBUTE", "exporting certificate fields to scripts", false, nil)
	t["tls-export-cert"] = notYet(1, 1, cScript, "DIR", "exporting peer certificates to scripts", false, func(e *evaluator, d Directive) error {
		e.o.TLS.ExportCertDir = d.Args[0]
		return nil
	})
	t["tls-version-min"] = opt(1, 2, cGeneral, "1.0|1.1|1.2|1.3 [or-highest]", func(e *evaluator, d Directive) error {
		v, ok := parseTLSVersion(d.Args[0])
		if !ok {
			return fmt.Errorf("unknown TLS version %q (1.0, 1.1, 1.2 or 1.3)", d.Args[0])
		}
		e.o.TLS.VersionMinOrHighest = false
		if len(d.Args) == 2 {
			if d.Args[1] != "or-highest" {
				return fmt.Errorf("unknown flag %q (only or-highest)", d.Args[1])
			}
			e.o.TLS.VersionMinOrHighest = true
		}
		e.o.TLS.VersionMin = v
		e.tlsMinSet = true
		return nil
	})
	t["tls-version-max"] = opt(1, 1, cGeneral, "1.0|1.1|1.2|1.3", func(e *evaluator, d Directive) error {
		v, ok := parseTLSVersion(d.Args[0])
		if !ok {
			return fmt.Errorf("unknown TLS version %q (1.0, 1.1, 1.2 or 1.3)", d.Args[0])
		}
		e.o.TLS.VersionMax = v
		return nil
	})
	t["tls-cert-profile"] = opt(1, 1, cGeneral, "legacy|preferred|suiteb|insecure", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "legacy", "preferred", "suiteb", "insecure":
			e.o.TLS.CertProfile = d.Args[0]
			return nil
		}
		return fmt.Errorf("unknown profile %q (legacy, preferred, suiteb or insecure)", d.Args[0])
	})
	t["tls-cipher"] = opt(1, 1, cGeneral, "LIST", setString(func(e *evaluator) *string { return &e.o.TLS.CipherList }))
	t["tls-ciphersuites"] = opt(1, 1, cGeneral, "LIST", setString(func(e *evaluator) *string { return &e.o.TLS.Ciphersuites }))
	t["tls-groups"] = opt(1, 1, cGeneral, "LIST", setString(func(e *evaluator) *string { return &e.o.TLS.Groups }))
	t["ecdh-curve"] = opt(1, 1, cGeneral, "CURVE", func(e *evaluator, d Directive) error {
		e.o.TLS.ECDHCurve = d.Args[0]
		e.warnf(d, "consider tls-groups instead of forcing one curve with ecdh-curve")
		return nil
	})
	t["hand-window"] = opt(1, 1, cTLSParms, "SECONDS", setSeconds(func(e *evaluator) *time.Duration { return &e.o.TLS.HandWindow }))
	t["tran-window"] = opt(1, 1, cTLSParms, "SECONDS", setSeconds(func(e *evaluator) *time.Duration { return &e.o.TLS.TranWindow }))
	t["tls-timeout"] = opt(1, 1, cTLSParms, "SECONDS", setSeconds(func(e *evaluator) *time.Duration { return &e.o.TLS.Timeout }))
	t["reneg-sec"] = opt(1, 2, cTLSParms, "MAX [MIN]", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if err != nil {
			return err
		}
		e.o.TLS.Reneg.Seconds = v
		e.o.TLS.Reneg.MinSeconds = 0
		if len(d.Args) == 2 {
			m, err := parseSeconds(d.Args[1], "minimum seconds")
			if err != nil {
				return err
			}
			if m > v {
				return fmt.Errorf("the minimum %d s is above the maximum %d s", m/time.Second, v/time.Second)
			}
			e.o.TLS.Reneg.MinSeconds = m
		}
		return nil
	})
	t["reneg-bytes"] = opt(1, 1, cTLSParms, "BYTES", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 0, math.MaxInt64, "bytes")
		e.o.TLS.Reneg.Bytes = v
		return err
	})
	t["reneg-pkts"] = opt(1, 1, cTLSParms, "PACKETS", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 0, math.MaxInt64, "packets")
		e.o.TLS.Reneg.Packets = v
		return err
	})
	t["tls-exit"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.TLS.Exit }))
	t["single-session"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.TLS.SingleSession }))
	t["tls-verify"] = opt(1, 1, cScript, "CMD", func(e *evaluator, d Directive) error {
		e.o.Scripts.TLSVerify = e.script(d)
		return nil
	})
	t["providers"] = opt(1, anyArgs, cGeneral, "PROVIDER...", func(e *evaluator, d Directive) error {
		e.o.TLS.Providers = append([]string(nil), d.Args...)
		return nil
	})
	t["engine"] = notYet(0, 1, cGeneral, "[ENGINE]", "OpenSSL engines do not exist in Go's TLS", false, nil)
	t["keying-material-exporter"] = opt(2, 2, cGeneral, "LABEL LENGTH", func(e *evaluator, d Directive) error {
		if !strings.HasPrefix(d.Args[0], "EXPORTER") {
			return errors.New("the label must begin with \"EXPORTER\"")
		}
		if d.Args[0] == "EXPORTER-OpenVPN-datakeys" {
			return errors.New("the label EXPORTER-OpenVPN-datakeys is reserved for the data-channel keys")
		}
		n, err := parseNonNeg(d.Args[1], 4095, "length")
		if err != nil {
			return err
		}
		if n < 16 {
			return fmt.Errorf("length %d is out of range (16-4095)", n)
		}
		e.o.KeyingMaterialExporter = &KeyingMaterialExporter{Label: d.Args[0], Length: n}
		return nil
	})
	t["force-tls-key-material-export"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.srv.s.ForceKeyMaterialExport }))
	for _, n := range []string{"pkcs11-providers", "pkcs11-protected-authentication", "pkcs11-private-mode", "pkcs11-cert-private", "pkcs11-pin-cache", "pkcs11-id", "pkcs11-id-management"} {
		t[n] = notYet(0, anyArgs, cGeneral, "...", "PKCS#11 tokens; use cert/key, pkcs12 or management-external-key", true, nil)
	}

	// --- Data channel --------------------------------------------------------
	t["data-ciphers"] = opt(1, 1, cGeneral|cInstance, "CIPHER[:CIPHER...]", (*evaluator).optDataCiphers)
	t["ncp-ciphers"] = t["data-ciphers"]
	t["data-ciphers-fallback"] = opt(1, 1, cGeneral|cInstance, "CIPHER", func(e *evaluator, d Directive) error {
		c, supported, known := canonicalCipher(d.Args[0])
		if !supported {
			return cipherError(d.Args[0], known)
		}
		e.o.Data.Fallback = c
		return nil
	})
	t["cipher"] = opt(1, 1, cNCP|cInstance, "CIPHER", func(e *evaluator, d Directive) error {
		c, supported, known := canonicalCipher(d.Args[0])
		if !known {
			return cipherError(d.Args[0], false)
		}
		_ = supported // checked in finalize: only static-key mode uses it
		e.cipherOpt, e.cipherAt = c, d
		e.o.Data.Cipher = c
		return nil
	})
	t["auth"] = opt(1, 1, cGeneral, "DIGEST", func(e *evaluator, d Directive) error {
		v, err := canonicalDigest(d.Args[0])
		if err != nil {
			return err
		}
		e.o.Data.Auth = v
		return nil
	})
	t["replay-window"] = opt(1, 2, cGeneral, "N [SECONDS]", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 0, 65536, "window")
		if err != nil {
			return err
		}
		e.o.Data.ReplayWindow = int(v)
		if len(d.Args) == 2 {
			s, err := parseInt(d.Args[1], 0, 600, "seconds")
			if err != nil {
				return err
			}
			e.o.Data.ReplayTime = time.Duration(s) * time.Second
		}
		return nil
	})
	t["no-replay"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.o.Data.NoReplay = true
		e.warnf(d, "DEPRECATED OPTION: no-replay disables replay protection and is removed in OpenVPN 2.7")
		return nil
	})
	t["mute-replay-warnings"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Data.MuteReplayWarnings }))
	t["replay-persist"] = notYet(1, 1, cGeneral, "FILE", "persisting packet ids (static-key mode)", false, nil)
	t["comp-lzo"] = opt(0, 1, cComp, "[yes|no|adaptive]", (*evaluator).optCompLZO)
	t["compress"] = opt(0, 1, cComp, "[stub|stub-v2|lzo|lz4|lz4-v2|migrate]", (*evaluator).optCompress)
	t["comp-noadapt"] = opt(0, 0, cComp, "", func(e *evaluator, d Directive) error {
		e.o.Data.Compression.Adaptive = false
		return nil
	})
	t["allow-compression"] = opt(1, 1, cGeneral, "no|asym|yes", (*evaluator).optAllowCompression)
	t["key-derivation"] = opt(1, 1, cNCP, "tls-ekm", nil)
	t["protocol-flags"] = opt(1, anyArgs, cNCP, "FLAG...", nil)
	t["peer-id"] = opt(1, 1, cPeerID, "ID", nil)
	t["push-continuation"] = opt(1, 1, cPullMode, "1|2", nil)
	t["auth-token"] = opt(1, 1, cEcho, "TOKEN", func(e *evaluator, d Directive) error {
		e.o.Auth.Token = d.Args[0]
		return nil
	})
	t["auth-token-user"] = opt(1, 1, cEcho, "BASE64-USER", nil)

	// Removed and deprecated crypto options.
	t["key-method"] = removed(1, 1, cGeneral, "REMOVED OPTION: key-method was removed in OpenVPN 2.6 (2.6.14 refuses the file); key method 2 is the only one, so the line is ignored: delete it", func(e *evaluator, d Directive) error {
		if d.Args[0] != "2" {
			return fmt.Errorf("key-method %s is not supported: only key method 2 exists since OpenVPN 2.4", d.Args[0])
		}
		return nil
	})
	t["keysize"] = removed(1, 1, cGeneral, "REMOVED OPTION: keysize was removed in OpenVPN 2.6 (2.6.14 refuses the file); it only changed variable-key ciphers such as BF-CBC, so the line is ignored: delete it", nil)
	t["keysize"].apply = func(e *evaluator, d Directive) error { return nil }
	t["ncp-disable"] = removed(0, 0, cGeneral, "REMOVED OPTION: ncp-disable was removed in OpenVPN 2.6 (2.6.14 refuses the file); cipher negotiation is always on, so the line is ignored: delete it and restrict ciphers with data-ciphers if needed", func(e *evaluator, d Directive) error { return nil })
	t["no-iv"] = removed(0, 0, cGeneral, "REMOVED OPTION: no-iv was removed in OpenVPN 2.5; delete it (the peer must not use it either)", nil)
	t["client-cert-not-required"] = removed(0, 0, cGeneral, "REMOVED OPTION: client-cert-not-required; applied as its replacement 'verify-client-cert none': write that instead", func(e *evaluator, d Directive) error {
		e.srv.s.VerifyClientCert = ClientCertNone
		e.srv.mark("verify-client-cert", d)
		return nil
	})
	t["compat-names"] = removed(0, anyArgs, cGeneral, "REMOVED OPTION: compat-names was removed in OpenVPN 2.5; delete it and update scripts and client-config-dir names that relied on the old name remapping", nil)
	t["no-name-remapping"] = removed(0, 0, cGeneral, "REMOVED OPTION: no-name-remapping was removed in OpenVPN 2.5; delete it and update scripts and client-config-dir names that relied on it", nil)
	t["ifconfig-pool-linear"] = removed(0, 0, cGeneral, "REMOVED OPTION: ifconfig-pool-linear; write 'topology p2p' instead", nil)
	t["prng"] = ignored(1, 2, cGeneral, "NOTICE: prng is ignored: the crypto library's random generator is used")
	t["use-prediction-resistance"] = ignored(0, 0, cGeneral, "ignored: Go's crypto/rand needs no prediction resistance setting")
	t["opt-verify"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.warnf(d, "DEPRECATED OPTION: opt-verify is deprecated and removed in OpenVPN 2.7")
		e.srv.s.OptVerify = true
		e.srv.mark("opt-verify", d)
		return nil
	})
	t["disable-occ"] = ignored(0, 0, cGeneral, "ignored: the OCC options string is only informational")

	// --- Client authentication -----------------------------------------------
	t["auth-user-pass"] = opt(0, 1, cGeneral|cInline, "[FILE]", func(e *evaluator, d Directive) error {
		if len(d.Args) == 0 {
			e.refs.userPass = &fileRef{at: d, option: d.Name}
			return nil
		}
		e.setRef(&e.refs.userPass, d)
		return nil
	})
	t["auth-nocache"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Auth.NoCache }))
	t["auth-retry"] = opt(1, 1, cGeneral, "none|nointeract|interact", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "none":
			e.o.Auth.Retry = AuthRetryNone
		case "nointeract":
			e.o.Auth.Retry = AuthRetryNoInteract
		case "interact":
			e.o.Auth.Retry = AuthRetryInteract
		default:
			return fmt.Errorf("unknown value %q (none, nointeract or interact)", d.Args[0])
		}
		return nil
	})
	t["static-challenge"] = opt(2, 2, cGeneral, "TEXT 0|1", func(e *evaluator, d Directive) error {
		e.o.Auth.StaticChallenge = &StaticChallenge{Text: d.Args[0], Echo: d.Args[1] != "0"}
		return nil
	})

	// --- Timers ----------------------------------------------------------------
	t["ping"] = opt(1, 1, cTimer, "SECONDS", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		e.o.Timers.Ping = v
		e.pingSet = true
		return err
	})
	t["ping-restart"] = opt(1, 1, cTimer, "SECONDS", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if e.pingRecSet && e.o.Timers.PingExit != 0 {
			e.warnf(d, "replaces the earlier ping-exit (only one of ping-exit and ping-restart applies)")
		}
		e.o.Timers.PingRestart, e.o.Timers.PingExit = v, 0
		e.pingRecSet = true
		return err
	})
	t["ping-exit"] = opt(1, 1, cTimer, "SECONDS", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if e.pingRecSet && e.o.Timers.PingRestart != 0 {
			e.warnf(d, "replaces the earlier ping-restart (only one of ping-exit and ping-restart applies)")
		}
		e.o.Timers.PingExit, e.o.Timers.PingRestart = v, 0
		e.pingRecSet = true
		return err
	})
	t["ping-timer-rem"] = opt(0, 0, cTimer, "", setBool(func(e *evaluator) *bool { return &e.o.Timers.PingTimerRem }))
	t["keepalive"] = opt(2, 2, cGeneral, "INTERVAL TIMEOUT", func(e *evaluator, d Directive) error {
		i, err := parseSeconds(d.Args[0], "interval")
		if err != nil {
			return err
		}
		to, err := parseSeconds(d.Args[1], "timeout")
		if err != nil {
			return err
		}
		e.o.Timers.KeepaliveInterval, e.o.Timers.KeepaliveTimeout = i, to
		e.keepaliveAt = &d
		return nil
	})
	t["inactive"] = opt(1, 2, cTimer, "SECONDS [BYTES]", func(e *evaluator, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if err != nil {
			return err
		}
		e.o.Timers.Inactive = v
		if len(d.Args) == 2 {
			b, err := parseInt(d.Args[1], 0, math.MaxInt64, "bytes")
			if err != nil {
				return err
			}
			e.o.Timers.InactiveBytes = b
		}
		return nil
	})
	t["session-timeout"] = opt(1, 1, cTimer, "SECONDS", setSeconds(func(e *evaluator) *time.Duration { return &e.o.Timers.SessionTimeout }))

	// --- Persistence -------------------------------------------------------------
	t["persist-key"] = opt(0, 0, cPersist, "", setBool(func(e *evaluator) *bool { return &e.o.Persist.Key }))
	t["persist-tun"] = opt(0, 0, cPersist, "", setBool(func(e *evaluator) *bool { return &e.o.Persist.Tun }))
	t["persist-remote-ip"] = opt(0, 0, cPersistIP, "", setBool(func(e *evaluator) *bool { return &e.o.Persist.RemoteIP }))
	t["persist-local-ip"] = opt(0, 0, cPersistIP, "", setBool(func(e *evaluator) *bool { return &e.o.Persist.LocalIP }))

	// --- Scripts ------------------------------------------------------------------
	script := func(get func(e *evaluator) **Script) func(*evaluator, Directive) error {
		return func(e *evaluator, d Directive) error {
			p := get(e)
			if *p != nil {
				e.warnf(d, "replaces the %s script given at line %d", d.Name, (*p).Line)
			}
			*p = e.script(d)
			return nil
		}
	}
	t["up"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.Up }))
	t["down"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.Down }))
	t["route-up"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.RouteUp }))
	t["route-pre-down"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.RoutePreDown }))
	t["ipchange"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.IPChange }))
	t["client-connect"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.ClientConnect }))
	t["client-disconnect"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.ClientDisconnect }))
	t["client-crresponse"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.ClientCRResponse }))
	t["learn-address"] = opt(1, 1, cScript, "CMD", script(func(e *evaluator) **Script { return &e.o.Scripts.LearnAddress }))
	t["auth-user-pass-verify"] = opt(2, 2, cScript, "CMD via-env|via-file", func(e *evaluator, d Directive) error {
		switch d.Args[1] {
		case "via-env":
			e.o.Scripts.AuthUserPassVerifyMethod = ViaEnv
		case "via-file":
			e.o.Scripts.AuthUserPassVerifyMethod = ViaFile
		default:
			return fmt.Errorf("second argument %q must be via-env or via-file", d.Args[1])
		}
		e.o.Scripts.AuthUserPassVerify = e.script(d)
		return nil
	})
	t["script-security"] = opt(1, 1, cGeneral, "0|1|2|3", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 3, "level")
		e.o.Scripts.Security = v
		return err
	})
	t["down-pre"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Scripts.DownPre }))
	t["up-delay"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Scripts.UpDelay }))
	t["up-restart"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Scripts.UpRestart }))
	t["plugin"] = notYet(1, anyArgs, cPlugin, "MODULE [ARGS...]", "C plugins cannot be loaded by openvpn-go; use scripts (auth-user-pass-verify, client-connect) or management-client-auth instead", true, func(e *evaluator, d Directive) error {
		e.o.Scripts.Plugins = append(e.o.Scripts.Plugins, Plugin{Module: d.Args[0], Args: d.Args[1:], File: d.File, Line: d.Line})
		return nil
	})
	t["tmp-dir"] = opt(1, 1, cGeneral, "DIR", setString(func(e *evaluator) *string { return &e.o.Scripts.TmpDir }))

	// --- Management -----------------------------------------------------------------
	t["management"] = opt(2, 3, cGeneral, "HOST PORT [PWFILE] | PATH unix [PWFILE]", func(e *evaluator, d Directive) error {
		m := e.mgmt()
		m.Addr = d.Args[0]
		if d.Args[1] == "unix" {
			m.Unix, m.Port = true, 0
		} else {
			p, err := parsePort(d.Args[1], false)
			if err != nil {
				return err
			}
			m.Port = p
		}
		m.PasswordFile = argOr(d, 2, "")
		e.mgmtAt = &d
		return nil
	})
	mflag := func(f func(m *Management) *bool) func(*evaluator, Directive) error {
		return func(e *evaluator, d Directive) error {
			*f(e.mgmt()) = true
			return nil
		}
	}
	t["management-hold"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.Hold }))
	t["management-query-passwords"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.QueryPasswords }))
	t["management-query-proxy"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.QueryProxy }))
	t["management-query-remote"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.QueryRemote }))
	t["management-client-auth"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.ClientAuth }))
	t["management-client"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.Client }))
	t["management-signal"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.Signal }))
	t["management-forget-disconnect"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.ForgetDisconnect }))
	t["management-up-down"] = opt(0, 0, cGeneral, "", mflag(func(m *Management) *bool { return &m.UpDown }))
	t["management-external-key"] = opt(0, anyArgs, cGeneral, "[nopadding] [pkcs1] [pss] [digest]", func(e *evaluator, d Directive) error {
		for _, f := range d.Args {
			switch f {
			case "nopadding", "pkcs1", "pss", "digest":
			default:
				return fmt.Errorf("unknown flag %q (nopadding, pkcs1, pss, digest)", f)
			}
		}
		m := e.mgmt()
		m.ExternalKey = true
		m.ExternalKeyFlags = append([]string(nil), d.Args...)
		return nil
	})
	t["management-external-cert"] = opt(1, 1, cGeneral, "HINT", func(e *evaluator, d Directive) error {
		e.mgmt().ExternalCert = d.Args[0]
		return nil
	})
	t["management-client-user"] = opt(1, 1, cGeneral, "USER", func(e *evaluator, d Directive) error {
		e.mgmt().ClientUser = d.Args[0]
		return nil
	})
	t["management-client-group"] = opt(1, 1, cGeneral, "GROUP", func(e *evaluator, d Directive) error {
		e.mgmt().ClientGroup = d.Args[0]
		return nil
	})
	t["management-log-cache"] = opt(1, 1, cGeneral, "N", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 1<<20, "lines")
		if err == nil && v < 1 {
			err = errors.New("the cache must hold at least 1 line")
		}
		e.mgmt().LogCache = v
		return err
	})

	// --- Logging and process ------------------------------------------------------------
	t["verb"] = opt(1, 1, cMessages, "0..11", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], 15, "level")
		e.o.Log.Verb = v
		return err
	})
	t["mute"] = opt(1, 1, cMessages, "N", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "count")
		e.o.Log.Mute = v
		return err
	})
	t["errors-to-stderr"] = opt(0, 0, cMessages, "", setBool(func(e *evaluator) *bool { return &e.o.Log.ErrorsToStderr }))
	t["log"] = opt(1, 1, cGeneral, "FILE", func(e *evaluator, d Directive) error {
		e.o.Log.File, e.o.Log.Append = d.Args[0], false
		return nil
	})
	t["log-append"] = opt(1, 1, cGeneral, "FILE", func(e *evaluator, d Directive) error {
		e.o.Log.File, e.o.Log.Append = d.Args[0], true
		return nil
	})
	t["syslog"] = opt(0, 1, cGeneral, "[NAME]", func(e *evaluator, d Directive) error {
		e.o.Log.Syslog = true
		e.o.Log.SyslogName = argOr(d, 0, "")
		return nil
	})
	t["suppress-timestamps"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Log.SuppressTimestamps }))
	t["machine-readable-output"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Log.MachineReadable }))
	t["status"] = opt(1, 2, cGeneral, "FILE [SECONDS]", func(e *evaluator, d Directive) error {
		e.o.Log.Status = d.Args[0]
		if len(d.Args) == 2 {
			v, err := parseSeconds(d.Args[1], "interval")
			if err != nil {
				return err
			}
			e.o.Log.StatusInterval = v
		}
		return nil
	})
	t["status-version"] = opt(1, 1, cGeneral, "1|2|3", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 3, "version")
		e.o.Log.StatusVersion = int(v)
		return err
	})
	t["daemon"] = opt(0, 1, cGeneral, "[NAME]", func(e *evaluator, d Directive) error {
		if e.o.Process.Daemon && len(d.Args) == 1 {
			e.warnf(d, "daemon given twice; the name %q is ignored", d.Args[0])
			return nil
		}
		e.o.Process.Daemon = true
		e.o.Process.DaemonName = argOr(d, 0, "")
		return nil
	})
	t["writepid"] = opt(1, 1, cGeneral, "FILE", setString(func(e *evaluator) *string { return &e.o.Process.WritePID }))
	t["user"] = opt(1, 1, cGeneral, "USER", setString(func(e *evaluator) *string { return &e.o.Process.User }))
	t["group"] = opt(1, 1, cGeneral, "GROUP", setString(func(e *evaluator) *string { return &e.o.Process.Group }))
	t["chroot"] = opt(1, 1, cGeneral, "DIR", setString(func(e *evaluator) *string { return &e.o.Process.Chroot }))
	t["cd"] = opt(1, 1, cGeneral, "DIR", func(e *evaluator, d Directive) error {
		e.o.Process.Cd = d.Args[0]
		e.dir = resolve(e.dir, d.Args[0])
		e.dirSet = true
		if st, err := e.files.stat(e.dir); err != nil || !st.IsDir() {
			return fmt.Errorf("directory %s does not exist: OpenVPN cannot change to it", e.dir)
		}
		return nil
	})
	t["setcon"] = notYet(1, 1, cGeneral, "CONTEXT", "SELinux contexts", false, nil)
	t["nice"] = opt(1, 1, cNice, "N", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], -20, 19, "niceness")
		e.o.Process.Nice = int(v)
		return err
	})
	t["mlock"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Process.MLock }))
	t["remap-usr1"] = opt(1, 1, cGeneral, "SIGHUP|SIGTERM", func(e *evaluator, d Directive) error {
		if d.Args[0] != "SIGHUP" && d.Args[0] != "SIGTERM" {
			return fmt.Errorf("%q must be SIGHUP or SIGTERM", d.Args[0])
		}
		e.o.Process.RemapUSR1 = d.Args[0]
		return nil
	})
	t["fast-io"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Process.FastIO }))
	t["passtos"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.Process.PassTOS }))
	t["mark"] = opt(1, 1, cGeneral, "MARK", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], math.MinInt32, math.MaxUint32, "mark")
		e.o.Process.Mark = int(v)
		return err
	})
	t["bind-dev"] = opt(1, 1, cSockflags, "DEVICE", setString(func(e *evaluator) *string { return &e.o.Process.BindDev }))
	t["sndbuf"] = opt(1, 1, cSockbuf, "BYTES", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "size")
		e.o.Process.Sndbuf = v
		return err
	})
	t["rcvbuf"] = opt(1, 1, cSockbuf, "BYTES", func(e *evaluator, d Directive) error {
		v, err := parseNonNeg(d.Args[0], math.MaxInt32, "size")
		e.o.Process.Rcvbuf = v
		return err
	})
	t["socket-flags"] = opt(1, anyArgs, cSockflags, "TCP_NODELAY", func(e *evaluator, d Directive) error {
		for _, f := range d.Args {
			if f != "TCP_NODELAY" {
				return fmt.Errorf("unknown socket flag %q (only TCP_NODELAY)", f)
			}
		}
		e.o.Process.TCPNoDelay = true
		return nil
	})
	t["tcp-nodelay"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.tcpNoDelay = &d
		return nil
	})
	t["shaper"] = notYet(1, 1, cShaper, "BYTES-PER-SEC", "traffic shaping; no limit is applied", false, nil)
	t["gremlin"] = notYet(1, 1, cGeneral, "N", "fault injection (debug builds only)", false, nil)
	t["memstats"] = notYet(1, 1, cGeneral, "FILE", "memory statistics", false, nil)
	t["push-peer-info"] = opt(0, 0, cGeneral, "", setBool(func(e *evaluator) *bool { return &e.o.PushPeerInfo }))

	// Stand-alone commands of the openvpn binary.
	for _, n := range []string{"help", "version", "show-ciphers", "show-digests", "show-engines", "show-tls", "show-curves", "show-groups", "show-gateway", "test-crypto", "show-pkcs11-ids"} {
		t[n] = notYet(0, 2, cGeneral, "", "a stand-alone command of the openvpn binary, not a configuration option", true, nil)
	}
	t["genkey"] = notYet(0, 3, cGeneral, "[TYPE] [FILE]", "a stand-alone command of the openvpn binary (key generation), not a configuration option", true, nil)

	// --- Server ----------------------------------------------------------------------
	addServerOptions(t)
	return t
}

func argOr(d Directive, i int, def string) string {
	if i < len(d.Args) {
		return d.Args[i]
	}
	return def
}

func parseTopology(s string) (Topology, error) {
	switch s {
	case "net30":
		return TopologyNet30, nil
	case "p2p":
		return TopologyP2P, nil
	case "subnet":
		return TopologySubnet, nil
	}
	return TopologyNet30, fmt.Errorf("unknown topology %q (net30, p2p or subnet)", s)
}

func parseCertUsage(s string) (CertUsage, error) {
	switch s {
	case "server":
		return CertUsageServer, nil
	case "client":
		return CertUsageClient, nil
	}
	return CertUsageNone, fmt.Errorf("%q must be server or client", s)
}

func isMAC(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return false
	}
	for _, p := range parts {
		if len(p) != 2 {
			return false
		}
		if _, err := strconv.ParseUint(p, 16, 8); err != nil {
			return false
		}
	}
	return true
}

// mgmt returns the Management options, creating them.
func (e *evaluator) mgmt() *Management {
	if e.o.Management == nil {
		e.o.Management = &Management{LogCache: 250}
	}
	return e.o.Management
}

// script records a hook command; its executable is checked at the end.
func (e *evaluator) script(d Directive) *Script {
	s := &Script{Command: d.Args[0], File: d.File, Line: d.Line}
	words, err := splitLine(d.Args[0])
	if err == nil && len(words) > 0 {
		s.Path = words[0]
		s.Args = words[1:]
	}
	e.scriptAt[d.Name] = d
	return s
}

// optSetenv handles "setenv NAME [VALUE]" and its special names.
func (e *evaluator) optSetenv(d Directive) error {
	name, value := d.Args[0], argOr(d, 1, "")
	switch name {
	case "FORWARD_COMPATIBLE":
		if value == "1" {
			e.forwardCompat = true
		}
	case "GENERIC_CONFIG":
		return errors.New("this is a generic configuration (a template) and cannot be used directly")
	case "PUSH_PEER_INFO":
		if len(d.Args) == 1 {
			e.o.PushPeerInfo = true
			return nil
		}
	case "REMOTE_RANDOM_HOSTNAME":
		if len(d.Args) == 1 {
			e.o.RemoteRandomHostname = true
			return nil
		}
	case "SERVER_POLL_TIMEOUT":
		if len(d.Args) == 2 {
			v, err := parseSeconds(value, "timeout")
			if err != nil {
				return err
			}
			e.cur.c.ConnectTimeout = v
			return nil
		}
	}
	e.o.Setenv = append(e.o.Setenv, Setenv{Name: name, Value: value})
	return nil
}

// optRemote handles "remote HOST [PORT] [PROTO]".
func (e *evaluator) optRemote(d Directive) error {
	r := remoteLine{host: d.Args[0], at: d}
	if r.host == "" {
		return errors.New("the host is empty")
	}
	if _, err := netip.ParseAddr(r.host); err != nil && !looksLikeHostname(r.host) {
		return fmt.Errorf("host %q is neither an IP address nor a valid host name", r.host)
	}
	if len(d.Args) > 1 {
		p, err := parsePort(d.Args[1], false)
		if err != nil {
			return err
		}
		r.port, r.portSet = p, true
	}
	if len(d.Args) > 2 {
		p, f, ok := parseProto(d.Args[2])
		if !ok {
			return fmt.Errorf("unknown protocol %q for host %s (udp, tcp, tcp-client, with optional 4/6: udp6, tcp4-client...)", d.Args[2], r.host)
		}
		r.proto, r.family, r.protoSet = p, f, true
	}
	if e.ctx == ctxConnection {
		if e.cur.hasRemote {
			e.warnf(d, "a <connection> block takes exactly one remote; this one replaces the earlier one")
		}
		file, line := e.cur.c.File, e.cur.c.Line
		loadRemote(e.cur, r)
		e.cur.c.File, e.cur.c.Line = file, line
		return nil
	}
	e.remotes = append(e.remotes, r)
	return nil
}

// optConnection reads a <connection> block: it starts from the options
// written so far and may change only connection options.
func (e *evaluator) optConnection(d Directive) error {
	if !d.Inline {
		return errors.New("must be written as a <connection> ... </connection> block")
	}
	cs := e.global
	cs.c.File, cs.c.Line = d.File, d.Line
	cs.tlsAuth, cs.tlsCrypt, cs.tlsCryptV2 = nil, nil, nil
	cs.keyDir = KeyDirBidirectional
	savedCur, savedCtx := e.cur, e.ctx
	e.cur, e.ctx = &cs, ctxConnection
	for _, inner := range d.Block {
		e.apply(inner)
	}
	e.cur, e.ctx = savedCur, savedCtx
	if !cs.hasRemote {
		return errors.New("each <connection> block must contain exactly one 'remote'")
	}
	e.blocks = append(e.blocks, cs)
	return nil
}

// optHTTPProxy records "http-proxy" (not supported yet).
func (e *evaluator) optHTTPProxy(d Directive) error {
	p, err := parsePort(d.Args[1], false)
	if err != nil {
		return err
	}
	hp := e.cur.c.HTTPProxy
	if hp == nil {
		hp = &HTTPProxy{}
		e.cur.c.HTTPProxy = hp
	}
	hp.Host, hp.Port = d.Args[0], p
	hp.Auth = argOr(d, 2, "")
	hp.AuthMethod = argOr(d, 3, "")
	if hp.Auth != "" && hp.Auth != "auto" && hp.Auth != "auto-nct" && hp.AuthMethod == "" {
		hp.AuthMethod = "basic"
	}
	return nil
}

// optRedirect handles redirect-gateway and redirect-private.
func (e *evaluator) optRedirect(d Directive) error {
	r := &e.o.Routing
	if r.RedirectGateway != nil {
		e.warnf(d, "redirect-gateway/redirect-private given more than once; the flags are combined, which OpenVPN supports poorly")
	} else {
		r.RedirectGateway = &RedirectGateway{}
	}
	return parseRedirect(d.Name, d.Args, r.RedirectGateway)
}

// optDataCiphers handles data-ciphers / ncp-ciphers.
func (e *evaluator) optDataCiphers(d Directive) error {
	if d.Name == "ncp-ciphers" {
		e.warnf(d, "Note: ncp-ciphers was renamed data-ciphers in OpenVPN 2.5")
	}
	c, warns, err := parseDataCiphers(d.Args[0])
	for _, w := range warns {
		e.warnf(d, "%s", w)
	}
	if err != nil {
		return err
	}
	e.o.Data.Ciphers = c
	e.ciphersSet = true
	return nil
}

// optCompLZO handles "comp-lzo [yes|no|adaptive]".
func (e *evaluator) optCompLZO(d Directive) error {
	c := &e.o.Data.Compression
	arg := argOr(d, 0, "")
	switch arg {
	case "no":
		c.Algorithm, c.Adaptive = CompLZOStub, false
	case "yes":
		c.Algorithm, c.Adaptive = CompLZO, false
	case "adaptive", "":
		c.Algorithm, c.Adaptive = CompLZO, true
	default:
		return fmt.Errorf("unknown value %q (yes, no or adaptive)", arg)
	}
	e.compSet = true
	e.compAt = d
	return nil
}

// optCompress handles "compress [alg]".
func (e *evaluator) optCompress(d Directive) error {
	c := &e.o.Data.Compression
	switch argOr(d, 0, "stub") {
	case "stub":
		c.Algorithm = CompStub
	case "stub-v2":
		c.Algorithm = CompStubV2
	case "migrate":
		c.Algorithm = CompMigrate
	case "lzo":
		c.Algorithm, c.Adaptive = CompLZO, false
	case "lz4":
		c.Algorithm = CompLZ4
	case "lz4-v2":
		c.Algorithm = CompLZ4V2
	default:
		return fmt.Errorf("unknown algorithm %q (stub, stub-v2, lzo, lz4, lz4-v2, migrate)", d.Args[0])
	}
	e.compSet = true
	e.compAt = d
	return nil
}

// optAllowCompression handles "allow-compression no|asym|yes".
func (e *evaluator) optAllowCompression(d Directive) error {
	c := &e.o.Data.Compression
	switch d.Args[0] {
	case "no":
		c.Allow = AllowCompressionNo
	case "asym":
		c.Allow = AllowCompressionAsym
	case "yes":
		c.Allow = AllowCompressionYes
		e.warnf(d, "WARNING: compression in both directions allows attacks that break encryption (VORACLE); 'allow-compression yes' is strongly discouraged")
	default:
		return fmt.Errorf("unknown value %q (no, asym or yes)", d.Args[0])
	}
	if e.allowCompSet && e.allowCompNo && d.Args[0] != "no" {
		return fmt.Errorf("cannot set allow-compression to %q after 'allow-compression no'", d.Args[0])
	}
	e.allowCompSet = true
	e.allowCompNo = d.Args[0] == "no"
	e.allowCompAt = d
	return nil
}
