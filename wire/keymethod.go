package wire

import (
	"bytes"
	"encoding/binary"
)

// Key-method 2 (ssl.c key_method_2_write/read). The first TLS application
// data in each direction, after every (re)handshake:
//
//	u32 0 || u8 2 || [client: pre_master(48)] || random1(32) || random2(32) ||
//	u16 len || options string || NUL ||
//	u16 len || username || NUL   (or u16 0) ||
//	u16 len || password || NUL   (or u16 0) ||
//	u16 len || peer-info || NUL  (or u16 0)
//
// The whole message must be one TLS record of at most MaxKeyMethodLen bytes.
const (
	KeyMethod2       = 2
	PreMasterLen     = 48
	RandomLen        = 32
	MaxOptionsLen    = 512 // TLS_OPTIONS_LEN, including the NUL
	MaxUserPassLen   = 128 // USER_PASS_LEN, including the NUL
	MaxKeyMethodLen  = 2048
	keyMethodHdrLen  = 4 + 1
	maxPeerInfoBytes = MaxKeyMethodLen
)

// KeyMethodMessage is a decoded key-method-2 message. The string fields are
// copies, so the message stays valid after the input buffer is reused.
type KeyMethodMessage struct {
	// PreMaster is present only in the client's message.
	PreMaster   [PreMasterLen]byte
	HasPreMast  bool
	Random1     [RandomLen]byte
	Random2     [RandomLen]byte
	Options     string // OCC options string without the NUL
	Username    string
	Password    string
	PeerInfo    string
	HasUserPass bool // username or password field was non-empty
}

// AppendKeyMethod appends the encoding of m to dst. The pre-master secret is
// written iff m.HasPreMast (the client's message).
func AppendKeyMethod(dst []byte, m *KeyMethodMessage) []byte {
	dst = append(dst, 0, 0, 0, 0, KeyMethod2)
	if m.HasPreMast {
		dst = append(dst, m.PreMaster[:]...)
	}
	dst = append(dst, m.Random1[:]...)
	dst = append(dst, m.Random2[:]...)
	dst = appendString(dst, m.Options, true)
	dst = appendString(dst, m.Username, false)
	dst = appendString(dst, m.Password, false)
	return appendString(dst, m.PeerInfo, false)
}

// appendString writes OpenVPN's length-prefixed NUL-terminated string. An
// empty string is written as a zero length unless always is set.
func appendString(dst []byte, s string, always bool) []byte {
	if s == "" && !always {
		return binary.BigEndian.AppendUint16(dst, 0)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)+1))
	dst = append(dst, s...)
	return append(dst, 0)
}

// ParseKeyMethod decodes a key-method-2 message. fromClient selects whether a
// pre-master secret is expected. Fields after the options string are
// optional, as in OpenVPN's reader.
func ParseKeyMethod(b []byte, fromClient bool) (KeyMethodMessage, error) {
	var m KeyMethodMessage
	if len(b) > MaxKeyMethodLen {
		return m, malformed("key-method message of %d bytes exceeds %d", len(b), MaxKeyMethodLen)
	}
	if len(b) < keyMethodHdrLen {
		return m, malformed("key-method message truncated")
	}
	if b[4]&0x0F != KeyMethod2 {
		return m, malformed("unsupported key-method %d", b[4]&0x0F)
	}
	b = b[keyMethodHdrLen:]
	need := 2 * RandomLen
	if fromClient {
		need += PreMasterLen
	}
	if len(b) < need {
		return m, malformed("key-method message: missing key source entropy")
	}
	if fromClient {
		copy(m.PreMaster[:], b)
		m.HasPreMast = true
		b = b[PreMasterLen:]
	}
	copy(m.Random1[:], b)
	copy(m.Random2[:], b[RandomLen:])
	b = b[2*RandomLen:]
	var err error
	if m.Options, b, err = readString(b, MaxOptionsLen, "options"); err != nil {
		return m, err
	}
	if len(b) == 0 {
		return m, nil
	}
	if m.Username, b, err = readString(b, MaxUserPassLen, "username"); err != nil {
		return m, err
	}
	if len(b) == 0 {
		m.HasUserPass = m.Username != ""
		return m, nil
	}
	if m.Password, b, err = readString(b, MaxUserPassLen, "password"); err != nil {
		return m, err
	}
	m.HasUserPass = m.Username != "" || m.Password != ""
	if len(b) == 0 {
		return m, nil
	}
	if m.PeerInfo, _, err = readString(b, maxPeerInfoBytes, "peer-info"); err != nil {
		return m, err
	}
	return m, nil
}

func readString(b []byte, max int, what string) (string, []byte, error) {
	if len(b) < 2 {
		return "", nil, malformed("key-method %s length missing", what)
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n == 0 {
		return "", b, nil
	}
	if n > max {
		return "", nil, malformed("key-method %s of %d bytes exceeds %d", what, n, max)
	}
	if len(b) < n {
		return "", nil, malformed("key-method %s truncated", what)
	}
	s := b[:n]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s), b[n:], nil
}
