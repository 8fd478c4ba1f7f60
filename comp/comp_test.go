package comp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/wire"
	"github.com/pierrec/lz4/v4"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		words   string
		want    Mode
		migrate bool
		bad     bool
	}{
		{"comp-lzo", LZO, false, false},
		{"comp-lzo yes", LZO, false, false},
		{"comp-lzo adaptive", LZO, false, false},
		{"comp-lzo no", LZOStub, false, false},
		{"compress", StubSwap, false, false},
		{"compress stub", StubSwap, false, false},
		{"compress stub-v2", StubV2, false, false},
		{"compress lzo", LZO, false, false},
		{"compress lz4", LZ4, false, false},
		{"compress lz4-v2", LZ4V2, false, false},
		{"compress migrate", None, true, false},
		{"comp-lzo maybe", None, false, true},
		{"compress snappy", None, false, true},
		{"compress lz4 extra", None, false, true},
		{"allow-compression yes", None, false, true},
		{"", None, false, true},
	}
	for _, tt := range tests {
		m, migrate, err := ParseMode(strings.Fields(tt.words))
		if tt.bad {
			if !errors.Is(err, ErrBadOption) {
				t.Errorf("%q: err = %v, want ErrBadOption", tt.words, err)
			}
			continue
		}
		if err != nil || m != tt.want || migrate != tt.migrate {
			t.Errorf("%q = %v, %v, %v; want %v, %v", tt.words, m, migrate, err, tt.want, tt.migrate)
		}
	}
	// String spells an option ParseMode reads back.
	for m := LZOStub; m < numModes; m++ {
		if got, _, err := ParseMode(strings.Fields(m.String())); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
}

func TestAllowPolicy(t *testing.T) {
	for _, w := range []string{"no", "asym", "yes"} {
		a, err := ParseAllow(w)
		if err != nil || a.String() != w {
			t.Errorf("ParseAllow(%q) = %v, %v", w, a, err)
		}
	}
	if _, err := ParseAllow("stub-only"); !errors.Is(err, ErrBadOption) {
		t.Errorf("ParseAllow(stub-only): err = %v", err)
	}
	tests := []struct {
		a    Allow
		m    Mode
		want Allow
		err  bool
	}{
		{AllowUnset, None, AllowNo, false},
		{AllowUnset, LZOStub, AllowNo, false},
		{AllowUnset, StubV2, AllowNo, false},
		{AllowUnset, LZO, AllowAsym, false},
		{AllowUnset, LZ4V2, AllowAsym, false},
		{AllowNo, LZO, AllowNo, true},
		{AllowNo, StubSwap, AllowNo, false},
		{AllowAsym, LZ4, AllowAsym, false},
		{AllowYes, None, AllowYes, false},
	}
	for _, tt := range tests {
		got, err := tt.a.Effective(tt.m)
		if got != tt.want || (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrNotAllowed)) {
			t.Errorf("%v.Effective(%v) = %v, %v", tt.a, tt.m, got, err)
		}
	}
	for m := None; m < numModes; m++ {
		if AllowNo.Permits(m) != m.IsStub() {
			t.Errorf("AllowNo.Permits(%v) = %v", m, AllowNo.Permits(m))
		}
		if !AllowAsym.Permits(m) || !AllowYes.Permits(m) {
			t.Errorf("asym/yes must permit %v", m)
		}
	}
}

func TestAppendPeerInfo(t *testing.T) {
	// A default 2.6 client (lab-confirmed, protocol-data-channel.md §6.3).
	if got := string(AppendPeerInfo(nil, AllowNo, None)); got != "IV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n" {
		t.Errorf("default: %q", got)
	}
	if got := string(AppendPeerInfo(nil, AllowAsym, LZO)); got != "IV_LZ4=1\nIV_LZ4v2=1\nIV_LZO=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n" {
		t.Errorf("asym: %q", got)
	}
	if got := string(AppendPeerInfo([]byte("X=1\n"), AllowYes, StubV2)); got != "X=1\nIV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n" {
		t.Errorf("stub-v2: %q", got)
	}
}

