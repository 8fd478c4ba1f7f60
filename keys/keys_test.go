package keys

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seq(from, to int) []byte {
	b := make([]byte, 0, to-from)
	for i := from; i < to; i++ {
		b = append(b, byte(i))
	}
	return b
}

// The known answer of openvpn's own unit test (tests/unit_tests/openvpn/
// test_crypto.c, crypto_test_tls_prf): a 117-byte (odd) secret, so the two
// halves share a byte.
func TestPRFOpenVPNVector(t *testing.T) {
	secret := []byte("Lorem ipsum dolor sit amet, consectetur adipisici elit, sed eiusmod tempor incidunt ut labore et dolore magna aliqua.")
	seed := []byte("Quis aute iure reprehenderit in voluptate velit esse cillum dolore")
	want := unhex(t, "d98c8518c85e946927916acfc2d592fbb1567e4b4b1459e6a904ac2ddab72d67")
	got := make([]byte, 32)
	PRF(got, secret, seed)
	if !bytes.Equal(got, want) {
		t.Fatalf("PRF = %x, want %x", got, want)
	}
	// Splitting the seed into parts changes nothing.
	PRF(got, secret, seed[:7], nil, seed[7:])
	if !bytes.Equal(got, want) {
		t.Fatalf("PRF with split seed = %x, want %x", got, want)
	}
}

// Vectors produced by OpenSSL 3.0.19 (the library openvpn 2.6.14 uses for
// ssl_tls1_PRF) with
//
//	openssl kdf -keylen N -kdfopt digest:MD5-SHA1 -kdfopt hexsecret:S -kdfopt hexseed:L TLS1-PRF
func TestPRFOpenSSLVectors(t *testing.T) {
	tests := []struct {
		name         string
		secret, seed []byte
		want         string
	}{
		{"one-byte secret", []byte{0xab}, []byte{0}, "3eb9a33ec69739f6de998d4e600f40c5afa58b7ab29259d39758256729f253ff7c60ea072d39bae54f8db163069179f1d21473a5b2567ef1f80a72bf92cfdbef840604454c4d34ad6a59312ff3a3241ac99e9059277e8ba96e5116bb02da569dbaab2dd4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.want)
			got := make([]byte, len(want))
			PRF(got, tt.secret, tt.seed)
			if !bytes.Equal(got, want) {
				t.Fatalf("PRF = %x\nwant  %x", got, want)
			}
		})
	}
}

// testSources are the fixed key-method-2 inputs of TestDeriveKey2.
func testSources() (client, server KeySource, csid, ssid [8]byte) {
	copy(client.PreMaster[:], seq(0, 48))
	copy(client.Random1[:], seq(64, 96))
	copy(client.Random2[:], seq(96, 128))
	copy(server.Random1[:], seq(128, 160))
	copy(server.Random2[:], seq(160, 192))
	copy(server.PreMaster[:], seq(200, 248)) // ignored
	csid = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	ssid = [8]byte{0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8}
	return
}

// The OpenVPN key expansion of ssl.c generate_key_expansion_openvpn_prf,
// computed independently with OpenSSL's TLS1-PRF:
//
//	master = openssl kdf -keylen 48 ... -kdfopt hexsecret:<pre_master>
//	         -kdfopt hexseed:<"OpenVPN master secret"||c.random1||s.random1>
//	key2   = openssl kdf -keylen 256 ... -kdfopt hexsecret:<master>
//	         -kdfopt hexseed:<"OpenVPN key expansion"||c.random2||s.random2||csid||ssid>
func TestDeriveKey2(t *testing.T) {
	client, server, csid, ssid := testSources()
	wantMaster := unhex(t, "9999e37f41b205a8183ce835da7daacfd52553e542564d04e4292100b00f5f1fe967f9d4f3888f285a5f119aff451e0d")
	wantKey2 := unhex(t, `cd3a719ad3ee4c2598a5ef88884b360511084f4d2cb915e48f848571dfcdf9044e4edf786482f9ae61f206dd6a020142
		a10f24348c742b4476ecb18412b33351627398302c8e113edc23917751264258b78e4007bf675026d1eba6fc4a12d97c
		1b0314e0d438c45d0369353c52d76dc77cfb91cdb8e2c420d2d4d630b0c9f93cdf87ff44505ea3f1122dc094b6a34629
		fa396ddcb9f233a04ab0c5ec458c8ebaa40b57d66b4997f7632bb951385ff61b26ca4506ef402e7d765ed17237122382
		e391ae1d1a8ec132df5f8f82e2cc5a006ac5595475f699948c5829fd1f8dcc804d758ce069be55a77ad85f0623920a3b
		d5025966f4218532ea4c2d5e063cdcb0`)
	m := MasterSecret(&client, &server)
	if !bytes.Equal(m[:], wantMaster) {
		t.Fatalf("master = %x\nwant     %x", m, wantMaster)
	}
	k := DeriveKey2(&client, &server, csid, ssid)
	if !bytes.Equal(k[:], wantKey2) {
		t.Fatalf("key2 = %x\nwant   %x", k, wantKey2)
	}
	// Swapping the session ids must change the result (they are ordered
	// client then server).
	if k2 := DeriveKey2(&client, &server, ssid, csid); k2 == k {
		t.Fatal("session id order does not matter")
	}
}

