package ctlwrap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

// unwrapper unwraps without state, so every attempt starts fresh.
type unwrapper struct {
	name   string
	pkts   [][]byte
	unwrap func(pkt []byte) error
}

// negativeCases returns, for every capture, the receiving side's stateless
// unwrap and the packets it must accept.
func negativeCases(t *testing.T) []unwrapper {
	k := taKey(t)
	sha256, _ := ParseDigest("SHA256")
	aSrv, _ := NewTLSAuth(&k, keys.Normal, sha256, Options{})
	aCli, _ := NewTLSAuth(&k, keys.Inverse, sha256, Options{})
	cSrv, _ := NewTLSCrypt(&k, true, Options{})
	cCli, _ := NewTLSCrypt(&k, false, Options{})
	v2srv, ck := v2Keys(t)
	v2cli, _ := NewTLSCryptV2Client(&ck, true, Options{})

	split := func(c capture) (fromClient, fromServer [][]byte) {
		for _, p := range c.pkts {
			if op, _, _ := wire.PeekOpcode(p.Data); !op.IsControl() {
				continue
			}
			if c.fromClient(p) {
				fromClient = append(fromClient, p.Data)
			} else {
				fromServer = append(fromServer, p.Data)
			}
		}
		return
	}
	ta, tas := split(loadCapture(t, "tauth.pcap"))
	tc, tcs := split(loadCapture(t, "tcrypt.pcap"))
	v2c, v2s := split(loadCapture(t, "tcv2.pcap"))
	var wkcPkts [][]byte
	for _, p := range v2c {
		if carriesWKc(p[0]) {
			wkcPkts = append(wkcPkts, p)
		}
	}
	stateless := func(s Stateless) func([]byte) error {
		return func(p []byte) error { _, err := s.UnwrapStateless(nil, p); return err }
	}
	return []unwrapper{
		{"tls-auth server", ta, stateless(aSrv)},
		{"tls-auth client", tas, stateless(aCli)},
		{"tls-crypt server", tc, stateless(cSrv)},
		{"tls-crypt client", tcs, stateless(cCli)},
		{"tls-crypt-v2 client", v2s, stateless(v2cli)},
		{"tls-crypt-v2 server stateless", wkcPkts, func(p []byte) error {
			var info ClientKeyInfo
			_, err := v2srv.UnwrapStateless(nil, p, &info)
			if err != nil && info != (ClientKeyInfo{}) {
				t.Fatal("client key left in info after an error")
			}
			return err
		}},
		{"tls-crypt-v2 server session", wkcPkts, func(p []byte) error {
			_, err := NewTLSCryptV2Server(v2srv, Options{}).Unwrap(nil, p, t0)
			return err
		}},
	}
}

// TestFlippedBits flips one bit in every byte of every captured packet: the
// result must never unwrap.
func TestFlippedBits(t *testing.T) {
	for _, c := range negativeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for n, pkt := range c.pkts {
				if err := c.unwrap(pkt); err != nil {
					t.Fatalf("packet %d does not unwrap: %v", n, err)
				}
				buf := make([]byte, len(pkt))
				for i := range pkt {
					copy(buf, pkt)
					buf[i] ^= 1 << (i % 8)
					if err := c.unwrap(buf); err == nil {
						t.Fatalf("packet %d with byte %d flipped unwrapped", n, i)
					}
				}
			}
		})
	}
}

// TestTruncated cuts every captured packet at every length: errors, no
// panics.
func TestTruncated(t *testing.T) {
	for _, c := range negativeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for n, pkt := range c.pkts {
				for l := range len(pkt) {
					if err := c.unwrap(pkt[:l]); err == nil {
						t.Fatalf("packet %d cut to %d bytes unwrapped", n, l)
					}
				}
			}
		})
	}
}

func TestSplitWKc(t *testing.T) {
	_, ck := v2Keys(t)
	pkt := append([]byte{0x50}, make([]byte, 53)...)
	pkt = append(pkt, ck.WKc...)
	body, wkc, err := SplitWKc(pkt)
	if err != nil || len(body) != 54 || !bytes.Equal(wkc, ck.WKc) {
		t.Fatalf("SplitWKc: %d %v", len(body), err)
	}
	// CVE-2026-35058: a length that would include the opcode byte is
	// refused, whatever the bytes look like.
	whole := append([]byte{0x50}, ck.WKc...)
	binary.BigEndian.PutUint16(whole[len(whole)-2:], uint16(len(whole)))
	if _, _, err := SplitWKc(whole); !errors.Is(err, ErrMalformed) {
		t.Fatalf("WKc covering the opcode: %v", err)
	}
	exact := append([]byte{0x50}, ck.WKc...) // only an opcode before the WKc
	if b, w, err := SplitWKc(exact); err != nil || len(b) != 1 || len(w) != len(ck.WKc) {
		t.Fatalf("opcode-only body: %v", err)
	}
	for _, l := range []int{0, 1, 2, keys.TLSCryptV2MinWKcLen - 1, keys.TLSCryptV2MaxWKcLen + 1, 0xffff} {
		b := make([]byte, 1100)
		binary.BigEndian.PutUint16(b[len(b)-2:], uint16(l))
		if _, _, err := SplitWKc(b); err == nil {
			t.Errorf("WKc length %d accepted", l)
		}
	}
	for _, b := range [][]byte{nil, {0x50}, {0x50, 0}} {
		if _, _, err := SplitWKc(b); err == nil {
			t.Errorf("SplitWKc(%x) accepted", b)
		}
	}
}

