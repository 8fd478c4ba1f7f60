package datacrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvpn-go/openvpn-go/replay"
	"github.com/openvpn-go/openvpn-go/wire"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes of the fixed fields, in bytes.
const (
	pidLen      = 4  // short-form packet-id
	tagLen      = 16 // AEAD tag
	nonceLen    = 12 // AEAD nonce: packet-id || implicit IV
	implicitLen = nonceLen - pidLen
	cbcBlock    = aes.BlockSize
	maxHMAC     = 64 // SHA512

	// Headroom is the minimum number of bytes a Seal buffer must have in
	// front of the plaintext: the largest front overhead of any suite,
	// P_DATA_V2 header 4 + HMAC-SHA512 64 + CBC IV 16 + packet-id 4 = 88
	// (AEAD needs 4 + 4 + 16 = 24 plus 12 bytes of nonce scratch).
	Headroom = wire.DataV2HeaderLen + maxHMAC + cbcBlock + pidLen
	// Tailroom is the spare capacity a Seal buffer must have behind the
	// plaintext: the AEAD tag as Go's AEAD first writes it (16), or the CBC
	// padding (1..16).
	Tailroom = 16

	// KeyBlockLen is the size of OpenVPN's key2 block: keys[2] of
	// {cipher[64], hmac[64]}.
	KeyBlockLen = 256

	// MaxPacketID is the last packet-id a key may send.
	MaxPacketID = 0xFFFFFFFF
	// RenegotiatePacketID is the send packet-id at which OpenVPN forces a
	// renegotiation (PACKET_ID_WRAP_TRIGGER).
	RenegotiatePacketID = 0xFF000000
)

// Role says which side of the TLS session this peer is: it decides which
// half of the key2 block encrypts and which decrypts.
type Role uint8

const (
	// RoleClient encrypts with keys[0] (client→server) and decrypts with
	// keys[1].
	RoleClient Role = iota
	// RoleServer encrypts with keys[1] and decrypts with keys[0].
	RoleServer
)

func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Config describes one data-channel key.
type Config struct {
	// Suite is the negotiated cipher and the configured --auth.
	Suite Suite
	// Role is this peer's TLS role.
	Role Role
	// ReplayWindow is --replay-window n: how many ids below the highest
	// seen are remembered. 0 means replay.DefaultSize (64).
	ReplayWindow int
	// ReplayBacktrack is --replay-window n t: how long a reordered packet
	// is still accepted. 0 means replay.DefaultBacktrack (15 s).
	ReplayBacktrack time.Duration
}

// Key is one key_id's data-channel state for one peer: an encrypt half,
// a decrypt half, the send packet-id counter and the receive replay window.
// Create it with NewKey; do not copy it. See the package documentation for
// which methods are safe for concurrent use.
type Key struct {
	suite Suite
	kind  kind

	sent atomic.Uint64 // last packet-id handed out (ids start at 1)

	enc, dec half

	// ivGen makes CBC IVs: IV = AES-256_ivKey(packet-id block). ivKey is
	// random, secret, and used for nothing else.
	ivGen cipher.Block

	win replay.Window // receive side; single goroutine
}

// half is one direction of a Key.
type half struct {
	aead     cipher.AEAD
	implicit [implicitLen]byte
	block    cipher.Block // CBC
	encrypt  bool
	macKey   []byte
	newHash  func() hash.Hash
	pool     sync.Pool // *scratch; for AEAD only on the decrypt half
}

// scratch is the per-call state that cannot live on the stack without
// escaping through an interface call.
type scratch struct {
	nonce [nonceLen]byte
	sum   [maxHMAC]byte
	mac   hash.Hash
	cbc   ivBlockMode
}

type ivBlockMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// NewKey builds a Key from the 256-byte key2 block. Following OpenVPN
// (ssl.c init_key_contexts), keys[0] (bytes 0..127) protects client→server
// and keys[1] (bytes 128..255) server→client; in each, the cipher key is the
// KeySize-byte prefix of the 64-byte cipher slot, the HMAC key the
// digest-length prefix of the 64-byte hmac slot, and the AEAD implicit IV
// the first 8 bytes of that same hmac slot. NewKey copies what it needs;
// the caller may wipe key2 afterwards.
func NewKey(cfg Config, key2 *[KeyBlockLen]byte) (*Key, error) {
	if key2 == nil {
		return nil, errNilKey2
	}
	s := cfg.Suite
	if s.cipher.kind == 0 {
		return nil, fmt.Errorf("datacrypto: zero Suite: %w; build it with NewSuite", ErrUnsupportedCipher)
	}
	if cfg.ReplayWindow < 0 || cfg.ReplayWindow > replay.MaxSize || cfg.ReplayBacktrack < 0 || cfg.ReplayBacktrack > replay.MaxBacktrack {
		return nil, fmt.Errorf("datacrypto: replay window %d ids / %v out of range; --replay-window allows up to %d ids and %v", cfg.ReplayWindow, cfg.ReplayBacktrack, replay.MaxSize, replay.MaxBacktrack)
	}
	if cfg.Role != RoleClient && cfg.Role != RoleServer {
		return nil, fmt.Errorf("datacrypto: invalid role %v; use RoleClient or RoleServer", cfg.Role)
	}
	k := &Key{suite: s, kind: s.cipher.kind}
	encSlot, decSlot := key2[0:128], key2[128:256]
	if cfg.Role == RoleServer {
		encSlot, decSlot = decSlot, encSlot
	}
	if err := k.enc.init(s, encSlot, true); err != nil {
		return nil, err
	}
	if err := k.dec.init(s, decSlot, false); err != nil {
		return nil, err
	}
	if k.kind == kindCBC {
		var ivKey [32]byte
		rand.Read(ivKey[:]) // never fails (crypto/rand crashes the program instead)
		b, err := aes.NewCipher(ivKey[:])
		if err != nil {
			return nil, fmt.Errorf("datacrypto: IV generator: %w", err)
		}
		k.ivGen = b
	}
	size := cfg.ReplayWindow
	if size == 0 {
		size = replay.DefaultSize
	}
	k.win.Init(size, cfg.ReplayBacktrack)
	return k, nil
}

