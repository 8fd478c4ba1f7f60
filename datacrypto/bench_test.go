package datacrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

var (
	benchSuites = [][2]string{
		{"AES-256-GCM", ""},
		{"AES-128-GCM", ""},
		{"CHACHA20-POLY1305", ""},
		{"AES-256-CBC", "SHA256"},
	}
	benchSizes = []int{64, 1400, 8192}
)

func benchName(s Suite, n int) string { return fmt.Sprintf("%s/%d", s, n) }

// BenchmarkSeal seals in place; the plaintext is not restored between
// iterations (the cost does not depend on the bytes).
func BenchmarkSeal(b *testing.B) {
	for _, sp := range benchSuites {
		s := mustSuite(b, sp[0], sp[1])
		for _, n := range benchSizes {
			b.Run(benchName(s, n), func(b *testing.B) {
				cli, _ := keyPair(b, s, 1)
				buf := sealBuffer(payloadOf(n, 1))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := cli.Seal(hdrV2, buf, Headroom); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOpen opens a fresh copy of one packet per iteration (the copy is
// included in the time; see BenchmarkCopy for its cost).
func BenchmarkOpen(b *testing.B) {
	for _, sp := range benchSuites {
		s := mustSuite(b, sp[0], sp[1])
		for _, n := range benchSizes {
			b.Run(benchName(s, n), func(b *testing.B) {
				cli, srv := keyPair(b, s, 1)
				pkt, err := cli.Seal(hdrV2, sealBuffer(payloadOf(n, 1)), Headroom)
				if err != nil {
					b.Fatal(err)
				}
				work := make([]byte, len(pkt))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					copy(work, pkt)
					if _, _, err := srv.Open(work); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSealParallel seals on one shared Key from GOMAXPROCS goroutines.
func BenchmarkSealParallel(b *testing.B) {
	for _, sp := range benchSuites {
		s := mustSuite(b, sp[0], sp[1])
		for _, n := range benchSizes {
			b.Run(benchName(s, n), func(b *testing.B) {
				cli, _ := keyPair(b, s, 1)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					buf := sealBuffer(payloadOf(n, 1))
					for pb.Next() {
						if _, err := cli.Seal(hdrV2, buf, Headroom); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkOpenParallel opens on one shared Key from GOMAXPROCS goroutines.
func BenchmarkOpenParallel(b *testing.B) {
	for _, sp := range benchSuites {
		s := mustSuite(b, sp[0], sp[1])
		for _, n := range benchSizes {
			b.Run(benchName(s, n), func(b *testing.B) {
				cli, srv := keyPair(b, s, 1)
				pkt, err := cli.Seal(hdrV2, sealBuffer(payloadOf(n, 1)), Headroom)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					work := make([]byte, len(pkt))
					for pb.Next() {
						copy(work, pkt)
						if _, _, err := srv.Open(work); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkBaselineGCM is the bare stdlib AES-256-GCM (nonce and buffers
// preallocated), for comparing Seal/Open's own overhead against.
func BenchmarkBaselineGCM(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 32))
	g, _ := cipher.NewGCM(blk)
	nonce := make([]byte, 12)
	ad := make([]byte, 8)
	for _, n := range benchSizes {
		buf := make([]byte, n, n+16)
		b.Run(fmt.Sprintf("seal/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				g.Seal(buf[:0], nonce, buf[:n], ad)
			}
		})
		ct := g.Seal(nil, nonce, make([]byte, n), ad)
		work := make([]byte, len(ct))
		b.Run(fmt.Sprintf("open/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, ct)
				if _, err := g.Open(work[:0], nonce, work, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCopy measures the packet copy that BenchmarkOpen includes.
func BenchmarkCopy(b *testing.B) {
	for _, n := range benchSizes {
		src, dst := make([]byte, n+24), make([]byte, n+24)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}
