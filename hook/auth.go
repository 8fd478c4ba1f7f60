package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// AuthStatus is the outcome of a credential check.
type AuthStatus int

// The outcomes of auth-user-pass-verify.
const (
	// AuthRejected: exit status 1 (or anything but 0 and 2), a script that
	// could not run, a deferred check that wrote 0 or was abandoned.
	AuthRejected AuthStatus = iota
	// AuthAccepted: exit status 0, or 1 written to auth_control_file.
	AuthAccepted
	// AuthDeferred: exit status 2, the decision comes later through
	// auth_control_file.
	AuthDeferred
)

func (s AuthStatus) String() string {
	switch s {
	case AuthAccepted:
		return "accepted"
	case AuthDeferred:
		return "deferred"
	}
	return "rejected"
}

// File name prefixes of openvpn's temporary files (openvpn_<prefix>_<hex>.tmp).
const (
	prefixViaFile      = "up"
	prefixAuthControl  = "acf"
	prefixAuthPending  = "apf"
	prefixAuthReason   = "afr"
	prefixConnect      = "cc"
	prefixConnectRet   = "ccr"
	prefixCRResponse   = "cr"
	prefixPeerCert     = "pef"
	prefixTLSCryptMeta = "tls_crypt_v2_metadata_"
)

// Pending is what a deferring script wrote to auth_pending_file: the
// server answers the client with AUTH_PENDING and INFO_PRE,<Extra>.
type Pending struct {
	// Timeout is the first line as openvpn reads it (strtol, then converted
	// to an unsigned 32-bit count of seconds, so "-1" is 4294967295 s). The
	// server clamps it to max(reneg-sec/2, hand-window) minus the time
	// already spent, announces it in "AUTH_PENDING,timeout N" and uses it
	// as the new deadline of the deferred decision.
	Timeout time.Duration
	// Method is the second line: the pending-auth method ("webauth",
	// "openurl", "crtext"), which the client must list in IV_SSO.
	Method string
	// Extra is the third line, sent as INFO_PRE,<Extra>.
	Extra string
}

// pendingLineMax is the fgets buffer openvpn reads auth_pending_file with.
const pendingLineMax = 1024

// ErrPendingFormat reports an auth_pending_file openvpn 2.6 rejects (fewer
// than three lines, or a timeout that reads as 0); the authentication
// fails.
var ErrPendingFormat = errors.New("hook: auth pending file is not valid")

// ParsePending parses the contents of auth_pending_file as openvpn 2.6 does
// (ssl_verify.c key_state_check_auth_pending_file): lines are read with a
// 1024-byte buffer (a longer line counts as several), trailing CR, LF and
// NUL are removed from each of the first three, lines after the third are
// ignored. An empty file means no pending authentication (nil, nil).
func ParsePending(data []byte) (*Pending, error) {
	lines := fgetsLines(data, pendingLineMax)
	if len(lines) == 0 {
		return nil, nil
	}
	if len(lines) < 3 {
		return nil, fmt.Errorf("%w: it is not at least three lines long", ErrPendingFormat)
	}
	for i := range 3 {
		lines[i] = strings.TrimRight(lines[i], "\r\n\x00")
	}
	v := strtol(lines[0])
	if v == 0 {
		return nil, fmt.Errorf("%w: could not parse the timeout %q", ErrPendingFormat, lines[0])
	}
	return &Pending{
		Timeout: time.Duration(uint32(v)) * time.Second,
		Method:  cString(lines[1]),
		Extra:   cString(lines[2]),
	}, nil
}

// fgetsLines splits data as repeated fgets(buf, size) calls would: each
// piece ends after '\n' or after size-1 bytes.
func fgetsLines(data []byte, size int) []string {
	var out []string
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n') + 1
		if n == 0 || n > size-1 {
			n = min(len(data), size-1)
		}
		out = append(out, string(data[:n]))
		data = data[n:]
	}
	return out
}

// cString ends s at its first NUL.
func cString(s string) string { return cutNUL(s) }

// strtol reads a base-10 integer the way C's strtol does: leading white
// space, an optional sign, then digits, stopping at the first other
// character; 0 when there are no digits; saturated at the int64 range.
func strtol(s string) int64 {
	s = cString(s)
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v uint64
	over := false
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
			continue
		}
		v = v*10 + d
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(v)
	case over || v > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(v)
}

// ParseAuthControl reads auth_control_file contents as openvpn does: a
// first byte '1' accepts, '0' rejects, anything else (an empty file
// included) leaves the decision pending.
func ParseAuthControl(data []byte) AuthStatus {
	if len(data) > 0 {
		switch data[0] {
		case '1':
			return AuthAccepted
		case '0':
			return AuthRejected
		}
	}
	return AuthDeferred
}

