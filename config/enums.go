package config

import (
	"encoding/json"
	"strconv"
)

// Each enum's String returns the word OpenVPN uses for it; MarshalJSON
// renders that word so that dumps and golden files stay readable.

// Mode is the operating mode ("mode").
type Mode uint8

const (
	ModeP2P    Mode = iota // "p2p": one peer (client or point-to-point)
	ModeServer             // "server": multi-client server
)

// String returns the OpenVPN word for m.
func (m Mode) String() string {
	if m == ModeServer {
		return "server"
	}
	return "p2p"
}

// Role is the TLS role.
type Role uint8

const (
	RoleNone   Role = iota // no TLS: static-key mode ("secret") or unset
	RoleClient             // "tls-client"
	RoleServer             // "tls-server"
)

// String returns the OpenVPN word for r.
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "tls-client"
	case RoleServer:
		return "tls-server"
	}
	return "none"
}

// Proto is a transport protocol.
type Proto uint8

const (
	ProtoUnset     Proto = iota // not set (ProtoForce only)
	ProtoUDP                    // "udp"
	ProtoTCP                    // "tcp": client or server decided by the mode
	ProtoTCPClient              // "tcp-client"
	ProtoTCPServer              // "tcp-server"
)

// String returns the OpenVPN word for p.
func (p Proto) String() string {
	switch p {
	case ProtoUDP:
		return "udp"
	case ProtoTCP:
		return "tcp"
	case ProtoTCPClient:
		return "tcp-client"
	case ProtoTCPServer:
		return "tcp-server"
	}
	return "unset"
}

// IsTCP reports whether p is any TCP variant.
func (p Proto) IsTCP() bool { return p == ProtoTCP || p == ProtoTCPClient || p == ProtoTCPServer }

// Family restricts a connection to one address family.
type Family uint8

const (
	FamilyAny  Family = iota // both (dual stack)
	FamilyIPv4               // "udp4", "tcp4-client"...
	FamilyIPv6               // "udp6", "tcp6-server"...
)

// String returns the OpenVPN word for f.
func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "ipv4"
	case FamilyIPv6:
		return "ipv6"
	}
	return "any"
}

// parseProto parses a "proto" word (udp, udp4, udp6, tcp, tcp4, tcp6,
// tcp-client, tcp4-client, tcp6-client, tcp-server, tcp4-server,
// tcp6-server), case-sensitively as OpenVPN does.
func parseProto(s string) (Proto, Family, bool) {
	fam := FamilyAny
	base := s
	switch {
	case len(s) >= 4 && (s[3] == '4' || s[3] == '6') && (s[:3] == "udp" || s[:3] == "tcp"):
		if s[3] == '4' {
			fam = FamilyIPv4
		} else {
			fam = FamilyIPv6
		}
		base = s[:3] + s[4:]
	}
	switch base {
	case "udp":
		return ProtoUDP, fam, true
	case "tcp":
		return ProtoTCP, fam, true
	case "tcp-client":
		return ProtoTCPClient, fam, true
	case "tcp-server":
		return ProtoTCPServer, fam, true
	}
	return ProtoUnset, FamilyAny, false
}

// ProtoName returns the OpenVPN spelling of a proto and family, e.g.
// "udp6" or "tcp4-client".
func ProtoName(p Proto, f Family) string {
	s := p.String()
	if p == ProtoUnset || f == FamilyAny {
		return s
	}
	suffix := "4"
	if f == FamilyIPv6 {
		suffix = "6"
	}
	return s[:3] + suffix + s[3:]
}

// DevType is the device type.
type DevType uint8

const (
	DevUnset DevType = iota // no "dev": an error except for mktun/rmtun
	DevTun                  // layer 3
	DevTap                  // layer 2
	DevNull                 // "dev null": no device (tests)
)

// String returns the OpenVPN word for d.
func (d DevType) String() string {
	switch d {
	case DevTun:
		return "tun"
	case DevTap:
		return "tap"
	case DevNull:
		return "null"
	}
	return "unset"
}

// Topology is the IPv4 addressing scheme on a tun device.
type Topology uint8

const (
	TopologyNet30  Topology = iota // 2.6 default: a /30 per client
	TopologyP2P                    // point-to-point addresses
	TopologySubnet                 // one subnet, like an Ethernet
)

// String returns the OpenVPN word for t.
func (t Topology) String() string {
	switch t {
	case TopologyP2P:
		return "p2p"
	case TopologySubnet:
		return "subnet"
	}
	return "net30"
}

// WrapMode is the control-channel protection.
type WrapMode uint8

const (
	WrapNone       WrapMode = iota // plain control packets
	WrapTLSAuth                    // "tls-auth": HMAC on every control packet
	WrapTLSCrypt                   // "tls-crypt": encrypted and authenticated
	WrapTLSCryptV2                 // "tls-crypt-v2": per-client wrapped key
)

