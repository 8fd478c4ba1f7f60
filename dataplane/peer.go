package dataplane

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/fragment"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Buffer layout. Every packet buffer has the plaintext at Offset, with room
// in front for the data header, packet-id, tag/HMAC/IV and compression
// framing, and the tun device's virtio header in front of that.
const (
	// Offset is where plaintext starts in every buffer.
	Offset = 128
	// BufSize is the size of every packet buffer: enough for a 64 KiB
	// GRO-coalesced tun write or GSO read segment.
	BufSize = Offset + 65536
	// decompressMax bounds decompressed payloads (OpenVPN's frame payload
	// size is about 1768 bytes by default; jumbo tun-mtu needs more).
	decompressMax = 65536
)

// PeerSettings are the per-peer data-channel parameters negotiated by the
// control channel. They are replaced as a whole (copy on write).
type PeerSettings struct {
	// PeerID is the server-assigned peer-id; with UseDataV2 the peer sends
	// P_DATA_V2 packets carrying it.
	PeerID    uint32
	UseDataV2 bool
	// Compression is the negotiated compression framing.
	Compression comp.Mode
	// MSS, if non-zero, clamps the MSS option of TCP SYN packets in both
	// directions (mssfix).
	MSS uint16
	// BlockIPv6 answers outbound IPv6 packets with ICMPv6 unreachable
	// instead of sending them (block-ipv6).
	BlockIPv6 bool
	// Fragment, if non-zero, enables OpenVPN's --fragment: the largest
	// payload, in bytes, after the 4-byte fragment header of one data
	// packet. Both peers must have fragment configured.
	Fragment int
}

// keyset is the immutable snapshot the hot path reads.
type keyset struct {
	keys    [8]*datacrypto.Key
	send    *datacrypto.Key
	sendKID wire.KeyID
	set     PeerSettings
	hdr     wire.DataHeader
}

// Stats are a peer's traffic counters.
type Stats struct {
	// Link-level bytes and packets (encrypted, as on the wire).
	LinkRxBytes, LinkTxBytes     uint64
	LinkRxPackets, LinkTxPackets uint64
	// Tunnel-level bytes (plaintext to/from tun).
	TunRxBytes, TunTxBytes uint64
	// Dropped inbound packets by reason.
	DropAuth, DropReplay, DropNoKey, DropFraming uint64
}

// Peer is the data-channel state of one peer: its keys (up to one per
// key_id), the key used for sending, framing options, counters and
// liveness timestamps. Its methods are safe for concurrent use; the key
// methods are called by the control owner, the rest by the data plane.
type Peer struct {
	mu    sync.Mutex // serialises writers of state
	state atomic.Pointer[keyset]

	linkRxBytes, linkTxBytes     atomic.Uint64
	linkRxPackets, linkTxPackets atomic.Uint64
	tunRxBytes, tunTxBytes       atomic.Uint64
	dropAuth, dropReplay         atomic.Uint64
	dropNoKey, dropFraming       atomic.Uint64

	lastRecv atomic.Int64 // unix nanoseconds of the last authenticated packet
	lastSend atomic.Int64 // unix nanoseconds of the last packet sent

	exit atomic.Bool // an OCC_EXIT arrived

	// send transmits sealed packets to this peer; set by the engine.
	send func(pkts [][]byte) error
	// seq orders what is sealed outside the outbound reader with the
	// outbound batches; set by the engine.
	seq *outSeq

	// Fragmentation state, created on first use. fragOut belongs to the
	// outbound goroutine, fragIn to the inbound one.
	fragOut struct {
		size  int
		sp    *fragment.Splitter
		frags [fragment.MaxFrags][]byte
	}
	fragIn struct {
		size int
		re   *fragment.Reassembler
	}
}

func newPeer(seq *outSeq) *Peer {
	p := &Peer{seq: seq}
	p.state.Store(&keyset{hdr: wire.DataHeader{Opcode: wire.OpDataV1, PeerID: wire.PeerIDNone}})
	return p
}

func (p *Peer) update(fn func(k *keyset)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := *p.state.Load()
	fn(&n)
	if n.set.UseDataV2 {
		n.hdr = wire.DataHeader{Opcode: wire.OpDataV2, KeyID: n.sendKID, PeerID: n.set.PeerID}
	} else {
		n.hdr = wire.DataHeader{Opcode: wire.OpDataV1, KeyID: n.sendKID, PeerID: wire.PeerIDNone}
	}
	p.state.Store(&n)
}

