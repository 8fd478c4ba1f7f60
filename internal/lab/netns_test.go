package lab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func nsExists(name string) bool {
	_, err := os.Stat(netnsDir + "/" + name)
	return err == nil
}

// alive reports whether pid exists and is not a zombie (orphans are reaped
// by pid 1, which may take its time).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

// waitGone polls until pid has died.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process
	}
}

func TestTopologies(t *testing.T) {
	RequireRoot(t)
	RequireBinary(t, "ping")
	tests := []struct {
		name    string
		opts    []NetOption
		nsCount int
		server  string // server's IPv4
	}{
		{"direct", nil, 2, "10.200.0.1"},
		{"three clients", []NetOption{Clients(3)}, 5, "10.200.0.1"},
		{"routed", []NetOption{Routed()}, 3, "10.202.0.2"},
		{"routed two clients", []NetOption{Routed(), Clients(2)}, 5, "10.202.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNet(t, tc.opts...)
			if got := len(n.Names()); got != tc.nsCount {
				t.Errorf("%d namespaces, want %d", got, tc.nsCount)
			}
			for _, name := range n.Names() {
				if !nsExists(name) {
					t.Errorf("namespace %s does not exist", name)
				}
			}
			if n.Server.IPv4.String() != tc.server {
				t.Errorf("server IPv4 %s, want %s", n.Server.IPv4, tc.server)
			}
			for _, c := range n.Clients {
				c.Ping(t, n.Server.IPv4, 1)
				c.Ping(t, n.Server.IPv6, 1)
			}
			if len(n.Clients) > 1 {
				n.Clients[1].Ping(t, n.Clients[0].IPv6, 1)
			}
		})
	}
}

// TestCleanupAfterSubtest checks that a subtest's namespaces are gone as
// soon as the subtest has ended.
func TestCleanupAfterSubtest(t *testing.T) {
	RequireRoot(t)
	var names []string
	t.Run("sub", func(t *testing.T) {
		n := NewNet(t, Routed())
		names = n.Names()
		n.Client.Start(t, "sleeper", "sleep", "60")
	})
	if len(names) != 3 {
		t.Fatalf("subtest made namespaces %v", names)
	}
	live, err := ListNamespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if nsExists(name) || slices.Contains(live, name) {
			t.Errorf("namespace %s still exists after its subtest ended", name)
		}
	}
}

// The helper test runs only in a child process started by
// TestCleanupHelperProcess; it makes a net, starts a process in it, prints
// both and then fails, panics or blocks until killed.
const helperEnv = "LAB_HELPER_MODE"

func TestLabHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only runs as the helper process of TestCleanupHelperProcess")
	}
	n := NewNet(t)
	p := n.Client.Start(t, "sleeper", "sh", "-c", "echo helper-log-line; exec sleep 300")
	p.WaitLog(t, "helper-log-line", 10*time.Second)
	fmt.Printf("LABNAMES %s\nLABPID %d\n", strings.Join(n.Names(), " "), p.Pid())
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "block":
		io.Copy(io.Discard, os.Stdin) // until killed
	}
}

// runHelper starts the helper in mode and returns the namespaces and the
// pid it reported, and the process (already waited for unless kill).
func runHelper(t *testing.T, mode string, kill bool) (names []string, pid int, output string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLabHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		b.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(line, "LABNAMES "); ok {
			names = strings.Fields(rest)
		}
		if rest, ok := strings.CutPrefix(line, "LABPID "); ok {
			pid, _ = strconv.Atoi(rest)
			if kill {
				cmd.Process.Kill()
			}
		}
	}
	err = cmd.Wait()
	if err == nil {
		t.Fatalf("helper in mode %s succeeded; output:\n%s", mode, b.String())
	}
	if len(names) == 0 || pid == 0 {
		t.Fatalf("helper in mode %s reported no namespaces or pid (%v); output:\n%s", mode, err, b.String())
	}
	return names, pid, b.String()
}

