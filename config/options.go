package config

import (
	"fmt"
	"net/netip"
	"time"
)

// Options is the typed result of reading a configuration: every option
// OpenVPN 2.6 defines that openvpn-go uses, with OpenVPN 2.6's defaults
// filled in and the helper macros (client, server, server-ipv6,
// server-bridge, keepalive, tcp-nodelay) expanded the way 2.6 expands them.
//
// Options is a plain value produced by evaluation; nothing in it refers back
// to the loader. It is safe for concurrent reads once returned; callers that
// modify it own the synchronisation. Byte slices (file contents) are owned by
// the Options and must not be modified.
//
// Times are time.Duration (OpenVPN writes seconds); a zero Duration means
// "off" where OpenVPN uses 0 for off. Sizes are bytes unless stated.
type Options struct {
	// ConfigFile is the top-level configuration file as named to the loader,
	// or "" when everything came from the command line.
	ConfigFile string
	// Dir is the directory relative file names were resolved against: the
	// top configuration file's directory, changed by "cd". The runtime uses
	// it to run scripts from the same place. It is "." for a configuration
	// given only on the command line.
	Dir string

	// Mode is "mode p2p" (the default) or "mode server" (set by "server",
	// "server-bridge" and "server-ipv6" too).
	Mode Mode
	// Client is set by "client" (which implies Pull and TLSClient).
	Client bool
	// Pull is set by "pull" or "client": accept options pushed by the server.
	Pull bool
	// Role is the TLS role: client ("tls-client", "client"), server
	// ("tls-server", "server"), or none (static-key mode with "secret").
	Role Role

	// Connections lists the connection entries in order: one per "remote"
	// line, or one per <connection> block (plain "remote" lines are then
	// ignored, as in OpenVPN), or a single entry without a remote (servers,
	// p2p listeners). There is always at least one entry.
	Connections []Connection
	// RemoteRandom ("remote-random") shuffles Connections once at start.
	RemoteRandom bool
	// RemoteRandomHostname ("remote-random-hostname") prefixes a random label
	// to host names.
	RemoteRandomHostname bool
	// ConnectRetryMax ("connect-retry-max n") limits connection attempts per
	// entry; 0 means unlimited (the default).
	ConnectRetryMax int
	// ResolvRetry ("resolv-retry n|infinite") is how long to retry resolving
	// a host name; ResolvRetryInfinite (the default) retries for ever.
	ResolvRetry time.Duration
	// ProtoForce ("proto-force udp|tcp") keeps only entries with this
	// transport; ProtoUnset when absent.
	ProtoForce Proto

	Device   Device
	Ifconfig Ifconfig
	Routing  Routing
	DNS      DNS
	TLS      TLS
	Data     DataChannel
	Auth     UserAuth
	Timers   Timers
	Persist  Persist
	Scripts  Scripts
	Log      Logging
	Process  Process
	// Management is nil without a "management" option.
	Management *Management

	// Setenv lists "setenv name value" and "setenv-safe name value" in order
	// (IV_GUI_VER, IV_SSO and UV_* are sent to the server as peer info).
	Setenv []Setenv
	// PushPeerInfo ("push-peer-info") sends the full peer info (IV_HWADDR,
	// IV_SSL, UV_*...).
	PushPeerInfo bool
	// Echo holds "echo" lines from the configuration, in order.
	Echo []string
	// KeyingMaterialExporter is set by "keying-material-exporter LABEL LEN".
	KeyingMaterialExporter *KeyingMaterialExporter
	// CompatMode ("compat-mode 2.x.y") is the version OpenVPN should stay
	// compatible with, as major*10000+minor*100+patch; 0 when absent.
	CompatMode int
	// DisableDCO ("disable-dco"); openvpn-go has no kernel offload, so this
	// only records the intent.
	DisableDCO bool

	// Server holds the server side; it is nil unless Mode is ModeServer.
	Server *Server

	// Directives is every directive read, in order, includes expanded and the
	// contents of <connection> blocks in Block.
	Directives []Directive
}

// ResolvRetryInfinite is the ResolvRetry value of "resolv-retry infinite".
const ResolvRetryInfinite time.Duration = -1

