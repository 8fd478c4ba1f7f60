package ippool

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func mustNew(t testing.TB, c Config) *Pool {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return p
}

// The configs config.Server holds for common server lines (helper.c as of
// 2.6.14; the sizes are those 2.6.14 logs as "IFCONFIG POOL IPv4: base=...
// size=...").
var (
	subnet24 = Config{Start: ip("10.8.0.2"), End: ip("10.8.0.254"), Topology: Subnet, Netmask: ip("255.255.255.0")}
	net30_24 = Config{Start: ip("10.8.0.4"), End: ip("10.8.0.251"), Topology: Net30}
	p2p24    = Config{Start: ip("10.8.0.4"), End: ip("10.8.0.251"), Topology: P2P, Local: ip("10.8.0.1")}
)

func with6(c Config, p string) Config { c.IPv6 = pfx(p); return c }

// lease is a Lease's addresses, for comparisons.
type lease struct{ v4, peer, mask, v6 string }

func show(l Lease) lease {
	s := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	return lease{s(l.IPv4), s(l.Peer), s(l.Netmask), s(l.IPv6)}
}

func TestServerExpansions(t *testing.T) {
	tests := []struct {
		name         string
		c            Config
		size, v4, v6 int
		str          string
		first        []lease // successive Acquires by distinct names
		last         lease   // the last entry
	}{{
		name: "server 10.8.0.0 255.255.255.0, topology subnet",
		c:    subnet24, size: 253, v4: 253,
		str:   "10.8.0.2-10.8.0.254",
		first: []lease{{"10.8.0.2", "", "255.255.255.0", ""}, {"10.8.0.3", "", "255.255.255.0", ""}},
		last:  lease{"10.8.0.254", "", "255.255.255.0", ""},
	}, {
		name: "server 10.8.0.0 255.255.255.0 (net30)",
		c:    net30_24, size: 62, v4: 62,
		str:   "10.8.0.4-10.8.0.251 (net30)",
		first: []lease{{"10.8.0.6", "10.8.0.5", "", ""}, {"10.8.0.10", "10.8.0.9", "", ""}, {"10.8.0.14", "10.8.0.13", "", ""}},
		last:  lease{"10.8.0.250", "10.8.0.249", "", ""},
	}, {
		name: "server 10.8.0.0 255.255.255.0, topology p2p",
		c:    p2p24, size: 248, v4: 248,
		first: []lease{{"10.8.0.4", "10.8.0.1", "", ""}, {"10.8.0.5", "10.8.0.1", "", ""}},
		last:  lease{"10.8.0.251", "10.8.0.1", "", ""},
	}, {
		name: "server 10.8.0.0 255.255.255.248 (/29 net30 has no reserve at the end)",
		c:    Config{Start: ip("10.8.0.4"), End: ip("10.8.0.7"), Topology: P2P, Local: ip("10.8.0.1")}, size: 4, v4: 4,
		first: []lease{{"10.8.0.4", "10.8.0.1", "", ""}},
		last:  lease{"10.8.0.7", "10.8.0.1", "", ""},
	}, {
		name: "server 10.8.0.0 255.255.0.0, topology subnet",
		c:    Config{Start: ip("10.8.0.2"), End: ip("10.8.255.254"), Topology: Subnet, Netmask: ip("255.255.0.0")}, size: 65533, v4: 65533,
		first: []lease{{"10.8.0.2", "", "255.255.0.0", ""}},
		last:  lease{"10.8.255.254", "", "255.255.0.0", ""},
	}, {
		name: "server-bridge 192.168.1.1 255.255.255.0 192.168.1.100 192.168.1.200 (tap)",
		c:    Config{Start: ip("192.168.1.100"), End: ip("192.168.1.200"), Topology: Subnet, Netmask: ip("255.255.255.0")}, size: 101, v4: 101,
		first: []lease{{"192.168.1.100", "", "255.255.255.0", ""}},
		last:  lease{"192.168.1.200", "", "255.255.255.0", ""},
	}, {
		name: "net30 with server-ipv6 fd00:8::/64: in step",
		c:    with6(net30_24, "fd00:8::1000/64"), size: 62, v4: 62, v6: 65536,
		str:   "10.8.0.4-10.8.0.251 (net30) and fd00:8::1000-fd00:8::103d",
		first: []lease{{"10.8.0.6", "10.8.0.5", "", "fd00:8::1000"}, {"10.8.0.10", "10.8.0.9", "", "fd00:8::1001"}, {"10.8.0.14", "10.8.0.13", "", "fd00:8::1002"}},
		last:  lease{"10.8.0.250", "10.8.0.249", "", "fd00:8::103d"},
	}, {
		name: "subnet with server-ipv6 fd00:8::/112 (base P+2)",
		c:    with6(subnet24, "fd00:8::2/112"), size: 253, v4: 253, v6: 65534,
		first: []lease{{"10.8.0.2", "", "255.255.255.0", "fd00:8::2"}, {"10.8.0.3", "", "255.255.255.0", "fd00:8::3"}},
		last:  lease{"10.8.0.254", "", "255.255.255.0", "fd00:8::fe"},
	}, {
		name: "IPv6 pool smaller than IPv4 limits both (server-ipv6 fd00:8::/124)",
		c:    with6(subnet24, "fd00:8::2/124"), size: 14, v4: 253, v6: 14,
		first: []lease{{"10.8.0.2", "", "255.255.255.0", "fd00:8::2"}},
		last:  lease{"10.8.0.15", "", "255.255.255.0", "fd00:8::f"},
	}, {
		name: "ifconfig-ipv6-pool fd00:9::/112 alone: ::0 is skipped",
		c:    Config{IPv6: pfx("fd00:9::/112")}, size: 65535, v6: 65535,
		str:   "fd00:9::1-fd00:9::ffff",
		first: []lease{{"", "", "", "fd00:9::1"}, {"", "", "", "fd00:9::2"}},
		last:  lease{"", "", "", "fd00:9::ffff"},
	}, {
		name: "ifconfig-ipv6-pool 2001:db8:0:1:1234::/64: low 32 bits zero, so +1 as in 2.6",
		c:    Config{IPv6: pfx("2001:db8:0:1:1234::/64")}, size: 65536, v6: 65536,
		first: []lease{{"", "", "", "2001:db8:0:1:1234::1"}},
		last:  lease{"", "", "", "2001:db8:0:1:1234:0:1:0"},
	}, {
		name: "IPv6 pool near the end of a /104 stops at the prefix end",
		c:    Config{IPv6: pfx("2001:db8::ff:ff00/104")}, size: 256, v6: 256,
		first: []lease{{"", "", "", "2001:db8::ff:ff00"}},
		last:  lease{"", "", "", "2001:db8::ff:ffff"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.c)
			if p.Size() != tt.size {
				t.Errorf("Size = %d, want %d", p.Size(), tt.size)
			}
			if v4, v6 := p.Sizes(); v4 != tt.v4 || v6 != tt.v6 {
				t.Errorf("Sizes = %d, %d, want %d, %d", v4, v6, tt.v4, tt.v6)
			}
			if tt.str != "" && p.String() != tt.str {
				t.Errorf("String = %q, want %q", p.String(), tt.str)
			}
			var got []lease
			for i := range tt.first {
				l, err := p.Acquire(fmt.Sprint("client", i), t0)
				if err != nil {
					t.Fatal(err)
				}
				if l.Index() != i || l.CN != fmt.Sprint("client", i) || !l.IsValid() {
					t.Errorf("lease %d: Index %d CN %q", i, l.Index(), l.CN)
				}
				got = append(got, show(l))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.first) {
				t.Errorf("leases\n got %v\nwant %v", got, tt.first)
			}
			for i := len(tt.first); i < p.Size(); i++ {
				l, err := p.Acquire("", t0)
				if err != nil {
					t.Fatalf("Acquire %d of %d: %v", i, p.Size(), err)
				}
				if i == p.Size()-1 && show(l) != tt.last {
					t.Errorf("last lease %v, want %v", show(l), tt.last)
				}
				for _, a := range []netip.Addr{l.IPv4, l.Peer, l.IPv6} {
					if a.IsValid() && a != tt.c.Local && !p.Contains(a) {
						t.Errorf("Contains(%v) = false", a)
					}
				}
			}
			if _, err := p.Acquire("one-too-many", t0); !errors.Is(err, ErrExhausted) {
				t.Errorf("Acquire beyond the size: %v", err)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"nothing", Config{}, "ippool: no pool configured"},
		{"start after end", Config{Start: ip("10.8.0.9"), End: ip("10.8.0.2"), Netmask: ip("255.255.255.0")}, "start 10.8.0.9 is greater than end 10.8.0.2"},
		{"end missing", Config{Start: ip("10.8.0.2"), Netmask: ip("255.255.255.0")}, "must both be IPv4"},
		{"IPv6 range", Config{Start: ip("fd00::2"), End: ip("fd00::9")}, "must both be IPv4"},
		{"too large", Config{Start: ip("10.0.0.0"), End: ip("10.1.0.0"), Netmask: ip("255.0.0.0")}, "spans 65537 addresses, more than the 65536 allowed"},
		{"one address", Config{Start: ip("10.8.0.2"), End: ip("10.8.0.2"), Netmask: ip("255.255.255.0")}, "holds 1 address, at least 2"},
		{"one net30 block", Config{Start: ip("10.8.0.4"), End: ip("10.8.0.7"), Topology: Net30}, "holds 1 /30 block, at least 2"},
		{"subnet without netmask", Config{Start: ip("10.8.0.2"), End: ip("10.8.0.9")}, "and Netmask is unset: pass"},
		{"p2p without local", Config{Start: ip("10.8.0.4"), End: ip("10.8.0.9"), Topology: P2P}, "and Local is unset: pass"},
		{"bad topology", Config{Start: ip("10.8.0.4"), End: ip("10.8.0.9"), Topology: 7}, "unknown topology Topology(7)"},
		{"IPv4 as IPv6 pool", Config{IPv6: pfx("10.8.0.0/24")}, "is not an IPv6 prefix"},
		{"/128", Config{IPv6: pfx("fd00::5/128")}, "holds 1 address, at least 2"},
		{"/127 ending at ::1", Config{IPv6: pfx("fd00::1/127")}, "holds 1 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.c)
			if err == nil {
				t.Fatalf("New succeeded: %v", p)
			}
			if !strings.HasPrefix(err.Error(), "ippool: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// step is one operation of a scripted sequence: "cn" acquires (want is the
// client's first address, IPv4 when there is one, or "full"), "-cn"
// releases cn's lease, "!cn" discards it. The clock moves 2 s per step.
type step struct{ op, want string }

func run(t *testing.T, p *Pool, steps []step) map[string]Lease {
	t.Helper()
	leases := map[string]Lease{}
	now := t0
	for i, s := range steps {
		now = now.Add(2 * time.Second)
		switch {
		case strings.HasPrefix(s.op, "-"):
			if !p.Release(leases[s.op[1:]], now) {
				t.Fatalf("step %d: Release(%s) = false", i, s.op[1:])
			}
		case strings.HasPrefix(s.op, "!"):
			if !p.Discard(leases[s.op[1:]]) {
				t.Fatalf("step %d: Discard(%s) = false", i, s.op[1:])
			}
		default:
			l, err := p.Acquire(s.op, now)
			got := l.IPv4.String()
			if !l.IPv4.IsValid() {
				got = l.IPv6.String()
			}
			if err != nil {
				if !errors.Is(err, ErrExhausted) {
					t.Fatalf("step %d: %v", i, err)
				}
				got = "full"
			}
			if got != s.want {
				t.Fatalf("step %d: Acquire(%s) = %s, want %s", i, s.op, got, s.want)
			}
			leases[s.op] = l
		}
	}
	return leases
}

// Sequences observed with openvpn 2.6.14 (clients alice, bob... connecting
// in turn to a server in a network namespace; "-x" is client x exiting
// with explicit-exit-notify), and the persist file it wrote afterwards.
func TestSequencesMatch26(t *testing.T) {
	small := Config{Start: ip("10.9.0.2"), End: ip("10.9.0.4"), Topology: Subnet, Netmask: ip("255.255.255.0")}
	fixed := small
	fixed.FixedHints = true
	p2pDup := p2p24
	p2pDup.DuplicateCN = true
	tests := []struct {
		name       string
		c          Config
		file       string // persist file before the start
		steps      []step
		wantFile   string
		wantChange bool
	}{{
		name: "net30 + server-ipv6: released addresses wait for their owner",
		c:    with6(net30_24, "fd00:8::1000/64"),
		steps: []step{{"alice", "10.8.0.6"}, {"bob", "10.8.0.10"}, {"carol", "10.8.0.14"}, {"-bob", ""},
			{"dave", "10.8.0.18"}, {"bob", "10.8.0.10"}},
		wantFile:   "alice,10.8.0.4,fd00:8::1000\nbob,10.8.0.8,fd00:8::1001\ncarol,10.8.0.12,fd00:8::1002\ndave,10.8.0.16,fd00:8::1003\n",
		wantChange: true,
	}, {
		name:       "restart with that file: hints honoured, newcomers take unused entries",
		c:          with6(net30_24, "fd00:8::1000/64"),
		file:       "alice,10.8.0.4,fd00:8::1000\nbob,10.8.0.8,fd00:8::1001\ncarol,10.8.0.12,fd00:8::1002\ndave,10.8.0.16,fd00:8::1003\n",
		steps:      []step{{"carol", "10.8.0.14"}, {"eve", "10.8.0.22"}, {"alice", "10.8.0.6"}},
		wantFile:   "alice,10.8.0.4,fd00:8::1000\nbob,10.8.0.8,fd00:8::1001\ncarol,10.8.0.12,fd00:8::1002\ndave,10.8.0.16,fd00:8::1003\neve,10.8.0.20,fd00:8::1004\n",
		wantChange: true,
	}, {
		name:     "subnet: earliest released first, then the owners come back",
		c:        subnet24,
		steps:    []step{{"alice", "10.8.0.2"}, {"bob", "10.8.0.3"}, {"carol", "10.8.0.4"}, {"-bob", ""}, {"-alice", ""}, {"dave", "10.8.0.5"}, {"eve", "10.8.0.6"}, {"bob", "10.8.0.3"}},
		wantFile: "alice,10.8.0.2,\nbob,10.8.0.3,\ncarol,10.8.0.4,\ndave,10.8.0.5,\neve,10.8.0.6,\n", wantChange: true,
	}, {
		name:     "same name again without duplicate-cn gets the same address",
		c:        subnet24,
		steps:    []step{{"alice", "10.8.0.2"}, {"bob", "10.8.0.3"}, {"alice", "10.8.0.2"}, {"carol", "10.8.0.4"}},
		wantFile: "alice,10.8.0.2,\nbob,10.8.0.3,\ncarol,10.8.0.4,\n", wantChange: true,
	}, {
		name:     "a full pool gives hinted entries away, lowest first",
		c:        small,
		file:     "alice,10.9.0.2,\nbob,10.9.0.3,\n",
		steps:    []step{{"carol", "10.9.0.4"}, {"dave", "10.9.0.2"}, {"alice", "10.9.0.3"}, {"eve", "full"}},
		wantFile: "dave,10.9.0.2,\nalice,10.9.0.3,\ncarol,10.9.0.4,\n", wantChange: true,
	}, {
		name:     "read-only hints (ifconfig-pool-persist FILE 0) stay with their name",
		c:        fixed,
		file:     "alice,10.9.0.2,\nbob,10.9.0.3,\n",
		steps:    []step{{"carol", "10.9.0.4"}, {"dave", "full"}, {"alice", "10.9.0.2"}},
		wantFile: "alice,10.9.0.2,\nbob,10.9.0.3,\ncarol,10.9.0.4,\n", wantChange: true,
	}, {
		name:     "duplicate-cn: lowest free entry, names neither used nor kept",
		c:        p2pDup,
		file:     "bob,10.8.0.4,\ncarol,10.8.0.6,\n",
		steps:    []step{{"alice", "10.8.0.4"}, {"alice", "10.8.0.5"}, {"bob", "10.8.0.6"}},
		wantFile: "", wantChange: true,
	}, {
		name:     "IPv6 only (ifconfig-ipv6-pool fd00:9::/112)",
		c:        Config{IPv6: pfx("fd00:9::/112")},
		steps:    []step{{"alice", "fd00:9::1"}, {"bob", "fd00:9::2"}, {"-alice", ""}, {"carol", "fd00:9::3"}},
		wantFile: "alice,,fd00:9::1\nbob,,fd00:9::2\ncarol,,fd00:9::3\n", wantChange: true,
	}, {
		name: "static address from ccd after a pool address: Discard forgets the name",
		c:    subnet24,
		// bob's ccd has ifconfig-push 10.8.0.2: 2.6 discards the pool
		// address it chose first (10.8.0.3) and carol gets it.
		steps:    []step{{"alice", "10.8.0.2"}, {"bob", "10.8.0.3"}, {"!bob", ""}, {"carol", "10.8.0.3"}},
		wantFile: "alice,10.8.0.2,\ncarol,10.8.0.3,\n", wantChange: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.c)
			if tt.file != "" {
				n, problems, err := p.Load(strings.NewReader(tt.file), t0)
				if err != nil || len(problems) > 0 || n != strings.Count(tt.file, "\n") {
					t.Fatalf("Load = %d, %v, %v", n, problems, err)
				}
			}
			run(t, p, tt.steps)
			if p.Changed() != tt.wantChange {
				t.Errorf("Changed = %v", p.Changed())
			}
			var b strings.Builder
			if err := p.Save(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.wantFile {
				t.Errorf("Save:\n%s\nwant:\n%s", b.String(), tt.wantFile)
			}
			if p.Changed() {
				t.Error("Changed after Save")
			}
		})
	}
}

func TestReleaseAndStaleLeases(t *testing.T) {
	p := mustNew(t, with6(net30_24, "fd00:8::1000/64"))
	a, err := p.Acquire("alice", t0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Leased() != 1 {
		t.Fatalf("Leased = %d", p.Leased())
	}
	// alice reconnects before her old session is gone: same address, the
	// old lease no longer releases anything.
	a2, err := p.Acquire("alice", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if show(a2) != show(a) || p.Leased() != 1 {
		t.Fatalf("takeover gave %v (was %v), Leased %d", show(a2), show(a), p.Leased())
	}
	if p.Release(a, t0.Add(2*time.Second)) || p.Discard(a) {
		t.Fatal("the old lease released the new one")
	}
	if p.Release(Lease{}, t0) || p.Discard(Lease{}) || (Lease{}).IsValid() {
		t.Fatal("the zero Lease released something")
	}
	if !p.Release(a2, t0.Add(3*time.Second)) {
		t.Fatal("Release of the current lease failed")
	}
	if p.Release(a2, t0.Add(4*time.Second)) {
		t.Fatal("second Release succeeded")
	}
	if p.Leased() != 0 {
		t.Fatalf("Leased = %d", p.Leased())
	}
	// Re-acquire after release: the same entry.
	a3, err := p.Acquire("alice", t0.Add(5*time.Second))
	if err != nil || show(a3) != show(a) {
		t.Fatalf("re-acquire: %v %v", show(a3), err)
	}
	// A lease from another pool (same entry, same generation) does not
	// release this one's.
	q := mustNew(t, with6(net30_24, "fd00:8::1000/64"))
	for range 5 {
		b, _ := q.Acquire("alice", t0)
		if b.Index() == a3.Index() && b.gen == a3.gen && p.Release(b, t0) {
			t.Fatal("a lease of another pool released alice's")
		}
	}
	if p.Leased() != 1 {
		t.Fatal("alice's lease is gone")
	}
}

func TestDuplicateCNOn(t *testing.T) {
	c := subnet24
	c.DuplicateCN = true
	p := mustNew(t, c)
	var ls []Lease
	for i := 0; i < 3; i++ {
		l, err := p.Acquire("alice", t0)
		if err != nil {
			t.Fatal(err)
		}
		if l.CN != "" {
			t.Errorf("CN %q kept with duplicate-cn", l.CN)
		}
		ls = append(ls, l)
	}
	if got := []string{ls[0].IPv4.String(), ls[1].IPv4.String(), ls[2].IPv4.String()}; fmt.Sprint(got) != "[10.8.0.2 10.8.0.3 10.8.0.4]" {
		t.Fatalf("addresses %v", got)
	}
	if !p.Release(ls[0], t0.Add(time.Second)) || !p.Release(ls[1], t0.Add(2*time.Second)) {
		t.Fatal("release")
	}
	// The lowest free entry, not the earliest released.
	if l, _ := p.Acquire("bob", t0.Add(3*time.Second)); l.IPv4 != ip("10.8.0.2") {
		t.Fatalf("got %v", l.IPv4)
	}
	if p.Changed() {
		t.Error("Changed with duplicate-cn")
	}
}

func TestReserve(t *testing.T) {
	t.Run("subnet", func(t *testing.T) {
		// ifconfig-pool 10.8.0.1 10.8.0.10 includes the server's 10.8.0.1;
		// a ccd file pushes 10.8.0.3.
		p := mustNew(t, Config{Start: ip("10.8.0.1"), End: ip("10.8.0.5"), Netmask: ip("255.255.255.0"), IPv6: pfx("fd00::1000/64")})
		for _, a := range []string{"10.8.0.1", "10.8.0.3", "10.9.9.9", "fd00::1", "fd00::1003"} {
			if err := p.Reserve(ip(a)); err != nil {
				t.Fatalf("Reserve(%s): %v", a, err)
			}
		}
		var got []string
		for _, cn := range []string{"a", "b", "c"} {
			l, err := p.Acquire(cn, t0)
			if err != nil {
				got = append(got, "full")
				if !strings.Contains(err.Error(), "ippool: no free address in 10.8.0.1-10.8.0.5 and fd00::1000-fd00::1004 (2 leased, 3 reserved)") {
					t.Errorf("error %v", err)
				}
				continue
			}
			got = append(got, show(l).v4+"/"+show(l).v6)
		}
		// fd00::1003 is entry 3, so 10.8.0.4 is out as well.
		if want := "[10.8.0.2/fd00::1001 10.8.0.5/fd00::1004 full]"; fmt.Sprint(got) != want {
			t.Fatalf("got %v, want %v", got, want)
		}
		if err := p.Unreserve(ip("10.8.0.3")); err != nil {
			t.Fatal(err)
		}
		if l, err := p.Acquire("d", t0); err != nil || l.IPv4 != ip("10.8.0.3") {
			t.Fatalf("after Unreserve: %v %v", l.IPv4, err)
		}
		if err := p.Unreserve(ip("10.8.0.3")); err == nil || !strings.Contains(err.Error(), "10.8.0.3, which is not reserved") {
			t.Fatalf("Unreserve twice: %v", err)
		}
		if err := p.Unreserve(ip("192.0.2.1")); err != nil {
			t.Fatalf("Unreserve outside: %v", err)
		}
		if err := p.Reserve(netip.Addr{}); err == nil {
			t.Fatal("Reserve of the zero Addr succeeded")
		}
	})
	t.Run("net30 block by any of its addresses, counted", func(t *testing.T) {
		p := mustNew(t, net30_24)
		// ccd: ifconfig-push 10.8.0.10 10.8.0.9, known twice.
		for _, a := range []string{"10.8.0.9", "10.8.0.10"} {
			if err := p.Reserve(ip(a)); err != nil {
				t.Fatal(err)
			}
		}
		run(t, p, []step{{"a", "10.8.0.6"}, {"b", "10.8.0.14"}})
		if err := p.Unreserve(ip("10.8.0.10")); err != nil {
			t.Fatal(err)
		}
		run(t, p, []step{{"c", "10.8.0.18"}})
		if err := p.Unreserve(ip("10.8.0.11")); err != nil {
			t.Fatal(err)
		}
		run(t, p, []step{{"d", "10.8.0.10"}})
	})
	t.Run("leased address", func(t *testing.T) {
		p := mustNew(t, subnet24)
		l, _ := p.Acquire("alice", t0)
		err := p.Reserve(l.IPv4)
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), `ippool: reserved 10.8.0.2, but it is leased to "alice" (10.8.0.2): address in use; refuse one`) {
			t.Fatalf("Reserve of a leased address: %v", err)
		}
		// Recorded all the same: once alice leaves, nobody gets it.
		p.Release(l, t0.Add(time.Second))
		if l2, _ := p.Acquire("alice", t0.Add(2*time.Second)); l2.IPv4 != ip("10.8.0.3") {
			t.Fatalf("reserved address handed out again: %v", l2.IPv4)
		}
		if !p.Contains(ip("10.8.0.254")) || p.Contains(ip("10.8.0.255")) || p.Contains(ip("10.8.0.1")) || p.Contains(ip("::ffff:10.8.0.2")) {
			t.Fatal("Contains")
		}
	})
}

func TestExhaustionMessages(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"subnet", Config{Start: ip("10.8.0.2"), End: ip("10.8.0.3"), Netmask: ip("255.255.255.0")},
			"ippool: no free address in 10.8.0.2-10.8.0.3 (2 leased, 0 reserved): increase the pool (a shorter server netmask or a wider range) or lower max-clients"},
		{"net30", Config{Start: ip("10.8.0.4"), End: ip("10.8.0.11"), Topology: Net30},
			"ippool: no free address in 10.8.0.4-10.8.0.11 (net30) (2 leased, 0 reserved): increase the pool or use topology subnet (net30 spends 4 addresses per client)"},
		{"IPv6 smaller", Config{Start: ip("10.8.0.2"), End: ip("10.8.0.9"), Netmask: ip("255.255.255.0"), IPv6: pfx("fd00::e/124")},
			"ippool: no free address in 10.8.0.2-10.8.0.9 and fd00::e-fd00::f (2 leased, 0 reserved): the IPv6 pool (2 addresses) is smaller than the IPv4 pool (8) and limits the clients: use a shorter IPv6 prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.c)
			for i := 0; i < 2; i++ {
				if _, err := p.Acquire(fmt.Sprint(i), t0); err != nil {
					t.Fatal(err)
				}
			}
			_, err := p.Acquire("x", t0)
			if !errors.Is(err, ErrExhausted) || err.Error() != tt.want {
				t.Fatalf("error\n %v\nwant\n %v", err, tt.want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	p := mustNew(t, with6(subnet24, "fd00::1000/64"))
	var mu sync.Mutex
	held := map[netip.Addr]string{}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			now := t0
			for i := 0; i < 200; i++ {
				now = now.Add(time.Second)
				cn := fmt.Sprintf("c%d-%d", g, i%7)
				l, err := p.Acquire(cn, now)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if o, ok := held[l.IPv4]; ok {
					t.Errorf("%v leased to %s and %s", l.IPv4, o, cn)
				}
				held[l.IPv4] = cn
				mu.Unlock()
				if i%3 == 0 {
					_ = p.Save(discard{})
					_ = p.Changed()
				}
				mu.Lock()
				delete(held, l.IPv4)
				mu.Unlock()
				if !p.Release(l, now) {
					t.Errorf("Release of %v failed", l.IPv4)
				}
			}
		}(g)
	}
	wg.Wait()
	if p.Leased() != 0 {
		t.Fatalf("Leased = %d", p.Leased())
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func TestTopologyString(t *testing.T) {
	for top, want := range map[Topology]string{Subnet: "subnet", Net30: "net30", P2P: "p2p", 9: "Topology(9)"} {
		if top.String() != want {
			t.Errorf("%d: %q", top, top.String())
		}
	}
}
