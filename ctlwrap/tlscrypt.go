package ctlwrap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/replay"
	"github.com/openvpn-go/openvpn-go/wire"
)

// tls-crypt layout (tls_crypt.h): the packet id follows opcode and session
// id, the 32-byte tag follows the packet id, the ciphertext follows the tag.
const (
	cryptOffPID = wire.HeaderLen                // 9
	cryptOffTag = cryptOffPID + wire.WrapPIDLen // 17
	cryptTagLen = 32                            // TLS_CRYPT_TAG_SIZE
	cryptOffCT  = cryptOffTag + cryptTagLen     // 49
	cryptKeyLen = 32                            // AES-256, HMAC-SHA256
	overheadTC  = wire.WrapPIDLen + cryptTagLen // 40
)

// cryptDir is one direction of tls-crypt: AES-256-CTR with Ke and
// HMAC-SHA256 with Ka. It is immutable and safe for concurrent use.
type cryptDir struct {
	block cipher.Block
	ka    [cryptKeyLen]byte
}

// newCryptDir takes Ke from the first 32 cipher bytes and Ka from the first
// 32 HMAC bytes of k (tls_crypt_kt: AES-256-CTR, SHA256).
func newCryptDir(k *keys.Key) (cryptDir, error) {
	var d cryptDir
	b, err := aes.NewCipher(k.Cipher[:cryptKeyLen])
	if err != nil {
		return d, fmt.Errorf("ctlwrap: tls-crypt cipher: %w", err)
	}
	d.block = b
	copy(d.ka[:], k.HMAC[:cryptKeyLen])
	return d, nil
}

// cryptWork is tls-crypt scratch space. It is not tied to a key.
type cryptWork struct {
	mac  macState
	ctr  ctrState
	head [cryptOffCT]byte // copy of the received header and tag
	// pt holds a decrypted WKc (at most TLSCryptV2MaxWKcLen minus tag and
	// length).
	pt [keys.TLSCryptV2MaxWKcLen]byte
}

func newCryptWork() *cryptWork {
	w := new(cryptWork)
	w.mac.init(sha256.New)
	return w
}

// cryptPool holds scratch space for every stateless tls-crypt operation
// (tls-crypt, tls-crypt-v2 and WKc), whatever the key.
var cryptPool = sync.Pool{New: func() any { return newCryptWork() }}

func getCryptWork() *cryptWork { return cryptPool.Get().(*cryptWork) }

func putCryptWork(w *cryptWork) {
	w.mac.zero()
	clear(w.head[:])
	cryptPool.Put(w)
}

// wrap builds header || tag || AES-CTR(plain[9:]) with
// header = op || sid || pid || time and tag = HMAC(header || plain[9:]).
func (d *cryptDir) wrap(w *cryptWork, dst, plain []byte, pid wire.WrapPID) ([]byte, error) {
	if len(plain) < wire.HeaderLen {
		return dst, errShortPlain
	}
	body := plain[wire.HeaderLen:]
	dst, out := extend(dst, cryptOffCT+len(body))
	copy(out, plain[:wire.HeaderLen])
	pid.Append(out[cryptOffPID:cryptOffPID])
	w.mac.setKey(d.ka[:])
	w.mac.reset()
	w.mac.write(out[:cryptOffTag])
	w.mac.write(body)
	tag := out[cryptOffTag:cryptOffCT]
	copy(tag, w.mac.final())
	xorCTR(d.block, &w.ctr, tag[:aes.BlockSize], out[cryptOffCT:], body)
	return dst, nil
}

// unwrap decrypts and authenticates pkt and appends op || sid || plaintext
// to dst. dst may be pkt[:0].
func (d *cryptDir) unwrap(w *cryptWork, dst, pkt []byte) ([]byte, wire.WrapPID, error) {
	if len(pkt) < cryptOffCT {
		return dst, wire.WrapPID{}, errShortCrypt
	}
	copy(w.head[:], pkt[:cryptOffCT])
	head, tag := w.head[:cryptOffTag], w.head[cryptOffTag:]
	ct := pkt[cryptOffCT:]
	start := len(dst)
	dst, out := extend(dst, wire.HeaderLen+len(ct))
	body := out[wire.HeaderLen:]
	xorCTR(d.block, &w.ctr, tag[:aes.BlockSize], body, ct)
	w.mac.setKey(d.ka[:])
	w.mac.reset()
	w.mac.write(head)
	w.mac.write(body)
	if subtle.ConstantTimeCompare(w.mac.final(), tag) != 1 {
		clear(out)
		return dst[:start], wire.WrapPID{}, errAuthFailed
	}
	copy(out, head[:wire.HeaderLen])
	pid, _ := wire.ParseWrapPID(head[cryptOffPID:])
	return dst, pid, nil
}

