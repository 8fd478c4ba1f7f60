// Package bench is `make bench`: it measures openvpn-go against the
// reference openvpn 2.6 on this machine, in network namespaces, and prints
// one table. It is a benchmark, not a test: it runs only with
// OPENVPN_GO_BENCH=1 (make bench sets it). To narrow it:
// OPENVPN_GO_BENCH_PAIRS=14 (pairs by number), OPENVPN_GO_BENCH_PROTOS=tcp,
// OPENVPN_GO_BENCH_CIPHERS=AES-256-GCM, OPENVPN_GO_BENCH_QUICK=1 (UDP and
// AES-256-GCM only), OPENVPN_GO_BENCH_DURATION=10s (per measurement),
// OPENVPN_GO_BENCH_REPEAT=3 (rounds; the table shows medians). To look
// inside: OPENVPN_GO_BENCH_DEBUG=1 (CPU per process, link counters and
// TCP counters per namespace; system calls and context switches per
// process in the 4-stream run), OPENVPN_GO_BENCH_PERF=DIR (perf record of
// the machine). OPENVPN_GO_RX_PACING=0 and OPENVPN_GO_CRYPTO_WORKERS=1
// reach the openvpn-go processes, for A/B runs.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

type impl string

const (
	openvpn   impl = "openvpn"
	openvpnGo impl = "openvpn-go"
)

type pair struct {
	name           string
	client, server impl
}

var pairs = []pair{
	{"(1) openvpn <-> openvpn", openvpn, openvpn},
	{"(2) openvpn-go <-> openvpn-go", openvpnGo, openvpnGo},
	{"(3) openvpn-go client -> openvpn server", openvpnGo, openvpn},
	{"(4) openvpn client -> openvpn-go server", openvpn, openvpnGo},
}

type result struct {
	tcp1, tcp4     float64 // Mbit/s
	pps64, pps1400 float64 // received packets per second
	cpuPerGB       float64 // CPU seconds of both VPN processes per GB moved
	// CPU of each VPN process in the single-stream run, in cores (1 =
	// one core busy all the time): openvpn is single-threaded, so a
	// stock peer near 1.0 is the limit of that cell.
	cliCores, srvCores float64
	err                error
}

