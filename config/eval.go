package config

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// class is a set of contexts an option may appear in, after OpenVPN's
// OPT_P_* permission bits. The configuration file allows every class except
// the per-client and pull-only ones; a <connection> block allows only
// classConnection; a PUSH_REPLY allows the pull mask; a ccd file the
// per-client mask.
type class uint32

const (
	cGeneral class = 1 << iota
	cUp
	cRoute
	cDHCPDNS
	cScript
	cSetenv
	cShaper
	cTimer
	cPersist
	cPersistIP
	cComp
	cMessages
	cNCP
	cTLSParms
	cMTU
	cNice
	cPush
	cInstance
	cConfig
	cExplicitNotify
	cEcho
	cInherit
	cRouteExtras
	cPullMode
	cPlugin
	cSockbuf
	cSockflags
	cConnection
	cPeerID
	cInline
	cPushMTU
)

const (
	ctxConfig     = ^(cInstance | cPullMode)
	ctxConnection = cConnection
	ctxCCD        = cInstance | cInherit | cPush | cTimer | cConfig | cEcho | cComp | cSockflags
	ctxPullBase   = cUp | cRouteExtras | cSockbuf | cSockflags | cSetenv | cShaper | cTimer | cComp |
		cPersist | cMessages | cExplicitNotify | cEcho | cPullMode | cPeerID | cNCP | cPushMTU
	ctxPullRoutes = cRoute | cDHCPDNS
)

// fileRef is a file-valued option waiting to be read: files are read once
// the whole configuration is known, relative to the final directory ("cd").
type fileRef struct {
	at     Directive
	option string
	name   string // as written; "" when inline
	inline bool
	text   string
	// inlineKeyword is set for the "[inline]" placeholder file name, which
	// must be followed by an inline block.
	inlineKeyword bool
}

// connState is a connection entry under construction.
type connState struct {
	c                                     Connection
	tunMTUSet, linkMTUSet, tunMTUExtraSet bool
	mssfixDefault                         bool
	bindDefined, localPortDefined, nobind bool
	hasRemote                             bool
	tlsAuth, tlsCrypt, tlsCryptV2         *fileRef
	keyDir                                KeyDirection
	proxyUserPass                         *fileRef
}

// remoteLine is one plain "remote" outside <connection> blocks.
type remoteLine struct {
	host     string
	port     uint16
	portSet  bool
	proto    Proto
	family   Family
	protoSet bool
	at       Directive
}

// evaluator turns directives into Options. It is used by one load only.
type evaluator struct {
	files fileSystem
	d     *Diagnostics
	o     *Options

	topFile   string
	readTotal int64  // bytes read by this load, bounded by maxTotalRead
	dir       string // directory relative names resolve against (cd applied)
	dirSet    bool
	numFiles  int
	stack     []string // include chain (resolved names), for loop detection

	ignoreUnknown map[string]bool
	forwardCompat bool

	ctx       class
	global    connState
	cur       *connState // global, or the <connection> block being read
	blocks    []connState
	remotes   []remoteLine
	entryRefs []connState // the entries behind Options.Connections
	locals    []localLine // "local" lines outside <connection> blocks
	// gwrap holds tls-auth/tls-crypt(-v2) written outside <connection>
	// blocks; entries without their own take these.
	gwrap struct{ tlsAuth, tlsCrypt, tlsCryptV2 *fileRef }

	refs struct {
		ca, cert, key, extra, pkcs12, crl, dh, secret *fileRef
		tokenSecret, askpass, userPass                *fileRef
	}
	keyDir       KeyDirection
	forceCookie  bool
	allowNoncook bool
	cipherOpt    string
	cipherAt     Directive
	ciphersSet   bool
	compSet      bool
	allowCompSet bool
	pingSet      bool
	pingRecSet   bool
	keepaliveAt  *Directive
	tcpNoDelay   *Directive

	tlsClient   bool
	tlsServer   bool
	tlsMinSet   bool
	ifconfigAt  *Directive
	mgmtAt      *Directive
	compAt      Directive
	allowCompNo bool
	allowCompAt Directive

	srv          serverState
	scriptAt     map[string]Directive
	seen         map[string]Directive
	verifyHashAt *Directive
	peerFPAt     *Directive
}

