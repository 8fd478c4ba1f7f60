package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeyType is the kind of key pairs a CA makes, for itself and for every
// certificate it issues.
type KeyType string

const (
	// ECDSAP256 is ECDSA on P-256 with SHA-256 signatures (the default).
	ECDSAP256 KeyType = "ecdsa-p256"
	// RSA3072 is 3072-bit RSA with SHA-256 PKCS #1 v1.5 signatures.
	RSA3072 KeyType = "rsa-3072"
)

// ParseKeyType reads a key type as a user writes it: "ecdsa" (or
// "ecdsa-p256", "p256") or "rsa" (or "rsa-3072", "rsa3072"). "" is the
// default, ECDSAP256.
func ParseKeyType(s string) (KeyType, error) {
	switch strings.ToLower(s) {
	case "", "ecdsa", "ecdsa-p256", "p256", "p-256":
		return ECDSAP256, nil
	case "rsa", "rsa-3072", "rsa3072":
		return RSA3072, nil
	}
	return "", fmt.Errorf("pki: unknown key type %q: use ecdsa (P-256, the default) or rsa (3072 bits)", s)
}

// Kind says what a certificate is for.
type Kind string

const (
	// Server certificates carry EKU serverAuth (`remote-cert-tls server`).
	Server Kind = "server"
	// Client certificates carry EKU clientAuth (`remote-cert-tls client`).
	Client Kind = "client"
	// Authority is the CA's own certificate (the index's first entry).
	Authority Kind = "ca"
)

// Validity periods.
const (
	// CAValidityYears is how long a new CA is valid.
	CAValidityYears = 10
	// CertValidity is how long an issued certificate is valid (never
	// beyond the CA's own expiry).
	CertValidity = 825 * 24 * time.Hour
	// backdate starts certificates (and CRLs) an hour in the past, so that
	// a peer whose clock is a little behind accepts them.
	backdate = time.Hour
)

// MaxNameLen is the longest certificate name: openvpn refuses a CN longer
// than 64 characters.
const MaxNameLen = 64

// Errors callers may test with errors.Is.
var (
	// ErrExists: the name already has a valid certificate, or the
	// directory already holds a CA.
	ErrExists = errors.New("already exists")
	// ErrNotFound: the name has no valid certificate.
	ErrNotFound = errors.New("no valid certificate")
	// ErrNoCA: the directory holds no CA made by this package.
	ErrNoCA = errors.New("not an openvpn-go CA")
)

// File names inside a CA directory.
const (
	caCertName = "ca.crt"
	caKeyName  = "ca.key" // in privateDir
	crlName    = "crl.pem"
	indexName  = "index.json"
	lockName   = ".lock"
	privateDir = "private"
	issuedDir  = "issued"
)

// Options configures Create.
type Options struct {
	// KeyType is the key type of the CA and of every certificate it issues
	// (default ECDSAP256).
	KeyType KeyType
	// CommonName is the CA's CN (default "openvpn-go CA " and 8 random hex
	// digits, so that CAs of different setups are told apart).
	CommonName string
}

// CA is a certificate authority kept in a directory. Its methods may be
// called from several goroutines and processes at once: changes are
// serialized by a lock file.
type CA struct {
	// Dir is the CA's directory.
	Dir string
	// Cert is the CA certificate; CertPEM its PEM encoding (the content of
	// ca.crt, for inline <ca> blocks).
	Cert    *x509.Certificate
	CertPEM []byte
	// KeyType is the type of the CA's key and of the keys it makes.
	KeyType KeyType

	key crypto.Signer
	now func() time.Time
}

// CertFile is the CA certificate's path (for `ca`).
func (ca *CA) CertFile() string { return filepath.Join(ca.Dir, caCertName) }

// KeyFile is the CA private key's path.
func (ca *CA) KeyFile() string { return filepath.Join(ca.Dir, privateDir, caKeyName) }

// CRLFile is the revocation list's path (for `crl-verify`).
func (ca *CA) CRLFile() string { return filepath.Join(ca.Dir, crlName) }

// IndexFile is the index's path.
func (ca *CA) IndexFile() string { return filepath.Join(ca.Dir, indexName) }

