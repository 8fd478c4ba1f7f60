package config

// Value parsers shared by the configuration, PUSH_REPLY and ccd readers.
// They are stricter than OpenVPN's atoi: "12x" is an error here, not 12.

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseInt parses a decimal integer within [min, max].
func parseInt(s string, min, max int64, what string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number (%d-%d)", what, s, min, max)
	}
	if v < min || v > max {
		return 0, fmt.Errorf("%s %d is out of range (%d-%d)", what, v, min, max)
	}
	return v, nil
}

// parseNonNeg parses an int in [0, max].
func parseNonNeg(s string, max int, what string) (int, error) {
	v, err := parseInt(s, 0, int64(max), what)
	return int(v), err
}

// maxSeconds bounds second counts so that time.Duration cannot overflow.
const maxSeconds = math.MaxInt32

// parseSeconds parses a non-negative number of seconds.
func parseSeconds(s, what string) (time.Duration, error) {
	v, err := parseInt(s, 0, maxSeconds, what)
	return time.Duration(v) * time.Second, err
}

// parsePort parses a port number 1-65535 (0 allowed when zeroOK).
func parsePort(s string, zeroOK bool) (uint16, error) {
	min := int64(1)
	if zeroOK {
		min = 0
	}
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil || int64(v) < min {
		return 0, fmt.Errorf("port %q is not a number (%d-65535)", s, min)
	}
	return uint16(v), nil
}

// parseIPv4 parses a dotted-quad IPv4 address.
func parseIPv4(s, what string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%s %q is not an IPv4 address", what, s)
	}
	return a, nil
}

// parseIPv6 parses an IPv6 address (no zone).
func parseIPv6(s, what string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%s %q is not an IPv6 address", what, s)
	}
	return a, nil
}

// parseIPv6Prefix parses "addr/bits" (bits defaulting to 128 when absent),
// keeping the address bits (not masked).
func parseIPv6Prefix(s, what string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseIPv6(s, what)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, 128), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%s %q is not an IPv6 address/bits", what, s)
	}
	return p, nil
}

// netmaskBits converts a dotted netmask to a prefix length; ok is false for
// non-contiguous masks.
func netmaskBits(mask netip.Addr) (int, bool) {
	if !mask.Is4() {
		return 0, false
	}
	b := mask.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&0x80000000 != 0 {
		ones++
		v <<= 1
	}
	if v != 0 {
		return 0, false
	}
	return ones, true
}

