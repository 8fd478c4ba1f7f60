// Package tlsconf turns OpenVPN's TLS options (config.TLS) into crypto/tls
// configurations for the client and the server, and performs the
// certificate checks openvpn 2.6 performs on the peer: chain verification
// against --ca (or pinning with --peer-fingerprint), a mandatory common name,
// --remote-cert-tls, --remote-cert-ku/eku, --verify-x509-name, --verify-hash
// and --crl-verify.
//
// OpenVPN never uses host names in TLS: there is no SNI and no name check
// beyond --verify-x509-name, so verification is done in
// VerifyPeerCertificate rather than by crypto/tls itself.
package tlsconf

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Result is a prepared TLS configuration plus what callers report or check.
type Result struct {
	Config *tls.Config
	// Warnings are settings that could not be applied exactly (e.g. an
	// OpenSSL cipher string), one sentence each.
	Warnings []string

	mu       sync.Mutex
	peerLeaf *x509.Certificate
	check    *checker
}

// WithChainCheck returns a copy of Config whose certificate verification,
// after all of openvpn's checks passed, also calls check with the verified
// chain (the peer's certificate first, the root last); an error refuses the
// peer. tls-verify runs this way, with a copy per connection so the check
// knows which peer it is looking at. Without client certificates
// (verify-client-cert none) there is nothing to check and Config is
// returned as is.
func (r *Result) WithChainCheck(check func(chain []*x509.Certificate) error) *tls.Config {
	if r.Config.VerifyPeerCertificate == nil {
		return r.Config
	}
	tc := r.Config.Clone()
	c := r.check
	tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		chain, err := c.verify(raw, time.Now())
		if err != nil {
			return err
		}
		return check(chain)
	}
	return tc
}

// Client builds the client's TLS configuration.
func Client(o *config.TLS) (*Result, error) { return build(o, false) }

// Server builds the server's TLS configuration. verifyClient is the
// --verify-client-cert policy.
func Server(o *config.TLS, verifyClient config.VerifyClientCert) (*Result, error) {
	r, err := build(o, true)
	if err != nil {
		return nil, err
	}
	switch verifyClient {
	case config.ClientCertNone:
		r.Config.ClientAuth = tls.NoClientCert
		r.Config.VerifyPeerCertificate = nil
	case config.ClientCertOptional:
		r.Config.ClientAuth = tls.RequestClientCert
	default:
		r.Config.ClientAuth = tls.RequireAnyClientCert
	}
	return r, nil
}

type checker struct {
	roots        *x509.CertPool
	fingerprints [][32]byte
	verifyHash   [][]byte
	crl          *x509.RevocationList
	// crlPath, when set, is re-read whenever it changes, as openvpn re-reads
	// crl-verify for every new connection (revocation without a restart).
	crlPath    string
	crlMu      sync.Mutex
	crlStamp   time.Time
	remoteTLS  config.CertUsage
	kuRequired bool
	ku         []uint16
	eku        string
	name       *config.VerifyX509Name
	server     bool // we are the server: the peer is a client
}

