package x509name

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"
)

func oidOf(s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	for p := range strings.SplitSeq(s, ".") {
		n := 0
		for _, c := range p {
			n = n*10 + int(c-'0')
		}
		o = append(o, n)
	}
	return o
}

func atv(oid string, v any) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oidOf(oid), Value: v}
}

// newCert makes a self-signed certificate with exactly the given subject.
func newCert(t testing.TB, serial *big.Int, rdns pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: serial, RawSubject: raw, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The expected strings were checked against `openssl x509 -nameopt
// sep_comma_plus_space,sname,utf8,esc_ctrl` (OpenSSL 3.0, the flags openvpn
// 2.6 uses) for the same certificates.
func TestSubject(t *testing.T) {
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"simple", pkix.RDNSequence{{atv("2.5.4.3", "server")}}, "CN=server"},
		{"order kept", pkix.RDNSequence{{atv("2.5.4.6", "US")}, {atv("2.5.4.10", "Example")}, {atv("2.5.4.3", "vpn.example.com")}},
			"C=US, O=Example, CN=vpn.example.com"},
		{"hostile", pkix.RDNSequence{
			{atv("2.5.4.6", "DE")},
			{atv("2.5.4.10", `Ex, "Corp" + <x>;\#`)},
			{atv("2.5.4.11", "a"), atv("2.5.4.11", "b")},
			{atv("1.2.840.113549.1.9.1", "me@x.org")},
			{atv("1.2.3.4", "unknown")},
			{atv("2.5.4.3", " lead\x01ctl\x7fdel ünï ")},
			{atv("2.5.4.3", "-second")},
		}, `C=DE, O=Ex, "Corp" + <x>;\\#, OU=a + OU=b, emailAddress=me@x.org, 1.2.3.4=unknown, CN= lead\01ctl\7Fdel ünï , CN=-second`},
		{"spaces and slashes", pkix.RDNSequence{{atv("2.5.4.3", "alice smith/..")}}, "CN=alice smith/.."},
		{"unknown oid", pkix.RDNSequence{{atv("1.2.3", "x")}}, "1.2.3=x"},
	}
	for _, tt := range tests {
		c := newCert(t, big.NewInt(1), tt.rdns)
		if got := Subject(c); got != tt.want {
			t.Errorf("%s: Subject = %q, want %q", tt.name, got, tt.want)
		}
	}
}
