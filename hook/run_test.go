package hook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestRunner(t *testing.T, sec Security) (*Runner, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	return &Runner{
		Security:     sec,
		TmpDir:       tmp,
		PollInterval: 5 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, lb
}

// writeScript writes an executable /bin/sh script and returns it as a hook
// command with args. The variable $D in body is the script's directory.
func writeScript(t *testing.T, body string, args ...string) *config.Script {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hook.sh")
	text := "#!/bin/sh\nD=" + dir + "\n" + body + "\n"
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return &config.Script{Command: path + " " + strings.Join(args, " "), Path: path, Args: args}
}

// dumpScript records its arguments and its exact environment (as execve
// passed it) in $D/args and $D/env, NUL-separated, then runs tail.
func dumpScript(t *testing.T, tail string, args ...string) (*config.Script, func() (argv, env []string)) {
	t.Helper()
	s := writeScript(t, `for a in "$@"; do printf '%s\0' "$a"; done > "$D/args"
cat /proc/$$/environ > "$D/env"
`+tail, args...)
	dir := filepath.Dir(s.Path)
	return s, func() ([]string, []string) {
		return readNULList(t, filepath.Join(dir, "args")), readNULList(t, filepath.Join(dir, "env"))
	}
}

func readNULList(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("script output: %v", err)
	}
	if len(b) == 0 {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

func TestRunArgvAndEnvironment(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, "", "fixed arg", "$(touch pwned)")
	e := NewEnv()
	e.Set("common_name", "alice smith")
	e.Set("password", "secret")
	e.Set("dev", "tun0")
	before := e.Vars()
	res, err := r.Run(t.Context(), s, TypeUp, e, "x y", "", ";id")
	if err != nil || !res.Ran || res.Status != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	argv, env := dump()
	if want := []string{"fixed arg", "$(touch pwned)", "x y", "", ";id"}; !slices.Equal(argv, want) {
		t.Errorf("argv = %q, want %q", argv, want)
	}
	// Exactly the Env (no password at level 2, nothing inherited), with
	// script_type the most recent.
	if want := []string{"script_type=up", "dev=tun0", "common_name=alice smith"}; !slices.Equal(env, want) {
		t.Errorf("environment = %q, want %q", env, want)
	}
	if !slices.Equal(e.Vars(), before) {
		t.Errorf("Run modified the Env: %q", e.Vars())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Path), "pwned")); err == nil {
		t.Error("an argument was interpreted by a shell")
	}
}

func TestRunSecurityLevels(t *testing.T) {
	tests := []struct {
		sec      Security
		ran      bool
		password bool
	}{
		{SecurityNone, false, false},
		{SecurityBuiltIn, false, false},
		{SecurityScripts, true, false},
		{SecurityPasswords, true, true},
	}
	for _, tt := range tests {
		r, lb := newTestRunner(t, tt.sec)
		s, dump := dumpScript(t, "")
		e := NewEnv()
		e.Set("password", "pw")
		for range 2 {
			res, err := r.Run(t.Context(), s, TypeRouteUp, e)
			if tt.ran != (err == nil) || res.Ran != tt.ran {
				t.Fatalf("level %d: Run = %+v, %v", tt.sec, res, err)
			}
			if !tt.ran && !errors.Is(err, ErrNotAllowed) {
				t.Errorf("level %d: error %v is not ErrNotAllowed", tt.sec, err)
			}
		}
		log := lb.String()
		if !tt.ran {
			if n := strings.Count(log, "External program may not be called unless '--script-security 2' or higher is enabled"); n != 1 {
				t.Errorf("level %d: security warning logged %d times:\n%s", tt.sec, n, log)
			}
			if !strings.Contains(log, "WARNING: Failed running command (--route-up): disallowed by script-security setting") {
				t.Errorf("level %d: no failure line:\n%s", tt.sec, log)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(s.Path), "env")); err == nil {
				t.Errorf("level %d: the script ran", tt.sec)
			}
			continue
		}
		_, env := dump()
		if got := slices.Contains(env, "password=pw"); got != tt.password {
			t.Errorf("level %d: password passed = %v", tt.sec, got)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		body   string
		status int
		msg    string
	}{
		{"exit 0", 0, ""},
		{"exit 1", 1, "hook: failed running command (--up/--down): external program exited with error status: 1"},
		{"exit 2", 2, "external program exited with error status: 2"},
		{"exit 127", 127, "could not execute external program"},
		{"kill -KILL $$", -1, "external program did not exit normally"},
	}
	for _, tt := range tests {
		r, lb := newTestRunner(t, SecurityScripts)
		res, err := r.Run(t.Context(), writeScript(t, tt.body), TypeDown, NewEnv())
		if res.Status != tt.status || !res.Ran {
			t.Errorf("%q: Status = %d, want %d", tt.body, res.Status, tt.status)
		}
		if tt.status == 0 {
			if err != nil {
				t.Errorf("%q: %v", tt.body, err)
			}
			continue
		}
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Status != tt.status || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: error %v, want an ExitError with %q", tt.body, err, tt.msg)
		}
		if !strings.Contains(lb.String(), "WARNING: Failed running command (--up/--down)") {
			t.Errorf("%q: failure not logged", tt.body)
		}
	}
}

