package ctlwrap

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/keys"
)

func TestFromConfig(t *testing.T) {
	var k2 keys.Key2
	for i := range k2 {
		k2[i] = byte(i)
	}
	full := keys.AppendStaticKey(nil, &k2)
	// A one-key (1024-bit) file: the first half of the hex lines.
	lines := strings.SplitAfter(string(full), "\n")
	var half strings.Builder
	hex := 0
	for _, l := range lines {
		isHex := len(l) > 0 && l[0] != '-' && l[0] != '#'
		if isHex {
			hex++
			if hex > 8 {
				continue
			}
		}
		half.WriteString(l)
	}
	mat := func(b []byte) *config.Material { return &config.Material{Data: b, Path: "ta.key"} }

	for _, tc := range []struct {
		name    string
		w       config.Wrap
		auth    string
		wantErr string
	}{
		{"none", config.Wrap{Mode: config.WrapNone}, "", ""},
		{"tls-auth", config.Wrap{Mode: config.WrapTLSAuth, Key: mat(full), Direction: config.KeyDirNormal}, "SHA256", ""},
		{"tls-auth-own-digest", config.Wrap{Mode: config.WrapTLSAuth, Key: mat(full), Digest: "SHA512"}, "SHA1", ""},
		{"tls-crypt", config.Wrap{Mode: config.WrapTLSCrypt, Key: mat(full)}, "", ""},
		{"one-key-file", config.Wrap{Mode: config.WrapTLSAuth, Key: mat([]byte(half.String()))}, "SHA1", `tls-auth key "ta.key" holds 1024 bits; a 2048-bit OpenVPN static key is required`},
		{"not-a-key", config.Wrap{Mode: config.WrapTLSCrypt, Key: mat([]byte("hello"))}, "", `tls-crypt key "ta.key"`},
		{"bad-digest", config.Wrap{Mode: config.WrapTLSAuth, Key: mat(full)}, "MD4", "tls-auth digest"},
		{"no-key", config.Wrap{Mode: config.WrapTLSCrypt}, "", "tls-crypt: no key"},
		{"v2", config.Wrap{Mode: config.WrapTLSCryptV2, Key: mat(full)}, "", ErrRoleKey.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk, err := FromConfig(&tc.w, tc.auth, false, Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if tc.name == "v2" && !errors.Is(err, ErrRoleKey) {
					t.Fatalf("err = %v, want ErrRoleKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The peer's wrapper: the other tls-auth direction, the other
			// tls-crypt role.
			pw := tc.w
			if pw.Direction == config.KeyDirNormal {
				pw.Direction = config.KeyDirInverse
			}
			peer, err := FromConfig(&pw, tc.auth, true, Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := peer()
			// Each call makes a fresh wrapper.
			if a2, _ := mk(); tc.w.Mode != config.WrapNone && a2 == a {
				t.Fatal("the constructor returned the same wrapper twice")
			}
			plain := []byte{0x20, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0}
			wire, err := a.Wrap(nil, plain)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Unwrap(nil, wire, time.Now())
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("peer unwrapped %x, %v; want %x", got, err, plain)
			}
		})
	}
}
