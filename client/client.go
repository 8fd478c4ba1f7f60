// Package client is the openvpn-go client library: it connects to an
// OpenVPN 2.6 server with an existing profile (config.Options), keeps the
// connection up (reconnecting on ping-restart, server RESTART, network
// errors) and sets up the tunnel device, addresses and routes, undoing
// them on every reconnect and on exit.
//
// Usage:
//
//	opts, diags, err := config.Load("client.ovpn")
//	c, err := client.New(client.Config{Options: opts, Logger: log})
//	err = c.Run(ctx) // until ctx is cancelled or the server says HALT
//
// Goroutines: Run is the supervisor; per connection attempt it runs one
// owner loop (the control session, timers, push processing) plus the data
// plane's link reader and tun reader (package dataplane), and one goroutine
// per TLS session inside package control. All protocol state belongs to the
// owner loop; the others only move packets.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/event"
	"github.com/openvpn-go/openvpn-go/transport"
)

// Config configures a Client.
type Config struct {
	// Options is the evaluated profile (config.Load / config.LoadArgs).
	Options *config.Options
	// Logger receives the connection log (nil discards it).
	Logger *slog.Logger
	// Credentials is asked for a username and password when the profile has
	// auth-user-pass without them (and again after AUTH_FAILED with
	// auth-retry interact). nil makes such profiles fail with a clear error.
	Credentials CredentialsFunc
	// Dialer opens the link; nil means transport.Net{} (plain UDP/TCP).
	// Pluggable transports go here.
	Dialer transport.Dialer
	// Tunnel creates the tun device and configures the host; nil means the
	// operating system's (tun device + netlink).
	Tunnel Tunnel
	// Resolver resolves remote host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// OnState is called for every state change, from the client's own
	// goroutine; it must not block.
	OnState func(event.StateChange)
	// DisableEKM stops announcing TLS-EKM support (IV_PROTO bit 3), so the
	// server derives data keys with the OpenVPN PRF, as 2.4/2.5 peers do.
	DisableEKM bool
}

// CredentialsRequest says what is being asked for.
type CredentialsRequest struct {
	// Username is the known username (from the profile), if any.
	Username string
	// NeedUsername and NeedPassword tell which fields to ask for.
	NeedUsername, NeedPassword bool
	// Challenge is the static-challenge text; the response is returned
	// as Response.
	Challenge     string
	ChallengeEcho bool
	// Retry is set after the server refused the previous credentials.
	Retry bool
}

// Credentials are the user's answer.
type Credentials struct {
	Username, Password, Response string
}

// CredentialsFunc obtains credentials from the user (terminal, GUI).
type CredentialsFunc func(ctx context.Context, req CredentialsRequest) (Credentials, error)

// Errors Run returns.
var (
	// ErrAuthFailed: the server refused the credentials and auth-retry is
	// none. Use errors.As with *ServerError for the server's reason.
	ErrAuthFailed = errors.New("client: authentication failed")
	// ErrHalted: the server sent HALT.
	ErrHalted = errors.New("client: the server told us to exit (HALT)")
	// ErrPingExit: nothing heard from the server for ping-exit.
	ErrPingExit = errors.New("client: ping-exit: no packets from the server")
	// ErrInactive: less tunnel traffic than "inactive" asks for in its
	// period.
	ErrInactive = errors.New("client: inactive: too little traffic in the tunnel")
	// ErrNoRemote: no usable remote (resolution failed, connect-retry-max).
	ErrNoRemote = errors.New("client: no remote could be reached")
)

// ServerError carries a message from the server (AUTH_FAILED reason,
// HALT/RESTART text).
type ServerError struct {
	Kind    string // "AUTH_FAILED", "HALT", "RESTART"
	Message string
	Err     error
}

func (e *ServerError) Error() string {
	if e.Message == "" {
		return e.Kind
	}
	return e.Kind + "," + e.Message
}

func (e *ServerError) Unwrap() error { return e.Err }

// Client is a running client. Create with New, run with Run.
type Client struct {
	cfg Config
	opt *config.Options
	log *slog.Logger

	reconnect chan string // SIGUSR1-style requests
	// kept is the tunnel persist-tun keeps between connections; it belongs
	// to Run's goroutine.
	kept *keptTunnel

	mu    sync.Mutex
	state event.StateChange
	auth  authState
	stats Stats
}

// Stats are the client's counters, for status output and management.
type Stats struct {
	TunRead, TunWrite, LinkRead, LinkWrite uint64
	Connected                              time.Time
}