func newEvaluator(files fileSystem) *evaluator {
	e := &evaluator{
		files:         files,
		d:             &Diagnostics{},
		o:             &Options{},
		ignoreUnknown: map[string]bool{},
		ctx:           ctxConfig,
		scriptAt:      map[string]Directive{},
		seen:          map[string]Directive{},
	}
	e.cur = &e.global
	setDefaults(e.o, &e.global)
	e.srv.init()
	return e
}

// setDefaults fills in OpenVPN 2.6's defaults (init_options).
func setDefaults(o *Options, g *connState) {
	o.Mode = ModeP2P
	o.ResolvRetry = ResolvRetryInfinite
	o.Device.Topology = TopologyNet30
	g.c = Connection{
		RemotePort:           1194,
		LocalPort:            1194,
		Proto:                ProtoUDP,
		Bind:                 true,
		ConnectRetry:         time.Second,
		ConnectRetryMaxDelay: 300 * time.Second,
		ConnectTimeout:       120 * time.Second,
		TunMTU:               1500,
		TunMTUMax:            1600,
		MaxPacketSize:        1250,
	}
	g.mssfixDefault = true
	g.c.MSSFix.MTU = true
	o.Routing.DelayWindow = 30 * time.Second
	o.TLS.VersionMin = 0 // decided in finalize (1.2 unless tls-version-max is lower)
	o.TLS.HandWindow = 60 * time.Second
	o.TLS.TranWindow = 3600 * time.Second
	o.TLS.Timeout = 2 * time.Second
	o.TLS.Reneg.Seconds = 3600 * time.Second
	o.TLS.X509UsernameField = []string{"CN"}
	o.Data.Auth = "SHA1"
	o.Data.ReplayWindow = 64
	o.Data.ReplayTime = 15 * time.Second
	o.Scripts.Security = 1
	o.Scripts.TmpDir = "/tmp"
	o.Log.Verb = 1
	o.Log.StatusInterval = 60 * time.Second
	o.Log.StatusVersion = 1
}

// errorf records an error about directive d.
func (e *evaluator) errorf(d Directive, format string, args ...any) {
	e.d.errorf(d, d.Name, format, args...)
}

// warnf records a warning about directive d.
func (e *evaluator) warnf(d Directive, format string, args ...any) {
	e.d.warnf(d, d.Name, format, args...)
}

// loadFile reads a configuration file and applies its directives. at is the
// "config" directive that included it (zero for the top file).
func (e *evaluator) loadFile(name string, at Directive, depth int) {
	if depth > maxIncludeDepth {
		e.errorf(at, "includes nested more than %d deep (does a file include itself?)", maxIncludeDepth)
		return
	}
	clean := filepath.Clean(name)
	for _, f := range e.stack {
		if f == clean {
			e.errorf(at, "include loop: %s includes itself (chain: %s)", name, strings.Join(append(e.stack, clean), " -> "))
			return
		}
	}
	e.numFiles++
	if e.numFiles > maxConfigFiles {
		e.errorf(at, "more than %d configuration files included", maxConfigFiles)
		return
	}
	data, err := e.readFile(name, MaxConfigSize)
	if err != nil {
		if at.Name == "" {
			e.d.errorf(Directive{File: name}, "", "cannot read configuration file: %s", describeFileError(err))
		} else {
			e.errorf(at, "cannot read configuration file %s: %s", name, describeFileError(err))
		}
		return
	}
	e.stack = append(e.stack, clean)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()
	dirs := parseDirectives(data, name, 0, e.d)
	e.applyAll(dirs, depth)
}

// applyAll applies directives in order.
func (e *evaluator) applyAll(dirs []Directive, depth int) {
	for _, d := range dirs {
		e.o.Directives = append(e.o.Directives, d)
		if d.Name == "config" && len(d.Args) == 1 && !d.Inline && e.ctx&cConfig != 0 {
			e.include(d, depth)
			continue
		}
		e.apply(d)
	}
}

// include handles "config FILE": the file is relative to the including
// file's directory (the working directory for the command line).
func (e *evaluator) include(d Directive, depth int) {
	base := "."
	if d.File != CmdLineFile {
		base = filepath.Dir(d.File)
	}
	name := resolve(base, d.Args[0])
	if e.topFile == "" {
		e.topFile = name
		e.o.ConfigFile = name
		if !e.dirSet {
			e.dir = filepath.Dir(name)
		}
	}
	e.loadFile(name, d, depth+1)
}

