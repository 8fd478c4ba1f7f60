// Package x509name renders X.509 distinguished names exactly as openvpn
// 2.6 (through OpenSSL 3) prints them: in logs, in the tls_id_N and
// X509_N_<attr> script variables, in the tls-verify argument and for
// verify-x509-name subject matching.
package x509name

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Subject renders the subject of c as openvpn 2.6 passes it to tls-verify
// and exports it as tls_id_<depth>: OpenSSL's X509_NAME_print_ex with
// ", " between relative distinguished names and " + " inside a multi-valued
// one, OpenSSL short names (the numeric OID for an attribute OpenSSL does
// not know), values in UTF-8 with control characters escaped as \XX and
// backslashes doubled; then openvpn's remapping (remaining control
// characters to '_') and leading '-' replaced by '_'. Example:
// "C=US, O=Example, CN=vpn.example.com".
func Subject(c *x509.Certificate) string { return format(c.RawSubject, c.Subject.Names) }

// Issuer renders the issuer of c like Subject.
func Issuer(c *x509.Certificate) string { return format(c.RawIssuer, c.Issuer.Names) }

func format(raw []byte, names []pkix.AttributeTypeAndValue) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) > 0 {
		// Not a well-formed name: fall back to the parsed attributes.
		rdns = nil
		for _, n := range names {
			rdns = append(rdns, pkix.RelativeDistinguishedNameSET{n})
		}
	}
	var b strings.Builder
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteString(", ")
		}
		for j, atv := range rdn {
			if j > 0 {
				b.WriteString(" + ")
			}
			name, ok := shortNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			b.WriteString(name)
			b.WriteByte('=')
			escapeCtl(&b, fmt.Sprint(atv.Value))
		}
	}
	s := RemapCtl(b.String())
	if t := strings.TrimLeft(s, "-"); len(t) < len(s) {
		s = strings.Repeat("_", len(s)-len(t)) + t
	}
	return s
}

// escapeCtl writes s with control characters (0x00-0x1f, 0x7f) as \XX and
// a backslash doubled, as OpenSSL's ASN1_STRFLGS_ESC_CTRL does.
func escapeCtl(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(b, "\\%02X", c)
		case c == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
}

// RemapCtl replaces control characters (bytes below 0x20, and DEL) with
// '_', openvpn's remapping of names and credentials.
func RemapCtl(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '_'
		}
	}
	return string(b)
}
