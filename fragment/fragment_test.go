package fragment

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 4, 30, 0, 0, time.UTC)

func hdr(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Header
		err  error
	}{
		{"whole", "00000000", Header{Type: Whole}, nil},
		// Captured from openvpn 2.6.14 with `fragment 500` (testdata).
		{"captured first", "00000095", Header{Type: NotLast, SeqID: 0x25, FragID: 0}, nil},
		{"captured second", "00000495", Header{Type: NotLast, SeqID: 0x25, FragID: 1}, nil},
		{"captured last", "003d0896", Header{Type: Last, SeqID: 0x25, FragID: 2, Size: 488}, nil},
		{"max fields", "1fffffff" /* bits 29..31 are ignored */, Header{}, ErrFragTest},
		{"last, all bits", "fffffffe", Header{Type: Last, SeqID: 0xff, FragID: 31, Size: MaxSize}, nil},
		{"notlast ignores extra bits", "7fff8001", Header{Type: NotLast}, nil},
		{"whole with seq bits in the low byte", "00000004", Header{}, ErrSpuriousWhole},
		{"whole with low bits", "000000fc", Header{}, ErrSpuriousWhole},
		// OpenVPN masks the flags with the unshifted seq_id|frag_id masks,
		// so bits above the low byte pass, and so must they here.
		{"whole with high seq bits (accepted like OpenVPN)", "00000300", Header{Type: Whole}, nil},
		{"whole with frag_id bits (accepted like OpenVPN)", "00007c00", Header{Type: Whole}, nil},
		{"test", "00000003", Header{}, ErrFragTest},
		{"short", "000000", Header{}, ErrShort},
		{"empty", "", Header{}, ErrShort},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.in)
		h, err := ParseHeader(b)
		if !errors.Is(err, tt.err) || (err == nil && h != tt.want) {
			t.Errorf("%s: ParseHeader(%s) = %+v, %v; want %+v, %v", tt.name, tt.in, h, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v does not wrap ErrMalformed", tt.name, err)
		}
	}
}

func TestHeaderPut(t *testing.T) {
	tests := []struct {
		h    Header
		want string
	}{
		{Header{Type: Whole, SeqID: 9, FragID: 3}, "00000000"},
		{Header{Type: NotLast, SeqID: 0x25}, "00000095"},
		{Header{Type: NotLast, SeqID: 0x25, FragID: 1}, "00000495"},
		{Header{Type: Last, SeqID: 0x25, FragID: 2, Size: 488}, "003d0896"},
		{Header{Type: NotLast, SeqID: 0x25, FragID: 1, Size: 488}, "00000495"}, // Size only on Last
		{Header{Type: Last, SeqID: 0xff, FragID: 31, Size: MaxSize}, "1ffffffe"},
	}
	for _, tt := range tests {
		b := make([]byte, 4)
		tt.h.Put(b)
		if got := hex.EncodeToString(b); got != tt.want {
			t.Errorf("%+v.Put = %s, want %s", tt.h, got, tt.want)
		}
		if back, err := ParseHeader(b); err != nil || (tt.h.Type != Whole && back.FragID != tt.h.FragID) {
			t.Errorf("%+v: round trip %+v, %v", tt.h, back, err)
		}
	}
}

func TestFragmentSize(t *testing.T) {
	// Reference values of OpenVPN's optimal_fragment_size formula,
	// evaluated independently (in Python); TestCapturedFragments checks the
	// sizes openvpn 2.6.14 actually sent.
	tests := []struct{ n, max, want int }{
		{1428, 488, 488}, // 2 × 488 + 452: last piece large enough
		{1500, 488, 376}, // 3 × 488 + 36 -> four pieces of 376 or less
		{600, 488, 300},  // 488 + 112 -> 300 + 300
		{489, 488, 248},
		{977, 488, 328},
		{1000, 490, 336}, // max not a multiple of 4
		{100, 4, 4},      // smallest max: never a division by zero
		{8, 5, 4},
	}
	for _, tt := range tests {
		if got := fragmentSize(tt.n, tt.max); got != tt.want {
			t.Errorf("fragmentSize(%d, %d) = %d, want %d", tt.n, tt.max, got, tt.want)
		}
	}
}

