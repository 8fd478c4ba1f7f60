package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Packets from the plain-mode capture of openvpn 2.6.14
// (protocol-control-channel.md, Appendix A).
func TestParseControlCaptured(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		op      Opcode
		sid     string
		acks    []uint32
		remote  string
		mid     uint32
		payload int
	}{
		{"client reset", "38c82bc323e8a493bf0000000000", OpControlHardResetClientV2, "c82bc323e8a493bf", nil, "", 0, 0},
		{"server reset", "40e93aab294c0ccf790100000000c82bc323e8a493bf00000000", OpControlHardResetServerV2, "e93aab294c0ccf79", []uint32{0}, "c82bc323e8a493bf", 0, 0},
		{"client ack", "28c82bc323e8a493bf020000000100000000e93aab294c0ccf79", OpAckV1, "c82bc323e8a493bf", []uint32{1, 0}, "e93aab294c0ccf79", 0, 0},
		{"client hello", "20c82bc323e8a493bf0100000000e93aab294c0ccf7900000001160301", OpControlV1, "c82bc323e8a493bf", []uint32{0}, "e93aab294c0ccf79", 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := unhex(t, tt.hex)
			p, err := ParseControl(raw)
			if err != nil {
				t.Fatal(err)
			}
			if p.Opcode != tt.op || p.SessionID.String() != tt.sid || p.MessageID != tt.mid || len(p.Payload) != tt.payload {
				t.Fatalf("got %v sid=%v mid=%d payload=%d", p.Opcode, p.SessionID, p.MessageID, len(p.Payload))
			}
			if len(tt.acks) != p.NumAcks {
				t.Fatalf("acks %v, want %v", p.AckList(), tt.acks)
			}
			for i, a := range tt.acks {
				if p.Acks[i] != a {
					t.Fatalf("acks %v, want %v", p.AckList(), tt.acks)
				}
			}
			if tt.remote != "" && p.RemoteSessionID.String() != tt.remote {
				t.Fatalf("remote sid %v", p.RemoteSessionID)
			}
			if p.Len() != len(raw) {
				t.Fatalf("Len %d, want %d", p.Len(), len(raw))
			}
			if got := p.Append(nil); !bytes.Equal(got, raw) {
				t.Fatalf("re-encoded\n%x\nwant\n%x", got, raw)
			}
		})
	}
}

func TestParseControlErrors(t *testing.T) {
	for _, h := range []string{
		"",
		"38",
		"38c82bc323e8a493bf",             // no ack count
		"38c82bc323e8a493bf00",           // no message id
		"30c82bc323e8a493bf0000000000",   // data opcode
		"08c82bc323e8a493bf0000000000",   // key-method 1
		"38c82bc323e8a493bf09",           // 9 acks
		"38c82bc323e8a493bf0100000000",   // ack block truncated
		"28c82bc323e8a493bf00ff",         // ACK with payload
		"f8c82bc323e8a493bf0000000000",   // opcode 31
		"20c82bc323e8a493bf010000000011", // truncated
	} {
		if _, err := ParseControl(unhex(t, h)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", h, err)
		}
	}
}

func TestDataHeader(t *testing.T) {
	pkt := unhex(t, "4a00002a00000001")
	h, ok := ParseDataHeader(pkt)
	if !ok || h.Opcode != OpDataV2 || h.KeyID != 2 || h.PeerID != 42 || h.Len() != 4 {
		t.Fatalf("%+v %v", h, ok)
	}
	if got := h.Append(nil); !bytes.Equal(got, pkt[:4]) {
		t.Fatalf("%x", got)
	}
	h, ok = ParseDataHeader([]byte{0x31, 1})
	if !ok || h.Opcode != OpDataV1 || h.KeyID != 1 || h.PeerID != PeerIDNone || h.Len() != 1 {
		t.Fatalf("%+v", h)
	}
	for _, b := range [][]byte{nil, {0x48, 0}, {0x20, 0, 0, 0}} {
		if _, ok := ParseDataHeader(b); ok {
			t.Errorf("%x accepted", b)
		}
	}
}