func (h *half) init(s Suite, slot []byte, encrypt bool) error {
	ck, hk := slot[:64], slot[64:128]
	ck = ck[:s.cipher.KeySize]
	h.encrypt = encrypt
	switch s.cipher.kind {
	case kindGCM:
		b, err := aes.NewCipher(ck)
		if err != nil {
			return fmt.Errorf("datacrypto: %s key: %w", s.cipher.Name, err)
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			return fmt.Errorf("datacrypto: %s: %w", s.cipher.Name, err)
		}
		h.aead = a
	case kindChaCha:
		a, err := chacha20poly1305.New(ck)
		if err != nil {
			return fmt.Errorf("datacrypto: %s key: %w", s.cipher.Name, err)
		}
		h.aead = a
	case kindCBC:
		b, err := aes.NewCipher(ck)
		if err != nil {
			return fmt.Errorf("datacrypto: %s key: %w", s.cipher.Name, err)
		}
		h.block = b
	}
	if h.aead != nil {
		copy(h.implicit[:], hk)
		if encrypt {
			return nil // AEAD sealing keeps its nonce in the caller's headroom
		}
	} else {
		h.macKey = append([]byte(nil), hk[:s.auth.Size]...)
		h.newHash = s.auth.new
	}
	h.pool.New = func() any { return h.newScratch() }
	// Build one eagerly: it proves the primitives work and warms the pool.
	sc := h.newScratch()
	if h.block != nil && sc.cbc == nil {
		return fmt.Errorf("datacrypto: %s: %w: the CBC implementation cannot be re-keyed with a new IV", s.cipher.Name, ErrUnsupportedCipher)
	}
	h.pool.Put(sc)
	return nil
}

func (h *half) newScratch() *scratch {
	sc := &scratch{}
	if h.newHash != nil {
		sc.mac = hmac.New(h.newHash, h.macKey)
	}
	if h.block != nil {
		var zero [cbcBlock]byte
		var m cipher.BlockMode
		if h.encrypt {
			m = cipher.NewCBCEncrypter(h.block, zero[:])
		} else {
			m = cipher.NewCBCDecrypter(h.block, zero[:])
		}
		sc.cbc, _ = m.(ivBlockMode)
	}
	return sc
}

func (h *half) get() *scratch   { return h.pool.Get().(*scratch) }
func (h *half) put(sc *scratch) { h.pool.Put(sc) }

// Suite returns the key's cipher and digest.
func (k *Key) Suite() Suite { return k.suite }

// SentID returns the last packet-id handed out by Seal (0 before the first
// packet). Safe for concurrent use.
func (k *Key) SentID() uint64 { return k.sent.Load() }

// NeedsRenegotiation reports whether the send packet-id has reached
// RenegotiatePacketID (0xFF000000), at which OpenVPN forces a soft reset.
// Safe for concurrent use.
func (k *Key) NeedsRenegotiation() bool { return k.sent.Load() >= RenegotiatePacketID }

// Replay reports whether the packet-id pid of a packet that Open
// authenticated is new, and records it if so (OpenVPN's replay window with
// sequence and time backtrack, short form). It rejects pid 0. now is the
// local arrival time. Replay is NOT safe for concurrent use: call it from one
// goroutine per Key, in arrival order, after Open succeeded.
func (k *Key) Replay(pid uint32, now time.Time) bool {
	return k.win.Accept(pid, 0, now)
}

// validHeader reports whether Seal can write hdr.
func validHeader(hdr wire.DataHeader) bool {
	if hdr.KeyID > 7 {
		return false
	}
	switch hdr.Opcode {
	case wire.OpDataV1:
		return true
	case wire.OpDataV2:
		return hdr.PeerID <= wire.PeerIDNone
	}
	return false
}

// check validates a Seal buffer.
func (k *Key) check(hdr wire.DataHeader, buf []byte, off int) error {
	if !validHeader(hdr) {
		return errHeader
	}
	if off < Headroom || off > len(buf) {
		return errOffset
	}
	if cap(buf)-len(buf) < Tailroom {
		return errTailroom
	}
	if off == len(buf) && k.suite.cipher.AEAD {
		return errEmpty
	}
	return nil
}