func build(o *config.TLS, server bool) (*Result, error) {
	r := &Result{}
	c := &checker{
		fingerprints: o.PeerFingerprints,
		verifyHash:   o.VerifyHash,
		remoteTLS:    o.RemoteCertTLS,
		kuRequired:   o.RemoteCertKURequired,
		ku:           o.RemoteCertKU,
		eku:          o.RemoteCertEKU,
		name:         o.VerifyX509Name,
		server:       server,
	}
	if c.remoteTLS == config.CertUsageNone && o.NSCertType != config.CertUsageNone {
		c.remoteTLS = o.NSCertType
	}
	tc := &tls.Config{
		MinVersion:                  o.VersionMin,
		MaxVersion:                  o.VersionMax,
		DynamicRecordSizingDisabled: true,
		SessionTicketsDisabled:      true,
		InsecureSkipVerify:          true, // verified by checker.verify
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	if o.VersionMinOrHighest {
		tc.MinVersion = tls.VersionTLS13
		if tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS13 {
			tc.MinVersion = tc.MaxVersion
		}
	}
	if tc.MinVersion < tls.VersionTLS12 {
		r.Warnings = append(r.Warnings, "tls-version-min below 1.2 is not supported; using 1.2")
		tc.MinVersion = tls.VersionTLS12
	}

	// Trust anchors.
	if o.CA != nil {
		pool, n, err := parseCerts(o.CA.Data)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: ca %s: %w", where(o.CA), err)
		}
		if n == 0 {
			return nil, fmt.Errorf("tlsconf: ca %s: no certificate found (expected PEM \"-----BEGIN CERTIFICATE-----\")", where(o.CA))
		}
		c.roots = pool
	}
	if o.CAPath != "" {
		return nil, errors.New("tlsconf: capath (OpenSSL hashed directory) is not supported yet: concatenate the CA certificates into one file and use ca")
	}

	// Own certificate.
	var cert *tls.Certificate
	switch {
	case o.PKCS12 != nil:
		key, leaf, cas, err := pkcs12.DecodeChain(o.PKCS12.Data, "")
		if err != nil {
			return nil, fmt.Errorf("tlsconf: pkcs12 %s: %w (password-protected PKCS#12 files are not supported yet)", where(o.PKCS12), err)
		}
		cert = &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
		for _, ca := range cas {
			if c.roots == nil {
				c.roots = x509.NewCertPool()
			}
			// OpenVPN uses the PKCS#12 CA certificates when --ca is absent.
			if o.CA == nil {
				c.roots.AddCert(ca)
			}
			cert.Certificate = append(cert.Certificate, ca.Raw)
		}
	case o.Cert != nil || o.Key != nil:
		if o.Cert == nil || o.Key == nil {
			return nil, errors.New("tlsconf: cert and key must be given together")
		}
		if bytes.Contains(o.Key.Data, []byte("ENCRYPTED")) {
			return nil, fmt.Errorf("tlsconf: key %s is encrypted: openvpn-go cannot ask for the key password yet; decrypt it with `openssl pkey -in KEY -out KEY.plain`", where(o.Key))
		}
		kp, err := tls.X509KeyPair(o.Cert.Data, o.Key.Data)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: cert %s / key %s: %w", where(o.Cert), where(o.Key), err)
		}
		cert = &kp
	}
	if cert != nil && o.ExtraCerts != nil {
		for _, der := range pemBlocks(o.ExtraCerts.Data, "CERTIFICATE") {
			cert.Certificate = append(cert.Certificate, der)
		}
	}
	if c.roots == nil && len(c.fingerprints) == 0 {
		return nil, errors.New("tlsconf: no way to verify the peer: give ca (the CA certificate) or peer-fingerprint")
	}

	if o.CRL != nil {
		crl, err := parseCRL(o.CRL.Data)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: crl-verify %s: %w", where(o.CRL), err)
		}
		c.crl = crl
		if !o.CRL.Inline && o.CRL.ResolvedPath != "" {
			c.crlPath = o.CRL.ResolvedPath
			if st, err := os.Stat(c.crlPath); err == nil {
				c.crlStamp = st.ModTime()
			}
		}
	}
	if o.CRLDir != "" {
		r.Warnings = append(r.Warnings, "crl-verify with 'dir' is not supported yet: revoked serials in "+o.CRLDir+" are not checked")
	}
	if o.CipherList != "" {
		r.Warnings = append(r.Warnings, "tls-cipher uses OpenSSL syntax; openvpn-go keeps Go's TLS 1.2 ECDHE suites")
	}
	if o.Ciphersuites != "" {
		r.Warnings = append(r.Warnings, "tls-ciphersuites is not configurable with Go's TLS 1.3; its default suites are used")
	}
	if curves, warn := curvePreferences(o.Groups, o.ECDHCurve); len(curves) > 0 {
		tc.CurvePreferences = curves
	} else if warn != "" {
		r.Warnings = append(r.Warnings, warn)
	}

	r.check = c
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		chain, err := c.verify(raw, time.Now())
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.peerLeaf = chain[0]
		r.mu.Unlock()
		return nil
	}
	tc.VerifyPeerCertificate = verify
	if server {
		if cert == nil {
			return nil, errors.New("tlsconf: a server needs cert and key (or pkcs12)")
		}
		tc.Certificates = []tls.Certificate{*cert}
		if c.roots != nil {
			tc.ClientCAs = c.roots // names sent in the CertificateRequest
		}
	} else if cert != nil {
		cc := *cert
		// Always present our certificate, whatever CA names the server lists.
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cc, nil }
	}
	r.Config = tc
	return r, nil
}

func where(m *config.Material) string {
	if m.Inline {
		return fmt.Sprintf("(inline, %s:%d)", m.File, m.Line)
	}
	return fmt.Sprintf("%q", m.Path)
}

func pemBlocks(b []byte, typ string) [][]byte {
	var out [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type == typ || (typ == "CERTIFICATE" && blk.Type == "TRUSTED CERTIFICATE") {
			out = append(out, blk.Bytes)
		}
	}
}

func parseCerts(b []byte) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n := 0
	for _, der := range pemBlocks(b, "CERTIFICATE") {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, 0, err
		}
		pool.AddCert(cert)
		n++
	}
	return pool, n, nil
}

