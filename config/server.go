package config

// Server options and the expansion of OpenVPN 2.6's helper directives
// (helper.c: helper_client_server, helper_keepalive, helper_tcp_nodelay),
// reimplemented from their documented behaviour:
//
//	server-ipv6 P/bits   → mode server, tls-server, ifconfig-ipv6 P+1/bits P+2,
//	                       ifconfig-ipv6-pool P+0x1000/bits (P+2 for /112 and longer),
//	                       push "tun-ipv6"
//	server NET MASK      → mode server, tls-server, then by device and topology:
//	  tun net30|p2p: ifconfig NET+1 NET+2, pool NET+4 .. broadcast-4 (-0 for /29),
//	                 local route NET/MASK, push "route NET MASK" with client-to-client,
//	                 else (net30 only) push "route NET+1"
//	  tun subnet:    ifconfig NET+1 MASK, pool NET+2 .. broadcast-1 with MASK,
//	                 push "route-gateway NET+1", own route-gateway NET+2
//	  tap:           ifconfig NET+1 MASK, pool NET+2 .. broadcast-1 with MASK,
//	                 push "route-gateway NET+1"
//	  tun:           push "topology X"
//	server-bridge GW MASK START END → pool START..END with MASK, push "route-gateway GW"
//	server-bridge [nogw] → push "route-gateway dhcp" (unless nogw)
//	keepalive I T (server) → ping I, ping-restart 2T, push "ping I", push "ping-restart T"
//	tcp-nodelay (server)   → socket-flags TCP_NODELAY, push "socket-flags TCP_NODELAY"
//
// Generated pushes follow the configured "push" lines, in the order above.

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// serverState collects server options while the configuration is read.
type serverState struct {
	s     Server
	marks map[string]Directive // server-only options seen, for "requires mode server"

	serverAt, server6At, bridgeAt *Directive
	network, netmask              netip.Addr
	nopool                        bool
	net6                          netip.Prefix
	bridge                        *ServerBridge
	poolAt, pool6At               *Directive
	pool                          *Pool
	pool6                         netip.Prefix
	constraintSet                 bool
}

func (s *serverState) init() {
	s.s = Server{
		MaxClients:          1024,
		MaxRoutesPerClient:  256,
		ConnectFreqInitial:  Rate{N: 100, Per: 10 * time.Second},
		PoolPersistInterval: 600 * time.Second,
		HashSizeReal:        256,
		HashSizeVirtual:     256,
		BcastBuffers:        256,
		TCPQueueLimit:       64,
		VLANAccept:          "all",
		VLANPVID:            1,
	}
	s.marks = map[string]Directive{}
}

// mark records a server-only option.
func (s *serverState) mark(name string, d Directive) {
	if _, ok := s.marks[name]; !ok {
		s.marks[name] = d
	}
}

func (s *serverState) anyMacro() bool {
	return s.serverAt != nil || s.server6At != nil || s.bridgeAt != nil
}

// srvOpt wraps a handler of a server-only option so that its use outside
// server mode can be reported.
func srvOpt(min, max int, c class, usage string, fn func(*evaluator, Directive) error) *optSpec {
	return opt(min, max, c, usage, func(e *evaluator, d Directive) error {
		e.srv.mark(d.Name, d)
		if fn == nil {
			return nil
		}
		return fn(e, d)
	})
}

