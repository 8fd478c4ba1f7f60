package keys

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"hash"
)

// Labels of OpenVPN's PRF-based data-channel key derivation (ssl.c,
// KEY_EXPANSION_ID "OpenVPN"). They have no trailing space and no NUL.
const (
	LabelMasterSecret = "OpenVPN master secret"
	LabelKeyExpansion = "OpenVPN key expansion"
)

// Labels for the TLS keying-material exporter (RFC 5705), used without a
// context (ssl_backend.h).
const (
	// EKMLabelDataKeys derives the 256-byte Key2 of the data channel when
	// TLS-EKM was negotiated ("key-derivation tls-ekm" / "protocol-flags
	// tls-ekm").
	EKMLabelDataKeys = "EXPORTER-OpenVPN-datakeys"
	// EKMLabelDynamicTLSCrypt derives the 256-byte key of dynamic tls-crypt.
	EKMLabelDynamicTLSCrypt = "EXPORTER-OpenVPN-dynamic-tls-crypt"
	// EKMLabelP2PPeerID derives the 3-byte peer-id in P2P mode.
	EKMLabelP2PPeerID = "EXPORTER-OpenVPN-p2p-peerid"
	// EKMLen is the number of bytes to export for a Key2.
	EKMLen = Key2Len
	// EKMP2PPeerIDLen is the number of bytes to export for a P2P peer-id.
	EKMP2PPeerIDLen = 3
)

// Sizes of the key-method-2 key source (ssl_common.h struct key_source).
const (
	PreMasterLen = 48
	RandomLen    = 32
	MasterLen    = 48
	SessionIDLen = 8
)

// PRF fills dst with the TLS 1.0/1.1 pseudo-random function (RFC 2246
// section 5) of secret and the concatenation of the seed parts:
// P_MD5(S1, seed) XOR P_SHA1(S2, seed), where S1 and S2 are the first and
// last ceil(len(secret)/2) bytes of secret (they share a byte when the length
// is odd). This is OpenSSL's TLS1-PRF with MD5-SHA1, which openvpn's
// ssl_tls1_PRF uses; the label is simply the first seed part.
//
// dst may overlap secret or any seed part: the result is computed aside and
// copied into dst at the end. PRF allocates; it runs once per key
// negotiation.
func PRF(dst, secret []byte, seed ...[]byte) {
	half := (len(secret) + 1) / 2
	out := make([]byte, 2*len(dst))
	md5Out, sha1Out := out[:len(dst)], out[len(dst):]
	pHash(md5Out, md5.New, secret[:half], seed)
	pHash(sha1Out, sha1.New, secret[len(secret)-half:], seed)
	subtle.XORBytes(dst, md5Out, sha1Out)
	clear(out)
}

// pHash is RFC 2246's P_hash: A(0) = seed, A(i) = HMAC(secret, A(i-1)),
// output = HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) || ...
func pHash(out []byte, h func() hash.Hash, secret []byte, seed [][]byte) {
	mac := hmac.New(h, secret)
	for _, s := range seed {
		mac.Write(s)
	}
	a := mac.Sum(nil) // A(1)
	var block []byte
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		for _, s := range seed {
			mac.Write(s)
		}
		block = mac.Sum(block[:0])
		n := copy(out, block)
		out = out[n:]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	clear(a)
	clear(block)
}

// KeySource is one side's key material from the key-method-2 message
// (ssl_common.h struct key_source). Only the client sends PreMaster; a
// server's is ignored.
type KeySource struct {
	PreMaster [PreMasterLen]byte
	Random1   [RandomLen]byte
	Random2   [RandomLen]byte
}

// MasterSecret returns PRF(client.PreMaster, "OpenVPN master secret" ||
// client.Random1 || server.Random1), 48 bytes.
func MasterSecret(client, server *KeySource) [MasterLen]byte {
	var m [MasterLen]byte
	PRF(m[:], client.PreMaster[:], []byte(LabelMasterSecret), client.Random1[:], server.Random1[:])
	return m
}

// ExpandKey2 returns PRF(master, "OpenVPN key expansion" || client.Random2 ||
// server.Random2 || clientSID || serverSID), 256 bytes. clientSID and
// serverSID are the control-channel session ids of the TLS client and the
// TLS server (a 2.6 UDP server's session id is its cookie).
func ExpandKey2(master *[MasterLen]byte, client, server *KeySource, clientSID, serverSID [SessionIDLen]byte) Key2 {
	var k Key2
	PRF(k[:], master[:], []byte(LabelKeyExpansion), client.Random2[:], server.Random2[:], clientSID[:], serverSID[:])
	return k
}

// DeriveKey2 runs OpenVPN's PRF key derivation (ssl.c
// generate_key_expansion_openvpn_prf): MasterSecret, then ExpandKey2. It is
// used unless TLS-EKM (EKMLabelDataKeys) was negotiated. keys[0] of the
// result protects client-to-server traffic (DataChannelDirection).
func DeriveKey2(client, server *KeySource, clientSID, serverSID [SessionIDLen]byte) Key2 {
	m := MasterSecret(client, server)
	k := ExpandKey2(&m, client, server, clientSID, serverSID)
	clear(m[:])
	return k
}
