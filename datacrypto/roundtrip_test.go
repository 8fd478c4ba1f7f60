package datacrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/race"
	"github.com/openvpn-go/openvpn-go/replay"
	"github.com/openvpn-go/openvpn-go/wire"
)

var epoch = time.Unix(1_700_000_000, 0)

func payloadOf(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i) ^ seed
	}
	return p
}

// TestRoundTrip seals and opens every suite, in both directions, with V1 and
// V2 headers, every key_id and several peer-ids and payload sizes. It also
// checks that Seal and Open stay inside their documented buffer areas.
func TestRoundTrip(t *testing.T) {
	const guard = 32
	sizes := []int{0, 1, 11, 12, 15, 16, 17, 31, 32, 100, 1400, 8192}
	for _, s := range allSuites(t) {
		t.Run(s.String(), func(t *testing.T) {
			cli, srv := keyPair(t, s, 7)
			var hdrs []wire.DataHeader
			for kid := wire.KeyID(0); kid < 8; kid++ {
				hdrs = append(hdrs, wire.DataHeader{Opcode: wire.OpDataV1, KeyID: kid, PeerID: wire.PeerIDNone})
				for _, peer := range []uint32{0, 1, 0x123456, wire.PeerIDNone} {
					hdrs = append(hdrs, wire.DataHeader{Opcode: wire.OpDataV2, KeyID: kid, PeerID: peer})
				}
			}
			wantPID := map[*Key]uint32{cli: 0, srv: 0}
			i := 0
			for _, hdr := range hdrs {
				for _, n := range sizes {
					if n == 0 && s.cipher.AEAD {
						continue
					}
					i++
					from, to := cli, srv
					if i%2 == 0 {
						from, to = srv, cli
					}
					payload := payloadOf(n, byte(i))
					// Backing array with guard bytes around the allowed area.
					off := Headroom + 5
					back := bytes.Repeat([]byte{0xEE}, guard+off+n+Tailroom+guard)
					buf := back[guard : guard+off+n : guard+off+n+Tailroom]
					copy(buf[off:], payload)
					pkt, err := from.Seal(hdr, buf, off)
					if err != nil {
						t.Fatalf("Seal(%+v, %d bytes): %v", hdr, n, err)
					}
					wantPID[from]++
					for j := 0; j < guard+off-Headroom; j++ {
						if back[j] != 0xEE {
							t.Fatalf("Seal wrote %d bytes before the headroom", guard+off-Headroom-j)
						}
					}
					for j := guard + off + n + Tailroom; j < len(back); j++ {
						if back[j] != 0xEE {
							t.Fatalf("Seal wrote beyond the tailroom")
						}
					}
					if len(pkt) != n+s.Overhead(hdr.Len(), n) {
						t.Fatalf("len(pkt) = %d, want %d", len(pkt), n+s.Overhead(hdr.Len(), n))
					}
					if got, ok := wire.ParseDataHeader(pkt); !ok || got != hdr {
						t.Fatalf("packet header %+v, want %+v", got, hdr)
					}
					// Open a copy that has guard bytes behind it in its capacity.
					in := append(bytes.Clone(pkt), bytes.Repeat([]byte{0xEE}, guard)...)
					in = in[:len(pkt)]
					pt, pid, err := to.Open(in)
					if err != nil {
						t.Fatalf("Open(%+v, %d bytes): %v", hdr, n, err)
					}
					if !bytes.Equal(pt, payload) || pid != wantPID[from] {
						t.Fatalf("Open = %d bytes pid %d, want %d bytes pid %d", len(pt), pid, n, wantPID[from])
					}
					if !bytes.Equal(in[len(pkt):len(pkt)+guard], bytes.Repeat([]byte{0xEE}, guard)) {
						t.Fatal("Open wrote beyond len(pkt)")
					}
					if !to.Replay(pid, epoch) {
						t.Fatalf("Replay(%d) rejected a fresh pid", pid)
					}
					if to.Replay(pid, epoch) {
						t.Fatalf("Replay(%d) accepted a replayed pid", pid)
					}
				}
			}
			if cli.SentID() != uint64(wantPID[cli]) {
				t.Fatalf("SentID = %d, want %d", cli.SentID(), wantPID[cli])
			}
		})
	}
}

