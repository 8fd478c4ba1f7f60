package comp

import (
	"errors"

	"github.com/pierrec/lz4/v4"
)

// ErrMalformed is wrapped by every error Unframe returns: the payload does
// not fit the mode and is to be dropped.
var ErrMalformed = errors.New("comp: malformed payload")

// packetError is a static, allocation-free error that wraps ErrMalformed.
type packetError string

func (e packetError) Error() string { return string(e) }
func (e packetError) Unwrap() error { return ErrMalformed }

// Errors returned by Unframe (all wrap ErrMalformed). They are fixed values,
// so that dropping a packet costs no allocation.
var (
	// ErrFramingByte: the first byte is not one the mode allows (for example
	// 0x66 under `comp-lzo no`, or an IPv4 packet under any v1 mode).
	ErrFramingByte error = packetError("comp: framing byte not allowed by the compression mode")
	// ErrV2Header: a v2 payload is the lone byte 0x50, or 0x50 is followed
	// by an algorithm byte the mode does not allow.
	ErrV2Header error = packetError("comp: bad v2 compression header")
	// ErrLZ4: the LZ4 block is corrupt, decompresses to nothing, or does not
	// fit the scratch buffer.
	ErrLZ4 error = packetError("comp: bad LZ4 block")
	// LZO1X stream errors, named after liblzo2's error codes.
	ErrLZOInputOverrun      error = packetError("comp: LZO stream truncated (input overrun)")
	ErrLZOOutputOverrun     error = packetError("comp: LZO output does not fit the scratch buffer (output overrun)")
	ErrLZOLookbehindOverrun error = packetError("comp: LZO match reaches before the start of the output (lookbehind overrun)")
	ErrLZOInputNotConsumed  error = packetError("comp: bytes after the LZO end-of-stream marker (input not consumed)")
)

// ErrNoRoom is returned by Frame when the caller did not reserve the
// headroom or tailroom the mode needs, or passed bounds outside buf. It is a
// caller bug, not a property of the packet.
var ErrNoRoom = errors.New("comp: no headroom or tailroom for the compression framing")

// Frame adds the "not compressed" framing of mode m to the packet
// buf[start:end], in place, and returns the bounds of the framed packet in
// buf. It may write up to MaxHeadroom bytes before start (buf[start-1] for
// 0xFA, buf[start-2:start] for the v2 escape) and MaxTailroom bytes at
// buf[end] (the swap), and it overwrites buf[start] in the swap modes:
//
//	None, StubV2, LZ4V2 (first byte != 0x50): unchanged
//	StubV2, LZ4V2 (first byte == 0x50):        50 00 || p
//	LZOStub, LZO:                              FA || p
//	StubSwap, LZ4:                             FB || p[1:] || p[0]
//
// An empty packet is left unchanged in every mode, as OpenVPN does.
// ErrNoRoom is returned, and buf left untouched, if the room is missing.
// Frame allocates nothing.
func (m Mode) Frame(buf []byte, start, end int) (int, int, error) {
	if start < 0 || end < start || end > len(buf) {
		return start, end, ErrNoRoom
	}
	if start == end {
		return start, end, nil
	}
	switch m {
	case None:
		return start, end, nil
	case LZOStub, LZO:
		if start < 1 {
			return start, end, ErrNoRoom
		}
		buf[start-1] = noCompressByte
		return start - 1, end, nil
	case StubSwap, LZ4:
		if end >= len(buf) {
			return start, end, ErrNoRoom
		}
		buf[end] = buf[start]
		buf[start] = noCompressByteSwap
		return start, end + 1, nil
	case StubV2, LZ4V2:
		if buf[start] != v2Indicator {
			return start, end, nil
		}
		if start < 2 {
			return start, end, ErrNoRoom
		}
		buf[start-2] = v2Indicator
		buf[start-1] = v2Uncompressed
		return start - 2, end, nil
	}
	return start, end, ErrNoRoom
}

// Unframe removes the framing of mode m from a received, decrypted payload
// and returns the packet. It never autodetects: a payload the mode does not
// allow is an error wrapping ErrMalformed, and the caller drops it.
//
// The result aliases pkt when the payload was not compressed; in the swap
// modes Unframe moves the last byte back to the front, so pkt is modified
// (but left as it was when an error is returned).
// A compressed payload (0x66 under LZO, 0x69 under LZ4, 0x50 0x01 under
// LZ4V2) is decompressed into scratch, whose length bounds the output (use
// the frame's payload size, 1768 bytes by default in 2.6); the result then
// aliases scratch and is valid until scratch is reused. An empty pkt returns
// empty, as does a framing byte alone; OpenVPN drops such packets later.
//
// Unframe allocates nothing and never panics.
func (m Mode) Unframe(pkt, scratch []byte) ([]byte, error) {
	if len(pkt) == 0 {
		return pkt, nil
	}
	switch m {
	case None:
		return pkt, nil
	case LZOStub:
		if pkt[0] != noCompressByte {
			return nil, ErrFramingByte
		}
		return pkt[1:], nil
	case LZO:
		switch pkt[0] {
		case noCompressByte:
			return pkt[1:], nil
		case lzoCompressByte:
			n, err := lzo1xDecompress(scratch, pkt[1:])
			if err != nil {
				return nil, err
			}
			return scratch[:n], nil
		}
		return nil, ErrFramingByte
	case StubSwap, LZ4:
		c := pkt[0]
		if c != noCompressByteSwap && (m != LZ4 || c != lz4CompressByte) {
			return nil, ErrFramingByte
		}
		last := len(pkt) - 1
		pkt[0] = pkt[last]
		if c == noCompressByteSwap {
			return pkt[:last], nil
		}
		out, err := lz4Block(pkt[:last], scratch)
		if err != nil {
			pkt[0] = c // undo the swap: pkt is left as it arrived
		}
		return out, err
	case StubV2, LZ4V2:
		if pkt[0] != v2Indicator {
			return pkt, nil
		}
		if len(pkt) < 2 {
			return nil, ErrV2Header
		}
		switch {
		case pkt[1] == v2Uncompressed:
			return pkt[2:], nil
		case pkt[1] == v2LZ4 && m == LZ4V2:
			return lz4Block(pkt[2:], scratch)
		}
		return nil, ErrV2Header
	}
	return nil, ErrFramingByte
}

// lz4Block decompresses one raw LZ4 block into scratch. Like OpenVPN
// (LZ4_decompress_safe returning <= 0), an empty result is an error.
func lz4Block(src, scratch []byte) ([]byte, error) {
	n, err := lz4.UncompressBlock(src, scratch)
	if err != nil || n <= 0 || n > len(scratch) {
		return nil, ErrLZ4
	}
	return scratch[:n], nil
}