// lenient reports whether unknown options and wrong argument counts are
// only warnings for this directive.
func (e *evaluator) lenientFor(name string, setenvOpt bool) bool {
	return setenvOpt || e.forwardCompat || e.ignoreUnknown[name]
}

// apply evaluates one directive in the current context.
func (e *evaluator) apply(d Directive) {
	setenvOpt := false
	if d.Name == "setenv" && len(d.Args) > 0 && d.Args[0] == "opt" && !d.Inline {
		if len(d.Args) == 1 {
			e.warnf(d, "'setenv opt' without an option: ignored")
			return
		}
		d = Directive{Name: d.Args[1], Args: d.Args[2:], File: d.File, Line: d.Line}
		setenvOpt = true
	}
	sp := lookupOption(d.Name)
	if sp == nil {
		e.unknown(d, setenvOpt)
		return
	}
	if sp.class&e.ctx == 0 {
		e.wrongContext(d, sp)
		return
	}
	if d.Inline && sp.class&cInline == 0 {
		e.errorf(d, "cannot be written as an inline <%s> block; give it as a line: %s", d.Name, sp.usageLine(d.Name))
		return
	}
	n := len(d.Args)
	if n < sp.min || (sp.max >= 0 && n > sp.max) {
		if e.lenientFor(d.Name, setenvOpt) {
			e.warnf(d, "ignored: wrong number of arguments (usage: %s)", sp.usageLine(d.Name))
			return
		}
		e.errorf(d, "%s (usage: %s)", argCountMsg(sp, n), sp.usageLine(d.Name))
		return
	}
	if sp.class&cConnection != 0 && e.ctx == ctxConfig && len(e.blocks) > 0 && !inheritedLate[d.Name] {
		e.warnf(d, "does not apply to the <connection> blocks above it; options meant as defaults for all blocks must come before the first block")
	}
	switch sp.status {
	case stIgnored:
		e.warnf(d, "%s", sp.note)
		return
	case stRemoved:
		if sp.apply == nil {
			e.errorf(d, "%s", sp.note)
			return
		}
		e.warnf(d, "%s", sp.note)
	case stNotYet:
		what := ""
		if len(d.Args) > 0 && !d.Inline {
			what = quoteWord(d.Args[0]) + ": "
		}
		if sp.notYetError {
			e.errorf(d, "%snot supported by openvpn-go yet: %s", what, sp.note)
		} else {
			e.warnf(d, "%snot supported by openvpn-go yet (ignored): %s", what, sp.note)
		}
		if sp.apply == nil {
			return
		}
	}
	if sp.apply == nil {
		return
	}
	if err := sp.apply(e, d); err != nil {
		e.errorf(d, "%v", err)
	}
	e.seen[d.Name] = d
}

// inheritedLate are connection options that still reach <connection>
// blocks written before them (remote is collected separately; wrapping and
// connect-retry-max are global until the end).
var inheritedLate = map[string]bool{
	"remote": true, "tls-auth": true, "tls-crypt": true, "tls-crypt-v2": true,
	"key-direction": true, "connect-retry-max": true,
}

