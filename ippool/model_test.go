package ippool

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// model is pool.c's entry choice written as plainly as possible: a linear
// search (ifconfig_pool_find), plus the reservations of this package. The
// Pool, which keeps a heap instead, must choose the same entries.
type model struct {
	dup     bool
	entries []modelEntry
}

type modelEntry struct {
	cn       string
	inUse    bool
	last     int64
	fixed    bool
	reserved int
}

func (m *model) find(cn string) int {
	var earliest int64
	prev, next := -1, -1
	for i := range m.entries {
		e := &m.entries[i]
		if e.inUse || e.reserved > 0 {
			continue
		}
		if m.dup {
			next = i
			break
		}
		if (next == -1 || e.last < earliest) && !e.fixed {
			earliest, next = e.last, i
		}
		if prev < 0 && cn != "" && e.cn == cn {
			prev = i
		}
	}
	if prev >= 0 {
		return prev
	}
	return next
}

// acquire returns the entry chosen and the entries taken back from cn.
func (m *model) acquire(cn string, sec int64) (int, []int) {
	var taken []int
	if m.dup {
		cn = ""
	} else if cn != "" {
		for i := range m.entries {
			if e := &m.entries[i]; e.inUse && e.cn == cn {
				e.inUse, e.last = false, sec
				taken = append(taken, i)
			}
		}
	}
	i := m.find(cn)
	if i >= 0 {
		e := &m.entries[i]
		e.cn, e.inUse, e.last = cn, true, 0
	}
	return i, taken
}

func (m *model) save(p *Pool) string {
	var b strings.Builder
	for i, e := range m.entries {
		if e.cn != "" {
			l := p.lease(i, "", 0)
			v4 := ""
			if l.IPv4.IsValid() {
				v4 = l.IPv4.String()
				if p.cfg.Topology == Net30 {
					v4 = l.Peer.Prev().String()
				}
			}
			v6 := ""
			if l.IPv6.IsValid() {
				v6 = l.IPv6.String()
			}
			fmt.Fprintf(&b, "%s,%s,%s\n", e.cn, v4, v6)
		}
	}
	return b.String()
}

// FuzzOps drives a Pool and the model with the same operations, two bytes
// each, and checks that they agree on every choice and on the saved file.
func FuzzOps(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 0, 1, 0, 2, 1, 0, 0, 3, 0, 1, 5, 0x21, 0, 4, 3, 2, 0, 0, 4, 2, 0, 0})
	f.Add(uint8(1), []byte{0, 0, 0, 0, 0, 1, 1, 1, 0, 2, 2, 0, 0, 3, 0, 3, 0, 4, 0, 5, 0, 0})
	f.Add(uint8(2), []byte{5, 0x08, 5, 0x11, 5, 0x1a, 0, 3, 0, 4, 0, 0, 0, 1, 0, 2, 1, 0, 0, 0})
	f.Add(uint8(3), []byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 0, 1, 1, 2, 1, 1, 0, 5, 0, 5, 2, 0, 0, 1})
	f.Fuzz(func(t *testing.T, variant uint8, ops []byte) {
		c := Config{Start: ip("10.8.0.4"), End: ip("10.8.0.27"), Topology: Net30, IPv6: pfx("fd00::1000/64")}
		switch variant % 4 {
		case 1:
			c.DuplicateCN = true
		case 2:
			c.FixedHints = true
		case 3:
			c = Config{Start: ip("10.8.0.2"), End: ip("10.8.0.7"), Netmask: ip("255.255.255.0")}
		}
		p := mustNew(t, c)
		m := &model{dup: c.DuplicateCN, entries: make([]modelEntry, p.Size())}
		type held struct {
			l Lease
			i int
		}
		var leases []held
		names := []string{"n0", "n1", "n2", "n3", "n4", ""}
		now := t0
		for k := 0; k+1 < len(ops); k += 2 {
			op, arg := ops[k]%6, int(ops[k+1])
			now = now.Add(time.Duration(arg%3) * time.Second)
			sec := now.Unix()
			switch op {
			case 0:
				cn := names[arg%len(names)]
				want, taken := m.acquire(cn, sec)
				l, err := p.Acquire(cn, now)
				// Taken back even when Acquire then fails.
				for _, i := range taken {
					for j := range leases {
						if leases[j].i == i {
							if p.Release(leases[j].l, now) {
								t.Fatalf("op %d: a lease taken back by %q still released", k/2, cn)
							}
							leases = append(leases[:j], leases[j+1:]...)
							break
						}
					}
				}
				if want < 0 {
					if err == nil {
						t.Fatalf("op %d: Acquire(%q) = entry %d, model: exhausted", k/2, cn, l.Index())
					}
					continue
				}
				if err != nil || l.Index() != want {
					t.Fatalf("op %d: Acquire(%q) = entry %d (%v), model: %d", k/2, cn, l.Index(), err, want)
				}
				leases = append(leases, held{l, want})
			case 1, 2:
				if len(leases) == 0 {
					continue
				}
				j := arg % len(leases)
				h := leases[j]
				leases = append(leases[:j], leases[j+1:]...)
				e := &m.entries[h.i]
				e.inUse = false
				var ok bool
				if op == 1 {
					e.last = sec
					ok = p.Release(h.l, now)
				} else {
					e.cn, e.last = "", 0
					ok = p.Discard(h.l)
				}
				if !ok {
					t.Fatalf("op %d: release of entry %d failed", k/2, h.i)
				}
			case 3, 4:
				i := arg % len(m.entries)
				a := addrOf(p, i, arg)
				if op == 3 {
					m.entries[i].reserved++
					_ = p.Reserve(a)
				} else if m.entries[i].reserved > 0 {
					m.entries[i].reserved--
					if err := p.Unreserve(a); err != nil {
						t.Fatal(err)
					}
				} else if p.Unreserve(a) == nil {
					t.Fatalf("op %d: Unreserve of an entry not reserved succeeded", k/2)
				}
			case 5:
				cn, i := names[arg%5], (arg>>3)%len(m.entries)
				l := p.lease(i, "", 0)
				line := fmt.Sprintf("%s,%v,\n", cn, l.IPv4)
				if !l.IPv4.IsValid() {
					line = fmt.Sprintf("%s,,%v\n", cn, l.IPv6)
				}
				n, _, _ := p.Load(strings.NewReader(line), now)
				if e := &m.entries[i]; !e.inUse {
					e.cn, e.last, e.fixed = cn, sec, c.FixedHints
					if n != 1 {
						t.Fatalf("op %d: Load(%q) applied nothing", k/2, line)
					}
				}
			}
		}
		var b strings.Builder
		if err := p.Save(&b); err != nil {
			t.Fatal(err)
		}
		if want := m.save(p); b.String() != want {
			t.Fatalf("Save:\n%s\nmodel:\n%s", b.String(), want)
		}
		if p.Leased() != len(leases) {
			t.Fatalf("Leased = %d, holding %d", p.Leased(), len(leases))
		}
	})
}

// addrOf returns one of the addresses of entry i, chosen by arg.
func addrOf(p *Pool, i, arg int) netip.Addr {
	l := p.lease(i, "", 0)
	switch {
	case arg&0x40 != 0 && l.IPv6.IsValid():
		return l.IPv6
	case arg&0x80 != 0 && l.Peer.IsValid() && p.cfg.Topology == Net30:
		return l.Peer
	case l.IPv4.IsValid():
		return l.IPv4
	}
	return l.IPv6
}