func TestV2ServerSession(t *testing.T) {
	srv, ck := v2Keys(t)
	c := loadCapture(t, "tcv2.pcap")
	// Packets without WKc before the key is known: ErrNoClientKey.
	s := NewTLSCryptV2Server(srv, Options{})
	if _, err := s.Unwrap(nil, c.pkts[6].Data, t0); !errors.Is(err, ErrNoClientKey) {
		t.Fatalf("P_CONTROL_V1 before key: %v", err)
	}
	if _, err := s.Wrap(nil, testPlain(1)); !errors.Is(err, ErrNoClientKey) {
		t.Fatalf("Wrap before key: %v", err)
	}
	// A valid WKc on a body that does not authenticate is not adopted.
	bad := append([]byte(nil), c.pkts[0].Data...)
	bad[30] ^= 1
	if _, err := s.Unwrap(nil, bad, t0); !errors.Is(err, ErrAuth) {
		t.Fatalf("corrupted body: %v", err)
	}
	if _, ok := s.ClientKey(); ok {
		t.Fatal("client key adopted from a packet that failed")
	}
	// Once adopted, a later WKc is ignored (even a broken one) and the
	// packet is handled as P_CONTROL_V1 would be.
	if _, err := s.Unwrap(nil, c.pkts[0].Data, t0); err != nil {
		t.Fatal(err)
	}
	third := append([]byte(nil), c.pkts[2].Data...)
	third[len(third)-100] ^= 1 // inside the WKc
	if _, err := s.Unwrap(nil, third, t0); err != nil {
		t.Fatalf("retransmitted WKc: %v", err)
	}
	// A session created from the stateless handshake.
	var info ClientKeyInfo
	if _, err := srv.UnwrapStateless(nil, c.pkts[0].Data, &info); err != nil {
		t.Fatal(err)
	}
	s2 := NewTLSCryptV2Server(srv, Options{})
	s2.SetSendID(1) // the stateless reset went out with pid 1
	if err := s2.SetClientKey(&info); err != nil {
		t.Fatal(err)
	}
	if err := s2.SetClientKey(&info); err == nil {
		t.Fatal("second SetClientKey accepted")
	}
	cli, _ := NewTLSCryptV2Client(&ck, true, Options{})
	pkt, err := s2.Wrap(nil, testPlain(3))
	if err != nil {
		t.Fatal(err)
	}
	if pid, _ := wire.ParseWrapPID(pkt[cryptOffPID:]); pid.ID != 2 {
		t.Fatalf("first session pid %d, want 2", pid.ID)
	}
	if _, err := cli.Unwrap(nil, pkt, t0); err != nil {
		t.Fatal(err)
	}
	// And the other way round: the client's packets reach the session.
	pkt, _ = cli.Wrap(nil, testPlain(3))
	if _, err := s2.Unwrap(nil, pkt, t0); err != nil {
		t.Fatal(err)
	}
	// A foreign server key cannot unwrap the WKc.
	other, _ := NewV2ServerKey(&keys.Key{})
	if err := other.UnwrapClientKey(ck.WKc, &info); !errors.Is(err, ErrAuth) {
		t.Fatalf("foreign server key: %v", err)
	}
}

func TestWKcLimits(t *testing.T) {
	srv, _ := v2Keys(t)
	kc := testKey2()
	for _, n := range []int{0, 1, 9, keys.TLSCryptV2MaxMetadataLen} {
		md := bytes.Repeat([]byte{0xee}, n)
		wkc, err := srv.WrapClientKey(nil, &kc, md)
		if err != nil || len(wkc) != keys.TLSCryptV2MinWKcLen+n {
			t.Fatalf("metadata %d: %d bytes, %v", n, len(wkc), err)
		}
		var info ClientKeyInfo
		if err := srv.UnwrapClientKey(wkc, &info); err != nil || info.Kc != kc || !bytes.Equal(info.Metadata(), md) {
			t.Fatalf("metadata %d: unwrap %v", n, err)
		}
		if _, _, ok := info.MetadataType(); ok != (n > 0) {
			t.Fatalf("metadata %d: MetadataType ok=%v", n, ok)
		}
	}
	if _, err := srv.WrapClientKey(nil, &kc, make([]byte, keys.TLSCryptV2MaxMetadataLen+1)); err == nil {
		t.Fatal("oversized metadata wrapped")
	}
	if _, err := UserMetadata(make([]byte, keys.TLSCryptV2MaxMetadataLen)); err == nil {
		t.Fatal("oversized user metadata accepted")
	}
	md, err := UserMetadata([]byte("hi"))
	if err != nil || !bytes.Equal(md, []byte{0, 'h', 'i'}) {
		t.Fatalf("UserMetadata %x %v", md, err)
	}
	if md := TimestampMetadata(t0); len(md) != 9 || md[0] != 1 || binary.BigEndian.Uint64(md[1:]) != uint64(t0.Unix()) {
		t.Fatalf("TimestampMetadata %x", md)
	}
	var info ClientKeyInfo
	big := make([]byte, keys.TLSCryptV2MaxWKcLen+1)
	binary.BigEndian.PutUint16(big[len(big)-2:], uint16(len(big)))
	if err := srv.UnwrapClientKey(big, &info); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized WKc: %v", err)
	}
}