// bitsNetmask converts a prefix length to a dotted IPv4 netmask.
func bitsNetmask(bits int) netip.Addr {
	var v uint32
	if bits > 0 {
		v = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addr4Add returns a + n for IPv4 addresses (wrapping).
func addr4Add(a netip.Addr, n int64) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v = uint32(int64(v) + n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func addr4Uint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func uintAddr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addr6Add returns a + n for IPv6 addresses (n small, carry handled).
func addr6Add(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	lo := uint64(0)
	hi := uint64(0)
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	nlo := lo + n
	if nlo < lo {
		hi++
	}
	for i := 7; i >= 0; i-- {
		b[8+i] = byte(nlo)
		nlo >>= 8
		b[i] = byte(hi)
		hi >>= 8
	}
	return netip.AddrFrom16(b)
}

// isSpecialRouteWord reports the words OpenVPN accepts in place of an
// address in route options.
func isSpecialRouteWord(s string) bool {
	return s == "vpn_gateway" || s == "net_gateway" || s == "remote_host"
}

// looksLikeHostname is a conservative check for DNS names (routes and
// ifconfig may name hosts when allow-pull-fqdn is set or in a config).
func looksLikeHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// parseRoute parses the words of "route network [netmask [gateway
// [metric]]]". pushed applies OpenVPN's stricter checks for pushed routes
// (allowFQDN relaxes them).
func parseRoute(args []string, pushed, allowFQDN bool) (Route, error) {
	var r Route
	r.Network = args[0]
	var netAddr netip.Addr
	if a, err := netip.ParseAddr(args[0]); err == nil && a.Is4() {
		netAddr = a
	} else if !isSpecialRouteWord(args[0]) && (!looksLikeHostname(args[0]) || pushed && !allowFQDN) {
		return r, fmt.Errorf("network %q is not an IPv4 address", args[0])
	}
	mask := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	if len(args) > 1 && args[1] != "default" {
		m, err := parseIPv4(args[1], "netmask")
		if err != nil {
			return r, err
		}
		mask = m
	}
	if netAddr.IsValid() {
		bits, ok := netmaskBits(mask)
		if !ok {
			return r, fmt.Errorf("netmask %s is not a valid netmask", mask)
		}
		p := netip.PrefixFrom(netAddr, bits)
		if p.Masked().Addr() != netAddr {
			return r, fmt.Errorf("%s and netmask %s are inconsistent: the network has host bits set (did you mean %s?)", netAddr, mask, p.Masked().Addr())
		}
		r.Prefix = p
	}
	if len(args) > 2 && args[2] != "default" {
		g := args[2]
		if a, err := netip.ParseAddr(g); err == nil && a.Is4() || isSpecialRouteWord(g) {
			r.Gateway = g
		} else if looksLikeHostname(g) && (!pushed || allowFQDN) {
			r.Gateway = g
		} else {
			return r, fmt.Errorf("gateway %q is not an IPv4 address (or vpn_gateway, net_gateway, remote_host)", g)
		}
	}
	if len(args) > 3 && args[3] != "default" {
		m, err := parseNonNeg(args[3], math.MaxInt32, "metric")
		if err != nil {
			return r, err
		}
		r.Metric, r.MetricSet = m, true
	}
	return r, nil
}

// parseRoute6 parses "route-ipv6 network/bits [gateway [metric]]".
func parseRoute6(args []string) (Route6, error) {
	var r Route6
	p, err := parseIPv6Prefix(args[0], "network")
	if err != nil {
		return r, err
	}
	r.Prefix = p
	if len(args) > 1 && args[1] != "default" {
		g, err := parseIPv6(args[1], "gateway")
		if err != nil {
			return r, err
		}
		r.Gateway = g
	}
	if len(args) > 2 && args[2] != "default" {
		m, err := parseNonNeg(args[2], math.MaxInt32, "metric")
		if err != nil {
			return r, err
		}
		r.Metric, r.MetricSet = m, true
	}
	return r, nil
}

// parseRedirect parses the flags of redirect-gateway / redirect-private into
// rg (which may already hold flags from an earlier line).
func parseRedirect(name string, flags []string, rg *RedirectGateway) error {
	if name == "redirect-gateway" {
		rg.IPv4 = true
	} else {
		rg.Private = true
	}
	for _, f := range flags {
		switch f {
		case "local":
			rg.Local = true
		case "autolocal":
			rg.AutoLocal = true
		case "def1":
			rg.Def1 = true
		case "bypass-dhcp":
			rg.BypassDHCP = true
		case "bypass-dns":
			rg.BypassDNS = true
		case "block-local":
			rg.BlockLocal = true
		case "ipv6":
			rg.IPv6 = true
		case "!ipv4":
			rg.IPv4 = false
		default:
			return fmt.Errorf("unknown flag %q (known: local, autolocal, def1, bypass-dhcp, bypass-dns, block-local, ipv6, !ipv4)", f)
		}
	}
	return nil
}

// parseDHCPOption parses "dhcp-option TYPE [value]".
func parseDHCPOption(args []string) (DHCPOption, error) {
	o := DHCPOption{Type: args[0]}
	if len(args) > 1 {
		o.Value = args[1]
	}
	switch o.Type {
	case "DNS", "DNS6", "WINS", "NTP", "NBDD":
		if o.Value == "" {
			return o, fmt.Errorf("%s needs an address", o.Type)
		}
		a, err := netip.ParseAddr(o.Value)
		if err != nil || a.Zone() != "" || (o.Type != "DNS" && o.Type != "DNS6" && !a.Is4()) {
			return o, fmt.Errorf("%s %q is not a valid address", o.Type, o.Value)
		}
		o.Addr = a
	case "DOMAIN", "ADAPTER_DOMAIN_SUFFIX", "DOMAIN-SEARCH", "NBS", "PROXY_HTTP":
		if o.Value == "" {
			return o, fmt.Errorf("%s needs a value", o.Type)
		}
	case "NBT":
		if o.Value != "1" && o.Value != "2" && o.Value != "4" && o.Value != "8" {
			return o, fmt.Errorf("NBT %q must be 1, 2, 4 or 8", o.Value)
		}
	case "DISABLE-NBT":
		if o.Value != "" {
			return o, errors.New("DISABLE-NBT takes no value")
		}
	default:
		// OpenVPN on Linux passes any type through to scripts.
	}
	return o, nil
}

// parseDNS applies one "dns ..." line to d. pushed restricts priorities to
// 0..127.
func parseDNS(args []string, pushed bool, d *DNS) error {
	switch {
	case args[0] == "search-domains" && len(args) > 1:
		d.SearchDomains = append(d.SearchDomains, args[1:]...)
		return nil
	case args[0] == "server" && len(args) >= 4:
	default:
		return fmt.Errorf("unknown form %q: expected 'search-domains DOMAIN...' or 'server N address|resolve-domains|dnssec|transport|sni VALUE...'", joinWords(args))
	}
	min := int64(-128)
	if pushed {
		min = 0
	}
	prio, err := parseInt(args[1], min, 127, "server priority")
	if err != nil {
		return err
	}
	idx := -1
	for i := range d.Servers {
		if d.Servers[i].Priority == int(prio) {
			idx = i
		}
	}
	if idx < 0 {
		s := DNSServer{Priority: int(prio)}
		// keep sorted by priority
		idx = len(d.Servers)
		for i := range d.Servers {
			if d.Servers[i].Priority > int(prio) {
				idx = i
				break
			}
		}
		d.Servers = append(d.Servers, DNSServer{})
		copy(d.Servers[idx+1:], d.Servers[idx:])
		d.Servers[idx] = s
	}
	s := &d.Servers[idx]
	vals := args[3:]
	switch args[2] {
	case "address":
		for _, v := range vals {
			ap, err := parseDNSAddr(v)
			if err != nil {
				return fmt.Errorf("server %d: %w", prio, err)
			}
			if len(s.Addresses) >= 8 {
				return fmt.Errorf("server %d: more than 8 addresses", prio)
			}
			s.Addresses = append(s.Addresses, ap)
		}
	case "resolve-domains":
		s.ResolveDomains = append(s.ResolveDomains, vals...)
	case "dnssec":
		if len(vals) != 1 || vals[0] != "yes" && vals[0] != "no" && vals[0] != "optional" {
			return fmt.Errorf("server %d: dnssec must be yes, no or optional", prio)
		}
		s.DNSSEC = vals[0]
	case "transport":
		if len(vals) != 1 || vals[0] != "plain" && vals[0] != "DoH" && vals[0] != "DoT" {
			return fmt.Errorf("server %d: transport must be plain, DoH or DoT", prio)
		}
		s.Transport = vals[0]
	case "sni":
		if len(vals) != 1 {
			return fmt.Errorf("server %d: sni takes one name", prio)
		}
		s.SNI = vals[0]
	default:
		return fmt.Errorf("server %d: unknown setting %q (address, resolve-domains, dnssec, transport, sni)", prio, args[2])
	}
	return nil
}

// parseDNSAddr parses "1.2.3.4", "1.2.3.4:853", "ab::cd" or "[ab::cd]:853".
func parseDNSAddr(s string) (netip.AddrPort, error) {
	bad := fmt.Errorf("malformed address %q", s)
	if strings.Count(s, ":") <= 1 {
		host, port := s, ""
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return netip.AddrPort{}, bad
		}
		var p uint16
		if port != "" {
			if p, err = parsePort(port, false); err != nil {
				return netip.AddrPort{}, bad
			}
		}
		return netip.AddrPortFrom(a, p), nil
	}
	if strings.HasPrefix(s, "[") {
		ap, err := netip.ParseAddrPort(s)
		if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			return netip.AddrPort{}, bad
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.AddrPort{}, bad
	}
	return netip.AddrPortFrom(a, 0), nil
}

// parseFingerprints parses a peer-fingerprint / verify-hash value: one or
// more lines of colon-separated hex bytes (comments with # or ; allowed in
// the inline form).
func parseFingerprints(text string, size int) ([][]byte, error) {
	var out [][]byte
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != size {
			return nil, fmt.Errorf("fingerprint %q has %d bytes; expected %d colon-separated hex bytes", line, len(parts), size)
		}
		fp := make([]byte, size)
		for i, p := range parts {
			if len(p) != 2 {
				return nil, fmt.Errorf("fingerprint %q: %q is not a hex byte", line, p)
			}
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil {
				return nil, fmt.Errorf("fingerprint %q: %q is not a hex byte", line, p)
			}
			fp[i] = byte(v)
		}
		out = append(out, fp)
	}
	if len(out) == 0 {
		return nil, errors.New("no fingerprint given")
	}
	return out, nil
}

// parseTLSVersion parses a tls-version-min/max value into crypto/tls's
// version numbers.
func parseTLSVersion(s string) (uint16, bool) {
	switch s {
	case "1.0":
		return 0x0301, true
	case "1.1":
		return 0x0302, true
	case "1.2":
		return 0x0303, true
	case "1.3":
		return 0x0304, true
	}
	return 0, false
}

// tlsVersionName is the inverse of parseTLSVersion.
func tlsVersionName(v uint16) string {
	switch v {
	case 0x0301:
		return "1.0"
	case 0x0302:
		return "1.1"
	case 0x0303:
		return "1.2"
	case 0x0304:
		return "1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
