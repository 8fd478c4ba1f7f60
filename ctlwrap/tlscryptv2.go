package ctlwrap

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Metadata types of a WKc (tls_crypt.c TLS_CRYPT_METADATA_TYPE_*).
const (
	MetadataUser      = 0x00 // user data given to --genkey tls-crypt-v2-client
	MetadataTimestamp = 0x01 // 8-byte big-endian unix time of key creation
)

// TimestampMetadata returns the default metadata openvpn puts in a client
// key: MetadataTimestamp followed by t in unix seconds, big-endian.
func TimestampMetadata(t time.Time) []byte {
	return binary.BigEndian.AppendUint64([]byte{MetadataTimestamp}, uint64(t.Unix()))
}

// UserMetadata returns MetadataUser followed by data, the metadata of
// "openvpn --genkey tls-crypt-v2-client FILE BASE64DATA" (data is the decoded
// BASE64DATA). data may be at most keys.TLSCryptV2MaxMetadataLen-1 bytes.
func UserMetadata(data []byte) ([]byte, error) {
	if len(data) > keys.TLSCryptV2MaxMetadataLen-1 {
		return nil, fmt.Errorf("ctlwrap: tls-crypt-v2 metadata of %d bytes exceeds %d: shorten it", len(data), keys.TLSCryptV2MaxMetadataLen-1)
	}
	return append([]byte{MetadataUser}, data...), nil
}

// ClientKeyInfo is what a tls-crypt-v2 server learns from a client's WKc: the
// client key Kc and the metadata the key was created with (for
// --tls-crypt-v2-verify scripts). It is a plain value without pointers, so
// that unwrapping into it does not allocate.
type ClientKeyInfo struct {
	Kc      keys.Key2
	meta    [keys.TLSCryptV2MaxMetadataLen]byte
	metaLen int
}

// Metadata returns the whole metadata, type byte included. The result
// aliases c.
func (c *ClientKeyInfo) Metadata() []byte { return c.meta[:c.metaLen] }

// MetadataType returns the metadata type byte (MetadataUser,
// MetadataTimestamp or another value) and the rest of the metadata, which
// openvpn writes to the file named by $metadata_file for the verify script
// ($metadata_type holds the type in decimal). ok is false for empty metadata,
// which openvpn's verify step rejects ("no metadata type"). payload aliases c.
func (c *ClientKeyInfo) MetadataType() (typ byte, payload []byte, ok bool) {
	if c.metaLen == 0 {
		return 0, nil, false
	}
	return c.meta[0], c.meta[1:c.metaLen], true
}

// Timestamp returns the creation time of a key whose metadata is of type
// MetadataTimestamp with 8 bytes of payload.
func (c *ClientKeyInfo) Timestamp() (time.Time, bool) {
	typ, p, ok := c.MetadataType()
	if !ok || typ != MetadataTimestamp || len(p) != 8 {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(p)), 0), true
}

// Zero overwrites c with zeros.
func (c *ClientKeyInfo) Zero() { *c = ClientKeyInfo{} }

// V2ServerKey is a loaded tls-crypt-v2 server key. It wraps client keys into
// WKcs (key generation), unwraps the WKc of incoming packets and provides the
// stateless verification of a client's first packets. Every method is safe
// for concurrent use.
type V2ServerKey struct {
	dir cryptDir // Ke = Cipher[:32], Ka = HMAC[:32] of the server key
}

// NewV2ServerKey loads a server key (keys.ParseTLSCryptV2ServerKey). The key
// material is copied.
func NewV2ServerKey(k *keys.Key) (*V2ServerKey, error) {
	d, err := newCryptDir(k)
	if err != nil {
		return nil, err
	}
	return &V2ServerKey{dir: d}, nil
}

// WrapClientKey appends the WKc of Kc and metadata to dst (tls_crypt.c
// tls_crypt_v2_wrap_client_key):
//
//	L   = u16 length of the whole WKc
//	T   = HMAC-SHA256(Ka, L || Kc || metadata)
//	WKc = T || AES-256-CTR(Ke, IV = T[0:16], Kc || metadata) || L
func (s *V2ServerKey) WrapClientKey(dst []byte, kc *keys.Key2, metadata []byte) ([]byte, error) {
	if len(metadata) > keys.TLSCryptV2MaxMetadataLen {
		return dst, fmt.Errorf("ctlwrap: tls-crypt-v2 metadata of %d bytes exceeds %d: shorten it", len(metadata), keys.TLSCryptV2MaxMetadataLen)
	}
	w := getCryptWork()
	defer putCryptWork(w)
	n := keys.TLSCryptV2MinWKcLen + len(metadata)
	dst, out := extend(dst, n)
	binary.BigEndian.PutUint16(out[n-2:], uint16(n))
	w.mac.setKey(s.dir.ka[:])
	w.mac.reset()
	w.mac.write(out[n-2:])
	w.mac.write(kc[:])
	w.mac.write(metadata)
	tag := out[:keys.TLSCryptV2TagLen]
	copy(tag, w.mac.final())
	ct := out[keys.TLSCryptV2TagLen : n-2]
	copy(ct, kc[:])
	copy(ct[keys.Key2Len:], metadata)
	xorCTR(s.dir.block, &w.ctr, tag[:aes.BlockSize], ct, ct)
	return dst, nil
}