// New validates the profile for client use and returns a Client.
func New(cfg Config) (*Client, error) {
	o := cfg.Options
	if o == nil {
		return nil, errors.New("client: no options")
	}
	if o.Mode == config.ModeServer {
		return nil, errors.New("client: the profile is a server configuration (mode server)")
	}
	if o.Role != config.RoleClient {
		return nil, errors.New("client: the profile is not a TLS client: add 'client' (or 'tls-client' and 'pull')")
	}
	if len(o.Connections) == 0 || o.Connections[0].Remote == "" {
		return nil, errors.New("client: no remote in the profile: add 'remote HOST [PORT] [PROTO]'")
	}
	if _, err := supportedCiphers(o); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dialer == nil {
		cfg.Dialer = transport.Net{}
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Tunnel == nil {
		cfg.Tunnel = NewOSTunnel(cfg.Logger)
	}
	c := &Client{cfg: cfg, opt: o, log: cfg.Logger, reconnect: make(chan string, 1)}
	c.auth.init(o)
	return c, nil
}

// Reconnect asks the client to drop the connection and connect again
// (SIGUSR1). reason appears in the log and state ("SIGUSR1" by default).
func (c *Client) Reconnect(reason string) {
	if reason == "" {
		reason = "SIGUSR1"
	}
	select {
	case c.reconnect <- reason:
	default:
	}
}

// State returns the current state.
func (c *Client) State() event.StateChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) setState(s event.State, detail string, mod func(*event.StateChange)) {
	c.mu.Lock()
	st := c.state
	st.Time, st.State, st.Detail = time.Now(), s, detail
	if mod != nil {
		mod(&st)
	}
	if s == event.Reconnecting || s == event.Exiting || s == event.Connecting {
		st.TunIPv4, st.TunIPv6 = netip.Addr{}, netip.Addr{}
	}
	c.state = st
	c.mu.Unlock()
	if detail != "" {
		c.log.Info(fmt.Sprintf("STATE: %s (%s)", s, detail))
	} else {
		c.log.Info(fmt.Sprintf("STATE: %s", s))
	}
	if c.cfg.OnState != nil {
		c.cfg.OnState(st)
	}
}

// outcome is how one connection attempt ended.
type outcome struct {
	exit    bool   // stop Run
	err     error  // returned when exit
	reason  string // RECONNECTING/EXITING detail
	advance bool   // move on to the next address before retrying
	backoff time.Duration
	// connected is set when the attempt reached the server (resets the
	// retry backoff).
	connected bool
}

// ExitSignal names the signal that stopped a client ("SIGINT", "SIGHUP",
// "SIGTERM"). Cancel Run's context with it as the cause
// (context.WithCancelCause) and the client reports it as openvpn does: in
// the EXITING state and the down scripts' signal variable. Without it a
// cancellation counts as SIGTERM.
type ExitSignal string

func (s ExitSignal) Error() string { return string(s) }

// exitReason is why ctx ended, as an openvpn signal name.
func exitReason(ctx context.Context) string {
	if s, ok := context.Cause(ctx).(ExitSignal); ok && s != "" {
		return string(s)
	}
	return "SIGTERM"
}