func TestOverhead(t *testing.T) {
	want := map[Mode]int{None: 0, LZOStub: 1, LZO: 1, StubSwap: 1, LZ4: 1, StubV2: 0, LZ4V2: 0}
	for m, n := range want {
		if m.Overhead() != n {
			t.Errorf("%v.Overhead() = %d, want %d", m, m.Overhead(), n)
		}
	}
}

// frame is a test helper: it puts p in a buffer with full head- and
// tailroom and returns the framed bytes.
func frame(t *testing.T, m Mode, p []byte) []byte {
	t.Helper()
	buf := make([]byte, MaxHeadroom+len(p)+MaxTailroom)
	copy(buf[MaxHeadroom:], p)
	s, e, err := m.Frame(buf, MaxHeadroom, MaxHeadroom+len(p))
	if err != nil {
		t.Fatalf("%v.Frame(%x): %v", m, p, err)
	}
	return buf[s:e]
}

func TestFrame(t *testing.T) {
	ping := wire.PingMagic[:]
	tests := []struct {
		m    Mode
		in   string
		want string
	}{
		// protocol-data-channel.md §5.5: the captured ping under comp-lzo no.
		{LZOStub, hex.EncodeToString(ping), "fa" + hex.EncodeToString(ping)},
		{LZO, "4500", "fa4500"},
		{None, "4500", "4500"},
		{StubSwap, "45000054", "fb00005445"},
		{LZ4, "45", "fb45"},
		{StubV2, "4500", "4500"},
		{StubV2, "50aa", "500050aa"},
		{LZ4V2, "60", "60"},
		{LZ4V2, "50", "500050"},
		{StubSwap, "", ""},
		{StubV2, "", ""},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(frame(t, tt.m, unhex(t, tt.in))); got != tt.want {
			t.Errorf("%v.Frame(%s) = %s, want %s", tt.m, tt.in, got, tt.want)
		}
	}
}

func TestFrameNoRoom(t *testing.T) {
	tests := []struct {
		m          Mode
		buf        string
		start, end int
	}{
		{LZOStub, "45", 0, 1},     // no headroom for 0xFA
		{StubSwap, "45", 0, 1},    // no tailroom for the swap
		{LZ4V2, "0050", 1, 2},     // one byte of headroom, two needed
		{None, "45", 1, 0},        // end before start
		{None, "45", 0, 2},        // end past buf
		{StubV2, "45", -1, 1},     // negative start
		{Mode(200), "0045", 1, 2}, // unknown mode
	}
	for _, tt := range tests {
		buf := unhex(t, tt.buf)
		orig := append([]byte{}, buf...)
		if _, _, err := tt.m.Frame(buf, tt.start, tt.end); !errors.Is(err, ErrNoRoom) {
			t.Errorf("%v.Frame(%s, %d, %d): err = %v, want ErrNoRoom", tt.m, tt.buf, tt.start, tt.end, err)
		}
		if !bytes.Equal(buf, orig) {
			t.Errorf("%v.Frame(%s): buffer modified on error", tt.m, tt.buf)
		}
	}
}

