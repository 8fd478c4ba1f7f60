package fragment

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/pcap"
	"github.com/openvpn-go/openvpn-go/wire"
)

// testdata/openvpn-2.6.14/frag.pcap was recorded between two openvpn 2.6.14
// peers with `fragment 500`, static key, `cipher none` and `auth none` (see
// the README there): each UDP payload is an 8-byte long-form packet-id and
// then, in the clear, the fragment header and data. The peers logged
// "Fragmentation MTU parms [ ... max_frag:488 ... ]".
const (
	capturedPacketIDLen = 8
	capturedMaxFrag     = 488
)

func ipv4HeaderOK(p []byte) bool {
	if len(p) < 20 || p[0]>>4 != 4 || int(binary.BigEndian.Uint16(p[2:])) != len(p) {
		return false
	}
	var sum uint32
	for i := 0; i < int(p[0]&15)*4; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

func TestCapturedFragments(t *testing.T) {
	pkts, err := pcap.ReadFile("testdata/openvpn-2.6.14/frag.pcap")
	if err != nil {
		t.Fatal(err)
	}
	type dir struct {
		r       *Reassembler
		pending map[uint8][][]byte // captured fragments per seq_id
	}
	dirs := map[string]*dir{}
	whole, joined := 0, 0
	sizes := map[int]bool{}
	for i, p := range pkts {
		d := dirs[p.Src.String()]
		if d == nil {
			d = &dir{r: mustReassembler(t, 1768), pending: map[uint8][][]byte{}}
			dirs[p.Src.String()] = d
		}
		payload := p.Data[capturedPacketIDLen:]
		h, err := ParseHeader(payload)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if h.Type != Whole {
			d.pending[h.SeqID] = append(d.pending[h.SeqID], append([]byte{}, payload...))
		}
		out, err := d.r.Incoming(payload, p.Time)
		if err != nil {
			t.Fatalf("packet %d (%x): %v", i, payload[:4], err)
		}
		if out == nil {
			continue
		}
		if !wire.IsPing(out) && wire.OCCOpcode(out) < 0 && !ipv4HeaderOK(out) && out[0]>>4 != 6 {
			t.Errorf("packet %d: reassembled %d bytes are not a packet: %x", i, len(out), out[:min(len(out), 20)])
		}
		if h.Type == Whole {
			whole++
			if !bytes.Equal(payload[:4], []byte{0, 0, 0, 0}) {
				t.Errorf("packet %d: whole header %x", i, payload[:4])
			}
			if len(out) > capturedMaxFrag {
				t.Errorf("packet %d: %d bytes sent whole, over max_frag", i, len(out))
			}
			continue
		}
		joined++
		// Our Splitter, at the seq_id openvpn used, reproduces every
		// fragment byte for byte.
		frags := d.pending[h.SeqID]
		delete(d.pending, h.SeqID)
		s, err := NewSplitter(capturedMaxFrag, h.SeqID-1)
		if err != nil {
			t.Fatal(err)
		}
		dst := buffers(MaxFrags, 600)
		n, err := s.Split(out, dst)
		if err != nil || n != len(frags) {
			t.Errorf("packet %d: %d bytes split into %d (%v), openvpn sent %d fragments", i, len(out), n, err, len(frags))
			continue
		}
		for k := range n {
			if !bytes.Equal(dst[k], frags[k]) {
				t.Errorf("packet %d fragment %d: ours %x..., openvpn %x...", i, k, dst[k][:8], frags[k][:8])
			}
			sizes[len(frags[k])-HeaderLen] = true
		}
	}
	t.Logf("%d packets: %d whole, %d reassembled; fragment sizes seen %v", len(pkts), whole, joined, sizes)
	if whole < 10 || joined < 5 {
		t.Errorf("capture too thin: %d whole, %d reassembled", whole, joined)
	}
	if len(sizes) < 4 {
		t.Errorf("only %d distinct fragment sizes: optimal_fragment_size is not exercised", len(sizes))
	}
	for src, d := range dirs {
		if len(d.pending) != 0 {
			t.Errorf("%s: incomplete packets left: %d", src, len(d.pending))
		}
	}
}
