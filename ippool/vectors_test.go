package ippool

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
)

var (
	reLine    = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) us=\d+ (.*)$`)
	reOption  = regexp.MustCompile(`^  (\w+) = '?([^']*)'?$`)
	rePool4   = regexp.MustCompile(`IFCONFIG POOL IPv4: base=(\S+) size=(\d+)`)
	rePool6   = regexp.MustCompile(`IFCONFIG POOL IPv6: base=(\S+) size=(\d+)`)
	reRead    = regexp.MustCompile(`ifconfig_pool_read\(\), in='(.*)'$`)
	reSVA     = regexp.MustCompile(`MULTI_sva: pool returned IPv4=(\(Not enabled\)|\S+), IPv6=(\(Not enabled\)|\S+)`)
	reNoFree  = regexp.MustCompile(`MULTI: no free --ifconfig-pool addresses`)
	rePush    = regexp.MustCompile(`SENT CONTROL \[([^\]]*)\]: 'PUSH_REPLY,(.*)' \(status=`)
	reExiting = regexp.MustCompile(`^([^/ ]+)/\S+ SIGTERM\[[^\]]*\] received, client-instance exiting`)
)

// replay runs the pool-relevant lines of an openvpn 2.6.14 server log
// against a Pool built from the same settings: every address 2.6 handed out
// (and every "no free address") must be what Acquire returns, and the
// persist file left (wantFile, unless "-") must be what Save writes (or,
// for a read-only file, what was read).
func replay(t *testing.T, log, wantFile string) {
	t.Helper()
	opts := map[string]string{}
	var (
		p       *Pool
		file    []string // ifconfig_pool_read lines not yet loaded
		loaded  string   // the persist file read at the start
		pending string   // "sva" or "nofree"
		want4   string
		want6   string
		at      time.Time
		leases  = map[string]Lease{}
		checked int
	)
	build := func() {
		var c Config
		if opts["ifconfig_pool_defined"] == "ENABLED" {
			c.Start, c.End = ip(opts["ifconfig_pool_start"]), ip(opts["ifconfig_pool_end"])
			switch opts["topology"] {
			case "1":
				c.Topology = Net30
			case "2":
				c.Topology, c.Local = P2P, ip(opts["ifconfig_local"])
			case "3":
				c.Topology, c.Netmask = Subnet, ip(opts["ifconfig_pool_netmask"])
				if c.Netmask.IsUnspecified() {
					c.Netmask = ip(opts["ifconfig_remote_netmask"]) // as multi.c
				}
			}
		}
		if opts["ifconfig_ipv6_pool_defined"] == "ENABLED" {
			bits, _ := strconv.Atoi(opts["ifconfig_ipv6_pool_netbits"])
			c.IPv6 = netip.PrefixFrom(ip(opts["ifconfig_ipv6_pool_base"]), bits)
		}
		c.DuplicateCN = opts["duplicate_cn"] == "ENABLED"
		c.FixedHints = opts["ifconfig_pool_persist_refresh_freq"] == "0"
		p = mustNew(t, c)
	}
	load := func() {
		if len(file) == 0 {
			return
		}
		loaded = strings.Join(file, "\n") + "\n"
		n, problems, err := p.Load(strings.NewReader(loaded), at)
		if err != nil || len(problems) > 0 || n != len(file) {
			t.Fatalf("Load of %q: %d %v %v", file, n, problems, err)
		}
		file = nil
	}
	for _, line := range strings.Split(log, "\n") {
		m := reLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		tm, err := time.Parse(time.DateTime, m[1])
		if err != nil {
			t.Fatal(err)
		}
		at, line = tm, m[2]
		if o := reOption.FindStringSubmatch(line); o != nil {
			opts[o[1]] = o[2]
			continue
		}
		if r := reRead.FindStringSubmatch(line); r != nil {
			file = append(file, r[1])
			continue
		}
		if g := rePool4.FindStringSubmatch(line); g != nil {
			if p == nil {
				build()
			}
			base := p.cfg.Start
			if p.cfg.Topology == Net30 {
				base = addr4From(addr4(base) &^ 3)
			}
			if v4, _ := p.Sizes(); base.String() != g[1] || strconv.Itoa(v4) != g[2] {
				t.Fatalf("2.6: IPv4 pool base=%s size=%s; ours %v %d", g[1], g[2], base, v4)
			}
			continue
		}
		if g := rePool6.FindStringSubmatch(line); g != nil {
			if p == nil {
				build()
			}
			if _, v6 := p.Sizes(); p.v6base.String() != g[1] || strconv.Itoa(v6) != g[2] {
				t.Fatalf("2.6: IPv6 pool base=%s size=%s; ours %v %d", g[1], g[2], p.v6base, v6)
			}
			continue
		}
		if p != nil {
			load()
		}
		if g := reSVA.FindStringSubmatch(line); g != nil {
			pending, want4, want6 = "sva", g[1], g[2]
			continue
		}
		if reNoFree.MatchString(line) {
			pending = "nofree"
			continue
		}
		if g := reExiting.FindStringSubmatch(line); g != nil {
			if l, ok := leases[g[1]]; ok {
				if !p.Release(l, at) {
					t.Fatalf("%s: release of %s failed", line, g[1])
				}
				delete(leases, g[1])
			}
			continue
		}
		g := rePush.FindStringSubmatch(line)
		if g == nil || pending == "" {
			continue
		}
		cn := g[1]
		l, err := p.Acquire(cn, at)
		checked++
		if pending == "nofree" {
			if !errors.Is(err, ErrExhausted) {
				t.Fatalf("%s: 2.6 found no free address; Acquire(%s) = %v, %v", line, cn, show(l), err)
			}
			pending = ""
			continue
		}
		pending = ""
		if err != nil {
			t.Fatalf("%s: Acquire(%s): %v", line, cn, err)
		}
		got4, got6 := "(Not enabled)", "(Not enabled)"
		if l.IPv4.IsValid() {
			got4 = l.IPv4.String()
		}
		if l.IPv6.IsValid() {
			got6 = l.IPv6.String()
		}
		if got4 != want4 || got6 != want6 {
			t.Fatalf("2.6 gave %s IPv4=%s, IPv6=%s; Acquire: %s, %s", cn, want4, want6, got4, got6)
		}
		// The pushed ifconfig: the lease, or a static address (ccd), for
		// which 2.6 gives the pool address back and forgets the name.
		pushed := ""
		for _, o := range strings.Split(g[2], ",") {
			if strings.HasPrefix(o, "ifconfig ") {
				pushed = o
			}
		}
		if l.IPv4.IsValid() {
			second := l.Peer
			if p.cfg.Topology == Subnet {
				second = l.Netmask
			}
			if pushed != "ifconfig "+l.IPv4.String()+" "+second.String() {
				if !p.Discard(l) {
					t.Fatal("Discard")
				}
				continue
			}
		}
		leases[cn] = l
	}
	if p == nil || checked == 0 {
		t.Fatal("the log holds no pool or no client")
	}
	if p.cfg.FixedHints {
		// "ifconfig-pool-persist FILE 0": 2.6 never writes the file.
		if wantFile != loaded {
			t.Fatalf("read-only persist file changed from %q to %q", loaded, wantFile)
		}
	} else if wantFile != "-" {
		var b strings.Builder
		if err := p.Save(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != wantFile {
			t.Fatalf("Save:\n%s\n2.6 wrote:\n%s", b.String(), wantFile)
		}
	}
}

func TestReplayLab(t *testing.T) {
	logs, err := filepath.Glob("testdata/openvpn-2.6.14-lab/*.log")
	if err != nil || len(logs) < 10 {
		t.Fatalf("lab logs: %v %v", logs, err)
	}
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".log")
		t.Run(name, func(t *testing.T) {
			l, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".ipp")
			if err != nil {
				t.Fatal(err)
			}
			replay(t, string(l), string(f))
		})
	}
}

// The shared test vectors: "server 10.77.0.0 255.255.255.0" with topology
// subnet gives 10.77.0.2-10.77.0.254 (253 addresses: the broadcast address
// minus one, not .253).
func TestReplaySharedVectors(t *testing.T) {
	dir := vectors.Dir(t, "testvectors/openvpn-2.6.14")
	logs, err := filepath.Glob(filepath.Join(dir, "srv*.log"))
	if err != nil || len(logs) == 0 {
		t.Skipf("no srv*.log in %s", dir)
	}
	for _, log := range logs {
		t.Run(filepath.Base(log), func(t *testing.T) {
			l, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(l), "ifconfig_pool_end = 10.77.0.254") {
				t.Errorf("unexpected pool in %s", log)
			}
			replay(t, string(l), "-")
		})
	}
}