// TestCleanupHelperProcess runs a test binary that fails, panics or is
// SIGKILLed while it owns namespaces and a process, and checks that the
// namespaces and the process are gone afterwards: removed by t.Cleanup, or
// killed by the parent-death signal and swept by the next lab user.
func TestCleanupHelperProcess(t *testing.T) {
	RequireRoot(t)
	for _, mode := range []string{"fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			names, pid, out := runHelper(t, mode, false)
			for _, name := range names {
				if nsExists(name) {
					t.Errorf("namespace %s outlived the %s test", name, mode)
				}
			}
			waitGone(t, pid)
			if !strings.Contains(out, "helper-log-line") || !strings.Contains(out, "log ") {
				t.Errorf("the failed helper did not dump the process log; output:\n%s", out)
			}
		})
	}
	t.Run("killed", func(t *testing.T) {
		names, pid, _ := runHelper(t, "block", true)
		// The child dies with its parent (Pdeathsig) even though no cleanup ran.
		waitGone(t, pid)
		left := 0
		for _, name := range names {
			if nsExists(name) {
				left++
			}
		}
		if left == 0 {
			t.Log("namespaces already swept (by a concurrently running lab user)")
		}
		if err := sweepStale(); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if nsExists(name) {
				t.Errorf("namespace %s of the killed helper survived the sweep", name)
			}
		}
	})
}

// TestSweepStale makes namespaces named as if by dead processes and checks
// the sweep deletes them, and not the live ones.
func TestSweepStale(t *testing.T) {
	RequireRoot(t)
	n := NewNet(t) // live: must survive
	stale := []string{
		// A pid above any pid_max (the start field keeps it unique to us).
		fmt.Sprintf("%s9999999-%d-1", Prefix, os.Getpid()),
		// Our pid with another start time: a reused pid.
		fmt.Sprintf("%s%d-zzzzzz-1", Prefix, os.Getpid()),
	}
	for _, name := range stale {
		if _, err := ipCmd("netns", "add", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteNS(name) })
	}
	if err := sweepStale(); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if nsExists(name) {
			t.Errorf("stale namespace %s survived the sweep", name)
		}
	}
	for _, name := range n.Names() {
		if !nsExists(name) {
			t.Errorf("live namespace %s was swept", name)
		}
	}
}

// exchange sends one datagram from cli to srv and back, and returns the
// source address srv saw.
func exchange(t *testing.T, cli, srv *net.UDPConn, msg string) netip.AddrPort {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	if _, err := cli.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	srv.SetReadDeadline(deadline)
	n, from, err := srv.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != msg {
		t.Fatalf("server read %q, %v; want %q", buf[:n], err, msg)
	}
	if _, err := srv.WriteToUDPAddrPort([]byte("re:"+msg), from); err != nil {
		t.Fatal(err)
	}
	cli.SetReadDeadline(deadline)
	n, err = cli.Read(buf)
	if err != nil || string(buf[:n]) != "re:"+msg {
		t.Fatalf("client read %q, %v; the reply did not come back through the NAT", buf[:n], err)
	}
	return netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
}

