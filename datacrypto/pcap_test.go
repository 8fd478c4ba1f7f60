package datacrypto

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
	"github.com/openvpn-go/openvpn-go/internal/vectors"
	"github.com/openvpn-go/openvpn-go/wire"
)

// logKey is one key_id's data-channel key material as a verb-9 log prints
// it. openvpn's "Master Encrypt"/"Master Decrypt" lines print key2.keys[0]
// and keys[1] (client→server and server→client) whatever the peer's role.
type logKey struct {
	cipher, hmac [2][]byte
	iv           [2][]byte // AEAD implicit IV from "ENCRYPT IV"/"DECRYPT IV" (bytes 4..12)
}

var (
	reSoftReset  = regexp.MustCompile(`P_CONTROL_SOFT_RESET_V1 kid=(\d)`)
	reMaster     = regexp.MustCompile(`Master (Encrypt|Decrypt) \((cipher|hmac), [^)]*\): ?(.*)$`)
	rePreEncrypt = regexp.MustCompile(`tls_pre_encrypt: key_id=(\d)`)
	rePreDecrypt = regexp.MustCompile(`tls_pre_decrypt, key_id=(\d)`)
	reIV         = regexp.MustCompile(`(ENCRYPT|DECRYPT) IV: (.*)$`)
)

func logHex(t *testing.T, s string) []byte {
	t.Helper()
	if strings.Contains(s, "[more...]") {
		t.Fatalf("truncated hex in log: %q", s)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("log hex %q: %v", s, err)
	}
	return b
}