// Configure sets the negotiated parameters.
func (p *Peer) Configure(s PeerSettings) {
	p.update(func(k *keyset) { k.set = s })
}

// Settings returns the current parameters.
func (p *Peer) Settings() PeerSettings { return p.state.Load().set }

// InstallKey makes k the key of key_id kid for receiving, and for sending if
// send is set (the newest key encrypts as soon as it exists).
func (p *Peer) InstallKey(kid wire.KeyID, k *datacrypto.Key, send bool) {
	p.update(func(s *keyset) {
		s.keys[kid&7] = k
		if send {
			s.send, s.sendKID = k, kid
		}
	})
}

// RemoveKey forgets the key of kid (the lame duck expired).
func (p *Peer) RemoveKey(kid wire.KeyID) {
	p.update(func(s *keyset) {
		if s.keys[kid&7] == s.send {
			s.send = nil
		}
		s.keys[kid&7] = nil
	})
}

// RemoveAllKeys forgets every key (reconnect).
func (p *Peer) RemoveAllKeys() {
	p.update(func(s *keyset) { *s = keyset{set: s.set} })
}

// HasSendKey reports whether packets can be encrypted.
func (p *Peer) HasSendKey() bool { return p.state.Load().send != nil }

// SendKey returns the key used for sending, for renegotiation checks.
func (p *Peer) SendKey() *datacrypto.Key { return p.state.Load().send }

// Stats returns the counters.
func (p *Peer) Stats() Stats {
	return Stats{
		LinkRxBytes: p.linkRxBytes.Load(), LinkTxBytes: p.linkTxBytes.Load(),
		LinkRxPackets: p.linkRxPackets.Load(), LinkTxPackets: p.linkTxPackets.Load(),
		TunRxBytes: p.tunRxBytes.Load(), TunTxBytes: p.tunTxBytes.Load(),
		DropAuth: p.dropAuth.Load(), DropReplay: p.dropReplay.Load(),
		DropNoKey: p.dropNoKey.Load(), DropFraming: p.dropFraming.Load(),
	}
}

// LastReceive returns when the last authenticated packet (data or control)
// arrived.
func (p *Peer) LastReceive() time.Time { return time.Unix(0, p.lastRecv.Load()) }

// LastSend returns when the last packet was sent.
func (p *Peer) LastSend() time.Time { return time.Unix(0, p.lastSend.Load()) }

// MarkReceived records that an authenticated control packet arrived.
func (p *Peer) MarkReceived(now time.Time) { p.lastRecv.Store(now.UnixNano()) }

// MarkSent records that a control packet was sent.
func (p *Peer) MarkSent(now time.Time) { p.lastSend.Store(now.UnixNano()) }

// ExitRequested reports (once) whether the peer sent OCC_EXIT.
func (p *Peer) ExitRequested() bool { return p.exit.Swap(false) }

// ErrNoKey is returned when a packet must be sent before keys exist.
var ErrNoKey = errors.New("dataplane: no data-channel key yet")

// SendPing sends one keepalive ping.
func (p *Peer) SendPing() error { return p.sendSpecial(wire.PingMagic[:]) }

// SendOCCExit sends an OCC_EXIT message (explicit-exit-notify without
// cc-exit).
func (p *Peer) SendOCCExit() error {
	var m [17]byte
	copy(m[:], wire.OCCMagic[:])
	m[16] = wire.OCCExit
	return p.sendSpecial(m[:])
}

func (p *Peer) sendSpecial(payload []byte) error {
	if p.send == nil {
		return errors.New("dataplane: peer has no link")
	}
	q := p.seq
	q.mu.Lock()
	defer q.mu.Unlock()
	sb := sealedBatches.Get().(*sealedBatch)
	if !p.sealInto(sb, payload) {
		sealedBatches.Put(sb)
		return ErrNoKey
	}
	q.sendSealed(sb)
	return nil
}

// sealInto seals a copy of payload (at most one packet) into a pooled
// buffer and appends it to sb. The caller holds p.seq.mu.
func (p *Peer) sealInto(sb *sealedBatch, payload []byte) bool {
	bp := sealBufs.Get().(*[]byte)
	need := Offset + len(payload) + datacrypto.Tailroom + comp.MaxTailroom
	if cap(*bp) < need {
		*bp = make([]byte, 0, need)
	}
	buf := (*bp)[:Offset+len(payload)]
	copy(buf[Offset:], payload)
	pkt, ok := p.seal(buf, Offset, len(buf))
	if !ok {
		sealBufs.Put(bp)
		return false
	}
	sb.pkts = append(sb.pkts, sealedPkt{to: p, pkt: pkt, buf: bp})
	return true
}

