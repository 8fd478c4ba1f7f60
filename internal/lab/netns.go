package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Prefix starts the name of every network namespace the lab creates. The
// full name is Prefix + creator pid + "-" + creator start time (base 36) +
// "-" + counter, e.g. "ovt4711-2hx9k-3", unique across concurrently running
// test processes and within one.
const Prefix = "ovt"

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/var/run/netns"

// cmdTimeout bounds the lab's own short commands (ip, sysctl, nft).
const cmdTimeout = 30 * time.Second

// Link is one interface of a namespace and its addresses.
type Link struct {
	// Iface is the interface name inside the namespace ("eth0", "eth1").
	Iface string
	// IPv4 and IPv6 are the interface's addresses with their on-link prefix.
	IPv4, IPv6 netip.Prefix
}

// NS is one network namespace of the lab. Its methods may be called from
// any goroutine; those that take a testing.TB fail it on error and must be
// called from the test's goroutine.
type NS struct {
	// Name is the namespace name, as `ip netns exec NAME` wants it.
	Name string
	// Role says what the namespace is for: "server", "client", "client2",
	// "router" or "switch".
	Role string
	// IPv4, IPv6 and Iface are the namespace's address and interface on its
	// first link (for the router: the client side).
	IPv4, IPv6 netip.Addr
	Iface      string
	// Links lists every link of the namespace in creation order.
	Links []Link
}

// Net is a set of namespaces wired together; see NewNet. Every namespace is
// deleted, and every process left inside it killed, in t.Cleanup.
type Net struct {
	// Server is the namespace meant for the VPN server.
	Server *NS
	// Client is Clients[0].
	Client *NS
	// Clients are the namespaces meant for VPN clients (one unless Clients(n)).
	Clients []*NS
	// Router sits between clients and server (nil unless Routed()).
	Router *NS

	all     []*NS        // creation order, including a switch namespace
	natAddr netip.Prefix // address SNAT added to the router, if any
}

// Addresses of the lab topologies.
var (
	// Direct topology: server .1, clients .2, .3, ...
	LANv4 = netip.MustParsePrefix("10.200.0.0/24")
	LANv6 = netip.MustParsePrefix("fd00:200::/64")
	// Routed topology: router .1 on both sides, clients .2, ... on the
	// client side, server .2 on the server side.
	ClientSideV4 = netip.MustParsePrefix("10.201.0.0/24")
	ClientSideV6 = netip.MustParsePrefix("fd00:201::/64")
	ServerSideV4 = netip.MustParsePrefix("10.202.0.0/24")
	ServerSideV6 = netip.MustParsePrefix("fd00:202::/64")
)

type netConfig struct {
	routed  bool
	clients int
}

// NetOption changes the topology NewNet builds.
type NetOption func(*netConfig)

// Routed inserts a router namespace between the clients and the server:
// client — router — server, with IPv4 and IPv6 forwarding on the router and
// default routes through it on both ends. Use it with Net.SNAT to put a NAT
// on the path.
func Routed() NetOption { return func(c *netConfig) { c.routed = true } }

// Clients sets the number of client namespaces (default 1). With more than
// one, the clients share a LAN segment (a bridge in an extra "switch"
// namespace) with the server, or with the router when Routed.
func Clients(n int) NetOption { return func(c *netConfig) { c.clients = n } }

