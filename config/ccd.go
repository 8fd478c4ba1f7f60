package config

// Per-client configuration: a client-config-dir file, or the file a
// client-connect script (or management client-auth) writes. OpenVPN reads it
// with the per-client permission mask (CLIENT_CONNECT_OPT_MASK): instance
// options, pushes, timers, echo, compression, socket flags and includes.

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"time"
)

// CCD is one client's configuration. Fields are zero when the option was
// not given.
type CCD struct {
	// IfconfigPush is "ifconfig-push local remote-netmask [alias]": the
	// client's static IPv4 address (nil when absent).
	IfconfigPush *IfconfigPush
	// IfconfigIPv6Push is "ifconfig-ipv6-push addr/bits [remote]";
	// IfconfigIPv6Remote is invalid when the second word is absent (the
	// server's own ifconfig-ipv6 address is then used).
	IfconfigIPv6Push   netip.Prefix
	IfconfigIPv6Remote netip.Addr
	// IRoutes ("iroute net [mask]") and IRoutes6 ("iroute-ipv6 net/bits")
	// are networks behind this client.
	IRoutes  []netip.Prefix
	IRoutes6 []netip.Prefix
	// Push lists "push" lines for this client, PushReset is "push-reset"
	// (drop the global push list), PushRemove the "push-remove" prefixes.
	Push       []PushEntry
	PushReset  bool
	PushRemove []string
	// Disable ("disable") refuses the client.
	Disable bool
	// Ciphers ("data-ciphers"), Cipher ("cipher") and Fallback
	// ("data-ciphers-fallback") override the server's negotiation for this
	// client.
	Ciphers  []string
	Cipher   string
	Fallback string
	// Compression overrides the framing for this client (CompressionSet).
	Compression    CompAlgorithm
	CompressionSet bool
	// Timers for this client; the Set flags tell what was given.
	Ping              time.Duration
	PingSet           bool
	PingRestart       time.Duration
	PingExit          time.Duration
	PingRecSet        bool
	Inactive          time.Duration
	InactiveBytes     int64
	InactiveSet       bool
	SessionTimeout    time.Duration
	SessionTimeoutSet bool
	// Echo lines, MaxRoutesPerClient (0 = server default), VLANPVID (0 =
	// server default), TCPNoDelay and BindDev (socket flags).
	Echo               []string
	MaxRoutesPerClient int
	VLANPVID           int
	TCPNoDelay         bool
	BindDev            string
	// Directives is every directive read, includes expanded.
	Directives []Directive
}

// IfconfigPush is a static client address.
type IfconfigPush struct {
	Local netip.Addr
	// Remote is the peer address (net30/p2p) or the netmask (subnet/tap).
	Remote netip.Addr
	// Alias is the optional third address (invalid when absent).
	Alias netip.Addr
}

// ParseCCD reads a per-client configuration from r (name positions the
// diagnostics; "config" includes are read from the OS file system relative
// to name's directory). The Diagnostics are never nil; err is nil exactly
// when there is no error diagnostic.
func ParseCCD(r io.Reader, name string) (*CCD, *Diagnostics, error) {
	return (&Loader{}).ParseCCD(r, name)
}

// ParseCCD is the package-level ParseCCD reading includes through l.
func (l *Loader) ParseCCD(r io.Reader, name string) (*CCD, *Diagnostics, error) {
	c := &ccdReader{files: l.files(), d: &Diagnostics{}, c: &CCD{}}
	data, err := readLimited(r, MaxConfigSize)
	if err != nil {
		c.d.errorf(Directive{File: name}, "", "cannot read: %v", err)
		return c.c, c.d, c.d.Err()
	}
	c.stack = []string{filepath.Clean(name)}
	c.applyAll(parseDirectives(data, name, 0, c.d), 0)
	return c.c, c.d, c.d.Err()
}

// LoadCCD reads a per-client configuration file.
func (l *Loader) LoadCCD(path string) (*CCD, *Diagnostics, error) {
	c := &ccdReader{files: l.files(), d: &Diagnostics{}, c: &CCD{}}
	c.load(path, Directive{}, 0)
	return c.c, c.d, c.d.Err()
}

type ccdReader struct {
	files     fileSystem
	d         *Diagnostics
	c         *CCD
	stack     []string
	numFiles  int
	readTotal int64
}

