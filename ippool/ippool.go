// Package ippool hands out the tunnel addresses of a multi-client server the
// way openvpn 2.6 does (pool.c, multi.c:multi_select_virtual_addr): one
// IPv4 address (or /30 block) and one IPv6 address per client from the pools
// set by "server", "server-ipv6", "ifconfig-pool" and "ifconfig-ipv6-pool",
// with the common-name hints of "ifconfig-pool-persist".
//
// # Pools and entries
//
// A Pool is an array of entries. Entry i stands for:
//
//   - IPv4, topology subnet and tap (Subnet): Start+i, pushed with the
//     netmask ("ifconfig 10.8.0.2 255.255.255.0");
//   - IPv4, topology p2p (P2P): Start+i, pushed with the server's tun address
//     as the peer ("ifconfig 10.8.0.4 10.8.0.1");
//   - IPv4, topology net30 (Net30): the /30 block B = (Start &^ 3) + 4i; the
//     client gets B+2 with the peer B+1 ("ifconfig 10.8.0.6 10.8.0.5");
//   - IPv6: base+i, where base is the pool's address (moved to base+1 when
//     the low 32 host bits of base are zero, as 2.6 does).
//
// When both pools exist a client gets the IPv4 and the IPv6 address of the
// same entry (openvpn keeps them in step), and the pool has as many entries
// as the smaller of the two. An IPv4 range spans at most 65536 addresses
// (IFCONFIG_POOL_MAX). An IPv6 pool runs from its base to the end of its
// prefix, and at most 65536 entries; 2.6 bounds it by the prefix only for
// /112 and longer, so a shorter prefix whose base lies within 65536 of its
// end is the one case where this package hands out fewer IPv6 addresses
// than 2.6, which would run past the prefix.
//
// # Choosing an entry
//
// Acquire follows pool.c:ifconfig_pool_find. Without duplicate-cn, among the
// entries that are neither leased nor reserved:
//
//  1. the first entry whose remembered common name is the client's (its
//     address from an earlier session, or a hint from the persist file);
//  2. otherwise the entry released the longest ago, entries never used
//     counting as released at time zero (so a fresh pool hands out its lowest
//     address first, and addresses released recently stay free for their
//     owners as long as possible). Ties go to the lowest entry. Release
//     times have one-second resolution, as in 2.6. Entries holding a
//     read-only hint (Config.FixedHints) are skipped here.
//
// With duplicate-cn the common name is ignored and the lowest free entry is
// taken; its remembered name is cleared, so such clients are not persisted.
//
// Addresses that must never be handed out (the server's own address, static
// ifconfig-push and ifconfig-ipv6-push addresses of ccd files or
// client-connect scripts) are passed to Reserve. openvpn 2.6 does not do
// this: there, a static address inside the pool may also be given to a pool
// client.
//
// # Persistence
//
// Load reads an ifconfig-pool-persist file, Save writes one in 2.6's format,
// and Changed reports whether Save would write something new. When and
// where to write is the caller's business (2.6 rewrites the file every
// "ifconfig-pool-persist FILE SECONDS" and at exit).
//
// # Concurrency
//
// A Pool is safe for concurrent use by multiple goroutines. Every method
// holds one mutex for a bounded time: Acquire, Release, Discard, Reserve
// and Unreserve take O(log n) for n entries (a heap orders the free ones),
// Save and Load one pass over the entries or lines. Save writes to its
// writer without holding the mutex, and Load parses before taking it.
package ippool

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"sync"
	"time"
)

// MaxEntries is the largest number of entries of a pool: the most addresses
// an IPv4 range may span, and the size of an IPv6 pool shorter than /112
// (IFCONFIG_POOL_MAX).
const MaxEntries = 65536

// Topology says how IPv4 entries map to addresses and what is pushed with
// them.
type Topology uint8

