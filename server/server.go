// Package server is the openvpn-go multi-client server: it listens on UDP
// and TCP (dual stack by default), admits clients through OpenVPN 2.6's
// stateless HMAC-cookie handshake, authenticates them (certificates,
// username/password scripts, auth-gen-token tokens), assigns tunnel
// addresses, pushes options exactly as a 2.6 server builds them, and routes
// packets between the tun device and the clients.
//
// Goroutines: Run supervises; one accept loop per TCP listener; the data
// plane's readers (dataplane.Server); one owner goroutine per client
// instance (its control session, authentication, timers). The stateless
// handshake runs on the UDP reader and creates no state until a client
// echoes a valid cookie.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/authtoken"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/dataplane"
	"github.com/openvpn-go/openvpn-go/event"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/netconf"
	"github.com/openvpn-go/openvpn-go/tlsconf"
	"github.com/openvpn-go/openvpn-go/transport"
	"github.com/openvpn-go/openvpn-go/tun"
)

// Config configures a Server.
type Config struct {
	// Options is the evaluated server configuration (mode server).
	Options *config.Options
	// Logger receives the server log; nil discards it.
	Logger *slog.Logger
	// OnState is told about server-level state changes.
	OnState func(event.StateChange)
}

// Server is a running OpenVPN server.
type Server struct {
	cfg  Config
	o    *config.Options
	srv  *config.Server
	log  *slog.Logger
	tlsr *tlsconf.Result

	dp   *dataplane.Server
	dev  tun.Device
	nc   netconf.Configurator
	tunA netip.Addr // server tunnel addresses
	tun6 netip.Addr

	wrap        wrapFactory
	cookie      *cookieJar
	initialRate *rate // connect-freq-initial: stateless replies
	connectRate *rate // connect-freq: new client instances

	tokens *authtoken.Secret
	hooks  *hook.Runner
	env    *hook.Env // the variables every script gets (options, daemon)

	mu        sync.Mutex
	instances map[*instance]struct{}
	byCN      map[string][]*instance
	pool      *addrPool

	ctx     context.Context
	started time.Time
	wg      sync.WaitGroup
}

// New validates a server configuration.
func New(cfg Config) (*Server, error) {
	o := cfg.Options
	if o == nil || o.Mode != config.ModeServer || o.Server == nil {
		return nil, errors.New("server: not a server configuration: add 'mode server' (or 'server NET MASK')")
	}
	if o.Role != config.RoleServer {
		return nil, errors.New("server: a server needs 'tls-server' (implied by 'server')")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, o: o, srv: o.Server, log: cfg.Logger, instances: map[*instance]struct{}{}, byCN: map[string][]*instance{}}
	var err error
	if s.tlsr, err = tlsconf.Server(&o.TLS, o.Server.VerifyClientCert); err != nil {
		return nil, err
	}
	for _, w := range s.tlsr.Warnings {
		s.log.Warn(w)
	}
	if s.wrap, err = newWrapFactory(&o.Connections[0], o); err != nil {
		return nil, err
	}
	if s.cookie, err = newCookieJar(o.TLS.HandWindow); err != nil {
		return nil, err
	}
	if g := o.Server.AuthGenToken; g != nil {
		if o.Server.TokenSecret != nil {
			b, err := keys.DecodePEM(o.Server.TokenSecret.Data, keys.PEMAuthToken)
			if err != nil {
				return nil, fmt.Errorf("server: auth-gen-token-secret: %w", err)
			}
			if s.tokens, err = authtoken.NewSecret(b); err != nil {
				return nil, fmt.Errorf("server: auth-gen-token-secret: %w", err)
			}
		} else {
			s.log.Warn("auth-gen-token without auth-gen-token-secret: tokens are valid only until this server restarts")
			if s.tokens, err = authtoken.NewRandomSecret(rand.Reader); err != nil {
				return nil, err
			}
		}
	}
	s.hooks = hook.NewRunner(o.Scripts, o.Dir, s.log)
	s.initialRate = newRate(o.Server.ConnectFreqInitial)
	s.connectRate = newRate(o.Server.ConnectFreq)
	if s.pool, err = newAddrPool(o, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// newEnv returns the script environment of a new client instance.
func (s *Server) newEnv() *hook.Env { return s.env.Clone() }

// Run starts the server and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	s.ctx = ctx
	s.started = time.Now()
	s.env = hook.NewEnv()
	s.env.SetOptions(s.o, s.started, os.Getpid())
	s.dp = dataplane.NewServer(dataplane.ServerConfig{
		MaxPeers:       s.srv.MaxClients,
		ClientToClient: s.srv.ClientToClient,
		NewControl:     s.newControl,
		Floated:        s.floated,
		Logger:         s.log,
	})
	if err := s.pool.load(s.started); err != nil {
		return err
	}
	if err := s.setupTun(ctx); err != nil {
		return err
	}
	defer s.teardownTun()
	s.dp.AttachTun(s.dev)

	var closers []func()
	for i := range s.o.Connections {
		c, err := s.listen(ctx, &s.o.Connections[i])
		if err != nil {
			for _, f := range closers {
				f()
			}
			return err
		}
		closers = append(closers, c)
	}
	s.log.Info("Initialization Sequence Completed")
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.pool.run(ctx) }()
	<-ctx.Done()
	s.log.Info("SIGTERM[hard,] received, process exiting")
	s.shutdown()
	for _, f := range closers {
		f()
	}
	s.dp.Close()
	s.dev.Close()
	s.dp.Wait()
	s.wg.Wait()
	s.pool.save()
	return nil
}

