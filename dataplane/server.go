package dataplane

import (
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openvpn-go/openvpn-go/ippkt"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/tun"
	"github.com/openvpn-go/openvpn-go/wire"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// Server is the data plane of a multi-client server: one tun device, UDP
// sockets shared by the UDP clients and one stream per TCP client.
//
// Goroutines: one tun reader (outbound: routes each packet to its client by
// destination address), one reader per UDP socket and one per TCP client
// (inbound: decrypts, checks the source address, writes to tun or forwards
// to another client). Control packets from known clients go to their
// bounded inbox; from unknown UDP addresses to the NewControl callback,
// which runs on the socket reader and must not block (the server's
// stateless cookie handshake).
type Server struct {
	log            *slog.Logger
	clientToClient bool

	mu     sync.Mutex // serialises changes to peers, byAddr and routes
	peers  []atomic.Pointer[ServerPeer]
	byAddr atomic.Pointer[map[netip.AddrPort]*ServerPeer]
	routes atomic.Pointer[routeTable]

	tun     tun.Device
	wg      sync.WaitGroup
	closed  atomic.Bool
	newCtl  func(pc transport.PacketConn, from netip.AddrPort, pkt []byte)
	floated func(p *ServerPeer, from netip.AddrPort)

	work     *workers // crypto workers of every pipeline
	seq      outSeq   // packet-id order of everything sent to clients
	stopWork sync.Once
	out      *tunWriter // the outbound writer stage's state
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// MaxPeers bounds the peer-ids (max-clients).
	MaxPeers int
	// ClientToClient forwards packets between clients inside the server.
	ClientToClient bool
	// NewControl receives control packets from unknown UDP addresses (a
	// copy is not made: pkt is valid only during the call).
	NewControl func(pc transport.PacketConn, from netip.AddrPort, pkt []byte)
	// Floated is told when a UDP client's address changed (after a packet
	// from the new address authenticated). It runs on the socket reader.
	Floated func(p *ServerPeer, from netip.AddrPort)
	Logger  *slog.Logger
}

// NewServer returns a server data plane.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 1024
	}
	s := &Server{
		log:            cfg.Logger,
		clientToClient: cfg.ClientToClient,
		peers:          make([]atomic.Pointer[ServerPeer], cfg.MaxPeers),
		newCtl:         cfg.NewControl,
		floated:        cfg.Floated,
		work:           startWorkers(parallelism),
	}
	m := map[netip.AddrPort]*ServerPeer{}
	s.byAddr.Store(&m)
	s.routes.Store(&routeTable{host: map[netip.Addr]*ServerPeer{}})
	return s
}

// ServerPeer is one client of a server.
type ServerPeer struct {
	Peer
	id     uint32
	pc     transport.PacketConn // UDP clients
	stream transport.Conn       // TCP clients
	addr   atomic.Pointer[netip.AddrPort]
	ctl    chan []byte
	srv    *Server
	gone   atomic.Bool
}

// Inject hands a control packet to the client's owner as if it had been
// read from the link (the stateless handshake's third packet).
func (p *ServerPeer) Inject() chan<- []byte { return p.ctl }

// PacketConn returns the UDP socket of a UDP client (nil for TCP).
func (p *ServerPeer) PacketConn() transport.PacketConn { return p.pc }

// ID returns the peer-id.
func (p *ServerPeer) ID() uint32 { return p.id }

// Addr returns the client's current link address.
func (p *ServerPeer) Addr() netip.AddrPort { return *p.addr.Load() }

// Control delivers the client's control packets (copies).
func (p *ServerPeer) Control() <-chan []byte { return p.ctl }

// SendControl writes control packets to the client.
func (p *ServerPeer) SendControl(pkts [][]byte) error {
	if len(pkts) == 0 {
		return nil
	}
	err := p.Peer.send(pkts)
	if err == nil {
		p.lastSend.Store(time.Now().UnixNano())
	}
	return err
}

// ErrNoPeerID is returned when every peer-id is in use (max-clients).
var ErrNoPeerID = errors.New("dataplane: no free peer-id: max-clients reached")

