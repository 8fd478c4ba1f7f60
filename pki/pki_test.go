package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newCA(t *testing.T, kt KeyType) *CA {
	t.Helper()
	ca, err := Create(filepath.Join(t.TempDir(), "pki"), Options{KeyType: kt})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	der, err := decodePEM(b, "CERTIFICATE")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func readCRL(t *testing.T, ca *CA) *x509.RevocationList {
	t.Helper()
	b, err := os.ReadFile(ca.CRLFile())
	if err != nil {
		t.Fatal(err)
	}
	der, err := decodePEM(b, "X509 CRL")
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}

func verify(cert, ca *x509.Certificate, usage x509.ExtKeyUsage) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestCertificates(t *testing.T) {
	for _, kt := range []KeyType{ECDSAP256, RSA3072} {
		t.Run(string(kt), func(t *testing.T) {
			ca := newCA(t, kt)
			srv, err := ca.Issue(Server, "server", IssueOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cli, err := ca.Issue(Client, "alice", IssueOptions{})
			if err != nil {
				t.Fatal(err)
			}

			// Files and their modes.
			checkMode(t, ca.Dir, 0o755)
			checkMode(t, filepath.Join(ca.Dir, privateDir), 0o700)
			checkMode(t, ca.CertFile(), 0o644)
			checkMode(t, ca.KeyFile(), 0o600)
			checkMode(t, ca.CRLFile(), 0o644)
			checkMode(t, ca.IndexFile(), 0o644)
			for _, is := range []*Issued{srv, cli} {
				checkMode(t, is.CertFile, 0o644)
				checkMode(t, is.KeyFile, 0o600)
				if got := readCert(t, is.CertFile); !got.Equal(is.Cert) {
					t.Errorf("%s differs from the returned certificate", is.CertFile)
				}
				if b, _ := os.ReadFile(is.KeyFile); !bytes.Equal(b, is.KeyPEM) {
					t.Errorf("%s differs from the returned key", is.KeyFile)
				}
				checkKeyMatches(t, is, kt)
			}

			// The CA.
			c := readCert(t, ca.CertFile())
			if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
				t.Errorf("CA basic constraints: IsCA %v valid %v pathlen %d", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen)
			}
			if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
				t.Errorf("CA key usage %b", c.KeyUsage)
			}
			if !strings.HasPrefix(c.Subject.CommonName, "openvpn-go CA ") || len(c.Subject.CommonName) != len("openvpn-go CA ")+8 {
				t.Errorf("CA CN %q", c.Subject.CommonName)
			}
			if d := c.NotAfter.Sub(c.NotBefore); d < 10*365*24*time.Hour || d > 10*366*24*time.Hour+2*time.Hour {
				t.Errorf("CA validity %v, want 10 years", d)
			}
			if len(c.SubjectKeyId) == 0 {
				t.Error("CA has no subject key identifier")
			}

			wantSig, wantPub := x509.ECDSAWithSHA256, x509.ECDSA
			wantServerKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
			if kt == RSA3072 {
				wantSig, wantPub = x509.SHA256WithRSA, x509.RSA
				wantServerKU = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			}
			for _, x := range []*x509.Certificate{c, srv.Cert, cli.Cert} {
				if x.SignatureAlgorithm != wantSig || x.PublicKeyAlgorithm != wantPub {
					t.Errorf("%s: %v / %v, want %v / %v", x.Subject.CommonName, x.SignatureAlgorithm, x.PublicKeyAlgorithm, wantSig, wantPub)
				}
				if x.SerialNumber.Sign() <= 0 || x.SerialNumber.BitLen() > 128 || x.SerialNumber.BitLen() < 64 {
					t.Errorf("%s: serial %x is not a random 128-bit number", x.Subject.CommonName, x.SerialNumber)
				}
			}

			// Server: CN, KU present, EKU serverAuth only, 825 days.
			s := srv.Cert
			if s.Subject.CommonName != "server" || s.IsCA {
				t.Errorf("server: CN %q IsCA %v", s.Subject.CommonName, s.IsCA)
			}
			if s.KeyUsage != wantServerKU {
				t.Errorf("server key usage %b, want %b", s.KeyUsage, wantServerKU)
			}
			if len(s.ExtKeyUsage) != 1 || s.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("server EKU %v", s.ExtKeyUsage)
			}
			if len(s.DNSNames) != 1 || s.DNSNames[0] != "server" {
				t.Errorf("server SAN %v", s.DNSNames)
			}
			if d := s.NotAfter.Sub(s.NotBefore); d != CertValidity+backdate {
				t.Errorf("server validity %v, want %v", d, CertValidity+backdate)
			}
			if err := verify(s, c, x509.ExtKeyUsageServerAuth); err != nil {
				t.Errorf("server chain: %v", err)
			}
			if err := verify(s, c, x509.ExtKeyUsageClientAuth); err == nil {
				t.Error("the server certificate verifies as a client")
			}

			// Client: CN, KU digitalSignature, EKU clientAuth only.
			k := cli.Cert
			if k.Subject.CommonName != "alice" || k.IsCA || k.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("client: CN %q IsCA %v KU %b", k.Subject.CommonName, k.IsCA, k.KeyUsage)
			}
			if len(k.ExtKeyUsage) != 1 || k.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
				t.Errorf("client EKU %v", k.ExtKeyUsage)
			}
			if len(k.DNSNames) != 0 {
				t.Errorf("client SAN %v", k.DNSNames)
			}
			if err := verify(k, c, x509.ExtKeyUsageClientAuth); err != nil {
				t.Errorf("client chain: %v", err)
			}
			if err := verify(k, c, x509.ExtKeyUsageServerAuth); err == nil {
				t.Error("the client certificate verifies as a server")
			}

			// The initial CRL: empty, signed by the CA, valid as long as the CA.
			crl := readCRL(t, ca)
			if len(crl.RevokedCertificateEntries) != 0 || crl.Number.Int64() != 1 || !crl.NextUpdate.Equal(c.NotAfter) {
				t.Errorf("initial CRL: %d entries, number %v, next update %v", len(crl.RevokedCertificateEntries), crl.Number, crl.NextUpdate)
			}

			// Reopening gives the same CA and key type.
			ca2, err := Open(ca.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if !ca2.Cert.Equal(ca.Cert) || ca2.KeyType != kt {
				t.Errorf("Open: %v %s", ca2.Cert.Subject, ca2.KeyType)
			}
			opensslVerify(t, ca, srv, cli)
		})
	}
}