const (
	// Subnet is tun with "topology subnet", and tap: one address per
	// client, pushed with Config.Netmask.
	Subnet Topology = iota
	// Net30 is tun with "topology net30" (2.6's default): one /30 block per
	// client, which gets block+2 with the peer block+1.
	Net30
	// P2P is tun with "topology p2p": one address per client, pushed with
	// the server's tun address (Config.Local) as the peer.
	P2P
)

// String returns the topology's name as written in a configuration.
func (t Topology) String() string {
	switch t {
	case Subnet:
		return "subnet"
	case Net30:
		return "net30"
	case P2P:
		return "p2p"
	}
	return fmt.Sprintf("Topology(%d)", uint8(t))
}

// Config describes the pools of one server. config.Server holds the values:
// Start, End and Netmask are Server.Pool's, IPv6 is Server.Pool6.
type Config struct {
	// Start and End bound the IPv4 pool, both included; both are the zero
	// Addr when there is no IPv4 pool. With Net30 the pool covers the /30
	// blocks from the one holding Start to the one holding End ("server
	// 10.8.0.0 255.255.255.0" gives 10.8.0.4-10.8.0.251: 62 blocks).
	Start, End netip.Addr
	// Topology is the IPv4 assignment scheme (ignored without IPv4 pool).
	Topology Topology
	// Netmask is pushed with every address in Subnet topology: the third
	// word of ifconfig-pool or, when absent, the netmask of the server's
	// ifconfig, as 2.6 does. Required for Subnet.
	Netmask netip.Addr
	// Local is the server's IPv4 tun address, pushed as the peer in P2P
	// topology. Required for P2P.
	Local netip.Addr
	// IPv6 is the IPv6 pool: addresses are handed out from IPv6.Addr()
	// upward, within the prefix of IPv6.Bits() bits ("server-ipv6
	// 2001:db8::/64" gives 2001:db8::1000/64). The zero Prefix means no
	// IPv6 pool.
	IPv6 netip.Prefix
	// DuplicateCN is "duplicate-cn": common names are ignored.
	DuplicateCN bool
	// FixedHints is "ifconfig-pool-persist FILE 0": hints read by Load are
	// kept for their common name only and never given to anyone else
	// (except with DuplicateCN, which ignores names altogether).
	FixedHints bool
}

// Lease is an address handed out by Acquire. The zero Lease is not valid.
type Lease struct {
	// CN is the common name the lease was acquired for ("" with
	// duplicate-cn or when no name was given).
	CN string
	// IPv4 is the client's address; invalid without IPv4 pool.
	IPv4 netip.Addr
	// Peer is the second word of the pushed "ifconfig" in Net30 (block+1)
	// and P2P (the server's tun address) topology; invalid otherwise.
	Peer netip.Addr
	// Netmask is the second word of the pushed "ifconfig" in Subnet
	// topology; invalid otherwise.
	Netmask netip.Addr
	// IPv6 is the client's IPv6 address; invalid without IPv6 pool. The
	// prefix length pushed with it is the server's ifconfig-ipv6 one.
	IPv6 netip.Addr

	pool  *Pool
	index int // entry index + 1; 0 marks the zero Lease
	gen   uint64
}

// IsValid reports whether l was returned by Acquire.
func (l Lease) IsValid() bool { return l.index > 0 }

// Index returns the entry the lease holds: the offset of its address in the
// pool (counted in /30 blocks for Net30), as 2.6's "pool handle".
func (l Lease) Index() int { return l.index - 1 }

// Errors wrapped by the errors of this package.
var (
	// ErrExhausted: every entry is leased or reserved.
	ErrExhausted = errors.New("no free address")
	// ErrInUse: Reserve was given an address that is leased to a client.
	ErrInUse = errors.New("address in use")
	// ErrBadHint: a line of a persist file was ignored.
	ErrBadHint = errors.New("persist line ignored")
)

type entry struct {
	cn          string // remembered common name; "" for none
	inUse       bool
	fixed       bool  // read-only hint: only for cn
	reserved    int32 // Reserve count
	lastRelease int64 // unix seconds; 0 = never used (or discarded)
	gen         uint64
}

