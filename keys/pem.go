package keys

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
)

// PEM labels of the key files openvpn 2.6 writes with --genkey.
const (
	PEMTLSCryptV2Server = "OpenVPN tls-crypt-v2 server key" // tls_crypt.c tls_crypt_v2_srv_pem_name
	PEMTLSCryptV2Client = "OpenVPN tls-crypt-v2 client key" // tls_crypt.c tls_crypt_v2_cli_pem_name
	PEMAuthToken        = "OpenVPN auth-token server key"   // auth_token.c auth_token_pem_name
)

// tls-crypt-v2 sizes (tls_crypt.h).
const (
	// TLSCryptV2MaxWKcLen is TLS_CRYPT_V2_MAX_WKC_LEN.
	TLSCryptV2MaxWKcLen = 1024
	// TLSCryptV2TagLen is the size of the WKc's authentication tag.
	TLSCryptV2TagLen = 32
	// TLSCryptV2MinWKcLen is the size of a WKc with empty metadata:
	// tag, wrapped Kc and the 2-byte length.
	TLSCryptV2MinWKcLen = TLSCryptV2TagLen + Key2Len + 2
	// TLSCryptV2MaxMetadataLen is TLS_CRYPT_V2_MAX_METADATA_LEN (734),
	// counting the metadata type byte.
	TLSCryptV2MaxMetadataLen = TLSCryptV2MaxWKcLen - TLSCryptV2MinWKcLen
)

// maxAuthTokenKeyLen is the buffer auth_token_init_secret decodes into.
const maxAuthTokenKeyLen = 2048

// DecodePEM returns the payload of the first PEM block in b, which must have
// the given label (openvpn's crypto_pem_decode reads the first block only and
// compares its name). Text before the block is ignored, as are PEM headers.
// The result is a fresh slice.
func DecodePEM(b []byte, label string) ([]byte, error) {
	if len(b) > MaxKeyFileSize {
		return nil, keyFileError("PEM file of %d bytes exceeds %d bytes", len(b), MaxKeyFileSize)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, keyFileError("no PEM block found, want %q", label)
	}
	if blk.Type != label {
		clear(blk.Bytes)
		return nil, keyFileError("PEM block is %q, want %q: check the file is the right kind of key", blk.Type, label)
	}
	return blk.Bytes, nil
}

// EncodePEM returns payload as a PEM block with the given label, in the form
// OpenSSL's PEM_write_bio produces for openvpn's crypto_pem_encode: no
// headers, base64 in 64-character lines, every line ending in "\n".
func EncodePEM(label string, payload []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: label, Bytes: payload})
}

// ParseTLSCryptV2ServerKey parses a tls-crypt-v2 server key file ("openvpn
// --genkey tls-crypt-v2-server"): one Key, of which tls-crypt-v2 uses the
// first 32 cipher bytes (AES-256-CTR) and the first 32 HMAC bytes
// (HMAC-SHA256). The payload must be exactly 128 bytes (openvpn accepts
// shorter payloads and leaves the rest of the key uninitialised).
func ParseTLSCryptV2ServerKey(b []byte) (Key, error) {
	p, err := DecodePEM(b, PEMTLSCryptV2Server)
	if err != nil {
		return Key{}, err
	}
	defer clear(p)
	if len(p) != KeyLen {
		return Key{}, keyFileError("tls-crypt-v2 server key of %d bytes, want %d: regenerate it with --genkey tls-crypt-v2-server", len(p), KeyLen)
	}
	return KeyFromBytes(p)
}

// MarshalTLSCryptV2ServerKey returns k as a tls-crypt-v2 server key file,
// byte-identical to what openvpn writes for the same key.
func MarshalTLSCryptV2ServerKey(k *Key) []byte {
	b := k.Bytes()
	defer clear(b[:])
	return EncodePEM(PEMTLSCryptV2Server, b[:])
}

