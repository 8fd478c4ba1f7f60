package hook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// Script types: the values of script_type.
const (
	TypeUp               = "up"
	TypeDown             = "down"
	TypeRouteUp          = "route-up"
	TypeRoutePreDown     = "route-pre-down"
	TypeIPChange         = "ipchange"
	TypeTLSVerify        = "tls-verify"
	TypeUserPassVerify   = "user-pass-verify"
	TypeClientConnect    = "client-connect"
	TypeClientDisconnect = "client-disconnect"
	TypeClientCRResponse = "client-crresponse"
	TypeLearnAddress     = "learn-address"
	TypeTLSCryptV2Verify = "tls-crypt-v2-verify"
)

const (
	defaultOutputLimit  = 64 << 10
	defaultPollInterval = 250 * time.Millisecond
	// securityWarning is openvpn's SCRIPT_SECURITY_WARNING, logged once.
	securityWarning = "WARNING: External program may not be called unless '--script-security 2' or higher is enabled. See --help text or man page for detailed info."
	// passwordWarning is ours: openvpn 2.6 silently withholds the password.
	passwordWarning = "WARNING: auth-user-pass-verify via-env: the password is not passed to the script unless '--script-security 3' or higher is enabled"
	// Temporary files are named like openvpn's: openvpn_<prefix>_<hex>.tmp.
	tempFileAttempts    = 6
	tempFileRandomBytes = 16
)

// Errors returned (wrapped) by the Runner.
var (
	// ErrNotAllowed: the script-security level forbids running scripts.
	ErrNotAllowed = errors.New("disallowed by script-security setting")
	// ErrTimeout: the script ran longer than Runner.Timeout and was killed.
	ErrTimeout = errors.New("script timed out")
)

// ExitError reports a script that ran and did not exit with status 0, or
// did not exit normally (Status -1).
type ExitError struct {
	// Hook is openvpn's name for the hook in its messages ("--up/--down",
	// "--client-connect"...).
	Hook string
	// Status is the exit status, or -1 when the script was killed by a
	// signal.
	Status int
}

func (e *ExitError) Error() string {
	return "hook: failed running command (" + e.Hook + "): " + e.detail()
}

// detail is openvpn's system_error_message for the status.
func (e *ExitError) detail() string {
	switch e.Status {
	case -1:
		return "external program did not exit normally"
	case 127:
		return "could not execute external program"
	}
	return fmt.Sprintf("external program exited with error status: %d", e.Status)
}

// Result is what a script run produced.
type Result struct {
	// Ran tells whether a process was started.
	Ran bool
	// Status is the exit status when the process exited, -1 when it was
	// killed by a signal or did not start.
	Status int
	// Output is the script's standard output and standard error, at most
	// Runner.OutputLimit bytes; it is also written to the log.
	Output []byte
}

// Runner runs scripts with openvpn's rules. Configure the exported fields
// before first use; after that a Runner is safe for concurrent use and must
// not be copied.
type Runner struct {
	// Security is the script-security level: below SecurityScripts nothing
	// is run (the first refusal logs openvpn's warning); below
	// SecurityPasswords the password* variables are withheld.
	Security Security
	// Dir is the working directory of scripts (openvpn runs them in its own
	// directory, the one of "cd"); "" keeps the current directory.
	// A relative script path is resolved against it.
	Dir string
	// TmpDir ("tmp-dir") is where via-file credentials and the deferred
	// authentication and client-connect files are created; "" means
	// os.TempDir().
	TmpDir string
	// Timeout bounds one script run (0: no bound beyond the context). A
	// script still running is killed. openvpn itself waits for ever.
	Timeout time.Duration
	// PollInterval is how often Deferred.Wait and DeferredConnect.Wait
	// look at the control files (0: 250 ms).
	PollInterval time.Duration
	// OutputLimit caps the captured output of one run (0: 64 KiB).
	OutputLimit int
	// Logger receives the script output, the warnings and a debug line per
	// run (nil discards them).
	Logger *slog.Logger

	warnedSecurity atomic.Bool
	warnedPassword atomic.Bool
}

// NewRunner returns a Runner for a configuration's scripts: its
// script-security level and tmp-dir, with dir as working directory.
func NewRunner(s config.Scripts, dir string, log *slog.Logger) *Runner {
	return &Runner{Security: Security(s.Security), Dir: dir, TmpDir: s.TmpDir, Logger: log}
}

// SecurityNote is the note openvpn 2.6 logs at start-up when a
// configuration uses scripts (init.c do_option_warnings), for level sec.
func SecurityNote(sec Security) string {
	if sec >= SecurityScripts {
		return "NOTE: the current --script-security setting may allow this configuration to call user-defined scripts"
	}
	return "NOTE: starting with OpenVPN 2.1, '--script-security 2' or higher is required to call user-defined scripts or executables"
}

// hookName is openvpn's name for a script type in "Failed running command"
// messages.
func hookName(typ string) string {
	switch typ {
	case TypeUp, TypeDown, TypeRoutePreDown:
		return "--up/--down"
	case TypeTLSVerify:
		return "--tls-verify script"
	case TypeUserPassVerify:
		return "--auth-user-pass-verify"
	}
	return "--" + typ
}

