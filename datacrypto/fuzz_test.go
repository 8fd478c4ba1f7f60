package datacrypto

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
	"github.com/openvpn-go/openvpn-go/internal/vectors"
	"github.com/openvpn-go/openvpn-go/wire"
)

// fuzzKey2 returns a key2 block whose client→server half is the key of the
// given capture's first key (protocol-data-channel.md §3.6 or §5.5), so
// that the captured client→server packets of key_id 0 authenticate.
func fuzzKey2(t testing.TB, cbc bool) *[KeyBlockLen]byte {
	k2 := testKey2(0x5a)
	if cbc {
		copy(k2[0:], unhex(t, "f683bbefd1a7d891f132a9ca600e47f0eaf1ff9961d6c7a0461f580733d130fa"))
		copy(k2[64:], unhex(t, "efe06a26fe0c0abcefc975d6d68b77bc17c3a952f48d229c7a24b2a62911c1d8"))
	} else {
		copy(k2[0:], unhex(t, "175ea28740aa85b12a759ae93074fa6509d52812cf296f718667270d727626df"))
		copy(k2[64:], unhex(t, "238cc8687c9f589a"))
	}
	return k2
}

// addCaptureSeeds adds the data packets of a capture, if the shared test
// material is present (fuzzing must not depend on it).
func addCaptureSeeds(f *testing.F, name string) {
	root := vectors.Root()
	if root == "" {
		return
	}
	path := filepath.Join(root, "testvectors/openvpn-2.6.14", name)
	if _, err := os.Stat(path); err != nil {
		return
	}
	pkts, err := pcap.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range pkts {
		if op, _, _ := wire.PeekOpcode(p.Data); op.IsData() {
			f.Add(p.Data)
		}
	}
}

func fuzzOpen(f *testing.F, cipherName, auth, capture string) {
	s := mustSuite(f, cipherName, auth)
	k2 := fuzzKey2(f, s.cipher.kind == kindCBC)
	cli := mustKey(f, s, RoleClient, k2)
	srv := mustKey(f, s, RoleServer, k2)
	for _, n := range []int{1, 16, 17, 100} {
		for _, hdr := range []wire.DataHeader{hdrV1, hdrV2} {
			p, err := cli.Seal(hdr, sealBuffer(payloadOf(n, 1)), Headroom)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(bytes.Clone(p))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x48})
	f.Add([]byte{0x30, 0, 0, 0, 1})
	if capture != "" {
		addCaptureSeeds(f, capture)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		orig := bytes.Clone(pkt)
		pt, pid, err := srv.Open(pkt)
		if err != nil {
			return
		}
		// Whatever opens must be exactly what our sealer produces for the
		// same header, packet-id (and CBC IV).
		hdr, ok := wire.ParseDataHeader(orig)
		if !ok {
			t.Fatalf("opened a packet without a data header: %x", orig)
		}
		var iv []byte
		if s.cipher.kind == kindCBC {
			iv = orig[hdr.Len()+s.auth.Size:][:cbcBlock]
		}
		if len(pt) == 0 && s.cipher.AEAD {
			t.Fatalf("opened an empty AEAD payload: %x", orig)
		}
		again := cli.sealID(hdr, sealBuffer(pt), Headroom, pid, iv)
		if !bytes.Equal(again, orig) {
			t.Fatalf("opened %x but sealing its plaintext gives %x", orig, again)
		}
	})
}

func FuzzOpenAESGCM(f *testing.F)   { fuzzOpen(f, "AES-256-GCM", "", "dc.pcap") }
func FuzzOpenChaCha20(f *testing.F) { fuzzOpen(f, "CHACHA20-POLY1305", "", "") }
func FuzzOpenAESCBC(f *testing.F)   { fuzzOpen(f, "AES-256-CBC", "SHA256", "dc2.pcap") }
func FuzzOpenNone(f *testing.F)     { fuzzOpen(f, "none", "SHA1", "") }

// FuzzRoundTrip seals arbitrary payloads under arbitrary headers with every
// suite and checks they open to the same bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), false, uint8(0), uint32(0), []byte("hello"))
	f.Add(uint8(4), true, uint8(7), uint32(0xFFFFFF), bytes.Repeat([]byte{0xfa}, 33))
	suites := allSuites(f)
	keys := make([][2]*Key, len(suites))
	for i, s := range suites {
		c, sv := keyPair(f, s, 1)
		keys[i] = [2]*Key{c, sv}
	}
	f.Fuzz(func(t *testing.T, which uint8, v2 bool, kid uint8, peer uint32, payload []byte) {
		i := int(which) % len(suites)
		if len(payload) == 0 && suites[i].cipher.AEAD {
			return
		}
		hdr := wire.DataHeader{Opcode: wire.OpDataV1, KeyID: wire.KeyID(kid & 7), PeerID: wire.PeerIDNone}
		if v2 {
			hdr = wire.DataHeader{Opcode: wire.OpDataV2, KeyID: wire.KeyID(kid & 7), PeerID: peer & wire.PeerIDNone}
		}
		pkt, err := keys[i][0].Seal(hdr, sealBuffer(payload), Headroom)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, err := keys[i][1].Open(pkt)
		if err != nil || !bytes.Equal(pt, payload) {
			t.Fatalf("%v: round trip: %v", suites[i], err)
		}
	})
}
