package lab_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

func readPEM(t *testing.T, path, wantType string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != wantType || len(rest) != 0 {
		t.Fatalf("%s: want one PEM block %q, got %v (rest %d bytes)", path, wantType, blk, len(rest))
	}
	return blk.Bytes
}

func TestPKIFiles(t *testing.T) {
	pki := lab.NewPKI(t)
	for _, c := range []*lab.Cert{pki.CA, pki.Server(t), pki.Client(t, "alice")} {
		der := readPEM(t, c.CertFile, "CERTIFICATE")
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if cert.SignatureAlgorithm != x509.ECDSAWithSHA256 || cert.PublicKeyAlgorithm != x509.ECDSA {
			t.Errorf("%s: %v / %v, want ECDSA with SHA-256", c.CN, cert.SignatureAlgorithm, cert.PublicKeyAlgorithm)
		}
		if cert.Subject.CommonName == "" || cert.Subject.CommonName != c.CN {
			t.Errorf("%s: subject CN %q", c.CertFile, cert.Subject.CommonName)
		}
		key, err := x509.ParsePKCS8PrivateKey(readPEM(t, c.KeyFile, "PRIVATE KEY"))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Key.Equal(key) {
			t.Errorf("%s: key file does not hold Cert.Key", c.KeyFile)
		}
		if fi, err := os.Stat(c.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", c.KeyFile, fi.Mode(), err)
		}
	}
	if !pki.CA.Cert.IsCA || pki.CA.Cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		t.Errorf("CA: IsCA %v, key usage %b", pki.CA.Cert.IsCA, pki.CA.Cert.KeyUsage)
	}
}

// TestCertOptions checks the default server and client certificates against
// what openvpn's `remote-cert-tls` wants, and that each negative option
// breaks exactly what it says.
func TestCertOptions(t *testing.T) {
	pki := lab.NewPKI(t)
	roots := x509.NewCertPool()
	roots.AddCert(pki.CA.Cert)
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name     string
		cert     *lab.Cert
		purpose  []x509.ExtKeyUsage
		wantCN   string
		wantKU   x509.KeyUsage
		checkErr func(error) bool
	}{
		{name: "server", cert: pki.Server(t), purpose: server, wantCN: "server",
			wantKU: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement},
		{name: "client", cert: pki.Client(t, "alice"), purpose: client, wantCN: "alice",
			wantKU: x509.KeyUsageDigitalSignature},
		{name: "custom CN", cert: pki.Server(t, lab.CommonName("vpn.example.net")), purpose: server,
			wantCN: "vpn.example.net", wantKU: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement},
		{name: "server with client EKU", cert: pki.Server(t, lab.ExtKeyUsage(x509.ExtKeyUsageClientAuth)),
			purpose: server, wantCN: "server", wantKU: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
			checkErr: func(err error) bool { return errors.As(err, new(x509.CertificateInvalidError)) }},
		{name: "expired", cert: pki.Client(t, "old", lab.Expired()), purpose: client, wantCN: "old",
			wantKU: x509.KeyUsageDigitalSignature,
			checkErr: func(err error) bool {
				var e x509.CertificateInvalidError
				return errors.As(err, &e) && e.Reason == x509.Expired
			}},
		{name: "not yet valid", cert: pki.Client(t, "future", lab.NotYetValid()), purpose: client,
			wantCN: "future", wantKU: x509.KeyUsageDigitalSignature,
			checkErr: func(err error) bool {
				var e x509.CertificateInvalidError
				return errors.As(err, &e) && e.Reason == x509.Expired
			}},
		{name: "no CN", cert: pki.Client(t, "x", lab.NoCommonName()), purpose: client, wantCN: "",
			wantKU: x509.KeyUsageDigitalSignature},
		{name: "no key usage", cert: pki.Client(t, "noku", lab.KeyUsage(0)), purpose: client, wantCN: "noku"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cert.Cert
			if c.Subject.CommonName != tc.wantCN || tc.cert.CN != tc.wantCN {
				t.Errorf("CN %q (Cert.CN %q), want %q", c.Subject.CommonName, tc.cert.CN, tc.wantCN)
			}
			if c.KeyUsage != tc.wantKU {
				t.Errorf("key usage %b, want %b", c.KeyUsage, tc.wantKU)
			}
			_, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: tc.purpose})
			switch {
			case tc.checkErr == nil && err != nil:
				t.Errorf("verify: %v", err)
			case tc.checkErr != nil && !tc.checkErr(err):
				t.Errorf("verify: got %v, want the failure this option is for", err)
			}
		})
	}
}

func TestCRL(t *testing.T) {
	pki := lab.NewPKI(t)
	bad, good := pki.Client(t, "mallory"), pki.Client(t, "alice")
	first := pki.CRL(t)
	path := pki.CRL(t, bad)
	if first == path {
		t.Fatalf("two CRLs share the file %s", path)
	}
	crl, err := x509.ParseRevocationList(readPEM(t, path, "X509 CRL"))
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(pki.CA.Cert); err != nil {
		t.Errorf("CRL signature: %v", err)
	}
	if crl.Number.Int64() != 2 {
		t.Errorf("CRL number %v, want 2", crl.Number)
	}
	if len(crl.RevokedCertificateEntries) != 1 ||
		crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.Cert.SerialNumber) != 0 ||
		bad.Cert.SerialNumber.Cmp(good.Cert.SerialNumber) == 0 {
		t.Errorf("revoked %v; want only serial %v", crl.RevokedCertificateEntries, bad.Cert.SerialNumber)
	}
	if !crl.NextUpdate.After(crl.ThisUpdate) {
		t.Errorf("CRL valid %v..%v", crl.ThisUpdate, crl.NextUpdate)
	}
}
