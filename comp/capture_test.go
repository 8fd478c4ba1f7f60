package comp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
	"github.com/openvpn-go/openvpn-go/wire"
	"github.com/pierrec/lz4/v4"
)

// The captures in testdata/openvpn-2.6.14 were recorded between two stock
// openvpn 2.6.14 peers in static-key mode with `cipher none` and `auth
// none` (see the README there), so each UDP payload is the 8-byte long-form
// packet-id followed by the framed plaintext, in the clear.
const staticKeyPacketIDLen = 8

// onesSum adds b as big-endian 16-bit words in one's complement.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum
}

// checkInnerPacket reports what a decompressed payload is ("ping", "occ",
// "ipv4", "ipv6"), verifying the IPv4 header checksum and the ICMP, UDP or TCP
// checksum, which an incorrect decompression would break.
func checkInnerPacket(t *testing.T, p []byte) string {
	t.Helper()
	if wire.IsPing(p) {
		return "ping"
	}
	if wire.OCCOpcode(p) >= 0 {
		return "occ"
	}
	if len(p) >= 40 && p[0]>>4 == 6 {
		if int(binary.BigEndian.Uint16(p[4:]))+40 != len(p) {
			t.Errorf("IPv6 payload length %d for a %d-byte packet", binary.BigEndian.Uint16(p[4:]), len(p))
		}
		return "ipv6"
	}
	if len(p) < 20 || p[0]>>4 != 4 {
		t.Errorf("not an IP packet: %x", p[:min(len(p), 32)])
		return "?"
	}
	ihl := int(p[0]&15) * 4
	if int(binary.BigEndian.Uint16(p[2:])) != len(p) || ihl < 20 || ihl > len(p) {
		t.Errorf("IPv4 length fields do not match a %d-byte packet: %x", len(p), p[:20])
		return "?"
	}
	if onesSum(0, p[:ihl]) != 0xffff {
		t.Errorf("IPv4 header checksum is wrong: %x", p[:ihl])
	}
	l4 := p[ihl:]
	var sum uint32
	switch p[9] {
	case 1: // ICMP: no pseudo-header
	case 6, 17:
		sum = onesSum(0, p[12:20])
		sum += uint32(p[9]) + uint32(len(l4))
	default:
		return "ipv4"
	}
	if onesSum(sum, l4) != 0xffff {
		t.Errorf("protocol %d checksum is wrong in %x...", p[9], p[:min(len(p), 48)])
	}
	return "ipv4"
}

func TestOpenVPNCaptures(t *testing.T) {
	tests := []struct {
		file       string
		mode       Mode
		compressed []byte // prefix of a compressed payload, nil for stubs
	}{
		{"lzono.pcap", LZOStub, nil},
		{"lzo.pcap", LZO, []byte{lzoCompressByte}},
		{"stub.pcap", StubSwap, nil},
		{"lz4.pcap", LZ4, []byte{lz4CompressByte}},
		{"stubv2.pcap", StubV2, nil},
		{"lz4v2.pcap", LZ4V2, []byte{v2Indicator, v2LZ4}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pkts, err := pcap.ReadFile("testdata/openvpn-2.6.14/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			var ccompat lz4.CompressorCCompat
			for i, p := range pkts {
				if len(p.Data) <= staticKeyPacketIDLen {
					t.Fatalf("packet %d: %d bytes", i, len(p.Data))
				}
				wireBytes := p.Data[staticKeyPacketIDLen:]
				payload := append([]byte{}, wireBytes...)
				scratch := make([]byte, 1768)
				got, err := tt.mode.Unframe(payload, scratch)
				if err != nil {
					t.Errorf("packet %d (%x...): %v", i, wireBytes[:min(len(wireBytes), 16)], err)
					continue
				}
				kind := checkInnerPacket(t, got)
				counts[kind]++
				compressed := tt.compressed != nil && bytes.HasPrefix(wireBytes, tt.compressed)
				if !compressed {
					// Our sender framing reproduces 2.6.14's bytes exactly.
					buf := make([]byte, MaxHeadroom+len(got)+MaxTailroom)
					copy(buf[MaxHeadroom:], got)
					s, e, err := tt.mode.Frame(buf, MaxHeadroom, MaxHeadroom+len(got))
					if err != nil || !bytes.Equal(buf[s:e], wireBytes) {
						t.Errorf("packet %d: Frame gives %x, openvpn sent %x (%v)", i, buf[s:e], wireBytes, err)
					}
					continue
				}
				counts["compressed"]++
				if len(got) < 100 {
					t.Errorf("packet %d: %d bytes were compressed; 2.6 leaves packets under 100 bytes alone", i, len(got))
				}
				// For LZ4 the block is LZ4_compress_default's, which
				// pierrec's CompressorCCompat reproduces: check the swap.
				var block []byte
				switch tt.mode {
				case LZ4:
					block = append([]byte{wireBytes[len(wireBytes)-1]}, wireBytes[1:len(wireBytes)-1]...)
				case LZ4V2:
					block = wireBytes[2:]
				default:
					continue
				}
				mine := make([]byte, lz4.CompressBlockBound(len(got)))
				n, err := ccompat.CompressBlock(got, mine)
				if err != nil || !bytes.Equal(mine[:n], block) {
					t.Errorf("packet %d: LZ4_compress_default-compatible block differs from the wire (%v)", i, err)
				}
			}
			t.Logf("%d packets: %v", len(pkts), counts)
			if counts["ping"] == 0 || counts["ipv4"] < 10 {
				t.Errorf("capture lacks pings or IPv4 traffic: %v", counts)
			}
			if tt.compressed != nil && counts["compressed"] < 5 {
				t.Errorf("capture has only %d compressed packets", counts["compressed"])
			}
		})
	}
}

// TestCapturesNoAutodetect decodes each capture with the wrong mode: 2.6
// drops what the configured mode does not allow, and so must we.
func TestCapturesNoAutodetect(t *testing.T) {
	tests := []struct {
		file string
		mode Mode
		want error // for every packet
	}{
		{"lzo.pcap", StubSwap, ErrFramingByte}, // 0xFA/0x66 are not 0xFB
		{"stub.pcap", LZOStub, ErrFramingByte}, // 0xFB is not 0xFA
		{"lzono.pcap", LZ4, ErrFramingByte},
	}
	for _, tt := range tests {
		pkts, err := pcap.ReadFile("testdata/openvpn-2.6.14/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkts {
			payload := append([]byte{}, p.Data[staticKeyPacketIDLen:]...)
			if _, err := tt.mode.Unframe(payload, make([]byte, 1768)); !errors.Is(err, tt.want) {
				t.Errorf("%s as %v, packet %d: err = %v, want %v", tt.file, tt.mode, i, err, tt.want)
			}
		}
	}
	// The LZO capture under `comp-lzo no`: exactly the 0x66 packets are
	// dropped.
	pkts, err := pcap.ReadFile("testdata/openvpn-2.6.14/lzo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, p := range pkts {
		payload := append([]byte{}, p.Data[staticKeyPacketIDLen:]...)
		_, err := LZOStub.Unframe(payload, nil)
		if (err != nil) != (payload[0] == lzoCompressByte) {
			t.Errorf("comp-lzo no on %x...: err = %v", payload[:8], err)
		}
		if err != nil {
			dropped++
		}
	}
	if dropped == 0 {
		t.Error("no LZO packet in the capture")
	}
}