func TestNewSplitterBounds(t *testing.T) {
	for _, max := range []int{-1, 0, 1, 3, MaxSize + 1} {
		if _, err := NewSplitter(max, 0); !errors.Is(err, ErrMaxSize) {
			t.Errorf("NewSplitter(%d): err = %v", max, err)
		}
	}
	for _, max := range []int{4, 488, MaxSize} {
		if s, err := NewSplitter(max, 0); err != nil || s.Max() != max {
			t.Errorf("NewSplitter(%d): %v", max, err)
		}
	}
}

func buffers(n, size int) [][]byte {
	d := make([][]byte, n)
	for i := range d {
		d[i] = make([]byte, 0, size)
	}
	return d
}

func TestSplit(t *testing.T) {
	pkt := make([]byte, 1500)
	for i := range pkt {
		pkt[i] = byte(i * 7)
	}
	s, err := NewSplitter(488, 0x24)
	if err != nil {
		t.Fatal(err)
	}
	dst := buffers(MaxFrags, 600)
	n, err := s.Split(pkt, dst)
	if err != nil || n != 4 {
		t.Fatalf("Split = %d, %v", n, err)
	}
	var joined []byte
	for i, d := range dst[:n] {
		h, err := ParseHeader(d)
		if err != nil || h.SeqID != 0x25 || int(h.FragID) != i {
			t.Fatalf("fragment %d: %+v, %v", i, h, err)
		}
		wantType, wantLen := NotLast, 376
		if i == n-1 {
			wantType, wantLen = Last, 1500-3*376
			if h.Size != 376 {
				t.Errorf("last fragment carries size %d, want 376", h.Size)
			}
		}
		if h.Type != wantType || len(d)-HeaderLen != wantLen {
			t.Errorf("fragment %d: type %d, %d bytes; want %d, %d", i, h.Type, len(d)-HeaderLen, wantType, wantLen)
		}
		joined = append(joined, d[HeaderLen:]...)
	}
	if !bytes.Equal(joined, pkt) {
		t.Error("fragments do not join to the packet")
	}
	// The next fragmented packet gets the next seq_id, with wrap-around.
	s.seq = 0xff
	if n, err := s.Split(pkt, dst); err != nil || n != 4 || dst[0][1] != 0 || dst[0][3] != 0x01 {
		t.Errorf("after 0xff: %d, %v, header %x", n, err, dst[0][:4])
	}
	// A packet that fits goes whole, without touching the seq_id.
	if n, err := s.Split(pkt[:488], dst); err != nil || n != 1 || !bytes.Equal(dst[0][:4], []byte{0, 0, 0, 0}) || len(dst[0]) != 492 || s.seq != 0 {
		t.Errorf("whole: %d, %v, %x, seq %d", n, err, dst[0][:4], s.seq)
	}
}

func TestSplitErrors(t *testing.T) {
	s, _ := NewSplitter(40, 7)
	if _, err := s.Split(make([]byte, 40*32+1), buffers(40, 100)); !errors.Is(err, ErrTooManyFragments) {
		t.Errorf("too big: %v", err)
	}
	if n, err := s.Split(make([]byte, 40*32), buffers(32, 44)); err != nil || n != 32 {
		t.Errorf("exactly 32 fragments: %d, %v", n, err)
	}
	if _, err := s.Split(make([]byte, 100), buffers(2, 100)); !errors.Is(err, ErrNoRoom) {
		t.Errorf("too few buffers: %v", err)
	}
	seq := s.seq
	small := buffers(3, 100)
	small[2] = make([]byte, 0, 10)
	if _, err := s.Split(make([]byte, 100), small); !errors.Is(err, ErrNoRoom) || s.seq != seq {
		t.Errorf("small buffer: %v; seq %d -> %d", err, seq, s.seq)
	}
	if _, err := s.Split(make([]byte, 10), [][]byte{make([]byte, 0, 13)}); !errors.Is(err, ErrNoRoom) {
		t.Errorf("whole into a small buffer: %v", err)
	}
	if _, err := s.Split(make([]byte, 10), nil); !errors.Is(err, ErrNoRoom) {
		t.Errorf("no buffer: %v", err)
	}
}

