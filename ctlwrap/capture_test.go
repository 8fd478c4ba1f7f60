package ctlwrap

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
	"github.com/openvpn-go/openvpn-go/internal/vectors"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

func controlDir(t testing.TB) string {
	t.Helper()
	return vectors.Dir(t, "testvectors/openvpn-2.6.14/control")
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// taKey is the tls-auth/tls-crypt key of the captures.
func taKey(t testing.TB) keys.Key2 {
	t.Helper()
	k, n, err := keys.ParseStaticKey(readFile(t, filepath.Join(controlDir(t), "ta.key")))
	if err != nil || n != 2 {
		t.Fatalf("ta.key: n=%d %v", n, err)
	}
	return k
}

func v2Keys(t testing.TB) (*V2ServerKey, keys.TLSCryptV2ClientKey) {
	t.Helper()
	dir := controlDir(t)
	sk, err := keys.ParseTLSCryptV2ServerKey(readFile(t, filepath.Join(dir, "v2srv.key")))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewV2ServerKey(&sk)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := keys.ParseTLSCryptV2ClientKey(readFile(t, filepath.Join(dir, "v2cli.key")))
	if err != nil {
		t.Fatal(err)
	}
	return srv, ck
}

type capture struct {
	pkts   []pcap.Packet
	server netip.AddrPort
}

func loadCapture(t testing.TB, name string) capture {
	t.Helper()
	pkts, err := pcap.ReadFile(filepath.Join(controlDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) == 0 {
		t.Fatalf("%s: no packets", name)
	}
	return capture{pkts: pkts, server: pkts[0].Dst}
}

func (c capture) fromClient(p pcap.Packet) bool { return p.Dst == c.server }

// side is one peer's view of a capture.
type side struct {
	recv Wrapper // unwraps what the other side sent
	// rewrap wraps plain with the given packet id the way this side's
	// sender did.
	rewrap func(plain []byte, pid wire.WrapPID) ([]byte, error)
}

// checkCapture unwraps every packet of a capture with the receiving side,
// parses the plain packet, and wraps it again with the sender's packet id:
// the result must be the captured bytes. pidOff is where the wrap packet id
// sits on the wire.
func checkCapture(t *testing.T, c capture, server, client side, pidOff int) {
	t.Helper()
	times := map[bool]uint32{}
	last := map[bool]uint32{}
	for i, p := range c.pkts {
		op, _, _ := wire.PeekOpcode(p.Data)
		if !op.IsControl() {
			continue
		}
		fromClient := c.fromClient(p)
		rx, tx := client, server
		if fromClient {
			rx, tx = server, client
		}
		plain, err := rx.recv.Unwrap(nil, p.Data, p.Time)
		if err != nil {
			t.Fatalf("packet %d (%v, from client %v): %v", i, op, fromClient, err)
		}
		cp, err := wire.ParseControl(plain)
		if err != nil {
			t.Fatalf("packet %d: plain packet does not parse: %v", i, err)
		}
		if cp.Opcode != op || cp.KeyID != 0 {
			t.Fatalf("packet %d: %v key %d", i, cp.Opcode, cp.KeyID)
		}
		pid, _ := wire.ParseWrapPID(p.Data[pidOff:])
		// The time of a sender's packet ids is constant and ids count up
		// by one (retransmissions are re-wrapped with a new id).
		if tm, ok := times[fromClient]; ok && tm != pid.Time {
			t.Fatalf("packet %d: pid time %d, earlier %d", i, pid.Time, tm)
		}
		times[fromClient] = pid.Time
		if l, ok := last[fromClient]; ok && pid.ID != l+1 {
			t.Fatalf("packet %d: pid %d after %d", i, pid.ID, l)
		}
		last[fromClient] = pid.ID
		again, err := tx.rewrap(plain, pid)
		if err != nil {
			t.Fatalf("packet %d: rewrap: %v", i, err)
		}
		if !bytes.Equal(again, p.Data) {
			t.Fatalf("packet %d (%v): rewrapped\n%x\nwant\n%x", i, op, again, p.Data)
		}
	}
	if last[true] == 0 || last[false] == 0 {
		t.Fatalf("capture has packets in one direction only")
	}
}

// sessionRewrap wraps like a session would: a wrapper whose send counter is
// set to pid-1 and whose start time is pid's time.
func sessionRewrap(mk func(o Options) Wrapper) func([]byte, wire.WrapPID) ([]byte, error) {
	return func(plain []byte, pid wire.WrapPID) ([]byte, error) {
		w := mk(Options{Start: time.Unix(int64(pid.Time), 0)})
		w.SetSendID(pid.ID - 1)
		return w.Wrap(nil, plain)
	}
}

func TestCaptureTLSAuth(t *testing.T) {
	c := loadCapture(t, "tauth.pcap")
	k := taKey(t)
	d, err := ParseDigest("SHA256") // "auth SHA256" in tauth.*.log
	if err != nil {
		t.Fatal(err)
	}
	mk := func(dir keys.Direction) func(Options) Wrapper {
		return func(o Options) Wrapper {
			w, err := NewTLSAuth(&k, dir, d, o)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
	}
	// Server "key_direction = 0", client "key_direction = 1".
	srv := mk(keys.Normal)(Options{}).(*TLSAuth)
	cli := mk(keys.Inverse)(Options{}).(*TLSAuth)
	t.Run("stateless", func(t *testing.T) {
		checkCapture(t, c, side{srv, func(p []byte, pid wire.WrapPID) ([]byte, error) { return srv.WrapStateless(nil, p, pid) }},
			side{cli, func(p []byte, pid wire.WrapPID) ([]byte, error) { return cli.WrapStateless(nil, p, pid) }},
			wire.HeaderLen+d.Size())
	})
	t.Run("session", func(t *testing.T) {
		checkCapture(t, c, side{mk(keys.Normal)(Options{}), sessionRewrap(mk(keys.Normal))},
			side{mk(keys.Inverse)(Options{}), sessionRewrap(mk(keys.Inverse))},
			wire.HeaderLen+d.Size())
	})
	// Sizes from the notes: client reset 54 bytes, server reset 66.
	if len(c.pkts[0].Data) != 54 || len(c.pkts[1].Data) != 66 {
		t.Fatalf("reset sizes %d, %d", len(c.pkts[0].Data), len(c.pkts[1].Data))
	}
	// The server's stateless reset carries pid 1; its session goes on with 2.
	if pid, _ := wire.ParseWrapPID(c.pkts[1].Data[wire.HeaderLen+32:]); pid.ID != 1 {
		t.Fatalf("server reset pid %d", pid.ID)
	}
	// The wrong direction does not authenticate.
	if _, err := cli.UnwrapStateless(nil, c.pkts[0].Data); !errors.Is(err, ErrAuth) {
		t.Fatalf("client key accepted client packet: %v", err)
	}
}

func TestCaptureTLSCrypt(t *testing.T) {
	c := loadCapture(t, "tcrypt.pcap")
	k := taKey(t)
	mk := func(server bool) func(Options) Wrapper {
		return func(o Options) Wrapper {
			w, err := NewTLSCrypt(&k, server, o)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
	}
	srv := mk(true)(Options{}).(*TLSCrypt)
	cli := mk(false)(Options{}).(*TLSCrypt)
	t.Run("stateless", func(t *testing.T) {
		checkCapture(t, c, side{srv, func(p []byte, pid wire.WrapPID) ([]byte, error) { return srv.WrapStateless(nil, p, pid) }},
			side{cli, func(p []byte, pid wire.WrapPID) ([]byte, error) { return cli.WrapStateless(nil, p, pid) }},
			cryptOffPID)
	})
	t.Run("session", func(t *testing.T) {
		checkCapture(t, c, side{mk(true)(Options{}), sessionRewrap(mk(true))},
			side{mk(false)(Options{}), sessionRewrap(mk(false))}, cryptOffPID)
	})
	if len(c.pkts[0].Data) != 54 || len(c.pkts[1].Data) != 66 {
		t.Fatalf("reset sizes %d, %d", len(c.pkts[0].Data), len(c.pkts[1].Data))
	}
	if _, err := cli.UnwrapStateless(nil, c.pkts[0].Data); !errors.Is(err, ErrAuth) {
		t.Fatalf("client key accepted client packet: %v", err)
	}
}

func TestCaptureTLSCryptV2(t *testing.T) {
	c := loadCapture(t, "tcv2.pcap")
	srvKey, ck := v2Keys(t)
	srvSess := NewTLSCryptV2Server(srvKey, Options{})
	cliSess, err := NewTLSCryptV2Client(&ck, true, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The rewrapping client: the sender of client packets.
	cliRewrap := sessionRewrap(func(o Options) Wrapper {
		w, err := NewTLSCryptV2Client(&ck, true, o)
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
	srvRewrap := func(plain []byte, pid wire.WrapPID) ([]byte, error) {
		info, ok := srvSess.ClientKey()
		if !ok {
			t.Fatal("server session has no client key")
		}
		return srvKey.WrapStateless(nil, plain, info, pid)
	}
	checkCapture(t, c, side{srvSess, srvRewrap}, side{cliSess, cliRewrap}, cryptOffPID)

	info, _ := srvSess.ClientKey()
	if info.Kc != ck.Kc {
		t.Fatal("server recovered a different Kc")
	}
	ts, ok := info.Timestamp()
	if !ok || ts.Year() != 2026 {
		t.Fatalf("metadata %x: timestamp %v %v", info.Metadata(), ts, ok)
	}

	// Client reset: V3, early-negotiation marker 0x0f000001, 353 bytes,
	// carrying the key file's WKc.
	reset := c.pkts[0].Data
	if op, _, _ := wire.PeekOpcode(reset); op != wire.OpControlHardResetClientV3 || len(reset) != 353 {
		t.Fatalf("first packet %v of %d bytes", op, len(reset))
	}
	if pid, _ := wire.ParseWrapPID(reset[cryptOffPID:]); pid.ID != 0x0f000001 || !HasEarlyNegMarker(reset) {
		t.Fatalf("first pid %#x", pid.ID)
	}
	if _, wkc, err := SplitWKc(reset); err != nil || !bytes.Equal(wkc, ck.WKc) {
		t.Fatalf("WKc on the wire differs from the key file's: %v", err)
	}
	// Server reset: TLV EARLY_NEG_FLAGS = RESEND_WKC.
	fresh, _ := NewTLSCryptV2Client(&ck, true, Options{})
	plain, err := fresh.UnwrapStateless(nil, c.pkts[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := wire.ParseControl(plain)
	flags, err := wire.EarlyNegFlags(cp.Payload)
	if err != nil || flags != wire.EarlyNegFlagResendWKC || len(c.pkts[1].Data) != 72 {
		t.Fatalf("server reset TLV flags %#x %v (%d bytes)", flags, err, len(c.pkts[1].Data))
	}
	// The client's answer is P_CONTROL_WKC_V1, mid 1, acking [0], 642 bytes.
	var third ClientKeyInfo
	plain, err = srvKey.UnwrapStateless(nil, c.pkts[2].Data, &third)
	if err != nil {
		t.Fatal(err)
	}
	cp, _ = wire.ParseControl(plain)
	if cp.Opcode != wire.OpControlWKCV1 || cp.MessageID != 1 || cp.NumAcks != 1 || cp.Acks[0] != 0 || len(c.pkts[2].Data) != 642 {
		t.Fatalf("third packet %v mid %d acks %v (%d bytes)", cp.Opcode, cp.MessageID, cp.AckList(), len(c.pkts[2].Data))
	}
	if third.Kc != ck.Kc {
		t.Fatal("stateless unwrap recovered a different Kc")
	}
	// A P_CONTROL_V1 has no WKc: the stateless path refuses it.
	if _, err := srvKey.UnwrapStateless(nil, c.pkts[6].Data, &third); err == nil {
		t.Fatal("stateless unwrap of a P_CONTROL_V1 succeeded")
	}
}

// TestWKcKnownAnswer unwraps the WKc of the captures' client key with their
// server key and wraps it again: wrapping is deterministic, so the bytes
// must come back exactly.
func TestWKcKnownAnswer(t *testing.T) {
	srv, ck := v2Keys(t)
	var info ClientKeyInfo
	if err := srv.UnwrapClientKey(ck.WKc, &info); err != nil {
		t.Fatal(err)
	}
	if info.Kc != ck.Kc {
		t.Fatal("Kc differs")
	}
	typ, payload, ok := info.MetadataType()
	if !ok || typ != MetadataTimestamp || len(payload) != 8 {
		t.Fatalf("metadata %x", info.Metadata())
	}
	again, err := srv.WrapClientKey(nil, &info.Kc, info.Metadata())
	if err != nil || !bytes.Equal(again, ck.WKc) {
		t.Fatalf("rewrapped WKc differs: %v", err)
	}
}
