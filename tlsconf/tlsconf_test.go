package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, cn string) *ca {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{cert: c, key: k, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

type leafOpts struct {
	subject pkix.Name
	eku     []x509.ExtKeyUsage
	ku      x509.KeyUsage
	serial  int64
	expired bool
}

func (c *ca) issue(t *testing.T, o leafOpts) (der []byte, certPEM, keyPEM []byte) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nb, na := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if o.expired {
		nb, na = time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)
	}
	if o.serial == 0 {
		o.serial = 42
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(o.serial), Subject: o.subject,
		NotBefore: nb, NotAfter: na, ExtKeyUsage: o.eku, KeyUsage: o.ku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &k.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(k)
	return der, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func mat(b []byte) *config.Material { return &config.Material{Data: b, Path: "x.pem"} }

func TestClientVerification(t *testing.T) {
	root := newCA(t, "Root")
	other := newCA(t, "Other")
	srvName := pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, CommonName: "vpn.example.com"}
	good := leafOpts{subject: srvName, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, ku: x509.KeyUsageDigitalSignature}
	goodDER, _, _ := root.issue(t, good)
	sum := sha256.Sum256(goodDER)
	crlDER := func(serial int64) []byte {
		b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number:                    big.NewInt(1),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(serial), RevocationTime: time.Now()}},
			ThisUpdate:                time.Now(), NextUpdate: time.Now().Add(time.Hour),
		}, root.cert, root.key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		opts    config.TLS
		leaf    leafOpts
		issuer  *ca
		wantErr string
	}{
		{name: "plain", opts: config.TLS{CA: mat(root.pem)}, leaf: good},
		{name: "other CA", opts: config.TLS{CA: mat(root.pem)}, leaf: good, issuer: other, wantErr: "unknown authority"},
		{name: "expired", opts: config.TLS{CA: mat(root.pem)}, leaf: leafOpts{subject: srvName, expired: true}, wantErr: "expired"},
		{name: "no CN", opts: config.TLS{CA: mat(root.pem)}, leaf: leafOpts{subject: pkix.Name{Organization: []string{"NoCN"}}}, wantErr: "could not extract CN"},
		{name: "client EKU refused by purpose check", opts: config.TLS{CA: mat(root.pem)}, leaf: leafOpts{subject: srvName, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, wantErr: "key usage"},
		{name: "remote-cert-tls ok", opts: config.TLS{CA: mat(root.pem), RemoteCertTLS: config.CertUsageServer}, leaf: good},
		{name: "remote-cert-tls no KU", opts: config.TLS{CA: mat(root.pem), RemoteCertTLS: config.CertUsageServer}, leaf: leafOpts{subject: srvName, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, wantErr: "no key usage"},
		{name: "remote-cert-tls no EKU", opts: config.TLS{CA: mat(root.pem), RemoteCertTLS: config.CertUsageServer}, leaf: leafOpts{subject: srvName, ku: x509.KeyUsageDigitalSignature}, wantErr: "lacks the extended key usage"},
		{name: "verify-x509-name subject", opts: config.TLS{CA: mat(root.pem), VerifyX509Name: &config.VerifyX509Name{Name: "C=US, O=Example, CN=vpn.example.com"}}, leaf: good},
		{name: "verify-x509-name subject mismatch", opts: config.TLS{CA: mat(root.pem), VerifyX509Name: &config.VerifyX509Name{Name: "C=US, O=Example, CN=other"}}, leaf: good, wantErr: "is not"},
		{name: "verify-x509-name name", opts: config.TLS{CA: mat(root.pem), VerifyX509Name: &config.VerifyX509Name{Name: "vpn.example.com", Type: config.X509Name}}, leaf: good},
		{name: "verify-x509-name prefix", opts: config.TLS{CA: mat(root.pem), VerifyX509Name: &config.VerifyX509Name{Name: "vpn.", Type: config.X509NamePrefix}}, leaf: good},
		{name: "verify-x509-name prefix mismatch", opts: config.TLS{CA: mat(root.pem), VerifyX509Name: &config.VerifyX509Name{Name: "www.", Type: config.X509NamePrefix}}, leaf: good, wantErr: "does not start"},
		{name: "remote-cert-ku a0 matches digitalSignature", opts: config.TLS{CA: mat(root.pem), RemoteCertKU: []uint16{0x80}}, leaf: good},
		{name: "remote-cert-ku mismatch", opts: config.TLS{CA: mat(root.pem), RemoteCertKU: []uint16{0x20}}, leaf: good, wantErr: "matches none"},
		{name: "remote-cert-eku name", opts: config.TLS{CA: mat(root.pem), RemoteCertEKU: "TLS Web Server Authentication"}, leaf: good},
		{name: "remote-cert-eku missing", opts: config.TLS{CA: mat(root.pem), RemoteCertEKU: "TLS Web Client Authentication"}, leaf: good, wantErr: "lacks"},
		{name: "fingerprint without CA", opts: config.TLS{PeerFingerprints: [][32]byte{sum}}, leaf: good},
		{name: "fingerprint mismatch", opts: config.TLS{PeerFingerprints: [][32]byte{{1}}}, leaf: good, wantErr: "fingerprint"},
		{name: "crl revokes", opts: config.TLS{CA: mat(root.pem), CRL: mat(crlDER(42))}, leaf: good, wantErr: "revoked"},
		{name: "crl other serial", opts: config.TLS{CA: mat(root.pem), CRL: mat(crlDER(7))}, leaf: good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Client(&tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			iss := tt.issuer
			if iss == nil {
				iss = root
			}
			der := goodDER
			if !reflect.DeepEqual(tt.leaf, good) || iss != root {
				der, _, _ = iss.issue(t, tt.leaf)
			}
			err = r.Config.VerifyPeerCertificate([][]byte{der}, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if r.PeerCertificate() == nil {
					t.Fatal("peer certificate not recorded")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrVerify) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	root := newCA(t, "Root")
	_, certPEM, keyPEM := root.issue(t, leafOpts{subject: pkix.Name{CommonName: "c"}})
	for _, tt := range []struct {
		name string
		opts config.TLS
		want string
	}{
		{"nothing to verify with", config.TLS{}, "no way to verify"},
		{"garbage CA", config.TLS{CA: mat([]byte("hello"))}, "no certificate found"},
		{"cert without key", config.TLS{CA: mat(root.pem), Cert: mat(certPEM)}, "together"},
		{"encrypted key", config.TLS{CA: mat(root.pem), Cert: mat(certPEM), Key: mat([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"))}, "encrypted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Client(&tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	r, err := Client(&config.TLS{CA: mat(root.pem), Cert: mat(certPEM), Key: mat(keyPEM), CipherList: "HIGH"})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Config.GetClientCertificate(nil); c == nil || len(c.Certificate) != 1 {
		t.Fatal("client certificate not presented")
	}
	if len(r.Warnings) != 1 {
		t.Fatalf("warnings %v", r.Warnings)
	}
	if _, err := Server(&config.TLS{CA: mat(root.pem)}, config.ClientCertRequire); err == nil {
		t.Fatal("server without certificate accepted")
	}
}

func TestSubjectFormat(t *testing.T) {
	root := newCA(t, "Root")
	der, _, _ := root.issue(t, leafOpts{subject: pkix.Name{Country: []string{"DE"}, Province: []string{"Berlin"}, Organization: []string{"ACME"}, OrganizationalUnit: []string{"IT"}, CommonName: "-bad\x01name"}})
	c, _ := x509.ParseCertificate(der)
	if got, want := Subject(c), `C=DE, ST=Berlin, O=ACME, OU=IT, CN=-bad\01name`; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

// TestCRLReload: a server re-reads crl-verify when the file changes, so a
// revocation takes effect for new connections without a restart.
func TestCRLReload(t *testing.T) {
	root := newCA(t, "Root")
	der, _, _ := root.issue(t, leafOpts{subject: pkix.Name{CommonName: "bob"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, serial: 77})
	crl := func(serials ...int64) []byte {
		var e []x509.RevocationListEntry
		for _, s := range serials {
			e = append(e, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: time.Now()})
		}
		b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(int64(len(serials) + 1)),
			RevokedCertificateEntries: e, ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, root.cert, root.key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	path := filepath.Join(t.TempDir(), "crl.pem")
	os.WriteFile(path, crl(9), 0o644)
	_, scert, skey := root.issue(t, leafOpts{subject: pkix.Name{CommonName: "server"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, serial: 5})
	r, err := Server(&config.TLS{CA: mat(root.pem), Cert: mat(scert), Key: mat(skey),
		CRL: &config.Material{Data: crl(9), Path: path, ResolvedPath: path}}, config.ClientCertRequire)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Config.VerifyPeerCertificate([][]byte{der}, nil); err != nil {
		t.Fatalf("not yet revoked: %v", err)
	}
	os.WriteFile(path, crl(9, 77), 0o644)
	os.Chtimes(path, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if err := r.Config.VerifyPeerCertificate([][]byte{der}, nil); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revocation not seen after the CRL changed: %v", err)
	}
	// A broken file keeps the last good CRL (fail closed).
	os.WriteFile(path, []byte("garbage"), 0o644)
	os.Chtimes(path, time.Now().Add(2*time.Minute), time.Now().Add(2*time.Minute))
	if err := r.Config.VerifyPeerCertificate([][]byte{der}, nil); err == nil {
		t.Fatal("a broken CRL file let a revoked client in")
	}
}