func mustReassembler(t testing.TB, max int) *Reassembler {
	t.Helper()
	r, err := NewReassembler(max)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// frag builds a fragment payload.
func frag(typ Type, seq, id uint8, size int, data []byte) []byte {
	b := make([]byte, HeaderLen, HeaderLen+len(data))
	Header{Type: typ, SeqID: seq, FragID: id, Size: size}.Put(b)
	return append(b, data...)
}

func TestReassembleOrders(t *testing.T) {
	pkt := make([]byte, 1000)
	for i := range pkt {
		pkt[i] = byte(i)
	}
	s, _ := NewSplitter(300, 9)
	dst := buffers(MaxFrags, 400)
	n, err := s.Split(pkt, dst)
	if err != nil || n != 4 {
		t.Fatalf("split: %d, %v", n, err)
	}
	orders := map[string][]int{
		"in order":             {0, 1, 2, 3},
		"reversed":             {3, 2, 1, 0},
		"last first":           {3, 0, 1, 2},
		"duplicates":           {0, 0, 1, 3, 1, 2},
		"duplicate last":       {3, 3, 1, 0, 2},
		"interleaved with dup": {1, 3, 1, 0, 3, 2},
	}
	for name, order := range orders {
		r := mustReassembler(t, 1768)
		var got []byte
		for k, i := range order {
			out, err := r.Incoming(dst[i], t0.Add(time.Duration(k)*time.Millisecond))
			if err != nil {
				t.Fatalf("%s: fragment %d: %v", name, i, err)
			}
			if out != nil {
				if got != nil {
					t.Fatalf("%s: delivered twice", name)
				}
				got = append([]byte{}, out...)
			}
		}
		if !bytes.Equal(got, pkt) {
			t.Errorf("%s: reassembled %d bytes, want the 1000-byte packet", name, len(got))
		}
	}
}

func TestReassembleWhole(t *testing.T) {
	r := mustReassembler(t, 100)
	in := append([]byte{0, 0, 0, 0}, "hello"...)
	out, err := r.Incoming(in, t0)
	if err != nil || string(out) != "hello" || &out[0] != &in[4] {
		t.Errorf("whole: %q, %v (must alias the input)", out, err)
	}
	// A whole packet larger than the bound still passes: the bound is on
	// reassembly memory, not on packets that need none.
	if out, err := r.Incoming(make([]byte, 4+500), t0); err != nil || len(out) != 500 {
		t.Errorf("large whole: %d, %v", len(out), err)
	}
}

func TestReassembleMalformed(t *testing.T) {
	d8 := bytes.Repeat([]byte{0xab}, 8)
	tests := []struct {
		name string
		pkt  []byte
		err  error
	}{
		{"short", []byte{0, 0}, ErrShort},
		{"spurious whole", hdr(0x10), ErrSpuriousWhole},
		{"frag test", append(hdr(3), d8...), ErrFragTest},
		{"notlast of 0 bytes", frag(NotLast, 1, 0, 0, nil), ErrBadSize},
		{"notlast not a multiple of 4", frag(NotLast, 1, 0, 0, d8[:6]), ErrBadSize},
		// CVE-2023-46849 class: a zero size must not reach any arithmetic.
		{"last with size 0", frag(Last, 1, 1, 0, d8), ErrBadSize},
		{"last of 0 bytes", frag(Last, 1, 1, 8, nil), ErrBadSize},
		{"last longer than the size", frag(Last, 1, 1, 4, d8), ErrBadSize},
		{"beyond the bound", frag(NotLast, 1, 31, 0, bytes.Repeat([]byte{1}, 64)), ErrOverflow},
		{"last beyond the bound", frag(Last, 1, 31, MaxSize, d8), ErrOverflow},
	}
	for _, tt := range tests {
		r := mustReassembler(t, 1768)
		out, err := r.Incoming(tt.pkt, t0)
		if !errors.Is(err, tt.err) || !errors.Is(err, ErrMalformed) || out != nil {
			t.Errorf("%s: %x, %v; want %v", tt.name, out, err, tt.err)
		}
	}
}

func TestReassembleInconsistent(t *testing.T) {
	d := bytes.Repeat([]byte{7}, 8)
	type step struct {
		pkt     []byte
		err     error
		deliver int // length of the packet this step completes, 0 if none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"notlast after the last", []step{
			{frag(Last, 5, 1, 8, d[:4]), nil, 0},
			{frag(NotLast, 5, 2, 0, d), ErrInconsistent, 0},
			{frag(NotLast, 5, 1, 0, d), ErrInconsistent, 0},
			{frag(NotLast, 5, 0, 0, d), nil, 12},
		}},
		{"last before a notlast", []step{
			{frag(NotLast, 5, 3, 0, d), nil, 0},
			{frag(Last, 5, 2, 8, d), ErrInconsistent, 0},
			{frag(Last, 5, 3, 8, d), ErrInconsistent, 0},
			{frag(Last, 5, 4, 8, d), nil, 0},
			{frag(NotLast, 5, 0, 0, d), nil, 0},
			{frag(NotLast, 5, 1, 0, d), nil, 0},
			{frag(NotLast, 5, 2, 0, d), nil, 40},
		}},
		{"two lasts", []step{
			{frag(Last, 5, 2, 8, d), nil, 0},
			{frag(Last, 5, 1, 8, d), ErrInconsistent, 0},
			{frag(NotLast, 5, 0, 0, d), nil, 0},
			{frag(NotLast, 5, 1, 0, d), nil, 24},
		}},
		{"size change restarts the packet (as OpenVPN)", []step{
			{frag(NotLast, 5, 0, 0, d), nil, 0},
			{frag(Last, 5, 1, 4, d[:4]), nil, 0}, // size 4 != 8: restart, holds only fragment 1
			{frag(NotLast, 5, 0, 0, d[:4]), nil, 8},
		}},
		{"overlapping rewrite of a fragment is harmless", []step{
			{frag(NotLast, 5, 0, 0, d), nil, 0},
			{frag(NotLast, 5, 0, 0, bytes.Repeat([]byte{9}, 8)), nil, 0},
			{frag(Last, 5, 1, 8, d[:1]), nil, 9},
		}},
	}
	for _, tt := range tests {
		r := mustReassembler(t, 1768)
		for i, st := range tt.steps {
			out, err := r.Incoming(st.pkt, t0)
			if !errors.Is(err, st.err) || len(out) != st.deliver {
				t.Errorf("%s step %d: %d bytes, %v; want %d, %v", tt.name, i, len(out), err, st.deliver, st.err)
			}
		}
	}
}

