package x509name

import (
	"crypto/x509/pkix"
	"math/big"
	"testing"

	"github.com/openvpn-go/openvpn-go/x509name/x509nametest"
)

// The expected strings were checked against `openssl x509 -nameopt
// sep_comma_plus_space,sname,utf8,esc_ctrl` (OpenSSL 3.0, the flags openvpn
// 2.6 uses) for the same certificates.
func TestSubject(t *testing.T) {
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"simple", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "server")}}, "CN=server"},
		{"order kept", pkix.RDNSequence{{x509nametest.ATV("2.5.4.6", "US")}, {x509nametest.ATV("2.5.4.10", "Example")}, {x509nametest.ATV("2.5.4.3", "vpn.example.com")}},
			"C=US, O=Example, CN=vpn.example.com"},
		{"hostile", pkix.RDNSequence{
			{x509nametest.ATV("2.5.4.6", "DE")},
			{x509nametest.ATV("2.5.4.10", `Ex, "Corp" + <x>;\#`)},
			{x509nametest.ATV("2.5.4.11", "a"), x509nametest.ATV("2.5.4.11", "b")},
			{x509nametest.ATV("1.2.840.113549.1.9.1", "me@x.org")},
			{x509nametest.ATV("1.2.3.4", "unknown")},
			{x509nametest.ATV("2.5.4.3", " lead\x01ctl\x7fdel ünï ")},
			{x509nametest.ATV("2.5.4.3", "-second")},
		}, `C=DE, O=Ex, "Corp" + <x>;\\#, OU=a + OU=b, emailAddress=me@x.org, 1.2.3.4=unknown, CN= lead\01ctl\7Fdel ünï , CN=-second`},
		{"spaces and slashes", pkix.RDNSequence{{x509nametest.ATV("2.5.4.3", "alice smith/..")}}, "CN=alice smith/.."},
		{"unknown oid", pkix.RDNSequence{{x509nametest.ATV("1.2.3", "x")}}, "1.2.3=x"},
	}
	for _, tt := range tests {
		c := x509nametest.Cert(t, big.NewInt(1), tt.rdns)
		if got := Subject(c); got != tt.want {
			t.Errorf("%s: Subject = %q, want %q", tt.name, got, tt.want)
		}
	}
}
