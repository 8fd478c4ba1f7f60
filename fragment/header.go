package fragment

import (
	"encoding/binary"
	"errors"
)

// Limits of the format (fragment.h).
const (
	// HeaderLen is the length of the fragment header on every packet.
	HeaderLen = 4
	// MaxFrags is the most fragments one packet may be cut into (frag_id
	// has 5 bits; MAX_FRAGS).
	MaxFrags = 32
	// MaxSize is the largest fragment size the FRAG_YES_LAST header can
	// carry: 14 bits, in units of 4 bytes.
	MaxSize = 0x3FFF << 2
)

// Type is the fragment type in the low two bits of the header.
type Type uint8

const (
	Whole   Type = 0 // FRAG_WHOLE: an unfragmented packet
	NotLast Type = 1 // FRAG_YES_NOTLAST: a fragment, more follow
	Last    Type = 2 // FRAG_YES_LAST: the last fragment; Size is set
	Test    Type = 3 // FRAG_TEST: reserved, never implemented
)

// Header bit layout.
const (
	typeMask    = 0x3
	seqShift    = 2
	seqMask     = 0xFF
	idShift     = 10
	idMask      = 0x1F
	sizeShift   = 15
	sizeMask    = 0x3FFF
	sizeRound   = 2 // sizes are stored >> 2
	sizeRoundOf = 1<<sizeRound - 1
)

// Header is a decoded fragment header.
type Header struct {
	Type   Type
	SeqID  uint8 // packet sequence number, per sender
	FragID uint8 // index of the fragment in its packet, 0..31
	// Size is the fragment size in bytes (a multiple of 4, at most MaxSize)
	// for a Last fragment: where fragment n starts is n*Size. It is 0 for
	// the other types, whose "extra" bits OpenVPN sends as zero.
	Size int
}

// ErrMalformed is wrapped by every error Incoming and ParseHeader return:
// the packet is to be dropped.
var ErrMalformed = errors.New("fragment: malformed packet")

type packetError string

func (e packetError) Error() string { return string(e) }
func (e packetError) Unwrap() error { return ErrMalformed }

// Errors for received packets. They are fixed values (no allocation per
// dropped packet) and all wrap ErrMalformed.
var (
	ErrShort error = packetError("fragment: packet shorter than the 4-byte fragment header")
	// ErrSpuriousWhole: a FRAG_WHOLE header with seq_id bits in its low
	// byte. Like OpenVPN, only the low byte is checked.
	ErrSpuriousWhole error = packetError("fragment: spurious FRAG_WHOLE flags")
	ErrFragTest      error = packetError("fragment: FRAG_TEST not implemented")
	// ErrBadSize: a fragment whose size is zero or not a multiple of 4, or
	// a last fragment that is empty or longer than the fragment size.
	ErrBadSize error = packetError("fragment: bad fragment size")
	// ErrOverflow: the fragment would end beyond the maximum packet size.
	ErrOverflow error = packetError("fragment: fragment buffer overflow")
	// ErrInconsistent: the fragment contradicts the others of its packet (a
	// fragment at or after the last one, or two different last fragments).
	ErrInconsistent error = packetError("fragment: fragment inconsistent with the rest of its packet")
)

// ParseHeader decodes the header at the start of b. It rejects what
// OpenVPN's fragment_incoming rejects before looking at reassembly state: a
// short packet, FRAG_WHOLE with any of bits 2..7 set, and FRAG_TEST.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	v := binary.BigEndian.Uint32(b)
	h := Header{
		Type:   Type(v & typeMask),
		SeqID:  uint8(v >> seqShift & seqMask),
		FragID: uint8(v >> idShift & idMask),
	}
	switch h.Type {
	case Whole:
		// OpenVPN tests flags & (FRAG_SEQ_ID_MASK | FRAG_ID_MASK), masks
		// that are not shifted: only the low byte counts.
		if v&(seqMask|idMask) != 0 {
			return Header{}, ErrSpuriousWhole
		}
		return Header{Type: Whole}, nil
	case Last:
		h.Size = int(v>>sizeShift&sizeMask) << sizeRound
	case Test:
		return Header{}, ErrFragTest
	}
	return h, nil
}

// Put writes h into b[:HeaderLen]; b must be at least that long. A Whole
// header is all zero; Size is written for Last only and must be a multiple
// of 4 no larger than MaxSize (other bits are masked off).
func (h Header) Put(b []byte) {
	v := uint32(h.Type)&typeMask | uint32(h.SeqID)<<seqShift | uint32(h.FragID&idMask)<<idShift
	switch h.Type {
	case Whole:
		v = 0
	case Last:
		v |= uint32(h.Size>>sizeRound) & sizeMask << sizeShift
	}
	binary.BigEndian.PutUint32(b, v)
}

// PutWhole writes the FRAG_WHOLE header (four zero bytes) into b[:4], for a
// caller that prepends it in place into headroom it reserved.
func PutWhole(b []byte) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = 0, 0, 0, 0
}