// mayFlip reports whether flipping bit b of byte i of a packet may still
// open: only AEAD with P_DATA_V2 authenticates the header; otherwise the
// key_id bits of the opcode byte and the peer-id are not covered. (Flipping
// an opcode bit never turns one data opcode into the other.)
func mayFlip(s Suite, v2 bool, i, b int) bool {
	if s.cipher.AEAD && v2 {
		return false
	}
	if i == 0 {
		return b < 3
	}
	return v2 && i < wire.DataV2HeaderLen
}

func TestTamper(t *testing.T) {
	for _, s := range allSuites(t) {
		t.Run(s.String(), func(t *testing.T) {
			cli, srv := keyPair(t, s, 3)
			_, other := keyPair(t, s, 4)
			for _, hdr := range []wire.DataHeader{hdrV1, {Opcode: wire.OpDataV2, KeyID: 5, PeerID: 0xABCDEF}} {
				payload := payloadOf(21, 9)
				pkt, err := cli.Seal(hdr, sealBuffer(payload), Headroom)
				if err != nil {
					t.Fatal(err)
				}
				v2 := hdr.Opcode == wire.OpDataV2
				// Every single-bit flip.
				for i := range pkt {
					for b := 0; b < 8; b++ {
						in := bytes.Clone(pkt)
						in[i] ^= 1 << b
						pt, _, err := srv.Open(in)
						if mayFlip(s, v2, i, b) {
							if err != nil || !bytes.Equal(pt, payload) {
								t.Fatalf("flip byte %d bit %d of unauthenticated header: %v", i, b, err)
							}
							continue
						}
						if err == nil {
							t.Fatalf("flip byte %d bit %d: opened", i, b)
						}
						if i > 0 && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformed) {
							t.Fatalf("flip byte %d bit %d: error %v", i, b, err)
						}
					}
				}
				// Every truncation.
				for l := 0; l < len(pkt); l++ {
					if _, _, err := srv.Open(bytes.Clone(pkt[:l])); err == nil {
						t.Fatalf("truncated to %d of %d bytes: opened", l, len(pkt))
					}
				}
				// Appended garbage.
				if _, _, err := srv.Open(append(bytes.Clone(pkt), 0)); err == nil {
					t.Fatal("packet with a trailing byte opened")
				}
				// Wrong key, wrong direction.
				if _, _, err := other.Open(bytes.Clone(pkt)); !errors.Is(err, ErrAuth) {
					t.Fatalf("wrong key: %v", err)
				}
				if _, _, err := cli.Open(bytes.Clone(pkt)); !errors.Is(err, ErrAuth) {
					t.Fatalf("own direction: %v", err)
				}
				// Not a data packet.
				in := bytes.Clone(pkt)
				in[0] = wire.OpcodeByte(wire.OpControlV1, 0)
				if _, _, err := srv.Open(in); !errors.Is(err, ErrNotData) {
					t.Fatalf("control opcode: %v", err)
				}
			}
		})
	}
}

// TestAEADWrongAD checks that the received header bytes are the AD: a V2
// packet re-labelled as another peer-id does not open (minivpn's bug was
// building the AD from local state).
func TestAEADWrongAD(t *testing.T) {
	for _, c := range []string{"AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "CHACHA20-POLY1305"} {
		cli, srv := keyPair(t, mustSuite(t, c, ""), 1)
		pkt, err := cli.Seal(wire.DataHeader{Opcode: wire.OpDataV2, PeerID: 7}, sealBuffer([]byte("x")), Headroom)
		if err != nil {
			t.Fatal(err)
		}
		in := bytes.Clone(pkt)
		in[3] = 8
		if _, _, err := srv.Open(in); !errors.Is(err, ErrAuth) {
			t.Fatalf("%s: peer-id changed: %v", c, err)
		}
		// Same bytes with the V2 header removed and a V1 opcode: AD differs.
		v1 := append([]byte{wire.OpcodeByte(wire.OpDataV1, 0)}, pkt[4:]...)
		if _, _, err := srv.Open(v1); !errors.Is(err, ErrAuth) {
			t.Fatalf("%s: V2 body under a V1 header: %v", c, err)
		}
	}
}

