package config

// Options pushed by a server (PUSH_REPLY), read the way an OpenVPN 2.6
// client reads them (push.c, options.c apply_push_options and the pull
// permission mask of init.c): options are comma-separated config lines;
// pull-filter rules apply to the raw line, first match wins; route-nopull
// removes the route and DHCP/DNS classes; options outside the pull mask are
// refused and reported, not fatal; Windows-only options are tolerated.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// MaxPushOptionLen is the longest option a PUSH_REPLY may carry, in bytes
// (OpenVPN's OPTION_PARM_SIZE minus the terminator).
const MaxPushOptionLen = 255

// maxPushReplyLen bounds one PUSH_REPLY message (control messages are at
// most 2047 bytes in OpenVPN; allow some slack).
const maxPushReplyLen = 64 << 10

// ErrPushRejected is wrapped by Pushed.Apply when the push must be refused
// as a whole: a "pull-filter reject" rule matched, or the server pushed
// compression that allow-compression forbids. OpenVPN reconnects (SIGUSR1)
// in both cases.
var ErrPushRejected = errors.New("config: push rejected")

// ParsePushReply splits a PUSH_REPLY control message ("PUSH_REPLY,opt,opt")
// into its option lines, in order. The byte after "PUSH_REPLY" must be a
// comma or the end of the message. Empty options are skipped. Options are
// not interpreted here; see Pushed.Apply. The result does not alias msg.
func ParsePushReply(msg string) ([]string, error) {
	const prefix = "PUSH_REPLY"
	if !strings.HasPrefix(msg, prefix) {
		return nil, errors.New("config: not a PUSH_REPLY message")
	}
	if len(msg) > maxPushReplyLen {
		return nil, fmt.Errorf("config: PUSH_REPLY of %d bytes is too long", len(msg))
	}
	rest := msg[len(prefix):]
	if rest == "" {
		return nil, nil
	}
	if rest[0] != ',' {
		return nil, errors.New("config: bad PUSH_REPLY: options must follow \"PUSH_REPLY,\"")
	}
	var out []string
	for _, o := range strings.Split(rest[1:], ",") {
		if strings.TrimSpace(o) == "" {
			continue
		}
		out = append(out, strings.Clone(o))
	}
	return out, nil
}

// PushPolicy is the client configuration that decides which pushed options
// are accepted. Options.PushPolicy derives it from a profile.
type PushPolicy struct {
	// Filters are the pull-filter rules in order.
	Filters []PullFilter
	// RouteNoPull drops pushed routes, dhcp-options and dns.
	RouteNoPull bool
	// AllowPullFQDN accepts host names in pushed routes and ifconfig.
	AllowPullFQDN bool
	// AllowCompression is the local allow-compression policy: with "no", a
	// pushed real compression algorithm rejects the whole push.
	AllowCompression AllowCompression
	// TunMTUMax caps a pushed tun-mtu (default 1600).
	TunMTUMax int
}

// PushPolicy returns the push policy of a client profile.
func (o *Options) PushPolicy() PushPolicy {
	p := PushPolicy{
		Filters:          append([]PullFilter(nil), o.Routing.PullFilters...),
		RouteNoPull:      o.Routing.NoPull,
		AllowPullFQDN:    o.Routing.AllowPullFQDN,
		AllowCompression: o.Data.Compression.Allow,
		TunMTUMax:        1600,
	}
	if len(o.Connections) > 0 && o.Connections[0].TunMTUMax > 0 {
		p.TunMTUMax = o.Connections[0].TunMTUMax
	}
	return p
}