// Connection is one connection entry: a remote to try, with the transport
// and connect settings that may differ per entry. Options written before
// the <connection> blocks become the defaults of every block, as in OpenVPN.
type Connection struct {
	// Remote is the host name or literal address of "remote host", unresolved
	// ("" when there is no remote: servers and p2p listeners).
	Remote string
	// RemotePort is the remote port ("remote h port", "rport", "port";
	// default 1194).
	RemotePort uint16
	// Proto is the transport ("proto", or the third "remote" word). A
	// configuration's "tcp" resolves to TCPClient for clients and TCPServer
	// for servers; it stays ProtoTCP only in p2p mode, which is an error.
	Proto Proto
	// Family restricts the address family ("udp4", "tcp6-client"...).
	Family Family
	// Local is "local host" ("" = any address).
	Local string
	// LocalPort is the port bound locally ("lport", "port"; default 1194);
	// meaningless when Bind is false.
	LocalPort uint16
	// Bind tells whether the socket binds to Local/LocalPort. It is false for
	// "nobind" and, as in OpenVPN 2.6, by default for clients (pull) and TCP
	// clients unless "bind", "local" or "lport" asks for it.
	Bind bool
	// BindIPv6Only is "bind ipv6only": no dual-stack on an IPv6 socket.
	BindIPv6Only bool
	// Float ("float") accepts authenticated packets from a new address.
	Float bool
	// ConnectRetry ("connect-retry n [max]") is the delay between attempts
	// (default 1 s); it doubles after failures up to ConnectRetryMaxDelay
	// (default 300 s).
	ConnectRetry         time.Duration
	ConnectRetryMaxDelay time.Duration
	// ConnectTimeout ("connect-timeout", "server-poll-timeout") bounds one
	// attempt, proxy and TCP connect included (default 120 s).
	ConnectTimeout time.Duration
	// ExplicitExitNotify ("explicit-exit-notify [n]") is the number of exit
	// notifications a client sends (1 when written without a number), or for
	// a server whether it tells clients to reconnect (2 = to the next
	// server). 0 means off; it is forced to 0 for TCP, as in OpenVPN.
	ExplicitExitNotify int

	// TunMTU ("tun-mtu n [occ]") is the device MTU (default 1500); TunMTUOCC
	// is the optional second value announced in the OCC string (0 = none).
	TunMTU    int
	TunMTUOCC int
	// TunMTUMax ("tun-mtu-max") is the largest MTU a server may push
	// (default 1600).
	TunMTUMax int
	// TunMTUExtra ("tun-mtu-extra") is extra room for the tap framing
	// (default 32 for tap, 0 for tun).
	TunMTUExtra int
	// LinkMTU ("link-mtu", deprecated) is 0 when absent.
	LinkMTU int
	// MaxPacketSize ("max-packet-size") is the control-packet size limit
	// (default 1250).
	MaxPacketSize int
	// MSSFix is the TCP MSS clamp ("mssfix").
	MSSFix MSSFix
	// Fragment ("fragment max [mtu]") is OpenVPN's own fragmentation: the
	// largest UDP payload in bytes, 0 when off. FragmentMTU records the "mtu"
	// flag (the size includes the outer IP/UDP headers).
	Fragment    int
	FragmentMTU bool
	// MTUDisc ("mtu-disc no|maybe|yes") is "" when absent.
	MTUDisc string

	// HTTPProxy and SocksProxy are nil unless configured (openvpn-go does not
	// support proxies yet; the loader reports them).
	HTTPProxy  *HTTPProxy
	SocksProxy *SocksProxy

	// Wrap is the control-channel protection for this entry.
	Wrap Wrap

	// File and Line locate the "remote" line or the <connection> block (empty
	// for the implicit entry).
	File string
	Line int
}

// MSSFix is the TCP MSS clamp.
type MSSFix struct {
	// Max is the largest packet size the clamp aims for, in bytes; 0 disables
	// clamping ("mssfix 0"). The 2.6 default is 1492 with MTU set, or the
	// device MTU with Fixed set when tun-mtu is not 1500, or the fragment
	// size with "fragment".
	Max int
	// MTU ("mssfix n mtu") counts the outer IP/UDP or IP/TCP headers in Max.
	MTU bool
	// Fixed ("mssfix n fixed") makes the MSS exactly Max-40 (IPv4) or Max-60
	// (IPv6), ignoring encapsulation overhead.
	Fixed bool
}

// HTTPProxy is "http-proxy host port [authfile|auto|auto-nct] [method]" plus
// its "http-proxy-option"s.
type HTTPProxy struct {
	Host string
	Port uint16
	// Auth is the third word: an authentication file, "auto", "auto-nct", or
	// "" (no authentication); AuthMethod the fourth ("basic", "ntlm"...).
	Auth       string
	AuthMethod string
	// UserPass holds the contents of <http-proxy-user-pass> or the file of
	// "http-proxy-user-pass", nil when absent.
	UserPass *Material
	// Options are the "http-proxy-option" lines (VERSION, AGENT,
	// CUSTOM-HEADER...), each as its words.
	Options [][]string
}

// SocksProxy is "socks-proxy host [port] [authfile]".
type SocksProxy struct {
	Host     string
	Port     uint16 // default 1080
	AuthFile string
}