// Run connects and keeps the connection up until ctx is cancelled (nil
// error), the server halts the client, or a fatal error occurs.
func (c *Client) Run(ctx context.Context) error {
	rl := newRemoteList(c.opt, c.cfg.Resolver, c.log)
	failures := 0
	defer func() { c.closeKept(exitReason(ctx)) }()
	for {
		if ctx.Err() != nil {
			c.setState(event.Exiting, exitReason(ctx), nil)
			return nil
		}
		t, err := rl.next(ctx, c.setState)
		if err != nil {
			if ctx.Err() != nil {
				c.setState(event.Exiting, exitReason(ctx), nil)
				return nil
			}
			c.setState(event.Exiting, "error", nil)
			return err
		}
		res := c.connect(ctx, t)
		if res.exit {
			reason := res.reason
			if reason == "" {
				reason = exitReason(ctx)
			}
			c.setState(event.Exiting, reason, nil)
			return res.err
		}
		c.log.Info(fmt.Sprintf("SIGUSR1[soft,%s] received, process restarting", res.reason))
		c.setState(event.Reconnecting, res.reason, nil)
		if res.connected {
			failures = 0
		} else {
			failures++
		}
		if res.advance {
			rl.advance()
		}
		wait := res.backoff
		if wait == 0 {
			wait = retryDelay(t.entry, failures)
		}
		if wait > 0 {
			c.setState(event.Wait, "", nil)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
}

// retryDelay is connect-retry's backoff: the configured delay, doubling
// after five failures, capped at the configured maximum.
func retryDelay(ce *config.Connection, failures int) time.Duration {
	d := ce.ConnectRetry
	if d <= 0 {
		d = time.Second
	}
	maxd := ce.ConnectRetryMaxDelay
	if maxd <= 0 {
		maxd = 300 * time.Second
	}
	if failures > 5 {
		shift := min(failures-5, 16)
		d <<= shift
	}
	return min(d, maxd)
}

// target is one address to try.
type target struct {
	entry   *config.Connection
	index   int // entry index
	addr    netip.AddrPort
	network string // udp4, udp6, tcp4, tcp6
}

func (t target) String() string {
	fam := "AF_INET"
	if t.addr.Addr().Is6() {
		fam = "AF_INET6"
	}
	// openvpn's print_sockaddr style: no brackets around IPv6 addresses.
	return fmt.Sprintf("[%s]%s:%d", fam, t.addr.Addr(), t.addr.Port())
}

// remoteList iterates the connection entries and, for each, every address
// its host name resolves to, in resolver order.
type remoteList struct {
	o       *config.Options
	res     *net.Resolver
	log     *slog.Logger
	entries []*config.Connection
	ei      int
	addrs   []netip.Addr
	ai      int
	tries   []int // attempts per entry (connect-retry-max)
}

func newRemoteList(o *config.Options, res *net.Resolver, log *slog.Logger) *remoteList {
	rl := &remoteList{o: o, res: res, log: log}
	for i := range o.Connections {
		ce := &o.Connections[i]
		if o.ProtoForce != config.ProtoUnset && ce.Proto.IsTCP() != o.ProtoForce.IsTCP() {
			continue
		}
		rl.entries = append(rl.entries, ce)
	}
	if o.RemoteRandom {
		rand.Shuffle(len(rl.entries), func(i, j int) { rl.entries[i], rl.entries[j] = rl.entries[j], rl.entries[i] })
	}
	rl.tries = make([]int, len(rl.entries))
	return rl
}

// next returns the current target, resolving the entry's host if needed.
func (rl *remoteList) next(ctx context.Context, setState func(event.State, string, func(*event.StateChange))) (target, error) {
	if len(rl.entries) == 0 {
		return target{}, fmt.Errorf("%w: no connection entry matches proto-force", ErrNoRemote)
	}
	resolveStart := time.Now()
	for skipped := 0; ; {
		ce := rl.entries[rl.ei]
		if rl.o.ConnectRetryMax > 0 && rl.tries[rl.ei] >= rl.o.ConnectRetryMax {
			skipped++
			if skipped >= len(rl.entries) {
				return target{}, fmt.Errorf("%w: connect-retry-max %d reached for every remote", ErrNoRemote, rl.o.ConnectRetryMax)
			}
			rl.nextEntry()
			continue
		}
		if rl.addrs == nil {
			setState(event.Resolve, "", nil)
			addrs, err := rl.resolve(ctx, ce)
			if err != nil {
				rl.log.Warn(fmt.Sprintf("RESOLVE: Cannot resolve host address: %s:%d (%v)", ce.Remote, ce.RemotePort, err))
				if ctx.Err() != nil {
					return target{}, ctx.Err()
				}
				if rl.o.ResolvRetry >= 0 && time.Since(resolveStart) >= rl.o.ResolvRetry {
					return target{}, fmt.Errorf("%w: cannot resolve %s: %v", ErrNoRemote, ce.Remote, err)
				}
				rl.nextEntry()
				select {
				case <-ctx.Done():
					return target{}, ctx.Err()
				case <-time.After(retryDelay(ce, 0)):
				}
				continue
			}
			rl.addrs, rl.ai = addrs, 0
		}
		a := rl.addrs[rl.ai]
		rl.tries[rl.ei]++
		return target{entry: ce, index: rl.ei, addr: netip.AddrPortFrom(a, ce.RemotePort), network: networkFor(ce.Proto, a)}, nil
	}
}

// advance moves to the next address, then to the next entry.
func (rl *remoteList) advance() {
	rl.ai++
	if rl.ai >= len(rl.addrs) {
		rl.nextEntry()
	}
}

func (rl *remoteList) nextEntry() {
	rl.ei = (rl.ei + 1) % len(rl.entries)
	rl.addrs, rl.ai = nil, 0
}

func (rl *remoteList) resolve(ctx context.Context, ce *config.Connection) ([]netip.Addr, error) {
	network := "ip"
	switch ce.Family {
	case config.FamilyIPv4:
		network = "ip4"
	case config.FamilyIPv6:
		network = "ip6"
	}
	if a, err := netip.ParseAddr(ce.Remote); err == nil {
		a = a.Unmap()
		if (network == "ip4" && !a.Is4()) || (network == "ip6" && !a.Is6()) {
			return nil, fmt.Errorf("address %s does not match proto %s", a, config.ProtoName(ce.Proto, ce.Family))
		}
		return []netip.Addr{a}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	addrs, err := rl.res.LookupNetIP(rctx, network, ce.Remote)
	if err != nil {
		return nil, err
	}
	out := addrs[:0]
	for _, a := range addrs {
		out = append(out, a.Unmap())
	}
	if len(out) == 0 {
		return nil, errors.New("no addresses")
	}
	return out, nil
}

func networkFor(p config.Proto, a netip.Addr) string {
	n := "udp"
	if p.IsTCP() {
		n = "tcp"
	}
	if a.Is4() {
		return n + "4"
	}
	return n + "6"
}
