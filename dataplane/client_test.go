package dataplane

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/transport/transporttest"
	"github.com/openvpn-go/openvpn-go/tun/tuntest"
	"github.com/openvpn-go/openvpn-go/wire"
)

func keyPair(t testing.TB, cipher string) (client, server *datacrypto.Key) {
	var k2 [256]byte
	rand.Read(k2[:])
	suite, err := datacrypto.NewSuite(cipher, "SHA256")
	if err != nil {
		t.Fatal(err)
	}
	client, err = datacrypto.NewKey(datacrypto.Config{Suite: suite, Role: datacrypto.RoleClient}, &k2)
	if err != nil {
		t.Fatal(err)
	}
	server, err = datacrypto.NewKey(datacrypto.Config{Suite: suite, Role: datacrypto.RoleServer}, &k2)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// sealFromServer builds a data packet as the server would send it.
func sealFromServer(t testing.TB, k *datacrypto.Key, kid wire.KeyID, payload []byte) []byte {
	buf := make([]byte, datacrypto.Headroom+len(payload), datacrypto.Headroom+len(payload)+datacrypto.Tailroom)
	copy(buf[datacrypto.Headroom:], payload)
	pkt, err := k.Seal(wire.DataHeader{Opcode: wire.OpDataV2, KeyID: kid, PeerID: 5}, buf, datacrypto.Headroom)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), pkt...)
}

func ipPacket(n int, seed byte) []byte {
	p := make([]byte, n)
	p[0] = 0x45
	for i := 1; i < n; i++ {
		p[i] = seed + byte(i)
	}
	return p
}

func recvLink(t testing.TB, c interface {
	ReadBatch([][]byte, []int) (int, error)
}) []byte {
	t.Helper()
	bufs := [][]byte{make([]byte, 2048)}
	sizes := []int{0}
	done := make(chan struct{})
	var n int
	go func() { n, _ = c.ReadBatch(bufs, sizes); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("nothing on the link")
	}
	if n != 1 {
		t.Fatal("read failed")
	}
	return bufs[0][:sizes[0]]
}

func recvTun(t testing.TB, d *tuntest.Device) []byte {
	t.Helper()
	select {
	case p := <-d.Inbound:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing written to tun")
	}
	return nil
}

func TestClientDataPath(t *testing.T) {
	a, b := transporttest.Pipe(transporttest.Gremlin{})
	dp := NewClient(a, nil)
	dp.Start()
	dev := tuntest.New("tun0", 1500, 16)
	dp.AttachTun(dev)
	defer func() { dev.Close(); dp.Close(); dp.Wait() }()

	ck, sk := keyPair(t, "AES-256-GCM")
	dp.Peer().Configure(PeerSettings{PeerID: 5, UseDataV2: true})
	dp.Peer().InstallKey(0, ck, true)

	// Outbound: tun → sealed P_DATA_V2 on the link.
	out := ipPacket(1400, 1)
	dev.Outbound <- out
	pkt := recvLink(t, b)
	h, ok := wire.ParseDataHeader(pkt)
	if !ok || h.Opcode != wire.OpDataV2 || h.PeerID != 5 || h.KeyID != 0 {
		t.Fatalf("header %+v", h)
	}
	got, pid, err := sk.Open(pkt)
	if err != nil || pid != 1 || !bytes.Equal(got, out) {
		t.Fatalf("open: %v pid %d", err, pid)
	}

	// Inbound: sealed packet → tun, once (replay dropped).
	in := ipPacket(600, 9)
	p1 := sealFromServer(t, sk, 0, in)
	b.WriteBatch([][]byte{p1, p1})
	if got := recvTun(t, dev); !bytes.Equal(got, in) {
		t.Fatal("inbound payload differs")
	}
	// A ping is consumed, not written to tun; it refreshes LastReceive.
	before := dp.Peer().LastReceive()
	time.Sleep(2 * time.Millisecond)
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, wire.PingMagic[:])})
	in2 := ipPacket(100, 3)
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, in2)})
	if got := recvTun(t, dev); !bytes.Equal(got, in2) {
		t.Fatal("ping reached tun, or packet lost")
	}
	if !dp.Peer().LastReceive().After(before) {
		t.Fatal("LastReceive not updated")
	}
	if st := dp.Peer().Stats(); st.DropReplay != 1 {
		t.Fatalf("stats %+v", st)
	}

	// Control packets go to the inbox.
	ctl := []byte{wire.OpcodeByte(wire.OpControlV1, 0), 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1}
	b.WriteBatch([][]byte{ctl})
	select {
	case got := <-dp.Control():
		if !bytes.Equal(got, ctl) {
			t.Fatal("control packet changed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("control packet not delivered")
	}

	// Renegotiation: key 1 sends, key 0 still decrypts until removed.
	ck1, sk1 := keyPair(t, "AES-256-GCM")
	dp.Peer().InstallKey(1, ck1, true)
	dev.Outbound <- out
	pkt = recvLink(t, b)
	if h, _ := wire.ParseDataHeader(pkt); h.KeyID != 1 {
		t.Fatalf("sent with key %d", h.KeyID)
	}
	if _, _, err := sk1.Open(pkt); err != nil {
		t.Fatal(err)
	}
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, in)})
	if got := recvTun(t, dev); !bytes.Equal(got, in) {
		t.Fatal("old key no longer decrypts")
	}
	dp.Peer().RemoveKey(0)
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, in), sealFromServer(t, sk1, 1, in2)})
	if got := recvTun(t, dev); !bytes.Equal(got, in2) {
		t.Fatal("removed key still decrypts")
	}
}