// Pushed accumulates the options a client accepted from one or more
// PUSH_REPLY messages (a reply may be split with push-continuation). The
// zero value is empty and ready to use. Apply may be called once per
// message; lists accumulate, single values are replaced. Not safe for
// concurrent use.
type Pushed struct {
	// Addressing.
	Ifconfig           netip.Addr // "ifconfig local remote|netmask": local
	IfconfigRemote     netip.Addr // peer (net30/p2p) or netmask (subnet/tap)
	IfconfigIPv6       netip.Prefix
	IfconfigIPv6Remote netip.Addr
	Topology           Topology
	TopologySet        bool
	IfconfigNoExec     bool
	LLAddr             string

	// Routing.
	Routes           []Route
	Routes6          []Route6
	RouteGateway     netip.Addr
	RouteGatewayDHCP bool
	Route6Gateway    netip.Addr
	RouteMetric      int
	RouteMetricSet   bool
	RouteDelay       time.Duration
	RouteDelayWindow time.Duration
	RouteDelaySet    bool
	RedirectGateway  *RedirectGateway
	BlockIPv6        bool

	// DNS: dhcp-option lines and the structured dns option.
	DHCPOptions []DHCPOption
	DNS         DNS

	// Negotiated data channel.
	PeerID           uint32
	PeerIDSet        bool
	Cipher           string // normalised
	KeyDerivationEKM bool   // "key-derivation tls-ekm"
	CCExit           bool   // protocol-flags cc-exit
	TLSEKM           bool   // protocol-flags tls-ekm
	DynTLSCrypt      bool   // protocol-flags dyn-tls-crypt
	// Compression is CompNone unless comp-lzo or compress was pushed.
	Compression    CompAlgorithm
	CompressionSet bool
	TunMTU         int // 0 = not pushed

	// Authentication token (a secret: never logged by this package).
	AuthToken     string
	AuthTokenUser string // decoded from base64

	// Timers.
	Ping               time.Duration
	PingSet            bool
	PingRestart        time.Duration
	PingExit           time.Duration
	PingRecSet         bool
	PingTimerRem       bool
	Inactive           time.Duration
	InactiveBytes      int64
	InactiveSet        bool
	SessionTimeout     time.Duration
	SessionTimeoutSet  bool
	ExplicitExitNotify int
	ExplicitExitSet    bool

	// Miscellaneous.
	PersistKey, PersistTun bool
	Sndbuf, Rcvbuf         int
	TCPNoDelay             bool
	BindDev                string
	Echo                   []string
	SetenvSafe             []Setenv
	// Continuation is the sticky push-continuation value: 2 means more
	// messages follow.
	Continuation int

	// Accepted lists every option line applied, in order.
	Accepted []string
	// Notes lists the options not applied and why.
	Notes []PushNote
}

// Complete reports whether the last message received ended the reply
// (push-continuation was not 2).
func (p *Pushed) Complete() bool { return p.Continuation != 2 }

// PushNote explains why a pushed option was not applied.
type PushNote struct {
	// Index is the option's 1-based position within its message; Option
	// is the line as received (auth-token values are elided).
	Index  int
	Option string
	// Action is "filtered" (pull-filter ignore), "refused" (not allowed from
	// a server, or route-nopull), "ignored" (Windows-only or obsolete) or
	// "error" (malformed).
	Action string
	Reason string
}

// String renders the note like OpenVPN's log line.
func (n PushNote) String() string {
	return fmt.Sprintf("[PUSH-OPTIONS]:%d: %s %q: %s", n.Index, n.Action, n.Option, n.Reason)
}