// frame applies the compression framing and, with --fragment, the
// "whole packet" fragment header to buf[start:end]; the plaintext to seal
// is then buf[s:e]. ok is false when the packet is dropped (no send key,
// framing failed, too large for an unfragmented packet).
func (st *keyset) frame(buf []byte, start, end int) (s, e int, ok bool) {
	if st.send == nil {
		return 0, 0, false
	}
	s, e, err := st.set.Compression.Frame(buf, start, end)
	if err != nil {
		return 0, 0, false
	}
	if st.set.Fragment > 0 {
		if e-s > st.set.Fragment || s < fragment.HeaderLen {
			return 0, 0, false
		}
		s -= fragment.HeaderLen
		fragment.PutWhole(buf[s:])
	}
	return s, e, true
}

// needsSplit reports whether a packet of n bytes must be cut into
// fragments.
func (st *keyset) needsSplit(n int) bool {
	return st.set.Fragment > 0 && n+comp.MaxHeadroom+comp.MaxTailroom > st.set.Fragment
}

// seal frames and encrypts buf[start:end]; ok is false when the packet is
// dropped (no key). The result aliases buf. A packet larger than the
// fragment size is not handled here (see prepareSeal).
func (p *Peer) seal(buf []byte, start, end int) ([]byte, bool) {
	st := p.state.Load()
	s, e, ok := st.frame(buf, start, end)
	if !ok {
		return nil, false
	}
	// Seal wants the plaintext at buf[off:len(buf)] with tailroom in cap.
	pkt, err := st.send.Seal(st.hdr, buf[:e], s)
	if err != nil {
		return nil, false
	}
	return pkt, true
}

// sealJob is one outbound datagram between the serial stage (framing,
// packet-id in wire order) and the parallel one (encryption).
type sealJob struct {
	key *datacrypto.Key // nil: out is final already (a fragment)
	hdr wire.DataHeader
	buf []byte // the plaintext is buf[off:]
	off int
	id  uint32
	out []byte      // the sealed datagram; nil if dropped
	to  *ServerPeer // the server's destination client
}

// sealBatch is the parallel stage of a tun reader.
type sealBatch struct{ jobs []sealJob }

// run seals jobs[lo:hi]; safe to run on disjoint ranges at once.
func (b *sealBatch) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		j := &b.jobs[i]
		if j.key == nil {
			continue
		}
		pkt, err := j.key.SealAt(j.hdr, j.buf, j.off, j.id)
		if err != nil {
			pkt = nil
		}
		j.out = pkt
	}
}

// fragArena holds the datagrams of fragmented packets until their batch is
// written. It belongs to one tun reader, which resets it per batch.
type fragArena struct {
	bufs [][]byte
	used int
}

func (a *fragArena) reset() { a.used = 0 }

// get returns an empty buffer of capacity size, valid until the next
// reset.
func (a *fragArena) get(size int) []byte {
	if a.used == len(a.bufs) {
		a.bufs = append(a.bufs, nil)
	}
	if cap(a.bufs[a.used]) < size {
		a.bufs[a.used] = make([]byte, 0, size)
	}
	b := a.bufs[a.used][:0]
	a.used++
	return b
}

// prepareSeal runs the serial stage for one outbound packet from the tun
// reader: framing and a packet-id, appended to jobs as one job (sealed
// later, in parallel), or, when --fragment must cut it, the fragments
// sealed at once into arena buffers. It must only be called from the
// peer's outbound goroutine, in the order packets are to be sent.
func (p *Peer) prepareSeal(buf []byte, start, end int, arena *fragArena, jobs []sealJob) []sealJob {
	st := p.state.Load()
	if st.needsSplit(end - start) {
		return p.fragmentOut(st, buf, start, end, arena, jobs)
	}
	s, e, ok := st.frame(buf, start, end)
	if !ok {
		return jobs
	}
	id, err := st.send.ReserveID()
	if err != nil {
		return jobs
	}
	return append(jobs, sealJob{key: st.send, hdr: st.hdr, buf: buf[:e], off: s, id: id})
}