// IssuedCertFile is where the certificate of name is kept.
func (ca *CA) IssuedCertFile(name string) string {
	return filepath.Join(ca.Dir, issuedDir, name+".crt")
}

// IssuedKeyFile is where the private key of name is kept.
func (ca *CA) IssuedKeyFile(name string) string {
	return filepath.Join(ca.Dir, privateDir, name+".key")
}

// ValidName reports whether name can be a certificate name: 1 to 64
// characters among letters, digits and . _ @ -, starting with a letter or
// digit. The name is the certificate's CN and part of file names, so
// nothing that openvpn would remap or a shell would need quoted is allowed.
// "ca" (in any case) is reserved for the CA itself.
func ValidName(name string) error {
	if name == "" {
		return errors.New("pki: the name is empty: use letters, digits and . _ @ -")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("pki: the name %q is %d characters long; openvpn allows at most %d", name, len(name), MaxNameLen)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i > 0 {
			ok = ok || r == '.' || r == '_' || r == '@' || r == '-'
		}
		if !ok {
			return fmt.Errorf("pki: the name %q has %q at position %d: use letters, digits and . _ @ - (starting with a letter or digit)", name, r, i+1)
		}
	}
	if strings.EqualFold(name, "ca") {
		return fmt.Errorf("pki: the name %q is reserved for the CA's own files: choose another", name)
	}
	return nil
}

// Create makes a new CA in dir (created if needed; it may exist but must
// not already hold a CA): the CA key and certificate, an empty index and an
// empty CRL.
func Create(dir string, o Options) (*CA, error) {
	kt, err := ParseKeyType(string(o.KeyType))
	if err != nil {
		return nil, err
	}
	cn := o.CommonName
	if cn == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("pki: reading random bytes: %w", err)
		}
		cn = "openvpn-go CA " + hex.EncodeToString(b[:])
	}
	if len(cn) > MaxNameLen || strings.ContainsAny(cn, "\x00\n\r/") {
		return nil, fmt.Errorf("pki: the CA name %q must be at most %d characters without / or control characters", cn, MaxNameLen)
	}
	for _, f := range []string{caCertName, filepath.Join(privateDir, caKeyName), indexName} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("pki: %s already holds a CA (%s exists); refusing to overwrite it: use another directory: %w",
				dir, filepath.Join(dir, f), ErrExists)
		}
	}
	if err := makeDirs(dir); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	ca := &CA{Dir: dir, KeyType: kt, now: time.Now}
	key, keyPEM, err := generateKey(kt)
	if err != nil {
		return nil, err
	}
	ca.key = key
	now := ca.now().Truncate(time.Second)
	serial, err := randomSerial(nil)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(CAValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SignatureAlgorithm:    signatureAlgorithm(kt),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the CA certificate: %w", err)
	}
	if ca.Cert, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("pki: parsing the CA certificate just made: %w", err)
	}
	ca.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})

	if err := writeFileAtomic(ca.KeyFile(), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(ca.CertFile(), ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	ix := &index{Version: indexVersion, CA: cn, KeyType: kt}
	ix.Certificates = append(ix.Certificates, Entry{
		Name: cn, Kind: Authority, Serial: serialString(serial), Status: StatusValid,
		NotBefore: ca.Cert.NotBefore, NotAfter: ca.Cert.NotAfter,
	})
	if err := ca.writeCRL(ix); err != nil {
		return nil, err
	}
	if err := ca.saveIndex(ix); err != nil {
		return nil, err
	}
	return ca, nil
}

// makeDirs creates dir (0755), dir/issued (0755) and dir/private (0700).
func makeDirs(dir string) error {
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{dir, 0o755}, {filepath.Join(dir, issuedDir), 0o755}, {filepath.Join(dir, privateDir), 0o700}} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return fmt.Errorf("pki: creating %s: %w", d.path, err)
		}
		// MkdirAll is subject to the umask and leaves existing directories
		// alone: the private directory must not be readable by others.
		if d.perm == 0o700 {
			if err := os.Chmod(d.path, d.perm); err != nil {
				return fmt.Errorf("pki: restricting %s to its owner: %w", d.path, err)
			}
		}
	}
	return nil
}