func addServerOptions(t map[string]*optSpec) {
	t["server"] = opt(2, 3, cGeneral, "NETWORK NETMASK [nopool]", func(e *evaluator, d Directive) error {
		n, err := parseIPv4(d.Args[0], "network")
		if err != nil {
			return err
		}
		m, err := parseIPv4(d.Args[1], "netmask")
		if err != nil {
			return err
		}
		if !n.IsValid() || n.IsUnspecified() || m.IsUnspecified() {
			return errors.New("network and netmask must not be 0.0.0.0")
		}
		e.srv.network, e.srv.netmask, e.srv.nopool = n, m, false
		if len(d.Args) == 3 {
			if d.Args[2] != "nopool" {
				return fmt.Errorf("%q is not a recognised flag (only nopool)", d.Args[2])
			}
			e.srv.nopool = true
		}
		e.srv.serverAt = &d
		return nil
	})
	t["server-ipv6"] = opt(1, 1, cGeneral, "PREFIX/BITS", func(e *evaluator, d Directive) error {
		p, err := parseServer6Prefix(d.Args[0], "network")
		if err != nil {
			return err
		}
		e.srv.net6 = p
		e.srv.server6At = &d
		return nil
	})
	t["server-bridge"] = opt(0, 4, cGeneral, "[GATEWAY NETMASK POOL-START POOL-END | nogw]", func(e *evaluator, d Directive) error {
		b := &ServerBridge{}
		switch len(d.Args) {
		case 0:
			b.DHCP = true
		case 1:
			if d.Args[0] != "nogw" {
				return fmt.Errorf("%q: expected 'nogw' or four addresses (gateway netmask pool-start pool-end)", d.Args[0])
			}
			b.DHCP, b.NoGateway = true, true
		case 4:
			addrs := make([]netip.Addr, 4)
			for i, what := range []string{"gateway", "netmask", "pool start", "pool end"} {
				a, err := parseIPv4(d.Args[i], what)
				if err != nil {
					return err
				}
				if a.IsUnspecified() {
					return fmt.Errorf("%s must not be 0.0.0.0", what)
				}
				addrs[i] = a
			}
			b.Gateway, b.Netmask, b.PoolStart, b.PoolEnd = addrs[0], addrs[1], addrs[2], addrs[3]
		default:
			return errors.New("expected no argument, 'nogw', or four addresses (gateway netmask pool-start pool-end)")
		}
		e.srv.bridge = b
		e.srv.bridgeAt = &d
		return nil
	})
	t["push"] = srvOpt(1, 1, cPush, "\"OPTION ...\"", func(e *evaluator, d Directive) error {
		if err := checkPushLine(d.Args[0]); err != nil {
			return err
		}
		e.srv.s.Push = append(e.srv.s.Push, PushEntry{Option: d.Args[0], File: d.File, Line: d.Line})
		return nil
	})
	t["push-reset"] = opt(0, 0, cInstance, "", nil)
	t["push-remove"] = opt(1, 1, cInstance, "PREFIX", nil)
	t["ifconfig-push"] = opt(2, 3, cInstance, "LOCAL REMOTE|NETMASK [ALIAS]", nil)
	t["ifconfig-ipv6-push"] = opt(1, 2, cInstance, "ADDR/BITS [REMOTE]", nil)
	t["iroute"] = opt(1, 2, cInstance, "NETWORK [NETMASK]", nil)
	t["iroute-ipv6"] = opt(1, 1, cInstance, "NETWORK/BITS", nil)
	t["disable"] = opt(0, 0, cInstance, "", nil)
	t["vlan-pvid"] = srvOpt(1, 1, cGeneral|cInstance, "VID", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 4094, "VLAN id")
		e.srv.s.VLANPVID = int(v)
		return err
	})
	t["ifconfig-pool"] = srvOpt(2, 3, cGeneral, "START END [NETMASK]", func(e *evaluator, d Directive) error {
		s, err := parseIPv4(d.Args[0], "start")
		if err != nil {
			return err
		}
		en, err := parseIPv4(d.Args[1], "end")
		if err != nil {
			return err
		}
		if err := verifyPoolRange(s, en); err != nil {
			return err
		}
		p := &Pool{Start: s, End: en}
		if len(d.Args) == 3 {
			if p.Netmask, err = parseIPv4(d.Args[2], "netmask"); err != nil {
				return err
			}
		}
		e.srv.pool = p
		e.srv.poolAt = &d
		return nil
	})
	t["ifconfig-ipv6-pool"] = srvOpt(1, 1, cGeneral, "BASE/BITS", func(e *evaluator, d Directive) error {
		p, err := parseServer6Prefix(d.Args[0], "pool")
		if err != nil {
			return err
		}
		e.srv.pool6 = p
		e.srv.pool6At = &d
		return nil
	})
	t["ifconfig-pool-persist"] = srvOpt(1, 2, cGeneral, "FILE [SECONDS]", func(e *evaluator, d Directive) error {
		e.srv.s.PoolPersist = d.Args[0]
		if len(d.Args) == 2 {
			v, err := parseSeconds(d.Args[1], "interval")
			if err != nil {
				return err
			}
			e.srv.s.PoolPersistInterval = v
		}
		return nil
	})
	t["ifconfig-push-constraint"] = srvOpt(2, 2, cGeneral, "NETWORK NETMASK", func(e *evaluator, d Directive) error {
		n, err := parseIPv4(d.Args[0], "network")
		if err != nil {
			return err
		}
		m, err := parseIPv4(d.Args[1], "netmask")
		if err != nil {
			return err
		}
		bits, ok := netmaskBits(m)
		if !ok {
			return fmt.Errorf("netmask %s is not a valid netmask", m)
		}
		e.srv.s.PushIfconfigConstraint = netip.PrefixFrom(n, bits).Masked()
		e.srv.constraintSet = true
		return nil
	})
	t["client-config-dir"] = srvOpt(1, 1, cGeneral, "DIR", func(e *evaluator, d Directive) error {
		e.srv.s.ClientConfigDir = d.Args[0]
		return nil
	})
	t["ccd-exclusive"] = srvOpt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.CCDExclusive = true
		return nil
	})
	t["client-to-client"] = srvOpt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.ClientToClient = true
		return nil
	})
	t["duplicate-cn"] = srvOpt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.DuplicateCN = true
		return nil
	})
	t["max-clients"] = srvOpt(1, 1, cGeneral, "N", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 0xFFFFFF-1, "clients")
		e.srv.s.MaxClients = int(v)
		return err
	})
	t["max-routes-per-client"] = opt(1, 1, cInherit, "N", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, math.MaxInt32, "routes")
		e.srv.s.MaxRoutesPerClient = int(v)
		return err
	})
	t["connect-freq"] = srvOpt(2, 2, cGeneral, "N SECONDS", func(e *evaluator, d Directive) error {
		r, err := parseRate(d.Args)
		e.srv.s.ConnectFreq = r
		return err
	})
	t["connect-freq-initial"] = srvOpt(2, 2, cGeneral, "N SECONDS", func(e *evaluator, d Directive) error {
		r, err := parseRate(d.Args)
		e.srv.s.ConnectFreqInitial = r
		return err
	})
	t["verify-client-cert"] = srvOpt(0, 1, cGeneral, "[none|optional|require]", func(e *evaluator, d Directive) error {
		switch argOr(d, 0, "require") {
		case "none":
			e.srv.s.VerifyClientCert = ClientCertNone
		case "optional":
			e.srv.s.VerifyClientCert = ClientCertOptional
		case "require":
			e.srv.s.VerifyClientCert = ClientCertRequire
		default:
			return fmt.Errorf("%q must be none, optional or require", d.Args[0])
		}
		return nil
	})
	t["username-as-common-name"] = srvOpt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.UsernameAsCommonName = true
		return nil
	})
	t["auth-user-pass-optional"] = srvOpt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.AuthUserPassOptional = true
		return nil
	})
	t["auth-gen-token"] = srvOpt(0, 3, cGeneral, "[LIFETIME] [RENEWAL] [external-auth]", func(e *evaluator, d Directive) error {
		g := &AuthGenToken{}
		for i, a := range d.Args {
			switch {
			case a == "external-auth":
				g.ExternalAuth = true
			case i == 0:
				v, err := parseSeconds(a, "lifetime")
				if err != nil {
					return err
				}
				g.Lifetime = v
			case i == 1:
				v, err := parseSeconds(a, "renewal time")
				if err != nil {
					return err
				}
				g.Renewal = v
			default:
				return fmt.Errorf("invalid argument %q (lifetime, renewal time, external-auth)", a)
			}
		}
		e.srv.s.AuthGenToken = g
		return nil
	})
	t["auth-gen-token-secret"] = srvOpt(1, 1, cGeneral|cInline, "FILE", func(e *evaluator, d Directive) error {
		e.setRef(&e.refs.tokenSecret, d)
		return nil
	})
	t["hash-size"] = srvOpt(2, 2, cGeneral, "REAL VIRTUAL", func(e *evaluator, d Directive) error {
		r, err := parseInt(d.Args[0], 1, 1<<24, "size")
		if err != nil {
			return err
		}
		v, err := parseInt(d.Args[1], 1, 1<<24, "size")
		e.srv.s.HashSizeReal, e.srv.s.HashSizeVirtual = int(r), int(v)
		return err
	})
	t["bcast-buffers"] = opt(1, 1, cGeneral, "N", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 1<<20, "buffers")
		e.srv.s.BcastBuffers = int(v)
		return err
	})
	t["tcp-queue-limit"] = opt(1, 1, cGeneral, "N", func(e *evaluator, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 1<<20, "packets")
		e.srv.s.TCPQueueLimit = int(v)
		return err
	})
	t["stale-routes-check"] = srvOpt(1, 2, cGeneral, "AGE [INTERVAL]", func(e *evaluator, d Directive) error {
		a, err := parseInt(d.Args[0], 1, maxSeconds, "age")
		if err != nil {
			return err
		}
		iv := a
		if len(d.Args) == 2 {
			if iv, err = parseInt(d.Args[1], 1, maxSeconds, "interval"); err != nil {
				return err
			}
		}
		e.srv.s.StaleRoutesAge = time.Duration(a) * time.Second
		e.srv.s.StaleRoutesInterval = time.Duration(iv) * time.Second
		return nil
	})
	t["multihome"] = opt(0, 0, cGeneral, "", func(e *evaluator, d Directive) error {
		e.srv.s.Multihome = true
		return nil
	})
	t["port-share"] = notYet(2, 3, cGeneral, "HOST PORT [DIR]", "sharing the TCP port with another service", true, func(e *evaluator, d Directive) error {
		e.srv.mark(d.Name, d)
		p, err := parsePort(d.Args[1], false)
		if err != nil {
			return err
		}
		e.srv.s.PortShare = &PortShare{Host: d.Args[0], Port: p, JournalDir: argOr(d, 2, "")}
		return nil
	})
	t["vlan-tagging"] = notYet(0, 0, cGeneral, "", "802.1Q VLAN tagging in tap servers", true, func(e *evaluator, d Directive) error {
		e.srv.mark(d.Name, d)
		e.srv.s.VLANTagging = true
		return nil
	})
	t["vlan-accept"] = opt(1, 1, cGeneral, "tagged|untagged|all", func(e *evaluator, d Directive) error {
		switch d.Args[0] {
		case "tagged", "untagged", "all":
			e.srv.s.VLANAccept = d.Args[0]
			return nil
		}
		return fmt.Errorf("%q must be tagged, untagged or all", d.Args[0])
	})
}

