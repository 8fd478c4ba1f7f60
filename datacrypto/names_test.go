package datacrypto

import (
	"errors"
	"slices"
	"testing"
)

func TestLookupCipher(t *testing.T) {
	tests := []struct {
		in        string
		want      string
		keySize   int
		aead      bool
		blockSize int
		ivSize    int
		err       error
	}{
		{"AES-256-GCM", "AES-256-GCM", 32, true, 16, 12, nil},
		{"aes-256-gcm", "AES-256-GCM", 32, true, 16, 12, nil},
		{"id-aes256-GCM", "AES-256-GCM", 32, true, 16, 12, nil},
		{"AES-192-GCM", "AES-192-GCM", 24, true, 16, 12, nil},
		{"aes-128-gcm", "AES-128-GCM", 16, true, 16, 12, nil},
		{"id-aes128-gcm", "AES-128-GCM", 16, true, 16, 12, nil},
		{"CHACHA20-POLY1305", "CHACHA20-POLY1305", 32, true, 1, 12, nil},
		{"ChaCha20-Poly1305", "CHACHA20-POLY1305", 32, true, 1, 12, nil},
		{" chacha20-poly1305 ", "CHACHA20-POLY1305", 32, true, 1, 12, nil},
		{"AES-256-CBC", "AES-256-CBC", 32, false, 16, 16, nil},
		{"aes-192-cbc", "AES-192-CBC", 24, false, 16, 16, nil},
		{"Aes-128-Cbc", "AES-128-CBC", 16, false, 16, 16, nil},
		{"none", "none", 0, false, 0, 0, nil},
		{"NONE", "none", 0, false, 0, 0, nil},
		{"[null-cipher]", "none", 0, false, 0, 0, nil},
		{"BF-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"bf-cbc", "", 0, false, 0, 0, ErrWeakCipher},
		{"DES-EDE3-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"DES-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"CAST5-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"IDEA-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"RC2-CBC", "", 0, false, 0, 0, ErrWeakCipher},
		{"AES-256-CFB", "", 0, false, 0, 0, ErrUnsupportedCipher},
		{"AES-256-CTR", "", 0, false, 0, 0, ErrUnsupportedCipher},
		{"CAMELLIA-256-CBC", "", 0, false, 0, 0, ErrUnsupportedCipher},
		{"", "", 0, false, 0, 0, ErrUnsupportedCipher},
	}
	for _, tc := range tests {
		c, err := LookupCipher(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("LookupCipher(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if _, err := Canonical(tc.in); !errors.Is(err, tc.err) {
				t.Errorf("Canonical(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("LookupCipher(%q): %v", tc.in, err)
			continue
		}
		if c.Name != tc.want || c.KeySize != tc.keySize || c.AEAD != tc.aead || c.BlockSize != tc.blockSize || c.IVSize != tc.ivSize {
			t.Errorf("LookupCipher(%q) = %+v", tc.in, c)
		}
		if c.AEAD != (c.TagSize == 16) {
			t.Errorf("LookupCipher(%q): TagSize %d for AEAD=%v", tc.in, c.TagSize, c.AEAD)
		}
		if n, err := Canonical(tc.in); err != nil || n != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, n, err, tc.want)
		}
	}
}

func TestCiphersOrder(t *testing.T) {
	want := []string{"AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305", "AES-192-GCM", "AES-256-CBC", "AES-192-CBC", "AES-128-CBC"}
	got := Ciphers()
	if !slices.Equal(got, want) {
		t.Fatalf("Ciphers() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if Ciphers()[0] != "AES-256-GCM" {
		t.Fatal("Ciphers() shares its backing array")
	}
	for _, n := range want {
		if c, err := Canonical(n); err != nil || c != n {
			t.Errorf("Canonical(%q) = %q, %v", n, c, err)
		}
	}
}

func TestLookupAuth(t *testing.T) {
	tests := []struct {
		in   string
		want string
		size int
		err  error
	}{
		{"", "SHA1", 20, nil},
		{"SHA1", "SHA1", 20, nil},
		{"sha-1", "SHA1", 20, nil},
		{"SHA224", "SHA224", 28, nil},
		{"sha256", "SHA256", 32, nil},
		{"SHA2-256", "SHA256", 32, nil},
		{"SHA-384", "SHA384", 48, nil},
		{"sha512", "SHA512", 64, nil},
		{"none", "none", 0, nil},
		{"[null-digest]", "none", 0, nil},
		{"MD5", "", 0, ErrUnsupportedAuth},
		{"RIPEMD160", "", 0, ErrUnsupportedAuth},
	}
	for _, tc := range tests {
		a, err := LookupAuth(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("LookupAuth(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || a.Name != tc.want || a.Size != tc.size {
			t.Errorf("LookupAuth(%q) = %+v, %v; want %s/%d", tc.in, a, err, tc.want, tc.size)
		}
	}
}

func TestNewSuite(t *testing.T) {
	tests := []struct {
		cipher, auth string
		want         string
		err          error
	}{
		{"aes-256-gcm", "SHA256", "AES-256-GCM", nil}, // auth ignored for AEAD
		{"AES-256-GCM", "MD5", "AES-256-GCM", nil},    // even an unknown one
		{"AES-256-CBC", "", "AES-256-CBC/SHA1", nil},
		{"AES-128-CBC", "sha512", "AES-128-CBC/SHA512", nil},
		{"none", "SHA256", "none/SHA256", nil},
		{"AES-256-CBC", "none", "", ErrUnsupportedAuth},
		{"none", "none", "", ErrUnsupportedAuth},
		{"AES-256-CBC", "MD5", "", ErrUnsupportedAuth},
		{"BF-CBC", "SHA1", "", ErrWeakCipher},
	}
	for _, tc := range tests {
		s, err := NewSuite(tc.cipher, tc.auth)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("NewSuite(%q, %q) error = %v, want %v", tc.cipher, tc.auth, err, tc.err)
			}
			continue
		}
		if err != nil || s.String() != tc.want {
			t.Errorf("NewSuite(%q, %q) = %v, %v; want %s", tc.cipher, tc.auth, s, err, tc.want)
		}
		if s.Cipher().AEAD && s.Auth().Size != 0 {
			t.Errorf("NewSuite(%q, %q): AEAD with auth size %d", tc.cipher, tc.auth, s.Auth().Size)
		}
	}
}

// TestOverhead checks the documented overheads (protocol-data-channel.md
// §3.2, §5.1) and that Overhead matches real packets.
func TestOverhead(t *testing.T) {
	tests := []struct {
		cipher, auth string
		hdrLen, n    int
		want         int
	}{
		{"AES-256-GCM", "", 4, 1400, 24},
		{"AES-256-GCM", "", 1, 1400, 21},
		{"CHACHA20-POLY1305", "", 4, 100, 24},
		{"AES-256-CBC", "SHA1", 1, 1400, 1445 - 1400}, // §5.1 example
		{"AES-256-CBC", "SHA256", 4, 17, 84 - 17},     // §5.5 vector
		{"AES-128-CBC", "SHA256", 4, 12, 4 + 32 + 16 + 4 + 16},
		{"none", "SHA256", 4, 100, 4 + 32 + 4},
	}
	for _, tc := range tests {
		s := mustSuite(t, tc.cipher, tc.auth)
		if got := s.Overhead(tc.hdrLen, tc.n); got != tc.want {
			t.Errorf("%v Overhead(%d, %d) = %d, want %d", s, tc.hdrLen, tc.n, got, tc.want)
		}
	}
	for _, s := range allSuites(t) {
		cli, _ := keyPair(t, s, 1)
		for n := 1; n <= 40; n++ {
			for _, h := range []int{1, 4} {
				hdr := hdrV1
				if h == 4 {
					hdr = hdrV2
				}
				pkt, err := cli.Seal(hdr, sealBuffer(make([]byte, n)), Headroom)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.Overhead(h, n); got != len(pkt)-n {
					t.Fatalf("%v: Overhead(%d, %d) = %d, packet says %d", s, h, n, got, len(pkt)-n)
				}
				if s.MaxOverhead(h) < len(pkt)-n || s.MaxOverhead(h) > Headroom+Tailroom {
					t.Fatalf("%v: MaxOverhead(%d) = %d, packet overhead %d", s, h, s.MaxOverhead(h), len(pkt)-n)
				}
			}
		}
	}
}