// Wrap is the control-channel protection of one connection entry.
type Wrap struct {
	// Mode is none, tls-auth, tls-crypt or tls-crypt-v2.
	Mode WrapMode
	// Key is the static key file (tls-auth, tls-crypt), the tls-crypt-v2
	// client key, or on a server the tls-crypt-v2 server key.
	Key *Material
	// Direction is the tls-auth key direction ("tls-auth f 0|1" or
	// "key-direction"); KeyDirBidirectional when not given.
	Direction KeyDirection
	// Digest is the tls-auth HMAC digest, taken from "auth" (default SHA1).
	Digest string
	// ForceCookie ("tls-crypt-v2 f force-cookie") makes a tls-crypt-v2
	// server require the HMAC cookie handshake; AllowNoncookie records the
	// explicit opposite ("allow-noncookie", the 2.6 default).
	ForceCookie    bool
	AllowNoncookie bool
}

// Material is the content of a file-valued option (ca, cert, key, tls-auth,
// ...), read at evaluation, with where it came from.
//
// Its JSON form never contains Data (keys are secret): only the source, the
// size and a SHA-256 of the contents.
type Material struct {
	// Data is the file contents, or the text of the inline block. For an
	// inline <pkcs12> it is the decoded DER (the block is base64).
	Data []byte
	// Inline reports that the contents came from a <name>...</name> block.
	Inline bool
	// Path is the file name as written; ResolvedPath is where it was read
	// (Path joined with Options.Dir). Both are "" for inline material.
	Path         string
	ResolvedPath string
	// File and Line locate the directive.
	File string
	Line int
}

// Source names where the material came from, for messages: the quoted
// path, or "<inline, FILE:LINE>".
func (m *Material) Source() string {
	if m == nil {
		return "(missing)"
	}
	if m.Inline {
		return fmt.Sprintf("<inline, %s:%d>", m.File, m.Line)
	}
	return fmt.Sprintf("%q", m.Path)
}

// Device is the tun/tap device.
type Device struct {
	// Name is "dev" as written: "tun", "tap", "tun0", "company0"... A name
	// without a unit number asks for the next free device.
	Name string
	// Type is tun, tap or null: "dev-type", else derived from the name.
	Type DevType
	// Node is "dev-node" ("" when absent).
	Node string
	// Topology ("topology") is net30 by default in 2.6, subnet or p2p.
	Topology Topology
	// TxQueueLen ("txqueuelen"); 0 keeps the OS default.
	TxQueueLen int
	// LLAddr ("lladdr") is the tap MAC address as written.
	LLAddr string
	// MkTun/RmTun ("mktun", "rmtun") create or remove a persistent device
	// and exit.
	MkTun, RmTun bool
}

// Ifconfig is the local tunnel addressing ("ifconfig", "ifconfig-ipv6").
type Ifconfig struct {
	// Local and Remote are "ifconfig local remote|netmask": with topology
	// subnet or a tap device Remote is the netmask, otherwise the peer's
	// address. Invalid when absent.
	Local  netip.Addr
	Remote netip.Addr
	// IPv6 is "ifconfig-ipv6 addr/bits [remote]" (invalid when absent);
	// IPv6Remote the peer's address.
	IPv6       netip.Prefix
	IPv6Remote netip.Addr
	// NoExec ("ifconfig-noexec") leaves the device addresses to scripts;
	// NoWarn ("ifconfig-nowarn") silences the OCC ifconfig check.
	NoExec bool
	NoWarn bool
}

// Routing holds the routes and routing policy.
type Routing struct {
	// Routes ("route") and Routes6 ("route-ipv6") in order.
	Routes  []Route
	Routes6 []Route6
	// Gateway is "route-gateway addr" (invalid when absent or dhcp);
	// GatewayDHCP is "route-gateway dhcp".
	Gateway     netip.Addr
	GatewayDHCP bool
	// Gateway6 is "route-ipv6-gateway".
	Gateway6 netip.Addr
	// Metric ("route-metric") is the default route metric (0 = OS default).
	Metric int
	// Delay ("route-delay [n [w]]") waits n seconds after the device is up
	// before adding routes; DelayWindow (default 30 s) is how long to wait
	// for the device. DelaySet records that route-delay was given.
	Delay       time.Duration
	DelayWindow time.Duration
	DelaySet    bool
	// RedirectGateway is nil unless "redirect-gateway" or "redirect-private"
	// was given.
	RedirectGateway *RedirectGateway
	// NoPull ("route-nopull") ignores pushed routes, dhcp-options and dns.
	NoPull bool
	// NoExec ("route-noexec") leaves routes to scripts.
	NoExec bool
	// BlockIPv6 ("block-ipv6") answers IPv6 sent into the tunnel with ICMPv6
	// unreachable.
	BlockIPv6 bool
	// PullFilters are the "pull-filter" rules in order (first match wins).
	PullFilters []PullFilter
	// AllowPullFQDN ("allow-pull-fqdn") accepts host names in pushed routes.
	AllowPullFQDN bool
	// AllowRecursiveRouting ("allow-recursive-routing").
	AllowRecursiveRouting bool
}