// AddUDPPeer registers a UDP client at addr on pc with the lowest free
// peer-id.
func (s *Server) AddUDPPeer(pc transport.PacketConn, addr netip.AddrPort) (*ServerPeer, error) {
	p := &ServerPeer{Peer: *newPeer(&s.seq), pc: pc, ctl: make(chan []byte, controlInbox), srv: s}
	p.addr.Store(&addr)
	p.Peer.send = func(pkts [][]byte) error {
		a := p.Addr()
		msgs := make([]transport.Message, len(pkts))
		for i, b := range pkts {
			msgs[i] = transport.Message{Buf: b, Addr: a}
		}
		return pc.WriteBatch(msgs)
	}
	if err := s.register(p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	m := maps(s.byAddr.Load())
	m[addr] = p
	s.byAddr.Store(&m)
	s.mu.Unlock()
	return p, nil
}

// AddStreamPeer registers a TCP client and starts its reader.
func (s *Server) AddStreamPeer(c transport.Conn) (*ServerPeer, error) {
	p := &ServerPeer{Peer: *newPeer(&s.seq), stream: c, ctl: make(chan []byte, controlInbox), srv: s}
	a := c.RemoteAddr()
	p.addr.Store(&a)
	p.Peer.send = c.WriteBatch
	if err := s.register(p); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.readStream(p)
	return p, nil
}

func maps(m *map[netip.AddrPort]*ServerPeer) map[netip.AddrPort]*ServerPeer {
	n := make(map[netip.AddrPort]*ServerPeer, len(*m)+1)
	for k, v := range *m {
		n[k] = v
	}
	return n
}

func (s *Server) register(p *ServerPeer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.peers {
		if s.peers[i].Load() == nil {
			p.id = uint32(i)
			s.peers[i].Store(p)
			return nil
		}
	}
	return ErrNoPeerID
}

// RemovePeer forgets a client: its peer-id, address and routes. A TCP
// client's stream is closed.
func (s *Server) RemovePeer(p *ServerPeer) {
	if p.gone.Swap(true) {
		return
	}
	s.mu.Lock()
	if s.peers[p.id].Load() == p {
		s.peers[p.id].Store(nil)
	}
	m := maps(s.byAddr.Load())
	for k, v := range m {
		if v == p {
			delete(m, k)
		}
	}
	s.byAddr.Store(&m)
	s.routes.Store(s.routes.Load().without(p))
	s.mu.Unlock()
	if p.stream != nil {
		p.stream.Close()
	}
	p.RemoveAllKeys()
}

// AddRoute makes packets to prefix go to p (its tunnel address as a host
// prefix, or an iroute).
func (s *Server) AddRoute(prefix netip.Prefix, p *ServerPeer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes.Store(s.routes.Load().with(prefix.Masked(), p))
}

// Lookup returns the client that owns address a, if any.
func (s *Server) Lookup(a netip.Addr) *ServerPeer { return s.routes.Load().lookup(a) }

// PeerByAddr returns the UDP client at addr, if any.
func (s *Server) PeerByAddr(addr netip.AddrPort) *ServerPeer { return (*s.byAddr.Load())[addr] }

// Peers returns the registered clients.
func (s *Server) Peers() []*ServerPeer {
	var out []*ServerPeer
	for i := range s.peers {
		if p := s.peers[i].Load(); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// routeTable maps tunnel addresses and iroutes to clients. It is immutable;
// changes make a copy.
type routeTable struct {
	host     map[netip.Addr]*ServerPeer
	prefixes []prefixRoute // longest first
}

type prefixRoute struct {
	p    netip.Prefix
	peer *ServerPeer
}

func (t *routeTable) with(p netip.Prefix, peer *ServerPeer) *routeTable {
	n := &routeTable{host: make(map[netip.Addr]*ServerPeer, len(t.host)+1), prefixes: slices.Clone(t.prefixes)}
	for k, v := range t.host {
		n.host[k] = v
	}
	if p.IsSingleIP() {
		n.host[p.Addr()] = peer
		return n
	}
	n.prefixes = slices.DeleteFunc(n.prefixes, func(r prefixRoute) bool { return r.p == p })
	n.prefixes = append(n.prefixes, prefixRoute{p, peer})
	slices.SortStableFunc(n.prefixes, func(a, b prefixRoute) int { return b.p.Bits() - a.p.Bits() })
	return n
}

func (t *routeTable) without(peer *ServerPeer) *routeTable {
	n := &routeTable{host: make(map[netip.Addr]*ServerPeer, len(t.host))}
	for k, v := range t.host {
		if v != peer {
			n.host[k] = v
		}
	}
	for _, r := range t.prefixes {
		if r.peer != peer {
			n.prefixes = append(n.prefixes, r)
		}
	}
	return n
}

func (t *routeTable) lookup(a netip.Addr) *ServerPeer {
	if p := t.host[a]; p != nil {
		return p
	}
	for _, r := range t.prefixes {
		if r.p.Contains(a) {
			return r.peer
		}
	}
	return nil
}

// AttachTun starts routing packets read from dev to the clients.
func (s *Server) AttachTun(dev tun.Device) {
	s.tun = dev
	s.wg.Add(1)
	go s.readTun(dev)
}

// ServeUDP starts reading a UDP socket.
func (s *Server) ServeUDP(pc transport.PacketConn) {
	s.wg.Add(1)
	go s.readUDP(pc)
}

// Close marks the data plane closed; the caller closes the sockets, streams
// and the tun device, then calls Wait.
func (s *Server) Close() { s.closed.Store(true) }

// Wait waits for every reader goroutine, then stops the crypto workers.
func (s *Server) Wait() {
	s.wg.Wait()
	s.stopWork.Do(s.work.stop)
}

func isMulticast(a netip.Addr) bool {
	return a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// serverOut is one batch of the outbound pipeline (tun → clients).
type serverOut struct {
	st    batchState
	s     *Server
	bufs  [][]byte
	sizes []int
	seal  sealBatch
	arena fragArena
}

func (b *serverOut) stage() *batchState { return &b.st }
func (b *serverOut) size() int          { return len(b.seal.jobs) }

func (b *serverOut) crypt() {
	b.seal.run(0, len(b.seal.jobs))
	b.st.done()
}

// finish writes the batch: one batched write per socket and stream.
func (b *serverOut) finish() {
	w := b.s.out
	w.reset()
	for i := range b.seal.jobs {
		if j := &b.seal.jobs[i]; j.out != nil {
			w.queue(j.to, j.out)
		}
	}
	w.flush(b.s.log)
}

// readTun is the outbound reader: it routes each packet to its client by
// destination address, frames it and assigns its packet id in order, and
// passes the batch down the pipeline.
func (s *Server) readTun(dev tun.Device) {
	defer s.wg.Done()
	n := dev.BatchSize()
	s.out = &tunWriter{streams: map[*ServerPeer][][]byte{}}
	batches := make([]*serverOut, batchesFor(s.work))
	for k := range batches {
		b := &serverOut{s: s, bufs: make([][]byte, n), sizes: make([]int, n), seal: sealBatch{jobs: make([]sealJob, 0, n)}}
		for i := range b.bufs {
			b.bufs[i] = make([]byte, BufSize)
		}
		batches[k] = b
	}
	pl := newPipeline(s.work, batches, &s.seq)
	defer pl.close()
	bcast := make([]byte, BufSize)
	for {
		b := pl.next()
		got, err := dev.Read(b.bufs, b.sizes, Offset)
		if err != nil {
			pl.recycle(b)
			if errors.Is(err, wgtun.ErrTooManySegments) {
				continue
			}
			return
		}
		rt := s.routes.Load()
		s.seq.mu.Lock() // ids are reserved in the order the batches are queued
		b.seal.jobs = b.seal.jobs[:0]
		b.arena.reset()
		for i := 0; i < got; i++ {
			ip := b.bufs[i][Offset : Offset+b.sizes[i]]
			dst, ok := ippkt.Dst(ip)
			if !ok {
				continue
			}
			if isMulticast(dst) {
				// Multicast and broadcast go to every client (a copy each;
				// rare, so the copies may allocate).
				for _, p := range s.Peers() {
					c := bcast[:Offset+len(ip)]
					copy(c[Offset:], ip)
					if pkt, ok := p.seal(c, Offset, len(c)); ok {
						b.seal.jobs = append(b.seal.jobs, sealJob{out: append([]byte(nil), pkt...), to: p})
					}
				}
				continue
			}
			p := rt.lookup(dst)
			if p == nil {
				continue
			}
			p.tunTxBytes.Add(uint64(len(ip)))
			if mss := p.Settings().MSS; mss != 0 {
				ippkt.MSSClamp(ip, mss)
			}
			k := len(b.seal.jobs)
			b.seal.jobs = p.prepareSeal(b.bufs[i], Offset, Offset+b.sizes[i], &b.arena, b.seal.jobs)
			for j := k; j < len(b.seal.jobs); j++ {
				b.seal.jobs[j].to = p
			}
		}
		if len(b.seal.jobs) == 0 {
			pl.recycle(b)
		} else {
			pl.submit(b)
		}
		s.seq.mu.Unlock()
	}
}

// tunWriter groups sealed packets by link for batched writes.
type tunWriter struct {
	udp     []udpBatch
	streams map[*ServerPeer][][]byte
	peers   []*ServerPeer
}

type udpBatch struct {
	pc   transport.PacketConn
	msgs []transport.Message
}

func (w *tunWriter) reset() {
	for i := range w.udp {
		w.udp[i].msgs = w.udp[i].msgs[:0]
	}
	clear(w.streams)
	w.peers = w.peers[:0]
}

// queue adds one sealed datagram for p.
func (w *tunWriter) queue(p *ServerPeer, pkt []byte) {
	p.linkTxBytes.Add(uint64(len(pkt)))
	p.linkTxPackets.Add(1)
	if n := len(w.peers); n == 0 || w.peers[n-1] != p {
		w.peers = append(w.peers, p)
	}
	if p.pc == nil {
		w.streams[p] = append(w.streams[p], pkt)
		return
	}
	i := slices.IndexFunc(w.udp, func(u udpBatch) bool { return u.pc == p.pc })
	if i < 0 {
		w.udp = append(w.udp, udpBatch{pc: p.pc})
		i = len(w.udp) - 1
	}
	w.udp[i].msgs = append(w.udp[i].msgs, transport.Message{Buf: pkt, Addr: p.Addr()})
}

func (w *tunWriter) flush(log *slog.Logger) {
	for _, u := range w.udp {
		if len(u.msgs) > 0 {
			if err := u.pc.WriteBatch(u.msgs); err != nil {
				log.Debug("udp write", "err", err)
			}
		}
	}
	for p, pkts := range w.streams {
		p.stream.WriteBatch(pkts)
	}
	now := time.Now().UnixNano()
	for _, p := range w.peers {
		p.lastSend.Store(now)
	}
}

// serverIn is one batch of an inbound pipeline (a UDP socket or a TCP
// client → tun or other clients).
type serverIn struct {
	st   batchState
	s    *Server
	full [][]byte
	open openBatch
	now  time.Time
	r    *receiver   // the writer stage's state, shared by the pipeline's batches
	tcp  *ServerPeer // the TCP client of a stream pipeline
}

func (b *serverIn) stage() *batchState { return &b.st }
func (b *serverIn) size() int          { return len(b.open.jobs) }

func (b *serverIn) crypt() {
	b.open.run(0, len(b.open.jobs))
	b.st.done()
}

// finish checks replay and delivers the batch in arrival order; a UDP
// client floats only after a packet from its new address authenticated.
func (b *serverIn) finish() {
	r := b.r
	if r.dead {
		return
	}
	r.reset()
	for i := range b.open.jobs {
		j := &b.open.jobs[i]
		p := j.from
		payload, kind := p.accept(j, r.scratch, b.now)
		if b.tcp != nil {
			if kind == rxAuthFailed && p.HasSendKey() {
				// 2.6: a decryption failure on TCP ends the connection.
				p.stream.Close()
				r.dead = true
				return
			}
		} else if (kind == rxData || kind == rxPing || kind == rxOCC) && j.addr != p.Addr() {
			// Float (CVE-2020-11810: never before the packet authenticated).
			b.s.float(p, j.addr)
		}
		if kind == rxData {
			r.deliver(p, j.buf, payload)
		}
	}
	r.flush()
}

// newInPipeline builds an inbound pipeline of batches of n buffers.
func (s *Server) newInPipeline(n int, work *workers, tcp *ServerPeer) (*pipeline[*serverIn], []*serverIn) {
	r := newReceiver(s)
	batches := make([]*serverIn, batchesFor(work))
	for k := range batches {
		b := &serverIn{s: s, full: make([][]byte, n), open: openBatch{jobs: make([]openJob, 0, n)}, r: r, tcp: tcp}
		for i := range b.full {
			b.full[i] = make([]byte, BufSize)
		}
		batches[k] = b
	}
	return newPipeline(work, batches, nil), batches
}

// readUDP is the reader of one UDP socket: control packets go to their
// client's inbox (or the stateless handshake), data packets are matched to
// their client and key and passed down the pipeline.
func (s *Server) readUDP(pc transport.PacketConn) {
	defer s.wg.Done()
	n := pc.BatchSize()
	pl, _ := s.newInPipeline(n, s.work, nil)
	defer pl.close()
	msgs := make([]transport.Message, n)
	pace := newPacer()
	for {
		b := pl.next()
		for i := range msgs {
			msgs[i].Buf = b.full[i][Offset:]
		}
		pace.wait()
		got, err := pc.ReadBatch(msgs)
		if err != nil {
			pl.recycle(b)
			return
		}
		b.now = time.Now()
		pace.read(got, b.now)
		b.open.jobs = b.open.jobs[:0]
		byAddr := *s.byAddr.Load()
		for i := 0; i < got; i++ {
			pkt := msgs[i].Buf[:msgs[i].N]
			from := msgs[i].Addr
			h, isData := wire.ParseDataHeader(pkt)
			if !isData {
				op, _, _ := wire.PeekOpcode(pkt)
				if !op.IsControl() {
					continue
				}
				if p := byAddr[from]; p != nil {
					select {
					case p.ctl <- append([]byte(nil), pkt...):
					default:
					}
				} else if s.newCtl != nil {
					s.newCtl(pc, from, pkt)
				}
				continue
			}
			var p *ServerPeer
			if h.Opcode == wire.OpDataV2 && h.PeerID != wire.PeerIDNone {
				if int(h.PeerID) < len(s.peers) {
					p = s.peers[h.PeerID].Load()
				}
				if p != nil && p.pc != pc {
					p = nil // a client does not move between sockets
				}
			} else {
				p = byAddr[from]
			}
			if p == nil {
				continue
			}
			p.linkRxBytes.Add(uint64(len(pkt)))
			p.linkRxPackets.Add(1)
			b.open.jobs = append(b.open.jobs, openJob{key: p.keyFor(pkt), pkt: pkt, buf: b.full[i], from: p, addr: from})
		}
		if len(b.open.jobs) == 0 {
			pl.recycle(b)
			continue
		}
		pl.submit(b)
	}
}

// float moves a UDP client to a new address.
func (s *Server) float(p *ServerPeer, from netip.AddrPort) {
	s.mu.Lock()
	old := p.Addr()
	m := maps(s.byAddr.Load())
	if q := m[from]; q != nil && q != p {
		// Another client owns that address: refuse the float.
		s.mu.Unlock()
		return
	}
	delete(m, old)
	m[from] = p
	s.byAddr.Store(&m)
	p.addr.Store(&from)
	s.mu.Unlock()
	if s.floated != nil {
		s.floated(p, from)
	}
}

// readStream is the reader of one TCP client. Its pipeline runs serially
// (no writer goroutine, one batch) to keep the memory per TCP client low.
func (s *Server) readStream(p *ServerPeer) {
	defer s.wg.Done()
	c := p.stream
	n := c.BatchSize()
	pl, _ := s.newInPipeline(n, nil, p)
	defer pl.close()
	rbufs := make([][]byte, n)
	sizes := make([]int, n)
	defer close(p.ctl)
	pace := newPacer()
	for {
		b := pl.next()
		for i := range rbufs {
			rbufs[i] = b.full[i][Offset:]
		}
		pace.wait()
		got, err := c.ReadBatch(rbufs, sizes)
		if err != nil {
			pl.recycle(b)
			return
		}
		b.now = time.Now()
		pace.read(got, b.now)
		b.open.jobs = b.open.jobs[:0]
		for i := 0; i < got; i++ {
			pkt := b.full[i][Offset : Offset+sizes[i]]
			op, _, _ := wire.PeekOpcode(pkt)
			if op.IsControl() {
				select {
				case p.ctl <- append([]byte(nil), pkt...):
				default:
				}
				continue
			}
			if !op.IsData() {
				continue
			}
			p.linkRxBytes.Add(uint64(len(pkt)))
			p.linkRxPackets.Add(1)
			b.open.jobs = append(b.open.jobs, openJob{key: p.keyFor(pkt), pkt: pkt, buf: b.full[i], from: p})
		}
		if len(b.open.jobs) == 0 {
			pl.recycle(b)
			continue
		}
		pl.submit(b)
		if b.r.dead {
			return
		}
	}
}

// receiver batches decrypted packets for tun and for other clients.
type receiver struct {
	s       *Server
	scratch []byte
	out     [][]byte
	c2c     []c2cPkt // client-to-client packets of the batch
	dead    bool     // a TCP client failed a packet: its stream is closed
}

// c2cPkt is a decrypted packet for another client.
type c2cPkt struct {
	to      *ServerPeer
	payload []byte
}

func newReceiver(s *Server) *receiver {
	return &receiver{s: s, scratch: make([]byte, decompressMax)}
}

func (r *receiver) reset() {
	r.out = r.out[:0]
	r.c2c = r.c2c[:0]
}

// deliver checks the source address and sends payload to tun or, with
// client-to-client, to the client it is addressed to. b is the buffer that
// holds payload.
func (r *receiver) deliver(p *ServerPeer, b, payload []byte) {
	src, ok := ippkt.Src(payload)
	if !ok {
		return
	}
	rt := r.s.routes.Load()
	if owner := rt.lookup(src); owner != p {
		// "MULTI: bad source address from client": drop.
		p.dropFraming.Add(1)
		return
	}
	if mss := p.Settings().MSS; mss != 0 {
		ippkt.MSSClamp(payload, mss)
	}
	// Move the payload to the common offset of the batched tun write: it
	// may alias the scratch buffer after decompression, or sit after the
	// header inside b.
	if len(payload) > len(b)-Offset {
		return
	}
	copy(b[Offset:], payload)
	payload = b[Offset : Offset+len(payload)]
	if r.s.clientToClient {
		if dst, ok := ippkt.Dst(payload); ok && !isMulticast(dst) {
			if q := rt.lookup(dst); q != nil && q != p {
				// Sealed for q in flush, in order with the server's
				// outbound batches.
				r.c2c = append(r.c2c, c2cPkt{to: q, payload: payload})
				return
			}
		}
	}
	p.tunRxBytes.Add(uint64(len(payload)))
	r.out = append(r.out, b[:Offset+len(payload)])
}

func (r *receiver) flush() {
	if len(r.c2c) > 0 {
		q := &r.s.seq
		q.mu.Lock()
		sb := sealedBatches.Get().(*sealedBatch)
		for _, c := range r.c2c {
			if c.to.sealInto(sb, c.payload) {
				c.to.linkTxPackets.Add(1)
				c.to.linkTxBytes.Add(uint64(len(sb.pkts[len(sb.pkts)-1].pkt)))
			}
		}
		q.sendSealed(sb)
		q.mu.Unlock()
		r.c2c = r.c2c[:0]
	}
	if len(r.out) == 0 || r.s.tun == nil {
		return
	}
	if _, err := r.s.tun.Write(r.out, Offset); err != nil {
		r.s.log.Debug("tun write", "err", err)
	}
}