// Apply applies the option lines of one PUSH_REPLY message (from
// ParsePushReply) under policy pol. Options that are refused, filtered or
// malformed are recorded in Notes and skipped. Apply returns an error
// wrapping ErrPushRejected when a pull-filter reject rule matches or the
// server pushed compression pol forbids; Pushed then holds what was applied
// before the offending option.
func (p *Pushed) Apply(options []string, pol PushPolicy) error {
	mask := class(ctxPullBase)
	if !pol.RouteNoPull {
		mask |= ctxPullRoutes
	}
	for i, raw := range options {
		idx := i + 1
		note := func(action, format string, args ...any) {
			p.Notes = append(p.Notes, PushNote{Index: idx, Option: redactPush(raw), Action: action, Reason: fmt.Sprintf(format, args...)})
		}
		if len(raw) > MaxPushOptionLen {
			note("error", "option longer than %d bytes", MaxPushOptionLen)
			continue
		}
		line := strings.TrimLeft(raw, " \t\n\v\f\r")
		filtered := false
		for _, f := range pol.Filters {
			if !strings.HasPrefix(line, f.Prefix) {
				continue
			}
			switch f.Action {
			case PullIgnore:
				note("filtered", "removed by pull-filter ignore %q", f.Prefix)
				filtered = true
			case PullReject:
				note("filtered", "rejected by pull-filter reject %q", f.Prefix)
				return fmt.Errorf("%w: option %q matches 'pull-filter reject %s'", ErrPushRejected, redactPush(raw), f.Prefix)
			}
			break
		}
		if filtered {
			continue
		}
		words, err := splitLine(line)
		if err != nil {
			note("error", "%v", err)
			continue
		}
		if len(words) == 0 {
			continue
		}
		name, args := words[0], words[1:]
		sp := lookupOption(name)
		if sp == nil {
			note("error", "unrecognized option")
			continue
		}
		if windowsOnlyPush[name] {
			note("ignored", "Windows-only option")
			continue
		}
		if sp.class&mask == 0 {
			if sp.class&ctxPullRoutes != 0 && pol.RouteNoPull {
				note("refused", "route-nopull ignores pushed routes, dhcp-options and dns")
			} else {
				note("refused", "option '%s' cannot be used in this context", name)
			}
			continue
		}
		if len(args) < sp.min || sp.max >= 0 && len(args) > sp.max {
			note("error", "%s (usage: %s)", argCountMsg(sp, len(args)), sp.usageLine(name))
			continue
		}
		fn := pushHandlers[name]
		if fn == nil {
			note("ignored", "accepted from the server but has no effect in openvpn-go")
			continue
		}
		if err := fn(p, args, pol); err != nil {
			if errors.Is(err, ErrPushRejected) {
				note("refused", "%v", err)
				return err
			}
			note("error", "%v", err)
			continue
		}
		p.Accepted = append(p.Accepted, line)
	}
	return nil
}

// redactPush hides auth-token values in notes.
func redactPush(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "auth-token ") || strings.HasPrefix(t, "auth-token-user ") {
		return strings.Fields(t)[0] + " [redacted]"
	}
	return s
}

// windowsOnlyPush are options a Linux client tolerates and ignores when
// pushed.
var windowsOnlyPush = map[string]bool{
	"block-outside-dns": true, "register-dns": true, "ip-win32": true, "dhcp-renew": true,
	"dhcp-pre-release": true, "dhcp-release": true, "tap-sleep": true, "route-method": true,
	"show-net-up": true,
}

type pushHandler func(p *Pushed, args []string, pol PushPolicy) error