// parseLog extracts the data-channel keys per key_id from the verb-9 log of
// a peer with the given role. A key's Master lines follow the
// P_CONTROL_SOFT_RESET_V1 that started it (key_id 0 has none); implicit IVs
// follow the tls_pre_encrypt/decrypt line that names the key_id.
func parseLog(t *testing.T, path string, role Role) map[wire.KeyID]*logKey {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[wire.KeyID]*logKey{}
	get := func(k wire.KeyID) *logKey {
		if keys[k] == nil {
			keys[k] = &logKey{}
		}
		return keys[k]
	}
	// Which keys[] index this peer encrypts with.
	encIdx := 0
	if role == RoleServer {
		encIdx = 1
	}
	var resetKid, encKid, decKid wire.KeyID
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		kid := func(m []string) wire.KeyID {
			n, _ := strconv.Atoi(m[1])
			return wire.KeyID(n)
		}
		if m := reSoftReset.FindStringSubmatch(line); m != nil {
			resetKid = kid(m)
		} else if m := reMaster.FindStringSubmatch(line); m != nil {
			k := get(resetKid)
			idx := 0
			if m[1] == "Decrypt" {
				idx = 1
			}
			if m[2] == "cipher" {
				k.cipher[idx] = logHex(t, m[3])
			} else {
				k.hmac[idx] = logHex(t, m[3])
			}
		} else if m := rePreEncrypt.FindStringSubmatch(line); m != nil {
			encKid = kid(m)
		} else if m := rePreDecrypt.FindStringSubmatch(line); m != nil {
			decKid = kid(m)
		} else if m := reIV.FindStringSubmatch(line); m != nil {
			iv := logHex(t, m[2])
			if len(iv) != nonceLen {
				continue // CBC: a random per-packet IV
			}
			slot := &get(encKid).iv[encIdx]
			if m[1] == "DECRYPT" {
				slot = &get(decKid).iv[1-encIdx]
			}
			if *slot != nil && !bytes.Equal(*slot, iv[pidLen:]) {
				t.Fatalf("%s: two implicit IVs for one key: %x and %x", path, *slot, iv[pidLen:])
			}
			*slot = iv[pidLen:]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// key2From builds the key2 block of one key_id from the server's and the
// client's logs (implicit IVs come from whichever peer logged traffic).
func key2From(t *testing.T, srv, cli *logKey) *[KeyBlockLen]byte {
	t.Helper()
	var k [KeyBlockLen]byte
	for i := range 2 {
		if cli != nil && (!bytes.Equal(srv.cipher[i], cli.cipher[i]) || !bytes.Equal(srv.hmac[i], cli.hmac[i])) {
			t.Fatalf("server and client logs disagree on keys[%d]", i)
		}
		copy(k[128*i:], srv.cipher[i])
		copy(k[128*i+64:], srv.hmac[i])
		iv := srv.iv[i]
		if iv == nil && cli != nil {
			iv = cli.iv[i]
		}
		if iv != nil {
			if len(srv.hmac[i]) > 0 {
				t.Fatalf("keys[%d] has both an HMAC key and an implicit IV", i)
			}
			copy(k[128*i+64:], iv)
		}
	}
	return &k
}

// TestCaptures opens every data packet of the openvpn 2.6.14 captures, in both
// directions and for every key_id, with keys taken from the verb-9 logs. Each
// packet is then sealed again with the same packet-id (and, for CBC, the same
// IV) and must come out byte for byte identical.
func TestCaptures(t *testing.T) {
	dir := vectors.Dir(t, "testvectors/openvpn-2.6.14")
	cases := []struct {
		pcap, srvLog, cliLog string
		port                 uint16
		cipher, auth         string
		framing              byte // 0xFA for comp-lzo no; 0 for none
		minKeys              int
	}{
		{"dc.pcap", "srv.log", "cli.log", 21194, "AES-256-GCM", "", 0, 3},
		{"dc2.pcap", "srv2.log", "cli2.log", 21195, "AES-256-CBC", "SHA256", 0xFA, 2},
		{"dc3.pcap", "srv3.log", "cli3.log", 21196, "AES-256-GCM", "", 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.pcap, func(t *testing.T) {
			s := mustSuite(t, tc.cipher, tc.auth)
			srvKeys := parseLog(t, filepath.Join(dir, tc.srvLog), RoleServer)
			cliKeys := parseLog(t, filepath.Join(dir, tc.cliLog), RoleClient)
			pkts, err := pcap.ReadFile(filepath.Join(dir, tc.pcap))
			if err != nil {
				t.Fatal(err)
			}
			type kd struct {
				kid wire.KeyID
				c2s bool
			}
			openers := map[kd]*Key{}
			sealers := map[kd]*Key{}
			for kid, sk := range srvKeys {
				if sk.cipher[0] == nil {
					continue
				}
				k2 := key2From(t, sk, cliKeys[kid])
				openers[kd{kid, true}] = mustKey(t, s, RoleServer, k2)
				openers[kd{kid, false}] = mustKey(t, s, RoleClient, k2)
				sealers[kd{kid, true}] = mustKey(t, s, RoleClient, k2)
				sealers[kd{kid, false}] = mustKey(t, s, RoleServer, k2)
			}
			if len(openers) < 2*tc.minKeys {
				t.Fatalf("found keys for %d key_ids in the logs, want >= %d", len(openers)/2, tc.minKeys)
			}
			count := map[kd]int{}
			kinds := map[string]int{}
			for i, p := range pkts {
				op, kid, _ := wire.PeekOpcode(p.Data)
				if !op.IsData() {
					continue
				}
				d := kd{kid, p.Dst.Port() == tc.port}
				k := openers[d]
				if k == nil {
					t.Fatalf("packet %d: no key for key_id %d", i, kid)
				}
				orig := bytes.Clone(p.Data)
				pt, pid, err := k.Open(p.Data)
				if err != nil {
					t.Fatalf("packet %d (key_id %d, c2s %v, %d bytes): %v", i, kid, d.c2s, len(orig), err)
				}
				count[d]++
				if !k.Replay(pid, p.Time) {
					t.Errorf("packet %d: pid %d rejected as replay", i, pid)
				}
				if k.Replay(pid, p.Time) {
					t.Errorf("packet %d: pid %d accepted twice", i, pid)
				}
				if count[d] == 1 && pid != 1 {
					t.Errorf("packet %d: first pid of key_id %d is %d, want 1", i, kid, pid)
				}
				payload := pt
				if tc.framing != 0 {
					if len(payload) == 0 || payload[0] != tc.framing {
						t.Fatalf("packet %d: payload %x lacks framing byte %#x", i, payload, tc.framing)
					}
					payload = payload[1:]
				}
				switch {
				case wire.IsPing(payload):
					kinds["ping"]++
				case wire.OCCOpcode(payload) >= 0:
					kinds["occ"]++
				case len(payload) >= 20 && payload[0]>>4 == 4:
					kinds["ipv4"]++
				case len(payload) >= 40 && payload[0]>>4 == 6:
					kinds["ipv6"]++
				default:
					t.Errorf("packet %d: unexpected payload %x", i, payload)
				}

				// Seal the plaintext again with the same pid (and IV) as the peer.
				hdr, _ := wire.ParseDataHeader(orig)
				var iv []byte
				if s.cipher.kind == kindCBC {
					iv = orig[hdr.Len()+s.auth.Size:][:cbcBlock]
				}
				again := sealers[d].sealID(hdr, sealBuffer(pt), Headroom, pid, iv)
				if !bytes.Equal(again, orig) {
					t.Fatalf("packet %d: re-sealed\n got %x\nwant %x", i, again, orig)
				}
			}
			total := 0
			for d, n := range count {
				t.Logf("key_id %d c2s=%v: %d packets", d.kid, d.c2s, n)
				total += n
			}
			t.Logf("payloads: %v", kinds)
			if total == 0 || kinds["ping"] == 0 {
				t.Fatalf("no data packets decrypted (%d) or no pings (%v)", total, kinds)
			}
			var multi bool
			for d := range count {
				multi = multi || d.kid > 0
			}
			if !multi {
				t.Errorf("capture has no packets for key_id > 0")
			}
		})
	}
}
