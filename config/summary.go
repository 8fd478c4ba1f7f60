package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary returns a short human description of the profile: role, remotes
// with transport and family, device, TLS material present, wrapping,
// ciphers, compression, credentials, routes and, for servers, addressing
// and the push list. Secrets are never printed. The text ends with a
// newline; its layout is meant for people, not for parsing.
func (o *Options) Summary() string {
	var b strings.Builder
	if len(o.Connections) == 0 {
		return "  (no connection entries)\n"
	}
	line := func(k, format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s %s\n", k+":", fmt.Sprintf(format, args...))
	}
	more := func(format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s %s\n", "", fmt.Sprintf(format, args...))
	}

	switch {
	case o.Mode == ModeServer:
		line("mode", "server (%s)", o.Role)
	case o.Pull:
		line("mode", "client (pull, %s)", o.Role)
	case o.Data.Secret != nil:
		line("mode", "point-to-point, static key")
	default:
		line("mode", "point-to-point (%s)", o.Role)
	}

	if o.Mode == ModeServer || len(o.Connections) == 1 && o.Connections[0].Remote == "" {
		for i, c := range o.Connections {
			local := c.Local
			if local == "" {
				local = "*"
			}
			if i == 0 {
				line("listen", "%s:%d %s", local, c.LocalPort, ProtoName(c.Proto, c.Family))
			} else {
				more("%s:%d %s", local, c.LocalPort, ProtoName(c.Proto, c.Family))
			}
		}
	} else {
		for i, c := range o.Connections {
			s := fmt.Sprintf("%s:%d %s", hostPort(c.Remote), c.RemotePort, ProtoName(c.Proto, c.Family))
			if c.Family == FamilyAny {
				s += " (IPv4 or IPv6)"
			}
			var extra []string
			if c.Bind {
				extra = append(extra, fmt.Sprintf("bind %s:%d", orStar(c.Local), c.LocalPort))
			}
			if c.HTTPProxy != nil {
				extra = append(extra, fmt.Sprintf("via http-proxy %s:%d", c.HTTPProxy.Host, c.HTTPProxy.Port))
			}
			if c.SocksProxy != nil {
				extra = append(extra, fmt.Sprintf("via socks-proxy %s:%d", c.SocksProxy.Host, c.SocksProxy.Port))
			}
			if len(extra) > 0 {
				s += ", " + strings.Join(extra, ", ")
			}
			if i == 0 {
				k := "remote"
				if len(o.Connections) > 1 {
					k = "remotes"
				}
				line(k, "%s", s)
			} else {
				more("%s", s)
			}
		}
		if o.RemoteRandom {
			more("(order shuffled: remote-random)")
		}
	}

	dev := o.Device.Name
	if dev == "" {
		dev = "(none)"
	}
	ds := dev + " ("
	if dev != o.Device.Type.String() {
		ds += o.Device.Type.String() + ", "
	}
	if o.Device.Type == DevTun {
		ds += "topology " + o.Device.Topology.String() + ", "
	}
	ds += fmt.Sprintf("mtu %d", o.Connections[0].TunMTU)
	if m := o.Connections[0].MSSFix; m.Max > 0 {
		ds += fmt.Sprintf(", mssfix %d", m.Max)
	}
	if f := o.Connections[0].Fragment; f > 0 {
		ds += fmt.Sprintf(", fragment %d", f)
	}
	line("device", "%s)", ds)
	if o.Ifconfig.Local.IsValid() {
		line("ifconfig", "%s %s", o.Ifconfig.Local, o.Ifconfig.Remote)
	}
	if o.Ifconfig.IPv6.IsValid() {
		line("ifconfig6", "%s %s", o.Ifconfig.IPv6, o.Ifconfig.IPv6Remote)
	}

	if o.Role != RoleNone {
		t := &o.TLS
		var mats []string
		add := func(name string, m *Material) {
			if m != nil {
				mats = append(mats, name+" ("+materialSource(m)+")")
			}
		}
		add("ca", t.CA)
		add("cert", t.Cert)
		add("key", t.Key)
		add("pkcs12", t.PKCS12)
		add("extra-certs", t.ExtraCerts)
		add("crl", t.CRL)
		if len(t.PeerFingerprints) > 0 {
			mats = append(mats, fmt.Sprintf("peer-fingerprint (%d)", len(t.PeerFingerprints)))
		}
		if o.Management != nil && o.Management.ExternalKey {
			mats = append(mats, "external key (management)")
		}
		if len(mats) == 0 {
			mats = append(mats, "none")
		}
		line("tls", "%s", strings.Join(mats, ", "))
		var checks []string
		v := "tls-version-min " + tlsVersionName(t.VersionMin)
		if t.VersionMinOrHighest {
			v += " or-highest"
		}
		checks = append(checks, v)
		if t.VersionMax != 0 {
			checks = append(checks, "tls-version-max "+tlsVersionName(t.VersionMax))
		}
		if t.RemoteCertTLS != CertUsageNone {
			checks = append(checks, "remote-cert-tls "+t.RemoteCertTLS.String())
		}
		if t.NSCertType != CertUsageNone {
			checks = append(checks, "ns-cert-type "+t.NSCertType.String())
		}
		if t.VerifyX509Name != nil {
			checks = append(checks, fmt.Sprintf("verify-x509-name %q %s", t.VerifyX509Name.Name, t.VerifyX509Name.Type))
		}
		if t.RemoteCertEKU != "" {
			checks = append(checks, fmt.Sprintf("remote-cert-eku %q", t.RemoteCertEKU))
		}
		if t.CertProfile != "" {
			checks = append(checks, "tls-cert-profile "+t.CertProfile)
		}
		more("%s", strings.Join(checks, ", "))
		if t.Reneg.Seconds == 0 {
			more("no time-based renegotiation (reneg-sec 0)")
		} else if t.Reneg.Seconds != time.Hour {
			more("reneg-sec %d", t.Reneg.Seconds/time.Second)
		}
	}

	wraps := map[string]bool{}
	var wrapList []string
	for _, c := range o.Connections {
		s := c.Wrap.Mode.String()
		if c.Wrap.Key != nil {
			s += " (" + materialSource(c.Wrap.Key)
			if c.Wrap.Mode == WrapTLSAuth {
				s += ", direction " + c.Wrap.Direction.String() + ", " + c.Wrap.Digest
			}
			s += ")"
		}
		if c.Wrap.ForceCookie {
			s += " force-cookie"
		}
		if !wraps[s] {
			wraps[s] = true
			wrapList = append(wrapList, s)
		}
	}
	line("wrapping", "%s", strings.Join(wrapList, "; "))

	dc := &o.Data
	if dc.Secret != nil {
		line("cipher", "%s, auth %s (static key %s, direction %s)", dc.Cipher, dc.Auth, materialSource(dc.Secret), dc.SecretDirection)
	} else {
		cs := "data-ciphers " + strings.Join(dc.Ciphers, ":")
		if dc.Fallback != "" {
			cs += ", fallback " + dc.Fallback
		}
		line("ciphers", "%s", cs)
		line("auth", "%s (HMAC for CBC ciphers and tls-auth)", dc.Auth)
	}
	comp := dc.Compression.Algorithm.String()
	if dc.Compression.Algorithm != CompNone {
		comp += fmt.Sprintf(" (framing %s, allow-compression %s)", dc.Compression.Algorithm.Framing(), dc.Compression.Allow)
	}
	line("compression", "%s", comp)

	if up := o.Auth.UserPass; up != nil {
		s := "auth-user-pass (" + up.Source.String()
		if up.Source != CredPrompt {
			if up.HasPassword {
				s += ", username and password"
			} else {
				s += ", username only: password asked"
			}
		}
		s += ")"
		if o.Auth.StaticChallenge != nil {
			s += fmt.Sprintf(", static-challenge %q", o.Auth.StaticChallenge.Text)
		}
		line("credentials", "%s", s)
	}

	t := &o.Timers
	var tm []string
	if t.Ping > 0 {
		tm = append(tm, fmt.Sprintf("ping %d", t.Ping/time.Second))
	}
	if t.PingRestart > 0 {
		s := fmt.Sprintf("ping-restart %d", t.PingRestart/time.Second)
		if t.PingRestartDefault {
			s += " (until pushed)"
		}
		tm = append(tm, s)
	}
	if t.PingExit > 0 {
		tm = append(tm, fmt.Sprintf("ping-exit %d", t.PingExit/time.Second))
	}
	if t.Inactive > 0 {
		tm = append(tm, fmt.Sprintf("inactive %d", t.Inactive/time.Second))
	}
	if len(tm) > 0 {
		line("keepalive", "%s", strings.Join(tm, ", "))
	}

	r := &o.Routing
	var routes []string
	for _, rt := range r.Routes {
		s := rt.Network
		if rt.Prefix.IsValid() {
			s = rt.Prefix.String()
		}
		if rt.Gateway != "" {
			s += " via " + rt.Gateway
		}
		routes = append(routes, s)
	}
	for _, rt := range r.Routes6 {
		s := rt.Prefix.String()
		if rt.Gateway.IsValid() {
			s += " via " + rt.Gateway.String()
		}
		routes = append(routes, s)
	}
	if rg := r.RedirectGateway; rg != nil {
		routes = append(routes, "redirect-gateway"+redirectFlags(rg))
	}
	if len(routes) > 0 {
		line("routes", "%s", strings.Join(routes, ", "))
	}
	var policy []string
	if r.NoPull {
		policy = append(policy, "route-nopull")
	}
	if r.NoExec {
		policy = append(policy, "route-noexec")
	}
	if o.Ifconfig.NoExec {
		policy = append(policy, "ifconfig-noexec")
	}
	if r.BlockIPv6 {
		policy = append(policy, "block-ipv6")
	}
	for _, f := range r.PullFilters {
		policy = append(policy, fmt.Sprintf("pull-filter %s %q", f.Action, f.Prefix))
	}
	if len(policy) > 0 {
		line("policy", "%s", strings.Join(policy, ", "))
	}
	if n := len(o.DNS.DHCPOptions); n > 0 {
		var d []string
		for _, x := range o.DNS.DHCPOptions {
			d = append(d, strings.TrimSpace(x.Type+" "+x.Value))
		}
		line("dhcp-option", "%s", strings.Join(d, ", "))
	}

	if s := o.Server; s != nil {
		if s.Pool != nil {
			p := fmt.Sprintf("%s - %s", s.Pool.Start, s.Pool.End)
			if s.Pool.Netmask.IsValid() {
				p += " netmask " + s.Pool.Netmask.String()
			}
			if s.Pool.Net30 {
				p += " (/30 per client)"
			}
			line("pool", "%s", p)
		}
		if s.Pool6.IsValid() {
			line("pool6", "%s", s.Pool6)
		}
		var flags []string
		if s.ClientToClient {
			flags = append(flags, "client-to-client")
		}
		if s.DuplicateCN {
			flags = append(flags, "duplicate-cn")
		}
		if s.ClientConfigDir != "" {
			cd := "client-config-dir " + s.ClientConfigDir
			if s.CCDExclusive {
				cd += " (exclusive)"
			}
			flags = append(flags, cd)
		}
		flags = append(flags, fmt.Sprintf("max-clients %d", s.MaxClients), "verify-client-cert "+s.VerifyClientCert.String())
		if s.AuthGenToken != nil {
			flags = append(flags, "auth-gen-token")
		}
		line("clients", "%s", strings.Join(flags, ", "))
		for i, p := range s.Push {
			k := ""
			if i == 0 {
				k = "push"
			}
			g := ""
			if p.Generated {
				g = "   (generated)"
			}
			fmt.Fprintf(&b, "  %-12s %s%s\n", k+map[bool]string{true: ":", false: ""}[i == 0], p.Option, g)
		}
	}

	var scripts []string
	sc := &o.Scripts
	for _, h := range []struct {
		n string
		s *Script
	}{{"up", sc.Up}, {"down", sc.Down}, {"route-up", sc.RouteUp}, {"route-pre-down", sc.RoutePreDown}, {"ipchange", sc.IPChange}, {"tls-verify", sc.TLSVerify}, {"client-connect", sc.ClientConnect}, {"client-disconnect", sc.ClientDisconnect}, {"learn-address", sc.LearnAddress}, {"auth-user-pass-verify", sc.AuthUserPassVerify}} {
		if h.s != nil {
			scripts = append(scripts, h.n)
		}
	}
	if len(scripts) > 0 {
		line("scripts", "%s (script-security %d)", strings.Join(scripts, ", "), sc.Security)
	}
	if m := o.Management; m != nil && m.Addr != "" {
		addr := fmt.Sprintf("%s:%d", m.Addr, m.Port)
		if m.Unix {
			addr = m.Addr + " (unix)"
		}
		line("management", "%s", addr)
	}
	return b.String()
}

