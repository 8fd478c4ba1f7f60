package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StopTimeout is the default of Proc.StopTimeout.
const StopTimeout = 5 * time.Second

// LogTailLines is how many last lines of a log a failure message shows.
var LogTailLines = 40

// logPoll is how often WaitLog rereads a log file.
const logPoll = 20 * time.Millisecond

// Proc is a program running inside a namespace with its stdout and stderr
// going to a log file. Its methods are safe for concurrent use; those that
// take a testing.TB must be called from the test's goroutine.
type Proc struct {
	// Name identifies the process in messages and names its log file.
	Name string
	// NS is the namespace the process runs in.
	NS *NS
	// LogPath is the file that receives stdout and stderr.
	LogPath string
	// StopTimeout is how long Stop waits after SIGTERM before it sends
	// SIGKILL (default StopTimeout). Set it before Stop runs.
	StopTimeout time.Duration

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// Start runs prog with args inside the namespace (`ip netns exec NAME prog
// args...`), stdout and stderr to NAME.log in a new t.TempDir(). It skips t
// if prog is not installed (see RequireBinary). In t.Cleanup the process is
// stopped (SIGTERM, then SIGKILL after StopTimeout) and, if t failed or
// panicked, the tail of its log is written with t.Log.
func (ns *NS) Start(t testing.TB, name, prog string, args ...string) *Proc {
	t.Helper()
	RequireBinary(t, prog)
	p, err := ns.StartLogged(filepath.Join(t.TempDir(), fileSafe(name)+".log"), name, prog, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() || panicking() {
			t.Logf("lab: %s (%s in %s) log %s, last %d lines:\n%s", p.Name, prog, ns.Role, p.LogPath,
				LogTailLines, p.Tail(LogTailLines))
		}
	})
	return p
}

// panicking reports whether the calling goroutine is running the deferred
// calls of a panic. The testing package runs cleanups that way when a test
// panics, and t.Failed() is still false at that point.
func panicking() bool {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	return bytes.Contains(buf, []byte("\npanic("))
}

// StartLogged is Start without a testing.TB: the caller chooses the log
// file and must call Stop.
func (ns *NS) StartLogged(logPath, name, prog string, args ...string) (*Proc, error) {
	path, err := lookPath(prog)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab: creating the log of %s: %w", name, err)
	}
	defer f.Close() // the child holds its own copy
	cmd := ns.Command(context.Background(), path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so Stop can kill what the program started.
	cmd.SysProcAttr.Setpgid = true
	if err := startPinned(cmd); err != nil {
		return nil, fmt.Errorf("lab: starting %s (%s) in %s: %w", name, prog, ns.Name, err)
	}
	p := &Proc{Name: name, NS: ns, LogPath: logPath, StopTimeout: StopTimeout, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id (of prog itself: `ip netns exec` replaces
// itself with prog).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and if so its wait error
// (nil for exit status 0).
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Wait waits up to timeout for the process to exit by itself and returns
// its wait error (nil for exit status 0).
func (p *Proc) Wait(timeout time.Duration) error {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	select {
	case <-p.done:
		return p.err
	case <-tm.C:
		return fmt.Errorf("lab: %s still running after %v: stop it or wait longer", p.Name, timeout)
	}
}

// Signal sends sig to the process (e.g. SIGHUP or SIGUSR1 for an openvpn
// restart).
func (p *Proc) Signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("lab: signalling %s: %w", p.Name, err)
	}
	return nil
}

// Stop ends the process: SIGTERM, then SIGKILL to its whole process group
// after p.StopTimeout. It returns nil once the process is gone, whatever its
// exit status; calling it again is harmless.
func (p *Proc) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	tm := time.NewTimer(p.StopTimeout)
	defer tm.Stop()
	select {
	case <-p.done:
		return nil
	case <-tm.C:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	tm.Reset(StopTimeout)
	select {
	case <-p.done:
		return fmt.Errorf("lab: %s ignored SIGTERM for %v and was killed", p.Name, p.StopTimeout)
	case <-tm.C:
		return fmt.Errorf("lab: %s (pid %d) survived SIGKILL", p.Name, p.Pid())
	}
}

// Log returns the whole log so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Tail returns the last n lines of the log.
func (p *Proc) Tail(n int) string { return tail(p.Log(), n) }

func tail(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// WaitLog waits until a line of the log matches the regular expression
// pattern and returns that line's submatches (index 0: the match). It fails
// t at once, with the log's tail, if the process exits without printing such
// a line, and after timeout otherwise.
func (p *Proc) WaitLog(t testing.TB, pattern string, timeout time.Duration) []string {
	t.Helper()
	m, err := p.AwaitLog(regexp.MustCompile(pattern), 1, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return m[0]
}

// WaitLogN is WaitLog for the n-th matching line (for instance the second
// "Initialization Sequence Completed" after a restart). It returns the
// submatches of the first n matching lines.
func (p *Proc) WaitLogN(t testing.TB, pattern string, n int, timeout time.Duration) [][]string {
	t.Helper()
	m, err := p.AwaitLog(regexp.MustCompile(pattern), n, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ErrExited is wrapped by AwaitLog's error when the process exited before
// the awaited line appeared.
var ErrExited = errors.New("process exited")

// AwaitLog is WaitLogN that returns an error instead of failing a test, so
// it may be called from any goroutine.
func (p *Proc) AwaitLog(re *regexp.Regexp, n int, timeout time.Duration) ([][]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(logPoll)
	defer tick.Stop()
	for {
		// Check for exit before reading, so the last read sees everything
		// the process wrote.
		exited := false
		select {
		case <-p.done:
			exited = true
		default:
		}
		if m := matchLines(p.Log(), re, n, exited); len(m) == n {
			return m, nil
		}
		if exited {
			return nil, fmt.Errorf("lab: %s exited (%v) before logging %q: %w; last %d lines of %s:\n%s",
				p.Name, p.err, re, ErrExited, LogTailLines, p.LogPath, p.Tail(LogTailLines))
		}
		select {
		case <-deadline.C:
			return nil, fmt.Errorf("lab: %s did not log %q within %v; last %d lines of %s:\n%s",
				p.Name, re, timeout, LogTailLines, p.LogPath, p.Tail(LogTailLines))
		case <-p.done:
		case <-tick.C:
		}
	}
}

// matchLines returns the submatches of the first n lines of s that match
// re. A last line without "\n" counts only when final is set: until then it
// may still grow.
func matchLines(s string, re *regexp.Regexp, n int, final bool) [][]string {
	var out [][]string
	for len(s) > 0 && len(out) < n {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			if !final {
				break
			}
			i = len(s)
		}
		if m := re.FindStringSubmatch(s[:i]); m != nil {
			out = append(out, m)
		}
		s = s[min(i+1, len(s)):]
	}
	return out
}

// spawner is a goroutine locked for ever to one OS thread, which starts the
// long-lived children. The kernel sends a child its Pdeathsig (see
// NS.Command) when the *thread* that forked it exits, and the Go runtime
// ends threads whose goroutine exits locked; forking from a thread that
// never exits ties the children to the test process alone.
var spawner = sync.OnceValue(func() chan<- func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: this goroutine never ends
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startPinned starts cmd from the spawner's thread.
func startPinned(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawner() <- func() { errc <- cmd.Start() }
	return <-errc
}
