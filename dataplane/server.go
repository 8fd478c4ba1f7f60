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
	p := &ServerPeer{Peer: *newPeer(), pc: pc, ctl: make(chan []byte, controlInbox), srv: s}
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
	p := &ServerPeer{Peer: *newPeer(), stream: c, ctl: make(chan []byte, controlInbox), srv: s}
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

// Wait waits for every reader goroutine.
func (s *Server) Wait() { s.wg.Wait() }

func isMulticast(a netip.Addr) bool {
	return a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// readTun routes outbound packets to their clients.
func (s *Server) readTun(dev tun.Device) {
	defer s.wg.Done()
	n := dev.BatchSize()
	bufs := make([][]byte, n)
	sizes := make([]int, n)
	for i := range bufs {
		bufs[i] = make([]byte, BufSize)
	}
	w := &tunWriter{streams: map[*ServerPeer][][]byte{}}
	bcast := make([]byte, BufSize)
	var sealed [][]byte
	for {
		got, err := dev.Read(bufs, sizes, Offset)
		if err != nil {
			if errors.Is(err, wgtun.ErrTooManySegments) {
				continue
			}
			return
		}
		rt := s.routes.Load()
		w.reset()
		for i := 0; i < got; i++ {
			ip := bufs[i][Offset : Offset+sizes[i]]
			dst, ok := ippkt.Dst(ip)
			if !ok {
				continue
			}
			if isMulticast(dst) {
				// Multicast and broadcast go to every client (a copy each;
				// rare, so the copies may allocate).
				for _, p := range s.Peers() {
					b := bcast[:Offset+len(ip)]
					copy(b[Offset:], ip)
					if pkt, ok := p.seal(b, Offset, len(b)); ok {
						w.queue(p, [][]byte{append([]byte(nil), pkt...)})
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
			sealed = p.sealOut(bufs[i], Offset, Offset+sizes[i], sealed[:0])
			w.queue(p, sealed)
		}
		w.flush(s.log)
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

func (w *tunWriter) queue(p *ServerPeer, pkts [][]byte) {
	if len(pkts) == 0 {
		return
	}
	var b uint64
	for _, pkt := range pkts {
		b += uint64(len(pkt))
	}
	p.linkTxBytes.Add(b)
	p.linkTxPackets.Add(uint64(len(pkts)))
	w.peers = append(w.peers, p)
	if p.pc == nil {
		w.streams[p] = append(w.streams[p], pkts...)
		return
	}
	a := p.Addr()
	i := slices.IndexFunc(w.udp, func(u udpBatch) bool { return u.pc == p.pc })
	if i < 0 {
		w.udp = append(w.udp, udpBatch{pc: p.pc})
		i = len(w.udp) - 1
	}
	for _, pkt := range pkts {
		w.udp[i].msgs = append(w.udp[i].msgs, transport.Message{Buf: pkt, Addr: a})
	}
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

// readUDP handles one UDP socket.
func (s *Server) readUDP(pc transport.PacketConn) {
	defer s.wg.Done()
	n := pc.BatchSize()
	msgs := make([]transport.Message, n)
	full := make([][]byte, n)
	for i := range msgs {
		full[i] = make([]byte, BufSize)
		msgs[i].Buf = full[i][Offset:]
	}
	r := newReceiver(s)
	for {
		for i := range msgs {
			msgs[i].Buf = full[i][Offset:]
		}
		got, err := pc.ReadBatch(msgs)
		if err != nil {
			return
		}
		now := time.Now()
		r.reset()
		byAddr := *s.byAddr.Load()
		for i := 0; i < got; i++ {
			pkt := msgs[i].Buf[:msgs[i].N]
			b := full[i]
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
			payload, kind := p.open(pkt, r.scratch, now)
			p.linkRxBytes.Add(uint64(len(pkt)))
			p.linkRxPackets.Add(1)
			if kind != rxData && kind != rxPing && kind != rxOCC {
				continue
			}
			if from != p.Addr() {
				// Float: only after the packet authenticated (CVE-2020-11810).
				s.float(p, from)
			}
			if kind != rxData {
				continue
			}
			r.deliver(p, b, payload)
		}
		r.flush()
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

// readStream handles one TCP client.
func (s *Server) readStream(p *ServerPeer) {
	defer s.wg.Done()
	c := p.stream
	n := c.BatchSize()
	full := make([][]byte, n)
	rbufs := make([][]byte, n)
	sizes := make([]int, n)
	for i := range full {
		full[i] = make([]byte, BufSize)
		rbufs[i] = full[i][Offset:]
	}
	r := newReceiver(s)
	defer close(p.ctl)
	for {
		got, err := c.ReadBatch(rbufs, sizes)
		if err != nil {
			return
		}
		now := time.Now()
		r.reset()
		for i := 0; i < got; i++ {
			pkt := full[i][Offset : Offset+sizes[i]]
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
			payload, kind := p.open(pkt, r.scratch, now)
			p.linkRxBytes.Add(uint64(len(pkt)))
			p.linkRxPackets.Add(1)
			if kind == rxAuthFailed && p.HasSendKey() {
				// 2.6: a decryption failure on TCP ends the connection.
				c.Close()
				return
			}
			if kind == rxData {
				r.deliver(p, full[i], payload)
			}
		}
		r.flush()
	}
}

// receiver batches decrypted packets for tun and for other clients.
type receiver struct {
	s       *Server
	scratch []byte
	out     [][]byte
	c2cBuf  []byte
}

func newReceiver(s *Server) *receiver {
	return &receiver{s: s, scratch: make([]byte, decompressMax), c2cBuf: make([]byte, BufSize)}
}

func (r *receiver) reset() { r.out = r.out[:0] }

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
	if r.s.clientToClient {
		if dst, ok := ippkt.Dst(payload); ok && !isMulticast(dst) {
			if q := rt.lookup(dst); q != nil && q != p {
				c := r.c2cBuf[:Offset+len(payload)]
				copy(c[Offset:], payload)
				if pkt, ok := q.seal(c, Offset, len(c)); ok {
					q.Peer.send([][]byte{pkt})
				}
				return
			}
		}
	}
	if len(payload) > len(b)-Offset {
		return
	}
	copy(b[Offset:], payload)
	p.tunRxBytes.Add(uint64(len(payload)))
	r.out = append(r.out, b[:Offset+len(payload)])
}

func (r *receiver) flush() {
	if len(r.out) == 0 || r.s.tun == nil {
		return
	}
	if _, err := r.s.tun.Write(r.out, Offset); err != nil {
		r.s.log.Debug("tun write", "err", err)
	}
}