func TestRunCannotExecute(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "not-executable")
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing"), plain, "/bin/sh-does-not-exist"} {
		r, _ := newTestRunner(t, SecurityScripts)
		res, err := r.Run(t.Context(), &config.Script{Path: path}, TypeIPChange, nil)
		var ee *ExitError
		if err == nil || errors.As(err, &ee) || res.Ran || res.Status != -1 {
			t.Errorf("%s: Run = %+v, %v", path, res, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "hook: failed running command (--ipchange): could not execute external program") {
			t.Errorf("%s: error %q", path, err)
		}
	}
}

func TestRunNoPathSearch(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	// "sh" exists in PATH, but openvpn execs the name as a path.
	r.Dir = t.TempDir()
	if _, err := r.Run(t.Context(), &config.Script{Path: "sh", Args: []string{"-c", "exit 0"}}, TypeUp, nil); err == nil {
		t.Error("a bare command name was looked up in PATH")
	}
}

func TestRunRelativeToDir(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s := writeScript(t, `pwd > "$D/pwd"`)
	r.Dir = filepath.Dir(s.Path)
	if _, err := r.Run(t.Context(), &config.Script{Path: "./hook.sh"}, TypeUp, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(r.Dir, "pwd"))
	if got := strings.TrimSpace(string(b)); got != r.Dir {
		t.Errorf("working directory %q, want %q", got, r.Dir)
	}
}

func TestRunTimeout(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	r.Timeout = 100 * time.Millisecond
	start := time.Now()
	res, err := r.Run(t.Context(), writeScript(t, "exec sleep 30"), TypeLearnAddress, nil)
	if !errors.Is(err, ErrTimeout) || !res.Ran || res.Status != -1 {
		t.Errorf("Run = %+v, %v; want ErrTimeout", res, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v", d)
	}
}

func TestRunContext(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s, _ := dumpScript(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := r.Run(ctx, s, TypeUp, nil)
	if !errors.Is(err, context.Canceled) || res.Ran {
		t.Errorf("cancelled context: Run = %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Path), "env")); err == nil {
		t.Error("the script ran with a cancelled context")
	}
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = r.Run(ctx, writeScript(t, "exec sleep 30"), TypeUp, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
}

// A deferring script leaves a background process that inherits its output;
// Run must return when the script itself exits.
func TestRunBackgroundChild(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s := writeScript(t, `sleep 30 &
echo $! > "$D/pid"
echo started
exit 0`)
	t.Cleanup(func() {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Path), "pid"))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	start := time.Now()
	res, err := r.Run(t.Context(), s, TypeUserPassVerify, nil)
	if err != nil || string(res.Output) != "started\n" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run waited for the background process: %v", d)
	}
}

func TestRunOutput(t *testing.T) {
	r, lb := newTestRunner(t, SecurityScripts)
	res, err := r.Run(t.Context(), writeScript(t, "echo out; echo err >&2"), TypeRouteUp, nil)
	if err != nil || string(res.Output) != "out\nerr\n" {
		t.Fatalf("Run = %q, %v", res.Output, err)
	}
	for _, want := range []string{"route-up script output: out", "route-up script output: err"} {
		if !strings.Contains(lb.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, lb.String())
		}
	}
	r.OutputLimit = 4
	res, _ = r.Run(t.Context(), writeScript(t, "echo 0123456789"), TypeRouteUp, nil)
	if string(res.Output) != "0123" {
		t.Errorf("limited output %q", res.Output)
	}
}

func TestRunNilScript(t *testing.T) {
	r := &Runner{Security: SecurityNone}
	if res, err := r.Run(t.Context(), nil, TypeUp, nil); err != nil || res.Ran {
		t.Errorf("nil script: %+v, %v", res, err)
	}
}

func TestNewRunnerAndNotes(t *testing.T) {
	r := NewRunner(config.Scripts{Security: 3, TmpDir: "/dev/shm"}, "/etc/openvpn", nil)
	if r.Security != SecurityPasswords || r.TmpDir != "/dev/shm" || r.Dir != "/etc/openvpn" {
		t.Errorf("NewRunner = %+v", r)
	}
	if !strings.Contains(SecurityNote(2), "may allow this configuration to call user-defined scripts") ||
		!strings.Contains(SecurityNote(1), "'--script-security 2' or higher is required") {
		t.Error("SecurityNote texts")
	}
}