func parseRate(args []string) (Rate, error) {
	n, err := parseInt(args[0], 0, math.MaxInt32, "count")
	if err != nil {
		return Rate{}, err
	}
	s, err := parseSeconds(args[1], "seconds")
	return Rate{N: int(n), Per: s}, err
}

// verifyPoolRange is ifconfig_pool_verify_range.
func verifyPoolRange(start, end netip.Addr) error {
	s, e := addr4Uint(start), addr4Uint(end)
	if s > e {
		return fmt.Errorf("pool start %s is greater than end %s", start, end)
	}
	if e-s >= 65536 {
		return fmt.Errorf("pool %s-%s is too large (at most 65536 addresses)", start, end)
	}
	return nil
}

// checkPushLine rejects pushed options a client cannot parse: PUSH_REPLY
// separates options with commas and limits each to 255 bytes and 16 words.
func checkPushLine(s string) error {
	if s == "" {
		return errors.New("empty option")
	}
	if len(s) >= 256 {
		return fmt.Errorf("pushed option is %d bytes; a client accepts at most 255", len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c < 0x20 || c == 0x7f {
			if c == ',' {
				return errors.New("a pushed option cannot contain ',' (PUSH_REPLY separates options with commas)")
			}
			return errors.New("a pushed option cannot contain control characters")
		}
	}
	if _, err := splitLine(s); err != nil {
		return fmt.Errorf("clients cannot parse %q: %v", s, err)
	}
	return nil
}

// pushGen appends a generated push entry.
func (e *evaluator) pushGen(opt string, at Directive) {
	e.srv.s.Push = append(e.srv.s.Push, PushEntry{Option: opt, Generated: true, File: at.File, Line: at.Line})
}

// expandServer expands server-ipv6, server, server-bridge and client
// (helper_client_server).
func (e *evaluator) expandServer() {
	o := e.o
	s := &e.srv
	dev := o.Device.Type
	if s.server6At != nil {
		at := *s.server6At
		switch {
		case o.Client:
			e.errorf(at, "server-ipv6 and client cannot be used together")
		case s.serverAt != nil && s.nopool:
			e.errorf(at, "server-ipv6 is incompatible with the 'nopool' flag of server")
		case s.pool6At != nil:
			e.errorf(*s.pool6At, "server-ipv6 already defines an ifconfig-ipv6-pool; remove one of them")
		}
		o.Mode = ModeServer
		e.tlsServer = true
		base := s.net6.Addr()
		o.Ifconfig.IPv6 = netip.PrefixFrom(addr6Add(base, 1), s.net6.Bits())
		o.Ifconfig.IPv6Remote = addr6Add(base, 2)
		off := uint64(0x1000)
		if s.net6.Bits() >= 112 {
			off = 2
		}
		s.pool6 = netip.PrefixFrom(addr6Add(base, off), s.net6.Bits())
		e.pushGen("tun-ipv6", at)
	}
	switch {
	case s.serverAt != nil:
		e.expandServer4(*s.serverAt, dev)
	case s.bridgeAt != nil:
		e.expandBridge(*s.bridgeAt, dev)
	case o.Client:
		o.Pull = true
		e.tlsClient = true
	}
}

func (e *evaluator) expandServer4(at Directive, dev DevType) {
	o, s := e.o, &e.srv
	switch {
	case o.Client:
		e.errorf(at, "server and client cannot be used together")
	case s.bridgeAt != nil:
		e.errorf(at, "server and server-bridge cannot be used together")
	case e.refs.secret != nil:
		e.errorf(at, "server and secret cannot be used together: a server needs TLS keys")
	case !s.nopool && s.poolAt != nil:
		e.errorf(*s.poolAt, "server already defines an ifconfig-pool; remove this line or add 'nopool' to server")
	}
	if dev != DevTun && dev != DevTap {
		e.errorf(at, "server only works with dev tun or dev tap")
		return
	}
	bits, ok := netmaskBits(s.netmask)
	net := s.network
	if !ok || addr4Uint(net)&^addr4Uint(s.netmask) != 0 {
		e.errorf(at, "network %s and netmask %s do not form a valid network", net, s.netmask)
		return
	}
	if bits < 16 {
		e.errorf(at, "netmask %s allows too many hosts: the subnet must be 255.255.0.0 (/16) or smaller", s.netmask)
		return
	}
	bcast := uintAddr4(addr4Uint(net) | ^addr4Uint(s.netmask))
	o.Mode = ModeServer
	e.tlsServer = true
	top := o.Device.Topology
	if dev == DevTun {
		if bits > 29 {
			e.errorf(at, "with dev tun the network must be /29 (255.255.255.248) or larger")
			return
		}
		reserve := int64(4)
		if bits == 29 {
			reserve = 0
		}
		switch top {
		case TopologyNet30, TopologyP2P:
			o.Ifconfig.Local, o.Ifconfig.Remote = addr4Add(net, 1), addr4Add(net, 2)
			if !s.nopool {
				s.pool = &Pool{Start: addr4Add(net, 4), End: addr4Add(bcast, -reserve), Net30: top == TopologyNet30}
				if err := verifyPoolRange(s.pool.Start, s.pool.End); err != nil {
					e.errorf(at, "%v", err)
				}
			}
			s.s.LocalRoutes = append(s.s.LocalRoutes, netip.PrefixFrom(net, bits))
			if s.s.ClientToClient {
				e.pushGen(fmt.Sprintf("route %s %s", net, s.netmask), at)
			} else if top == TopologyNet30 {
				e.pushGen(fmt.Sprintf("route %s", addr4Add(net, 1)), at)
			}
		case TopologySubnet:
			o.Ifconfig.Local, o.Ifconfig.Remote = addr4Add(net, 1), s.netmask
			if !s.nopool {
				s.pool = &Pool{Start: addr4Add(net, 2), End: addr4Add(bcast, -1)}
				if err := verifyPoolRange(s.pool.Start, s.pool.End); err != nil {
					e.errorf(at, "%v", err)
				}
			}
			if s.pool != nil {
				s.pool.Netmask = s.netmask
			}
			e.pushGen(fmt.Sprintf("route-gateway %s", addr4Add(net, 1)), at)
			if !o.Routing.Gateway.IsValid() {
				s.s.LocalRouteGateway = addr4Add(net, 2)
			} else {
				s.s.LocalRouteGateway = o.Routing.Gateway
			}
		}
		e.pushGen("topology "+top.String(), at)
		if top == TopologyNet30 && !s.nopool {
			e.warnf(at, "WARNING: topology net30 for servers with IPv4 pools will be removed in a future release (and is not the default in OpenVPN 2.7); migrate to 'topology subnet'")
		}
	} else {
		if bits > 30 {
			e.errorf(at, "with dev tap the network must be /30 (255.255.255.252) or larger")
			return
		}
		o.Ifconfig.Local, o.Ifconfig.Remote = addr4Add(net, 1), s.netmask
		if !s.nopool {
			s.pool = &Pool{Start: addr4Add(net, 2), End: addr4Add(bcast, -1)}
			if err := verifyPoolRange(s.pool.Start, s.pool.End); err != nil {
				e.errorf(at, "%v", err)
			}
		}
		if s.pool != nil {
			s.pool.Netmask = s.netmask
		}
		e.pushGen(fmt.Sprintf("route-gateway %s", addr4Add(net, 1)), at)
	}
	if (dev == DevTap || top == TopologySubnet) && !s.constraintSet {
		s.s.PushIfconfigConstraint = netip.PrefixFrom(net, bits)
	}
}

func (e *evaluator) expandBridge(at Directive, dev DevType) {
	o, s := e.o, &e.srv
	b := s.bridge
	switch {
	case o.Client:
		e.errorf(at, "server-bridge and client cannot be used together")
	case s.poolAt != nil:
		e.errorf(*s.poolAt, "server-bridge already defines an ifconfig-pool; remove this line")
	case e.refs.secret != nil:
		e.errorf(at, "server-bridge and secret cannot be used together: a server needs TLS keys")
	}
	if dev != DevTap {
		e.errorf(at, "server-bridge only works with dev tap")
	}
	o.Mode = ModeServer
	e.tlsServer = true
	if !b.DHCP {
		mask := addr4Uint(b.Netmask)
		gw, st, en := addr4Uint(b.Gateway), addr4Uint(b.PoolStart), addr4Uint(b.PoolEnd)
		if gw&mask != st&mask || st&mask != en&mask {
			e.errorf(at, "gateway %s and pool %s-%s are not in the same %s subnet", b.Gateway, b.PoolStart, b.PoolEnd, b.Netmask)
		}
		if err := verifyPoolRange(b.PoolStart, b.PoolEnd); err != nil {
			e.errorf(at, "%v", err)
		}
		s.pool = &Pool{Start: b.PoolStart, End: b.PoolEnd, Netmask: b.Netmask}
		e.pushGen(fmt.Sprintf("route-gateway %s", b.Gateway), at)
	} else if !b.NoGateway {
		e.pushGen("route-gateway dhcp", at)
	}
}

// expandKeepalive expands "keepalive I T" (helper_keepalive).
func (e *evaluator) expandKeepalive() {
	if e.keepaliveAt == nil {
		return
	}
	at := *e.keepaliveAt
	t := &e.o.Timers
	i, to := t.KeepaliveInterval, t.KeepaliveTimeout
	switch {
	case i <= 0 || to <= 0:
		e.errorf(at, "both parameters must be greater than 0")
		return
	case 2*i > to:
		e.errorf(at, "the timeout (%d) must be at least twice the ping interval (%d); 1:5 or 1:6 is better, e.g. 'keepalive 10 60'", to/time.Second, i/time.Second)
		return
	case e.pingSet || e.pingRecSet:
		e.errorf(at, "conflicts with ping, ping-exit and ping-restart: keepalive replaces them, remove those lines")
		return
	}
	t.Ping = i
	t.PingExit = 0
	if e.o.Mode == ModeServer {
		t.PingRestart = 2 * to
		e.pushGen(fmt.Sprintf("ping %d", i/time.Second), at)
		e.pushGen(fmt.Sprintf("ping-restart %d", to/time.Second), at)
	} else {
		t.PingRestart = to
	}
}

// expandTCPNoDelay expands "tcp-nodelay" (helper_tcp_nodelay).
func (e *evaluator) expandTCPNoDelay() {
	if e.tcpNoDelay == nil {
		return
	}
	e.o.Process.TCPNoDelay = true
	if e.o.Mode == ModeServer {
		e.pushGen("socket-flags TCP_NODELAY", *e.tcpNoDelay)
	} else {
		e.warnf(*e.tcpNoDelay, "setting tcp-nodelay on a client does not affect the server; put it in the server configuration for both directions")
	}
}

// finishServer attaches the server options in server mode.
func (e *evaluator) finishServer() {
	o, s := e.o, &e.srv
	if o.Mode != ModeServer {
		return
	}
	srv := s.s
	srv.Macro.NoPool = s.nopool
	if s.serverAt != nil {
		if bits, ok := netmaskBits(s.netmask); ok {
			srv.Macro.Network = netip.PrefixFrom(s.network, bits)
		}
	}
	if s.server6At != nil {
		srv.Macro.Network6 = s.net6
	}
	srv.Macro.Bridge = s.bridge
	srv.Pool = s.pool
	srv.Pool6 = s.pool6
	if srv.AuthGenToken != nil && srv.AuthGenToken.Renewal == 0 {
		srv.AuthGenToken.Renewal = o.TLS.Reneg.Seconds
	}
	o.Server = &srv
}

// parseServer6Prefix parses the IPv6 network of server-ipv6 or
// ifconfig-ipv6-pool, which openvpn takes between /64 and /124.
func parseServer6Prefix(arg, what string) (netip.Prefix, error) {
	p, err := parseIPv6Prefix(arg, what)
	if err != nil {
		return p, err
	}
	if p.Bits() < 64 || p.Bits() > 124 {
		return p, fmt.Errorf("the network must be between /64 and /124 (not /%d)", p.Bits())
	}
	return p, nil
}
