package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// PKI is a throwaway certificate authority whose files live in one
// directory (a test's TempDir). Keys are ECDSA P-256, signatures
// ECDSA-with-SHA256. It is safe for concurrent use.
type PKI struct {
	// Dir holds every file the PKI writes.
	Dir string
	// CA is the self-signed root; CA.CertFile is what `ca` points to.
	CA *Cert

	mu     sync.Mutex
	serial int64
	crls   int
}

// Cert is a certificate and its private key, in memory and as PEM files.
type Cert struct {
	// CN is the subject common name ("" for a certificate made with NoCommonName).
	CN string
	// CertFile is the PEM certificate ("CERTIFICATE").
	CertFile string
	// KeyFile is the PEM private key ("PRIVATE KEY", PKCS #8), mode 0600.
	KeyFile string
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// Key is the private key.
	Key *ecdsa.PrivateKey
}

// certSpec collects what CertOptions change.
type certSpec struct {
	cn        string
	noCN      bool
	org       []string
	notBefore time.Time
	notAfter  time.Time
	ku        x509.KeyUsage
	eku       []x509.ExtKeyUsage
	dnsNames  []string
}

// CertOption changes a certificate made by PKI.Server or PKI.Client, for
// negative tests.
type CertOption func(*certSpec)

// CommonName sets the subject CN.
func CommonName(cn string) CertOption { return func(s *certSpec) { s.cn = cn } }

// NoCommonName leaves the CN out of the subject (an Organization is set so
// the subject is not empty). openvpn refuses such a peer.
func NoCommonName() CertOption {
	return func(s *certSpec) { s.noCN = true; s.org = []string{"openvpn-go lab, no CN"} }
}

// Expired makes a certificate whose validity ended a day ago.
func Expired() CertOption {
	return func(s *certSpec) {
		s.notBefore = time.Now().Add(-48 * time.Hour)
		s.notAfter = time.Now().Add(-24 * time.Hour)
	}
}

// NotYetValid makes a certificate whose validity starts in a day.
func NotYetValid() CertOption {
	return func(s *certSpec) {
		s.notBefore = time.Now().Add(24 * time.Hour)
		s.notAfter = time.Now().Add(48 * time.Hour)
	}
}

// ExtKeyUsage replaces the extended key usages (none given: no EKU
// extension at all). ExtKeyUsage(x509.ExtKeyUsageClientAuth) on a server
// certificate is the classic "wrong EKU" case.
func ExtKeyUsage(eku ...x509.ExtKeyUsage) CertOption {
	return func(s *certSpec) { s.eku = eku }
}

// KeyUsage replaces the key usage bits; KeyUsage(0) leaves the Key Usage
// extension out, which `remote-cert-tls` refuses.
func KeyUsage(ku x509.KeyUsage) CertOption { return func(s *certSpec) { s.ku = ku } }

// DNSNames adds subjectAltName DNS entries.
func DNSNames(names ...string) CertOption {
	return func(s *certSpec) { s.dnsNames = append(s.dnsNames, names...) }
}

// NewPKI creates a CA (CN "openvpn-go lab CA") with its files in a new
// t.TempDir(). It fails t on error.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := CreatePKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// CreatePKI creates a CA with its files (ca.crt, ca.key) in dir, which must
// exist.
func CreatePKI(dir string) (*PKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generating the CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "openvpn-go lab CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("lab: signing the CA certificate: %w", err)
	}
	ca, err := writeCert(dir, "ca", der, key)
	if err != nil {
		return nil, err
	}
	return &PKI{Dir: dir, CA: ca, serial: 1}, nil
}

