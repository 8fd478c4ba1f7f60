package fragment

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0x00, 0x3d, 0x08, 0x96})
	f.Add([]byte{0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h.Type == Test || h.FragID > 31 || h.Size%4 != 0 || h.Size > MaxSize || (h.Type != Last && h.Size != 0) {
			t.Fatalf("%x parsed as %+v", b[:4], h)
		}
		out := make([]byte, 4)
		h.Put(out)
		back, err := ParseHeader(out)
		if err != nil || back != h {
			t.Fatalf("%+v -> %x -> %+v, %v", h, out, back, err)
		}
	})
}

// FuzzReassembler feeds a sequence of fragments decoded from the input:
// per record a 4-byte header, a length byte, a time-step byte (seconds), and
// that many data bytes. It checks that nothing panics, that a delivered
// packet fits the bound, and that a whole packet aliases its input.
func FuzzReassembler(f *testing.F) {
	rec := func(h Header, n, step byte) []byte {
		b := make([]byte, 4, 6+int(n))
		h.Put(b)
		b = append(b, n, step)
		return append(b, bytes.Repeat([]byte{0xa5}, int(n))...)
	}
	var seed []byte
	seed = append(seed, rec(Header{Type: NotLast, SeqID: 1, FragID: 0}, 8, 0)...)
	seed = append(seed, rec(Header{Type: Last, SeqID: 1, FragID: 1, Size: 8}, 3, 0)...)
	f.Add(seed)
	f.Add(rec(Header{Type: Last, SeqID: 9, FragID: 31, Size: 4}, 4, 11))
	f.Add(rec(Header{Type: Whole}, 20, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		const bound = 600
		r, err := NewReassembler(bound)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for len(in) >= 6 {
			n, step := int(in[4]), in[5]
			pkt := append(append([]byte{}, in[:4]...), in[6:min(len(in), 6+n)]...)
			in = in[min(len(in), 6+n):]
			now = now.Add(time.Duration(step) * time.Second)
			h, _ := ParseHeader(pkt)
			out, err := r.Incoming(pkt, now)
			if err != nil {
				if out != nil {
					t.Fatalf("output with error %v", err)
				}
				continue
			}
			if out == nil {
				continue
			}
			if h.Type == Whole {
				if len(out) != len(pkt)-HeaderLen || (len(out) > 0 && &out[0] != &pkt[HeaderLen]) {
					t.Fatalf("whole packet not passed through")
				}
				continue
			}
			if len(out) == 0 || len(out) > bound {
				t.Fatalf("delivered %d bytes with bound %d", len(out), bound)
			}
		}
	})
}

// FuzzSplitReassemble splits a packet, delivers its fragments in a
// shuffled order with duplicates and with fragments of an unrelated packet
// in between, and requires the packet back exactly once.
func FuzzSplitReassemble(f *testing.F) {
	f.Add(make([]byte, 1400), uint16(488), uint64(1))
	f.Add([]byte("short"), uint16(4), uint64(7))
	f.Add(bytes.Repeat([]byte{1, 2, 3}, 300), uint16(33), uint64(99))
	f.Fuzz(func(t *testing.T, pkt []byte, max uint16, seed uint64) {
		if len(pkt) == 0 {
			return
		}
		s, err := NewSplitter(int(max), uint8(seed))
		if err != nil {
			return
		}
		dst := buffers(MaxFrags, HeaderLen+int(max))
		n, err := s.Split(pkt, dst)
		if err != nil {
			if len(pkt) <= int(max)*MaxFrags && len(pkt) > int(max) {
				count, _, _ := s.Plan(len(pkt))
				t.Fatalf("Split(%d bytes, max %d): %v (plan %d)", len(pkt), max, err, count)
			}
			return
		}
		r, err := NewReassembler(len(pkt))
		if err != nil {
			t.Fatal(err)
		}
		// A schedule: every fragment once in a shuffled order, some twice,
		// and a stray fragment of another seq_id in between.
		x := seed | 1
		rnd := func(m int) int {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			return int(x % uint64(m))
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		for i := n - 1; i > 0; i-- {
			j := rnd(i + 1)
			order[i], order[j] = order[j], order[i]
		}
		stray := make([]byte, HeaderLen+4)
		Header{Type: NotLast, SeqID: uint8(seed) + 3, FragID: 0}.Put(stray)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		delivered := 0
		for k, i := range order {
			steps := [][]byte{dst[i]}
			if rnd(3) == 0 && k != n-1 {
				steps = append(steps, dst[i])
			}
			if rnd(4) == 0 {
				steps = append(steps, stray)
			}
			for _, p := range steps {
				out, err := r.Incoming(p, now)
				if err != nil {
					t.Fatalf("fragment %d of %d: %v", i, n, err)
				}
				if out != nil {
					delivered++
					if !bytes.Equal(out, pkt) {
						t.Fatalf("reassembled %d bytes differ from the %d-byte packet", len(out), len(pkt))
					}
				}
			}
		}
		if delivered != 1 {
			t.Fatalf("delivered %d times (n=%d)", delivered, n)
		}
		if n > 1 {
			// Every piece but the last has the same size, a multiple of 4.
			size := len(dst[0]) - HeaderLen
			for i := range n - 1 {
				if len(dst[i])-HeaderLen != size || size%4 != 0 {
					t.Fatalf("fragment %d: %d bytes, first %d", i, len(dst[i])-HeaderLen, size)
				}
			}
			if h, _ := ParseHeader(dst[n-1]); h.Size != size || binary.BigEndian.Uint32(dst[0])&3 != 1 {
				t.Fatalf("last header size %d, want %d", h.Size, size)
			}
		}
	})
}