// pushHandlers apply pushed options, by name.
var pushHandlers = map[string]pushHandler{
	"ifconfig": func(p *Pushed, a []string, pol PushPolicy) error {
		l, err := parseIPv4(a[0], "local address")
		if err != nil {
			return err
		}
		r, err := parseIPv4(a[1], "remote address or netmask")
		if err != nil {
			return err
		}
		p.Ifconfig, p.IfconfigRemote = l, r
		return nil
	},
	"ifconfig-ipv6": func(p *Pushed, a []string, pol PushPolicy) error {
		pf, err := parseIPv6Prefix(a[0], "address")
		if err != nil {
			return err
		}
		if pf.Bits() < 64 || pf.Bits() > 124 {
			return fmt.Errorf("/%d: the prefix length must be between 64 and 124", pf.Bits())
		}
		r, err := parseIPv6(a[1], "remote address")
		if err != nil {
			return err
		}
		p.IfconfigIPv6, p.IfconfigIPv6Remote = pf, r
		return nil
	},
	"topology": func(p *Pushed, a []string, pol PushPolicy) error {
		t, err := parseTopology(a[0])
		if err != nil {
			return err
		}
		p.Topology, p.TopologySet = t, true
		return nil
	},
	"ifconfig-noexec": func(p *Pushed, a []string, pol PushPolicy) error { p.IfconfigNoExec = true; return nil },
	"ifconfig-nowarn": func(p *Pushed, a []string, pol PushPolicy) error { return nil },
	"tun-ipv6":        func(p *Pushed, a []string, pol PushPolicy) error { return nil },
	"lladdr": func(p *Pushed, a []string, pol PushPolicy) error {
		if !isMAC(a[0]) {
			return fmt.Errorf("%q is not a MAC address", a[0])
		}
		p.LLAddr = a[0]
		return nil
	},
	"route": func(p *Pushed, a []string, pol PushPolicy) error {
		r, err := parseRoute(a, true, pol.AllowPullFQDN)
		if err != nil {
			return err
		}
		p.Routes = append(p.Routes, r)
		return nil
	},
	"route-ipv6": func(p *Pushed, a []string, pol PushPolicy) error {
		r, err := parseRoute6(a)
		if err != nil {
			return err
		}
		p.Routes6 = append(p.Routes6, r)
		return nil
	},
	"route-gateway": func(p *Pushed, a []string, pol PushPolicy) error {
		if a[0] == "dhcp" {
			p.RouteGatewayDHCP = true
			return nil
		}
		g, err := parseIPv4(a[0], "gateway")
		if err != nil {
			return err
		}
		p.RouteGateway = g
		return nil
	},
	"route-ipv6-gateway": func(p *Pushed, a []string, pol PushPolicy) error {
		g, err := parseIPv6(a[0], "gateway")
		if err != nil {
			return err
		}
		p.Route6Gateway = g
		return nil
	},
	"route-metric": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseNonNeg(a[0], math.MaxInt32, "metric")
		if err != nil {
			return err
		}
		p.RouteMetric, p.RouteMetricSet = v, true
		return nil
	},
	"route-delay": func(p *Pushed, a []string, pol PushPolicy) error {
		p.RouteDelaySet = true
		p.RouteDelay = 0
		if len(a) > 0 {
			v, err := parseSeconds(a[0], "delay")
			if err != nil {
				return err
			}
			p.RouteDelay = v
		}
		if len(a) > 1 {
			v, err := parseSeconds(a[1], "window")
			if err != nil {
				return err
			}
			p.RouteDelayWindow = v
		}
		return nil
	},
	"redirect-gateway": pushRedirect("redirect-gateway"),
	"redirect-private": pushRedirect("redirect-private"),
	"block-ipv6":       func(p *Pushed, a []string, pol PushPolicy) error { p.BlockIPv6 = true; return nil },
	"dhcp-option": func(p *Pushed, a []string, pol PushPolicy) error {
		o, err := parseDHCPOption(a)
		if err != nil {
			return err
		}
		p.DHCPOptions = append(p.DHCPOptions, o)
		return nil
	},
	"dns": func(p *Pushed, a []string, pol PushPolicy) error {
		// Work on a copy so that a malformed line changes nothing.
		d := cloneDNS(p.DNS)
		if err := parseDNS(a, true, &d); err != nil {
			return err
		}
		p.DNS = d
		return nil
	},
	"peer-id": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseInt(a[0], 0, 0xFFFFFE, "peer-id")
		if err != nil {
			return err
		}
		p.PeerID, p.PeerIDSet = uint32(v), true
		return nil
	},
	"cipher": func(p *Pushed, a []string, pol PushPolicy) error {
		c, supported, known := canonicalCipher(a[0])
		if !supported {
			return cipherError(a[0], known)
		}
		p.Cipher = c
		return nil
	},
	"key-derivation": func(p *Pushed, a []string, pol PushPolicy) error {
		if a[0] != "tls-ekm" {
			return fmt.Errorf("unknown key-derivation method %q", a[0])
		}
		p.KeyDerivationEKM = true
		return nil
	},
	"protocol-flags": func(p *Pushed, a []string, pol PushPolicy) error {
		var unknown []string
		for _, f := range a {
			switch f {
			case "cc-exit":
				p.CCExit = true
			case "tls-ekm":
				p.TLSEKM = true
			case "dyn-tls-crypt":
				p.DynTLSCrypt = true
			default:
				unknown = append(unknown, f)
			}
		}
		if len(unknown) > 0 {
			// OpenVPN warns and keeps the known flags.
			p.Notes = append(p.Notes, PushNote{Option: "protocol-flags " + strings.Join(a, " "), Action: "ignored", Reason: "unknown flags " + strings.Join(unknown, " ")})
		}
		return nil
	},
	"comp-lzo": func(p *Pushed, a []string, pol PushPolicy) error {
		alg := CompLZO
		if len(a) == 1 {
			switch a[0] {
			case "no":
				alg = CompLZOStub
			case "yes", "adaptive":
			default:
				return fmt.Errorf("unknown value %q (yes, no or adaptive)", a[0])
			}
		}
		return p.setCompression(alg, pol)
	},
	"compress": func(p *Pushed, a []string, pol PushPolicy) error {
		var alg CompAlgorithm
		switch argOrS(a, 0, "stub") {
		case "stub":
			alg = CompStub
		case "stub-v2":
			alg = CompStubV2
		case "lzo":
			alg = CompLZO
		case "lz4":
			alg = CompLZ4
		case "lz4-v2":
			alg = CompLZ4V2
		default:
			return fmt.Errorf("unknown or unpushable algorithm %q", a[0])
		}
		return p.setCompression(alg, pol)
	},
	"comp-noadapt": func(p *Pushed, a []string, pol PushPolicy) error { return nil },
	"tun-mtu": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseNonNeg(a[0], 65535, "MTU")
		if err != nil {
			return err
		}
		if v < 100 {
			return fmt.Errorf("pushed tun-mtu %d is below 100", v)
		}
		if max := pol.TunMTUMax; max > 0 && v > max {
			p.Notes = append(p.Notes, PushNote{Option: "tun-mtu " + a[0], Action: "ignored", Reason: fmt.Sprintf("larger than tun-mtu-max %d; using %d", max, max)})
			v = max
		}
		p.TunMTU = v
		return nil
	},
	"auth-token": func(p *Pushed, a []string, pol PushPolicy) error { p.AuthToken = a[0]; return nil },
	"auth-token-user": func(p *Pushed, a []string, pol PushPolicy) error {
		u, err := base64.StdEncoding.DecodeString(a[0])
		if err != nil {
			return errors.New("auth-token-user is not valid base64")
		}
		p.AuthTokenUser = string(u)
		return nil
	},
	"ping": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseSeconds(a[0], "seconds")
		if err != nil {
			return err
		}
		p.Ping, p.PingSet = v, true
		return nil
	},
	"ping-restart": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseSeconds(a[0], "seconds")
		if err != nil {
			return err
		}
		p.PingRestart, p.PingExit, p.PingRecSet = v, 0, true
		return nil
	},
	"ping-exit": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseSeconds(a[0], "seconds")
		if err != nil {
			return err
		}
		p.PingExit, p.PingRestart, p.PingRecSet = v, 0, true
		return nil
	},
	"ping-timer-rem": func(p *Pushed, a []string, pol PushPolicy) error { p.PingTimerRem = true; return nil },
	"inactive": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseSeconds(a[0], "seconds")
		if err != nil {
			return err
		}
		var b int64
		if len(a) == 2 {
			if b, err = parseInt(a[1], 0, math.MaxInt64, "bytes"); err != nil {
				return err
			}
		}
		p.Inactive, p.InactiveBytes, p.InactiveSet = v, b, true
		return nil
	},
	"session-timeout": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseSeconds(a[0], "seconds")
		if err != nil {
			return err
		}
		p.SessionTimeout, p.SessionTimeoutSet = v, true
		return nil
	},
	"explicit-exit-notify": func(p *Pushed, a []string, pol PushPolicy) error {
		n := 1
		if len(a) == 1 {
			v, err := parseNonNeg(a[0], 255, "count")
			if err != nil {
				return err
			}
			n = v
		}
		p.ExplicitExitNotify, p.ExplicitExitSet = n, true
		return nil
	},
	"persist-key": func(p *Pushed, a []string, pol PushPolicy) error { p.PersistKey = true; return nil },
	"persist-tun": func(p *Pushed, a []string, pol PushPolicy) error { p.PersistTun = true; return nil },
	"sndbuf": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseNonNeg(a[0], math.MaxInt32, "size")
		p.Sndbuf = v
		return err
	},
	"rcvbuf": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseNonNeg(a[0], math.MaxInt32, "size")
		p.Rcvbuf = v
		return err
	},
	"socket-flags": func(p *Pushed, a []string, pol PushPolicy) error {
		for _, f := range a {
			if f != "TCP_NODELAY" {
				return fmt.Errorf("unknown socket flag %q", f)
			}
		}
		p.TCPNoDelay = true
		return nil
	},
	"bind-dev": func(p *Pushed, a []string, pol PushPolicy) error { p.BindDev = a[0]; return nil },
	"echo": func(p *Pushed, a []string, pol PushPolicy) error {
		p.Echo = append(p.Echo, strings.Join(a, " "))
		return nil
	},
	"parameter": func(p *Pushed, a []string, pol PushPolicy) error {
		p.Echo = append(p.Echo, strings.Join(a, " "))
		return nil
	},
	"setenv-safe": func(p *Pushed, a []string, pol PushPolicy) error {
		p.SetenvSafe = append(p.SetenvSafe, Setenv{Name: a[0], Value: argOrS(a, 1, ""), Safe: true})
		return nil
	},
	"push-continuation": func(p *Pushed, a []string, pol PushPolicy) error {
		v, err := parseInt(a[0], 0, 2, "value")
		if err != nil {
			return err
		}
		p.Continuation = int(v)
		return nil
	},
}

