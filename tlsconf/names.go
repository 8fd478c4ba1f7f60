package tlsconf

import (
	"crypto/sha1"
	"crypto/x509"

	"github.com/openvpn-go/openvpn-go/x509name"
)

// Subject renders a certificate's subject the way openvpn 2.6 does for
// --verify-x509-name, its logs and the tls_id_N variables (see
// x509name.Subject): "C=US, O=Example, CN=vpn.example.com".
func Subject(c *x509.Certificate) string { return x509name.Subject(c) }

// Issuer renders the issuer like Subject.
func Issuer(c *x509.Certificate) string { return x509name.Issuer(c) }

// RemapPrintable replaces control characters with '_' and a leading '-'
// with '_', as openvpn does before comparing or exporting subjects.
func RemapPrintable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f || (i == 0 && c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// RemapName is the remapping applied to a CN for --verify-x509-name.
func RemapName(s string) string { return RemapPrintable(s) }

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