// Server issues a server certificate (default CN "server") that passes
// openvpn's `remote-cert-tls server`: Key Usage digitalSignature|keyAgreement
// (the ECDSA form) and EKU serverAuth. It fails t on error.
func (p *PKI) Server(t testing.TB, opts ...CertOption) *Cert {
	t.Helper()
	s := certSpec{
		cn:  "server",
		ku:  x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	c, err := p.issue(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Client issues a client certificate with the given CN that passes
// openvpn's `remote-cert-tls client`: Key Usage digitalSignature and EKU
// clientAuth. It fails t on error.
func (p *PKI) Client(t testing.TB, cn string, opts ...CertOption) *Cert {
	t.Helper()
	s := certSpec{
		cn:  cn,
		ku:  x509.KeyUsageDigitalSignature,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	c, err := p.issue(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue signs a certificate starting from base (the defaults of Server or
// Client) with opts applied, and writes NN-CN.crt and NN-CN.key, NN being
// the serial number.
func (p *PKI) issue(base certSpec, opts ...CertOption) (*Cert, error) {
	s := base
	now := time.Now()
	s.notBefore, s.notAfter = now.Add(-time.Hour), now.Add(7*24*time.Hour)
	for _, o := range opts {
		o(&s)
	}
	if s.cn == "" && !s.noCN {
		return nil, fmt.Errorf("lab: certificate without a CN: pass a CN, or NoCommonName() for a negative test")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generating a key for %q: %w", s.cn, err)
	}
	p.mu.Lock()
	p.serial++
	serial := p.serial
	p.mu.Unlock()
	subj := pkix.Name{Organization: s.org}
	if !s.noCN {
		subj.CommonName = s.cn
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               subj,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              s.ku,
		ExtKeyUsage:           s.eku,
		BasicConstraintsValid: true,
		DNSNames:              s.dnsNames,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA.Cert, &key.PublicKey, p.CA.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: signing the certificate for %q: %w", s.cn, err)
	}
	name := fmt.Sprintf("%02d-%s", serial, fileSafe(s.cn))
	c, err := writeCert(p.Dir, name, der, key)
	if err != nil {
		return nil, err
	}
	if s.noCN {
		c.CN = ""
	}
	return c, nil
}

// CRL writes a CRL signed by the CA that revokes the given certificates,
// valid from an hour ago for a week, and returns its path (for openvpn's
// `crl-verify`). Each call writes a new file with a higher CRL number. It
// fails t on error.
func (p *PKI) CRL(t testing.TB, revoked ...*Cert) string {
	t.Helper()
	path, err := p.WriteCRL(time.Now().Add(7*24*time.Hour), revoked...)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteCRL is CRL with an explicit nextUpdate (a past one makes an expired
// CRL).
func (p *PKI) WriteCRL(nextUpdate time.Time, revoked ...*Cert) (string, error) {
	p.mu.Lock()
	p.crls++
	n := p.crls
	p.mu.Unlock()
	now := time.Now()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(int64(n)),
		ThisUpdate: now.Add(-time.Hour),
		NextUpdate: nextUpdate,
	}
	if !nextUpdate.After(tmpl.ThisUpdate) {
		tmpl.ThisUpdate = nextUpdate.Add(-time.Hour)
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   c.Cert.SerialNumber,
			RevocationTime: now.Add(-time.Minute),
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.CA.Cert, p.CA.Key)
	if err != nil {
		return "", fmt.Errorf("lab: signing CRL %d: %w", n, err)
	}
	path := filepath.Join(p.Dir, fmt.Sprintf("crl-%d.pem", n))
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		return "", fmt.Errorf("lab: writing the CRL: %w", err)
	}
	return path, nil
}

func writeCert(dir, name string, der []byte, key *ecdsa.PrivateKey) (*Cert, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lab: parsing the certificate just made for %s: %w", name, err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("lab: encoding the key of %s: %w", name, err)
	}
	c := &Cert{
		CN:       cert.Subject.CommonName,
		CertFile: filepath.Join(dir, name+".crt"),
		KeyFile:  filepath.Join(dir, name+".key"),
		Cert:     cert,
		Key:      key,
	}
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, fmt.Errorf("lab: writing %s: %w", c.CertFile, err)
	}
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return nil, fmt.Errorf("lab: writing %s: %w", c.KeyFile, err)
	}
	return c, nil
}

// fileSafe maps a CN to something usable in a file name.
func fileSafe(s string) string {
	if s == "" {
		return "nocn"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