func TestUnframe(t *testing.T) {
	tests := []struct {
		m    Mode
		in   string
		want string // "" with err set
		err  error
	}{
		{None, "4500", "4500", nil},
		{None, "fa45", "fa45", nil}, // no byte is ever stripped without an option
		{LZOStub, "fa4500", "4500", nil},
		{LZOStub, "fa", "", nil},
		{LZOStub, "4500", "", ErrFramingByte},
		{LZOStub, "66110000", "", ErrFramingByte}, // LZO is dropped under comp-lzo no
		{LZO, "fa4500", "4500", nil},
		{LZO, "66" + "14414243" + "110000", "414243", nil},
		{LZO, "66" + "12", "", ErrLZOInputOverrun},
		{LZO, "fb4500", "", ErrFramingByte},
		{StubSwap, "fb00005445", "45000054", nil},
		{StubSwap, "fb", "", nil},
		{StubSwap, "fa4500", "", ErrFramingByte},
		{StubSwap, "69aabb", "", ErrFramingByte}, // LZ4 not allowed under stub
		{LZ4, "fb4500", "0045", nil},
		{LZ4, "45fb00", "", ErrFramingByte},
		{LZ4, "69", "", ErrLZ4},
		{LZ4, "69ffff", "", ErrLZ4},
		{StubV2, "4500", "4500", nil},
		{StubV2, "500050aa", "50aa", nil},
		{StubV2, "50", "", ErrV2Header},
		{StubV2, "5001aa", "", ErrV2Header}, // LZ4 not allowed under stub-v2
		{StubV2, "5002aa", "", ErrV2Header},
		{LZ4V2, "60aa", "60aa", nil},
		{LZ4V2, "50004500", "4500", nil},
		{LZ4V2, "5003", "", ErrV2Header},
		{LZ4V2, "5001", "", ErrLZ4},
		{LZ4V2, "500100", "", ErrLZ4}, // a valid block of zero bytes: dropped like OpenVPN
		{Mode(99), "4500", "", ErrFramingByte},
	}
	for _, tt := range tests {
		scratch := make([]byte, 1768)
		got, err := tt.m.Unframe(unhex(t, tt.in), scratch)
		if !errors.Is(err, tt.err) {
			t.Errorf("%v.Unframe(%s): err = %v, want %v", tt.m, tt.in, err, tt.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%v.Unframe(%s): %v does not wrap ErrMalformed", tt.m, tt.in, err)
			}
			continue
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%v.Unframe(%s) = %x, want %s", tt.m, tt.in, got, tt.want)
		}
	}
	if got, err := LZOStub.Unframe(nil, nil); err != nil || len(got) != 0 {
		t.Errorf("empty payload: %x, %v", got, err)
	}
}

// TestRoundTrip frames a packet in every mode and unframes it again.
func TestRoundTrip(t *testing.T) {
	pkts := []string{"45000054abcdef", "6000", "50", "5000", "fa", "fb", "66", "69", "ff"}
	for m := None; m < numModes; m++ {
		for _, p := range pkts {
			in := unhex(t, p)
			framed := append([]byte{}, frame(t, m, in)...)
			got, err := m.Unframe(framed, nil)
			if err != nil || !bytes.Equal(got, in) {
				t.Errorf("%v: %s -> %x -> %x, %v", m, p, frame(t, m, in), got, err)
			}
		}
	}
}

func TestLZ4Decompress(t *testing.T) {
	p := bytes.Repeat([]byte("openvpn-go lz4 "), 40)
	var c lz4.CompressorCCompat
	block := make([]byte, lz4.CompressBlockBound(len(p)))
	n, err := c.CompressBlock(p, block)
	if err != nil || n == 0 || n >= len(p) {
		t.Fatalf("compress: %d, %v", n, err)
	}
	block = block[:n]

	// compress lz4: 0x69 || c[1:] || c[0].
	v1 := append(append([]byte{lz4CompressByte}, block[1:]...), block[0])
	got, err := LZ4.Unframe(v1, make([]byte, 1768))
	if err != nil || !bytes.Equal(got, p) {
		t.Errorf("LZ4: %v, equal=%v", err, bytes.Equal(got, p))
	}
	// compress lz4-v2: 0x50 0x01 || c.
	v2 := append([]byte{v2Indicator, v2LZ4}, block...)
	got, err = LZ4V2.Unframe(v2, make([]byte, 1768))
	if err != nil || !bytes.Equal(got, p) {
		t.Errorf("LZ4V2: %v, equal=%v", err, bytes.Equal(got, p))
	}
	// The scratch buffer bounds the output.
	v2 = append([]byte{v2Indicator, v2LZ4}, block...)
	if _, err := LZ4V2.Unframe(v2, make([]byte, len(p)-1)); !errors.Is(err, ErrLZ4) {
		t.Errorf("short scratch: err = %v, want ErrLZ4", err)
	}
}