// Route is one "route network [netmask [gateway [metric]]]".
type Route struct {
	// Network is the destination as written: an address or one of the special
	// words vpn_gateway, net_gateway, remote_host, or a host name (resolved by
	// the runtime). Prefix is its parsed form when it is a literal address
	// combined with the netmask (default 255.255.255.255).
	Network string
	Prefix  netip.Prefix
	// Gateway is as written ("" = the route-gateway / p2p remote default):
	// an address or vpn_gateway, net_gateway, remote_host.
	Gateway string
	// Metric is the route metric; MetricSet reports it was given.
	Metric    int
	MetricSet bool
	File      string
	Line      int
}

// Route6 is one "route-ipv6 network/bits [gateway [metric]]".
type Route6 struct {
	Prefix    netip.Prefix
	Gateway   netip.Addr // invalid = the default IPv6 gateway
	Metric    int
	MetricSet bool
	File      string
	Line      int
}

// RedirectGateway is "redirect-gateway [flags]" or "redirect-private
// [flags]".
type RedirectGateway struct {
	// IPv4 is true unless "!ipv4" was given; it is false for
	// redirect-private, which does not replace the default route.
	IPv4 bool
	// IPv6 is the "ipv6" flag.
	IPv6 bool
	// Private is true for "redirect-private".
	Private bool
	// The flags, as in OpenVPN.
	Local, AutoLocal, Def1, BypassDHCP, BypassDNS, BlockLocal bool
}

// PullFilter is one "pull-filter accept|ignore|reject prefix".
type PullFilter struct {
	Action PullFilterAction
	// Prefix is compared with the start of each pushed option (after leading
	// white space), byte for byte.
	Prefix string
}

// DNS holds name-resolution settings.
type DNS struct {
	// DHCPOptions are the "dhcp-option" lines in order (exported to scripts
	// as foreign_option_N on Linux).
	DHCPOptions []DHCPOption
	// SearchDomains are "dns search-domains" in order.
	SearchDomains []string
	// Servers are the "dns server N ..." entries sorted by priority.
	Servers []DNSServer
}

// DHCPOption is one "dhcp-option TYPE [value]" (DNS, DNS6, DOMAIN,
// DOMAIN-SEARCH, WINS, NTP, NBT, NBS, NBDD, DISABLE-NBT, PROXY_HTTP,
// ADAPTER_DOMAIN_SUFFIX...), kept as written.
type DHCPOption struct {
	Type  string
	Value string
	// Addr is Value parsed when Type is DNS, DNS6, WINS, NTP or NBDD.
	Addr netip.Addr
}

// DNSServer is one "dns server PRIORITY ..." entry; several lines with the
// same priority build one server.
type DNSServer struct {
	// Priority orders servers (lower first); -128..127 in a configuration,
	// 0..127 when pushed.
	Priority int
	// Addresses are "address a[:port] ..." (at most 8), with Port 0 meaning
	// the default.
	Addresses []netip.AddrPort
	// ResolveDomains ("resolve-domains") restricts the server to these
	// domains.
	ResolveDomains []string
	// DNSSEC is "", "yes", "no" or "optional"; Transport is "", "plain",
	// "DoH" or "DoT"; SNI is the TLS server name.
	DNSSEC    string
	Transport string
	SNI       string
}

