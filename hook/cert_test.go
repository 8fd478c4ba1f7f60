package hook

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/x509name/x509nametest"
)

// The expected strings were checked against `openssl x509 -nameopt
// sep_comma_plus_space,sname,utf8,esc_ctrl` (OpenSSL 3.0, the flags openvpn
// 2.6 uses) for the same certificates.
func TestSetCert(t *testing.T) {
	serial, _ := new(big.Int).SetString("1f00aa0000000000000000000000000001", 16)
	c := x509nametest.Cert(t, serial, pkix.RDNSequence{
		{x509nametest.ATV("2.5.4.6", "KG")},
		{x509nametest.ATV("2.5.4.11", "ops")},
		{x509nametest.ATV("2.5.4.11", "vpn")},
		{x509nametest.ATV("1.2.840.113549.1.9.1", "me@myhost.mydomain")},
		{x509nametest.ATV("1.2.3.4", "skipped")},
		{x509nametest.ATV("1.2.840.113549.1.9.15", "name with dash filtered")},
		{x509nametest.ATV("2.5.4.3", "Test\x01Client")},
	})
	e := NewEnv()
	e.SetCert(0, c)
	want := map[string]string{
		"X509_0_C":            "KG",
		"X509_0_OU":           "ops",
		"X509_0_OU_1":         "vpn",
		"X509_0_emailAddress": "me@myhost.mydomain",
		"X509_0_SMIMECAPS":    "name with dash filtered",
		"X509_0_CN":           "Test_Client",
		"tls_id_0":            `C=KG, OU=ops, OU=vpn, emailAddress=me@myhost.mydomain, 1.2.3.4=skipped, SMIME-CAPS=name with dash filtered, CN=Test\01Client`,
		"tls_serial_0":        serial.String(),
		"tls_serial_hex_0":    "1f:00:aa:00:00:00:00:00:00:00:00:00:00:00:00:00:01",
	}
	for name, v := range want {
		if got, ok := e.Get(name); !ok || got != v {
			t.Errorf("%s = %q (%v), want %q", name, got, ok, v)
		}
	}
	for _, kv := range e.Vars() {
		if strings.Contains(kv, "1_2_3_4") || strings.HasPrefix(kv, "X509_0_1") {
			t.Errorf("unknown attribute exported: %q", kv)
		}
	}
	d1, _ := e.Get("tls_digest_0")
	d256, _ := e.Get("tls_digest_sha256_0")
	if len(d1) != 20*3-1 || len(d256) != 32*3-1 || d1 != strings.ToLower(d1) || strings.Count(d1, ":") != 19 {
		t.Errorf("digests %q %q are not lowercase colon-separated hex", d1, d256)
	}
	if d1 != colonHex(sha1Of(c.Raw)) || d256 != colonHex(sha256Of(c.Raw)) {
		t.Errorf("digests do not match the DER certificate")
	}
	// Order: the X509_ fields first, tls_serial_hex last (most recent first).
	vars := e.Vars()
	if !strings.HasPrefix(vars[0], "tls_serial_hex_0=") || !strings.HasPrefix(vars[len(vars)-1], "X509_0_C=") {
		t.Errorf("order: %q", vars)
	}
}

func TestSerialFormats(t *testing.T) {
	tests := []struct {
		serial  *big.Int
		dec, hx string
	}{
		{big.NewInt(3), "3", "03"},
		{big.NewInt(255), "255", "ff"},
		{big.NewInt(256), "256", "01:00"},
		{big.NewInt(0x1234567890), "78187493520", "12:34:56:78:90"},
	}
	for _, tt := range tests {
		c := x509nametest.Cert(t, tt.serial, pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "x")}})
		e := NewEnv()
		e.SetCert(2, c)
		if got, _ := e.Get("tls_serial_2"); got != tt.dec {
			t.Errorf("tls_serial_2 = %q, want %q", got, tt.dec)
		}
		if got, _ := e.Get("tls_serial_hex_2"); got != tt.hx {
			t.Errorf("tls_serial_hex_2 = %q, want %q", got, tt.hx)
		}
	}
}

func TestPeerCommonName(t *testing.T) {
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
		ok   bool
	}{
		{"single", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "alice")}}, "alice", true},
		{"last CN wins", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "first")}, {x509nametest.ATV("2.5.4.10", "O")}, {x509nametest.ATV("2.5.4.3", "last")}}, "last", true},
		{"remapped", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "a b/..\x01")}}, "a b/.._", true},
		{"64 bytes", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", strings.Repeat("x", 64))}}, strings.Repeat("x", 64), true},
		{"65 bytes", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", strings.Repeat("x", 65))}}, "", false},
		{"no CN", pkix.RDNSequence{{x509nametest.ATV("2.5.4.10", "O")}}, "", false},
	}
	for _, tt := range tests {
		got, ok := PeerCommonName(x509nametest.Cert(t, big.NewInt(1), tt.rdns))
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: PeerCommonName = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetPeerChain(t *testing.T) {
	leaf := x509nametest.Cert(t, big.NewInt(3), pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "alice smith")}})
	ca := x509nametest.Cert(t, big.NewInt(1), pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "Root CA")}})
	e := NewEnv()
	e.SetPeerChain([]*x509.Certificate{leaf, ca})
	if got, _ := e.Get("common_name"); got != "alice smith" {
		t.Errorf("common_name = %q", got)
	}
	if got, _ := e.Get("X509_1_CN"); got != "Root CA" {
		t.Errorf("X509_1_CN = %q", got)
	}
	vars := e.Vars()
	// Depth 1 was set first, then common_name, then depth 0.
	i1 := slices.IndexFunc(vars, func(s string) bool { return strings.HasPrefix(s, "tls_id_1=") })
	icn := slices.IndexFunc(vars, func(s string) bool { return strings.HasPrefix(s, "common_name=") })
	i0 := slices.IndexFunc(vars, func(s string) bool { return strings.HasPrefix(s, "tls_id_0=") })
	if !(i0 < icn && icn < i1) {
		t.Errorf("order (most recent first): tls_id_0 %d, common_name %d, tls_id_1 %d", i0, icn, i1)
	}
}

func sha1Of(b []byte) []byte   { s := sha1.Sum(b); return s[:] }
func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