func TestReassembleTTL(t *testing.T) {
	d := bytes.Repeat([]byte{1}, 8)
	r := mustReassembler(t, 1768)
	if out, err := r.Incoming(frag(NotLast, 1, 0, 0, d), t0); out != nil || err != nil {
		t.Fatal(out, err)
	}
	// 9.999 s later the partial packet is alive; its timestamp moves on.
	if out, err := r.Incoming(frag(NotLast, 1, 1, 0, d), t0.Add(TTL-time.Millisecond)); out != nil || err != nil {
		t.Fatal(out, err)
	}
	// 10 s after the latest fragment it has expired: the last fragment
	// alone completes nothing.
	if out, err := r.Incoming(frag(Last, 1, 2, 8, d), t0.Add(2*TTL-time.Millisecond)); out != nil || err != nil {
		t.Fatalf("expired packet completed: %d bytes, %v", len(out), err)
	}
	// Within the TTL it completes.
	r2 := mustReassembler(t, 1768)
	r2.Incoming(frag(NotLast, 1, 0, 0, d), t0)
	if out, err := r2.Incoming(frag(Last, 1, 1, 8, d), t0.Add(TTL-time.Nanosecond)); len(out) != 16 || err != nil {
		t.Fatalf("in time: %d bytes, %v", len(out), err)
	}
}