// Seal encrypts and authenticates the plaintext buf[off:] in place with the
// next send packet-id and returns the finished packet, a sub-slice of buf
// (it aliases buf and may extend past len(buf) into its capacity). hdr is
// the P_DATA_V1 or P_DATA_V2 header to write (key_id, peer-id). The buffer
// must follow the package's buffer convention: Headroom <= off <= len(buf)
// and cap(buf)-len(buf) >= Tailroom; otherwise Seal returns an error wrapping
// ErrBuffer and consumes no packet-id. After the last id (0xFFFFFFFF) it
// returns ErrPacketIDExhausted. Safe for concurrent use; it does not
// allocate.
func (k *Key) Seal(hdr wire.DataHeader, buf []byte, off int) ([]byte, error) {
	if err := k.check(hdr, buf, off); err != nil {
		return nil, err
	}
	id := k.sent.Add(1)
	if id > MaxPacketID {
		return nil, ErrPacketIDExhausted
	}
	return k.sealID(hdr, buf, off, uint32(id), nil), nil
}

// SealBatch seals every bufs[i] (plaintext at bufs[i][off:], same rules as
// Seal) with consecutive packet-ids, in order, and stores the packets in
// pkts[i]; pkts may be bufs itself. It reserves all ids with one atomic
// operation. Either every buffer is sealed or, on error, none is. Safe for
// concurrent use; it does not allocate.
func (k *Key) SealBatch(hdr wire.DataHeader, bufs [][]byte, off int, pkts [][]byte) error {
	if len(pkts) < len(bufs) {
		return errBatchOut
	}
	for _, b := range bufs {
		if err := k.check(hdr, b, off); err != nil {
			return err
		}
	}
	if len(bufs) == 0 {
		return nil
	}
	last := k.sent.Add(uint64(len(bufs)))
	if last > MaxPacketID {
		return ErrPacketIDExhausted
	}
	id := uint32(last) - uint32(len(bufs)) + 1
	for i, b := range bufs {
		pkts[i] = k.sealID(hdr, b, off, id, nil)
		id++
	}
	return nil
}

// ReserveID takes the next send packet-id without sealing, for a caller
// that assigns ids in wire order and seals on several goroutines
// ([Key.SealAt]). After the last id it returns ErrPacketIDExhausted. Safe
// for concurrent use.
func (k *Key) ReserveID() (uint32, error) {
	id := k.sent.Add(1)
	if id > MaxPacketID {
		return 0, ErrPacketIDExhausted
	}
	return uint32(id), nil
}

// SealAt is Seal with a packet-id from ReserveID: each reserved id must be
// sealed at most once. Safe for concurrent use; it does not allocate.
func (k *Key) SealAt(hdr wire.DataHeader, buf []byte, off int, id uint32) ([]byte, error) {
	if err := k.check(hdr, buf, off); err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, errZeroID
	}
	return k.sealID(hdr, buf, off, id, nil), nil
}

// sealID seals with a given packet-id. iv, if not nil, overrides the CBC IV
// (tests only).
func (k *Key) sealID(hdr wire.DataHeader, buf []byte, off int, id uint32, iv []byte) []byte {
	switch k.kind {
	case kindGCM, kindChaCha:
		return k.sealAEAD(hdr, buf, off, id)
	case kindCBC:
		return k.sealCBC(hdr, buf, off, id, iv)
	default:
		return k.sealNone(hdr, buf, off, id)
	}
}

// Open authenticates and decrypts one data packet pkt (header included) in
// place and returns the plaintext, a sub-slice of pkt, and the packet's
// packet-id. The AEAD additional data is taken from the received header
// bytes. Open does not check the key_id or peer-id (the caller chose this
// Key by them) and does not check or update the replay window: call Replay
// with the returned id (which may be 0, rejected there), in order,
// afterwards. Errors wrap ErrNotData, ErrMalformed or ErrAuth; the packet
// must then be dropped. Open writes only inside pkt[:len(pkt)] and leaves
// it unspecified. Safe for concurrent use; it does not allocate.
func (k *Key) Open(pkt []byte) (payload []byte, pid uint32, err error) {
	if len(pkt) == 0 {
		return nil, 0, ErrNotData
	}
	var hl int
	switch wire.Opcode(pkt[0] >> 3) {
	case wire.OpDataV1:
		hl = wire.DataV1HeaderLen
	case wire.OpDataV2:
		hl = wire.DataV2HeaderLen
	default:
		return nil, 0, ErrNotData
	}
	switch k.kind {
	case kindGCM, kindChaCha:
		return k.openAEAD(pkt, hl)
	case kindCBC:
		return k.openCBC(pkt, hl)
	default:
		return k.openNone(pkt, hl)
	}
}

// Overhead returns len(packet) - payloadLen for a packet with header hdr.
func (k *Key) Overhead(hdr wire.DataHeader, payloadLen int) int {
	return k.suite.Overhead(hdr.Len(), payloadLen)
}
