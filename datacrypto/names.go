package datacrypto

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// kind selects the packet format and the primitive.
type kind uint8

const (
	kindGCM kind = iota + 1
	kindChaCha
	kindCBC
	kindNone
)

// CipherInfo holds the facts about a data-channel cipher that callers need
// for mssfix, link-mtu and the OCC options string. Sizes are in bytes.
type CipherInfo struct {
	// Name is the canonical OpenVPN spelling, e.g. "AES-256-GCM".
	Name string
	// KeySize is the number of bytes used from the 64-byte cipher slot of
	// the key2 block (OCC "keysize" is KeySize*8).
	KeySize int
	// AEAD is true for GCM and ChaCha20-Poly1305.
	AEAD bool
	// BlockSize is the block size as OpenSSL reports it: 16 for AES (GCM
	// included), 1 for ChaCha20-Poly1305, 0 for none.
	BlockSize int
	// IVSize is the IV length: 12 (the AEAD nonce, of which 4 bytes are the
	// packet-id on the wire), 16 for CBC, 0 for none.
	IVSize int
	// TagSize is the AEAD tag length (16), 0 for the others.
	TagSize int

	kind kind
}

// AuthInfo describes an --auth digest used for the HMAC of CBC and none.
type AuthInfo struct {
	// Name is the canonical OpenVPN spelling, e.g. "SHA256", or "none".
	Name string
	// Size is the digest length in bytes, which is also the length of the
	// HMAC on the wire and of the HMAC key taken from the key2 block.
	Size int

	new func() hash.Hash
}

// ciphers lists the supported ciphers in preference order: OpenVPN 2.6's
// default data-ciphers first, then the rest (strongest first).
var ciphers = [...]CipherInfo{
	{Name: "AES-256-GCM", KeySize: 32, AEAD: true, BlockSize: 16, IVSize: 12, TagSize: 16, kind: kindGCM},
	{Name: "AES-128-GCM", KeySize: 16, AEAD: true, BlockSize: 16, IVSize: 12, TagSize: 16, kind: kindGCM},
	{Name: "CHACHA20-POLY1305", KeySize: 32, AEAD: true, BlockSize: 1, IVSize: 12, TagSize: 16, kind: kindChaCha},
	{Name: "AES-192-GCM", KeySize: 24, AEAD: true, BlockSize: 16, IVSize: 12, TagSize: 16, kind: kindGCM},
	{Name: "AES-256-CBC", KeySize: 32, BlockSize: 16, IVSize: 16, kind: kindCBC},
	{Name: "AES-192-CBC", KeySize: 24, BlockSize: 16, IVSize: 16, kind: kindCBC},
	{Name: "AES-128-CBC", KeySize: 16, BlockSize: 16, IVSize: 16, kind: kindCBC},
}

// noneCipher is cipher "none": accepted by name, never preferred.
var noneCipher = CipherInfo{Name: "none", kind: kindNone}

// cipherAliases maps lower-case alternative spellings (OpenSSL long names,
// OCC placeholders) to canonical names. Canonical names match
// case-insensitively without being listed here.
var cipherAliases = map[string]string{
	"id-aes128-gcm": "AES-128-GCM",
	"id-aes192-gcm": "AES-192-GCM",
	"id-aes256-gcm": "AES-256-GCM",
	"[null-cipher]": "none",
}

// weakPrefixes are lower-case name prefixes of 64-bit-block ciphers.
var weakPrefixes = []string{"bf", "cast", "des", "idea", "rc2", "rc5", "gost"}

// auths lists the supported digests, strongest first.
var auths = [...]AuthInfo{
	{Name: "SHA512", Size: sha512.Size, new: sha512.New},
	{Name: "SHA384", Size: sha512.Size384, new: sha512.New384},
	{Name: "SHA256", Size: sha256.Size, new: sha256.New},
	{Name: "SHA224", Size: sha256.Size224, new: sha256.New224},
	{Name: "SHA1", Size: sha1.Size, new: sha1.New},
}

var noneAuth = AuthInfo{Name: "none"}

var authAliases = map[string]string{
	"sha-1": "SHA1", "sha-224": "SHA224", "sha2-224": "SHA224",
	"sha-256": "SHA256", "sha2-256": "SHA256",
	"sha-384": "SHA384", "sha2-384": "SHA384",
	"sha-512": "SHA512", "sha2-512": "SHA512",
	"[null-digest]": "none",
}

// DefaultAuth is OpenVPN's default --auth digest.
const DefaultAuth = "SHA1"

// Ciphers returns the names of the supported ciphers in preference order
// (OpenVPN 2.6's default data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305
// first). "none" is accepted by LookupCipher but deliberately not listed. The
// caller owns the returned slice.
func Ciphers() []string {
	out := make([]string, len(ciphers))
	for i, c := range ciphers {
		out[i] = c.Name
	}
	return out
}

// Auths returns the names of the supported --auth digests, strongest first.
// The caller owns the returned slice.
func Auths() []string {
	out := make([]string, len(auths))
	for i, a := range auths {
		out[i] = a.Name
	}
	return out
}