// UnwrapClientKey checks and decrypts a WKc into info (tls_crypt.c
// tls_crypt_v2_unwrap_client_key). The WKc must be at most 1024 bytes, end in
// its own length, carry a valid tag for this server key, and hold at least
// the 256-byte Kc. It does not allocate. On error info is zeroed.
func (s *V2ServerKey) UnwrapClientKey(wkc []byte, info *ClientKeyInfo) error {
	w := getCryptWork()
	defer putCryptWork(w)
	return s.unwrapClientKey(w, wkc, info)
}

func (s *V2ServerKey) unwrapClientKey(w *cryptWork, wkc []byte, info *ClientKeyInfo) error {
	info.Zero()
	if len(wkc) > keys.TLSCryptV2MaxWKcLen || len(wkc) < keys.TLSCryptV2MinWKcLen {
		return errWKcLen
	}
	n := len(wkc)
	if l := int(binary.BigEndian.Uint16(wkc[n-2:])); l != n {
		return errWKcSelfLen
	}
	tag := wkc[:keys.TLSCryptV2TagLen]
	ct := wkc[keys.TLSCryptV2TagLen : n-2]
	pt := w.pt[:len(ct)]
	xorCTR(s.dir.block, &w.ctr, tag[:aes.BlockSize], pt, ct)
	w.mac.setKey(s.dir.ka[:])
	w.mac.reset()
	w.mac.write(wkc[n-2:])
	w.mac.write(pt)
	ok := subtle.ConstantTimeCompare(w.mac.final(), tag) == 1
	if ok {
		copy(info.Kc[:], pt)
		info.metaLen = copy(info.meta[:], pt[keys.Key2Len:])
	}
	clear(pt)
	if !ok {
		return errWKcAuth
	}
	return nil
}

// GenerateClientKey creates a client key as "openvpn --tls-crypt-v2 SERVERKEY
// --genkey tls-crypt-v2-client" does: a random Kc read from rand (nil means
// crypto/rand.Reader) and its WKc
// with the given metadata (TimestampMetadata(time.Now()) is openvpn's
// default; UserMetadata for user data). Write it with
// keys.TLSCryptV2ClientKey.Marshal.
func (s *V2ServerKey) GenerateClientKey(rand io.Reader, metadata []byte) (keys.TLSCryptV2ClientKey, error) {
	var ck keys.TLSCryptV2ClientKey
	kc, err := keys.GenerateKey2(rand)
	if err != nil {
		return ck, fmt.Errorf("ctlwrap: generating tls-crypt-v2 client key: %w", err)
	}
	wkc, err := s.WrapClientKey(nil, &kc, metadata)
	if err != nil {
		return ck, err
	}
	ck.Kc, ck.WKc = kc, wkc
	return ck, nil
}

// SplitWKc splits a P_CONTROL_HARD_RESET_CLIENT_V3 or P_CONTROL_WKC_V1
// packet into its tls-crypt part and the appended WKc: the last two bytes
// are the WKc length L and the WKc is the last L bytes. The opcode byte is
// never part of the WKc (openvpn 2.6.20's fix for CVE-2026-35058), and L must
// be a plausible WKc length. Both results alias pkt.
func SplitWKc(pkt []byte) (body, wkc []byte, err error) {
	if len(pkt) < 1+2 {
		return nil, nil, errNoWKcLen
	}
	l := int(binary.BigEndian.Uint16(pkt[len(pkt)-2:]))
	if l > len(pkt)-1 {
		return nil, nil, errWKcOverrun
	}
	if l < keys.TLSCryptV2MinWKcLen || l > keys.TLSCryptV2MaxWKcLen {
		return nil, nil, errWKcLen
	}
	return pkt[:len(pkt)-l], pkt[len(pkt)-l:], nil
}

// carriesWKc reports whether packets with opcode byte b carry a WKc.
func carriesWKc(b byte) bool {
	op, _ := wire.SplitOpcode(b)
	return op == wire.OpControlHardResetClientV3 || op == wire.OpControlWKCV1
}