// TLSCryptV2ClientKey is the content of a tls-crypt-v2 client key file: the
// client's tls-crypt key Kc and the server-wrapped copy WKc that the client
// sends verbatim.
type TLSCryptV2ClientKey struct {
	Kc  Key2
	WKc []byte
}

// ParseTLSCryptV2ClientKey parses a tls-crypt-v2 client key file ("openvpn
// --tls-crypt-v2 SERVERKEY --genkey tls-crypt-v2-client"): Kc (256 bytes)
// followed by WKc. The WKc is opaque to a client, but it must be well formed:
// between TLSCryptV2MinWKcLen and TLSCryptV2MaxWKcLen bytes and ending in its
// own length. WKc is a fresh slice.
func ParseTLSCryptV2ClientKey(b []byte) (TLSCryptV2ClientKey, error) {
	var ck TLSCryptV2ClientKey
	p, err := DecodePEM(b, PEMTLSCryptV2Client)
	if err != nil {
		return ck, err
	}
	defer clear(p)
	if len(p) < Key2Len {
		return ck, keyFileError("tls-crypt-v2 client key of %d bytes is shorter than the %d-byte client key", len(p), Key2Len)
	}
	wkc := p[Key2Len:]
	if len(wkc) < TLSCryptV2MinWKcLen || len(wkc) > TLSCryptV2MaxWKcLen {
		return ck, keyFileError("tls-crypt-v2 wrapped client key of %d bytes, want %d to %d", len(wkc), TLSCryptV2MinWKcLen, TLSCryptV2MaxWKcLen)
	}
	if l := int(binary.BigEndian.Uint16(wkc[len(wkc)-2:])); l != len(wkc) {
		return ck, keyFileError("tls-crypt-v2 wrapped client key says it is %d bytes but is %d", l, len(wkc))
	}
	copy(ck.Kc[:], p[:Key2Len])
	ck.WKc = append([]byte(nil), wkc...)
	return ck, nil
}

// Marshal returns ck as a tls-crypt-v2 client key file, byte-identical to
// what openvpn writes for the same Kc and WKc.
func (ck *TLSCryptV2ClientKey) Marshal() []byte {
	p := make([]byte, 0, Key2Len+len(ck.WKc))
	p = append(append(p, ck.Kc[:]...), ck.WKc...)
	defer clear(p)
	return EncodePEM(PEMTLSCryptV2Client, p)
}

// ParseAuthTokenKey parses an auth-token secret file ("openvpn --genkey
// auth-token"). openvpn reads one Key from the start of the payload (at least
// 128 bytes, extra bytes ignored) and uses the first 32 HMAC bytes (bytes
// 64..95) as the HMAC-SHA256 key.
func ParseAuthTokenKey(b []byte) (Key, error) {
	p, err := DecodePEM(b, PEMAuthToken)
	if err != nil {
		return Key{}, err
	}
	defer clear(p)
	if len(p) < KeyLen || len(p) > maxAuthTokenKeyLen {
		return Key{}, keyFileError("auth-token secret of %d bytes, want %d to %d: regenerate it with --genkey auth-token", len(p), KeyLen, maxAuthTokenKeyLen)
	}
	return KeyFromBytes(p)
}

// MarshalAuthTokenKey returns k as an auth-token secret file, byte-identical
// to what openvpn writes for the same key.
func MarshalAuthTokenKey(k *Key) []byte {
	b := k.Bytes()
	defer clear(b[:])
	return EncodePEM(PEMAuthToken, b[:])
}

// GenerateKey returns a Key of random bytes read from rand (nil means
// crypto/rand.Reader), as openvpn's write_pem_key_file does for tls-crypt-v2
// server keys and auth-token secrets.
func GenerateKey(rand io.Reader) (Key, error) {
	var b [KeyLen]byte
	defer clear(b[:])
	if rand == nil {
		rand = cryptorand.Reader
	}
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return Key{}, fmt.Errorf("keys: reading random key material: %w", err)
	}
	return KeyFromBytes(b[:])
}