// ParseFailedReason returns the client reason held in
// auth_failed_reason_file contents: the whole text up to the first NUL, as
// is (a trailing newline included, which openvpn sends too); "" means none.
// The server sends AUTH_FAILED,<reason>.
func ParseFailedReason(data []byte) string { return cString(string(data)) }

// PendingMethodSupported reports whether method appears in the
// comma-separated IV_SSO value of a client (empty items are skipped).
func PendingMethodSupported(ivSSO, method string) bool {
	for m := range strings.SplitSeq(ivSSO, ",") {
		if m != "" && m == method {
			return true
		}
	}
	return false
}

// unsupportedMethodReason is the client reason openvpn sets when the
// pending method is not in IV_SSO (a 128-byte snprintf buffer).
func unsupportedMethodReason(method string) string {
	s := "Authentication failed, required pending auth method '" + method + "' not supported"
	if len(s) > 127 {
		s = s[:127]
	}
	return s
}

// AuthResult is the outcome of [Runner.AuthUserPass].
type AuthResult struct {
	Status AuthStatus
	// Reason is the client reason for a rejection (AUTH_FAILED,<Reason>):
	// the contents of auth_failed_reason_file, or openvpn's message for an
	// unsupported pending method; "" for a plain AUTH_FAILED.
	Reason string
	// Pending is set when a deferring script wrote auth_pending_file.
	Pending *Pending
	// Deferred follows the decision of a deferred check; nil unless
	// Status is AuthDeferred. The caller must Close it.
	Deferred *Deferred
	// Output is the script's output.
	Output []byte
}

// AuthUserPass runs the auth-user-pass-verify script s for the credentials
// a client sent, with method via-env or via-file, as openvpn 2.6 does
// (ssl_verify.c verify_user_pass and verify_user_pass_script):
//
//   - username and password are remapped ([RemapUsername],
//     [RemapPassword]); username is set in env (it stays there for the later
//     scripts of the client, as in openvpn), also with via-file;
//   - via-file writes "username\npassword\n" to a new file of mode 0600 in
//     TmpDir, passes its path as the last argument and removes it after the
//     script;
//   - via-env sets password for the duration of the call; it is withheld
//     from the script below script-security 3 (a warning is logged once;
//     openvpn 2.6 says nothing);
//   - auth_control_file, auth_pending_file and auth_failed_reason_file are
//     created empty in TmpDir and set in env (they stay set, as in openvpn).
//
// Exit status 0 accepts, 2 defers (AuthResult.Deferred then follows
// auth_control_file; if the script wrote auth_pending_file it is parsed now
// and its method checked against the IV_SSO variable of env: an invalid
// file or an unsupported method rejects), anything else rejects with the
// reason of auth_failed_reason_file. A script that could not run rejects
// and the error says why. The env should already hold the variables openvpn
// sets before this script: common_name, untrusted_ip/untrusted_port, the
// peer's certificate variables and its peer info. The caller refuses an
// empty username itself (unless auth-user-pass-optional). A nil s (no
// auth-user-pass-verify) accepts without touching env or files.
func (r *Runner) AuthUserPass(ctx context.Context, s *config.Script, method config.AuthVerifyMethod, env *Env, username, password string) (*AuthResult, error) {
	if s == nil {
		return &AuthResult{Status: AuthAccepted}, nil
	}
	if env == nil {
		env = NewEnv()
	}
	username, password = RemapUsername(username), RemapPassword(password)
	env.Set("username", username)
	var args []string
	if method == config.ViaFile {
		path, err := createTempFile(r.tmpDir(), prefixViaFile, []byte(username+"\n"+password+"\n"))
		if err != nil {
			return &AuthResult{}, fmt.Errorf("hook: could not write username/password to file: %w", err)
		}
		defer os.Remove(path)
		args = append(args, path)
	} else {
		env.Set("password", password)
		defer env.Del("password")
		if r.Security >= SecurityScripts && r.Security < SecurityPasswords && r.warnedPassword.CompareAndSwap(false, true) {
			r.log().Warn(passwordWarning)
		}
	}
	d, err := r.newDeferred()
	if err != nil {
		return &AuthResult{}, fmt.Errorf("hook: could not create deferred auth control file: %w", err)
	}
	env.Set("auth_control_file", d.control)
	env.Set("auth_pending_file", d.pending)
	env.Set("auth_failed_reason_file", d.reason)

	res, err := r.Run(ctx, s, TypeUserPassVerify, env, args...)
	out := &AuthResult{Output: res.Output}
	var ee *ExitError
	switch {
	case err == nil:
		out.Status = AuthAccepted
		d.Close()
		return out, nil
	case errors.As(err, &ee) && ee.Status == 2:
	case errors.As(err, &ee):
		out.Reason = d.failedReason()
		d.Close()
		return out, nil
	default:
		d.Close()
		return out, err
	}
	// Deferred: the pending file is read once, now, and removed.
	data, _ := os.ReadFile(d.pending)
	os.Remove(d.pending)
	p, perr := ParsePending(data)
	if perr != nil {
		r.log().Warn(perr.Error())
		d.Close()
		return out, nil
	}
	if p != nil {
		sso, _ := env.Get("IV_SSO")
		if !PendingMethodSupported(sso, p.Method) {
			r.log().Info(fmt.Sprintf("Client does not supported auth pending method '%s'", p.Method))
			out.Reason = unsupportedMethodReason(p.Method)
			d.Close()
			return out, nil
		}
	}
	out.Status, out.Pending, out.Deferred = AuthDeferred, p, d
	return out, nil
}

