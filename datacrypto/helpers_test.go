package datacrypto

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/wire"
)

// unhex decodes hex with optional spaces and newlines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// sealBuffer returns a buffer following the Seal convention with payload at
// offset Headroom and exactly Tailroom spare capacity.
func sealBuffer(payload []byte) []byte {
	buf := make([]byte, Headroom+len(payload), Headroom+len(payload)+Tailroom)
	copy(buf[Headroom:], payload)
	return buf
}

func mustSuite(t testing.TB, cipher, auth string) Suite {
	t.Helper()
	s, err := NewSuite(cipher, auth)
	if err != nil {
		t.Fatalf("NewSuite(%q, %q): %v", cipher, auth, err)
	}
	return s
}

func mustKey(t testing.TB, s Suite, role Role, key2 *[KeyBlockLen]byte) *Key {
	t.Helper()
	k, err := NewKey(Config{Suite: s, Role: role}, key2)
	if err != nil {
		t.Fatalf("NewKey(%v, %v): %v", s, role, err)
	}
	return k
}

// testKey2 returns a deterministic key2 block derived from seed.
func testKey2(seed byte) *[KeyBlockLen]byte {
	var k [KeyBlockLen]byte
	for i := range k {
		k[i] = byte(i*7+13) ^ seed
	}
	return &k
}

// keyPair returns a client key and a server key over the same key2 block.
func keyPair(t testing.TB, s Suite, seed byte) (cli, srv *Key) {
	t.Helper()
	k2 := testKey2(seed)
	return mustKey(t, s, RoleClient, k2), mustKey(t, s, RoleServer, k2)
}

var (
	hdrV2 = wire.DataHeader{Opcode: wire.OpDataV2, KeyID: 0, PeerID: 0}
	hdrV1 = wire.DataHeader{Opcode: wire.OpDataV1, KeyID: 0, PeerID: wire.PeerIDNone}
)

// allSuites lists every supported cipher/auth combination.
func allSuites(t testing.TB) []Suite {
	t.Helper()
	var out []Suite
	for _, c := range append(Ciphers(), "none") {
		info, err := LookupCipher(c)
		if err != nil {
			t.Fatal(err)
		}
		if info.AEAD {
			out = append(out, mustSuite(t, c, ""))
			continue
		}
		for _, a := range Auths() {
			out = append(out, mustSuite(t, c, a))
		}
	}
	return out
}