func parseCRL(b []byte) (*x509.RevocationList, error) {
	if blks := pemBlocks(b, "X509 CRL"); len(blks) > 0 {
		b = blks[0]
	}
	return x509.ParseRevocationList(b)
}

var curveNames = map[string]tls.CurveID{
	"prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256, "p-256": tls.CurveP256,
	"secp384r1": tls.CurveP384, "p-384": tls.CurveP384,
	"secp521r1": tls.CurveP521, "p-521": tls.CurveP521,
	"x25519": tls.X25519,
}

func curvePreferences(groups, ecdh string) ([]tls.CurveID, string) {
	src := groups
	if src == "" {
		src = ecdh
	}
	if src == "" {
		return nil, ""
	}
	var out []tls.CurveID
	for _, name := range strings.FieldsFunc(src, func(r rune) bool { return r == ':' || r == ',' }) {
		id, ok := curveNames[strings.ToLower(strings.TrimPrefix(name, "?"))]
		if !ok {
			continue
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, "tls-groups/ecdh-curve " + src + " names no curve Go supports; using the defaults"
	}
	return out, ""
}

// PeerCertificate returns the leaf of the last verified peer chain.
func (r *Result) PeerCertificate() *x509.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peerLeaf
}

// ErrVerify wraps every certificate-check failure.
var ErrVerify = errors.New("certificate verification failed")

func verifyErr(format string, args ...any) error {
	return fmt.Errorf("tlsconf: VERIFY ERROR: %w: "+format, append([]any{ErrVerify}, args...)...)
}