func TestNextKeyID(t *testing.T) {
	want := []KeyID{1, 2, 3, 4, 5, 6, 7, 1}
	k := KeyID(0)
	for i, w := range want {
		k = NextKeyID(k)
		if k != w {
			t.Fatalf("step %d: %d, want %d", i, k, w)
		}
	}
}

func TestFrames(t *testing.T) {
	var stream []byte
	stream = AppendFrame(stream, []byte("hello"))
	stream = AppendFrame(stream, []byte{1})
	r := bytes.NewReader(stream)
	buf := make([]byte, 100)
	p, err := ReadFrame(r, buf)
	if err != nil || string(p) != "hello" {
		t.Fatal(p, err)
	}
	if p, err = ReadFrame(r, buf); err != nil || len(p) != 1 {
		t.Fatal(p, err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0}), buf); err != ErrFrameLength {
		t.Fatal(err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{1, 0}), buf); err != ErrFrameLength {
		t.Fatal(err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 5, 1}), buf); err == nil {
		t.Fatal("truncated frame accepted")
	}
}

func TestEarlyNeg(t *testing.T) {
	tlv := AppendEarlyNegFlags(nil, EarlyNegFlagResendWKC)
	if !bytes.Equal(tlv, unhex(t, "000100020001")) {
		t.Fatalf("%x", tlv)
	}
	f, err := EarlyNegFlags(append(unhex(t, "00070001ff"), tlv...))
	if err != nil || f != 1 {
		t.Fatal(f, err)
	}
	for _, h := range []string{"0001", "000100030001", "0001000100"} {
		if _, err := EarlyNegFlags(unhex(t, h)); err == nil {
			t.Errorf("%s accepted", h)
		}
	}
}

func TestKeyMethodRoundTrip(t *testing.T) {
	m := KeyMethodMessage{HasPreMast: true, Options: "V4,dev-type tun", Username: "alice", Password: "pw", PeerInfo: "IV_VER=2.6.14\n"}
	for i := range m.PreMaster {
		m.PreMaster[i] = byte(i)
	}
	m.Random1[0], m.Random2[31] = 7, 9
	b := AppendKeyMethod(nil, &m)
	got, err := ParseKeyMethod(b, true)
	if err != nil {
		t.Fatal(err)
	}
	m.HasUserPass = true
	if got != m {
		t.Fatalf("got %+v\nwant %+v", got, m)
	}
	// Server message: no pre-master, empty user/pass/peer-info.
	s := KeyMethodMessage{Options: "V4,dev-type tun,tls-server"}
	b = AppendKeyMethod(nil, &s)
	if len(b) != 5+64+2+len(s.Options)+1+6 {
		t.Fatalf("server message length %d", len(b))
	}
	if !bytes.HasSuffix(b, []byte{0, 0, 0, 0, 0, 0}) {
		t.Fatalf("%x", b)
	}
	if got, err := ParseKeyMethod(b, false); err != nil || got.Options != s.Options || got.HasUserPass {
		t.Fatal(got, err)
	}
	// Every truncation fails cleanly or parses a prefix.
	full := AppendKeyMethod(nil, &m)
	for i := 0; i < len(full); i++ {
		ParseKeyMethod(full[:i], true)
	}
	if _, err := ParseKeyMethod(append([]byte{0, 0, 0, 0, 1}, make([]byte, 200)...), true); err == nil {
		t.Fatal("key-method 1 accepted")
	}
}

func TestSplitControlMessages(t *testing.T) {
	var got []string
	bad := SplitControlMessages([]byte("PUSH_REQUEST\x00AUTH_FAILED,x\r\n\x00bad\x01msg\x00\x00tail"), func(m []byte) {
		got = append(got, string(m))
	})
	if len(got) != 2 || got[0] != "PUSH_REQUEST" || got[1] != "AUTH_FAILED,x" || bad != 2 {
		t.Fatalf("%q bad=%d", got, bad)
	}
}

func TestZeroAlloc(t *testing.T) {
	raw := unhex(t, "20c82bc323e8a493bf0100000000e93aab294c0ccf7900000001160301")
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		p, err := ParseControl(raw)
		if err != nil {
			t.Fatal(err)
		}
		buf = p.Append(buf[:0])
		h, _ := ParseDataHeader([]byte{0x48, 0, 0, 1})
		h.Put(buf[:4])
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}