// listen opens the socket of one connection entry.
func (s *Server) listen(ctx context.Context, ce *config.Connection) (func(), error) {
	local, err := s.localAddr(ctx, ce)
	if err != nil {
		return nil, err
	}
	network := "udp"
	if ce.Proto.IsTCP() {
		network = "tcp"
	}
	switch ce.Family {
	case config.FamilyIPv4:
		network += "4"
	case config.FamilyIPv6:
		network += "6"
	}
	if ce.Proto.IsTCP() {
		l, err := transport.ListenTCP(network, local, ce.BindIPv6Only)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.log.Info(fmt.Sprintf("Listening for incoming TCP connection on %s", l.Addr()))
		s.wg.Add(1)
		go s.acceptTCP(ctx, l)
		return func() { l.Close() }, nil
	}
	pc, err := transport.ListenUDP(network, local, ce.BindIPv6Only)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	kind := "UDPv4"
	if !pc.LocalAddr().Addr().Is4() {
		kind = "UDPv6 (dual stack: IPv4 clients too)"
		if ce.BindIPv6Only || network == "udp6" && ce.BindIPv6Only {
			kind = "UDPv6"
		}
	}
	s.log.Info(fmt.Sprintf("%s link local (bound): %s", kind, pc.LocalAddr()))
	s.dp.ServeUDP(pc)
	return func() { pc.Close() }, nil
}

// localAddr resolves `local`: a name with several addresses is ambiguous
// and refused, naming them.
func (s *Server) localAddr(ctx context.Context, ce *config.Connection) (netip.AddrPort, error) {
	port := ce.LocalPort
	if port == 0 {
		port = 1194
	}
	if ce.Local == "" {
		return netip.AddrPortFrom(netip.Addr{}, port), nil
	}
	if a, err := netip.ParseAddr(ce.Local); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	network := "ip"
	if ce.Family == config.FamilyIPv4 {
		network = "ip4"
	} else if ce.Family == config.FamilyIPv6 {
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, ce.Local)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("server: local %s: %w", ce.Local, err)
	}
	if len(addrs) > 1 {
		return netip.AddrPort{}, fmt.Errorf("server: local %s resolves to several addresses %v: give one address, or use proto udp4/udp6 to pick a family", ce.Local, addrs)
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), port), nil
}

func (s *Server) acceptTCP(ctx context.Context, l *net.TCPListener) {
	defer s.wg.Done()
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		conn := transport.NewStream(c)
		// As openvpn: Nagle's algorithm stays on for a client's TCP
		// connection unless tcp-nodelay (socket-flags TCP_NODELAY) is set.
		// Towards a stock client it coalesces the small packets the tunnel
		// sends back (TCP acknowledgements) into fewer segments, which the
		// client's single thread then spends less on (make bench: openvpn
		// client -> openvpn-go server over TCP, 4 streams, 0.75x -> 1.02x
		// of openvpn <-> openvpn, averaged over 3 interleaved runs).
		c.SetNoDelay(s.o.Process.TCPNoDelay)
		p, err := s.dp.AddStreamPeer(conn)
		if err != nil {
			s.log.Warn(fmt.Sprintf("TCP connection from %s refused: %v", conn.RemoteAddr(), err))
			conn.Close()
			continue
		}
		in, err := s.newInstance(p, conn.RemoteAddr(), true)
		if err != nil {
			s.log.Warn(fmt.Sprintf("TCP connection from %s: %v", conn.RemoteAddr(), err))
			s.dp.RemovePeer(p)
			continue
		}
		s.start(in)
	}
}

// floated is called by the data plane when a client's address changed.
func (s *Server) floated(p *dataplane.ServerPeer, from netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for in := range s.instances {
		if in.peer == p {
			in.floatTo.Store(&from)
			return
		}
	}
}

func (s *Server) start(in *instance) {
	s.mu.Lock()
	s.instances[in] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		in.run(s.ctx)
		s.remove(in)
	}()
}

func (s *Server) remove(in *instance) {
	s.mu.Lock()
	delete(s.instances, in)
	if in.cn != "" {
		list := s.byCN[in.cn]
		for i, x := range list {
			if x == in {
				s.byCN[in.cn] = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(s.byCN[in.cn]) == 0 {
			delete(s.byCN, in.cn)
		}
	}
	s.mu.Unlock()
}

// shutdown tells clients the server is going away (explicit-exit-notify:
// RESTART, so they reconnect) and stops every instance.
func (s *Server) shutdown() {
	s.mu.Lock()
	ins := make([]*instance, 0, len(s.instances))
	for in := range s.instances {
		ins = append(ins, in)
	}
	s.mu.Unlock()
	for _, in := range ins {
		in.stop(s.o.Connections[0].ExplicitExitNotify)
	}
}

// Clients returns a snapshot of the connected clients for status output.
func (s *Server) Clients() []ClientInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ClientInfo
	for in := range s.instances {
		if ci, ok := in.info(); ok {
			out = append(out, ci)
		}
	}
	return out
}

// ClientInfo describes a connected client.
type ClientInfo struct {
	CommonName    string
	Username      string
	Real          netip.AddrPort
	VirtualIPv4   netip.Addr
	VirtualIPv6   netip.Addr
	BytesReceived uint64
	BytesSent     uint64
	ConnectedAt   time.Time
	PeerID        uint32
	Cipher        string
}
