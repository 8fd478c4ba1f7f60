package control

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

type testPKI struct {
	pool       *x509.CertPool
	server     tls.Certificate
	client     tls.Certificate
	clientLeaf *x509.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nb, na := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	mk := func(cn string, eku x509.ExtKeyUsage, serial int64) (tls.Certificate, *x509.Certificate) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{eku},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, leaf
	}
	p.server, _ = mk("server", x509.ExtKeyUsageServerAuth, 2)
	p.client, p.clientLeaf = mk("client", x509.ExtKeyUsageClientAuth, 3)
	return p
}

func (p *testPKI) tlsConfigs() (client, server *tls.Config) {
	verify := func(usage x509.ExtKeyUsage) func([][]byte, [][]*x509.Certificate) error {
		return func(raw [][]byte, _ [][]*x509.Certificate) error {
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: p.pool, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: time.Now()})
			return err
		}
	}
	client = &tls.Config{
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verify(x509.ExtKeyUsageServerAuth),
		GetClientCertificate:  func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.client, nil },
	}
	server = &tls.Config{
		Certificates:          []tls.Certificate{p.server},
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: verify(x509.ExtKeyUsageClientAuth),
	}
	return
}

// wireLink delivers packets after a delay, optionally dropping,
// duplicating and reordering them.
type wireLink struct {
	rng   *mrand.Rand
	loss  float64
	dup   float64
	queue []inflight
	count int
}

type inflight struct {
	at  time.Time
	pkt []byte
}

func (l *wireLink) send(now time.Time, pkts [][]byte) {
	for _, p := range pkts {
		l.count++
		if l.rng != nil && l.rng.Float64() < l.loss {
			continue
		}
		d := time.Millisecond
		if l.rng != nil {
			d += time.Duration(l.rng.IntN(20)) * time.Millisecond
		}
		l.queue = append(l.queue, inflight{now.Add(d), p})
		if l.rng != nil && l.rng.Float64() < l.dup {
			l.queue = append(l.queue, inflight{now.Add(d + 3*time.Millisecond), p})
		}
	}
}

func (l *wireLink) due(now time.Time) [][]byte {
	var out [][]byte
	keep := l.queue[:0]
	for _, f := range l.queue {
		if !f.at.After(now) {
			out = append(out, f.pkt)
		} else {
			keep = append(keep, f)
		}
	}
	l.queue = keep
	return out
}

type pair struct {
	t        *testing.T
	c, s     *Session
	cs, sc   *wireLink
	cEv, sEv []Event
}

func newPair(t *testing.T, rng *mrand.Rand, loss float64, mod func(c, s *Config)) *pair {
	pki := newTestPKI(t)
	ctls, stls := pki.tlsConfigs()
	ccfg := Config{Role: RoleClient, TLS: ctls, Options: "V4,dev-type tun,tls-client",
		ClientCredentials: func(kid wire.KeyID) (string, string, string) {
			return "alice", "secret", "IV_VER=2.6.14\nIV_PROTO=14\n"
		}}
	scfg := Config{Role: RoleServer, TLS: stls, Options: "V4,dev-type tun,tls-server"}
	if mod != nil {
		mod(&ccfg, &scfg)
	}
	c, err := New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{t: t, c: c, s: s, cs: &wireLink{rng: rng, loss: loss, dup: loss}, sc: &wireLink{rng: rng, loss: loss, dup: loss}}
	t.Cleanup(func() { c.Close(); s.Close() })
	return p
}

// step advances fake time by d and runs both owners once.
func (p *pair) step(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
	now := time.Now()
	for _, pkt := range p.cs.due(now) {
		p.s.HandlePacket(now, pkt)
	}
	for _, pkt := range p.sc.due(now) {
		p.c.HandlePacket(now, pkt)
	}
	p.c.Tick(now)
	p.s.Tick(now)
	p.cs.send(now, p.c.Outgoing())
	p.sc.send(now, p.s.Outgoing())
	p.cEv = append(p.cEv, p.c.Events()...)
	p.sEv = append(p.sEv, p.s.Events()...)
}

func (p *pair) runUntil(limit time.Duration, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("condition not met within %v; client events %v; server events %v", limit, p.cEv, p.sEv)
		}
		p.step(time.Millisecond)
	}
}

func has(evs []Event, kind EventKind, kid wire.KeyID) bool {
	return slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == kind && e.KeyID == kid })
}

func messages(evs []Event) []string {
	var m []string
	for _, e := range evs {
		if e.Kind == EventMessage {
			m = append(m, e.Message)
		}
	}
	return m
}

func TestHandshakeAndMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		tls  uint16
	}{
		{"clean-tls13", 0, tls.VersionTLS13},
		{"clean-tls12", 0, tls.VersionTLS12},
		{"lossy", 0.2, tls.VersionTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rng := mrand.New(mrand.NewPCG(7, 9))
				p := newPair(t, rng, tc.loss, func(c, s *Config) {
					c.TLS.MaxVersion = tc.tls
				})
				p.c.Start(time.Now())
				p.runUntil(2*time.Minute, func() bool {
					return has(p.cEv, EventKeyExchanged, 0) && has(p.sEv, EventKeyExchanged, 0)
				})
				km, ok := p.s.PeerKeyMethod(0)
				if !ok || km.Username != "alice" || km.Password != "secret" || !strings.Contains(km.PeerInfo, "IV_PROTO=14") || km.Options != "V4,dev-type tun,tls-client" {
					t.Fatalf("server saw %+v", km)
				}
				if km, _ := p.c.PeerKeyMethod(0); km.Options != "V4,dev-type tun,tls-server" || km.HasUserPass {
					t.Fatalf("client saw %+v", km)
				}
				if cn := p.s.PeerCertificates(0)[0].Subject.CommonName; cn != "client" {
					t.Fatalf("peer CN %q", cn)
				}
				for _, how := range []KeyDerivation{DerivePRF, DeriveEKM} {
					ck, err := p.c.DataKeys(0, how)
					if err != nil {
						t.Fatal(err)
					}
					sk, err := p.s.DataKeys(0, how)
					if err != nil {
						t.Fatal(err)
					}
					if ck != sk || ck == [256]byte{} {
						t.Fatalf("%v keys differ", how)
					}
				}
				if err := p.c.SendMessage(time.Now(), "PUSH_REQUEST"); err != nil {
					t.Fatal(err)
				}
				p.runUntil(time.Minute, func() bool { return len(messages(p.sEv)) == 1 })
				long := "PUSH_REPLY," + strings.Repeat("route 10.0.0.0 255.255.255.0,", 60)
				long = strings.TrimSuffix(long, ",")
				if err := p.s.SendMessage(time.Now(), long); err != nil {
					t.Fatal(err)
				}
				p.runUntil(time.Minute, func() bool { return len(messages(p.cEv)) == 1 })
				if got := messages(p.sEv); got[0] != "PUSH_REQUEST" {
					t.Fatal(got)
				}
				if got := messages(p.cEv); got[0] != long {
					t.Fatalf("got %d bytes", len(got[0]))
				}
			})
		})
	}
}

func TestRenegotiation(t *testing.T) {
	for _, initiator := range []string{"client", "server", "both"} {
		t.Run(initiator, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, nil, 0, func(c, s *Config) {
					c.TranWindow = 30 * time.Second
					s.TranWindow = 30 * time.Second
				})
				p.c.Start(time.Now())
				p.runUntil(time.Minute, func() bool {
					return has(p.cEv, EventKeyExchanged, 0) && has(p.sEv, EventKeyExchanged, 0)
				})
				for _, kid := range []wire.KeyID{1, 2, 3, 4, 5, 6, 7, 1} {
					now := time.Now()
					switch initiator {
					case "client":
						p.c.Renegotiate(now)
					case "server":
						p.s.Renegotiate(now)
					case "both":
						p.c.Renegotiate(now)
						p.s.Renegotiate(now)
					}
					p.cEv, p.sEv = nil, nil
					p.runUntil(time.Minute, func() bool {
						return has(p.cEv, EventKeyExchanged, kid) && has(p.sEv, EventKeyExchanged, kid)
					})
					if k, _ := p.c.PrimaryKeyID(); k != kid {
						t.Fatalf("primary %d, want %d", k, kid)
					}
					ck, _ := p.c.DataKeys(kid, DerivePRF)
					sk, _ := p.s.DataKeys(kid, DerivePRF)
					if ck != sk {
						t.Fatalf("key %d differs", kid)
					}
					// The previous key is a lame duck that still has keys.
					prev := kid - 1
					if kid == 1 && initiator != "" && p.c.slotFor(7) != nil {
						prev = 7
					}
					if _, err := p.c.DataKeys(prev, DerivePRF); err != nil && prev != 0 {
						t.Fatalf("lame duck %d: %v", prev, err)
					}
					// Messages flow on the new key.
					if err := p.c.SendMessage(time.Now(), "PING"); err != nil {
						t.Fatal(err)
					}
					p.runUntil(time.Minute, func() bool { return slices.Contains(messages(p.sEv), "PING") })
				}
				// The lame duck retires after the transition window.
				p.cEv = nil
				p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyRetired, 7) })
			})
		})
	}
}

func TestRenegSec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, 0, func(c, s *Config) { s.RenegSec = 10 * time.Second })
		p.c.Start(time.Now())
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyExchanged, 0) })
		start := time.Now()
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyExchanged, 2) })
		if d := time.Since(start); d < 20*time.Second || d > 21*time.Second {
			t.Fatalf("two renegotiations took %v", d)
		}
	})
}

func TestHandWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, 0, nil)
		p.c.Start(time.Now())
		// Nothing reaches the server: the client gives up after 60 s.
		p.cs.loss, p.cs.rng = 1, mrand.New(mrand.NewPCG(1, 1))
		start := time.Now()
		p.runUntil(2*time.Minute, func() bool { return has(p.cEv, EventFailed, 0) })
		if d := time.Since(start); d < 60*time.Second || d > 61*time.Second {
			t.Fatalf("failed after %v", d)
		}
		// Resets were retransmitted with backoff: 0, 2, 6, 14, 30 s (+62 > 60).
		if p.cs.count != 5 {
			t.Fatalf("%d resets sent", p.cs.count)
		}
	})
}

func TestBadCertificate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, 0, func(c, s *Config) {
			other := newTestPKI(t)
			c.TLS.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
				leaf, _ := x509.ParseCertificate(raw[0])
				_, err := leaf.Verify(x509.VerifyOptions{Roots: other.pool, CurrentTime: time.Now()})
				return err
			}
		})
		p.c.Start(time.Now())
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventFailed, 0) })
		if has(p.sEv, EventKeyExchanged, 0) {
			t.Fatal("server completed a key exchange with a client that refused it")
		}
	})
}

func TestGarbage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, 0, nil)
		p.c.Start(time.Now())
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyExchanged, 0) && has(p.sEv, EventKeyExchanged, 0) })
		rng := mrand.New(mrand.NewPCG(3, 4))
		now := time.Now()
		for i := 0; i < 5000; i++ {
			b := make([]byte, rng.IntN(80))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			if len(b) > 0 && i%2 == 0 {
				b[0] = wire.OpcodeByte(wire.OpControlV1, 0)
			}
			p.c.HandlePacket(now, b)
			p.s.HandlePacket(now, b)
		}
		// The sessions still work.
		p.c.SendMessage(time.Now(), "STILL_ALIVE")
		p.runUntil(time.Minute, func() bool { return slices.Contains(messages(p.sEv), "STILL_ALIVE") })
	})
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, nil, 0, nil)
		p.c.Start(time.Now())
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyExchanged, 0) && has(p.sEv, EventKeyExchanged, 0) })
		p.c.Renegotiate(time.Now())
		p.runUntil(time.Minute, func() bool { return has(p.cEv, EventKeyExchanged, 1) })
		p.c.Close()
		p.s.Close()
	})
	// synctest.Test fails the test if goroutines of the bubble outlive it; check
	// the process too.
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines %d -> %d", before, after)
	}
}

func TestWrappedHandshake(t *testing.T) {
	var k2 keys.Key2
	rand.Read(k2[:])
	srvKey, _ := keys.GenerateKey(nil)
	v2srv, err := ctlwrap.NewV2ServerKey(&srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := v2srv.GenerateClientKey(nil, ctlwrap.TimestampMetadata(time.Unix(1e9, 0)))
	if err != nil {
		t.Fatal(err)
	}
	sha256, _ := ctlwrap.ParseDigest("SHA256")
	for _, tc := range []struct {
		name string
		mod  func(c, s *Config)
	}{
		{"tls-auth", func(c, s *Config) {
			c.Wrap, _ = ctlwrap.NewTLSAuth(&k2, keys.Inverse, sha256, ctlwrap.Options{})
			s.Wrap, _ = ctlwrap.NewTLSAuth(&k2, keys.Normal, sha256, ctlwrap.Options{})
		}},
		{"tls-crypt", func(c, s *Config) {
			c.Wrap, _ = ctlwrap.NewTLSCrypt(&k2, false, ctlwrap.Options{})
			s.Wrap, _ = ctlwrap.NewTLSCrypt(&k2, true, ctlwrap.Options{})
		}},
		{"tls-crypt-v2 early negotiation", func(c, s *Config) {
			c.Wrap, _ = ctlwrap.NewTLSCryptV2Client(&ck, true, ctlwrap.Options{})
			c.ResetV3 = true
			s.Wrap = ctlwrap.NewTLSCryptV2Server(v2srv, ctlwrap.Options{})
			s.ResendWKc = true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, mrand.New(mrand.NewPCG(1, 5)), 0.1, tc.mod)
				p.c.Start(time.Now())
				p.runUntil(time.Minute, func() bool {
					return has(p.cEv, EventKeyExchanged, 0) && has(p.sEv, EventKeyExchanged, 0)
				})
				p.c.Renegotiate(time.Now())
				p.runUntil(time.Minute, func() bool {
					return has(p.cEv, EventKeyExchanged, 1) && has(p.sEv, EventKeyExchanged, 1)
				})
			})
		})
	}
}