func TestBench(t *testing.T) {
	if os.Getenv("OPENVPN_GO_BENCH") == "" {
		t.Skip("a benchmark, not a test: run it with `make bench` (OPENVPN_GO_BENCH=1)")
	}
	dur := 5 * time.Second
	if d, err := time.ParseDuration(os.Getenv("OPENVPN_GO_BENCH_DURATION")); err == nil {
		dur = d
	}
	ciphers := []string{"AES-256-GCM", "CHACHA20-POLY1305"}
	protos := []string{"udp", "tcp"}
	if s := os.Getenv("OPENVPN_GO_BENCH_QUICK"); s != "" {
		ciphers, protos = ciphers[:1], protos[:1]
	}
	if s := os.Getenv("OPENVPN_GO_BENCH_PROTOS"); s != "" {
		protos = strings.Split(s, ",")
	}
	if s := os.Getenv("OPENVPN_GO_BENCH_CIPHERS"); s != "" {
		ciphers = strings.Split(s, ",")
	}
	repeat := 1
	if n, err := strconv.Atoi(os.Getenv("OPENVPN_GO_BENCH_REPEAT")); err == nil && n > 0 {
		repeat = n
	}
	type key struct {
		p             pair
		cipher, proto string
	}
	// Each round measures every cell once; the table shows per cell the
	// median over the rounds, and for ×(1) the median of the ratios to
	// pair (1) of the same round (measured minutes apart, not half an hour).
	results := map[key][]result{}
	var order []key
	only := os.Getenv("OPENVPN_GO_BENCH_PAIRS")
	measured := func(i int) bool { return only == "" || strings.Contains(only, strconv.Itoa(i+1)) }
	cells, done := 0, 0
	for i := range pairs {
		if measured(i) {
			cells += len(protos) * len(ciphers)
		}
	}
	for round := 1; round <= repeat; round++ {
		for _, proto := range protos {
			for _, cipher := range ciphers {
				for i, p := range pairs {
					if !measured(i) {
						continue
					}
					k := key{p, cipher, proto}
					if round == 1 {
						order = append(order, k)
					}
					t.Run(fmt.Sprintf("%s-%s-%s-%s-round%d", proto, cipher, p.client, p.server, round), func(t *testing.T) {
						r := measure(t, p, cipher, proto, dur)
						results[k] = append(results[k], r)
						done++
						// Progress for `make bench` (go test -v streams it).
						t.Logf("%d/%d (round %d of %d): %s %s %s: TCP %.0f / %.0f Mbit/s, UDP %.0f / %.0f kpps",
							done, cells*repeat, round, repeat, proto, cipher, p.name, r.tcp1, r.tcp4, r.pps64/1e3, r.pps1400/1e3)
					})
				}
			}
		}
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "transport\tcipher\tpair\tTCP 1 stream Mbit/s\t×(1)\tTCP 4 streams Mbit/s\t×(1)\tUDP 64 B kpps\tUDP 1400 B kpps\tCPU s/GB\tcores client / server\t\n")
	for _, k := range order {
		rs, base := results[k], results[key{pairs[0], k.cipher, k.proto}]
		var errs []error
		var tcp1, tcp4, pps64, pps1400, cpu, r1, r4, cc, sc []float64
		for i, r := range rs {
			if r.err != nil {
				errs = append(errs, r.err)
				continue
			}
			tcp1, tcp4, pps64, pps1400, cpu = append(tcp1, r.tcp1), append(tcp4, r.tcp4), append(pps64, r.pps64), append(pps1400, r.pps1400), append(cpu, r.cpuPerGB)
			cc, sc = append(cc, r.cliCores), append(sc, r.srvCores)
			if i < len(base) && base[i].err == nil && base[i].tcp1 > 0 && base[i].tcp4 > 0 {
				r1, r4 = append(r1, r.tcp1/base[i].tcp1), append(r4, r.tcp4/base[i].tcp4)
			}
		}
		if len(tcp1) == 0 {
			fmt.Fprintf(w, "%s\t%s\t%s\terror: %v\t\t\t\t\t\t\t\t\n", k.proto, k.cipher, k.p.name, errs[0])
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%.0f\t%s\t%.0f\t%s\t%.0f\t%.0f\t%.1f\t%.2f / %.2f\t\n", k.proto, k.cipher, k.p.name,
			median(tcp1), ratioOf(r1), median(tcp4), ratioOf(r4), median(pps64)/1e3, median(pps1400)/1e3, median(cpu), median(cc), median(sc))
	}
	w.Flush()
	b.WriteString("\n(cores: CPU time of each VPN process per second of the single-stream run; openvpn has one thread, so near 1.00 that process is what limits the cell)\n")
	if repeat > 1 {
		fmt.Fprintf(&b, "(each figure is the median of %d rounds; ×(1) is the median of the per-round ratios to (1), with their range)\n", repeat)
	}
	fmt.Printf("\nmachine: %s, %d CPUs, %s; openvpn: %s\n%s\n", cpuModel(), runtime.NumCPU(), kernel(), openvpnVersion(), b.String())
	if out := os.Getenv("OPENVPN_GO_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(fmt.Sprintf("machine: %s, %d CPUs, %s; openvpn: %s\n\n%s", cpuModel(), runtime.NumCPU(), kernel(), openvpnVersion(), b.String())), 0o644)
	}
}

