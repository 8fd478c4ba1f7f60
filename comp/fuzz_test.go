package comp

import (
	"bytes"
	"testing"
)

// FuzzUnframe feeds arbitrary payloads to every mode: no panic, results
// within their buffers, errors wrapping ErrMalformed.
func FuzzUnframe(f *testing.F) {
	f.Add(byte(LZO), []byte{0x66, 0x14, 'a', 'b', 'c', 0x11, 0, 0})
	f.Add(byte(LZ4), []byte{0x69, 0x00, 0x10})
	f.Add(byte(LZ4V2), []byte{0x50, 0x01, 0x10, 0x41})
	f.Add(byte(StubSwap), []byte{0xfb, 0x00, 0x45})
	f.Add(byte(StubV2), []byte{0x50, 0x00})
	f.Add(byte(LZOStub), []byte{0xfa})
	for _, v := range readLZOVectors(f) {
		if len(v.comp) < 200 {
			f.Add(byte(LZO), append([]byte{0x66}, v.comp...))
		}
	}
	f.Fuzz(func(t *testing.T, mode byte, pkt []byte) {
		m := Mode(mode % (uint8(numModes) + 1)) // include one invalid mode
		scratch := make([]byte, 1768)
		orig := append([]byte{}, pkt...)
		out, err := m.Unframe(pkt, scratch)
		if err != nil {
			if out != nil {
				t.Fatalf("%v: output %x with error %v", m, out, err)
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatalf("%v: payload modified on error", m)
			}
			return
		}
		if len(out) > len(scratch) && len(out) > len(pkt) {
			t.Fatalf("%v: %d bytes out of %d in, scratch %d", m, len(out), len(pkt), len(scratch))
		}
	})
}

// FuzzLZO decodes arbitrary streams into a small and a large buffer: never a
// panic, never more output than room, and a stream that decodes into the
// small buffer decodes identically into the large one.
func FuzzLZO(f *testing.F) {
	for _, v := range readLZOVectors(f) {
		if len(v.comp) < 400 {
			f.Add(v.comp)
		}
	}
	f.Add([]byte{0x11, 0, 0})
	f.Fuzz(func(t *testing.T, src []byte) {
		small := make([]byte, 256)
		large := make([]byte, 1<<16)
		n1, err1 := lzo1xDecompress(small, src)
		n2, err2 := lzo1xDecompress(large, src)
		if n1 > len(small) || n2 > len(large) || n1 < 0 || n2 < 0 {
			t.Fatalf("n = %d, %d", n1, n2)
		}
		if err1 == nil && (err2 != nil || n1 != n2 || !bytes.Equal(small[:n1], large[:n2])) {
			t.Fatalf("decodes into 256 bytes (%d) but not identically into 64 KiB (%d, %v)", n1, n2, err2)
		}
	})
}

// FuzzFrameRoundTrip checks that Unframe inverts Frame in every mode.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(byte(StubSwap), []byte{0x45, 0, 0, 0x54})
	f.Add(byte(LZ4V2), []byte{0x50})
	f.Fuzz(func(t *testing.T, mode byte, p []byte) {
		m := Mode(mode % uint8(numModes))
		buf := make([]byte, MaxHeadroom+len(p)+MaxTailroom)
		copy(buf[MaxHeadroom:], p)
		s, e, err := m.Frame(buf, MaxHeadroom, MaxHeadroom+len(p))
		if err != nil {
			t.Fatalf("%v.Frame: %v", m, err)
		}
		if e-s > len(p)+MaxHeadroom {
			t.Fatalf("%v: framing grew %d bytes to %d", m, len(p), e-s)
		}
		out, err := m.Unframe(buf[s:e], nil)
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("%v: %x -> %x -> %x, %v", m, p, buf[s:e], out, err)
		}
	})
}
