package fragment

import (
	"fmt"
	"time"
)

// Reassembly limits (fragment.h).
const (
	// Slots is the number of packets reassembled in parallel
	// (N_FRAG_BUF): a sliding window over the last 25 seq_ids.
	Slots = 25
	// TTL is how long a partly received packet is kept after its latest
	// fragment (FRAG_TTL_SEC).
	TTL = 10 * time.Second
	// MaxPacket is the largest reassembled packet NewReassembler accepts as
	// its bound: MaxFrags fragments of MaxSize bytes.
	MaxPacket = MaxFrags * MaxSize
)

// slot is the reassembly state of one seq_id.
type slot struct {
	defined bool
	size    int       // fragment size: where fragment n starts is n*size
	have    uint32    // bit n: fragment n received; a Last n sets bits n..31
	lastID  int       // frag_id of the Last fragment, -1 until it arrives
	maxID   int       // highest frag_id of a NotLast fragment, -1 if none
	length  int       // packet length, known once Last arrived
	stamp   time.Time // arrival of the latest fragment
	buf     []byte    // len = the Reassembler's maximum packet size
}

// Reassembler joins the fragments one peer sends. It keeps Slots partly
// received packets, indexed by a sliding window over seq_id as OpenVPN
// does, and forgets a packet TTL after its latest fragment. Its memory is
// allocated once, by NewReassembler. A Reassembler is not safe for
// concurrent use.
//
// It is stricter than OpenVPN where OpenVPN would deliver stale bytes: a
// fragment at or after the last one, a second last fragment with another
// frag_id, or a last fragment longer than the fragment size is dropped, so
// a delivered packet consists only of bytes of its own fragments.
type Reassembler struct {
	max   int // maximum packet size
	seqID uint8
	index int
	slots [Slots]slot
}

// NewReassembler returns a Reassembler for packets of at most maxPacket
// bytes, which is also the bound on a fragment's end (OpenVPN uses its frame
// buffer size, 1768 bytes by default in 2.6). It allocates Slots × maxPacket
// bytes. maxPacket must be in [1, MaxPacket].
func NewReassembler(maxPacket int) (*Reassembler, error) {
	if maxPacket < 1 || maxPacket > MaxPacket {
		return nil, fmt.Errorf("fragment: maximum packet size %d out of range [1, %d]", maxPacket, MaxPacket)
	}
	r := &Reassembler{max: maxPacket}
	mem := make([]byte, Slots*maxPacket)
	for i := range r.slots {
		r.slots[i].buf = mem[i*maxPacket : (i+1)*maxPacket : (i+1)*maxPacket]
	}
	return r, nil
}

// Incoming takes one decrypted, replay-checked payload that starts with a
// fragment header, at time now. It returns:
//
//   - for a FRAG_WHOLE packet, the payload after the header (aliasing pkt);
//   - for the fragment that completes a packet, the packet, which aliases
//     the Reassembler's memory and is valid until the next call of
//     Incoming;
//   - for any other fragment, nil and a nil error: it was stored.
//
// A malformed or inconsistent payload returns an error wrapping
// ErrMalformed and changes no stored fragment, except that, as in OpenVPN,
// a fragment whose size differs from the stored fragments of its seq_id
// starts that packet afresh. Incoming allocates nothing and never panics.
func (r *Reassembler) Incoming(pkt []byte, now time.Time) ([]byte, error) {
	h, err := ParseHeader(pkt)
	if err != nil {
		return nil, err
	}
	data := pkt[HeaderLen:]
	if h.Type == Whole {
		return data, nil
	}
	n := int(h.FragID)
	size := len(data)
	if h.Type == Last {
		size = h.Size
		if len(data) == 0 || len(data) > size {
			return nil, ErrBadSize
		}
	}
	if size == 0 || size&sizeRoundOf != 0 {
		return nil, ErrBadSize
	}
	if n*size+len(data) > r.max {
		return nil, ErrOverflow
	}

	s := r.slot(h.SeqID)
	if s.defined && !now.Before(s.stamp.Add(TTL)) {
		s.defined = false // expired: whatever it held is stale
	}
	if !s.defined || s.size != size {
		*s = slot{defined: true, size: size, lastID: -1, maxID: -1, buf: s.buf}
	}
	if h.Type == Last {
		if (s.lastID >= 0 && s.lastID != n) || s.maxID >= n {
			return nil, ErrInconsistent
		}
	} else if s.lastID >= 0 && n >= s.lastID {
		return nil, ErrInconsistent
	}

	copy(s.buf[n*size:], data)
	if h.Type == Last {
		s.lastID = n
		s.length = n*size + len(data)
		s.have |= ^uint32(0) << n
	} else {
		s.have |= 1 << n
		s.maxID = max(s.maxID, n)
	}
	s.stamp = now
	if s.have != ^uint32(0) {
		return nil, nil
	}
	s.defined = false
	return s.buf[:s.length], nil
}

// slot returns the slot of seq_id seq, sliding the window forward over
// newer seq_ids (and forgetting what falls out of it), or resetting it
// entirely for a seq_id Slots or more away (fragment_list_get_buf).
func (r *Reassembler) slot(seq uint8) *slot {
	diff := int(int8(seq - r.seqID))
	if diff >= Slots || diff <= -Slots {
		for i := range r.slots {
			r.slots[i].defined = false
		}
		r.index, r.seqID, diff = 0, seq, 0
	}
	for ; diff > 0; diff-- {
		r.index = (r.index + 1) % Slots
		r.slots[r.index].defined = false
		r.seqID++
	}
	return &r.slots[(r.index+diff+Slots)%Slots]
}