// HasEarlyNegMarker reports whether a tls-crypt(-v2) packet's replay id
// signals early negotiation (the client started its counter at
// wire.EarlyNegStart), using openvpn's test (mudp.c do_pre_decrypt_check):
// (id & EarlyNegMask & EarlyNegStart) == EarlyNegStart. Check it only on an
// authenticated P_CONTROL_HARD_RESET_CLIENT_V3.
func HasEarlyNegMarker(pkt []byte) bool {
	if len(pkt) < cryptOffTag {
		return false
	}
	pid, _ := wire.ParseWrapPID(pkt[cryptOffPID:])
	return pid.ID&wire.EarlyNegMask&wire.EarlyNegStart == wire.EarlyNegStart
}

// UnwrapStateless verifies a client's P_CONTROL_HARD_RESET_CLIENT_V3 or
// P_CONTROL_WKC_V1 without session state (the UDP server's cookie
// handshake): it unwraps the appended WKc into info, then decrypts and
// authenticates the rest with the recovered Kc and appends the plain packet
// to dst. It does not check replay ids. Safe for concurrent use. The WKc
// check allocates nothing; a packet whose WKc authenticates costs one
// allocation (the AES key schedule of Kc).
func (s *V2ServerKey) UnwrapStateless(dst, pkt []byte, info *ClientKeyInfo) ([]byte, error) {
	if len(pkt) == 0 || !carriesWKc(pkt[0]) {
		return dst, errNotWKcOpcode
	}
	body, wkc, err := SplitWKc(pkt)
	if err != nil {
		return dst, err
	}
	w := getCryptWork()
	defer putCryptWork(w)
	if err := s.unwrapClientKey(w, wkc, info); err != nil {
		return dst, err
	}
	_, recv := info.Kc.Keys(keys.TLSCryptDirection(true))
	defer recv.Zero()
	d, err := newCryptDir(&recv)
	if err != nil {
		return dst, err
	}
	out, _, err := d.unwrap(w, dst, body)
	if err != nil {
		info.Zero()
		return dst, err
	}
	return out, nil
}

// WrapStateless appends the server's tls-crypt-v2 form of plain to dst,
// wrapped with the client key of info and the packet id pid (the reply to a
// client's reset). Safe for concurrent use; costs one allocation (the AES key
// schedule of Kc).
func (s *V2ServerKey) WrapStateless(dst, plain []byte, info *ClientKeyInfo, pid wire.WrapPID) ([]byte, error) {
	send, _ := info.Kc.Keys(keys.TLSCryptDirection(true))
	defer send.Zero()
	d, err := newCryptDir(&send)
	if err != nil {
		return dst, err
	}
	w := getCryptWork()
	defer putCryptWork(w)
	return d.wrap(w, dst, plain, pid)
}

// TLSCryptV2Client is the client side of tls-crypt-v2: tls-crypt with the
// client key Kc (client direction), plus the WKc appended to
// P_CONTROL_HARD_RESET_CLIENT_V3 and P_CONTROL_WKC_V1 packets. It implements
// Wrapper.
type TLSCryptV2Client struct {
	*TLSCrypt
	wkc []byte
}

// NewTLSCryptV2Client returns the wrapper for a client key. With earlyNeg the
// send counter starts at wire.EarlyNegStart, so the first packet carries
// 0x0f000001 and tells a 2.6 server that this client understands early
// negotiation (and will resend its WKc in a P_CONTROL_WKC_V1 when asked).
// The WKc is copied.
func NewTLSCryptV2Client(ck *keys.TLSCryptV2ClientKey, earlyNeg bool, o Options) (*TLSCryptV2Client, error) {
	if len(ck.WKc) < keys.TLSCryptV2MinWKcLen || len(ck.WKc) > keys.TLSCryptV2MaxWKcLen {
		return nil, fmt.Errorf("ctlwrap: tls-crypt-v2 WKc of %d bytes, want %d to %d: load the key with keys.ParseTLSCryptV2ClientKey", len(ck.WKc), keys.TLSCryptV2MinWKcLen, keys.TLSCryptV2MaxWKcLen)
	}
	tc, err := NewTLSCrypt(&ck.Kc, false, o)
	if err != nil {
		return nil, err
	}
	if earlyNeg {
		tc.SetSendID(wire.EarlyNegStart)
	}
	return &TLSCryptV2Client{TLSCrypt: tc, wkc: append([]byte(nil), ck.WKc...)}, nil
}

// WKcLen returns the size of the WKc that Wrap appends to
// P_CONTROL_HARD_RESET_CLIENT_V3 and P_CONTROL_WKC_V1 packets.
func (c *TLSCryptV2Client) WKcLen() int { return len(c.wkc) }