// Pool hands out addresses. Create it with New.
type Pool struct {
	cfg Config

	v4     bool
	v4base uint32 // Start, or Start &^ 3 for Net30
	v4size int
	v6     bool
	v6base netip.Addr
	v6size int
	size   int

	mu      sync.Mutex
	entries []entry
	// free holds the entries Acquire may choose without a name match
	// (candidate), ordered as pool.c's search would pick them (less).
	free freeHeap
	// byCN lists the entries remembering each name.
	byCN    map[string][]int32
	leased  int
	gen     uint64 // last lease generation handed out
	changes uint64 // bumped whenever the persisted content changes
	saved   uint64 // changes at the last successful Save
}

// New checks c and returns an empty Pool. The errors name the setting that
// is wrong and say how to fix it.
func New(c Config) (*Pool, error) {
	p := &Pool{cfg: c}
	if c.Start.IsValid() || c.End.IsValid() {
		if err := p.initIPv4(); err != nil {
			return nil, err
		}
	}
	if c.IPv6.IsValid() {
		if err := p.initIPv6(); err != nil {
			return nil, err
		}
	}
	switch {
	case p.v4 && p.v6:
		p.size = min(p.v4size, p.v6size)
	case p.v4:
		p.size = p.v4size
	case p.v6:
		p.size = p.v6size
	default:
		return nil, errors.New("ippool: no pool configured: give an IPv4 range (server or ifconfig-pool) or an IPv6 prefix (server-ipv6 or ifconfig-ipv6-pool)")
	}
	p.entries = make([]entry, p.size)
	p.byCN = make(map[string][]int32)
	p.free = freeHeap{p: p, pos: make([]int32, p.size), h: make([]int32, p.size)}
	for i := range p.size {
		p.free.h[i], p.free.pos[i] = int32(i), int32(i) // in order: a valid heap
	}
	return p, nil
}

func (p *Pool) initIPv4() error {
	c := p.cfg
	if !c.Start.Is4() || !c.End.Is4() {
		return fmt.Errorf("ippool: IPv4 pool %v-%v: start and end must both be IPv4 addresses", c.Start, c.End)
	}
	s, e := addr4(c.Start), addr4(c.End)
	if s > e {
		return fmt.Errorf("ippool: IPv4 pool start %v is greater than end %v: swap them", c.Start, c.End)
	}
	if e-s >= MaxEntries {
		return fmt.Errorf("ippool: IPv4 pool %v-%v spans %d addresses, more than the %d allowed: use a smaller range", c.Start, c.End, uint64(e-s)+1, MaxEntries)
	}
	switch c.Topology {
	case Net30:
		p.v4base = s &^ 3
		p.v4size = int((uint64(e|3) + 1 - uint64(p.v4base)) >> 2)
		if p.v4size < 2 {
			return fmt.Errorf("ippool: IPv4 pool %v-%v holds %d /30 block, at least 2 are needed: enlarge the pool or use topology subnet", c.Start, c.End, p.v4size)
		}
	case Subnet, P2P:
		p.v4base = s
		p.v4size = int(e-s) + 1
		if p.v4size < 2 {
			return fmt.Errorf("ippool: IPv4 pool %v-%v holds %d address, at least 2 are needed: enlarge the pool", c.Start, c.End, p.v4size)
		}
	default:
		return fmt.Errorf("ippool: unknown topology %v: use Subnet, Net30 or P2P", c.Topology)
	}
	if c.Topology == Subnet && !c.Netmask.Is4() {
		return fmt.Errorf("ippool: topology subnet pushes a netmask with each address, and Netmask is %s: pass ifconfig-pool's netmask or the server's ifconfig netmask", notIPv4(c.Netmask))
	}
	if c.Topology == P2P && !c.Local.Is4() {
		return fmt.Errorf("ippool: topology p2p pushes the server's tun address as the peer, and Local is %s: pass the server's ifconfig local address", notIPv4(c.Local))
	}
	p.v4 = true
	return nil
}

