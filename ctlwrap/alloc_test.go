package ctlwrap

import (
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/race"
	"github.com/openvpn-go/openvpn-go/wire"
)

// TestZeroAllocs proves the per-packet paths do not allocate when dst has
// capacity: Wrap and Unwrap of every wrapper, the stateless methods, and the
// WKc check.
func TestZeroAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	plain := testPlain(1000)
	buf := make([]byte, 0, 4096)
	for _, p := range pairs(t) {
		t.Run(p.name, func(t *testing.T) {
			var pkt []byte
			if a := testing.AllocsPerRun(100, func() {
				var err error
				pkt, err = p.tx.Wrap(buf[:0], plain)
				if err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("Wrap: %v allocs", a)
			}
			pkt = append([]byte(nil), pkt...)
			out := make([]byte, 0, 4096)
			if a := testing.AllocsPerRun(100, func() {
				if _, err := p.stateRx.UnwrapStateless(out[:0], pkt); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("UnwrapStateless: %v allocs", a)
			}
			if s, ok := p.tx.(Stateless); ok {
				if a := testing.AllocsPerRun(100, func() {
					if _, err := s.WrapStateless(buf[:0], plain, wire.WrapPID{ID: 1, Time: 2}); err != nil {
						t.Fatal(err)
					}
				}); a != 0 {
					t.Errorf("WrapStateless: %v allocs", a)
				}
			}
			// Session Unwrap: fresh packets each run (replay), wrapped
			// beforehand.
			var pkts [][]byte
			for range 101 {
				w, _ := p.tx.Wrap(nil, plain)
				pkts = append(pkts, w)
			}
			i := 0
			if a := testing.AllocsPerRun(100, func() {
				if _, err := p.rx.Unwrap(out[:0], pkts[i], t0); err != nil {
					t.Fatal(err)
				}
				i++
			}); a != 0 {
				t.Errorf("Unwrap: %v allocs", a)
			}
		})
	}
	t.Run("tls-crypt-v2", func(t *testing.T) {
		srv, ck := v2Keys(t)
		c := loadCapture(t, "tcv2.pcap")
		var info ClientKeyInfo
		if a := testing.AllocsPerRun(100, func() {
			if err := srv.UnwrapClientKey(ck.WKc, &info); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("UnwrapClientKey: %v allocs", a)
		}
		out := make([]byte, 0, 4096)
		// A forged WKc is rejected without allocating.
		forged := append([]byte(nil), c.pkts[0].Data...)
		forged[len(forged)-50] ^= 1
		if a := testing.AllocsPerRun(100, func() {
			if _, err := srv.UnwrapStateless(out[:0], forged, &info); err == nil {
				t.Fatal("forged WKc accepted")
			}
		}); a != 0 {
			t.Errorf("UnwrapStateless of a forged WKc: %v allocs", a)
		}
		// A genuine one costs the AES key schedule of Kc.
		if a := testing.AllocsPerRun(100, func() {
			if _, err := srv.UnwrapStateless(out[:0], c.pkts[0].Data, &info); err != nil {
				t.Fatal(err)
			}
		}); a > 1 {
			t.Errorf("UnwrapStateless: %v allocs, want at most 1", a)
		}
		wkcBuf := make([]byte, 0, 1024)
		if a := testing.AllocsPerRun(100, func() {
			if _, err := srv.WrapClientKey(wkcBuf[:0], &info.Kc, info.Metadata()); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("WrapClientKey: %v allocs", a)
		}
		// Sessions: client Wrap (with WKc) and server Unwrap.
		cli, _ := NewTLSCryptV2Client(&ck, true, Options{Start: t0})
		s := NewTLSCryptV2Server(srv, Options{Start: t0})
		reset := wire.ControlPacket{Opcode: wire.OpControlHardResetClientV3, SessionID: wire.SessionID{1}}
		first, _ := cli.Wrap(nil, reset.Append(nil))
		if _, err := s.Unwrap(nil, first, t0); err != nil {
			t.Fatal(err)
		}
		wkcPlain := wire.ControlPacket{Opcode: wire.OpControlWKCV1, SessionID: wire.SessionID{1}, MessageID: 1, Payload: make([]byte, 500)}
		plain := wkcPlain.Append(nil)
		big := make([]byte, 0, 4096)
		if a := testing.AllocsPerRun(100, func() {
			if _, err := cli.Wrap(big[:0], plain); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("client Wrap: %v allocs", a)
		}
		var pkts [][]byte
		for range 101 {
			w, _ := cli.Wrap(nil, plain)
			pkts = append(pkts, w)
		}
		i := 0
		if a := testing.AllocsPerRun(100, func() {
			if _, err := s.Unwrap(out[:0], pkts[i], t0); err != nil {
				t.Fatal(err)
			}
			i++
		}); a != 0 {
			t.Errorf("server Unwrap: %v allocs", a)
		}
	})
}

func BenchmarkWrap(b *testing.B) {
	plain := testPlain(1150)
	buf := make([]byte, 0, 2048)
	for _, p := range pairs(b) {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				if _, err := p.tx.Wrap(buf[:0], plain); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnwrapStateless(b *testing.B) {
	plain := testPlain(1150)
	out := make([]byte, 0, 2048)
	for _, p := range pairs(b) {
		pkt, _ := p.tx.Wrap(nil, plain)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				if _, err := p.stateRx.UnwrapStateless(out[:0], pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnwrapStatelessParallel(b *testing.B) {
	k := testKey2()
	tx, _ := NewTLSCrypt(&k, false, Options{Start: t0})
	rx, _ := NewTLSCrypt(&k, true, Options{Start: t0})
	pkt, _ := tx.Wrap(nil, testPlain(100))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 2048)
		for pb.Next() {
			if _, err := rx.UnwrapStateless(out[:0], pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkV2ServerUnwrapStateless(b *testing.B) {
	srv, _ := v2Keys(b)
	c := loadCapture(b, "tcv2.pcap")
	out := make([]byte, 0, 2048)
	var info ClientKeyInfo
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.UnwrapStateless(out[:0], c.pkts[0].Data, &info); err != nil {
			b.Fatal(err)
		}
	}
}
