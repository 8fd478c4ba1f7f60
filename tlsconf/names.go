package tlsconf

import (
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
)

// OpenSSL short names of the distinguished-name attributes openvpn prints.
var shortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.17": "postalCode",
	"2.5.4.41": "name", "2.5.4.42": "GN", "2.5.4.43": "initials",
	"2.5.4.44": "generationQualifier", "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}

// Subject renders a certificate's subject the way openvpn 2.6 does for
// --verify-x509-name and the tls_id_N environment variables: attributes in
// certificate order, OpenSSL short names, ", " separators, and
// non-printable characters replaced by '_' (e.g. "C=US, O=Example,
// CN=vpn.example.com").
func Subject(c *x509.Certificate) string {
	return RemapPrintable(formatName(c.Subject.Names))
}

// Issuer renders the issuer like Subject.
func Issuer(c *x509.Certificate) string { return RemapPrintable(formatName(c.Issuer.Names)) }

func formatName(names []pkix.AttributeTypeAndValue) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		key := shortNames[n.Type.String()]
		if key == "" {
			key = n.Type.String()
		}
		fmt.Fprintf(&b, "%s=%v", key, n.Value)
	}
	return b.String()
}

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

// RemapCommonName restricts a common name or username to the characters
// openvpn 2.6 allows in the environment and in client-config-dir file
// names ([A-Za-z0-9_.@-]); others become '_'.
func RemapCommonName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '@' || c == '-'
		if !ok {
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