// notIPv4 describes an address that should have been IPv4.
func notIPv4(a netip.Addr) string {
	if !a.IsValid() {
		return "unset"
	}
	return a.String() + ", not an IPv4 address"
}

func (p *Pool) initIPv6() error {
	pfx := p.cfg.IPv6
	a := pfx.Addr()
	if !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return fmt.Errorf("ippool: IPv6 pool %v is not an IPv6 prefix: write it as base/bits, e.g. 2001:db8::1000/64", pfx)
	}
	hostBits := 128 - pfx.Bits()
	// As 2.6: if the low 32 bits of the host part of the base are zero,
	// start one higher (the subnet-router anycast address), even when
	// higher host bits are set.
	b := a.As16()
	low := uint32(b[12])<<24 | uint32(b[13])<<16 | uint32(b[14])<<8 | uint32(b[15])
	if hostBits < 32 {
		low &= 1<<hostBits - 1
	}
	if low == 0 {
		a = addr6Add(a, 1)
	}
	// Entries left before the end of the prefix, at most MaxEntries. For
	// prefixes of /112 and longer this is 2.6's size; for shorter ones 2.6
	// uses MaxEntries even when that runs past the end of the prefix.
	hi, lo := u128(a)
	var mhi, mlo uint64 // host mask
	switch {
	case hostBits >= 128:
		mhi, mlo = ^uint64(0), ^uint64(0)
	case hostBits >= 64:
		mhi, mlo = 1<<(hostBits-64)-1, ^uint64(0)
	default:
		mlo = 1<<hostBits - 1
	}
	// room-1 = hostmask - (a & hostmask)
	rlo, borrow := bits.Sub64(mlo, lo&mlo, 0)
	rhi, _ := bits.Sub64(mhi, hi&mhi, borrow)
	size := MaxEntries
	if rhi == 0 && rlo < MaxEntries-1 {
		size = int(rlo) + 1
	}
	if size < 2 {
		return fmt.Errorf("ippool: IPv6 pool %v holds %d address, at least 2 are needed: use a shorter prefix or a lower base", pfx, size)
	}
	p.v6, p.v6base, p.v6size = true, a, size
	return nil
}

// Size returns the number of entries: the most clients the pool can serve
// at once.
func (p *Pool) Size() int { return p.size }

// Sizes returns the sizes of the IPv4 and IPv6 pools (0 for a pool that
// does not exist). When both exist and differ, the smaller one limits the
// pool; 2.6 warns when it is the IPv6 pool ("IPv4 pool size is %d, IPv6
// pool size is %d... This is likely a MISTAKE").
func (p *Pool) Sizes() (ipv4, ipv6 int) {
	if p.v4 {
		ipv4 = p.v4size
	}
	if p.v6 {
		ipv6 = p.v6size
	}
	return ipv4, ipv6
}

// String describes the pool's ranges as configured, e.g.
// "10.8.0.2-10.8.0.254" or "10.8.0.4-10.8.0.251 (net30) and
// 2001:db8::1000-2001:db8::103d" (the IPv6 range has as many addresses as
// the pool has entries).
func (p *Pool) String() string {
	var s string
	if p.v4 {
		s = p.cfg.Start.String() + "-" + p.cfg.End.String()
		if p.cfg.Topology == Net30 {
			s += " (net30)"
		}
	}
	if p.v6 {
		r := p.v6base.String() + "-" + addr6Add(p.v6base, uint64(p.size-1)).String()
		if s != "" {
			s += " and "
		}
		s += r
	}
	return s
}

// Contains reports whether a belongs to an entry of the pool: an address
// of one of its /30 blocks for Net30, an address of the IPv6 pool.
func (p *Pool) Contains(a netip.Addr) bool { return p.index(a) >= 0 }

