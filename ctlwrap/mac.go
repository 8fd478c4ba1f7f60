package ctlwrap

import (
	"crypto/cipher"
	"crypto/subtle"
	"hash"
)

// maxBlock is the largest hash block size we use (SHA-384/512).
const maxBlock = 128

// macState computes HMAC (RFC 2104) with reusable hash states, so that the
// key can be changed without allocating (a tls-crypt-v2 server keys it with a
// different client key for every new client). Not safe for concurrent use.
type macState struct {
	inner, outer hash.Hash
	bs, size     int
	ipad, opad   [maxBlock]byte
	sum          [64]byte
}

func (m *macState) init(h func() hash.Hash) {
	m.inner, m.outer = h(), h()
	m.bs, m.size = m.inner.BlockSize(), m.inner.Size()
}

// setKey keys m. key must not be longer than the block size (all OpenVPN
// HMAC keys are at most 64 bytes).
func (m *macState) setKey(key []byte) {
	clear(m.ipad[:])
	copy(m.ipad[:], key)
	m.opad = m.ipad
	for i := range m.bs {
		m.ipad[i] ^= 0x36
		m.opad[i] ^= 0x5c
	}
}

func (m *macState) reset() {
	m.inner.Reset()
	m.inner.Write(m.ipad[:m.bs])
}

func (m *macState) write(b []byte) { m.inner.Write(b) }

// final returns the MAC; the result aliases m.
func (m *macState) final() []byte {
	in := m.inner.Sum(m.sum[:0])
	m.outer.Reset()
	m.outer.Write(m.opad[:m.bs])
	m.outer.Write(in)
	return m.outer.Sum(m.sum[:0])
}

// zero forgets the key.
func (m *macState) zero() {
	clear(m.ipad[:])
	clear(m.opad[:])
	clear(m.sum[:])
	m.inner.Reset()
	m.outer.Reset()
}

// ctrState holds the counter block and key stream of an AES-CTR run in heap
// memory, so that cipher.Block.Encrypt (an interface call, whose arguments
// escape) does not allocate.
type ctrState struct {
	ctr, ks [16]byte
}

// xorCTR XORs src with the AES-CTR key stream of b starting at the counter
// block iv (16 bytes, incremented as a 128-bit big-endian integer, as OpenSSL
// and cipher.NewCTR do) into dst. dst must be at least len(src) bytes and may
// be src, or start before src by at least 16 bytes.
func xorCTR(b cipher.Block, s *ctrState, iv, dst, src []byte) {
	copy(s.ctr[:], iv)
	for len(src) > 0 {
		b.Encrypt(s.ks[:], s.ctr[:])
		n := min(len(src), len(s.ks))
		subtle.XORBytes(dst[:n], src[:n], s.ks[:n])
		dst, src = dst[n:], src[n:]
		for i := 15; i >= 0; i-- {
			s.ctr[i]++
			if s.ctr[i] != 0 {
				break
			}
		}
	}
	clear(s.ks[:])
}