// String returns the OpenVPN word for w.
func (w WrapMode) String() string {
	switch w {
	case WrapTLSAuth:
		return "tls-auth"
	case WrapTLSCrypt:
		return "tls-crypt"
	case WrapTLSCryptV2:
		return "tls-crypt-v2"
	}
	return "none"
}

// KeyDirection is the direction of a static key (tls-auth, secret).
type KeyDirection uint8

const (
	KeyDirBidirectional KeyDirection = iota // no direction given: both use the same keys
	KeyDirNormal                            // "0" (servers, by convention)
	KeyDirInverse                           // "1" (clients)
)

// String returns the OpenVPN word for k.
func (k KeyDirection) String() string {
	switch k {
	case KeyDirNormal:
		return "0"
	case KeyDirInverse:
		return "1"
	}
	return "bidirectional"
}

func parseKeyDirection(s string) (KeyDirection, bool) {
	switch s {
	case "0":
		return KeyDirNormal, true
	case "1":
		return KeyDirInverse, true
	case "bidirectional", "2":
		return KeyDirBidirectional, true
	}
	return KeyDirBidirectional, false
}

// CertUsage is the role the peer certificate must be issued for.
type CertUsage uint8

const (
	CertUsageNone   CertUsage = iota // no check
	CertUsageServer                  // server (TLS Web Server Authentication)
	CertUsageClient                  // client (TLS Web Client Authentication)
)

// String returns the OpenVPN word for c.
func (c CertUsage) String() string {
	switch c {
	case CertUsageServer:
		return "server"
	case CertUsageClient:
		return "client"
	}
	return "none"
}

// X509NameType is the second word of verify-x509-name.
type X509NameType uint8

const (
	X509Subject    X509NameType = iota // "subject": the whole subject DN (default)
	X509Name                           // "name": the RDN chosen by x509-username-field (CN)
	X509NamePrefix                     // "name-prefix": a prefix of that RDN
)

// String returns the OpenVPN word for x.
func (x X509NameType) String() string {
	switch x {
	case X509Name:
		return "name"
	case X509NamePrefix:
		return "name-prefix"
	}
	return "subject"
}

// CompAlgorithm is the configured compression framing.
type CompAlgorithm uint8

const (
	CompNone    CompAlgorithm = iota // no compression option: no framing byte
	CompLZOStub                      // "comp-lzo no": 0xFA prefix, never compressed
	CompLZO                          // "comp-lzo [yes|adaptive]", "compress lzo": 0x66/0xFA prefix
	CompStub                         // "compress" / "compress stub": 0xFB swap, never compressed
	CompLZ4                          // "compress lz4": 0x69/0xFB swap
	CompStubV2                       // "compress stub-v2": v2 escape only
	CompLZ4V2                        // "compress lz4-v2": v2 with LZ4
	CompMigrate                      // "compress migrate" (server): per-client choice
)

// String returns the OpenVPN word for c.
func (c CompAlgorithm) String() string {
	switch c {
	case CompLZOStub:
		return "comp-lzo no"
	case CompLZO:
		return "lzo"
	case CompStub:
		return "stub"
	case CompLZ4:
		return "lz4"
	case CompStubV2:
		return "stub-v2"
	case CompLZ4V2:
		return "lz4-v2"
	case CompMigrate:
		return "migrate"
	}
	return "none"
}

// Framing is the compression framing a CompAlgorithm puts on data packets.
type Framing uint8

const (
	FramingNone     Framing = iota // payload unchanged
	FramingV1Prefix                // one leading byte (0xFA / 0x66)
	FramingV1Swap                  // first byte swapped to the end, 0xFB / 0x69 first
	FramingV2                      // 0x50 escape when needed
)

// String returns the OpenVPN word for f.
func (f Framing) String() string {
	switch f {
	case FramingV1Prefix:
		return "v1-prefix"
	case FramingV1Swap:
		return "v1-swap"
	case FramingV2:
		return "v2"
	}
	return "none"
}

// Framing returns the framing of c.
func (c CompAlgorithm) Framing() Framing {
	switch c {
	case CompLZOStub, CompLZO:
		return FramingV1Prefix
	case CompStub, CompLZ4:
		return FramingV1Swap
	case CompStubV2, CompLZ4V2:
		return FramingV2
	}
	return FramingNone
}

// Compresses reports whether c is a real compression algorithm (not a stub).
func (c CompAlgorithm) Compresses() bool {
	return c == CompLZO || c == CompLZ4 || c == CompLZ4V2
}

// AllowCompression is the "allow-compression" policy.
type AllowCompression uint8

const (
	AllowCompressionNo   AllowCompression = iota // stub framing only
	AllowCompressionAsym                         // decompress received packets, never compress
	AllowCompressionYes                          // both directions
)

// String returns the OpenVPN word for a.
func (a AllowCompression) String() string {
	switch a {
	case AllowCompressionAsym:
		return "asym"
	case AllowCompressionYes:
		return "yes"
	}
	return "no"
}

// AuthRetry is "auth-retry".
type AuthRetry uint8