// index returns the entry a belongs to, or -1.
func (p *Pool) index(a netip.Addr) int {
	switch {
	case a.Is4() && p.v4:
		d := addr4(a) - p.v4base // wraps below the base: too large
		if p.cfg.Topology == Net30 {
			d >>= 2
		}
		if uint64(d) < uint64(p.size) {
			return int(d)
		}
	case a.Is6() && !a.Is4In6() && p.v6:
		ahi, alo := u128(a.WithZone(""))
		bhi, blo := u128(p.v6base)
		dlo, borrow := bits.Sub64(alo, blo, 0)
		dhi, borrow := bits.Sub64(ahi, bhi, borrow)
		if borrow == 0 && dhi == 0 && dlo < uint64(p.size) {
			return int(dlo)
		}
	}
	return -1
}

// lease fills the addresses of entry i.
func (p *Pool) lease(i int, cn string, gen uint64) Lease {
	l := Lease{CN: cn, pool: p, index: i + 1, gen: gen}
	if p.v4 {
		switch p.cfg.Topology {
		case Net30:
			b := p.v4base + uint32(i)<<2
			l.IPv4, l.Peer = addr4From(b+2), addr4From(b+1)
		case P2P:
			l.IPv4, l.Peer = addr4From(p.v4base+uint32(i)), p.cfg.Local
		default:
			l.IPv4, l.Netmask = addr4From(p.v4base+uint32(i)), p.cfg.Netmask
		}
	}
	if p.v6 {
		l.IPv6 = addr6Add(p.v6base, uint64(i))
	}
	return l
}