func hostPort(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func redirectFlags(rg *RedirectGateway) string {
	var f []string
	if rg.Private {
		f = append(f, "(private)")
	}
	for _, x := range []struct {
		on bool
		n  string
	}{{rg.Def1, "def1"}, {rg.Local, "local"}, {rg.AutoLocal, "autolocal"}, {rg.BypassDHCP, "bypass-dhcp"}, {rg.BypassDNS, "bypass-dns"}, {rg.BlockLocal, "block-local"}, {rg.IPv6, "ipv6"}, {!rg.IPv4 && !rg.Private, "!ipv4"}} {
		if x.on {
			f = append(f, x.n)
		}
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}

func materialSource(m *Material) string {
	if m.Inline {
		return "inline"
	}
	return m.Path
}

// MarshalJSON renders a Material without its contents: where it came from,
// its size and the SHA-256 of the contents.
func (m *Material) MarshalJSON() ([]byte, error) {
	sum := sha256.Sum256(m.Data)
	return json.Marshal(struct {
		Inline       bool   `json:"inline,omitempty"`
		Path         string `json:"path,omitempty"`
		ResolvedPath string `json:"resolved_path,omitempty"`
		File         string `json:"file"`
		Line         int    `json:"line"`
		Size         int    `json:"size"`
		SHA256       string `json:"sha256"`
	}{m.Inline, m.Path, m.ResolvedPath, m.File, m.Line, len(m.Data), hex.EncodeToString(sum[:])})
}

// MarshalJSON renders UserPass without the password.
func (u *UserPass) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Source      CredSource `json:"source"`
		Username    string     `json:"username,omitempty"`
		HasPassword bool       `json:"has_password"`
		Material    *Material  `json:"material,omitempty"`
	}{u.Source, u.Username, u.HasPassword, u.Material})
}