// median of vs (not empty); vs is sorted in place.
func median(vs []float64) float64 {
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// ratioOf is the median of the per-round ratios rs and, with more than
// one round, their range: a single round varies by ±15 % on a small VM,
// and the range shows whether a median near 1 is a tie or a trend.
func ratioOf(rs []float64) string {
	switch len(rs) {
	case 0:
		return "-"
	case 1:
		return fmt.Sprintf("%.2f", rs[0])
	}
	m := median(rs) // sorts rs
	return fmt.Sprintf("%.2f (%.2f–%.2f)", m, rs[0], rs[len(rs)-1])
}

// measure runs one configuration.
func measure(t *testing.T, p pair, cipher, proto string, dur time.Duration) (res result) {
	n := lab.NewNet(t)
	pki := lab.NewPKI(t)
	bin := lab.BuildOpenVPNGo(t)
	dir := t.TempDir()
	w := lab.Wrap{TLSCrypt: lab.NewStaticKey(t)}
	common := []string{"data-ciphers " + cipher, "tun-mtu 1500", "sndbuf 0", "rcvbuf 0"}
	srvConf := lab.OpenVPNServerConfig(lab.ServerOptions{CA: pki.CA.CertFile, Cert: pki.Server(t), Proto: proto + "6", Wrap: w,
		Extra: append([]string{"keepalive 10 60"}, common...)})
	cliConf := lab.OpenVPNClientConfig(lab.ClientOptions{CA: pki.CA.CertFile, Cert: pki.Client(t, "bench"), Remote: n.Server.IPv4, Proto: proto, Wrap: w, Extra: common})
	start := func(ns *lab.NS, name string, im impl, conf string) *lab.Proc {
		if im == openvpn {
			return lab.StartOpenVPN(t, ns, name, conf)
		}
		f := filepath.Join(dir, name+".conf")
		os.WriteFile(f, []byte(conf), 0o600)
		return ns.Start(t, name, bin, "--config", f)
	}
	srv := start(n.Server, "server", p.server, srvConf)
	srv.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	cli := start(n.Client, "client", p.client, cliConf)
	cli.WaitLog(t, lab.ReadyPattern, lab.ReadyTimeout)
	n.Client.Ping(t, lab.ServerTunIPv4, 2)

	debug := os.Getenv("OPENVPN_GO_BENCH_DEBUG") != ""
	var st0 string
	if debug {
		st0 = linkStats(n.Server) + linkStats(n.Client)
	}
	// OPENVPN_GO_BENCH_PERF=DIR records the whole machine (perf record -a
	// -g, cpu-clock) for half of the single-stream run into DIR.
	var perf *exec.Cmd
	if d := os.Getenv("OPENVPN_GO_BENCH_PERF"); d != "" {
		out := filepath.Join(d, strings.NewReplacer(" ", "", "<->", "-", "->", "-", "(", "", ")", "").Replace(proto+"-"+cipher+"-"+p.name)+".data")
		perf = exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-a", "-g", "-o", out, "--", "sleep", fmt.Sprint(int(dur.Seconds()/2)))
		if err := perf.Start(); err != nil {
			t.Logf("perf: %v", err)
			perf = nil
		}
	}
	var ns0, nc0 map[string]int64
	if debug {
		ns0, nc0 = nstat(n.Server), nstat(n.Client)
	}
	s0, c0 := cpuSeconds(srv.Pid()), cpuSeconds(cli.Pid())
	r := lab.Iperf3(t, n.Client, n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: dur})
	s1, c1 := cpuSeconds(srv.Pid()), cpuSeconds(cli.Pid())
	if perf != nil {
		perf.Wait()
	}
	cpu0, cpu1 := s0+c0, s1+c1
	if debug {
		t.Logf("%s: server CPU %.2fs, client CPU %.2fs in %v\nbefore:\n%s\nafter:\n%s%s",
			p.name, s1-s0, c1-c0, dur, st0, linkStats(n.Server), linkStats(n.Client))
		t.Logf("TCP counters, server namespace: %s\nclient namespace: %s", nstatDelta(ns0, nstat(n.Server)), nstatDelta(nc0, nstat(n.Client)))
	}
	res.tcp1 = r.ReceivedBPS / 1e6
	res.cliCores, res.srvCores = (c1-c0)/dur.Seconds(), (s1-s0)/dur.Seconds()
	if gb := r.ReceivedBPS * dur.Seconds() / 8 / 1e9; gb > 0 {
		res.cpuPerGB = (cpu1 - cpu0) / gb
	}
	if debug {
		st0 = linkStats(n.Server) + linkStats(n.Client)
	}
	s0, c0 = cpuSeconds(srv.Pid()), cpuSeconds(cli.Pid())
	var sstat, cstat func() string
	if debug {
		sstat, cstat = perfStat(srv.Pid(), dur), perfStat(cli.Pid(), dur)
	}
	r = lab.Iperf3(t, n.Client, n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: dur, Streams: 4, Port: 5202})
	res.tcp4 = r.ReceivedBPS / 1e6
	if debug {
		s1, c1 = cpuSeconds(srv.Pid()), cpuSeconds(cli.Pid())
		t.Logf("%s, 4 streams: server CPU %.2fs, client CPU %.2fs in %v\nserver: %s\nclient: %s\nbefore:\n%s\nafter:\n%s%s",
			p.name, s1-s0, c1-c0, dur, sstat(), cstat(), st0, linkStats(n.Server), linkStats(n.Client))
	}
	for _, sz := range []int{64, 1400} {
		r := lab.Iperf3(t, n.Client, n.Server, lab.ServerTunIPv4, lab.IperfOptions{Duration: dur, UDP: true, Bitrate: "0", Length: sz, Port: 5203 + sz})
		pps := r.ReceivedPackets / dur.Seconds()
		if sz == 64 {
			res.pps64 = pps
		} else {
			res.pps1400 = pps
		}
	}
	return res
}