// Open loads the CA kept in dir, including its private key.
func Open(dir string) (*CA, error) {
	ix, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	ca := &CA{Dir: dir, now: time.Now}
	certPEM, err := os.ReadFile(ca.CertFile())
	if err != nil {
		return nil, fmt.Errorf("pki: reading the CA certificate: %w", err)
	}
	der, err := decodePEM(certPEM, "CERTIFICATE")
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", ca.CertFile(), err)
	}
	if ca.Cert, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", ca.CertFile(), err)
	}
	ca.CertPEM = certPEM
	keyPEM, err := os.ReadFile(ca.KeyFile())
	if err != nil {
		return nil, fmt.Errorf("pki: reading the CA key (needed to issue certificates): %w", err)
	}
	kder, err := decodePEM(keyPEM, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", ca.KeyFile(), err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kder)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", ca.KeyFile(), err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: %s holds a %T, which cannot sign", ca.KeyFile(), k)
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(ca.Cert.PublicKey) {
		return nil, fmt.Errorf("pki: %s does not belong to %s: restore the CA's own key", ca.KeyFile(), ca.CertFile())
	}
	ca.key = signer
	switch kk := signer.(type) {
	case *ecdsa.PrivateKey:
		if kk.Curve != elliptic.P256() {
			return nil, fmt.Errorf("pki: %s: ECDSA on %s is not supported: only P-256", ca.KeyFile(), kk.Curve.Params().Name)
		}
		ca.KeyType = ECDSAP256
	case *rsa.PrivateKey:
		ca.KeyType = RSA3072
	default:
		return nil, fmt.Errorf("pki: %s: %T keys are not supported: only ECDSA P-256 and RSA", ca.KeyFile(), signer)
	}
	if ix.KeyType != "" && ix.KeyType != ca.KeyType {
		return nil, fmt.Errorf("pki: %s says key type %s but the CA key is %s: restore the CA's own files", ca.IndexFile(), ix.KeyType, ca.KeyType)
	}
	return ca, nil
}

// Issued is a certificate just issued, with its private key.
type Issued struct {
	// Entry is its index entry.
	Entry Entry
	// Cert is the certificate; CertPEM and KeyPEM the contents of CertFile
	// and KeyFile (for inline <cert> and <key> blocks).
	Cert            *x509.Certificate
	CertPEM, KeyPEM []byte
	CertFile        string
	KeyFile         string
	// Superseded lists the certificates this one replaced (revoked, with
	// IssueOptions.Force).
	Superseded []Entry
}

// IssueOptions changes what Issue does.
type IssueOptions struct {
	// Force issues a certificate even when the name already has a valid one
	// of the same kind, and revokes the old one (reason "superseded"; the
	// CRL is rewritten). A name in use by the other kind is refused anyway.
	Force bool
}