func TestReassembleWindow(t *testing.T) {
	d := bytes.Repeat([]byte{1}, 8)
	r := mustReassembler(t, 1768)
	// Start 25 packets, seq_ids 0..24, each missing its last fragment.
	for seq := range Slots {
		r.Incoming(frag(NotLast, uint8(seq), 0, 0, d), t0)
	}
	// All 25 are kept: complete seq 1 and 24.
	if out, _ := r.Incoming(frag(Last, 1, 1, 8, d), t0); len(out) != 16 {
		t.Errorf("seq 1 lost within the window")
	}
	if out, _ := r.Incoming(frag(Last, 24, 1, 8, d), t0); len(out) != 16 {
		t.Errorf("seq 24 lost within the window")
	}
	// seq 25 slides the window to 1..25: seq 0's slot is reused, seq 2
	// is still there.
	r.Incoming(frag(NotLast, 25, 0, 0, d), t0)
	if out, _ := r.Incoming(frag(Last, 2, 1, 8, d), t0); len(out) != 16 {
		t.Errorf("seq 2 lost")
	}
	// A fragment of seq 0, now 25 behind, resets the whole window, as in
	// OpenVPN: nothing completes, and seq 3 is gone too.
	if out, _ := r.Incoming(frag(Last, 0, 1, 8, d), t0); out != nil {
		t.Errorf("seq 0 completed after falling out of the window")
	}
	if out, _ := r.Incoming(frag(Last, 3, 1, 8, d), t0); out != nil {
		t.Errorf("seq 3 survived a reset")
	}
	// seq_id wraps around 255 -> 0.
	r2 := mustReassembler(t, 1768)
	r2.Incoming(frag(NotLast, 250, 0, 0, d), t0)
	r2.Incoming(frag(NotLast, 5, 0, 0, d), t0) // 11 ahead, mod 256
	if out, _ := r2.Incoming(frag(Last, 250, 1, 8, d), t0); len(out) != 16 {
		t.Errorf("seq 250 lost across the wrap")
	}
	if out, _ := r2.Incoming(frag(Last, 5, 1, 8, d), t0); len(out) != 16 {
		t.Errorf("seq 5 lost across the wrap")
	}
}

func TestNewReassemblerBounds(t *testing.T) {
	for _, n := range []int{0, -5, MaxPacket + 1} {
		if _, err := NewReassembler(n); err == nil {
			t.Errorf("NewReassembler(%d) accepted", n)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	pkt := make([]byte, 1400)
	s, _ := NewSplitter(488, 0)
	r := mustReassembler(t, 1768)
	dst := buffers(MaxFrags, 600)
	now := t0
	allocs := testing.AllocsPerRun(200, func() {
		n, err := s.Split(pkt, dst)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, d := range dst[:n] {
			if out, err = r.Incoming(d, now); err != nil {
				t.Fatal(err)
			}
		}
		if len(out) != len(pkt) {
			t.Fatalf("reassembled %d bytes", len(out))
		}
		_, _ = r.Incoming([]byte{0, 0, 0, 4}, now) // errors cost nothing either
		now = now.Add(time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per split+reassemble", allocs)
	}
}

func BenchmarkSplit(b *testing.B) {
	pkt := make([]byte, 1400)
	s, _ := NewSplitter(488, 0)
	dst := buffers(MaxFrags, 600)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := s.Split(pkt, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIncoming(b *testing.B) {
	pkt := make([]byte, 1400)
	s, _ := NewSplitter(488, 0)
	r := mustReassembler(b, 1768)
	dst := buffers(MaxFrags, 600)
	b.Run("whole", func(b *testing.B) {
		whole := make([]byte, 4+1400)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Incoming(whole, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("3 fragments", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			n, _ := s.Split(pkt, dst)
			for _, d := range dst[:n] {
				if _, err := r.Incoming(d, t0); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