func TestClientCompressionFraming(t *testing.T) {
	a, b := transporttest.Pipe(transporttest.Gremlin{})
	dp := NewClient(a, nil)
	dp.Start()
	dev := tuntest.New("tun0", 1500, 16)
	dp.AttachTun(dev)
	defer func() { dev.Close(); dp.Close(); dp.Wait() }()
	ck, sk := keyPair(t, "AES-256-CBC")
	dp.Peer().Configure(PeerSettings{PeerID: 5, UseDataV2: true, Compression: comp.LZOStub})
	dp.Peer().InstallKey(0, ck, true)
	out := ipPacket(200, 1)
	dev.Outbound <- out
	got, _, err := sk.Open(recvLink(t, b))
	if err != nil || got[0] != 0xFA || !bytes.Equal(got[1:], out) {
		t.Fatalf("framing: %v %x", err, got[:2])
	}
	in := ipPacket(300, 2)
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, append([]byte{0xFA}, in...))})
	if got := recvTun(t, dev); !bytes.Equal(got, in) {
		t.Fatal("inbound framing not removed")
	}
}

func TestGarbageFromLink(t *testing.T) {
	a, b := transporttest.Pipe(transporttest.Gremlin{})
	dp := NewClient(a, nil)
	dp.Start()
	dev := tuntest.New("tun0", 1500, 16)
	dp.AttachTun(dev)
	defer func() { dev.Close(); dp.Close(); dp.Wait() }()
	ck, sk := keyPair(t, "CHACHA20-POLY1305")
	dp.Peer().Configure(PeerSettings{PeerID: 5, UseDataV2: true})
	dp.Peer().InstallKey(0, ck, true)
	junk := make([][]byte, 0, 500)
	for i := 0; i < 500; i++ {
		p := make([]byte, i%97)
		rand.Read(p)
		if len(p) > 0 && i%2 == 0 {
			p[0] = wire.OpcodeByte(wire.OpDataV2, wire.KeyID(i%8))
		}
		junk = append(junk, p)
	}
	b.WriteBatch(junk[:250])
	b.WriteBatch(junk[250:])
	in := ipPacket(100, 7)
	b.WriteBatch([][]byte{sealFromServer(t, sk, 0, in)})
	if got := recvTun(t, dev); !bytes.Equal(got, in) {
		t.Fatal("valid packet after garbage lost")
	}
}
