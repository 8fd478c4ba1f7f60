package lab_test

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

func TestFormatStaticKey(t *testing.T) {
	key := make([]byte, lab.StaticKeySize)
	for i := range key {
		key[i] = byte(i)
	}
	got := string(lab.FormatStaticKey(key))
	lines := strings.Split(got, "\n")
	want := []string{"#", "# 2048 bit OpenVPN static key", "#", "-----BEGIN OpenVPN Static key V1-----",
		"000102030405060708090a0b0c0d0e0f"}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
	if n := len(lines); n != 22 || lines[19] != "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" ||
		lines[20] != "-----END OpenVPN Static key V1-----" || lines[21] != "" {
		t.Errorf("tail of the file wrong (%d lines):\n%s", n, got)
	}
}

// TestStaticKeyFile checks the written file byte for byte against the
// format (hex lines decode back to 256 bytes) and its mode.
func TestStaticKeyFile(t *testing.T) {
	path := lab.NewStaticKey(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 21", len(lines))
	}
	var key []byte
	for _, l := range lines[4:20] {
		if len(l) != 32 {
			t.Errorf("hex line %q is not 32 characters", l)
		}
		k, err := hex.DecodeString(l)
		if err != nil {
			t.Fatal(err)
		}
		key = append(key, k...)
	}
	if !bytes.Equal(lab.FormatStaticKey(key), b) {
		t.Errorf("file differs from FormatStaticKey of its own bytes")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	if other := lab.NewStaticKey(t); bytes.Equal(mustRead(t, other), b) {
		t.Error("two static keys are equal")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGeneratedKeys checks the PEM type and payload size of the keys made
// by the generators (openvpn --genkey for now).
func TestGeneratedKeys(t *testing.T) {
	lab.RequireBinary(t, "openvpn")
	srv := lab.NewTLSCryptV2ServerKey(t)
	tests := []struct {
		name, path, typ string
		minLen, maxLen  int
	}{
		{"tls-crypt-v2 server", srv, "OpenVPN tls-crypt-v2 server key", 128, 128},
		// Kc (256) + WKc (tag 32 + Kc 256 + metadata + length 2); the
		// default metadata is a type byte and an 8-byte timestamp.
		{"tls-crypt-v2 client", lab.NewTLSCryptV2ClientKey(t, srv, nil), "OpenVPN tls-crypt-v2 client key",
			256 + 32 + 256 + 9 + 2, 256 + 32 + 256 + 9 + 2},
		{"tls-crypt-v2 client with metadata", lab.NewTLSCryptV2ClientKey(t, srv, []byte("user=alice")),
			"OpenVPN tls-crypt-v2 client key", 256 + 32 + 256 + 11 + 2, 256 + 32 + 256 + 11 + 2},
		{"auth-token", lab.NewAuthTokenKey(t), "OpenVPN auth-token server key", 32, 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blk, _ := pem.Decode(mustRead(t, tc.path))
			if blk == nil || blk.Type != tc.typ {
				t.Fatalf("PEM block %v, want type %q", blk, tc.typ)
			}
			if n := len(blk.Bytes); n < tc.minLen || n > tc.maxLen {
				t.Errorf("payload %d bytes, want %d..%d", n, tc.minLen, tc.maxLen)
			}
		})
	}
}