func TestZeroAllocs(t *testing.T) {
	buf := make([]byte, 1600)
	scratch := make([]byte, 1768)
	lzoPkt := unhex(t, "66"+"1441424344"+"110000")
	for m := None; m < numModes; m++ {
		allocs := testing.AllocsPerRun(100, func() {
			buf[2] = 0x45
			s, e, err := m.Frame(buf, 2, 1502)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Unframe(buf[s:e], scratch); err != nil {
				t.Fatal(err)
			}
			_, _ = m.Unframe(lzoPkt, scratch) // errors too are allocation-free
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocs per Frame+Unframe", m, allocs)
		}
	}
	// Successful decompression allocates nothing either.
	p := bytes.Repeat([]byte("zero allocations "), 80)
	var c lz4.CompressorCCompat
	block := make([]byte, lz4.CompressBlockBound(len(p)))
	n, _ := c.CompressBlock(p, block)
	lz4Pkt := append([]byte{v2Indicator, v2LZ4}, block[:n]...)
	var lzoText []byte
	for _, v := range readLZOVectors(t) {
		if v.name == "text-1400/lzo1x_999" {
			lzoText = append([]byte{lzoCompressByte}, v.comp...)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if out, err := LZ4V2.Unframe(lz4Pkt, scratch); err != nil || len(out) != len(p) {
			t.Fatal(len(out), err)
		}
		if out, err := LZO.Unframe(lzoText, scratch); err != nil || len(out) != 1400 {
			t.Fatal(len(out), err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per decompression", allocs)
	}
}

func BenchmarkFrame(b *testing.B) {
	for _, m := range []Mode{None, LZOStub, StubSwap, StubV2} {
		b.Run(m.String(), func(b *testing.B) {
			buf := make([]byte, 1600)
			b.ReportAllocs()
			b.SetBytes(1400)
			for b.Loop() {
				buf[2] = 0x45
				_, _, _ = m.Frame(buf, 2, 1402)
			}
		})
	}
}

func BenchmarkUnframe(b *testing.B) {
	for _, m := range []Mode{None, LZOStub, StubSwap, StubV2} {
		b.Run(m.String(), func(b *testing.B) {
			buf := make([]byte, 1600)
			scratch := make([]byte, 1768)
			buf[2] = 0x45
			s, e, _ := m.Frame(buf, 2, 1402)
			pkt := buf[s:e]
			b.ReportAllocs()
			b.SetBytes(1400)
			for b.Loop() {
				out, _ := m.Unframe(pkt, scratch)
				if m == StubSwap { // Unframe moved the byte back; undo for the next round
					_, _, _ = m.Frame(buf, s, s+len(out))
				}
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	p := bytes.Repeat([]byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n"), 40)[:1400]
	var c lz4.CompressorCCompat
	block := make([]byte, lz4.CompressBlockBound(len(p)))
	n, _ := c.CompressBlock(p, block)
	lz4Pkt := append([]byte{v2Indicator, v2LZ4}, block[:n]...)
	var lzoPkt []byte
	for _, v := range readLZOVectors(b) {
		if v.name == "text-1400/lzo1x_1" {
			lzoPkt = append([]byte{lzoCompressByte}, v.comp...)
		}
	}
	scratch := make([]byte, 1768)
	b.Run("lz4-v2", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if _, err := LZ4V2.Unframe(lz4Pkt, scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lzo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1400)
		for b.Loop() {
			if _, err := LZO.Unframe(lzoPkt, scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