// TestEmptyAEADPayload: OpenVPN never accepts an AEAD packet without
// payload; Seal refuses to make one and Open refuses to open one.
func TestEmptyAEADPayload(t *testing.T) {
	s := mustSuite(t, "AES-256-GCM", "")
	cli, srv := keyPair(t, s, 1)
	if _, err := cli.Seal(hdrV2, sealBuffer(nil), Headroom); !errors.Is(err, ErrBuffer) {
		t.Fatalf("Seal(empty) = %v, want ErrBuffer", err)
	}
	if cli.SentID() != 0 {
		t.Fatal("refused Seal consumed a packet-id")
	}
	// A well-formed empty packet made with the raw primitive.
	var key2 = testKey2(1)
	b, _ := aes.NewCipher(key2[:32])
	g, _ := cipher.NewGCM(b)
	pkt := []byte{0x48, 0, 0, 0, 0, 0, 0, 1}
	nonce := append([]byte{0, 0, 0, 1}, key2[64:72]...)
	tag := g.Seal(nil, nonce, nil, pkt[:8])
	pkt = append(pkt, tag...)
	if _, _, err := srv.Open(pkt); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Open(empty payload) = %v, want ErrMalformed", err)
	}
}

// TestCBCBadPadding builds packets with a valid HMAC around plaintext whose
// padding is wrong: they authenticate but must still be rejected.
func TestCBCBadPadding(t *testing.T) {
	s := mustSuite(t, "AES-256-CBC", "SHA256")
	key2 := testKey2(2)
	srv := mustKey(t, s, RoleServer, key2)
	b, _ := aes.NewCipher(key2[:32])
	build := func(pt []byte) []byte {
		iv := bytes.Repeat([]byte{0x42}, 16)
		ct := make([]byte, len(pt))
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, pt)
		m := hmac.New(s.auth.new, key2[64:96])
		m.Write(iv)
		m.Write(ct)
		pkt := []byte{0x48, 0, 0, 0}
		pkt = m.Sum(pkt)
		pkt = append(pkt, iv...)
		return append(pkt, ct...)
	}
	good := append([]byte{0, 0, 0, 9}, bytes.Repeat([]byte{12}, 12)...) // empty payload
	pt, pid, err := srv.Open(build(good))
	if err != nil || len(pt) != 0 || pid != 9 {
		t.Fatalf("valid empty CBC packet: %x %d %v", pt, pid, err)
	}
	for _, last := range [][]byte{
		append([]byte{0, 0, 0, 1}, bytes.Repeat([]byte{0}, 12)...),     // pad 0
		append([]byte{0, 0, 0, 1}, bytes.Repeat([]byte{17}, 12)...),    // pad > block
		append([]byte{0, 0, 0, 1}, bytes.Repeat([]byte{13}, 12)...),    // pad eats the pid
		append([]byte{0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 2}, 3), // inconsistent
	} {
		if _, _, err := srv.Open(build(last)); !errors.Is(err, ErrMalformed) {
			t.Errorf("plaintext %x: %v, want ErrMalformed", last, err)
		}
	}
	// Ciphertext that is not a whole number of blocks.
	pkt := build(good)
	if _, _, err := srv.Open(append(pkt, 1, 2, 3)); !errors.Is(err, ErrMalformed) {
		t.Errorf("partial block: %v", err)
	}
}

func TestSealBufferErrors(t *testing.T) {
	s := mustSuite(t, "AES-128-CBC", "SHA1")
	cli, _ := keyPair(t, s, 1)
	ok := sealBuffer([]byte("hello"))
	tests := []struct {
		name string
		hdr  wire.DataHeader
		buf  []byte
		off  int
	}{
		{"offset below headroom", hdrV2, ok, Headroom - 1},
		{"offset beyond len", hdrV2, ok, len(ok) + 1},
		{"negative offset", hdrV2, ok, -1},
		{"no tailroom", hdrV2, ok[: len(ok) : len(ok)+Tailroom-1], Headroom},
		{"control opcode", wire.DataHeader{Opcode: wire.OpControlV1}, ok, Headroom},
		{"key id 8", wire.DataHeader{Opcode: wire.OpDataV2, KeyID: 8}, ok, Headroom},
		{"peer id 2^24", wire.DataHeader{Opcode: wire.OpDataV2, PeerID: 1 << 24}, ok, Headroom},
	}
	for _, tc := range tests {
		if _, err := cli.Seal(tc.hdr, tc.buf, tc.off); !errors.Is(err, ErrBuffer) {
			t.Errorf("%s: Seal error %v, want ErrBuffer", tc.name, err)
		}
		if err := cli.SealBatch(tc.hdr, [][]byte{sealBuffer([]byte("x")), tc.buf}, tc.off, make([][]byte, 2)); !errors.Is(err, ErrBuffer) {
			t.Errorf("%s: SealBatch error %v, want ErrBuffer", tc.name, err)
		}
	}
	if err := cli.SealBatch(hdrV2, [][]byte{ok}, Headroom, nil); !errors.Is(err, ErrBuffer) {
		t.Errorf("SealBatch with short pkts: %v", err)
	}
	if cli.SentID() != 0 {
		t.Fatalf("refused seals consumed %d packet-ids", cli.SentID())
	}
}