// TLS holds the TLS material and the checks applied to the peer.
type TLS struct {
	// CA ("ca", <ca>) holds the trusted certificates (PEM). CAPath is
	// "capath" (an OpenSSL hashed directory; not supported by openvpn-go).
	CA     *Material
	CAPath string
	// Cert, Key and ExtraCerts are "cert", "key" and "extra-certs" (PEM).
	Cert, Key, ExtraCerts *Material
	// PKCS12 is "pkcs12" (DER; the inline form is base64-decoded).
	PKCS12 *Material
	// CRL is "crl-verify file" (PEM or DER); CRLDir is "crl-verify dir dir"
	// (a directory of revoked serial numbers, not read at load time).
	CRL    *Material
	CRLDir string
	// DH is "dh file" (accepted and not used: Go's TLS has no finite-field
	// DHE, so openvpn-go always uses ECDHE or TLS 1.3); DHNone is "dh none".
	DH     *Material
	DHNone bool
	// RemoteCertTLS ("remote-cert-tls server|client") requires key usage and
	// the serverAuth/clientAuth extended key usage on the peer certificate.
	RemoteCertTLS CertUsage
	// NSCertType ("ns-cert-type", deprecated) asks for the Netscape
	// cert-type; openvpn-go checks the equivalent extended key usage.
	NSCertType CertUsage
	// RemoteCertKU ("remote-cert-ku [hex...]") lists acceptable key-usage
	// values; RemoteCertKURequired means "some key usage must be present"
	// (remote-cert-ku without arguments, or remote-cert-tls).
	RemoteCertKU         []uint16
	RemoteCertKURequired bool
	// RemoteCertEKU ("remote-cert-eku") is an OID or an OpenSSL long name
	// such as "TLS Web Server Authentication".
	RemoteCertEKU string
	// VerifyX509Name is nil unless "verify-x509-name" is given.
	VerifyX509Name *VerifyX509Name
	// X509UsernameField ("x509-username-field") names the certificate fields
	// used as the user name; default ["CN"].
	X509UsernameField []string
	// PeerFingerprints ("peer-fingerprint", <peer-fingerprint>) pin the peer
	// certificate by SHA-256; they make "ca" optional.
	PeerFingerprints [][32]byte
	// VerifyHash ("verify-hash", deprecated) pins the CA certificate below
	// the peer's (SHA-1 20-byte or SHA-256 32-byte values).
	VerifyHash [][]byte
	// VersionMin is the minimum TLS version as crypto/tls's constants
	// (tls.VersionTLS12 = 0x0303, the 2.6 default); VersionMinOrHighest
	// records "or-highest". VersionMax is 0 when not limited.
	VersionMin          uint16
	VersionMinOrHighest bool
	VersionMax          uint16
	// CertProfile ("tls-cert-profile": legacy, preferred, suiteb,
	// insecure); "" when absent.
	CertProfile string
	// CipherList ("tls-cipher", TLS ≤1.2, OpenSSL syntax), Ciphersuites
	// ("tls-ciphersuites", TLS 1.3), Groups ("tls-groups") and ECDHCurve
	// ("ecdh-curve") are kept as written; the TLS layer maps them.
	CipherList   string
	Ciphersuites string
	Groups       string
	ECDHCurve    string
	// HandWindow ("hand-window", default 60 s) bounds a TLS handshake;
	// TranWindow ("tran-window", default 3600 s) is how long the old key
	// stays usable after renegotiation; Timeout ("tls-timeout", default 2 s)
	// is the control-packet retransmit timer.
	HandWindow time.Duration
	TranWindow time.Duration
	Timeout    time.Duration
	// Reneg is the data-key renegotiation policy.
	Reneg Reneg
	// Exit ("tls-exit") exits on TLS errors; SingleSession
	// ("single-session") accepts one session only.
	Exit          bool
	SingleSession bool
	// ExportCertDir ("tls-export-cert") is where peer certificates are
	// written for scripts.
	ExportCertDir string
	// AskPass ("askpass [file]") is where the private-key password comes
	// from: "" (not set), "stdin", or a file name (read at start).
	AskPass *Material
	// AskPassStdin is "askpass" without a file.
	AskPassStdin bool
	// Providers ("providers ...") are OpenSSL provider names; recorded only.
	Providers []string
}

// Reneg is the data-channel key renegotiation policy.
type Reneg struct {
	// Seconds ("reneg-sec max [min]", default 3600 s; 0 = off). A server
	// without MinSeconds renegotiates at a random point in the last 10 %;
	// with MinSeconds, between MinSeconds and Seconds.
	Seconds    time.Duration
	MinSeconds time.Duration
	// Bytes ("reneg-bytes") and Packets ("reneg-pkts") trigger
	// renegotiation after that much traffic; 0 = off (the default; OpenVPN
	// forces 64 MiB for 64-bit block ciphers such as BF-CBC).
	Bytes   int64
	Packets int64
}

// VerifyX509Name is "verify-x509-name name [type]".
type VerifyX509Name struct {
	Name string
	Type X509NameType
}

// DataChannel holds the data-channel crypto and compression.
type DataChannel struct {
	// Ciphers is "data-ciphers" (alias "ncp-ciphers") in preference order,
	// normalised to OpenVPN spelling ("AES-256-GCM", "CHACHA20-POLY1305");
	// entries that were optional ("?NAME") and unsupported are dropped. The
	// 2.6 default is AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305.
	Ciphers []string
	// Fallback ("data-ciphers-fallback") is used when the peer offers no
	// cipher information at all; "" when absent.
	Fallback string
	// Cipher is the legacy "cipher" option, normalised: ignored for
	// negotiation in TLS mode, used in static-key mode (where the default is
	// BF-CBC). "" when absent.
	Cipher string
	// Auth ("auth") is the HMAC digest for CBC data ciphers and tls-auth
	// (default SHA1); "none" disables it.
	Auth string
	// Secret is the static key of "secret" (static-key mode, deprecated);
	// SecretDirection its key direction.
	Secret          *Material
	SecretDirection KeyDirection
	// ReplayWindow ("replay-window n [t]") is the reordering tolerance in
	// packets (default 64) and ReplayTime in time (default 15 s).
	ReplayWindow int
	ReplayTime   time.Duration
	// NoReplay ("no-replay", deprecated) turns replay protection off.
	NoReplay bool
	// MuteReplayWarnings ("mute-replay-warnings").
	MuteReplayWarnings bool
	// Compression is the compression framing and policy.
	Compression Compression
}