func argOrS(a []string, i int, def string) string {
	if i < len(a) {
		return a[i]
	}
	return def
}

func pushRedirect(name string) pushHandler {
	return func(p *Pushed, a []string, pol PushPolicy) error {
		rg := RedirectGateway{}
		if p.RedirectGateway != nil {
			rg = *p.RedirectGateway
		}
		if err := parseRedirect(name, a, &rg); err != nil {
			return err
		}
		p.RedirectGateway = &rg
		return nil
	}
}

// setCompression applies a pushed compression option under the local
// allow-compression policy (2.6.2+: a forbidden algorithm aborts the
// connection).
func (p *Pushed) setCompression(alg CompAlgorithm, pol PushPolicy) error {
	if alg.Compresses() && pol.AllowCompression == AllowCompressionNo {
		return fmt.Errorf("%w: the server pushed compression (%s) that allow-compression no forbids; the server must use 'compress stub-v2' or the client 'allow-compression asym'", ErrPushRejected, alg)
	}
	p.Compression, p.CompressionSet = alg, true
	return nil
}

func cloneDNS(d DNS) DNS {
	c := DNS{
		DHCPOptions:   append([]DHCPOption(nil), d.DHCPOptions...),
		SearchDomains: append([]string(nil), d.SearchDomains...),
	}
	for _, s := range d.Servers {
		s.Addresses = append([]netip.AddrPort(nil), s.Addresses...)
		s.ResolveDomains = append([]string(nil), s.ResolveDomains...)
		c.Servers = append(c.Servers, s)
	}
	return c
}
