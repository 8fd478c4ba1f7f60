package datacrypto

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"

	"github.com/openvpn-go/openvpn-go/wire"
)

// sealAEAD writes [hdr][pid][tag][ct]. Go's AEAD appends the tag behind the
// ciphertext (into the tailroom); it is then moved in front of it: a 16-byte
// copy, the payload is never moved.
func (k *Key) sealAEAD(hdr wire.DataHeader, buf []byte, off int, id uint32) []byte {
	n := len(buf) - off
	hl := hdr.Len()
	start := off - tagLen - pidLen - hl
	hdr.Put(buf[start:])
	pidAt := off - tagLen - pidLen
	binary.BigEndian.PutUint32(buf[pidAt:], id)
	// The nonce lives in the headroom in front of the packet: a stack array
	// would escape (and allocate) through the AEAD interface call.
	nonce := buf[start-nonceLen : start]
	binary.BigEndian.PutUint32(nonce, id)
	copy(nonce[pidLen:], k.enc.implicit[:])
	ad := buf[pidAt : pidAt+pidLen]
	if hl == wire.DataV2HeaderLen {
		ad = buf[start : pidAt+pidLen]
	}
	k.enc.aead.Seal(buf[off:off], nonce, buf[off:off+n], ad)
	copy(buf[off-tagLen:off], buf[off+n:off+n+tagLen])
	clear(nonce)
	return buf[start : off+n]
}

// openAEAD verifies and decrypts [hdr][pid][tag][ct]. The ciphertext is moved
// 16 bytes down over the tag and the tag put behind it, because Go's AEAD
// wants ct||tag and Open must not write beyond len(pkt).
func (k *Key) openAEAD(pkt []byte, hl int) ([]byte, uint32, error) {
	if len(pkt) < hl+pidLen+tagLen+1 {
		return nil, 0, errShort
	}
	id := binary.BigEndian.Uint32(pkt[hl:])
	t := hl + pidLen
	var tag [tagLen]byte
	copy(tag[:], pkt[t:t+tagLen])
	copy(pkt[t:], pkt[t+tagLen:])
	copy(pkt[len(pkt)-tagLen:], tag[:])
	ad := pkt[hl:t] // V1: the packet-id only; the opcode is not authenticated
	if hl == wire.DataV2HeaderLen {
		ad = pkt[:t] // V2: the received header bytes || packet-id
	}
	sc := k.dec.get()
	copy(sc.nonce[:pidLen], pkt[hl:t])
	copy(sc.nonce[pidLen:], k.dec.implicit[:])
	pt, err := k.dec.aead.Open(pkt[t:t], sc.nonce[:], pkt[t:], ad)
	k.dec.put(sc)
	if err != nil {
		return nil, 0, ErrAuth
	}
	return pt, id, nil
}

// sealCBC writes [hdr][HMAC][IV][CBC(pid || payload || PKCS#7)].
func (k *Key) sealCBC(hdr wire.DataHeader, buf []byte, off int, id uint32, iv []byte) []byte {
	n := len(buf) - off
	ptAt := off - pidLen
	binary.BigEndian.PutUint32(buf[ptAt:], id)
	padded := (pidLen + n) &^ (cbcBlock - 1)
	padded += cbcBlock
	end := ptAt + padded
	pad := byte(padded - pidLen - n)
	p := buf[off+n : end]
	for i := range p {
		p[i] = pad
	}
	ivAt := ptAt - cbcBlock
	ivb := buf[ivAt:ptAt]
	if iv != nil {
		copy(ivb, iv)
	} else {
		k.makeIV(ivb, id)
	}
	sc := k.enc.get()
	sc.cbc.SetIV(ivb)
	ct := buf[ptAt:end]
	sc.cbc.CryptBlocks(ct, ct)
	ms := k.suite.auth.Size
	macAt := ivAt - ms
	sc.mac.Reset()
	sc.mac.Write(buf[ivAt:end])
	copy(buf[macAt:ivAt], sc.mac.Sum(sc.sum[:0]))
	k.enc.put(sc)
	start := macAt - hdr.Len()
	hdr.Put(buf[start:])
	return buf[start:end]
}

// makeIV writes an IV for packet-id id into dst (16 bytes): the encryption of
// the block (0^12 || id) under the Key's secret IV key. Every id is used once
// per Key, so IVs never repeat and, without the IV key, are unpredictable.
func (k *Key) makeIV(dst []byte, id uint32) {
	clear(dst[:cbcBlock-pidLen])
	binary.BigEndian.PutUint32(dst[cbcBlock-pidLen:], id)
	k.ivGen.Encrypt(dst, dst)
}

// openCBC verifies the HMAC over IV||ct, then decrypts and strips padding
// and packet-id.
func (k *Key) openCBC(pkt []byte, hl int) ([]byte, uint32, error) {
	ms := k.suite.auth.Size
	if len(pkt) < hl+ms+cbcBlock+cbcBlock {
		return nil, 0, errShort
	}
	body := pkt[hl+ms:] // IV || ct
	ct := body[cbcBlock:]
	if len(ct)%cbcBlock != 0 {
		return nil, 0, errBlockLen
	}
	sc := k.dec.get()
	sc.mac.Reset()
	sc.mac.Write(body)
	if !hmac.Equal(sc.mac.Sum(sc.sum[:0]), pkt[hl:hl+ms]) {
		k.dec.put(sc)
		return nil, 0, ErrAuth
	}
	sc.cbc.SetIV(body[:cbcBlock])
	sc.cbc.CryptBlocks(ct, ct)
	k.dec.put(sc)
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > cbcBlock || len(ct)-pad < pidLen {
		return nil, 0, errPadding
	}
	ok := 1
	for _, b := range ct[len(ct)-pad:] {
		ok &= subtle.ConstantTimeByteEq(b, byte(pad))
	}
	if ok != 1 {
		return nil, 0, errPadding
	}
	return ct[pidLen : len(ct)-pad], binary.BigEndian.Uint32(ct), nil
}

// sealNone writes [hdr][HMAC][pid][payload] (cipher none).
func (k *Key) sealNone(hdr wire.DataHeader, buf []byte, off int, id uint32) []byte {
	ptAt := off - pidLen
	binary.BigEndian.PutUint32(buf[ptAt:], id)
	ms := k.suite.auth.Size
	macAt := ptAt - ms
	sc := k.enc.get()
	sc.mac.Reset()
	sc.mac.Write(buf[ptAt:])
	copy(buf[macAt:ptAt], sc.mac.Sum(sc.sum[:0]))
	k.enc.put(sc)
	start := macAt - hdr.Len()
	hdr.Put(buf[start:])
	return buf[start:]
}

// openNone verifies [hdr][HMAC][pid][payload] (cipher none).
func (k *Key) openNone(pkt []byte, hl int) ([]byte, uint32, error) {
	ms := k.suite.auth.Size
	if len(pkt) < hl+ms+pidLen {
		return nil, 0, errShort
	}
	body := pkt[hl+ms:]
	sc := k.dec.get()
	sc.mac.Reset()
	sc.mac.Write(body)
	ok := hmac.Equal(sc.mac.Sum(sc.sum[:0]), pkt[hl:hl+ms])
	k.dec.put(sc)
	if !ok {
		return nil, 0, ErrAuth
	}
	return body[pidLen:], binary.BigEndian.Uint32(body), nil
}