const (
	AuthRetryNone       AuthRetry = iota // exit on AUTH_FAILED (default)
	AuthRetryNoInteract                  // reconnect with the same credentials
	AuthRetryInteract                    // ask again, then reconnect
)

// String returns the OpenVPN word for a.
func (a AuthRetry) String() string {
	switch a {
	case AuthRetryNoInteract:
		return "nointeract"
	case AuthRetryInteract:
		return "interact"
	}
	return "none"
}

// CredSource is where auth-user-pass credentials come from.
type CredSource uint8

const (
	CredPrompt CredSource = iota // ask (console or management)
	CredFile                     // "auth-user-pass file"
	CredInline                   // <auth-user-pass>
)

// String returns the OpenVPN word for c.
func (c CredSource) String() string {
	switch c {
	case CredFile:
		return "file"
	case CredInline:
		return "inline"
	}
	return "prompt"
}

// PullFilterAction is the action of a pull-filter rule.
type PullFilterAction uint8

const (
	PullAccept PullFilterAction = iota // keep the option
	PullIgnore                         // drop it silently
	PullReject                         // refuse the whole push (reconnect)
)

// String returns the OpenVPN word for p.
func (p PullFilterAction) String() string {
	switch p {
	case PullIgnore:
		return "ignore"
	case PullReject:
		return "reject"
	}
	return "accept"
}

// AuthVerifyMethod is how auth-user-pass-verify passes credentials.
type AuthVerifyMethod uint8

const (
	ViaEnv  AuthVerifyMethod = iota // environment variables
	ViaFile                         // a temporary file
)

// String returns the OpenVPN word for a.
func (a AuthVerifyMethod) String() string {
	if a == ViaFile {
		return "via-file"
	}
	return "via-env"
}

// VerifyClientCert is the server's client-certificate policy.
type VerifyClientCert uint8

const (
	ClientCertRequire  VerifyClientCert = iota // default
	ClientCertOptional                         // "optional"
	ClientCertNone                             // "none"
)

// String returns the OpenVPN word for v.
func (v VerifyClientCert) String() string {
	switch v {
	case ClientCertOptional:
		return "optional"
	case ClientCertNone:
		return "none"
	}
	return "require"
}

func jsonString(s string) ([]byte, error) { return []byte(strconv.Quote(s)), nil }

// MarshalJSON renders Mode as its String form.
func (m Mode) MarshalJSON() ([]byte, error) { return jsonString(m.String()) }

// MarshalJSON renders Role as its String form.
func (r Role) MarshalJSON() ([]byte, error) { return jsonString(r.String()) }

// MarshalJSON renders Proto as its String form.
func (p Proto) MarshalJSON() ([]byte, error) { return jsonString(p.String()) }

// MarshalJSON renders Family as its String form.
func (f Family) MarshalJSON() ([]byte, error) { return jsonString(f.String()) }

// MarshalJSON renders DevType as its String form.
func (d DevType) MarshalJSON() ([]byte, error) { return jsonString(d.String()) }

// MarshalJSON renders Topology as its String form.
func (t Topology) MarshalJSON() ([]byte, error) { return jsonString(t.String()) }

// MarshalJSON renders WrapMode as its String form.
func (w WrapMode) MarshalJSON() ([]byte, error) { return jsonString(w.String()) }

// MarshalJSON renders KeyDirection as its String form.
func (k KeyDirection) MarshalJSON() ([]byte, error) { return jsonString(k.String()) }

// MarshalJSON renders CertUsage as its String form.
func (c CertUsage) MarshalJSON() ([]byte, error) { return jsonString(c.String()) }

// MarshalJSON renders X509NameType as its String form.
func (x X509NameType) MarshalJSON() ([]byte, error) { return jsonString(x.String()) }

// MarshalJSON renders CompAlgorithm as its String form.
func (c CompAlgorithm) MarshalJSON() ([]byte, error) { return jsonString(c.String()) }

// MarshalJSON renders AllowCompression as its String form.
func (a AllowCompression) MarshalJSON() ([]byte, error) { return jsonString(a.String()) }

// MarshalJSON renders AuthRetry as its String form.
func (a AuthRetry) MarshalJSON() ([]byte, error) { return jsonString(a.String()) }

// MarshalJSON renders CredSource as its String form.
func (c CredSource) MarshalJSON() ([]byte, error) { return jsonString(c.String()) }

// MarshalJSON renders PullFilterAction as its String form.
func (p PullFilterAction) MarshalJSON() ([]byte, error) { return jsonString(p.String()) }

// MarshalJSON renders AuthVerifyMethod as its String form.
func (a AuthVerifyMethod) MarshalJSON() ([]byte, error) { return jsonString(a.String()) }

// MarshalJSON renders VerifyClientCert as its String form.
func (v VerifyClientCert) MarshalJSON() ([]byte, error) { return jsonString(v.String()) }

// MarshalJSON renders Severity as its String form.
func (s Severity) MarshalJSON() ([]byte, error) { return jsonString(s.String()) }

var _ json.Marshaler = Mode(0)