// String describes the credentials' origin without the password.
func (u *UserPass) String() string {
	s := "auth-user-pass from " + u.Source.String()
	if u.Username != "" {
		s += " (user " + u.Username + ")"
	}
	return s
}

// Report is the outcome of checking one configuration, as "openvpn-go
// check" prints it.
type Report struct {
	// File is the configuration as named.
	File string
	// Options is the evaluated profile (possibly incomplete when there are
	// errors).
	Options *Options
	// Diagnostics holds every warning and error.
	Diagnostics *Diagnostics
}

// Check loads path and returns the report.
func (l *Loader) Check(path string) *Report {
	o, d, _ := l.Load(path)
	return &Report{File: path, Options: o, Diagnostics: d}
}

// OK reports whether the configuration would start (no error).
func (r *Report) OK() bool { return !r.Diagnostics.HasErrors() }

// WriteTo prints the diagnostics ("FILE:LINE: level: message"), the summary
// of the profile and a final verdict line.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, d := range r.Diagnostics.Sorted() {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	if r.Options != nil && len(r.Options.Connections) > 0 {
		fmt.Fprintf(&b, "%s:\n", r.File)
		b.WriteString(r.Options.Summary())
	}
	ne, nw := len(r.Diagnostics.Errors()), len(r.Diagnostics.Warnings())
	if ne == 0 {
		fmt.Fprintf(&b, "%s: OK (%d warning%s)\n", r.File, nw, plural(nw))
	} else {
		fmt.Fprintf(&b, "%s: FAILED: %d error%s, %d warning%s\n", r.File, ne, plural(ne), nw, plural(nw))
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