func TestPacketIDLimits(t *testing.T) {
	for _, s := range allSuites(t) {
		cli, _ := keyPair(t, s, 1)
		if cli.NeedsRenegotiation() {
			t.Fatalf("%v: fresh key needs renegotiation", s)
		}
		cli.sent.Store(RenegotiatePacketID - 2)
		for i, want := range []bool{false, true, true} {
			if _, err := cli.Seal(hdrV2, sealBuffer([]byte("a")), Headroom); err != nil {
				t.Fatal(err)
			}
			if got := cli.NeedsRenegotiation(); got != want {
				t.Fatalf("%v: after sending id %#x NeedsRenegotiation = %v", s, RenegotiatePacketID-1+i, got)
			}
		}
	}
	s := mustSuite(t, "AES-256-GCM", "")
	cli, srv := keyPair(t, s, 1)
	cli.sent.Store(MaxPacketID - 1)
	pkt, err := cli.Seal(hdrV2, sealBuffer([]byte("last")), Headroom)
	if err != nil {
		t.Fatalf("Seal of id 0xFFFFFFFF: %v", err)
	}
	if _, pid, err := srv.Open(pkt); err != nil || pid != MaxPacketID {
		t.Fatalf("Open last = pid %#x, %v", pid, err)
	}
	if _, err := cli.Seal(hdrV2, sealBuffer([]byte("over")), Headroom); !errors.Is(err, ErrPacketIDExhausted) {
		t.Fatalf("Seal after 0xFFFFFFFF: %v", err)
	}
	if err := cli.SealBatch(hdrV2, [][]byte{sealBuffer([]byte("x"))}, Headroom, make([][]byte, 1)); !errors.Is(err, ErrPacketIDExhausted) {
		t.Fatalf("SealBatch after 0xFFFFFFFF: %v", err)
	}
	// Replay rejects id 0 (never valid on the wire).
	if srv.Replay(0, epoch) {
		t.Fatal("Replay accepted pid 0")
	}
}

func TestReplayWindow(t *testing.T) {
	s := mustSuite(t, "AES-256-GCM", "")
	k, err := NewKey(Config{Suite: s, Role: RoleServer, ReplayWindow: 4, ReplayBacktrack: 2 * time.Second}, testKey2(1))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		pid  uint32
		at   time.Duration
		want bool
	}{
		{1, 0, true}, {3, 0, true}, {2, 0, true}, {2, 0, false}, {3, 0, false},
		{10, 0, true}, {6, 0, false}, // more than 4 below the highest
		{9, 0, true}, {8, 10 * time.Second, false}, // too late (time backtrack)
		{11, 10 * time.Second, true},
	}
	for i, st := range steps {
		if got := k.Replay(st.pid, epoch.Add(st.at)); got != st.want {
			t.Fatalf("step %d: Replay(%d) = %v, want %v", i, st.pid, got, st.want)
		}
	}
}

func TestNewKeyErrors(t *testing.T) {
	s := mustSuite(t, "AES-256-GCM", "")
	if _, err := NewKey(Config{Suite: s}, nil); err == nil {
		t.Error("nil key2 accepted")
	}
	if _, err := NewKey(Config{}, testKey2(1)); !errors.Is(err, ErrUnsupportedCipher) {
		t.Errorf("zero Suite: %v", err)
	}
	if _, err := NewKey(Config{Suite: s, Role: 7}, testKey2(1)); err == nil {
		t.Error("invalid role accepted")
	}
	for _, c := range []Config{
		{Suite: s, ReplayWindow: -1},
		{Suite: s, ReplayWindow: replay.MaxSize + 1},
		{Suite: s, ReplayBacktrack: -time.Second},
		{Suite: s, ReplayBacktrack: replay.MaxBacktrack + time.Second},
	} {
		if _, err := NewKey(c, testKey2(1)); err == nil {
			t.Errorf("replay window %d/%v accepted", c.ReplayWindow, c.ReplayBacktrack)
		}
	}
}