func checkKeyMatches(t *testing.T, is *Issued, kt KeyType) {
	t.Helper()
	der, err := decodePEM(is.KeyPEM, "PRIVATE KEY")
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if kt != ECDSAP256 || k.Curve != elliptic.P256() || !k.PublicKey.Equal(is.Cert.PublicKey) {
			t.Errorf("%s: ECDSA key does not match (%s)", is.Entry.Name, kt)
		}
	case *rsa.PrivateKey:
		if kt != RSA3072 || k.N.BitLen() != 3072 || !k.PublicKey.Equal(is.Cert.PublicKey) {
			t.Errorf("%s: RSA key does not match (%s, %d bits)", is.Entry.Name, kt, k.N.BitLen())
		}
	default:
		t.Errorf("%s: key is %T", is.Entry.Name, k)
	}
}

// opensslVerify checks the chain with the OpenSSL openvpn links against,
// with the purposes openvpn uses, when the openssl command exists.
func opensslVerify(t *testing.T, ca *CA, srv, cli *Issued) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl not installed; skipping the OpenSSL check")
		return
	}
	run := func(wantOK bool, args ...string) {
		t.Helper()
		out, err := exec.Command("openssl", append([]string{"verify", "-CAfile", ca.CertFile()}, args...)...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Errorf("openssl verify %v: %v (want ok: %v)\n%s", args, err, wantOK, out)
		}
	}
	run(true, "-purpose", "sslserver", "-crl_check", "-CRLfile", ca.CRLFile(), srv.CertFile)
	run(true, "-purpose", "sslclient", "-crl_check", "-CRLfile", ca.CRLFile(), cli.CertFile)
	run(false, "-purpose", "sslserver", cli.CertFile)
	if _, err := ca.Revoke(cli.Entry.Name); err != nil {
		t.Fatal(err)
	}
	run(false, "-purpose", "sslclient", "-crl_check", "-CRLfile", ca.CRLFile(), cli.CertFile)
	run(true, "-purpose", "sslserver", "-crl_check", "-CRLfile", ca.CRLFile(), srv.CertFile)
}

