package hook

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/openvpn-go/openvpn-go/x509name"
)

// maxCommonNameLen is openvpn's TLS_USERNAME_LEN: a longer common name
// fails verification of the peer certificate.
const maxCommonNameLen = 64

// SetCert adds the variables openvpn 2.6 exports for the certificate at
// depth in the peer's chain (0 is the peer, 1 its issuer...), in openvpn's
// order (ssl_verify.c verify_cert_set_env):
//
//   - X509_<depth>_<attr> for each subject attribute, named by OpenSSL's
//     short name (X509_0_CN, X509_1_O, X509_0_emailAddress), control
//     characters in the value replaced by '_'; a repeated attribute gets
//     _1, _2... appended (X509_0_OU, X509_0_OU_1);
//   - tls_id_<depth>: the subject as [Subject] renders it
//     ("C=US, O=Example, CN=vpn.example.com");
//   - tls_digest_<depth> and tls_digest_sha256_<depth>: SHA-1 and SHA-256
//     of the DER certificate in lowercase hex pairs separated by ':';
//   - tls_serial_<depth>: the serial number in decimal, and
//     tls_serial_hex_<depth> its bytes in lowercase hex pairs separated by
//     ':' ("03", "1f:a4:...").
//
// x509-track (which narrows the X509_ variables) is not supported.
func (e *Env) SetCert(depth int, c *x509.Certificate) {
	d := strconv.Itoa(depth)
	for _, n := range c.Subject.Names {
		sn, ok := x509name.ShortName(n.Type.String())
		if !ok {
			continue // NID_undef: openvpn skips the attribute
		}
		e.SetIncr("X509_"+d+"_"+sn, remapCtl(cutNUL(fmt.Sprint(n.Value))))
	}
	e.Set("tls_id_"+d, x509name.Subject(c))
	s1 := sha1.Sum(c.Raw)
	e.Set("tls_digest_"+d, colonHex(s1[:]))
	s256 := sha256.Sum256(c.Raw)
	e.Set("tls_digest_sha256_"+d, colonHex(s256[:]))
	serial, serialHex := "0", "00"
	if c.SerialNumber != nil {
		serial = c.SerialNumber.String()
		if b := c.SerialNumber.Bytes(); len(b) > 0 {
			serialHex = colonHex(b)
		}
	}
	e.Set("tls_serial_"+d, serial)
	e.Set("tls_serial_hex_"+d, serialHex)
}

// SetPeerChain adds the variables of a verified chain, chain[0] being the
// peer's certificate: SetCert for each depth from the top of the chain down
// to 0 (the order of OpenSSL's verify callback), and common_name from the
// peer certificate (see [PeerCommonName]) before its depth-0 variables, as
// openvpn does. A common name that cannot be extracted is left unset.
func (e *Env) SetPeerChain(chain []*x509.Certificate) {
	for depth := len(chain) - 1; depth >= 0; depth-- {
		if depth == 0 {
			if cn, ok := PeerCommonName(chain[0]); ok {
				e.SetCommonName(cn)
			}
		}
		e.SetCert(depth, chain[depth])
	}
}

// SetCommonName sets common_name to the remapped cn ([RemapCommonName]).
func (e *Env) SetCommonName(cn string) { e.Set("common_name", RemapCommonName(cn)) }

// PeerCommonName returns the common name openvpn 2.6 derives from a peer
// certificate with the default x509-username-field: the value of the last
// CN attribute of the subject, remapped ([RemapCommonName]). It reports
// false when there is no CN or when it is longer than 64 bytes, which
// openvpn treats as a verification failure.
func PeerCommonName(c *x509.Certificate) (string, bool) {
	cn, found := "", false
	for _, n := range c.Subject.Names {
		if n.Type.String() == "2.5.4.3" {
			cn, found = cutNUL(fmt.Sprint(n.Value)), true
		}
	}
	if !found || len(cn) > maxCommonNameLen {
		return "", false
	}
	return RemapCommonName(cn), true
}

// cutNUL ends s at its first NUL, as C strings end.
func cutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// colonHex formats b as lowercase hex pairs separated by ':' (openvpn's
// format_hex_ex with a one-byte break and ":" separator).
func colonHex(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	return sb.String()
}
