package ippkt

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
)

// readRawPcap returns the records of a little-endian, microsecond pcap file
// with link type RAW (101): tcpdump on a tun device.
func readRawPcap(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 101 {
		t.Fatalf("%s: not a little-endian LINKTYPE_RAW pcap", path)
	}
	var recs [][]byte
	for b = b[24:]; len(b) >= 16; {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if 16+n > len(b) {
			t.Fatalf("%s: truncated record", path)
		}
		recs = append(recs, b[16:16+n])
		b = b[16+n:]
	}
	return recs
}

// TestCapturedMSSClamp replays what openvpn 2.6.14 did (testdata README):
// peer A's TCP packets as they left its tun device (mss.tun.pcap), and the
// same packets as A sent them on the link (mss.link.pcap; static key,
// `cipher none`, `comp-lzo no`: an 8-byte packet-id, 0xFA, then the packet
// in the clear). A's mssfix came to 1415 ("MSS 1460 -> 1415" for IPv4, 1440
// -> 1395 for IPv6). MSSClamp must produce openvpn's bytes exactly,
// checksum included.
func TestCapturedMSSClamp(t *testing.T) {
	const mssFix = 1415
	var tunOut [][]byte
	for _, p := range readRawPcap(t, "testdata/openvpn-2.6.14/mss.tun.pcap") {
		if s, ok := Src(p); ok && (s.String() == "10.251.0.1" || s.String() == "fd00:251::1") {
			tunOut = append(tunOut, p)
		}
	}
	link, err := pcap.ReadFile("testdata/openvpn-2.6.14/mss.link.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var linkOut [][]byte
	for _, p := range link {
		if p.Src.Addr().String() != "10.250.0.1" || len(p.Data) < 10 || p.Data[8] != 0xfa {
			continue
		}
		inner := p.Data[9:]
		if (Version(inner) == 4 && len(inner) >= 20 && inner[9] == 6) || (Version(inner) == 6 && len(inner) >= 40 && inner[6] == 6) {
			linkOut = append(linkOut, inner)
		}
	}
	if len(tunOut) != len(linkOut) || len(tunOut) < 6 {
		t.Fatalf("%d TCP packets on tun, %d on the link", len(tunOut), len(linkOut))
	}
	clamped := 0
	for i := range tunOut {
		pkt := append([]byte{}, tunOut[i]...)
		changed := MSSClamp(pkt, mssFix)
		if !bytes.Equal(pkt, linkOut[i]) {
			t.Errorf("packet %d: ours\n%x\nopenvpn\n%x", i, pkt, linkOut[i])
		}
		if changed != !bytes.Equal(tunOut[i], linkOut[i]) {
			t.Errorf("packet %d: MSSClamp reported %v", i, changed)
		}
		if changed {
			clamped++
		}
	}
	if clamped != 2 {
		t.Errorf("%d SYNs clamped, want 2 (one IPv4, one IPv6)", clamped)
	}
	// The SYN-ACKs arriving from B were clamped by B to 1415/1395 already;
	// clamping them again changes nothing.
	for _, p := range link {
		if p.Src.Addr().String() == "10.250.0.2" && len(p.Data) > 9 && p.Data[8] == 0xfa {
			if pkt := append([]byte{}, p.Data[9:]...); MSSClamp(pkt, mssFix) {
				t.Errorf("re-clamped B's packet %x", p.Data[9:])
			}
		}
	}
}