// LookupCipher returns the facts about the cipher called name, matched
// case-insensitively against OpenVPN and OpenSSL spellings ("aes-256-gcm",
// "AES-256-GCM", "id-aes256-GCM", "ChaCha20-Poly1305", "none"). A 64-bit-block
// cipher yields an error wrapping ErrWeakCipher; any other unknown name one
// wrapping ErrUnsupportedCipher.
func LookupCipher(name string) (CipherInfo, error) {
	l := strings.ToLower(strings.TrimSpace(name))
	if a, ok := cipherAliases[l]; ok {
		l = strings.ToLower(a)
	}
	if l == "none" {
		return noneCipher, nil
	}
	for _, c := range ciphers {
		if strings.ToLower(c.Name) == l {
			return c, nil
		}
	}
	for _, p := range weakPrefixes {
		if strings.HasPrefix(l, p) {
			return CipherInfo{}, fmt.Errorf("datacrypto: cipher %q: %w: its 64-bit block makes long-lived tunnels vulnerable to SWEET32 birthday attacks; use AES-256-GCM, AES-128-GCM or CHACHA20-POLY1305 (set data-ciphers on the peer)", name, ErrWeakCipher)
		}
	}
	return CipherInfo{}, fmt.Errorf("datacrypto: cipher %q: %w; use one of %s", name, ErrUnsupportedCipher, strings.Join(Ciphers(), ", "))
}

// Canonical returns the canonical OpenVPN spelling of a cipher name, e.g.
// "AES-256-GCM" for "aes-256-gcm" and "CHACHA20-POLY1305" for
// "ChaCha20-Poly1305". Errors are those of LookupCipher.
func Canonical(name string) (string, error) {
	c, err := LookupCipher(name)
	if err != nil {
		return "", err
	}
	return c.Name, nil
}

// LookupAuth returns the facts about the --auth digest called name, matched
// case-insensitively ("sha256", "SHA-256", "SHA2-256"). "" means DefaultAuth.
// Unknown digests (MD5, RIPEMD160, ...) yield an error wrapping
// ErrUnsupportedAuth.
func LookupAuth(name string) (AuthInfo, error) {
	l := strings.ToLower(strings.TrimSpace(name))
	if l == "" {
		l = strings.ToLower(DefaultAuth)
	}
	if a, ok := authAliases[l]; ok {
		l = strings.ToLower(a)
	}
	if l == "none" {
		return noneAuth, nil
	}
	for _, a := range auths {
		if strings.ToLower(a.Name) == l {
			return a, nil
		}
	}
	return AuthInfo{}, fmt.Errorf("datacrypto: auth %q: %w; use one of %s (SHA256 recommended), the same on both peers", name, ErrUnsupportedAuth, strings.Join(Auths(), ", "))
}

// Suite is a validated cipher/--auth pair. The zero Suite is invalid.
// Suites are small values, safe to copy and to share.
type Suite struct {
	cipher CipherInfo
	auth   AuthInfo
}

// NewSuite validates a cipher and an --auth digest. For AEAD ciphers the
// digest is ignored (OpenVPN forces it to none for the data channel) and
// Auth reports "none". For CBC and none, auth "" means DefaultAuth, and auth
// "none" is refused because the packets would be unauthenticated.
func NewSuite(cipher, auth string) (Suite, error) {
	c, err := LookupCipher(cipher)
	if err != nil {
		return Suite{}, err
	}
	if c.AEAD {
		return Suite{cipher: c, auth: noneAuth}, nil
	}
	a, err := LookupAuth(auth)
	if err != nil {
		return Suite{}, err
	}
	if a.Size == 0 {
		return Suite{}, fmt.Errorf("datacrypto: cipher %s with auth none: %w: packets would be unauthenticated (malleable); use an AEAD cipher such as AES-256-GCM, or set auth SHA256", c.Name, ErrUnsupportedAuth)
	}
	return Suite{cipher: c, auth: a}, nil
}

// Cipher returns the cipher's facts.
func (s Suite) Cipher() CipherInfo { return s.cipher }

// Auth returns the digest's facts ("none" with Size 0 for AEAD ciphers).
func (s Suite) Auth() AuthInfo { return s.auth }

// String returns "CIPHER/AUTH", e.g. "AES-256-CBC/SHA256" or "AES-256-GCM".
func (s Suite) String() string {
	if s.cipher.AEAD || s.cipher.kind == 0 {
		return s.cipher.Name
	}
	return s.cipher.Name + "/" + s.auth.Name
}

// front returns how many bytes Seal writes in front of the plaintext for a
// header of hdrLen bytes.
func (s Suite) front(hdrLen int) int {
	switch s.cipher.kind {
	case kindGCM, kindChaCha:
		return hdrLen + pidLen + tagLen
	case kindCBC:
		return hdrLen + s.auth.Size + s.cipher.IVSize + pidLen
	default:
		return hdrLen + s.auth.Size + pidLen
	}
}

// Overhead returns the exact number of bytes a data packet with a header of
// hdrLen bytes (1 for P_DATA_V1, 4 for P_DATA_V2) adds to a payload of
// payloadLen bytes: len(packet) - payloadLen.
func (s Suite) Overhead(hdrLen, payloadLen int) int {
	o := s.front(hdrLen)
	if s.cipher.kind == kindCBC {
		o += cbcBlock - (pidLen+payloadLen)%cbcBlock // PKCS#7: 1..16 bytes
	}
	return o
}

// MaxOverhead returns the largest Overhead for any payload length.
func (s Suite) MaxOverhead(hdrLen int) int {
	o := s.front(hdrLen)
	if s.cipher.kind == kindCBC {
		o += cbcBlock
	}
	return o
}
