package ctlwrap

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

var t0 = time.Unix(1795300000, 0)

func testKey2() keys.Key2 {
	var k keys.Key2
	for i := range k {
		k[i] = byte(i*13 + 7)
	}
	return k
}

// testPlain is a plain P_CONTROL_V1 with one ack and a payload of n bytes.
func testPlain(n int) []byte {
	p := wire.ControlPacket{
		Opcode: wire.OpControlV1, SessionID: wire.SessionID{1, 2, 3, 4, 5, 6, 7, 8},
		NumAcks: 1, RemoteSessionID: wire.SessionID{9, 9, 9, 9, 9, 9, 9, 9}, MessageID: 3,
		Payload: bytes.Repeat([]byte{0xab}, n),
	}
	return p.Append(nil)
}

// pair is a sender and a receiver that talk to each other.
type pair struct {
	name     string
	tx, rx   Wrapper
	stateRx  Stateless // rx's stateless side, if any
	overhead int
}

func pairs(t testing.TB) []pair {
	k := testKey2()
	o := Options{Start: t0}
	var ps []pair
	for _, dn := range []string{"MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"} {
		d, err := ParseDigest(dn)
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := NewTLSAuth(&k, keys.Normal, d, o)
		rx, _ := NewTLSAuth(&k, keys.Inverse, d, o)
		ps = append(ps, pair{"tls-auth " + dn, tx, rx, rx, d.Size() + 8})
	}
	d, _ := ParseDigest("")
	tx, _ := NewTLSAuth(&k, keys.Bidirectional, d, o)
	rx, _ := NewTLSAuth(&k, keys.Bidirectional, d, o)
	ps = append(ps, pair{"tls-auth bidirectional", tx, rx, rx, 28})
	ctx, _ := NewTLSCrypt(&k, false, o)
	crx, _ := NewTLSCrypt(&k, true, o)
	ps = append(ps, pair{"tls-crypt", ctx, crx, crx, 40})
	ekm := bytes.Repeat([]byte{0x5a}, 256)
	dtx, _ := NewDynamicTLSCrypt(ekm, &k, true, o)
	drx, _ := NewDynamicTLSCrypt(ekm, &k, false, o)
	ps = append(ps, pair{"dynamic tls-crypt", dtx, drx, drx, 40})
	ps = append(ps, pair{"none", None{}, None{}, None{}, 0})
	return ps
}

func TestRoundTrip(t *testing.T) {
	for _, p := range pairs(t) {
		t.Run(p.name, func(t *testing.T) {
			if p.tx.Overhead() != p.overhead {
				t.Fatalf("Overhead %d, want %d", p.tx.Overhead(), p.overhead)
			}
			for _, n := range []int{-1, 0, 1, 15, 16, 17, 1200} {
				plain := testPlain(max(n, 0))
				if n < 0 {
					plain = plain[:wire.HeaderLen] // shortest wrappable
				}
				pkt, err := p.tx.Wrap(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				if len(pkt) != len(plain)+p.overhead {
					t.Fatalf("wrapped %d bytes into %d", len(plain), len(pkt))
				}
				got, err := p.rx.Unwrap([]byte("prefix"), pkt, t0)
				if err != nil {
					t.Fatalf("payload %d: %v", n, err)
				}
				if !bytes.Equal(got, append([]byte("prefix"), plain...)) {
					t.Fatalf("payload %d: round trip gave %x", n, got)
				}
				// In place.
				buf := append([]byte(nil), pkt...)
				got, err = p.stateRx.UnwrapStateless(buf[:0], buf)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("in-place unwrap: %v", err)
				}
			}
			if _, err := p.tx.Wrap(nil, make([]byte, wire.HeaderLen-1)); err == nil {
				t.Fatal("wrapped a packet without session id")
			}
		})
	}
}

