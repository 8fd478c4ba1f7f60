package datacrypto

import (
	"bytes"
	"testing"

	"github.com/openvpn-go/openvpn-go/wire"
)

// TestAEADVector checks protocol-data-channel.md §3.6: a client→server ping
// captured from openvpn 2.6.14 (AES-256-GCM, P_DATA_V2, peer-id 0, key_id 0).
func TestAEADVector(t *testing.T) {
	var key2 [KeyBlockLen]byte
	copy(key2[0:], unhex(t, "175ea28740aa85b12a759ae93074fa6509d52812cf296f718667270d727626df"))
	copy(key2[64:], unhex(t, "238cc8687c9f589a")) // implicit IV: keys[0].hmac[0:8]
	want := unhex(t, "48000000 00000001 a8010a5a0419dcc0fe7c736e9afcab5a 949eb19159e2977ab46ecbb16d80f205")
	s := mustSuite(t, "AES-256-GCM", "")

	cli := mustKey(t, s, RoleClient, &key2)
	got, err := cli.Seal(hdrV2, sealBuffer(wire.PingMagic[:]), Headroom)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Seal:\n got %x\nwant %x", got, want)
	}

	srv := mustKey(t, s, RoleServer, &key2)
	pt, pid, err := srv.Open(bytes.Clone(want))
	if err != nil {
		t.Fatal(err)
	}
	if pid != 1 || !wire.IsPing(pt) {
		t.Fatalf("Open = %x, pid %d; want ping, pid 1", pt, pid)
	}
	// The client cannot open its own direction.
	if _, _, err := cli.Open(bytes.Clone(want)); err == nil {
		t.Fatal("client opened a client→server packet")
	}
}

// TestCBCVector checks protocol-data-channel.md §5.5: a client→server ping
// captured from openvpn 2.6.14 (AES-256-CBC + HMAC-SHA256, V2, comp-lzo no).
func TestCBCVector(t *testing.T) {
	var key2 [KeyBlockLen]byte
	copy(key2[0:], unhex(t, "f683bbefd1a7d891f132a9ca600e47f0eaf1ff9961d6c7a0461f580733d130fa"))
	copy(key2[64:], unhex(t, "efe06a26fe0c0abcefc975d6d68b77bc17c3a952f48d229c7a24b2a62911c1d8"))
	want := unhex(t, `48000000
		4fc77ef573dbbc69014f7a41a5d32f9e11ab9bd39b4396e93ea17dbe152a2aa1
		a99e1f92dfcf9a933ea7d5187c307b58
		a32456536a7c927687dd89c0948bb79cd6217a1f2b5a0d718a916d1e46469142`)
	iv := unhex(t, "a99e1f92dfcf9a933ea7d5187c307b58")
	payload := append([]byte{0xfa}, wire.PingMagic[:]...)
	s := mustSuite(t, "AES-256-CBC", "SHA256")

	cli := mustKey(t, s, RoleClient, &key2)
	got := cli.sealID(hdrV2, sealBuffer(payload), Headroom, 1, iv)
	if !bytes.Equal(got, want) {
		t.Fatalf("seal:\n got %x\nwant %x", got, want)
	}
	if n := cli.Overhead(hdrV2, len(payload)); n != len(want)-len(payload) {
		t.Fatalf("Overhead = %d, want %d", n, len(want)-len(payload))
	}

	srv := mustKey(t, s, RoleServer, &key2)
	pt, pid, err := srv.Open(bytes.Clone(want))
	if err != nil {
		t.Fatal(err)
	}
	if pid != 1 || !bytes.Equal(pt, payload) {
		t.Fatalf("Open = %x, pid %d; want %x, pid 1", pt, pid, payload)
	}
}
