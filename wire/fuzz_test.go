package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

var controlSeeds = []string{
	"38c82bc323e8a493bf0000000000",
	"40e93aab294c0ccf790100000000c82bc323e8a493bf00000000",
	"28c82bc323e8a493bf020000000100000000e93aab294c0ccf79",
	"20c82bc323e8a493bf0100000000e93aab294c0ccf7900000001160301",
	"18c82bc323e8a493bf0000000000",
}

func FuzzParseControl(f *testing.F) {
	for _, s := range controlSeeds {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseControl(b)
		if err != nil {
			return
		}
		// A packet that parses re-encodes to the same bytes.
		if got := p.Append(nil); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x != %x", got, b)
		}
	})
}

func FuzzParseDataHeader(f *testing.F) {
	f.Add([]byte{0x48, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0x31, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseDataHeader(b)
		if !ok {
			return
		}
		if got := h.Append(nil); !bytes.Equal(got, b[:h.Len()]) {
			t.Fatalf("%x != %x", got, b[:h.Len()])
		}
	})
}

func FuzzKeyMethod(f *testing.F) {
	m := KeyMethodMessage{HasPreMast: true, Options: "V4,dev-type tun", Username: "u", Password: "p", PeerInfo: "IV_VER=1\n"}
	f.Add(AppendKeyMethod(nil, &m), true)
	f.Add(AppendKeyMethod(nil, &KeyMethodMessage{Options: "V4"}), false)
	f.Fuzz(func(t *testing.T, b []byte, fromClient bool) {
		ParseKeyMethod(b, fromClient)
	})
}

func FuzzEarlyNegFlags(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) { EarlyNegFlags(b) })
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 2, 1, 2, 0, 1, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		buf := make([]byte, 1600)
		for {
			if _, err := ReadFrame(r, buf); err != nil {
				return
			}
		}
	})
}

func FuzzSplitControlMessages(f *testing.F) {
	f.Add([]byte("PUSH_REPLY,route 10.0.0.0 255.0.0.0\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		SplitControlMessages(b, func(m []byte) {
			if !printable(m) {
				t.Fatalf("unprintable message %q", m)
			}
		})
	})
}