func TestReplay(t *testing.T) {
	for _, p := range pairs(t) {
		if p.overhead == 0 {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			var pkts [][]byte
			for range 70 {
				pkt, err := p.tx.Wrap(nil, testPlain(10))
				if err != nil {
					t.Fatal(err)
				}
				pkts = append(pkts, pkt)
			}
			if _, err := p.rx.Unwrap(nil, pkts[5], t0); err != nil {
				t.Fatal(err)
			}
			if _, err := p.rx.Unwrap(nil, pkts[5], t0); !errors.Is(err, ErrReplay) {
				t.Fatalf("replayed packet: %v", err)
			}
			// Reordering within the window is fine.
			if _, err := p.rx.Unwrap(nil, pkts[2], t0); err != nil {
				t.Fatal(err)
			}
			if _, err := p.rx.Unwrap(nil, pkts[69], t0); err != nil {
				t.Fatal(err)
			}
			// More than 64 behind is too old.
			if _, err := p.rx.Unwrap(nil, pkts[3], t0); !errors.Is(err, ErrReplay) {
				t.Fatalf("packet 65 behind: %v", err)
			}
			// The stateless path ignores the window.
			if _, err := p.stateRx.UnwrapStateless(nil, pkts[5]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	k := testKey2()
	c, _ := NewTLSCrypt(&k, true, Options{Start: t0})
	pid := func() wire.WrapPID {
		pkt, err := c.Wrap(nil, testPlain(0))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := wire.ParseWrapPID(pkt[cryptOffPID:])
		return p
	}
	if p := pid(); p.ID != 1 || p.Time != uint32(t0.Unix()) {
		t.Fatalf("first pid %+v", p)
	}
	if p := pid(); p.ID != 2 {
		t.Fatalf("second pid %+v", p)
	}
	c.SetSendID(1) // stateless reset used 1
	if p := pid(); p.ID != 2 || c.SendPID().ID != 2 {
		t.Fatalf("after SetSendID(1): %+v", p)
	}
	c.SetSendID(math.MaxUint32)
	if _, err := c.Wrap(nil, testPlain(0)); !errors.Is(err, ErrPIDExhausted) {
		t.Fatalf("exhausted counter: %v", err)
	}
	// Early negotiation.
	srv, ck := v2Keys(t)
	_ = srv
	v2, _ := NewTLSCryptV2Client(&ck, true, Options{Start: t0})
	reset := wire.ControlPacket{Opcode: wire.OpControlHardResetClientV3, SessionID: wire.SessionID{1}}
	pkt, _ := v2.Wrap(nil, reset.Append(nil))
	if p, _ := wire.ParseWrapPID(pkt[cryptOffPID:]); p.ID != 0x0f000001 || !HasEarlyNegMarker(pkt) {
		t.Fatalf("early-neg pid %#x", p.ID)
	}
	v2, _ = NewTLSCryptV2Client(&ck, false, Options{Start: t0})
	pkt, _ = v2.Wrap(nil, reset.Append(nil))
	if p, _ := wire.ParseWrapPID(pkt[cryptOffPID:]); p.ID != 1 || HasEarlyNegMarker(pkt) {
		t.Fatalf("plain pid %#x", p.ID)
	}
}

// TestMACAndCTR checks our reusable HMAC and CTR against the standard
// library's.
func TestMACAndCTR(t *testing.T) {
	msg := bytes.Repeat([]byte("openvpn"), 50)
	for _, d := range digests {
		for _, kl := range []int{0, 20, 32, 64} {
			key := bytes.Repeat([]byte{0x42}, kl)
			var m macState
			m.init(d.new)
			m.setKey(key)
			for range 2 { // reusable
				m.reset()
				m.write(msg[:100])
				m.write(msg[100:])
				want := hmac.New(d.new, key)
				want.Write(msg)
				if !bytes.Equal(m.final(), want.Sum(nil)) {
					t.Fatalf("%s key %d: HMAC differs", d.name, kl)
				}
			}
		}
	}
	key := bytes.Repeat([]byte{7}, 32)
	b, _ := aes.NewCipher(key)
	iv := bytes.Repeat([]byte{0xff}, 16) // exercises the carry
	for _, n := range []int{0, 1, 16, 33, 1000} {
		src := msg[:min(n, len(msg))]
		want := make([]byte, len(src))
		cipher.NewCTR(b, iv).XORKeyStream(want, src)
		got := make([]byte, len(src))
		var s ctrState
		xorCTR(b, &s, iv, got, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("CTR of %d bytes differs", n)
		}
	}
}

func TestDynamicKey(t *testing.T) {
	k := testKey2()
	ekm := bytes.Repeat([]byte{0xff}, 256)
	d, err := DynamicKey(ekm, &k)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d {
		if d[i] != ^k[i] {
			t.Fatal("not EKM XOR key")
		}
	}
	if d, _ := DynamicKey(ekm, nil); !bytes.Equal(d[:], ekm) {
		t.Fatal("without wrapping the key is the EKM")
	}
	if _, err := DynamicKey(ekm[:255], nil); err == nil {
		t.Fatal("short EKM accepted")
	}
	// Server sends with keys[0] of the dynamic key: a plain tls-crypt
	// wrapper on the derived key interoperates.
	srv, _ := NewDynamicTLSCrypt(ekm, &k, true, Options{Start: t0})
	cli, _ := NewTLSCrypt(&d, false, Options{Start: t0})
	pkt, _ := srv.Wrap(nil, testPlain(5))
	if _, err := cli.Unwrap(nil, pkt, t0); err != nil {
		t.Fatal(err)
	}
}

func TestParseDigest(t *testing.T) {
	for in, want := range map[string]string{"": "SHA1", "sha256": "SHA256", "SHA-512": "SHA512", "SHA2-384": "SHA384", "md5": "MD5"} {
		d, err := ParseDigest(in)
		if err != nil || d.Name() != want {
			t.Errorf("ParseDigest(%q) = %v, %v", in, d.Name(), err)
		}
	}
	for _, bad := range []string{"none", "SHA3-256", "BLAKE2"} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) accepted", bad)
		}
	}
	k := testKey2()
	if _, err := NewTLSAuth(&k, keys.Normal, Digest{}, Options{}); err == nil {
		t.Error("zero Digest accepted")
	}
}