func (r *ccdReader) load(name string, at Directive, depth int) {
	if depth > maxIncludeDepth {
		r.d.errorf(at, at.Name, "includes nested more than %d deep", maxIncludeDepth)
		return
	}
	clean := filepath.Clean(name)
	for _, f := range r.stack {
		if f == clean {
			r.d.errorf(at, at.Name, "include loop: %s includes itself", name)
			return
		}
	}
	r.numFiles++
	if r.numFiles > maxConfigFiles {
		r.d.errorf(at, at.Name, "more than %d files included", maxConfigFiles)
		return
	}
	if r.readTotal >= maxTotalRead {
		r.d.errorf(at, at.Name, "more than %d bytes read in total", int64(maxTotalRead))
		return
	}
	data, err := r.files.readFile(name, min(MaxConfigSize, maxTotalRead-r.readTotal))
	r.readTotal += int64(len(data))
	if err != nil {
		pos := at
		if pos.Name == "" {
			pos = Directive{File: name}
		}
		r.d.errorf(pos, at.Name, "cannot read %s: %s", name, describeFileError(err))
		return
	}
	r.stack = append(r.stack, clean)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	r.applyAll(parseDirectives(data, name, 0, r.d), depth)
}

func (r *ccdReader) applyAll(dirs []Directive, depth int) {
	for _, d := range dirs {
		r.c.Directives = append(r.c.Directives, d)
		r.apply(d, depth)
	}
}