// Compression is the compression framing ("comp-lzo", "compress") and the
// "allow-compression" policy.
type Compression struct {
	// Algorithm is the configured framing/algorithm; CompNone when no
	// compression option was given.
	Algorithm CompAlgorithm
	// Adaptive is LZO's adaptive compression ("comp-lzo" or "comp-lzo
	// adaptive").
	Adaptive bool
	// Allow is the effective "allow-compression" policy: no (stub framing
	// only, the 2.6 default), asym (decompress only; the effect of
	// configuring real compression without allow-compression), yes.
	Allow AllowCompression
}

// UserAuth is the client's username/password authentication.
type UserAuth struct {
	// UserPass is nil without "auth-user-pass". Otherwise it says where the
	// credentials come from.
	UserPass *UserPass
	// NoCache ("auth-nocache") forgets the password after use.
	NoCache bool
	// Retry ("auth-retry none|nointeract|interact") is the reaction to
	// AUTH_FAILED (default none: exit).
	Retry AuthRetry
	// StaticChallenge is nil unless "static-challenge text echo" is given.
	StaticChallenge *StaticChallenge
	// Token is an "auth-token" given in the configuration (normally pushed).
	Token string
}

// UserPass says where the username and password come from. Its JSON form
// and String never contain the password.
type UserPass struct {
	// Source is prompt (no file: console or management), file, or inline.
	Source CredSource
	// Username and Password are the credentials read from the file or block;
	// HasPassword is false when only a username was given (the password is
	// then asked for).
	Username    string
	Password    string
	HasPassword bool
	// Material is the file or block the credentials came from (nil for
	// prompt). Its Data holds the raw contents.
	Material *Material
}

// StaticChallenge is "static-challenge text echo".
type StaticChallenge struct {
	Text string
	Echo bool
}

// Timers holds the keepalive and lifetime timers.
type Timers struct {
	// Ping ("ping n") sends a ping after n seconds without outgoing traffic
	// (0 = off).
	Ping time.Duration
	// PingRestart and PingExit ("ping-restart n", "ping-exit n") react when
	// nothing was received for n seconds; at most one is non-zero. A UDP
	// client that pulls gets PingRestart 120 s until the server pushes its
	// own (OpenVPN's pre-pull default), recorded in PingRestartDefault.
	PingRestart        time.Duration
	PingExit           time.Duration
	PingRestartDefault bool
	// PingTimerRem ("ping-timer-rem") runs the ping timer only with a remote
	// address.
	PingTimerRem bool
	// Keepalive is "keepalive interval timeout" as written (zero when
	// absent); it has already been expanded into Ping/PingRestart (and, on a
	// server, into two pushes).
	KeepaliveInterval time.Duration
	KeepaliveTimeout  time.Duration
	// Inactive ("inactive n [bytes]") exits after n seconds with less than
	// InactiveBytes of traffic (0 = off).
	Inactive      time.Duration
	InactiveBytes int64
	// SessionTimeout ("session-timeout n") ends the session after n seconds.
	SessionTimeout time.Duration
}

// Persist holds the persist-* options.
type Persist struct {
	Key      bool // persist-key
	Tun      bool // persist-tun
	RemoteIP bool // persist-remote-ip
	LocalIP  bool // persist-local-ip
}

// Scripts holds the hooks and the script-security level.
type Scripts struct {
	// Security ("script-security 0..3", default 1): 0 runs nothing external,
	// 1 only built-in ip/route commands, 2 user scripts, 3 also passwords in
	// the environment.
	Security int
	// The hooks; nil when absent.
	Up, Down, RouteUp, RoutePreDown, IPChange, TLSVerify            *Script
	ClientConnect, ClientDisconnect, ClientCRResponse, LearnAddress *Script
	// AuthUserPassVerify is the server's credential check; the method is
	// via-env or via-file.
	AuthUserPassVerify       *Script
	AuthUserPassVerifyMethod AuthVerifyMethod
	// TLSCryptV2Verify ("tls-crypt-v2-verify") checks tls-crypt-v2 client
	// metadata.
	TLSCryptV2Verify *Script
	// DownPre ("down-pre"), UpDelay ("up-delay"), UpRestart ("up-restart").
	DownPre, UpDelay, UpRestart bool
	// Plugins ("plugin module [args]") are recorded; openvpn-go cannot load
	// C plugins.
	Plugins []Plugin
	// TmpDir ("tmp-dir", default $TMPDIR or /tmp) is where via-file and
	// control files go.
	TmpDir string
}

// Script is one hook command.
type Script struct {
	// Command is the command line as written ("/etc/openvpn/up.sh arg").
	Command string
	// Path is its first word resolved against Options.Dir; Args are the
	// remaining words.
	Path string
	Args []string
	File string
	Line int
}

// Plugin is one "plugin module [args...]".
type Plugin struct {
	Module string
	Args   []string
	File   string
	Line   int
}

