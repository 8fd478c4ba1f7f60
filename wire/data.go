package wire

import (
	"encoding/binary"
	"errors"
	"io"
)

// PeerIDNone is the peer-id that means "not set" (MAX_PEER_ID).
const PeerIDNone = 0xFFFFFF

// Data header lengths.
const (
	DataV1HeaderLen = 1
	DataV2HeaderLen = 4
)

// DataHeader describes the header of a P_DATA_V1 or P_DATA_V2 packet.
type DataHeader struct {
	Opcode Opcode // OpDataV1 or OpDataV2
	KeyID  KeyID
	PeerID uint32 // PeerIDNone for P_DATA_V1
}

// Len returns the header length: 1 for V1, 4 for V2.
func (h DataHeader) Len() int {
	if h.Opcode == OpDataV2 {
		return DataV2HeaderLen
	}
	return DataV1HeaderLen
}

// ParseDataHeader decodes the header of a data packet. ok is false if pkt is
// not a data packet or is too short for its header.
func ParseDataHeader(pkt []byte) (h DataHeader, ok bool) {
	if len(pkt) == 0 {
		return h, false
	}
	h.Opcode, h.KeyID = SplitOpcode(pkt[0])
	switch h.Opcode {
	case OpDataV1:
		h.PeerID = PeerIDNone
		return h, true
	case OpDataV2:
		if len(pkt) < DataV2HeaderLen {
			return h, false
		}
		h.PeerID = uint32(pkt[1])<<16 | uint32(pkt[2])<<8 | uint32(pkt[3])
		return h, true
	}
	return h, false
}

// Put writes the header into the first h.Len() bytes of b, which must be long
// enough.
func (h DataHeader) Put(b []byte) {
	b[0] = OpcodeByte(h.Opcode, h.KeyID)
	if h.Opcode == OpDataV2 {
		b[1] = byte(h.PeerID >> 16)
		b[2] = byte(h.PeerID >> 8)
		b[3] = byte(h.PeerID)
	}
}

// Append appends the header to dst.
func (h DataHeader) Append(dst []byte) []byte {
	var b [DataV2HeaderLen]byte
	h.Put(b[:])
	return append(dst, b[:h.Len()]...)
}

// TCP framing: every packet on a stream is preceded by its length as a
// big-endian uint16 that does not count itself.
const (
	FrameHeaderLen = 2
	MaxFrameLen    = 0xFFFF
)

// ErrFrameLength is returned for a zero-length frame, which OpenVPN treats as
// a broken stream ("Bad encapsulated packet length").
var ErrFrameLength = errors.New("wire: bad encapsulated packet length")

// AppendFrame appends pkt to dst preceded by its 16-bit length.
// It panics if pkt is longer than MaxFrameLen, which is a caller bug.
func AppendFrame(dst, pkt []byte) []byte {
	if len(pkt) > MaxFrameLen {
		panic("wire: frame too long")
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(pkt)))
	return append(dst, pkt...)
}

// ReadFrame reads one length-prefixed packet from r into buf and returns it.
// A frame longer than buf, or of length zero, is ErrFrameLength; after that
// the stream cannot be resynchronised and must be closed.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [FrameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > len(buf) {
		return nil, ErrFrameLength
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf[:n], nil
}