func argCountMsg(sp *optSpec, n int) string {
	switch {
	case sp.max == 0:
		return fmt.Sprintf("takes no arguments, got %d", n)
	case sp.min == sp.max:
		return fmt.Sprintf("takes %d argument%s, got %d", sp.min, plural(sp.min), n)
	case sp.max < 0:
		return fmt.Sprintf("takes at least %d argument%s, got %d", sp.min, plural(sp.min), n)
	case n < sp.min:
		return fmt.Sprintf("takes at least %d argument%s, got %d", sp.min, plural(sp.min), n)
	}
	return fmt.Sprintf("takes at most %d argument%s, got %d", sp.max, plural(sp.max), n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// unknown reports an option OpenVPN 2.6 does not define.
func (e *evaluator) unknown(d Directive, setenvOpt bool) {
	if e.lenientFor(d.Name, setenvOpt) {
		why := "ignore-unknown-option"
		if setenvOpt {
			why = "setenv opt"
		} else if e.forwardCompat && !e.ignoreUnknown[d.Name] {
			why = "setenv FORWARD_COMPATIBLE 1"
		}
		e.warnf(d, "unknown option ignored (%s)", why)
		return
	}
	msg := fmt.Sprintf("unknown option %q", d.Name)
	if s := suggestOption(d.Name); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	if d.Inline {
		msg += fmt.Sprintf("; <%s> is not an inline block OpenVPN knows", d.Name)
	} else {
		msg += fmt.Sprintf("; if it is meant for another client, put 'ignore-unknown-option %s' before it", d.Name)
	}
	e.errorf(d, "%s", msg)
}

// wrongContext reports an option not allowed where it appears.
func (e *evaluator) wrongContext(d Directive, sp *optSpec) {
	switch {
	case e.ctx == ctxConnection:
		e.errorf(d, "cannot be used inside a <connection> block (allowed there: %s)", strings.Join(connectionOptionNames(), ", "))
	case sp.class&(cInstance|cInherit) != 0 && sp.class&^(cInstance|cInherit|cInline) == 0:
		e.errorf(d, "option '%s' cannot be used in this context: it is a per-client option for a client-config-dir file or client-connect output, not for the main configuration", d.Name)
	case sp.class == cPullMode:
		e.errorf(d, "option '%s' cannot be used in this context: it is only valid in a PUSH_REPLY", d.Name)
	default:
		e.errorf(d, "option '%s' cannot be used in this context", d.Name)
	}
}

// ref records a file-valued option. For inline directives the text is kept;
// otherwise the name is read later relative to the final directory.
func (e *evaluator) ref(d Directive) *fileRef {
	r := &fileRef{at: d, option: d.Name}
	if d.Inline {
		r.inline = true
		r.text = firstArg(d)
		return r
	}
	r.name = d.Args[0]
	if r.name == "[inline]" {
		r.inlineKeyword = true
	}
	return r
}

// setRef stores a file reference into *slot. A "[inline]" placeholder is
// kept until the block that follows replaces it; a later line replaces an
// earlier one, as in OpenVPN.
func (e *evaluator) setRef(slot **fileRef, d Directive) *fileRef {
	r := e.ref(d)
	*slot = r
	return r
}

// readRef reads a file reference into a Material, or records an error.
func (e *evaluator) readRef(r *fileRef) *Material {
	if r == nil {
		return nil
	}
	m := &Material{Inline: r.inline, File: r.at.File, Line: r.at.Line}
	if r.inline {
		m.Data = []byte(r.text)
		return m
	}
	if r.inlineKeyword {
		e.errorf(r.at, "'[inline]' needs an inline <%s> block after it", r.option)
		return nil
	}
	m.Path = r.name
	m.ResolvedPath = resolve(e.dir, r.name)
	data, err := e.readFile(m.ResolvedPath, MaxFileSize)
	if err != nil {
		where := ""
		if m.ResolvedPath != filepath.Clean(r.name) {
			where = fmt.Sprintf(" (looked for %s)", m.ResolvedPath)
		}
		e.errorf(r.at, "cannot read %q%s: %s", r.name, where, describeFileError(err))
		return nil
	}
	m.Data = data
	return m
}

// maxTotalRead bounds everything one load reads (configuration files,
// includes and referenced files together), in bytes.
const maxTotalRead = 256 << 20

// readFile reads a file within the load's total budget.
func (e *evaluator) readFile(name string, limit int64) ([]byte, error) {
	remaining := maxTotalRead - e.readTotal
	if remaining <= 0 {
		return nil, fmt.Errorf("more than %d bytes read in total by this configuration", int64(maxTotalRead))
	}
	data, err := e.files.readFile(name, min(limit, remaining))
	e.readTotal += int64(len(data))
	return data, err
}

// finalize runs OpenVPN's post-processing: macro expansion, defaults that
// depend on other options, connection entries, checks and file reads.
func (e *evaluator) finalize() {
	o := e.o
	o.Dir = e.dir
	if o.Dir == "" {
		o.Dir = "."
	}

	e.finishDevice()
	e.expandServer()      // helper_client_server
	e.expandKeepalive()   // helper_keepalive
	e.expandTCPNoDelay()  // helper_tcp_nodelay
	e.finishCiphers()     // data-ciphers, cipher, compat
	e.buildConnections()  // remotes → entries, per-entry defaults
	e.finishTLS()         // dh, TLS version, verify flags, materials
	e.finishCompression() // allow-compression
	e.finishTimers()
	e.finishServer()
	e.verify()
	e.readMaterials()
	e.checkScripts()
}

// finishDevice derives the device type from dev/dev-type.
func (e *evaluator) finishDevice() {
	dev := &e.o.Device
	if dev.Type != DevUnset {
		return
	}
	switch {
	case strings.HasPrefix(dev.Name, "tun"):
		dev.Type = DevTun
	case strings.HasPrefix(dev.Name, "tap"):
		dev.Type = DevTap
	case dev.Name == "null":
		dev.Type = DevNull
	}
}

// buildConnections builds Options.Connections (options_postprocess_mutate
// and mutate_ce).
func (e *evaluator) buildConnections() {
	o := e.o
	var entries []connState
	switch {
	case len(e.blocks) > 0:
		for _, r := range e.remotes {
			e.warnf(r.at, "ignored: 'remote' outside <connection> blocks has no effect once <connection> blocks are used (OpenVPN ignores it too); move it into a block")
		}
		entries = e.blocks
	case len(e.remotes) > 0:
		for _, r := range e.remotes {
			cs := e.global
			loadRemote(&cs, r)
			entries = append(entries, cs)
		}
	case len(e.locals) > 1 && (o.Mode == ModeServer || e.srv.anyMacro()):
		// Several listeners (2.7's repeated "local"): one entry each.
		for _, l := range e.locals {
			cs := e.global
			cs.c.Local = l.host
			if l.portSet {
				cs.c.LocalPort = l.port
				cs.localPortDefined = true
			}
			if l.protoSet {
				cs.c.Proto, cs.c.Family = l.proto, l.family
			}
			cs.c.File, cs.c.Line = l.at.File, l.at.Line
			entries = append(entries, cs)
		}
	case len(e.locals) > 1:
		e.d.errorf(e.locals[1].at, "local", "only a server can listen on several local addresses; keep one 'local' line")
		entries = []connState{e.global}
	default:
		entries = []connState{e.global}
	}
	for i := range entries {
		e.finishEntry(&entries[i])
		o.Connections = append(o.Connections, entries[i].c)
	}
	e.entryRefs = entries
}

// localLine is one "local HOST [PORT [PROTO]]".
type localLine struct {
	host     string
	port     uint16
	portSet  bool
	proto    Proto
	family   Family
	protoSet bool
	at       Directive
}

func loadRemote(cs *connState, r remoteLine) {
	cs.c.Remote = r.host
	cs.hasRemote = true
	if r.portSet {
		cs.c.RemotePort = r.port
	}
	if r.protoSet {
		cs.c.Proto = r.proto
		cs.c.Family = r.family
	}
	cs.c.File, cs.c.Line = r.at.File, r.at.Line
}

// finishEntry applies the per-entry defaults of options_postprocess_mutate_ce.
func (e *evaluator) finishEntry(cs *connState) {
	o := e.o
	c := &cs.c
	if c.Proto == ProtoTCP {
		if o.Mode == ModeServer || e.srv.anyMacro() {
			c.Proto = ProtoTCPServer
		} else if o.Client {
			c.Proto = ProtoTCPClient
		}
	}
	needBind := c.Local != "" || cs.localPortDefined || cs.bindDefined
	if cs.nobind {
		c.Bind = false
	}
	if !needBind && (c.Proto == ProtoTCPClient || o.Pull || o.Client) {
		c.Bind = false
	}
	if o.Device.Type == DevTap && !cs.tunMTUExtraSet {
		c.TunMTUExtra = 32
	}
	if cs.mssfixDefault {
		switch {
		case cs.linkMTUSet && !cs.tunMTUSet:
			c.MSSFix = MSSFix{}
		case c.Fragment > 0:
			c.MSSFix = MSSFix{Max: c.Fragment}
		case e.global.c.TunMTU == 1500:
			c.MSSFix = MSSFix{Max: 1492, MTU: true}
		default:
			c.MSSFix = MSSFix{Max: c.TunMTU, Fixed: true}
		}
	}
	// Wrapping: an entry without its own tls-auth/tls-crypt(-v2) takes the
	// global one.
	if cs.tlsAuth == nil && cs.tlsCrypt == nil && cs.tlsCryptV2 == nil {
		cs.tlsAuth, cs.tlsCrypt, cs.tlsCryptV2 = e.gwrap.tlsAuth, e.gwrap.tlsCrypt, e.gwrap.tlsCryptV2
		cs.keyDir = e.keyDir
	}
	switch {
	case cs.tlsAuth != nil:
		c.Wrap.Mode = WrapTLSAuth
		c.Wrap.Direction = cs.keyDir
	case cs.tlsCrypt != nil:
		c.Wrap.Mode = WrapTLSCrypt
	case cs.tlsCryptV2 != nil:
		c.Wrap.Mode = WrapTLSCryptV2
	}
	c.Wrap.ForceCookie = e.forceCookie
	c.Wrap.AllowNoncookie = e.allowNoncook
	if c.Proto.IsTCP() && c.ExplicitExitNotify != 0 {
		at := Directive{File: c.File, Line: c.Line}
		if d, ok := e.seen["explicit-exit-notify"]; ok {
			at = d
		}
		e.d.warnf(at, "explicit-exit-notify", "ignored for TCP connections (the peer sees the connection close)")
		c.ExplicitExitNotify = 0
	}
}

// readMaterials reads every file-valued option (after cd is known).
func (e *evaluator) readMaterials() {
	o := e.o
	t := &o.TLS
	t.CA = e.readRef(e.refs.ca)
	t.Cert = e.readRef(e.refs.cert)
	t.Key = e.readRef(e.refs.key)
	t.ExtraCerts = e.readRef(e.refs.extra)
	t.PKCS12 = e.readRef(e.refs.pkcs12)
	if t.PKCS12 != nil && t.PKCS12.Inline {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(t.PKCS12.Data)), ""))
		if err != nil {
			e.errorf(e.refs.pkcs12.at, "inline <pkcs12> is not valid base64: %v", err)
		} else {
			t.PKCS12.Data = der
		}
	}
	if e.refs.crl != nil {
		t.CRL = e.readRef(e.refs.crl)
	}
	if e.refs.dh != nil {
		t.DH = e.readRef(e.refs.dh)
	}
	if e.refs.askpass != nil {
		t.AskPass = e.readRef(e.refs.askpass)
	}
	o.Data.Secret = e.readRef(e.refs.secret)
	if e.refs.secret != nil {
		o.Data.SecretDirection = e.keyDir
	}
	if o.Server != nil {
		o.Server.TokenSecret = e.readRef(e.refs.tokenSecret)
	}
	e.readUserPass()
	// Connection entries share global key files: read each reference once.
	cache := map[*fileRef]*Material{}
	read := func(r *fileRef) *Material {
		if r == nil {
			return nil
		}
		if m, ok := cache[r]; ok {
			return m
		}
		m := e.readRef(r)
		cache[r] = m
		return m
	}
	for i := range o.Connections {
		c := &o.Connections[i]
		src := e.entryRefs[i]
		switch c.Wrap.Mode {
		case WrapTLSAuth:
			c.Wrap.Key = read(src.tlsAuth)
			c.Wrap.Digest = o.Data.Auth
		case WrapTLSCrypt:
			c.Wrap.Key = read(src.tlsCrypt)
		case WrapTLSCryptV2:
			c.Wrap.Key = read(src.tlsCryptV2)
		}
		if c.HTTPProxy != nil && src.proxyUserPass != nil {
			c.HTTPProxy.UserPass = read(src.proxyUserPass)
		}
	}
	e.checkMaterials()
}

// readUserPass reads auth-user-pass credentials (file or inline:
// "username\n[password]").
func (e *evaluator) readUserPass() {
	r := e.refs.userPass
	if r == nil {
		return
	}
	up := &UserPass{Source: CredPrompt}
	e.o.Auth.UserPass = up
	if !r.inline && r.name == "" {
		return
	}
	if !r.inline && r.name == "stdin" {
		return
	}
	m := e.readRef(r)
	if m == nil {
		return
	}
	up.Material = m
	up.Source = CredFile
	if m.Inline {
		up.Source = CredInline
	}
	lines := strings.Split(strings.ReplaceAll(string(m.Data), "\r", ""), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		e.errorf(r.at, "the credentials are empty: the first line must be the username (the second the password)")
		return
	}
	up.Username = lines[0]
	if len(lines) > 1 && lines[1] != "" {
		up.Password = lines[1]
		up.HasPassword = true
	}
	const maxCred = 4096
	if len(up.Username) > maxCred || len(up.Password) > maxCred {
		e.errorf(r.at, "username or password longer than %d bytes", maxCred)
	}
}

// sortedServers keeps DNS servers sorted by priority.
func sortedServers(s []DNSServer) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Priority < s[j].Priority })
}
