package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StaticKeySize is the size of an OpenVPN static key (tls-auth, tls-crypt):
// 2048 bits.
const StaticKeySize = 256

// keyGenTimeout bounds one `openvpn --genkey` run.
const keyGenTimeout = 20 * time.Second

// NewStaticKey writes a fresh static key (for tls-auth or tls-crypt) into a
// new file in t.TempDir() and returns its path. It fails t on error.
func NewStaticKey(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "static.key")
	if err := WriteStaticKey(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteStaticKey writes 256 random bytes to path in exactly the format of
// `openvpn --genkey secret`, mode 0600.
func WriteStaticKey(path string) error {
	var key [StaticKeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("lab: reading random bytes for a static key: %w", err)
	}
	if err := os.WriteFile(path, FormatStaticKey(key[:]), 0o600); err != nil {
		return fmt.Errorf("lab: writing the static key: %w", err)
	}
	return nil
}

// FormatStaticKey renders a 256-byte key as the text of an OpenVPN static
// key file: the three-line "#" header, the BEGIN line, 16 lines of 32 lower
// case hex digits and the END line, each ending in "\n". It panics if key is
// not 256 bytes long.
func FormatStaticKey(key []byte) []byte {
	if len(key) != StaticKeySize {
		panic(fmt.Sprintf("lab: FormatStaticKey needs %d bytes, got %d", StaticKeySize, len(key)))
	}
	var b bytes.Buffer
	b.WriteString("#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n")
	for i := 0; i < len(key); i += 16 {
		b.WriteString(hex.EncodeToString(key[i : i+16]))
		b.WriteByte('\n')
	}
	b.WriteString("-----END OpenVPN Static key V1-----\n")
	return b.Bytes()
}

// NewTLSCryptV2ServerKey writes a fresh tls-crypt-v2 server key into a new
// file in t.TempDir() and returns its path. It fails t on error (and skips
// t when the generator needs a program that is missing).
func NewTLSCryptV2ServerKey(t testing.TB) string {
	t.Helper()
	RequireBinary(t, "openvpn")
	path := filepath.Join(t.TempDir(), "tls-crypt-v2-server.key")
	ctx, cancel := context.WithTimeout(context.Background(), keyGenTimeout)
	defer cancel()
	if err := WriteTLSCryptV2ServerKey(ctx, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// NewTLSCryptV2ClientKey writes a fresh tls-crypt-v2 client key, wrapped
// with the server key at serverKey, into a new file in t.TempDir() and
// returns its path. metadata (nil for none) is embedded in the wrapped key
// as user-defined metadata. It fails t on error.
func NewTLSCryptV2ClientKey(t testing.TB, serverKey string, metadata []byte) string {
	t.Helper()
	RequireBinary(t, "openvpn")
	path := filepath.Join(t.TempDir(), "tls-crypt-v2-client.key")
	ctx, cancel := context.WithTimeout(context.Background(), keyGenTimeout)
	defer cancel()
	if err := WriteTLSCryptV2ClientKey(ctx, serverKey, path, metadata); err != nil {
		t.Fatal(err)
	}
	return path
}

// NewAuthTokenKey writes a fresh auth-token secret (for `auth-gen-token-secret`)
// into a new file in t.TempDir() and returns its path. It fails t on error.
func NewAuthTokenKey(t testing.TB) string {
	t.Helper()
	RequireBinary(t, "openvpn")
	path := filepath.Join(t.TempDir(), "auth-token.key")
	ctx, cancel := context.WithTimeout(context.Background(), keyGenTimeout)
	defer cancel()
	if err := WriteAuthTokenKey(ctx, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteTLSCryptV2ServerKey writes a tls-crypt-v2 server key PEM file to path.
// For now it runs `openvpn --genkey tls-crypt-v2-server`; the signature stays
// when our own generator replaces it.
func WriteTLSCryptV2ServerKey(ctx context.Context, path string) error {
	return genkey(ctx, "--genkey", "tls-crypt-v2-server", path)
}

// WriteTLSCryptV2ClientKey writes a tls-crypt-v2 client key PEM file to path,
// wrapped with the server key in the file serverKey and carrying metadata
// (nil: none) as user-defined metadata. For now it runs
// `openvpn --tls-crypt-v2 SERVERKEY --genkey tls-crypt-v2-client`.
func WriteTLSCryptV2ClientKey(ctx context.Context, serverKey, path string, metadata []byte) error {
	args := []string{"--tls-crypt-v2", serverKey, "--genkey", "tls-crypt-v2-client", path}
	if len(metadata) > 0 {
		args = append(args, base64.StdEncoding.EncodeToString(metadata))
	}
	return genkey(ctx, args...)
}

// WriteAuthTokenKey writes an auth-token secret PEM file to path. For now it
// runs `openvpn --genkey auth-token`.
func WriteAuthTokenKey(ctx context.Context, path string) error {
	return genkey(ctx, "--genkey", "auth-token", path)
}

func genkey(ctx context.Context, args ...string) error {
	prog, err := lookPath("openvpn")
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: openvpn %v failed: %w\n%s", args, err, out)
	}
	return nil
}