// TestReplayDefaults: the zero Config gives OpenVPN's default window of 64.
func TestReplayDefaults(t *testing.T) {
	k := mustKey(t, mustSuite(t, "AES-256-GCM", ""), RoleServer, testKey2(1))
	for _, st := range []struct {
		pid  uint32
		want bool
	}{{100, true}, {37, true}, {36, false}, {99, true}, {99, false}} {
		if got := k.Replay(st.pid, epoch); got != st.want {
			t.Fatalf("Replay(%d) = %v, want %v", st.pid, got, st.want)
		}
	}
}

// TestKeySlicing checks which bytes of key2 each role and cipher use.
func TestKeySlicing(t *testing.T) {
	for _, s := range allSuites(t) {
		base := testKey2(5)
		cli := mustKey(t, s, RoleClient, base)
		pkt, err := cli.Seal(hdrV2, sealBuffer([]byte("payload")), Headroom)
		if err != nil {
			t.Fatal(err)
		}
		used := func(i int) bool {
			slot, off := i/128, i%128
			if slot != 0 {
				return false // client→server uses keys[0] only
			}
			if off < 64 {
				return off < s.cipher.KeySize
			}
			if s.cipher.AEAD {
				return off-64 < implicitLen
			}
			return off-64 < s.auth.Size
		}
		for _, i := range []int{0, 15, 16, 23, 24, 31, 32, 63, 64, 71, 72, 83, 84, 95, 96, 111, 112, 127, 128, 200, 255} {
			k2 := *base
			k2[i] ^= 0x80
			srv := mustKey(t, s, RoleServer, &k2)
			// A wrong CBC cipher key is only noticed by the padding check
			// (the HMAC key is separate), so compare the plaintext too.
			pt, _, err := srv.Open(bytes.Clone(pkt))
			failed := err != nil || string(pt) != "payload"
			if used(i) != failed {
				t.Errorf("%v: changing key2[%d]: Open = %q, %v; byte used = %v", s, i, pt, err, used(i))
			}
		}
	}
}

// TestConcurrent seals from many goroutines on one Key (and SealBatch from
// some) and opens in parallel; every packet-id must be handed out exactly
// once. Run with -race.
func TestConcurrent(t *testing.T) {
	for _, c := range []string{"AES-256-GCM", "CHACHA20-POLY1305", "AES-256-CBC", "none"} {
		t.Run(c, func(t *testing.T) {
			s := mustSuite(t, c, "SHA256")
			cli, srv := keyPair(t, s, 11)
			const workers, per = 8, 200
			pkts := make(chan []byte, workers*per)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					if w%2 == 0 {
						for i := 0; i < per; i += 4 {
							bufs := make([][]byte, 4)
							for j := range bufs {
								bufs[j] = sealBuffer(payloadOf(64+w, byte(w)))
							}
							if err := cli.SealBatch(hdrV2, bufs, Headroom, bufs); err != nil {
								t.Error(err)
								return
							}
							for _, b := range bufs {
								pkts <- b
							}
						}
						return
					}
					for range per {
						p, err := cli.Seal(hdrV2, sealBuffer(payloadOf(64+w, byte(w))), Headroom)
						if err != nil {
							t.Error(err)
							return
						}
						pkts <- p
					}
				})
			}
			wg.Wait()
			close(pkts)
			var mu sync.Mutex
			seen := make(map[uint32]bool)
			var owg sync.WaitGroup
			for range workers {
				owg.Go(func() {
					for p := range pkts {
						pt, pid, err := srv.Open(p)
						if err != nil {
							t.Error(err)
							return
						}
						w := len(pt) - 64
						if !bytes.Equal(pt, payloadOf(64+w, byte(w))) {
							t.Errorf("pid %d: wrong payload", pid)
						}
						mu.Lock()
						if seen[pid] {
							t.Errorf("pid %d handed out twice", pid)
						}
						seen[pid] = true
						mu.Unlock()
					}
				})
			}
			owg.Wait()
			if len(seen) != workers*per || cli.SentID() != workers*per {
				t.Fatalf("%d distinct pids, SentID %d; want %d", len(seen), cli.SentID(), workers*per)
			}
			for id := uint32(1); id <= workers*per; id++ {
				if !seen[id] {
					t.Fatalf("pid %d missing", id)
				}
			}
		})
	}
}