// AuthDeferredWindow is how long openvpn 2.6 waits for a deferred decision
// before a pending file changes it: hand-window, or half of reneg-sec when
// that is shorter (ssl.c auth_deferred_expire_window). renegSec 0 means
// renegotiation is off.
func AuthDeferredWindow(handWindow, renegSec time.Duration) time.Duration {
	if renegSec > 0 && renegSec/2 < handWindow {
		return renegSec / 2
	}
	return handWindow
}

// Deferred follows a deferred authentication: the script (or a process it
// started) writes 1 or 0 to auth_control_file, and may first write a
// reason to auth_failed_reason_file. It is safe for concurrent use.
type Deferred struct {
	control, pending, reason string
	poll                     time.Duration

	mu      sync.Mutex
	status  AuthStatus
	text    string
	removed bool
}

func (r *Runner) newDeferred() (*Deferred, error) {
	dir := r.tmpDir()
	d := &Deferred{poll: r.pollInterval(), status: AuthDeferred}
	var err error
	if d.control, err = createTempFile(dir, prefixAuthControl, nil); err != nil {
		return nil, err
	}
	if d.pending, err = createTempFile(dir, prefixAuthPending, nil); err != nil {
		d.Close()
		return nil, err
	}
	if d.reason, err = createTempFile(dir, prefixAuthReason, nil); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ControlFile returns the path of auth_control_file.
func (d *Deferred) ControlFile() string { return d.control }

// Poll reads auth_control_file once and returns the decision, with the
// client reason of a rejection (from auth_failed_reason_file). A decision
// is final: later calls return it without reading the files, which are
// removed once it is known. AuthDeferred means no decision yet.
func (d *Deferred) Poll() (AuthStatus, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status != AuthDeferred || d.removed {
		return d.status, d.text
	}
	data, err := readPrefix(d.control, 1)
	if err != nil {
		return AuthDeferred, ""
	}
	switch ParseAuthControl(data) {
	case AuthAccepted:
		d.status = AuthAccepted
	case AuthRejected:
		d.status, d.text = AuthRejected, d.failedReason()
	default:
		return AuthDeferred, ""
	}
	d.removeLocked()
	return d.status, d.text
}

// Wait polls auth_control_file every Runner.PollInterval until a decision
// is written or ctx is done (give it the deadline of the deferred window,
// see [AuthDeferredWindow] and Pending.Timeout). When ctx ends first it
// returns AuthDeferred and an error wrapping the context's error; the
// caller then rejects (openvpn treats an expired deferred key as failed)
// and Closes.
func (d *Deferred) Wait(ctx context.Context) (AuthStatus, string, error) {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for {
		if st, reason := d.Poll(); st != AuthDeferred {
			return st, reason, nil
		}
		select {
		case <-ctx.Done():
			// A last look: the decision may have arrived with the deadline.
			if st, reason := d.Poll(); st != AuthDeferred {
				return st, reason, nil
			}
			return AuthDeferred, "", fmt.Errorf("hook: waiting for the deferred authentication: %w", context.Cause(ctx))
		case <-t.C:
		}
	}
}

// Close removes the control files. A decision already known stays
// available from Poll; an undecided one can no longer be made (Poll then
// keeps returning AuthDeferred). Close is idempotent.
func (d *Deferred) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.removeLocked()
}

func (d *Deferred) removeLocked() error {
	if d.removed {
		return nil
	}
	d.removed = true
	return removeFiles(d.control, d.pending, d.reason)
}

func (d *Deferred) failedReason() string {
	data, err := os.ReadFile(d.reason)
	if err != nil {
		return ""
	}
	return ParseFailedReason(data)
}

// readPrefix reads at most n bytes from the start of a file.
func readPrefix(name string, n int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return b[:m], nil
}