// TLSCrypt is tls-crypt wrapping (--tls-crypt, and dynamic tls-crypt):
//
//	header = op|key_id (1) || own sid (8) || pid (4) || time (4)
//	tag    = HMAC-SHA256(Ka, header || plain[9:])
//	wire   = header || tag || AES-256-CTR(Ke, IV = tag[0:16], plain[9:])
//
// It implements Wrapper and Stateless.
type TLSCrypt struct {
	send, recv cryptDir
	ctr        counter
	win        *replay.Window
	work       *cryptWork
}

// NewTLSCrypt returns a tls-crypt wrapper for the key material k of a
// --tls-crypt key file (or a tls-crypt-v2 client key Kc). The direction is
// fixed: the server sends with keys[0], the client with keys[1]
// (keys.TLSCryptDirection).
func NewTLSCrypt(k *keys.Key2, server bool, o Options) (*TLSCrypt, error) {
	send, recv := k.Keys(keys.TLSCryptDirection(server))
	defer send.Zero()
	defer recv.Zero()
	s, err := newCryptDir(&send)
	if err != nil {
		return nil, err
	}
	r, err := newCryptDir(&recv)
	if err != nil {
		return nil, err
	}
	return &TLSCrypt{send: s, recv: r, ctr: newCounter(&o), win: newWindow(&o), work: newCryptWork()}, nil
}

// DynamicKey returns the key of dynamic tls-crypt (tls_crypt.c
// tls_session_generate_dynamic_tls_crypt_key): ekm, the 256 bytes exported
// from the key_id 0 TLS session with keys.EKMLabelDynamicTLSCrypt and no
// context, XORed with the original wrapping key orig when the connection
// uses tls-auth or tls-crypt (the key file's 256 bytes) or tls-crypt-v2 (the
// client key Kc). orig is nil when there is no wrapping.
func DynamicKey(ekm []byte, orig *keys.Key2) (keys.Key2, error) {
	k, err := keys.Key2FromBytes(ekm)
	if err != nil {
		return k, fmt.Errorf("ctlwrap: dynamic tls-crypt: %w", err)
	}
	if orig != nil {
		k.XOR(orig)
	}
	return k, nil
}

// NewDynamicTLSCrypt returns the tls-crypt wrapper used for every control
// packet with key_id > 0 once dynamic tls-crypt is negotiated (IV_PROTO bit 9
// and "protocol-flags dyn-tls-crypt"). See DynamicKey for ekm and orig. It
// has its own send counter (starting at 1) and replay window, kept across
// all later renegotiations.
func NewDynamicTLSCrypt(ekm []byte, orig *keys.Key2, server bool, o Options) (*TLSCrypt, error) {
	k, err := DynamicKey(ekm, orig)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	return NewTLSCrypt(&k, server, o)
}

// Overhead returns 40: the packet id and the tag.
func (c *TLSCrypt) Overhead() int { return overheadTC }

// SetSendID sets the send counter so that the next Wrap uses last+1.
func (c *TLSCrypt) SetSendID(last uint32) { c.ctr.id = last }

// SendPID returns the packet id of the last Wrap (ID 0 before the first).
func (c *TLSCrypt) SendPID() wire.WrapPID { return wire.WrapPID{ID: c.ctr.id, Time: c.ctr.time} }

// Wrap appends the tls-crypt form of plain to dst.
func (c *TLSCrypt) Wrap(dst, plain []byte) ([]byte, error) {
	if len(plain) < wire.HeaderLen {
		return dst, errShortPlain
	}
	pid, err := c.ctr.next()
	if err != nil {
		return dst, err
	}
	return c.send.wrap(c.work, dst, plain, pid)
}

// Unwrap decrypts and authenticates pkt, checks its replay id and appends
// the plain packet to dst.
func (c *TLSCrypt) Unwrap(dst, pkt []byte, now time.Time) ([]byte, error) {
	start := len(dst)
	out, pid, err := c.recv.unwrap(c.work, dst, pkt)
	if err != nil {
		return dst, err
	}
	if err := accept(c.win, pid, now); err != nil {
		clear(out[start:])
		return dst, err
	}
	return out, nil
}

// UnwrapStateless decrypts and authenticates pkt and appends the plain
// packet to dst, without a replay check. Safe for concurrent use.
func (c *TLSCrypt) UnwrapStateless(dst, pkt []byte) ([]byte, error) {
	w := getCryptWork()
	defer putCryptWork(w)
	out, _, err := c.recv.unwrap(w, dst, pkt)
	return out, err
}

// WrapStateless appends the tls-crypt form of plain to dst using pid. Safe
// for concurrent use.
func (c *TLSCrypt) WrapStateless(dst, plain []byte, pid wire.WrapPID) ([]byte, error) {
	w := getCryptWork()
	defer putCryptWork(w)
	return c.send.wrap(w, dst, plain, pid)
}