func TestIndexAndRevocation(t *testing.T) {
	ca := newCA(t, ECDSAP256)
	a1, err := ca.Issue(Client, "alice", IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(Client, "alice", IssueOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second alice: %v, want ErrExists", err)
	}
	if _, err := ca.Issue(Server, "alice", IssueOptions{Force: true}); !errors.Is(err, ErrExists) {
		t.Fatalf("server named like a client, forced: %v, want ErrExists", err)
	}
	if _, err := ca.Issue(Client, ca.Cert.Subject.CommonName, IssueOptions{}); err == nil {
		t.Fatal("a client named like the CA was issued")
	}

	// Force: a new certificate, the old one revoked as superseded.
	a2, err := ca.Issue(Client, "alice", IssueOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if a2.Entry.Serial == a1.Entry.Serial || len(a2.Superseded) != 1 || a2.Superseded[0].Serial != a1.Entry.Serial {
		t.Fatalf("forced reissue: serial %s, superseded %v", a2.Entry.Serial, a2.Superseded)
	}
	crl := readCRL(t, ca)
	if len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL after a forced reissue: %d entries", len(crl.RevokedCertificateEntries))
	}
	if e := crl.RevokedCertificateEntries[0]; e.SerialNumber.Cmp(a1.Cert.SerialNumber) != 0 || e.ReasonCode != 4 {
		t.Errorf("CRL entry %x reason %d, want %x reason 4 (superseded)", e.SerialNumber, e.ReasonCode, a1.Cert.SerialNumber)
	}
	if crl.Number.Int64() != 2 {
		t.Errorf("CRL number %v, want 2", crl.Number)
	}

	// Revoke: the CRL lists both alice certificates; a new one may then
	// be issued without Force.
	rev, err := ca.Revoke("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(rev) != 1 || rev[0].Serial != a2.Entry.Serial || rev[0].Reason != ReasonUnspecified || rev[0].RevokedAt.IsZero() {
		t.Fatalf("Revoke returned %+v", rev)
	}
	if _, err := ca.Revoke("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v, want ErrNotFound", err)
	}
	if _, err := ca.Revoke(ca.Cert.Subject.CommonName); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking the CA: %v, want ErrNotFound", err)
	}
	crl = readCRL(t, ca)
	got := map[string]int{}
	for _, e := range crl.RevokedCertificateEntries {
		got[serialString(e.SerialNumber)] = e.ReasonCode
	}
	if len(got) != 2 || got[a1.Entry.Serial] != 4 || got[a2.Entry.Serial] != 0 {
		t.Errorf("CRL entries %v", got)
	}
	if crl.Number.Int64() != 3 || !crl.NextUpdate.Equal(ca.Cert.NotAfter) || crl.ThisUpdate.After(time.Now()) {
		t.Errorf("CRL number %v, this update %v, next update %v", crl.Number, crl.ThisUpdate, crl.NextUpdate)
	}
	a3, err := ca.Issue(Client, "alice", IssueOptions{})
	if err != nil {
		t.Fatalf("issuing alice after revoking her: %v", err)
	}

	// The index, as another process would read it.
	ca2, err := Open(ca.Dir)
	if err != nil {
		t.Fatal(err)
	}
	es, err := ca2.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, e := range es {
		summary = append(summary, fmt.Sprintf("%s/%s/%s/%s", e.Kind, e.Name, e.Status, e.Reason))
	}
	want := []string{
		"ca/" + ca.Cert.Subject.CommonName + "/valid/",
		"client/alice/revoked/superseded",
		"client/alice/revoked/unspecified",
		"client/alice/valid/",
	}
	if strings.Join(summary, " ") != strings.Join(want, " ") {
		t.Errorf("index:\n got %v\nwant %v", summary, want)
	}
	if e, err := ca2.Find(Client, "alice"); err != nil || e.Serial != a3.Entry.Serial {
		t.Errorf("Find alice: %+v %v", e, err)
	}
	if _, err := ca2.Find(Client, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find bob: %v", err)
	}
	if v, err := ca2.ValidOfKind(Authority); err != nil || len(v) != 1 || v[0].Serial != serialString(ca.Cert.SerialNumber) {
		t.Errorf("ValidOfKind(ca): %v %v", v, err)
	}
}