// PRF must give the same answer when dst overlaps the secret or the seed.
func TestPRFAliasing(t *testing.T) {
	secret := seq(0, 48)
	seed := seq(100, 180)
	want := make([]byte, 48)
	PRF(want, secret, seed)

	buf := append([]byte(nil), secret...)
	PRF(buf, buf, seed) // dst == secret
	if !bytes.Equal(buf, want) {
		t.Fatalf("dst aliasing secret: %x, want %x", buf, want)
	}
	buf2 := append([]byte(nil), seed...)
	PRF(buf2[:48], secret, buf2) // dst overlaps seed
	if !bytes.Equal(buf2[:48], want) {
		t.Fatalf("dst aliasing seed: %x, want %x", buf2[:48], want)
	}
}

func TestDirections(t *testing.T) {
	var k Key2
	for i := range k {
		k[i] = byte(i)
	}
	tests := []struct {
		arg        string
		d          Direction
		send, recv int
		need       int
	}{
		{"", Bidirectional, 0, 0, 1},
		{"0", Normal, 0, 1, 2},
		{"1", Inverse, 1, 0, 2},
	}
	for _, tt := range tests {
		d, err := ParseDirection(tt.arg)
		if err != nil || d != tt.d || d.String() != tt.arg || d.NeedKeys() != tt.need {
			t.Fatalf("ParseDirection(%q) = %v, %v", tt.arg, d, err)
		}
		send, recv := k.Keys(d)
		if send.Cipher[0] != byte(tt.send*128) || send.HMAC[0] != byte(tt.send*128+64) ||
			recv.Cipher[0] != byte(tt.recv*128) || recv.HMAC[63] != byte(tt.recv*128+127) {
			t.Fatalf("direction %q: send starts %d/%d, recv %d/%d", tt.arg, send.Cipher[0], send.HMAC[0], recv.Cipher[0], recv.HMAC[0])
		}
	}
	if _, err := ParseDirection("2"); err == nil {
		t.Fatal("direction 2 accepted")
	}
	if TLSCryptDirection(true) != Normal || TLSCryptDirection(false) != Inverse ||
		DataChannelDirection(false) != Normal || DataChannelDirection(true) != Inverse {
		t.Fatal("fixed directions wrong")
	}
}

// The implicit IV is the start of the HMAC slot of the same direction:
// client encrypt = key2[64:72], server encrypt = key2[192:200].
func TestImplicitIV(t *testing.T) {
	var k Key2
	for i := range k {
		k[i] = byte(i)
	}
	cs, sc := k.Keys(DataChannelDirection(false))
	iv, err := ImplicitIV(&cs, 12)
	if err != nil || !bytes.Equal(iv, k[64:72]) {
		t.Fatalf("client IV %x %v", iv, err)
	}
	iv, _ = ImplicitIV(&sc, 12)
	if !bytes.Equal(iv, k[192:200]) {
		t.Fatalf("server IV %x", iv)
	}
	for _, n := range []int{0, 3, 69} {
		if _, err := ImplicitIV(&cs, n); err == nil {
			t.Fatalf("nonce length %d accepted", n)
		}
	}
}

func TestKey2Helpers(t *testing.T) {
	a, _ := Key2FromBytes(seq(0, 256))
	b, _ := Key2FromBytes(seq(0, 256))
	a.XOR(&b)
	if a != (Key2{}) {
		t.Fatal("x XOR x != 0")
	}
	if _, err := Key2FromBytes(seq(0, 255)); err == nil {
		t.Fatal("short key2 accepted")
	}
	k, _ := KeyFromBytes(seq(0, 128))
	if kb := k.Bytes(); !bytes.Equal(kb[:], seq(0, 128)) {
		t.Fatal("Key round trip")
	}
	if _, err := KeyFromBytes(seq(0, 127)); err == nil {
		t.Fatal("short key accepted")
	}
	g, err := GenerateKey2(bytes.NewReader(seq(0, 256)))
	if err != nil || !bytes.Equal(g[:], seq(0, 256)) {
		t.Fatal("GenerateKey2")
	}
	if _, err := GenerateKey2(bytes.NewReader(seq(0, 10))); err == nil {
		t.Fatal("GenerateKey2 with short random")
	}
}

func BenchmarkDeriveKey2(b *testing.B) {
	client, server, csid, ssid := testSources()
	b.ReportAllocs()
	for b.Loop() {
		DeriveKey2(&client, &server, csid, ssid)
	}
}

func TestGenerateDefaultRandom(t *testing.T) {
	a, err := GenerateKey2(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey2(nil)
	if a == b || a == (Key2{}) {
		t.Fatal("GenerateKey2(nil) is not random")
	}
	k1, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := GenerateKey(nil); k1 == k2 {
		t.Fatal("GenerateKey(nil) is not random")
	}
}
