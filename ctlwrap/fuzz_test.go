package ctlwrap

import (
	"bytes"
	"testing"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

// seedCapture adds every control packet of a capture to the corpus.
func seedCapture(f *testing.F, name string) {
	c := loadCapture(f, name)
	for _, p := range c.pkts {
		if op, _, _ := wire.PeekOpcode(p.Data); op.IsControl() {
			f.Add(p.Data)
		}
	}
}

// checkUnwrapped checks what every successful unwrap must give: a plain
// packet of at least opcode and session id, with the same first 9 bytes.
func checkUnwrapped(t *testing.T, pkt, plain []byte) {
	if len(plain) < wire.HeaderLen || !bytes.Equal(plain[:wire.HeaderLen], pkt[:wire.HeaderLen]) {
		t.Fatalf("unwrapped %x from %x", plain, pkt)
	}
}

func FuzzTLSAuthUnwrap(f *testing.F) {
	seedCapture(f, "tauth.pcap")
	k := taKey(f)
	d, _ := ParseDigest("SHA256")
	srv, _ := NewTLSAuth(&k, keys.Normal, d, Options{})
	cli, _ := NewTLSAuth(&k, keys.Inverse, d, Options{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, w := range []*TLSAuth{srv, cli} {
			plain, err := w.UnwrapStateless(nil, pkt)
			if err != nil {
				continue
			}
			checkUnwrapped(t, pkt, plain)
			if _, err := w.Unwrap(nil, pkt, t0); err != nil && err != errReplayed {
				t.Fatalf("stateless accepted, session refused: %v", err)
			}
		}
	})
}

func FuzzTLSCryptUnwrap(f *testing.F) {
	seedCapture(f, "tcrypt.pcap")
	k := taKey(f)
	srv, _ := NewTLSCrypt(&k, true, Options{})
	cli, _ := NewTLSCrypt(&k, false, Options{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, w := range []*TLSCrypt{srv, cli} {
			plain, err := w.UnwrapStateless(nil, pkt)
			if err != nil {
				continue
			}
			checkUnwrapped(t, pkt, plain)
			// Anything that unwraps wraps back to the same bytes.
			pid, _ := wire.ParseWrapPID(pkt[cryptOffPID:])
			other := cli
			if w == cli {
				other = srv
			}
			if again, err := other.WrapStateless(nil, plain, pid); err != nil || !bytes.Equal(again, pkt) {
				t.Fatalf("rewrap differs: %v", err)
			}
		}
	})
}

func FuzzTLSCryptV2ServerUnwrap(f *testing.F) {
	seedCapture(f, "tcv2.pcap")
	srv, _ := v2Keys(f)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var info ClientKeyInfo
		if plain, err := srv.UnwrapStateless(nil, pkt, &info); err == nil {
			checkUnwrapped(t, pkt, plain)
		}
		s := NewTLSCryptV2Server(srv, Options{})
		if plain, err := s.Unwrap(nil, pkt, t0); err == nil {
			checkUnwrapped(t, pkt, plain)
			if _, ok := s.ClientKey(); !ok {
				t.Fatal("unwrapped without a client key")
			}
		}
	})
}

func FuzzTLSCryptV2ClientUnwrap(f *testing.F) {
	seedCapture(f, "tcv2.pcap")
	_, ck := v2Keys(f)
	cli, _ := NewTLSCryptV2Client(&ck, true, Options{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if plain, err := cli.UnwrapStateless(nil, pkt); err == nil {
			checkUnwrapped(t, pkt, plain)
		}
	})
}

// FuzzWKc fuzzes the WKc parser: SplitWKc on whole packets and
// UnwrapClientKey on the WKc itself.
func FuzzWKc(f *testing.F) {
	srv, ck := v2Keys(f)
	f.Add(ck.WKc)
	f.Add(append([]byte{0x50}, ck.WKc...))
	c := loadCapture(f, "tcv2.pcap")
	f.Add(c.pkts[0].Data)
	f.Add(c.pkts[2].Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		if body, wkc, err := SplitWKc(b); err == nil {
			if len(body) < 1 || len(body)+len(wkc) != len(b) || len(wkc) > keys.TLSCryptV2MaxWKcLen {
				t.Fatalf("split %d into %d + %d", len(b), len(body), len(wkc))
			}
		}
		var info ClientKeyInfo
		if err := srv.UnwrapClientKey(b, &info); err == nil {
			again, err := srv.WrapClientKey(nil, &info.Kc, info.Metadata())
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("rewrapped WKc differs: %v", err)
			}
		} else if info != (ClientKeyInfo{}) {
			t.Fatal("info not zeroed after an error")
		}
	})
}

// FuzzRoundTrip wraps arbitrary plain packets with every wrapper and checks
// they unwrap to the same bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add(testPlain(0))
	f.Add(testPlain(100))
	ps := pairs(f)
	f.Fuzz(func(t *testing.T, plain []byte) {
		for _, p := range ps {
			pkt, err := p.tx.Wrap(nil, plain)
			if err != nil {
				if len(plain) >= wire.HeaderLen {
					t.Fatalf("%s: %v", p.name, err)
				}
				continue
			}
			got, err := p.stateRx.UnwrapStateless(nil, pkt)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%s: round trip %v", p.name, err)
			}
		}
	})
}