// Wrap appends the tls-crypt form of plain to dst, followed by the WKc if
// plain is a P_CONTROL_HARD_RESET_CLIENT_V3 or P_CONTROL_WKC_V1.
func (c *TLSCryptV2Client) Wrap(dst, plain []byte) ([]byte, error) {
	out, err := c.TLSCrypt.Wrap(dst, plain)
	if err != nil {
		return dst, err
	}
	if carriesWKc(plain[0]) {
		out = append(out, c.wkc...)
	}
	return out, nil
}

// WrapStateless is like Wrap with the packet id pid. Safe for concurrent use.
func (c *TLSCryptV2Client) WrapStateless(dst, plain []byte, pid wire.WrapPID) ([]byte, error) {
	out, err := c.TLSCrypt.WrapStateless(dst, plain, pid)
	if err != nil {
		return dst, err
	}
	if carriesWKc(plain[0]) {
		out = append(out, c.wkc...)
	}
	return out, nil
}

// TLSCryptV2Server is one server session of tls-crypt-v2. It learns the
// client key from the first P_CONTROL_HARD_RESET_CLIENT_V3 or
// P_CONTROL_WKC_V1 it unwraps (or from SetClientKey, for sessions created by
// the stateless handshake) and then works like tls-crypt in the server
// direction. Later WKcs (retransmissions) are stripped and ignored, as
// openvpn does (2.6.21 keys this on whether the session already has a key). It implements Wrapper.
type TLSCryptV2Server struct {
	srv  *V2ServerKey
	o    Options
	tc   *TLSCrypt // nil until the client key is known
	info ClientKeyInfo
	sid  uint32 // SetSendID before the key is known
}

// NewTLSCryptV2Server returns a session wrapper using the server key srv.
func NewTLSCryptV2Server(srv *V2ServerKey, o Options) *TLSCryptV2Server {
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	return &TLSCryptV2Server{srv: srv, o: o}
}

// SetClientKey gives the session the client key and metadata that the
// stateless handshake recovered (V2ServerKey.UnwrapStateless). It fails if
// the session already has a key.
func (s *TLSCryptV2Server) SetClientKey(info *ClientKeyInfo) error {
	if s.tc != nil {
		return fmt.Errorf("ctlwrap: tls-crypt-v2 session already has a client key")
	}
	tc, err := NewTLSCrypt(&info.Kc, true, s.o)
	if err != nil {
		return err
	}
	tc.SetSendID(s.sid)
	s.tc, s.info = tc, *info
	return nil
}

// ClientKey returns the client key and metadata, once known.
func (s *TLSCryptV2Server) ClientKey() (*ClientKeyInfo, bool) {
	if s.tc == nil {
		return nil, false
	}
	return &s.info, true
}

// Overhead returns 40.
func (s *TLSCryptV2Server) Overhead() int { return overheadTC }

// SetSendID sets the send counter so that the next Wrap uses last+1.
func (s *TLSCryptV2Server) SetSendID(last uint32) {
	s.sid = last
	if s.tc != nil {
		s.tc.SetSendID(last)
	}
}

// Wrap appends the tls-crypt form of plain to dst. It fails with
// ErrNoClientKey before the client key is known.
func (s *TLSCryptV2Server) Wrap(dst, plain []byte) ([]byte, error) {
	if s.tc == nil {
		return dst, errNoKey
	}
	return s.tc.Wrap(dst, plain)
}

// Unwrap unwraps pkt and appends the plain packet to dst. A
// P_CONTROL_HARD_RESET_CLIENT_V3 or P_CONTROL_WKC_V1 first has its WKc split
// off; the first valid one gives the session its client key (adopted only if
// the whole packet authenticates). Other packets before that fail with
// ErrNoClientKey.
func (s *TLSCryptV2Server) Unwrap(dst, pkt []byte, now time.Time) ([]byte, error) {
	if len(pkt) == 0 {
		return dst, errEmpty
	}
	body := pkt
	if carriesWKc(pkt[0]) {
		b, wkc, err := SplitWKc(pkt)
		if err != nil {
			return dst, err
		}
		body = b
		if s.tc == nil {
			return s.adopt(dst, body, wkc, now)
		}
	}
	if s.tc == nil {
		return dst, errNoKey
	}
	return s.tc.Unwrap(dst, body, now)
}

func (s *TLSCryptV2Server) adopt(dst, body, wkc []byte, now time.Time) ([]byte, error) {
	var info ClientKeyInfo
	defer info.Zero()
	if err := s.srv.UnwrapClientKey(wkc, &info); err != nil {
		return dst, err
	}
	tc, err := NewTLSCrypt(&info.Kc, true, s.o)
	if err != nil {
		return dst, err
	}
	out, err := tc.Unwrap(dst, body, now)
	if err != nil {
		return dst, err
	}
	tc.SetSendID(s.sid)
	s.tc, s.info = tc, info
	return out, nil
}
