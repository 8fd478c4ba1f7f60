package fragment

import (
	"errors"
	"fmt"
)

// Errors of the sending side. They are about the caller's packet and
// buffers, not about received data.
var (
	// ErrTooManyFragments: the packet would need more than MaxFrags
	// fragments ("too many fragments would be required to send datagram").
	ErrTooManyFragments = errors.New("fragment: packet needs more than 32 fragments")
	// ErrNoRoom: fewer destination buffers than fragments, or a buffer
	// whose capacity cannot hold its fragment and header.
	ErrNoRoom = errors.New("fragment: destination buffers too small or too few")
	// ErrMaxSize is wrapped by NewSplitter for an unusable size.
	ErrMaxSize = errors.New("fragment: bad maximum fragment size")
)

// Splitter cuts outbound packets into fragments for one peer. It holds the
// sender's seq_id, which advances once per fragmented packet. A Splitter is
// not safe for concurrent use.
type Splitter struct {
	max int   // most payload bytes after the header, OpenVPN's max_fragment_size
	seq uint8 // seq_id of the last fragmented packet
}

// NewSplitter returns a Splitter for fragments that carry at most max
// payload bytes after their 4-byte header (OpenVPN's max_fragment_size:
// 488 for `fragment 500` over UDP/IPv4 with `cipher none`, less with real
// ciphers; computing it is the caller's business). max must be in
// [4, MaxSize]: below 4 no aligned fragment exists (a zero there was
// CVE-2023-46849's division by zero). seq is the initial seq_id; OpenVPN
// picks it at random, so that a restarted session does not reuse recent ids.
func NewSplitter(max int, seq uint8) (*Splitter, error) {
	if max < 4 || max > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, want 4 to %d", ErrMaxSize, max, MaxSize)
	}
	return &Splitter{max: max, seq: seq}, nil
}

// Max returns the maximum fragment payload the Splitter was made with.
func (s *Splitter) Max() int { return s.max }

// Plan returns how a packet of n bytes will be sent: as count datagrams,
// each carrying at most size payload bytes after its header. count is 1
// (size n) when the packet goes whole. It returns ErrTooManyFragments when
// even MaxFrags fragments cannot hold it.
func (s *Splitter) Plan(n int) (count, size int, err error) {
	if n <= s.max {
		return 1, n, nil
	}
	size = fragmentSize(n, s.max)
	count = (n + size - 1) / size
	if count > MaxFrags {
		return 0, 0, ErrTooManyFragments
	}
	return count, size, nil
}

// fragmentSize returns the fragment size for a packet of n > max bytes:
// max rounded down to a multiple of 4, or, when the last fragment would be
// under 3/4 of that, a smaller multiple of 4 that gives the same number of
// fragments of more even sizes (OpenVPN's optimal_fragment_size, whose
// output we must match byte for byte). max >= 4, so aligned > 0.
func fragmentSize(n, max int) int {
	aligned := max &^ sizeRoundOf
	div, mod := n/aligned, n%aligned
	if div > 0 && mod > 0 && mod < aligned*3/4 {
		return min(aligned, (max-(max-mod)/(div+1)+sizeRoundOf)&^sizeRoundOf)
	}
	return aligned
}

// Split writes pkt into dst as the datagrams it is sent as, each a fragment
// header followed by its piece of pkt, and returns how many it wrote. dst[i]
// is resliced to the i-th datagram; its capacity must hold HeaderLen plus
// the piece (Plan tells the sizes). A packet that fits is written whole
// into dst[0] behind a FRAG_WHOLE header; callers that reserved 4 bytes of
// headroom can instead call PutWhole and skip the copy.
//
// Fragments of one packet share a new seq_id; every one but the last has
// exactly the fragment size, a multiple of 4, and the last one carries that
// size in its header. Split checks all buffers before writing anything and
// before advancing the seq_id. It allocates nothing.
func (s *Splitter) Split(pkt []byte, dst [][]byte) (int, error) {
	count, size, err := s.Plan(len(pkt))
	if err != nil {
		return 0, err
	}
	if len(dst) < count {
		return 0, ErrNoRoom
	}
	for i := range count {
		if cap(dst[i]) < HeaderLen+min(size, len(pkt)-i*size) {
			return 0, ErrNoRoom
		}
	}
	if count == 1 {
		d := dst[0][:HeaderLen+len(pkt)]
		PutWhole(d)
		copy(d[HeaderLen:], pkt)
		dst[0] = d
		return 1, nil
	}
	s.seq++
	for i := range count {
		piece := pkt[i*size : min((i+1)*size, len(pkt))]
		h := Header{Type: NotLast, SeqID: s.seq, FragID: uint8(i)}
		if i == count-1 {
			h.Type, h.Size = Last, size
		}
		d := dst[i][:HeaderLen+len(piece)]
		h.Put(d)
		copy(d[HeaderLen:], piece)
		dst[i] = d
	}
	return count, nil
}