// Logging holds log and status output.
type Logging struct {
	// Verb ("verb", default 1) and Mute ("mute", 0 = off).
	Verb int
	Mute int
	// File ("log" or "log-append") is "" for stderr/syslog; Append records
	// log-append.
	File   string
	Append bool
	// Syslog ("syslog [name]") sends the log to syslog; SyslogName is the
	// program name ("" = "openvpn").
	Syslog     bool
	SyslogName string
	// SuppressTimestamps, MachineReadable and ErrorsToStderr are the
	// matching options.
	SuppressTimestamps bool
	MachineReadable    bool
	ErrorsToStderr     bool
	// Status ("status file [n]") is "" when absent; StatusInterval defaults
	// to 60 s; StatusVersion ("status-version", default 1) selects the
	// format.
	Status         string
	StatusInterval time.Duration
	StatusVersion  int
}

// Process holds process-level options.
type Process struct {
	// Daemon ("daemon [name]") detaches; DaemonName is the syslog name.
	Daemon     bool
	DaemonName string
	// WritePID ("writepid file").
	WritePID string
	// User and Group ("user", "group") drop privileges after start.
	User, Group string
	// Chroot ("chroot dir") and Cd ("cd dir", as written).
	Chroot string
	Cd     string
	// Nice ("nice n") and MLock ("mlock").
	Nice  int
	MLock bool
	// RemapUSR1 ("remap-usr1 SIGHUP|SIGTERM") is "" when absent.
	RemapUSR1 string
	// FastIO ("fast-io"), PassTOS ("passtos"), Mark ("mark n"), BindDev
	// ("bind-dev"), Sndbuf/Rcvbuf ("sndbuf", "rcvbuf" in bytes, 0 = OS
	// default), TCPNoDelay ("tcp-nodelay", "socket-flags TCP_NODELAY").
	FastIO     bool
	PassTOS    bool
	Mark       int
	BindDev    string
	Sndbuf     int
	Rcvbuf     int
	TCPNoDelay bool
}

// Management is the management interface.
type Management struct {
	// Addr is the host of "management host port" or the socket path of
	// "management /path unix"; Port is 0 for a unix socket; Unix tells which.
	Addr string
	Port uint16
	Unix bool
	// PasswordFile is the optional third word: a file with the password, or
	// "stdin".
	PasswordFile string
	// The management-* flags.
	Hold             bool // management-hold
	QueryPasswords   bool // management-query-passwords
	QueryProxy       bool // management-query-proxy
	QueryRemote      bool // management-query-remote
	ClientAuth       bool // management-client-auth
	Client           bool // management-client (connect out)
	Signal           bool // management-signal
	ForgetDisconnect bool // management-forget-disconnect
	UpDown           bool // management-up-down
	// ExternalKey ("management-external-key [flags]") and ExternalCert
	// ("management-external-cert hint"): key and certificate come from the
	// management client.
	ExternalKey      bool
	ExternalKeyFlags []string
	ExternalCert     string
	// ClientUser and ClientGroup restrict who may connect to a unix socket.
	ClientUser, ClientGroup string
	// LogCache ("management-log-cache", default 250) is the number of log
	// lines kept.
	LogCache int
}

// Setenv is one "setenv name value" or "setenv-safe name value".
type Setenv struct {
	Name  string
	Value string
	// Safe marks setenv-safe (exported with an OPENVPN_ prefix).
	Safe bool
}

// KeyingMaterialExporter is "keying-material-exporter LABEL LENGTH".
type KeyingMaterialExporter struct {
	Label  string
	Length int
}