func TestExpiredNameIsFree(t *testing.T) {
	ca := newCA(t, ECDSAP256)
	if _, err := ca.Issue(Client, "carol", IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	ca.now = func() time.Time { return time.Now().Add(CertValidity + 48*time.Hour) }
	if _, err := ca.Issue(Client, "carol", IssueOptions{}); err != nil {
		t.Fatalf("reissuing an expired name: %v", err)
	}
	// Certificates never outlive the CA.
	ca.now = func() time.Time { return ca.Cert.NotAfter.Add(-30 * 24 * time.Hour) }
	is, err := ca.Issue(Client, "dave", IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !is.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("late certificate ends %v, CA %v", is.Cert.NotAfter, ca.Cert.NotAfter)
	}
	ca.now = func() time.Time { return ca.Cert.NotAfter.Add(time.Hour) }
	if _, err := ca.Issue(Client, "erin", IssueOptions{}); err == nil {
		t.Error("an expired CA issued a certificate")
	}
}

func TestSerialsUnique(t *testing.T) {
	ca := newCA(t, ECDSAP256)
	seen := map[string]bool{serialString(ca.Cert.SerialNumber): true}
	for i := range 40 {
		is, err := ca.Issue(Client, fmt.Sprintf("c%d", i), IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[is.Entry.Serial] {
			t.Fatalf("serial %s issued twice", is.Entry.Serial)
		}
		seen[is.Entry.Serial] = true
		if sn, err := is.Entry.SerialNumber(); err != nil || sn.Cmp(is.Cert.SerialNumber) != 0 {
			t.Fatalf("index serial %s vs certificate %x (%v)", is.Entry.Serial, is.Cert.SerialNumber, err)
		}
	}
	// randomSerial skips serials already in the index.
	ix, err := readIndex(ca.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		sn, err := randomSerial(ix)
		if err != nil {
			t.Fatal(err)
		}
		if ix.hasSerial(serialString(sn)) {
			t.Fatal("randomSerial returned a used serial")
		}
	}
}

func TestConcurrentIssue(t *testing.T) {
	ca := newCA(t, ECDSAP256)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// Separate CA values, as separate processes would have.
			c, err := Open(ca.Dir)
			if err == nil {
				_, err = c.Issue(Client, fmt.Sprintf("user%d", i), IssueOptions{})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v, err := ca.ValidOfKind(Client)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != n {
		t.Fatalf("index has %d clients, want %d: an update was lost", len(v), n)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	ca := newCA(t, ECDSAP256)
	before, _ := os.ReadFile(ca.CertFile())
	if _, err := Create(ca.Dir, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a CA: %v, want ErrExists", err)
	}
	if after, _ := os.ReadFile(ca.CertFile()); !bytes.Equal(before, after) {
		t.Fatal("Create changed an existing CA")
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNoCA) {
		t.Fatalf("Open of an empty directory: %v, want ErrNoCA", err)
	}
	// A key that does not belong to the certificate is refused.
	other := newCA(t, ECDSAP256)
	k, _ := os.ReadFile(other.KeyFile())
	if err := os.WriteFile(ca.KeyFile(), k, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ca.Dir); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("Open with a foreign key: %v", err)
	}
	// A damaged index.
	if err := os.WriteFile(other.IndexFile(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other.Dir); !errors.Is(err, ErrNoCA) {
		t.Fatalf("Open with a damaged index: %v", err)
	}
}

func TestCustomCA(t *testing.T) {
	ca, err := Create(t.TempDir(), Options{CommonName: "Example VPN CA", KeyType: "ecdsa"})
	if err != nil {
		t.Fatal(err)
	}
	if ca.Cert.Subject.CommonName != "Example VPN CA" {
		t.Errorf("CN %q", ca.Cert.Subject.CommonName)
	}
	if _, err := Create(t.TempDir(), Options{KeyType: "dsa"}); err == nil {
		t.Error("key type dsa accepted")
	}
	if _, err := Create(t.TempDir(), Options{CommonName: "a/b"}); err == nil {
		t.Error("CA name with / accepted")
	}
}

func TestValidName(t *testing.T) {
	for _, n := range []string{"alice", "Bob-laptop", "a", "x.y_z@example.com", strings.Repeat("a", 64), "0day"} {
		if err := ValidName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "-alice", ".hidden", "a b", "a/b", "../x", "é", strings.Repeat("a", 65), "ca", "CA", "a\x00", "a,b"} {
		if err := ValidName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
}

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]KeyType{"": ECDSAP256, "ECDSA": ECDSAP256, "p256": ECDSAP256, "rsa": RSA3072, "rsa-3072": RSA3072} {
		if got, err := ParseKeyType(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseKeyType("ed25519"); err == nil {
		t.Error("ed25519 accepted")
	}
}

func TestSerialNumberParse(t *testing.T) {
	for _, s := range []string{"", "0", "-1", "xyz"} {
		if _, err := (Entry{Serial: s}).SerialNumber(); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if sn, err := (Entry{Serial: "FF"}).SerialNumber(); err != nil || sn.Cmp(big.NewInt(255)) != 0 {
		t.Errorf("FF: %v %v", sn, err)
	}
}

func TestDecodePEM(t *testing.T) {
	blk := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})
	if _, err := decodePEM(blk, "CERTIFICATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := decodePEM(blk, "PRIVATE KEY"); err == nil {
		t.Error("wrong type accepted")
	}
	if _, err := decodePEM(append(blk, blk...), "CERTIFICATE"); err == nil {
		t.Error("two blocks accepted")
	}
	if _, err := decodePEM([]byte("junk"), "CERTIFICATE"); err == nil {
		t.Error("junk accepted")
	}
}