// linkStats is `ip -s link` in ns (OPENVPN_GO_BENCH_DEBUG=1 logs it around
// the single-stream run, to compare packet counts between pairs).
func linkStats(ns *lab.NS) string {
	out, _ := ns.Run(context.Background(), "ip", "-s", "-o", "link")
	return out
}

// nstat returns the TCP counters of ns (nstat -as).
func nstat(ns *lab.NS) map[string]int64 {
	out, _ := ns.Run(context.Background(), "nstat", "-as")
	m := map[string]int64{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasPrefix(f[0], "Tcp") {
			m[f[0]], _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return m
}

// nstatDelta lists the counters that grew by at least 100.
func nstatDelta(a, b map[string]int64) string {
	var fs []string
	for k, v := range b {
		if d := v - a[k]; d >= 100 {
			fs = append(fs, fmt.Sprintf("%s=%d", k, d))
		}
	}
	sort.Strings(fs)
	return strings.Join(fs, " ")
}

// perfStat counts a process's system calls, context switches and CPU
// migrations for d (OPENVPN_GO_BENCH_DEBUG=1); the result is read by
// calling the returned function.
func perfStat(pid int, d time.Duration) func() string {
	cmd := exec.Command("perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter,context-switches,cpu-migrations",
		"-p", strconv.Itoa(pid), "--", "sleep", strconv.Itoa(int(d.Seconds())))
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return func() string { return err.Error() }
	}
	return func() string {
		cmd.Wait()
		var fs []string
		for _, l := range strings.Split(out.String(), "\n") {
			if f := strings.Split(l, ","); len(f) > 2 {
				fs = append(fs, f[2]+"="+f[0])
			}
		}
		return strings.Join(fs, " ")
	}
}

// cpuSeconds returns a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "Linux " + strings.TrimSpace(string(b))
}

func openvpnVersion() string {
	out, err := exec.CommandContext(context.Background(), "openvpn", "--version").Output()
	if err != nil {
		return "?"
	}
	l, _, _ := strings.Cut(string(out), "\n")
	return l
}
