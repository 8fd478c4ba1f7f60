package comp

// An LZO1X decoder with liblzo2's lzo1x_decompress_safe semantics, the one
// OpenVPN uses: every read and write is bounds-checked, output is limited to
// len(dst), and the stream must end with the end-of-stream marker (a 0001HLLL
// match of distance 16384, i.e. H = 0 and a zero distance field) followed by
// nothing.
//
// Format (written from the description in the Linux kernel's
// Documentation/staging/lzo.rst). A stream is a sequence of instructions;
// lengths that do not fit their bit field are extended by zero bytes worth
// 255 each and a final non-zero byte. After a match, the low two bits S of
// its last opcode or distance byte say how many literals (0..3) follow
// directly; that count decides how the next opcode below 16 is read:
//
//	00000000..00001111  after 0 literals: literal run, 3+L bytes (L=0: 18+ext)
//	                    after a run of >= 4 literals: 3-byte match,
//	                      distance 2049 + (next<<2) + (opcode>>2)
//	                    after 1..3 trailing literals: 2-byte match,
//	                      distance 1 + (next<<2) + (opcode>>2)
//	0001HLLL + LE16     match of 2+L bytes (L=0: 9+ext),
//	                      distance 16384 + H<<14 + LE16>>2 (16384 = end)
//	001LLLLL + LE16     match of 2+L bytes (L=0: 33+ext), distance 1 + LE16>>2
//	01LDDDSS + byte     match of 3+L bytes, distance 1 + (byte<<3) + DDD
//	1LLDDDSS + byte     match of 5+LL bytes, distance 1 + (byte<<3) + DDD
//
// The first byte is special: 18..255 is a literal run of byte-17 bytes
// (a run of 1..3 counts as trailing literals), 0..17 a normal opcode.

// lzoState records what the previous instruction copied, which decides how
// an opcode below 16 is read.
type lzoState uint8

const (
	lzoAfterMatch    lzoState = iota // last instruction: a match with no trailing literals
	lzoAfterRun                      // last instruction: a literal run of >= 4 bytes
	lzoAfterTrailing                 // last instruction: 1..3 trailing literals
)

// lzo1xDecompress decodes the LZO1X stream src into dst and returns the
// number of bytes written. It never reads outside src nor writes outside
// dst; any malformed stream is one of the ErrLZO* errors.
func lzo1xDecompress(dst, src []byte) (int, error) {
	ip, op := 0, 0
	state := lzoAfterMatch
	if len(src) == 0 {
		return 0, ErrLZOInputOverrun
	}
	if src[0] > 17 {
		n := int(src[0]) - 17
		ip = 1
		if ip+n > len(src) {
			return 0, ErrLZOInputOverrun
		}
		if op+n > len(dst) {
			return 0, ErrLZOOutputOverrun
		}
		op += copy(dst[op:], src[ip:ip+n])
		ip += n
		if n < 4 {
			state = lzoAfterTrailing
		} else {
			state = lzoAfterRun
		}
	}
	for {
		if ip >= len(src) {
			return op, ErrLZOInputOverrun
		}
		t := int(src[ip])
		ip++
		var length, dist, trailing int
		switch {
		case t < 16 && state == lzoAfterMatch:
			// Literal run.
			n := t + 3
			if t == 0 {
				var err error
				if n, ip, err = lzoExtend(src, ip, 15); err != nil {
					return op, err
				}
				n += 3
			}
			if ip+n > len(src) {
				return op, ErrLZOInputOverrun
			}
			if op+n > len(dst) {
				return op, ErrLZOOutputOverrun
			}
			op += copy(dst[op:], src[ip:ip+n])
			ip += n
			state = lzoAfterRun
			continue
		case t < 16:
			if ip >= len(src) {
				return op, ErrLZOInputOverrun
			}
			dist = 1 + t>>2 + int(src[ip])<<2
			ip++
			length = 2
			if state == lzoAfterRun {
				dist += 0x800
				length = 3
			}
			trailing = t & 3
		case t >= 64:
			if ip >= len(src) {
				return op, ErrLZOInputOverrun
			}
			dist = 1 + (t>>2)&7 + int(src[ip])<<3
			ip++
			length = t>>5 + 1
			trailing = t & 3
		case t >= 32:
			length = t & 31
			if length == 0 {
				var err error
				if length, ip, err = lzoExtend(src, ip, 31); err != nil {
					return op, err
				}
			}
			length += 2
			if ip+2 > len(src) {
				return op, ErrLZOInputOverrun
			}
			d := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = 1 + d>>2
			trailing = d & 3
		default: // 16..31
			length = t & 7
			if length == 0 {
				var err error
				if length, ip, err = lzoExtend(src, ip, 7); err != nil {
					return op, err
				}
			}
			length += 2
			if ip+2 > len(src) {
				return op, ErrLZOInputOverrun
			}
			d := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = (t&8)<<11 + d>>2
			if dist == 0 {
				// End of stream.
				if ip != len(src) {
					return op, ErrLZOInputNotConsumed
				}
				return op, nil
			}
			dist += 0x4000
			trailing = d & 3
		}
		// Copy the match; it may overlap its own output (dist < length).
		if dist > op {
			return op, ErrLZOLookbehindOverrun
		}
		if op+length > len(dst) {
			return op, ErrLZOOutputOverrun
		}
		if dist >= length {
			op += copy(dst[op:op+length], dst[op-dist:])
		} else {
			for end := op + length; op < end; op++ {
				dst[op] = dst[op-dist]
			}
		}
		if trailing == 0 {
			state = lzoAfterMatch
			continue
		}
		if ip+trailing > len(src) {
			return op, ErrLZOInputOverrun
		}
		if op+trailing > len(dst) {
			return op, ErrLZOOutputOverrun
		}
		op += copy(dst[op:], src[ip:ip+trailing])
		ip += trailing
		state = lzoAfterTrailing
	}
}

// lzoExtend reads an extended length starting at src[ip]: a run of zero
// bytes worth 255 each, then a non-zero byte added to base. It returns the
// length and the new input position. The loop is bounded by len(src), and
// the result by 255*len(src), so it cannot overflow; the caller checks the
// length against the output room.
func lzoExtend(src []byte, ip, base int) (int, int, error) {
	n := base
	for {
		if ip >= len(src) {
			return 0, ip, ErrLZOInputOverrun
		}
		b := src[ip]
		ip++
		if b != 0 {
			return n + int(b), ip, nil
		}
		n += 255
	}
}
