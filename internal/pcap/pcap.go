// Package pcap reads the classic libpcap capture files recorded from the
// reference openvpn (Ethernet link type, IPv4/IPv6, UDP/TCP) and returns the
// OpenVPN packets they carry: UDP payloads as they are, TCP streams split on
// OpenVPN's 16-bit length framing. It exists for tests.
package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"time"
)

// Packet is one OpenVPN packet from a capture.
type Packet struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	TCP      bool
	Data     []byte // one OpenVPN packet (TCP: without the length prefix)
}

type segment struct {
	t        time.Time
	src, dst netip.AddrPort
	seq      uint32
	data     []byte
}

// ReadFile returns the OpenVPN packets of a capture in capture order (TCP
// packets in stream order per direction, placed at the time their frame
// completed).
func ReadFile(path string) ([]Packet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse is ReadFile on bytes.
func Parse(b []byte) ([]Packet, error) {
	if len(b) < 24 {
		return nil, errors.New("pcap: short file")
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			return nil, errors.New("pcap: not a pcap file")
		}
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		return nil, fmt.Errorf("pcap: link type %d unsupported (want Ethernet)", lt)
	}
	b = b[24:]
	var out []Packet
	var segs []segment
	for len(b) >= 16 {
		sec, frac, incl := bo.Uint32(b), bo.Uint32(b[4:]), int(bo.Uint32(b[8:]))
		b = b[16:]
		if incl > len(b) {
			return nil, errors.New("pcap: truncated record")
		}
		rec := b[:incl]
		b = b[incl:]
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		t := time.Unix(int64(sec), ns)
		p, seg, ok := decode(rec)
		if !ok {
			continue
		}
		if seg != nil {
			seg.t = t
			segs = append(segs, *seg)
			continue
		}
		p.Time = t
		out = append(out, p)
	}
	out = append(out, reassemble(segs)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func decode(f []byte) (Packet, *segment, bool) {
	var p Packet
	if len(f) < 14 {
		return p, nil, false
	}
	et := binary.BigEndian.Uint16(f[12:])
	f = f[14:]
	var src, dst netip.Addr
	var proto byte
	switch et {
	case 0x0800:
		if len(f) < 20 {
			return p, nil, false
		}
		ihl := int(f[0]&0xf) * 4
		tot := int(binary.BigEndian.Uint16(f[2:]))
		if ihl < 20 || tot > len(f) || tot < ihl {
			return p, nil, false
		}
		src = netip.AddrFrom4([4]byte(f[12:16]))
		dst = netip.AddrFrom4([4]byte(f[16:20]))
		proto = f[9]
		f = f[ihl:tot]
	case 0x86dd:
		if len(f) < 40 {
			return p, nil, false
		}
		pl := int(binary.BigEndian.Uint16(f[4:]))
		if 40+pl > len(f) {
			return p, nil, false
		}
		proto = f[6]
		src = netip.AddrFrom16([16]byte(f[8:24]))
		dst = netip.AddrFrom16([16]byte(f[24:40]))
		f = f[40 : 40+pl]
	default:
		return p, nil, false
	}
	switch proto {
	case 17:
		if len(f) < 8 {
			return p, nil, false
		}
		p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(f))
		p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(f[2:]))
		p.Data = f[8:]
		return p, nil, len(p.Data) > 0
	case 6:
		if len(f) < 20 {
			return p, nil, false
		}
		off := int(f[12]>>4) * 4
		if off < 20 || off > len(f) {
			return p, nil, false
		}
		s := &segment{
			src:  netip.AddrPortFrom(src, binary.BigEndian.Uint16(f)),
			dst:  netip.AddrPortFrom(dst, binary.BigEndian.Uint16(f[2:])),
			seq:  binary.BigEndian.Uint32(f[4:]),
			data: f[off:],
		}
		if len(s.data) == 0 {
			return p, nil, false
		}
		return p, s, true
	}
	return p, nil, false
}

// reassemble concatenates each direction's TCP payload in sequence order
// (dropping retransmitted bytes) and splits it into OpenVPN frames.
func reassemble(segs []segment) []Packet {
	type key struct{ src, dst netip.AddrPort }
	type stream struct {
		next    uint32
		started bool
		buf     []byte
		times   []time.Time // time of the segment that supplied each byte
	}
	streams := map[key]*stream{}
	var order []key
	for _, s := range segs {
		k := key{s.src, s.dst}
		st := streams[k]
		if st == nil {
			st = &stream{}
			streams[k] = st
			order = append(order, k)
		}
		if !st.started {
			st.started, st.next = true, s.seq
		}
		d := int32(s.seq - st.next)
		data := s.data
		if d < 0 {
			if int(-d) >= len(data) {
				continue
			}
			data = data[-d:]
		} else if d > 0 {
			continue // gap: not expected on loopback
		}
		st.buf = append(st.buf, data...)
		for range data {
			st.times = append(st.times, s.t)
		}
		st.next += uint32(len(data))
	}
	var out []Packet
	for _, k := range order {
		st := streams[k]
		b := st.buf
		pos := 0
		for len(b)-pos >= 2 {
			n := int(binary.BigEndian.Uint16(b[pos:]))
			if n == 0 || pos+2+n > len(b) {
				break
			}
			out = append(out, Packet{Time: st.times[pos+2+n-1], Src: k.src, Dst: k.dst, TCP: true, Data: b[pos+2 : pos+2+n]})
			pos += 2 + n
		}
	}
	return out
}