// Run runs script s as hook typ (the script_type value, e.g. [TypeUp]) with
// the variables of env plus script_type, and args appended to the script's
// own arguments. env is not modified. A nil s does nothing and succeeds.
//
// The command is executed directly, never through a shell, with no
// variable of the calling process. Run returns when the script exits, when
// ctx is done or when Runner.Timeout passes (the script is then killed); a
// background process the script started may keep running, as with
// openvpn. The error is nil only for exit status 0; otherwise it wraps
// ErrNotAllowed, ErrTimeout, the context's error or the exec error, or is
// an *ExitError. Result is meaningful in every case. Failures are logged in
// openvpn's words ("WARNING: Failed running command (--route-up):
// external program exited with error status: 1"), so callers that only
// warn need not log the error again.
func (r *Runner) Run(ctx context.Context, s *config.Script, typ string, env *Env, args ...string) (Result, error) {
	res := Result{Status: -1}
	if s == nil {
		return Result{}, nil
	}
	hook := hookName(typ)
	if r.Security < SecurityScripts {
		if r.warnedSecurity.CompareAndSwap(false, true) {
			r.log().Warn(securityWarning)
		}
		r.log().Warn(fmt.Sprintf("WARNING: Failed running command (%s): %s", hook, ErrNotAllowed))
		return res, fmt.Errorf("hook: failed running command (%s): %w", hook, ErrNotAllowed)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("hook: failed running command (%s): %w", hook, err)
	}
	full := env.Clone()
	if full == nil {
		full = NewEnv()
	}
	full.Set("script_type", typ)
	argv := append(append([]string{s.Path}, s.Args...), args...)

	out, err := os.CreateTemp("", "openvpn-go-hook-*.out")
	if err != nil {
		return res, fmt.Errorf("hook: %s: capturing the output: %w", hook, err)
	}
	os.Remove(out.Name())
	defer out.Close()

	cmd := &exec.Cmd{
		Path:   s.Path, // execve semantics: no PATH search
		Args:   argv,
		Env:    full.Environ(r.Security),
		Dir:    r.Dir,
		Stdout: out,
		Stderr: out,
	}
	r.log().Debug("executing "+typ+" script", "argv", argv)
	if err := cmd.Start(); err != nil {
		r.log().Warn(fmt.Sprintf("WARNING: Failed running command (%s): could not execute external program: %v", hook, err))
		return res, fmt.Errorf("hook: failed running command (%s): could not execute external program: %w", hook, err)
	}
	res.Ran = true

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		runCtx, cancel = context.WithTimeoutCause(ctx, r.Timeout, ErrTimeout)
	}
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var stopped error
	select {
	case <-waited:
	case <-runCtx.Done():
		cmd.Process.Kill()
		<-waited
		// A script that exited on its own just before the kill keeps its
		// status.
		if st := cmd.ProcessState; st == nil || !st.Exited() {
			stopped = context.Cause(runCtx)
		}
	}
	res.Output = r.readOutput(out)
	r.logOutput(typ, res.Output)
	if st := cmd.ProcessState; st != nil && st.Exited() {
		res.Status = st.ExitCode()
	}
	if stopped != nil {
		r.log().Warn(fmt.Sprintf("WARNING: Failed running command (%s): %v", hook, stopped))
		return res, fmt.Errorf("hook: failed running command (%s): %w", hook, stopped)
	}
	if res.Status != 0 {
		ee := &ExitError{Hook: hook, Status: res.Status}
		r.log().Warn("WARNING: Failed running command (" + hook + "): " + ee.detail())
		return res, ee
	}
	return res, nil
}

func (r *Runner) readOutput(f *os.File) []byte {
	limit := r.OutputLimit
	if limit <= 0 {
		limit = defaultOutputLimit
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, int64(limit)))
	return b
}

func (r *Runner) logOutput(typ string, out []byte) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, len(out)+1)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
			r.log().Info(typ + " script output: " + line)
		}
	}
}

func (r *Runner) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Runner) tmpDir() string {
	if r.TmpDir == "" {
		return os.TempDir()
	}
	return r.TmpDir
}

func (r *Runner) pollInterval() time.Duration {
	if r.PollInterval <= 0 {
		return defaultPollInterval
	}
	return r.PollInterval
}

// createTempFile creates an empty file of mode 0600 named like openvpn's
// platform_create_temp_file ("openvpn_<prefix>_<hex>.tmp") in dir and
// returns its path; data, if any, is written to it.
func createTempFile(dir, prefix string, data []byte) (string, error) {
	var lastErr error
	for range tempFileAttempts {
		var rnd [tempFileRandomBytes]byte
		rand.Read(rnd[:])
		name := filepath.Join(dir, "openvpn_"+prefix+"_"+hex.EncodeToString(rnd[:])+".tmp")
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			lastErr = err
			continue
		}
		if err != nil {
			return "", fmt.Errorf("hook: creating a temporary file in %s: %w", dir, err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(name)
			return "", fmt.Errorf("hook: writing %s: %w", name, werr)
		}
		return name, nil
	}
	return "", fmt.Errorf("hook: creating a temporary file in %s: %w", dir, lastErr)
}

// removeFiles removes the named files, ignoring empty names and files that
// are already gone, and returns the first other error.
func removeFiles(names ...string) error {
	var first error
	for _, n := range names {
		if n == "" {
			continue
		}
		if err := os.Remove(n); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = fmt.Errorf("hook: removing %s: %w", n, err)
		}
	}
	return first
}