// Acquire leases an address to the client with common name cn, as of now
// (wall-clock time; only its Unix second is used). The choice is described
// in the package documentation.
//
// Without duplicate-cn, leases still held by cn are taken back first, as
// 2.6 disconnects an earlier session with the same name before choosing an
// address: the new client usually gets the same address, and the old
// lease's Release becomes a no-op, even when Acquire then fails. The server
// must still close that old session. An empty cn matches no remembered name
// and is not persisted.
//
// When every entry is leased or reserved the error wraps ErrExhausted.
func (p *Pool) Acquire(cn string, now time.Time) (Lease, error) {
	sec := unixSec(now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.DuplicateCN {
		cn = ""
	} else if cn != "" {
		for _, i := range p.byCN[cn] {
			if p.entries[i].inUse {
				p.release(int(i), sec)
			}
		}
	}
	i := p.find(cn)
	if i < 0 {
		return Lease{}, p.exhausted()
	}
	p.setCN(i, cn)
	e := &p.entries[i]
	e.inUse = true
	e.lastRelease = 0
	p.leased++
	p.gen++
	e.gen = p.gen
	p.free.update(i)
	return p.lease(i, cn, e.gen), nil
}

// find returns the entry pool.c:ifconfig_pool_find would choose, or -1.
func (p *Pool) find(cn string) int {
	if cn != "" && !p.cfg.DuplicateCN {
		best := -1
		for _, i := range p.byCN[cn] {
			if e := &p.entries[i]; !e.inUse && e.reserved == 0 && (best < 0 || int(i) < best) {
				best = int(i)
			}
		}
		if best >= 0 {
			return best
		}
	}
	if len(p.free.h) == 0 {
		return -1
	}
	return int(p.free.h[0])
}

// candidate reports whether entry i may be chosen without a name match.
func (p *Pool) candidate(i int) bool {
	e := &p.entries[i]
	return !e.inUse && e.reserved == 0 && (p.cfg.DuplicateCN || !e.fixed)
}

// less orders candidates: by index with duplicate-cn, otherwise released
// earliest first, then by index.
func (p *Pool) less(i, j int32) bool {
	if !p.cfg.DuplicateCN {
		if a, b := p.entries[i].lastRelease, p.entries[j].lastRelease; a != b {
			return a < b
		}
	}
	return i < j
}

// setCN makes entry i remember cn.
func (p *Pool) setCN(i int, cn string) {
	e := &p.entries[i]
	if e.cn == cn {
		return
	}
	if e.cn != "" {
		l := p.byCN[e.cn]
		for k, j := range l {
			if int(j) == i {
				l[k] = l[len(l)-1]
				l = l[:len(l)-1]
				break
			}
		}
		if len(l) == 0 {
			delete(p.byCN, e.cn)
		} else {
			p.byCN[e.cn] = l
		}
	}
	if cn != "" {
		p.byCN[cn] = append(p.byCN[cn], int32(i))
	}
	e.cn = cn
	p.changes++
}

func (p *Pool) exhausted() error {
	reserved := 0
	for i := range p.entries { // rare: a linear pass is fine
		if p.entries[i].reserved > 0 && !p.entries[i].inUse {
			reserved++
		}
	}
	what := fmt.Sprintf("%d leased, %d reserved", p.leased, reserved)
	if n := p.size - p.leased - reserved; n > 0 {
		what += fmt.Sprintf(", %d kept for their common name (ifconfig-pool-persist with 0 seconds)", n)
	}
	var advice string
	switch {
	case p.v4 && p.v6 && p.v6size < p.v4size:
		advice = fmt.Sprintf("the IPv6 pool (%d addresses) is smaller than the IPv4 pool (%d) and limits the clients: use a shorter IPv6 prefix", p.v6size, p.v4size)
	case p.v4 && p.cfg.Topology == Net30:
		advice = "increase the pool or use topology subnet (net30 spends 4 addresses per client)"
	default:
		advice = "increase the pool (a shorter server netmask or a wider range) or lower max-clients"
	}
	return fmt.Errorf("ippool: %w in %s (%s): %s", ErrExhausted, p, what, advice)
}

// release frees entry i keeping its name (pool.c's soft release) as of sec
// (Unix seconds; 0 for a hard release). It invalidates the Lease that held
// the entry.
func (p *Pool) release(i int, sec int64) {
	e := &p.entries[i]
	e.inUse = false
	e.lastRelease = sec
	p.gen++
	e.gen = p.gen
	p.leased--
	p.free.update(i)
}

// Release returns l's address to the pool as of now. The entry remembers
// l.CN, so that client gets the address back while nobody else took it, and
// it is written by Save. Release reports false, and does nothing, when l is
// not the current lease of its entry: it was released (or discarded)
// already, taken back by Acquire for the same common name, or comes from
// another Pool.
func (p *Pool) Release(l Lease, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.current(l)
	if ok {
		p.release(i, unixSec(now))
	}
	return ok
}

// Discard returns l's address to the pool and forgets the common name, as
// if the entry had never been used (pool.c's hard release). 2.6 does this
// when a client-connect script or ccd file gives the client a static
// address after a pool address was chosen. It reports false, and does
// nothing, when l is not the current lease of its entry.
func (p *Pool) Discard(l Lease) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.current(l)
	if ok {
		p.setCN(i, "")
		p.release(i, 0)
	}
	return ok
}

func (p *Pool) current(l Lease) (int, bool) {
	i := l.index - 1
	if l.pool != p || i < 0 || i >= len(p.entries) {
		return 0, false
	}
	e := &p.entries[i]
	return i, e.inUse && e.gen == l.gen
}

// Leased returns the number of current leases.
func (p *Pool) Leased() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leased
}

// Reserve keeps the entry holding a (IPv4 or IPv6; for Net30 any address of
// its /30 block) from being handed out until a matching Unreserve.
// Reservations are counted: two Reserve calls need two Unreserve calls.
// Addresses outside the pool need no reservation and return nil.
//
// If the entry is leased, the reservation is recorded all the same and the
// error wraps ErrInUse, naming the holder: the caller decides whether the
// two clients may share the address until the holder leaves (2.6's
// behaviour) or the newcomer is refused (then call Unreserve). Reserving an
// address also reserves the other family's address of the same entry, since
// the two are handed out together.
func (p *Pool) Reserve(a netip.Addr) error {
	if !a.IsValid() {
		return errors.New("ippool: Reserve of the zero address: pass the static address to keep out of the pool")
	}
	i := p.index(a)
	if i < 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := &p.entries[i]
	e.reserved++
	p.free.update(i)
	if e.inUse {
		holder := "a client without common name (duplicate-cn)"
		if e.cn != "" {
			holder = fmt.Sprintf("%q", e.cn)
		}
		return fmt.Errorf("ippool: reserved %v, but it is leased to %s (%s): %w; refuse one of the two clients, or let them share the address until the holder disconnects", a, holder, p.describe(i), ErrInUse)
	}
	return nil
}