// TestSealBatchOrder: a batch gets consecutive ids in slice order.
func TestSealBatchOrder(t *testing.T) {
	cli, srv := keyPair(t, mustSuite(t, "AES-128-GCM", ""), 1)
	if _, err := cli.Seal(hdrV1, sealBuffer([]byte("first")), Headroom); err != nil {
		t.Fatal(err)
	}
	bufs := make([][]byte, 5)
	for i := range bufs {
		bufs[i] = sealBuffer([]byte(fmt.Sprint(i)))
	}
	out := make([][]byte, 5)
	if err := cli.SealBatch(hdrV1, bufs, Headroom, out); err != nil {
		t.Fatal(err)
	}
	for i, p := range out {
		pt, pid, err := srv.Open(p)
		if err != nil || pid != uint32(i+2) || string(pt) != fmt.Sprint(i) {
			t.Fatalf("batch %d: %q pid %d %v", i, pt, pid, err)
		}
		if binary.BigEndian.Uint32(p[1:]) != pid {
			t.Fatal("cleartext pid mismatch")
		}
	}
	if err := cli.SealBatch(hdrV1, nil, Headroom, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

// TestCBCIVs: IVs differ per packet and across keys with equal key material.
func TestCBCIVs(t *testing.T) {
	s := mustSuite(t, "AES-256-CBC", "SHA256")
	a, _ := keyPair(t, s, 1)
	b, _ := keyPair(t, s, 1)
	seen := map[string]bool{}
	for _, k := range []*Key{a, b} {
		for range 100 {
			pkt, err := k.Seal(hdrV2, sealBuffer([]byte("same")), Headroom)
			if err != nil {
				t.Fatal(err)
			}
			iv := string(pkt[4+32 : 4+32+16])
			if seen[iv] {
				t.Fatalf("IV %x repeated", iv)
			}
			seen[iv] = true
		}
	}
}

func TestAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items on purpose)")
	}
	for _, s := range allSuites(t) {
		cli, srv := keyPair(t, s, 1)
		payload := payloadOf(1400, 1)
		buf := sealBuffer(payload)
		pkt, _ := cli.Seal(hdrV2, buf, Headroom)
		orig := bytes.Clone(pkt)
		work := make([]byte, len(orig))
		if n := testing.AllocsPerRun(200, func() {
			copy(buf[Headroom:], payload)
			if _, err := cli.Seal(hdrV2, buf, Headroom); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Seal allocates %v times", s, n)
		}
		if n := testing.AllocsPerRun(200, func() {
			copy(work, orig)
			if _, _, err := srv.Open(work); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Open allocates %v times", s, n)
		}
		if n := testing.AllocsPerRun(200, func() {
			copy(work, orig)
			work[len(work)-1] ^= 1
			if _, _, err := srv.Open(work); err == nil {
				t.Fatal("tampered packet opened")
			}
		}); n != 0 {
			t.Errorf("%v: failing Open allocates %v times", s, n)
		}
		bufs := [][]byte{sealBuffer(payload), sealBuffer(payload)}
		out := make([][]byte, 2)
		if n := testing.AllocsPerRun(100, func() {
			if err := cli.SealBatch(hdrV1, bufs, Headroom, out); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: SealBatch allocates %v times", s, n)
		}
		var pid uint32 = 1
		if n := testing.AllocsPerRun(100, func() {
			srv.Replay(pid, epoch)
			pid++
		}); n != 0 {
			t.Errorf("%v: Replay allocates %v times", s, n)
		}
	}
}

// TestSealAt: ids reserved in order and sealed out of order (as parallel
// sealers do) open with those ids; id 0 is refused.
func TestSealAt(t *testing.T) {
	for _, name := range []string{"AES-256-GCM", "CHACHA20-POLY1305", "AES-256-CBC"} {
		cli, srv := keyPair(t, mustSuite(t, name, "SHA256"), 1)
		ids := make([]uint32, 4)
		for i := range ids {
			id, err := cli.ReserveID()
			if err != nil || id != uint32(i+1) {
				t.Fatalf("%s: reserve %d: %d %v", name, i, id, err)
			}
			ids[i] = id
		}
		for _, i := range []int{3, 1, 0, 2} {
			pkt, err := cli.SealAt(hdrV2, sealBuffer([]byte(fmt.Sprint(i))), Headroom, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			pt, pid, err := srv.Open(pkt)
			if err != nil || pid != ids[i] || string(pt) != fmt.Sprint(i) {
				t.Fatalf("%s: packet %d: %q pid %d %v", name, i, pt, pid, err)
			}
		}
		if _, err := cli.SealAt(hdrV2, sealBuffer([]byte("x")), Headroom, 0); !errors.Is(err, ErrBuffer) {
			t.Fatalf("%s: SealAt with id 0: %v", name, err)
		}
	}
}
