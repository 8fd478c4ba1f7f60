package keys

import (
	cryptorand "crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// Sizes of OpenVPN's struct key and struct key2 (crypto.h,
// MAX_CIPHER_KEY_LENGTH and MAX_HMAC_KEY_LENGTH are both 64).
const (
	SlotLen = 64          // bytes in a cipher or HMAC slot
	KeyLen  = 2 * SlotLen // bytes in a Key: cipher slot then HMAC slot
	Key2Len = 2 * KeyLen  // bytes in a Key2
)

// Key is OpenVPN's struct key: a cipher key slot followed by an HMAC key slot.
// Algorithms use a prefix of each slot: AES-256 the first 32 cipher bytes,
// HMAC-SHA1 the first 20 HMAC bytes, HMAC-SHA256 32, and so on.
type Key struct {
	Cipher [SlotLen]byte
	HMAC   [SlotLen]byte
}

// KeyFromBytes returns the Key stored in the first KeyLen bytes of b, in the
// layout openvpn uses in key files and on the wire (cipher slot first).
func KeyFromBytes(b []byte) (Key, error) {
	var k Key
	if len(b) < KeyLen {
		return k, fmt.Errorf("keys: key material of %d bytes is shorter than %d: use a complete key", len(b), KeyLen)
	}
	copy(k.Cipher[:], b[:SlotLen])
	copy(k.HMAC[:], b[SlotLen:KeyLen])
	return k, nil
}

// Bytes returns k in openvpn's layout: Cipher then HMAC.
func (k *Key) Bytes() [KeyLen]byte {
	var b [KeyLen]byte
	copy(b[:SlotLen], k.Cipher[:])
	copy(b[SlotLen:], k.HMAC[:])
	return b
}

// Zero overwrites k with zeros.
func (k *Key) Zero() { clear(k.Cipher[:]); clear(k.HMAC[:]) }

// Key2 is OpenVPN's struct key2 as stored in a static key file, derived by
// the data-channel PRF or exported by TLS-EKM: 256 bytes holding two Keys,
//
//	bytes   0.. 63  keys[0].cipher      bytes 128..191  keys[1].cipher
//	bytes  64..127  keys[0].hmac        bytes 192..255  keys[1].hmac
type Key2 [Key2Len]byte

// Key returns keys[i] (i is 0 or 1) as a copy.
func (k *Key2) Key(i int) Key {
	var out Key
	if i != 0 && i != 1 {
		return out
	}
	off := i * KeyLen
	copy(out.Cipher[:], k[off:off+SlotLen])
	copy(out.HMAC[:], k[off+SlotLen:off+KeyLen])
	return out
}

// Keys returns copies of the key used to send and the key used to receive in
// direction d (crypto.c key_direction_state_init):
//
//	Normal ("0"):          send keys[0], receive keys[1]
//	Inverse ("1"):         send keys[1], receive keys[0]
//	Bidirectional (none):  send keys[0], receive keys[0]
func (k *Key2) Keys(d Direction) (send, recv Key) {
	s, r := d.Indices()
	return k.Key(s), k.Key(r)
}

// XOR sets k to k XOR o, byte by byte (tls_crypt.c xor_key2, used by dynamic
// tls-crypt).
func (k *Key2) XOR(o *Key2) { subtle.XORBytes(k[:], k[:], o[:]) }

// Zero overwrites k with zeros.
func (k *Key2) Zero() { clear(k[:]) }

// Key2FromBytes returns the Key2 held in b, which must be exactly Key2Len
// bytes (for example the output of a TLS keying-material exporter).
func Key2FromBytes(b []byte) (Key2, error) {
	var k Key2
	if len(b) != Key2Len {
		return k, fmt.Errorf("keys: key2 material of %d bytes, want %d: export %d bytes", len(b), Key2Len, Key2Len)
	}
	copy(k[:], b)
	return k, nil
}

// GenerateKey2 returns 256 random bytes read from rand (nil means
// crypto/rand.Reader), as "openvpn --genkey secret" does.
func GenerateKey2(rand io.Reader) (Key2, error) {
	var k Key2
	if rand == nil {
		rand = cryptorand.Reader
	}
	if _, err := io.ReadFull(rand, k[:]); err != nil {
		return k, fmt.Errorf("keys: reading random key material: %w", err)
	}
	return k, nil
}

// Direction is a key direction (crypto.h KEY_DIRECTION_*). The zero value is
// Bidirectional, which is what openvpn uses when no direction is configured.
type Direction uint8

// Key directions.
const (
	Bidirectional Direction = iota // no direction: keys[0] both ways
	Normal                         // "0": send keys[0], receive keys[1]
	Inverse                        // "1": send keys[1], receive keys[0]
)

// ErrDirection is wrapped by ParseDirection errors.
var ErrDirection = errors.New("unknown key direction")

// ParseDirection parses the key-direction argument of --tls-auth,
// --key-direction or --secret: "" is Bidirectional, "0" Normal, "1" Inverse.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "":
		return Bidirectional, nil
	case "0":
		return Normal, nil
	case "1":
		return Inverse, nil
	}
	return 0, fmt.Errorf("keys: %w %q: must be 0 or 1", ErrDirection, s)
}

// String returns "0", "1" or "" (bidirectional), the configuration spelling.
func (d Direction) String() string {
	switch d {
	case Normal:
		return "0"
	case Inverse:
		return "1"
	}
	return ""
}

// Indices returns the index (0 or 1) of the Key used to send and of the Key
// used to receive.
func (d Direction) Indices() (send, recv int) {
	switch d {
	case Normal:
		return 0, 1
	case Inverse:
		return 1, 0
	}
	return 0, 0
}

// NeedKeys returns how many Keys a key file must hold for d: 2 for Normal and
// Inverse, 1 for Bidirectional.
func (d Direction) NeedKeys() int {
	if d == Normal || d == Inverse {
		return 2
	}
	return 1
}

// TLSCryptDirection returns the fixed direction of tls-crypt, tls-crypt-v2
// client keys and dynamic tls-crypt: the server is Normal, the client Inverse
// (tls_crypt.c tls_crypt_init_key).
func TLSCryptDirection(server bool) Direction {
	if server {
		return Normal
	}
	return Inverse
}

// DataChannelDirection returns the direction of data-channel keys, the
// opposite of tls-crypt's: the client is Normal (keys[0] protects
// client-to-server traffic), the server Inverse (ssl.c init_key_contexts).
func DataChannelDirection(server bool) Direction {
	if server {
		return Inverse
	}
	return Normal
}

// ImplicitIV returns the AEAD implicit IV of k for a cipher with a nonce of
// nonceLen bytes: the first nonceLen-4 bytes of k's HMAC slot (the other 4
// nonce bytes are the packet id; ssl.c key_ctx_update_implicit_iv). For the
// 12-byte nonces of AES-GCM and ChaCha20-Poly1305 that is 8 bytes. The result
// aliases k.HMAC.
func ImplicitIV(k *Key, nonceLen int) ([]byte, error) {
	if nonceLen < 4 || nonceLen-4 > SlotLen {
		return nil, fmt.Errorf("keys: AEAD nonce length %d out of range [4, %d]", nonceLen, SlotLen+4)
	}
	return k.HMAC[:nonceLen-4], nil
}