// Unreserve undoes one Reserve of a. Addresses outside the pool return nil;
// an entry that is not reserved is an error.
func (p *Pool) Unreserve(a netip.Addr) error {
	i := p.index(a)
	if i < 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := &p.entries[i]
	if e.reserved == 0 {
		return fmt.Errorf("ippool: Unreserve of %v, which is not reserved: call Unreserve once per Reserve", a)
	}
	e.reserved--
	p.free.update(i)
	return nil
}

// describe names the addresses of entry i for messages.
func (p *Pool) describe(i int) string {
	l := p.lease(i, "", 0)
	switch {
	case l.IPv4.IsValid() && l.IPv6.IsValid():
		return l.IPv4.String() + " and " + l.IPv6.String()
	case l.IPv4.IsValid():
		return l.IPv4.String()
	}
	return l.IPv6.String()
}

// unixSec returns now in Unix seconds, at least 1: 0 is "never released".
func unixSec(now time.Time) int64 {
	return max(now.Unix(), 1)
}

func addr4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr4From(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

// addr6Add returns a+n with the carry through all 128 bits (socket.c's
// add_in6_addr).
func addr6Add(a netip.Addr, n uint64) netip.Addr {
	hi, lo := u128(a)
	lo, c := bits.Add64(lo, n, 0)
	hi += c
	var b [16]byte
	for i := 7; i >= 0; i-- {
		b[i], b[8+i] = byte(hi), byte(lo)
		hi >>= 8
		lo >>= 8
	}
	return netip.AddrFrom16(b)
}

// freeHeap is a binary min-heap of the candidate entries under Pool.less,
// with each entry's position (-1 when absent) so that any entry can be
// fixed or removed in O(log n).
type freeHeap struct {
	p   *Pool
	h   []int32
	pos []int32
}

// update puts entry i in the heap, moves it or takes it out, after a change
// of its state.
func (f *freeHeap) update(i int) {
	at := int(f.pos[i])
	switch {
	case f.p.candidate(i) && at < 0:
		f.h = append(f.h, int32(i))
		f.pos[i] = int32(len(f.h) - 1)
		f.up(len(f.h) - 1)
	case f.p.candidate(i):
		if !f.down(at) {
			f.up(at)
		}
	case at >= 0:
		last := len(f.h) - 1
		f.swap(at, last)
		f.h = f.h[:last]
		f.pos[i] = -1
		if at < last && !f.down(at) {
			f.up(at)
		}
	}
}

func (f *freeHeap) swap(a, b int) {
	f.h[a], f.h[b] = f.h[b], f.h[a]
	f.pos[f.h[a]], f.pos[f.h[b]] = int32(a), int32(b)
}

func (f *freeHeap) up(k int) {
	for k > 0 {
		parent := (k - 1) / 2
		if !f.p.less(f.h[k], f.h[parent]) {
			return
		}
		f.swap(k, parent)
		k = parent
	}
}

// down sifts position k down and reports whether it moved.
func (f *freeHeap) down(k int) bool {
	start := k
	for {
		c := 2*k + 1
		if c >= len(f.h) {
			break
		}
		if r := c + 1; r < len(f.h) && f.p.less(f.h[r], f.h[c]) {
			c = r
		}
		if !f.p.less(f.h[c], f.h[k]) {
			break
		}
		f.swap(k, c)
		k = c
	}
	return k > start
}