// TestNATRebinding moves one client socket's mapping on the router and
// checks what the server sees, over IPv4 and IPv6, with sockets opened
// inside the namespaces through NS.Do.
func TestNATRebinding(t *testing.T) {
	RequireRoot(t)
	RequireBinary(t, "nft")
	n := NewNet(t, Routed())
	r := n.Router.Links[1]
	tests := []struct {
		family         string
		server, client netip.Addr
		router, other  netip.Addr
	}{
		{"udp4", n.Server.IPv4, n.Client.IPv4, r.IPv4.Addr(), netip.MustParseAddr("10.202.0.77")},
		{"udp6", n.Server.IPv6, n.Client.IPv6, r.IPv6.Addr(), netip.MustParseAddr("fd00:202::77")},
	}
	for _, tc := range tests {
		t.Run(tc.family, func(t *testing.T) {
			var srv, cli *net.UDPConn
			if err := n.Server.Do(func() (err error) {
				srv, err = net.ListenUDP(tc.family, net.UDPAddrFromAddrPort(netip.AddrPortFrom(tc.server, 9000)))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if err := n.Client.Do(func() (err error) {
				cli, err = net.DialUDP(tc.family, nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(tc.server, 9000)))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			local := cli.LocalAddr().(*net.UDPAddr).AddrPort()

			if got := exchange(t, cli, srv, "plain"); got.Addr() != tc.client || got.Port() != local.Port() {
				t.Errorf("without NAT the server saw %v, want %v", got, local)
			}
			steps := []struct {
				to   netip.AddrPort
				want netip.AddrPort
			}{
				{netip.AddrPortFrom(tc.router, 40001), netip.AddrPortFrom(tc.router, 40001)},
				{netip.AddrPortFrom(tc.other, 40002), netip.AddrPortFrom(tc.other, 40002)},
				{netip.AddrPortFrom(tc.router, 40003), netip.AddrPortFrom(tc.router, 40003)},
			}
			for i, s := range steps {
				n.SNAT(t, s.to)
				if got := exchange(t, cli, srv, fmt.Sprint("snat", i)); got != s.want {
					t.Errorf("after SNAT(%v) the server saw %v", s.to, got)
				}
			}
			n.Masquerade(t)
			if got := exchange(t, cli, srv, "masq"); got.Addr() != tc.router {
				t.Errorf("after Masquerade the server saw %v, want %v", got, tc.router)
			}
			n.ClearNAT(t)
			if got := exchange(t, cli, srv, "clear"); got.Addr() != tc.client {
				t.Errorf("after ClearNAT the server saw %v, want %v", got, tc.client)
			}
		})
	}
}

func TestSNATNeedsRouter(t *testing.T) {
	RequireRoot(t)
	n := NewNet(t)
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != ft {
				panic(r)
			}
		}()
		n.Masquerade(ft)
	}()
	if !strings.Contains(ft.msg, "lab.Routed()") {
		t.Errorf("message %q does not say what to do", ft.msg)
	}
}

// fatalRecorder records a Fatal instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}

func (f *fatalRecorder) Helper() {}

func TestProc(t *testing.T) {
	RequireRoot(t)
	n := NewNet(t)

	p := n.Server.Start(t, "talker", "sh", "-c", "echo hello; for i in 1 2 3; do echo tick $i; done; echo ready 42; exec sleep 60")
	if m := p.WaitLog(t, `ready (\d+)`, 10*time.Second); m[1] != "42" {
		t.Errorf("WaitLog submatch %q, want 42", m)
	}
	if m := p.WaitLogN(t, `tick (\d)`, 3, time.Second); len(m) != 3 || m[2][1] != "3" {
		t.Errorf("WaitLogN = %q", m)
	}
	if ok, _ := p.Exited(); ok {
		t.Fatal("talker exited early")
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if ok, _ := p.Exited(); !ok {
		t.Error("talker still running after Stop")
	}
	if !strings.Contains(p.Log(), "hello\n") {
		t.Errorf("log %q lacks the output", p.Log())
	}

	// A process that dies makes AwaitLog fail at once, with its log.
	d := n.Server.Start(t, "dies", "sh", "-c", "echo last words; exit 3")
	start := time.Now()
	_, err := d.AwaitLog(regexp.MustCompile("never printed"), 1, 30*time.Second)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "last words") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("AwaitLog on a dead process: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("AwaitLog took %v to notice the exit", time.Since(start))
	}

	// A line that never comes times out.
	q := n.Server.Start(t, "quiet", "sleep", "60")
	if _, err := q.AwaitLog(regexp.MustCompile("never"), 1, 100*time.Millisecond); err == nil || errors.Is(err, ErrExited) {
		t.Errorf("AwaitLog timeout: %v", err)
	}

	// A process ignoring SIGTERM is killed, with its children.
	s := n.Server.Start(t, "stubborn", "sh", "-c", `trap "" TERM; echo armed; sleep 60 & wait; wait`)
	s.WaitLog(t, "armed", 10*time.Second)
	s.StopTimeout = 200 * time.Millisecond
	if err := s.Stop(); err == nil || !strings.Contains(err.Error(), "ignored SIGTERM") {
		t.Errorf("Stop of a stubborn process: %v", err)
	}
	out, _ := ipCmd("netns", "pids", n.Server.Name)
	for _, f := range strings.Fields(out) {
		pid, _ := strconv.Atoi(f)
		if pid == q.Pid() {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), "sleep") {
			waitGone(t, pid)
		}
	}
}

func TestStartMissingProgram(t *testing.T) {
	RequireRoot(t)
	n := NewNet(t)
	_, err := n.Server.StartLogged(t.TempDir()+"/x.log", "x", "no-such-program-lab")
	if err == nil || !strings.Contains(err.Error(), "no-such-program-lab") {
		t.Errorf("StartLogged of a missing program: %v", err)
	}
}

// TestDoKeepsChildren: processes started by the lab survive any number of
// NS.Do calls from any goroutine. (Children get Pdeathsig, which the kernel
// sends when the forking thread exits; Do used to end its locked thread,
// and a reference openvpn forked earlier on that thread died with it.)
func TestDoKeepsChildren(t *testing.T) {
	RequireRoot(t)
	n := NewNet(t)
	var procs []*Proc
	for i := range 8 {
		procs = append(procs, n.Server.Start(t, fmt.Sprintf("sleeper-%d", i), "sleep", "60"))
	}
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Client.Do(func() error { return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	for _, p := range procs {
		if ok, err := p.Exited(); ok {
			t.Fatalf("%s died: %v", p.Name, err)
		}
	}
}