// Server holds the server side of the configuration (Mode == ModeServer).
// The "server", "server-ipv6" and "server-bridge" macros have been expanded
// into Ifconfig, Pool, Pool6, Push and the other fields exactly as OpenVPN
// 2.6 expands them; the macros as written are kept in Macro.
type Server struct {
	// Macro records the helper directives as written.
	Macro ServerMacro
	// Pool is the IPv4 pool ("ifconfig-pool start end [netmask]" or from
	// "server"); nil when there is none.
	Pool *Pool
	// Pool6 is the IPv6 pool ("ifconfig-ipv6-pool base/bits" or from
	// "server-ipv6"); invalid when none. Addresses are handed out from its
	// address upward.
	Pool6 netip.Prefix
	// PoolPersist ("ifconfig-pool-persist file [secs]") keeps CN→address
	// hints; PoolPersistInterval defaults to 600 s (0 = read only).
	PoolPersist         string
	PoolPersistInterval time.Duration
	// PushIfconfigConstraint (subnet/tap servers, "ifconfig-push-constraint")
	// limits ifconfig-push addresses to this network; invalid when none.
	PushIfconfigConstraint netip.Prefix
	// Push is the global push list in order: "push" lines, then the entries
	// the macros generate (route-gateway, topology, tun-ipv6, ping,
	// ping-restart, socket-flags), as 2.6 orders them.
	Push []PushEntry
	// ClientConfigDir ("client-config-dir") and CCDExclusive
	// ("ccd-exclusive").
	ClientConfigDir string
	CCDExclusive    bool
	// ClientToClient ("client-to-client"), DuplicateCN ("duplicate-cn").
	ClientToClient bool
	DuplicateCN    bool
	// MaxClients ("max-clients", default 1024), MaxRoutesPerClient
	// ("max-routes-per-client", default 256).
	MaxClients         int
	MaxRoutesPerClient int
	// ConnectFreq ("connect-freq n secs": at most N new connections per
	// Per; zero when absent) and ConnectFreqInitial ("connect-freq-initial",
	// default 100 per 10 s: stateless handshake replies).
	ConnectFreq        Rate
	ConnectFreqInitial Rate
	// VerifyClientCert ("verify-client-cert none|optional|require", default
	// require).
	VerifyClientCert VerifyClientCert
	// UsernameAsCommonName and AuthUserPassOptional are the matching
	// options.
	UsernameAsCommonName bool
	AuthUserPassOptional bool
	// AuthGenToken is nil without "auth-gen-token".
	AuthGenToken *AuthGenToken
	// TokenSecret is "auth-gen-token-secret" (PEM "OpenVPN auth-token server
	// key").
	TokenSecret *Material
	// OptVerify ("opt-verify", deprecated).
	OptVerify bool
	// HashSize ("hash-size r v", default 256 256), BcastBuffers
	// ("bcast-buffers", default 256), TCPQueueLimit ("tcp-queue-limit",
	// default 64).
	HashSizeReal, HashSizeVirtual int
	BcastBuffers                  int
	TCPQueueLimit                 int
	// StaleRoutesCheck ("stale-routes-check age [interval]"); zero when
	// absent.
	StaleRoutesAge      time.Duration
	StaleRoutesInterval time.Duration
	// Multihome ("multihome") answers UDP from the address the client used.
	Multihome bool
	// PortShare is nil without "port-share host port [dir]".
	PortShare *PortShare
	// VLANTagging, VLANAccept ("tagged", "untagged", "all"), VLANPVID
	// (default 1).
	VLANTagging bool
	VLANAccept  string
	VLANPVID    int
	// ForceKeyMaterialExport ("force-tls-key-material-export").
	ForceKeyMaterialExport bool
	// LocalRoutes are the routes the server adds for itself (the "server"
	// macro adds the VPN network for net30/p2p); LocalRouteGateway is the
	// route gateway the subnet macro sets for the server's own routes.
	LocalRoutes       []netip.Prefix
	LocalRouteGateway netip.Addr
}

// ServerMacro records "server", "server-ipv6" and "server-bridge" as
// written.
type ServerMacro struct {
	// Network is "server NET MASK" (invalid when absent); NoPool its
	// "nopool" flag.
	Network netip.Prefix
	NoPool  bool
	// Network6 is "server-ipv6 PREFIX" (invalid when absent).
	Network6 netip.Prefix
	// Bridge is nil without "server-bridge".
	Bridge *ServerBridge
}

// ServerBridge is "server-bridge gw mask start end", "server-bridge nogw" or
// "server-bridge" alone (clients use DHCP through the bridge).
type ServerBridge struct {
	// Gateway, Netmask, PoolStart and PoolEnd are invalid for the DHCP forms.
	Gateway, Netmask, PoolStart, PoolEnd netip.Addr
	// DHCP is set for the forms without addresses; NoGateway for "nogw".
	DHCP      bool
	NoGateway bool
}

// Pool is an IPv4 address pool.
type Pool struct {
	Start, End netip.Addr
	// Netmask is pushed with each address (topology subnet and tap); invalid
	// otherwise.
	Netmask netip.Addr
	// Net30 reports that addresses are handed out as /30 blocks (tun with
	// topology net30): a client gets block+2 with peer block+1.
	Net30 bool
}

// PushEntry is one option pushed to every client.
type PushEntry struct {
	// Option is the option line as sent ("route 10.8.0.1").
	Option string
	// Generated marks entries the macros added; File and Line locate the
	// "push" line or the macro.
	Generated bool
	File      string
	Line      int
}

// Rate is "n per interval".
type Rate struct {
	N   int
	Per time.Duration
}

// AuthGenToken is "auth-gen-token [lifetime] [renewal] [external-auth]".
type AuthGenToken struct {
	// Lifetime bounds a token's total life (0 = unlimited); Renewal is how
	// often a new token is issued (default reneg-sec).
	Lifetime time.Duration
	Renewal  time.Duration
	// ExternalAuth still calls the normal authentication with the token.
	ExternalAuth bool
}

// PortShare is "port-share host port [dir]".
type PortShare struct {
	Host       string
	Port       uint16
	JournalDir string
}