// NewNet creates a server namespace and a client namespace joined by a veth
// pair: server 10.200.0.1/24 and fd00:200::1/64, client 10.200.0.2/24 and
// fd00:200::2/64 on "eth0", loopback up, IPv6 duplicate address detection
// off. Options add clients or a router. It skips t (see RequireRoot) when
// the machine cannot run the lab, fails t on error, and registers the
// teardown with t.Cleanup.
func NewNet(t testing.TB, opts ...NetOption) *Net {
	t.Helper()
	RequireRoot(t)
	RequireBinary(t, "ip", "sysctl")
	cfg := netConfig{clients: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clients < 1 || cfg.clients > 200 {
		t.Fatalf("lab: Clients(%d): the lab supports 1 to 200 clients", cfg.clients)
	}
	sweepOnce.Do(func() {
		if err := sweepStale(); err != nil {
			t.Logf("lab: removing stale namespaces of earlier runs: %v", err)
		}
	})
	n, err := buildNet(cfg)
	if n != nil {
		// Registered before checking err: a half-built net is torn down too.
		t.Cleanup(func() {
			if err := n.destroy(); err != nil {
				t.Errorf("lab: tearing down the namespaces: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func buildNet(cfg netConfig) (*Net, error) {
	n := &Net{}
	add := func(role string) (*NS, error) {
		ns := &NS{Name: newName(), Role: role}
		n.all = append(n.all, ns)
		return ns, ns.create(role == "router")
	}
	var err error
	if n.Server, err = add("server"); err != nil {
		return n, err
	}
	for i := range cfg.clients {
		role := "client"
		if i > 0 {
			role = "client" + strconv.Itoa(i+1)
		}
		c, err := add(role)
		if err != nil {
			return n, err
		}
		n.Clients = append(n.Clients, c)
	}
	n.Client = n.Clients[0]
	hub := func() (*NS, error) {
		if cfg.clients == 1 {
			return nil, nil
		}
		return add("switch")
	}
	if !cfg.routed {
		sw, err := hub()
		if err != nil {
			return n, err
		}
		return n, n.segment(sw, append([]*NS{n.Server}, n.Clients...), LANv4, LANv6)
	}
	if n.Router, err = add("router"); err != nil {
		return n, err
	}
	sw, err := hub()
	if err != nil {
		return n, err
	}
	if err := n.segment(sw, append([]*NS{n.Router}, n.Clients...), ClientSideV4, ClientSideV6); err != nil {
		return n, err
	}
	if err := n.segment(nil, []*NS{n.Router, n.Server}, ServerSideV4, ServerSideV6); err != nil {
		return n, err
	}
	gw := n.Router.Links[0]
	for _, c := range n.Clients {
		if err := c.defaultRoutes(gw.IPv4.Addr(), gw.IPv6.Addr()); err != nil {
			return n, err
		}
	}
	gw = n.Router.Links[1]
	return n, n.Server.defaultRoutes(gw.IPv4.Addr(), gw.IPv6.Addr())
}

// create adds the namespace, turns DAD off (and forwarding on for a router)
// and brings loopback up.
func (ns *NS) create(forward bool) error {
	if _, err := ipCmd("netns", "add", ns.Name); err != nil {
		// `ip netns add` racing another process that sets up /run/netns for
		// the first time can fail once; the retry finds it set up.
		if _, err2 := ipCmd("netns", "add", ns.Name); err2 != nil {
			return err
		}
	}
	kv := []string{"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"}
	if forward {
		kv = append(kv, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if _, err := ns.run(ctx, "sysctl", append([]string{"-q", "-w"}, kv...)...); err != nil {
		return err
	}
	_, err := ipCmd("-n", ns.Name, "link", "set", "lo", "up")
	return err
}

// segment joins members on one layer-2 segment with prefixes p4 and p6:
// member i gets host address i+1. Two members get a veth pair; more get one
// veth each into a bridge in sw.
func (n *Net) segment(sw *NS, members []*NS, p4, p6 netip.Prefix) error {
	ifaces := make([]string, len(members))
	for i, m := range members {
		ifaces[i] = "eth" + strconv.Itoa(len(m.Links))
	}
	if sw == nil {
		if len(members) != 2 {
			return fmt.Errorf("lab: internal error: a segment of %d members needs a switch", len(members))
		}
		if _, err := ipCmd("link", "add", "name", ifaces[0], "netns", members[0].Name, "type", "veth",
			"peer", "name", ifaces[1], "netns", members[1].Name); err != nil {
			return err
		}
	} else {
		if _, err := ipCmd("-n", sw.Name, "link", "add", "name", "br0", "type", "bridge"); err != nil {
			return err
		}
		if _, err := ipCmd("-n", sw.Name, "link", "set", "br0", "up"); err != nil {
			return err
		}
		for i, m := range members {
			port := "p" + strconv.Itoa(i)
			if _, err := ipCmd("link", "add", "name", port, "netns", sw.Name, "type", "veth",
				"peer", "name", ifaces[i], "netns", m.Name); err != nil {
				return err
			}
			if _, err := ipCmd("-n", sw.Name, "link", "set", port, "master", "br0", "up"); err != nil {
				return err
			}
		}
	}
	for i, m := range members {
		l := Link{
			Iface: ifaces[i],
			IPv4:  netip.PrefixFrom(hostAddr(p4, i+1), p4.Bits()),
			IPv6:  netip.PrefixFrom(hostAddr(p6, i+1), p6.Bits()),
		}
		for _, p := range []netip.Prefix{l.IPv4, l.IPv6} {
			if err := m.addAddr(l.Iface, p); err != nil {
				return err
			}
		}
		if _, err := ipCmd("-n", m.Name, "link", "set", l.Iface, "up"); err != nil {
			return err
		}
		m.Links = append(m.Links, l)
		if len(m.Links) == 1 {
			m.Iface, m.IPv4, m.IPv6 = l.Iface, l.IPv4.Addr(), l.IPv6.Addr()
		}
	}
	return nil
}

func (ns *NS) defaultRoutes(gw4, gw6 netip.Addr) error {
	if _, err := ipCmd("-n", ns.Name, "-4", "route", "add", "default", "via", gw4.String()); err != nil {
		return err
	}
	_, err := ipCmd("-n", ns.Name, "-6", "route", "add", "default", "via", gw6.String())
	return err
}

// hostAddr returns the address with host number id in p (id < 256).
func hostAddr(p netip.Prefix, id int) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	b[len(b)-1] += byte(id)
	a, _ := netip.AddrFromSlice(b)
	return a
}

// destroy deletes every namespace of the net, killing what still runs in
// it, and reports all errors.
func (n *Net) destroy() error {
	var errs []error
	for i := len(n.all) - 1; i >= 0; i-- {
		if err := deleteNS(n.all[i].Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Names returns the names of every namespace of the net, including a switch.
func (n *Net) Names() []string {
	var s []string
	for _, ns := range n.all {
		s = append(s, ns.Name)
	}
	return s
}

// deleteNS kills every process in the namespace, then deletes it. A
// namespace that is already gone is not an error.
func deleteNS(name string) error {
	if _, err := os.Stat(netnsDir + "/" + name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	killAll(name)
	if _, err := ipCmd("netns", "del", name); err != nil {
		if _, serr := os.Stat(netnsDir + "/" + name); errors.Is(serr, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// killAll SIGKILLs every process whose network namespace is name.
func killAll(name string) {
	out, err := ipCmd("netns", "pids", name)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Naming and the sweep of namespaces left by killed test processes.

var (
	nameCounter atomic.Int64
	sweepOnce   sync.Once
	selfStart   = sync.OnceValue(func() string { s, _ := startTime(os.Getpid()); return s })
)

// newName returns a namespace name unique on this machine.
func newName() string {
	return fmt.Sprintf("%s%d-%s-%d", Prefix, os.Getpid(), selfStart(), nameCounter.Add(1))
}

// parseName splits a lab namespace name into the creator's pid and start
// time.
func parseName(name string) (pid int, start string, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found {
		return 0, "", false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 || parts[1] == "" {
		return 0, "", false
	}
	pid, err := strconv.Atoi(parts[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	if _, err := strconv.Atoi(parts[2]); err != nil {
		return 0, "", false
	}
	return pid, parts[1], true
}

// startTime returns the start time of process pid (field 22 of
// /proc/PID/stat, clock ticks since boot) in base 36.
func startTime(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("lab: unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("lab: unexpected /proc/%d/stat", pid)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return "", fmt.Errorf("lab: unexpected /proc/%d/stat: %w", pid, err)
	}
	return strconv.FormatUint(v, 36), nil
}

// creatorAlive reports whether the process that made namespace name still
// runs (same pid and same start time).
func creatorAlive(name string) bool {
	pid, start, ok := parseName(name)
	if !ok {
		return true // not ours: never touch it
	}
	s, err := startTime(pid)
	return err == nil && s == start
}

// sweepStale deletes the lab namespaces whose creating process is gone
// (a test binary killed by a timeout or SIGKILL never ran its cleanups).
func sweepStale() error {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lab: listing %s: %w", netnsDir, err)
	}
	var errs []error
	for _, e := range ents {
		if creatorAlive(e.Name()) {
			continue
		}
		if err := deleteNS(e.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ListNamespaces returns the names of the lab namespaces that exist now
// (all test processes included).
func ListNamespaces() ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: listing %s: %w", netnsDir, err)
	}
	var names []string
	for _, e := range ents {
		if _, _, ok := parseName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Commands.

// ipCmd runs /usr/sbin/ip (from $PATH) with args in the caller's namespace.
func ipCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Command returns an exec.Cmd that runs prog with args inside the
// namespace (`ip netns exec NAME prog args...`). The caller sets its I/O
// and runs it.
func (ns *NS) Command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, prog}, args...)...)
	// Kill the child with us (ip netns exec execs prog in place, so the
	// signal reaches prog itself).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	return cmd
}

// Run runs prog with args inside the namespace and returns its combined
// stdout and stderr. A non-zero exit is an error that carries the output.
func (ns *NS) Run(ctx context.Context, prog string, args ...string) (string, error) {
	return ns.run(ctx, prog, args...)
}

func (ns *NS) run(ctx context.Context, prog string, args ...string) (string, error) {
	out, err := ns.Command(ctx, prog, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: in %s (%s): %s %s: %w: %s", ns.Role, ns.Name, prog,
			strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// MustRun is Run with a 30-second timeout that fails t on error.
func (ns *NS) MustRun(t testing.TB, prog string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := ns.Run(ctx, prog, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ip runs `ip -n NAME args...`, failing t on error.
func (ns *NS) ip(t testing.TB, args ...string) {
	t.Helper()
	if _, err := ipCmd(append([]string{"-n", ns.Name}, args...)...); err != nil {
		t.Fatal(err)
	}
}

func (ns *NS) addAddr(iface string, p netip.Prefix) error {
	args := []string{"-n", ns.Name, "addr", "add", p.String(), "dev", iface}
	if p.Addr().Is6() {
		args = append(args, "nodad")
	}
	_, err := ipCmd(args...)
	return err
}

// AddAddr adds address p (with its prefix length) to iface; IPv6
// addresses are added with nodad so they are usable at once.
func (ns *NS) AddAddr(t testing.TB, iface string, p netip.Prefix) {
	t.Helper()
	if err := ns.addAddr(iface, p); err != nil {
		t.Fatal(err)
	}
}

// DelAddr removes address p from iface.
func (ns *NS) DelAddr(t testing.TB, iface string, p netip.Prefix) {
	t.Helper()
	ns.ip(t, "addr", "del", p.String(), "dev", iface)
}

// AddRoute adds a route to dst through gateway via.
func (ns *NS) AddRoute(t testing.TB, dst netip.Prefix, via netip.Addr) {
	t.Helper()
	ns.ip(t, "route", "add", dst.String(), "via", via.String())
}

// AddDevRoute adds an on-link route to dst through interface iface.
func (ns *NS) AddDevRoute(t testing.TB, dst netip.Prefix, iface string) {
	t.Helper()
	ns.ip(t, "route", "add", dst.String(), "dev", iface)
}

// DelRoute removes the route to dst.
func (ns *NS) DelRoute(t testing.TB, dst netip.Prefix) {
	t.Helper()
	ns.ip(t, "route", "del", dst.String())
}

// SetLinkUp brings iface up or down (a down link simulates a cut cable).
func (ns *NS) SetLinkUp(t testing.TB, iface string, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	ns.ip(t, "link", "set", iface, state)
}

// Sysctl sets a sysctl inside the namespace, e.g.
// Sysctl(t, "net.ipv4.ip_forward", "1").
func (ns *NS) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	ns.MustRun(t, "sysctl", "-q", "-w", key+"="+value)
}

// Do runs fn on an OS thread that has entered the namespace, and returns its
// error. Sockets, tun devices and netlink handles fn creates belong to the
// namespace and stay there when used later from any goroutine. Goroutines fn
// starts run in the test's own namespace, and fn must not start processes
// (use Start or Run). The thread is discarded afterwards.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread must go back to its namespace and live on: Command
		// starts children with Pdeathsig, which the kernel sends when the
		// forking *thread* exits, and any goroutine may have forked on this
		// thread before. Letting a locked thread die here killed reference
		// openvpn processes of other tests at random.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: opening the thread's namespace: %w", err)
			return
		}
		defer orig.Close()
		f, err := os.Open(netnsDir + "/" + ns.Name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: opening namespace %s: %w", ns.Name, err)
			return
		}
		trap, ok := setnsTrap[runtime.GOARCH]
		if !ok {
			f.Close()
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: NS.Do does not know setns(2) on %s: add its number to setnsTrap", runtime.GOARCH)
			return
		}
		_, _, e := syscall.RawSyscall(trap, f.Fd(), syscall.CLONE_NEWNET, 0)
		f.Close()
		if e != 0 {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: entering namespace %s: %w", ns.Name, e)
			return
		}
		err = fn()
		if _, _, e := syscall.RawSyscall(trap, orig.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			// Stay locked: the runtime then discards the thread, which is
			// better than running other goroutines in the wrong namespace.
			errc <- errors.Join(err, fmt.Errorf("lab: leaving namespace %s: %w", ns.Name, e))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// setnsTrap is the setns(2) system call number per architecture (package
// syscall has no SYS_SETNS on most of them).
var setnsTrap = map[string]uintptr{
	"amd64": 308, "386": 346, "arm64": 268, "riscv64": 268, "loong64": 268,
	"arm": 375, "ppc64le": 350, "ppc64": 350, "s390x": 339,
}