// Issue makes a key pair and a certificate with CN name, of the given kind,
// writes them to issued/NAME.crt and private/NAME.key and records the
// certificate in the index. It fails with ErrExists when name already has a
// valid, unexpired certificate and o.Force is not set.
func (ca *CA) Issue(kind Kind, name string, o IssueOptions) (*Issued, error) {
	if kind != Server && kind != Client {
		return nil, fmt.Errorf("pki: unknown certificate kind %q: use %q or %q", kind, Server, Client)
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if name == ca.Cert.Subject.CommonName {
		// A leaf whose subject equals its issuer's looks self-issued to
		// OpenSSL's chain building.
		return nil, fmt.Errorf("pki: %q is the CA's own name: choose another", name)
	}
	unlock, err := lockDir(ca.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ix, err := readIndex(ca.Dir)
	if err != nil {
		return nil, err
	}
	now := ca.now().Truncate(time.Second)
	var old []int
	for i, e := range ix.Certificates {
		if e.Name != name || e.Kind == Authority || !e.Valid(now) {
			continue
		}
		if e.Kind != kind {
			return nil, fmt.Errorf("pki: %q is already the name of a %s certificate (serial %s); choose another name for this %s: %w",
				name, e.Kind, e.Serial, kind, ErrExists)
		}
		if !o.Force {
			return nil, fmt.Errorf("pki: %q already has a valid %s certificate (serial %s, until %s): choose another name, or force a new one (which revokes the old): %w",
				name, kind, e.Serial, e.NotAfter.Format(time.DateOnly), ErrExists)
		}
		old = append(old, i)
	}
	if !ca.Cert.NotAfter.After(now.Add(24 * time.Hour)) {
		return nil, fmt.Errorf("pki: the CA expires on %s: make a new setup with openvpn-go init", ca.Cert.NotAfter.Format(time.DateOnly))
	}

	key, keyPEM, err := generateKey(ca.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial(ix)
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-backdate)
	if notBefore.Before(ca.Cert.NotBefore) {
		notBefore = ca.Cert.NotBefore
	}
	notAfter := now.Add(CertValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true, // CA:FALSE
		SignatureAlgorithm:    signatureAlgorithm(ca.KeyType),
	}
	switch kind {
	case Server:
		// The key usage TLS expects of a server key: ECDHE_ECDSA signs with
		// it; static-ECDH/RSA key exchange would use keyAgreement or
		// keyEncipherment, which OpenSSL and easy-rsa set too.
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
		if ca.KeyType == RSA3072 {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		if isDNSName(name) {
			tmpl.DNSNames = []string{name}
		}
	case Client:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: signing the certificate of %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing the certificate just made for %q: %w", name, err)
	}
	is := &Issued{
		Cert:     cert,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:   keyPEM,
		CertFile: ca.IssuedCertFile(name),
		KeyFile:  ca.IssuedKeyFile(name),
		Entry: Entry{
			Name: name, Kind: kind, Serial: serialString(serial), Status: StatusValid,
			NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
		},
	}
	// Files first, index last: a crash in between leaves files that the
	// next Issue of the name overwrites, never an index entry without them.
	if err := writeFileAtomic(is.KeyFile, is.KeyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(is.CertFile, is.CertPEM, 0o644); err != nil {
		return nil, err
	}
	for _, i := range old {
		e := &ix.Certificates[i]
		e.Status, e.RevokedAt, e.Reason = StatusRevoked, now, ReasonSuperseded
		is.Superseded = append(is.Superseded, *e)
	}
	ix.Certificates = append(ix.Certificates, is.Entry)
	if len(old) > 0 {
		if err := ca.writeCRL(ix); err != nil {
			return nil, err
		}
	}
	if err := ca.saveIndex(ix); err != nil {
		return nil, err
	}
	return is, nil
}

// Revoke revokes every valid certificate named name (normally one), with
// reason "unspecified", and rewrites the CRL. It fails with ErrNotFound when
// name has no valid certificate. The CA certificate cannot be revoked.
func (ca *CA) Revoke(name string) ([]Entry, error) {
	unlock, err := lockDir(ca.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ix, err := readIndex(ca.Dir)
	if err != nil {
		return nil, err
	}
	now := ca.now().Truncate(time.Second)
	var revoked []Entry
	for i := range ix.Certificates {
		e := &ix.Certificates[i]
		if e.Name != name || e.Kind == Authority || e.Status != StatusValid {
			continue
		}
		e.Status, e.RevokedAt, e.Reason = StatusRevoked, now, ReasonUnspecified
		revoked = append(revoked, *e)
	}
	if len(revoked) == 0 {
		return nil, fmt.Errorf("pki: %q has no valid certificate in %s: %w", name, ca.IndexFile(), ErrNotFound)
	}
	if err := ca.writeCRL(ix); err != nil {
		return nil, err
	}
	if err := ca.saveIndex(ix); err != nil {
		return nil, err
	}
	return revoked, nil
}

// Entries returns every certificate of the index, the CA's own first, in
// the order they were issued.
func (ca *CA) Entries() ([]Entry, error) {
	ix, err := readIndex(ca.Dir)
	if err != nil {
		return nil, err
	}
	return ix.Certificates, nil
}

// Find returns the valid, unexpired certificate of the given kind named
// name, or ErrNotFound.
func (ca *CA) Find(kind Kind, name string) (Entry, error) {
	es, err := ca.Entries()
	if err != nil {
		return Entry{}, err
	}
	now := ca.now()
	for _, e := range es {
		if e.Kind == kind && e.Name == name && e.Valid(now) {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("pki: no valid %s certificate named %q in %s: %w", kind, name, ca.IndexFile(), ErrNotFound)
}

// ValidOfKind returns the valid, unexpired certificates of one kind.
func (ca *CA) ValidOfKind(kind Kind) ([]Entry, error) {
	es, err := ca.Entries()
	if err != nil {
		return nil, err
	}
	now := ca.now()
	var out []Entry
	for _, e := range es {
		if e.Kind == kind && e.Valid(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// WriteCRL rewrites the CRL from the index (with a new CRL number), for
// instance after restoring a lost crl.pem.
func (ca *CA) WriteCRL() error {
	unlock, err := lockDir(ca.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	ix, err := readIndex(ca.Dir)
	if err != nil {
		return err
	}
	if err := ca.writeCRL(ix); err != nil {
		return err
	}
	return ca.saveIndex(ix)
}

// writeCRL signs a CRL listing every revoked certificate of ix (whose CRL
// number it increments) and writes it. The caller holds the lock and saves
// ix afterwards.
func (ca *CA) writeCRL(ix *index) error {
	now := ca.now().Truncate(time.Second)
	ix.CRLNumber++
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(ix.CRLNumber),
		ThisUpdate: now.Add(-backdate),
		// OpenSSL refuses every peer once a CRL is past its nextUpdate,
		// and nothing renews this one: it lasts as long as the CA.
		NextUpdate: ca.Cert.NotAfter,
	}
	if !tmpl.NextUpdate.After(tmpl.ThisUpdate) {
		return fmt.Errorf("pki: the CA expired on %s: make a new setup with openvpn-go init", ca.Cert.NotAfter.Format(time.DateOnly))
	}
	for _, e := range ix.Certificates {
		if e.Status != StatusRevoked {
			continue
		}
		sn, err := e.SerialNumber()
		if err != nil {
			return fmt.Errorf("pki: %s: %w", ca.IndexFile(), err)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   sn,
			RevocationTime: e.RevokedAt,
			ReasonCode:     reasonCode(e.Reason),
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.key)
	if err != nil {
		return fmt.Errorf("pki: signing the CRL: %w", err)
	}
	return writeFileAtomic(ca.CRLFile(), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

// generateKey makes a key pair of type kt and its PKCS #8 PEM encoding.
func generateKey(kt KeyType) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	switch kt {
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA3072:
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, nil, fmt.Errorf("pki: unknown key type %q", kt)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generating a %s key: %w", kt, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: encoding a %s key: %w", kt, err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func signatureAlgorithm(kt KeyType) x509.SignatureAlgorithm {
	if kt == RSA3072 {
		return x509.SHA256WithRSA
	}
	return x509.ECDSAWithSHA256
}

// randomSerial returns a random, non-zero 128-bit serial number not yet in
// ix (nil: no index to check).
func randomSerial(ix *index) (*big.Int, error) {
	for range 16 {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("pki: reading random bytes: %w", err)
		}
		sn := new(big.Int).SetBytes(b[:])
		if sn.Sign() == 0 || ix != nil && ix.hasSerial(serialString(sn)) {
			continue
		}
		return sn, nil
	}
	return nil, errors.New("pki: no unused serial number after 16 random draws: the random source is broken")
}

// serialString is the index form of a serial number: upper-case hex, as
// `openssl x509 -serial` prints it.
func serialString(sn *big.Int) string { return strings.ToUpper(sn.Text(16)) }

// decodePEM returns the single block of type typ in b.
func decodePEM(b []byte, typ string) ([]byte, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("no PEM %q block found", typ)
	}
	if blk.Type != typ {
		return nil, fmt.Errorf("PEM block is %q, want %q", blk.Type, typ)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("unexpected data after the PEM %q block", typ)
	}
	return blk.Bytes, nil
}

// isDNSName reports whether name is a host name (letters, digits and
// hyphens in dot-separated labels), fit for a subjectAltName.
func isDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for l := range strings.SplitSeq(name, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so readers see the old or the new content, never
// a part; the file has mode perm from its creation on.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; widen it only for public files.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	return nil
}

// notExist reports a missing file.
func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
