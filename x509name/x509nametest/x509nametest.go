// Package x509nametest makes certificates with exactly the subject a test
// asks for (attribute order, string types, duplicates), for the tests of
// x509name and of the packages that export subjects to scripts.
package x509nametest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ATV is one subject attribute: oid in dotted form ("2.5.4.3") and its
// value (a string, or an asn1.RawValue to force a string type).
func ATV(oid string, v any) pkix.AttributeTypeAndValue {
	var o asn1.ObjectIdentifier
	for p := range strings.SplitSeq(oid, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			panic("x509nametest: bad OID " + oid)
		}
		o = append(o, n)
	}
	return pkix.AttributeTypeAndValue{Type: o, Value: v}
}

// Cert makes a self-signed certificate with exactly the subject rdns.
func Cert(t testing.TB, serial *big.Int, rdns pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: serial, RawSubject: raw, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