func (r *ccdReader) apply(d Directive, depth int) {
	sp := lookupOption(d.Name)
	if sp == nil {
		msg := fmt.Sprintf("unknown option %q", d.Name)
		if s := suggestOption(d.Name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		r.d.errorf(d, d.Name, "%s", msg)
		return
	}
	if sp.class&ctxCCD == 0 {
		r.d.errorf(d, d.Name, "option '%s' cannot be used in this context: a client-config-dir file or client-connect output allows only per-client options (ifconfig-push, iroute, push, push-reset, push-remove, disable, ...)", d.Name)
		return
	}
	if d.Inline {
		r.d.errorf(d, d.Name, "inline blocks cannot be used here")
		return
	}
	if n := len(d.Args); n < sp.min || sp.max >= 0 && n > sp.max {
		r.d.errorf(d, d.Name, "%s (usage: %s)", argCountMsg(sp, n), sp.usageLine(d.Name))
		return
	}
	if d.Name == "config" {
		base := "."
		if d.File != CmdLineFile {
			base = filepath.Dir(d.File)
		}
		r.load(resolve(base, d.Args[0]), d, depth+1)
		return
	}
	fn := ccdHandlers[d.Name]
	if fn == nil {
		r.d.warnf(d, d.Name, "accepted but has no effect in openvpn-go")
		return
	}
	if err := fn(r.c, d); err != nil {
		r.d.errorf(d, d.Name, "%v", err)
	}
}

var ccdHandlers = map[string]func(c *CCD, d Directive) error{
	"ifconfig-push": func(c *CCD, d Directive) error {
		l, err := parseIPv4(d.Args[0], "local address")
		if err != nil {
			return err
		}
		rm, err := parseIPv4(d.Args[1], "remote address or netmask")
		if err != nil {
			return err
		}
		ip := &IfconfigPush{Local: l, Remote: rm}
		if len(d.Args) == 3 {
			if ip.Alias, err = parseIPv4(d.Args[2], "alias"); err != nil {
				return err
			}
		}
		c.IfconfigPush = ip
		return nil
	},
	"ifconfig-ipv6-push": func(c *CCD, d Directive) error {
		p, err := parseIPv6Prefix(d.Args[0], "address")
		if err != nil {
			return err
		}
		c.IfconfigIPv6Push = p
		c.IfconfigIPv6Remote = netip.Addr{}
		if len(d.Args) == 2 {
			if c.IfconfigIPv6Remote, err = parseIPv6(d.Args[1], "remote address"); err != nil {
				return err
			}
		}
		return nil
	},
	"iroute": func(c *CCD, d Directive) error {
		n, err := parseIPv4(d.Args[0], "network")
		if err != nil {
			return err
		}
		bits := 32
		if len(d.Args) == 2 {
			m, err := parseIPv4(d.Args[1], "netmask")
			if err != nil {
				return err
			}
			var ok bool
			if bits, ok = netmaskBits(m); !ok {
				return fmt.Errorf("netmask %s is not a valid netmask", m)
			}
		}
		p := netip.PrefixFrom(n, bits)
		if p.Masked() != p {
			return fmt.Errorf("network %s has host bits set for netmask /%d (did you mean %s?)", n, bits, p.Masked().Addr())
		}
		c.IRoutes = append(c.IRoutes, p)
		return nil
	},
	"iroute-ipv6": func(c *CCD, d Directive) error {
		p, err := parseIPv6Prefix(d.Args[0], "network")
		if err != nil {
			return err
		}
		c.IRoutes6 = append(c.IRoutes6, p.Masked())
		return nil
	},
	"push": func(c *CCD, d Directive) error {
		if err := checkPushLine(d.Args[0]); err != nil {
			return err
		}
		c.Push = append(c.Push, PushEntry{Option: d.Args[0], File: d.File, Line: d.Line})
		return nil
	},
	"push-reset": func(c *CCD, d Directive) error {
		c.PushReset = true
		c.Push = nil
		return nil
	},
	"push-remove": func(c *CCD, d Directive) error {
		c.PushRemove = append(c.PushRemove, d.Args[0])
		kept := c.Push[:0]
		for _, p := range c.Push {
			if len(p.Option) < len(d.Args[0]) || p.Option[:len(d.Args[0])] != d.Args[0] {
				kept = append(kept, p)
			}
		}
		c.Push = kept
		return nil
	},
	"disable": func(c *CCD, d Directive) error { c.Disable = true; return nil },
	"data-ciphers": func(c *CCD, d Directive) error {
		list, _, err := parseDataCiphers(d.Args[0])
		c.Ciphers = list
		return err
	},
	"ncp-ciphers": func(c *CCD, d Directive) error {
		list, _, err := parseDataCiphers(d.Args[0])
		c.Ciphers = list
		return err
	},
	"cipher": func(c *CCD, d Directive) error {
		n, _, known := canonicalCipher(d.Args[0])
		if !known {
			return cipherError(d.Args[0], false)
		}
		c.Cipher = n
		return nil
	},
	"data-ciphers-fallback": func(c *CCD, d Directive) error {
		n, ok, known := canonicalCipher(d.Args[0])
		if !ok {
			return cipherError(d.Args[0], known)
		}
		c.Fallback = n
		return nil
	},
	"comp-lzo": func(c *CCD, d Directive) error {
		c.CompressionSet = true
		switch argOr(d, 0, "") {
		case "no":
			c.Compression = CompLZOStub
		case "yes", "adaptive", "":
			c.Compression = CompLZO
		default:
			return fmt.Errorf("unknown value %q (yes, no or adaptive)", d.Args[0])
		}
		return nil
	},
	"compress": func(c *CCD, d Directive) error {
		c.CompressionSet = true
		switch argOr(d, 0, "stub") {
		case "stub":
			c.Compression = CompStub
		case "stub-v2":
			c.Compression = CompStubV2
		case "lzo":
			c.Compression = CompLZO
		case "lz4":
			c.Compression = CompLZ4
		case "lz4-v2":
			c.Compression = CompLZ4V2
		case "migrate":
			c.Compression = CompMigrate
		default:
			return fmt.Errorf("unknown algorithm %q", d.Args[0])
		}
		return nil
	},
	"ping": func(c *CCD, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		c.Ping, c.PingSet = v, err == nil
		return err
	},
	"ping-restart": func(c *CCD, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		c.PingRestart, c.PingExit, c.PingRecSet = v, 0, err == nil
		return err
	},
	"ping-exit": func(c *CCD, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		c.PingExit, c.PingRestart, c.PingRecSet = v, 0, err == nil
		return err
	},
	"inactive": func(c *CCD, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		if err != nil {
			return err
		}
		var b int64
		if len(d.Args) == 2 {
			if b, err = parseInt(d.Args[1], 0, math.MaxInt64, "bytes"); err != nil {
				return err
			}
		}
		c.Inactive, c.InactiveBytes, c.InactiveSet = v, b, true
		return nil
	},
	"session-timeout": func(c *CCD, d Directive) error {
		v, err := parseSeconds(d.Args[0], "seconds")
		c.SessionTimeout, c.SessionTimeoutSet = v, err == nil
		return err
	},
	"echo": func(c *CCD, d Directive) error {
		c.Echo = append(c.Echo, joinWords(d.Args))
		return nil
	},
	"max-routes-per-client": func(c *CCD, d Directive) error {
		v, err := parseInt(d.Args[0], 1, math.MaxInt32, "routes")
		c.MaxRoutesPerClient = int(v)
		return err
	},
	"vlan-pvid": func(c *CCD, d Directive) error {
		v, err := parseInt(d.Args[0], 1, 4094, "VLAN id")
		c.VLANPVID = int(v)
		return err
	},
	"socket-flags": func(c *CCD, d Directive) error {
		for _, f := range d.Args {
			if f != "TCP_NODELAY" {
				return fmt.Errorf("unknown socket flag %q", f)
			}
		}
		c.TCPNoDelay = true
		return nil
	},
	"bind-dev": func(c *CCD, d Directive) error { c.BindDev = d.Args[0]; return nil },
}
