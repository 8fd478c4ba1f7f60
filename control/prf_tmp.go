package control

// TEMPORARY: replaced by package keys once it lands.

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"hash"

	"github.com/openvpn-go/openvpn-go/wire"
)

const ekmLabelDataKeys = "EXPORTER-OpenVPN-datakeys"

func pHash(h func() hash.Hash, secret, seed []byte, out []byte) {
	m := hmac.New(h, secret)
	m.Write(seed)
	a := m.Sum(nil)
	for n := 0; n < len(out); {
		m.Reset()
		m.Write(a)
		m.Write(seed)
		n += copy(out[n:], m.Sum(nil))
		m.Reset()
		m.Write(a)
		a = m.Sum(nil)
	}
}

func prf10(secret, seed, out []byte) {
	half := (len(secret) + 1) / 2
	s1, s2 := secret[:half], secret[len(secret)-half:]
	a := make([]byte, len(out))
	b := make([]byte, len(out))
	pHash(md5.New, s1, seed, a)
	pHash(sha1.New, s2, seed, b)
	for i := range out {
		out[i] = a[i] ^ b[i]
	}
}

func expandPRF(pre *[48]byte, cr1, sr1, cr2, sr2 *[32]byte, csid, ssid wire.SessionID) (out [256]byte) {
	var master [48]byte
	seed := append([]byte("OpenVPN master secret"), cr1[:]...)
	seed = append(seed, sr1[:]...)
	prf10(pre[:], seed, master[:])
	seed = append([]byte("OpenVPN key expansion"), cr2[:]...)
	seed = append(seed, sr2[:]...)
	seed = append(seed, csid[:]...)
	seed = append(seed, ssid[:]...)
	prf10(master[:], seed, out[:])
	return out
}