// fragmentOut cuts one packet into fragments and seals each.
func (p *Peer) fragmentOut(st *keyset, buf []byte, start, end int, arena *fragArena, jobs []sealJob) []sealJob {
	if st.send == nil {
		return jobs
	}
	s, e, err := st.set.Compression.Frame(buf, start, end)
	if err != nil {
		return jobs
	}
	f := &p.fragOut
	if f.size != st.set.Fragment || f.sp == nil {
		sp, err := fragment.NewSplitter(st.set.Fragment, uint8(time.Now().UnixNano()))
		if err != nil {
			return jobs
		}
		f.size, f.sp = st.set.Fragment, sp
	}
	count, _, err := f.sp.Plan(e - s)
	if err != nil {
		return jobs
	}
	// Split writes each fragment (header included) at the start of its
	// buffer; they are sealed at Offset of the arena buffers.
	size := Offset + fragment.HeaderLen + st.set.Fragment + datacrypto.Tailroom
	var full [fragment.MaxFrags][]byte
	dst := f.frags[:count]
	for i := range dst {
		full[i] = arena.get(size)[:size]
		dst[i] = full[i][Offset:Offset]
	}
	n, err := f.sp.Split(buf[s:e], dst)
	if err != nil {
		return jobs
	}
	for i := 0; i < n; i++ {
		pkt, err := st.send.Seal(st.hdr, full[i][:Offset+len(dst[i])], Offset)
		if err != nil {
			return jobs
		}
		jobs = append(jobs, sealJob{out: pkt})
	}
	return jobs
}

// inbound result kinds.
const (
	rxDrop       = iota // no key, bad framing, empty
	rxAuthFailed        // failed authentication or replay check
	rxData
	rxPing
	rxOCC
)

// open decrypts, checks replay, removes framing and classifies one data
// packet. Must be called from one goroutine per peer (replay window).
func (p *Peer) open(pkt []byte, scratch []byte, now time.Time) ([]byte, int) {
	j := openJob{key: p.keyFor(pkt), pkt: pkt}
	if j.key != nil {
		j.payload, j.pid, j.err = j.key.Open(pkt)
	}
	return p.accept(&j, scratch, now)
}

// keyFor returns the key of a data packet's key_id, nil if there is none.
func (p *Peer) keyFor(pkt []byte) *datacrypto.Key {
	return p.state.Load().keys[pkt[0]&7]
}

// openJob is one inbound data packet between the serial stage (finding
// the peer and key), the parallel one (decryption) and the serial one in
// arrival order (replay check, framing, delivery).
type openJob struct {
	key     *datacrypto.Key // nil: no key for the packet's key_id
	pkt     []byte
	buf     []byte // the whole buffer holding pkt
	payload []byte
	pid     uint32
	err     error
	from    *ServerPeer // the server's client
	addr    netip.AddrPort
}

// openBatch is the parallel stage of a link reader.
type openBatch struct{ jobs []openJob }

// run decrypts jobs[lo:hi]; safe to run on disjoint ranges at once.
func (b *openBatch) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		j := &b.jobs[i]
		if j.key != nil {
			j.payload, j.pid, j.err = j.key.Open(j.pkt)
		}
	}
}

// accept finishes a decrypted packet in arrival order: the replay check,
// fragment reassembly, decompression and classification. Must be called
// from one goroutine per peer.
func (p *Peer) accept(j *openJob, scratch []byte, now time.Time) ([]byte, int) {
	k := j.key
	if k == nil {
		p.dropNoKey.Add(1)
		return nil, rxDrop
	}
	payload, err := j.payload, j.err
	if err != nil {
		p.dropAuth.Add(1)
		return nil, rxAuthFailed
	}
	if !k.Replay(j.pid, now) {
		p.dropReplay.Add(1)
		return nil, rxAuthFailed
	}
	st := p.state.Load()
	p.lastRecv.Store(now.UnixNano())
	if st.set.Fragment > 0 {
		f := &p.fragIn
		if f.re == nil {
			re, err := fragment.NewReassembler(decompressMax)
			if err != nil {
				return nil, rxDrop
			}
			f.re = re
		}
		payload, err = f.re.Incoming(payload, now)
		if err != nil {
			p.dropFraming.Add(1)
			return nil, rxDrop
		}
		if payload == nil {
			return nil, rxDrop // a fragment was stored
		}
	}
	payload, err = st.set.Compression.Unframe(payload, scratch)
	if err != nil {
		p.dropFraming.Add(1)
		return nil, rxDrop
	}
	if wire.IsPing(payload) {
		return nil, rxPing
	}
	if op := wire.OCCOpcode(payload); op >= 0 {
		if op == wire.OCCExit {
			p.exit.Store(true)
		}
		return nil, rxOCC
	}
	if len(payload) == 0 {
		return nil, rxDrop
	}
	return payload, rxData
}