// verify runs OpenVPN's checks on the peer chain raw (leaf first).
// verify runs openvpn's checks on the peer's certificates and returns the
// verified chain, the peer's certificate first.
func (c *checker) verify(raw [][]byte, now time.Time) ([]*x509.Certificate, error) {
	if len(raw) == 0 {
		return nil, verifyErr("peer sent no certificate")
	}
	certs := make([]*x509.Certificate, 0, len(raw))
	for _, der := range raw {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, verifyErr("cannot parse peer certificate: %v", err)
		}
		certs = append(certs, cert)
	}
	if len(certs) > 16 {
		return nil, verifyErr("certificate chain longer than 16")
	}
	leaf := certs[0]
	var chain []*x509.Certificate
	if len(c.fingerprints) > 0 {
		sum := sha256.Sum256(leaf.Raw)
		ok := false
		for _, f := range c.fingerprints {
			if f == sum {
				ok = true
			}
		}
		if !ok {
			return nil, verifyErr("peer certificate fingerprint %X does not match any peer-fingerprint", sum)
		}
	}
	if c.roots != nil {
		inter := x509.NewCertPool()
		for _, ic := range certs[1:] {
			inter.AddCert(ic)
		}
		usage := x509.ExtKeyUsageServerAuth
		if c.server {
			usage = x509.ExtKeyUsageClientAuth
		}
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots: c.roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			return nil, verifyErr("depth=0, subject=%s: %v", Subject(leaf), err)
		}
		chain = chains[0]
	} else if len(c.fingerprints) == 0 {
		return nil, verifyErr("no ca and no peer-fingerprint configured")
	} else {
		chain = certs
		if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			return nil, verifyErr("peer certificate is not valid at %v", now.UTC())
		}
	}
	if len(c.verifyHash) > 0 && len(chain) > 1 {
		if !matchHash(chain[1], c.verifyHash) {
			return nil, verifyErr("verify-hash does not match the issuing CA %s", Subject(chain[1]))
		}
	}
	crl := c.currentCRL()
	if crl != nil {
		for _, cert := range chain {
			if !bytes.Equal(cert.RawIssuer, crl.RawIssuer) {
				continue
			}
			for _, rc := range crl.RevokedCertificateEntries {
				if rc.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return nil, verifyErr("certificate %s (serial %s) is revoked by the CRL", Subject(cert), cert.SerialNumber)
				}
			}
		}
	}
	cn := leaf.Subject.CommonName
	if cn == "" {
		return nil, verifyErr("could not extract CN from the peer certificate %s", Subject(leaf))
	}
	if len(cn) > 64 {
		return nil, verifyErr("peer CN is longer than 64 characters")
	}
	if err := c.checkUsage(leaf); err != nil {
		return nil, err
	}
	if c.name != nil {
		if err := checkName(leaf, c.name); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// currentCRL returns the CRL, re-reading the file when it changed. A file
// that became unreadable or invalid keeps the last good CRL: failing open
// here would let revoked clients in.
func (c *checker) currentCRL() *x509.RevocationList {
	if c.crlPath == "" {
		return c.crl
	}
	c.crlMu.Lock()
	defer c.crlMu.Unlock()
	st, err := os.Stat(c.crlPath)
	if err != nil || st.ModTime().Equal(c.crlStamp) {
		return c.crl
	}
	b, err := os.ReadFile(c.crlPath)
	if err != nil {
		return c.crl
	}
	crl, err := parseCRL(b)
	if err != nil {
		return c.crl
	}
	c.crl, c.crlStamp = crl, st.ModTime()
	return crl
}

func matchHash(ca *x509.Certificate, hashes [][]byte) bool {
	s256 := sha256.Sum256(ca.Raw)
	for _, h := range hashes {
		if len(h) == 32 && bytes.Equal(h, s256[:]) {
			return true
		}
		if len(h) == 20 {
			// SHA-1 pins (deprecated) are compared too.
			if bytes.Equal(h, sha1Sum(ca.Raw)) {
				return true
			}
		}
	}
	return false
}

func (c *checker) checkUsage(leaf *x509.Certificate) error {
	if c.remoteTLS != config.CertUsageNone {
		want, name := x509.ExtKeyUsageServerAuth, "TLS Web Server Authentication"
		if c.remoteTLS == config.CertUsageClient {
			want, name = x509.ExtKeyUsageClientAuth, "TLS Web Client Authentication"
		}
		if leaf.KeyUsage == 0 {
			return verifyErr("remote-cert-tls: the peer certificate has no key usage extension")
		}
		if !hasEKU(leaf, want) {
			return verifyErr("remote-cert-tls: the peer certificate lacks the extended key usage %s", name)
		}
	}
	if c.kuRequired && leaf.KeyUsage == 0 {
		return verifyErr("remote-cert-ku: the peer certificate has no key usage extension")
	}
	if len(c.ku) > 0 {
		have := opensslKU(leaf.KeyUsage)
		ok := false
		for _, want := range c.ku {
			if want != 0 && have&want == want {
				ok = true
			}
		}
		if !ok {
			return verifyErr("remote-cert-ku: peer key usage %04x matches none of the expected values", have)
		}
	}
	if c.eku != "" && !ekuMatches(leaf, c.eku) {
		return verifyErr("remote-cert-eku: the peer certificate lacks %s", c.eku)
	}
	return nil
}

func hasEKU(cert *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}

// opensslKU converts Go's key usage bits to OpenSSL's representation, in
// which remote-cert-ku values are written (digitalSignature = 0x80 ...
// decipherOnly = 0x8000).
func opensslKU(ku x509.KeyUsage) uint16 {
	var v uint16
	for i := 0; i < 8; i++ {
		if ku&(1<<i) != 0 {
			v |= 0x80 >> i
		}
	}
	if ku&x509.KeyUsageDecipherOnly != 0 {
		v |= 0x8000
	}
	return v
}

var ekuNames = map[string]x509.ExtKeyUsage{
	"tls web server authentication": x509.ExtKeyUsageServerAuth, "serverauth": x509.ExtKeyUsageServerAuth, "1.3.6.1.5.5.7.3.1": x509.ExtKeyUsageServerAuth,
	"tls web client authentication": x509.ExtKeyUsageClientAuth, "clientauth": x509.ExtKeyUsageClientAuth, "1.3.6.1.5.5.7.3.2": x509.ExtKeyUsageClientAuth,
	"code signing": x509.ExtKeyUsageCodeSigning, "1.3.6.1.5.5.7.3.3": x509.ExtKeyUsageCodeSigning,
	"e-mail protection": x509.ExtKeyUsageEmailProtection, "1.3.6.1.5.5.7.3.4": x509.ExtKeyUsageEmailProtection,
}

func ekuMatches(cert *x509.Certificate, want string) bool {
	w := strings.ToLower(strings.TrimSpace(want))
	if u, ok := ekuNames[w]; ok {
		return hasEKU(cert, u)
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		if oid.String() == w {
			return true
		}
	}
	return false
}

func checkName(leaf *x509.Certificate, n *config.VerifyX509Name) error {
	cn := RemapName(leaf.Subject.CommonName)
	switch n.Type {
	case config.X509Name:
		if cn != n.Name {
			return verifyErr("verify-x509-name: peer CN %q is not %q", cn, n.Name)
		}
	case config.X509NamePrefix:
		if !strings.HasPrefix(cn, n.Name) {
			return verifyErr("verify-x509-name: peer CN %q does not start with %q", cn, n.Name)
		}
	default:
		if s := Subject(leaf); s != n.Name {
			return verifyErr("verify-x509-name: peer subject %q is not %q", s, n.Name)
		}
	}
	return nil
}
