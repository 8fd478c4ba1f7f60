package hook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

var tempName = regexp.MustCompile(`^openvpn_(up|acf|apf|afr|cc|ccr|cr|pef|tls_crypt_v2_metadata_)_[0-9a-f]{32}\.tmp$`)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestAuthViaFile(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	// The script copies the credentials file and records its mode.
	s, dump := dumpScript(t, `cp "$1" "$D/creds"; stat -c %a "$1" > "$D/mode"; for f in "$auth_control_file" "$auth_pending_file" "$auth_failed_reason_file"; do test -f "$f" || exit 3; done`)
	e := NewEnv()
	e.Set("common_name", "alice")
	res, err := r.AuthUserPass(t.Context(), s, config.ViaFile, e, "us er/../x\x01y", "pa ss\tw")
	if err != nil || res.Status != AuthAccepted {
		t.Fatalf("AuthUserPass = %+v, %v", res, err)
	}
	argv, env := dump()
	dir := filepath.Dir(s.Path)
	if len(argv) != 1 || filepath.Dir(argv[0]) != r.TmpDir || !tempName.MatchString(filepath.Base(argv[0])) || !strings.HasPrefix(filepath.Base(argv[0]), "openvpn_up_") {
		t.Fatalf("argv = %q", argv)
	}
	creds, _ := os.ReadFile(filepath.Join(dir, "creds"))
	if string(creds) != "us er/../x_y\npa ss_w\n" {
		t.Errorf("credentials file %q", creds)
	}
	if mode, _ := os.ReadFile(filepath.Join(dir, "mode")); strings.TrimSpace(string(mode)) != "600" {
		t.Errorf("credentials file mode %s", mode)
	}
	if exists(argv[0]) {
		t.Error("credentials file not removed")
	}
	m := envMap(env)
	if m["script_type"] != "user-pass-verify" || m["username"] != "us er/../x_y" || m["common_name"] != "alice" {
		t.Errorf("environment %q", env)
	}
	if _, ok := m["password"]; ok {
		t.Error("via-file passed the password in the environment")
	}
	for _, v := range []string{"auth_control_file", "auth_pending_file", "auth_failed_reason_file"} {
		p := m[v]
		if filepath.Dir(p) != r.TmpDir || !tempName.MatchString(filepath.Base(p)) {
			t.Errorf("%s = %q", v, p)
		}
		if exists(p) {
			t.Errorf("%s not removed after an accepted check", v)
		}
		// The variables stay in the Env, as in openvpn.
		if got, _ := e.Get(v); got != p {
			t.Errorf("Env %s = %q", v, got)
		}
	}
	if got, _ := e.Get("username"); got != "us er/../x_y" {
		t.Errorf("Env username = %q", got)
	}
	left, _ := os.ReadDir(r.TmpDir)
	if len(left) != 0 {
		t.Errorf("files left in tmp-dir: %v", left)
	}
}

func TestAuthViaEnv(t *testing.T) {
	tests := []struct {
		sec      Security
		password bool
		warning  bool
	}{
		{SecurityScripts, false, true},
		{SecurityPasswords, true, false},
	}
	for _, tt := range tests {
		r, lb := newTestRunner(t, tt.sec)
		s, dump := dumpScript(t, "")
		e := NewEnv()
		for range 2 {
			res, err := r.AuthUserPass(t.Context(), s, config.ViaEnv, e, "bob", "s3cret\r\n")
			if err != nil || res.Status != AuthAccepted {
				t.Fatalf("level %d: %+v, %v", tt.sec, res, err)
			}
		}
		argv, env := dump()
		m := envMap(env)
		if len(argv) != 0 || m["username"] != "bob" {
			t.Errorf("level %d: argv %q env %q", tt.sec, argv, env)
		}
		if pw, ok := m["password"]; ok != tt.password || (ok && pw != "s3cret__") {
			t.Errorf("level %d: password %q, %v", tt.sec, pw, ok)
		}
		if _, ok := e.Get("password"); ok {
			t.Errorf("level %d: password left in the Env", tt.sec)
		}
		if n := strings.Count(lb.String(), "via-env: the password is not passed"); (n == 1) != tt.warning || n > 1 {
			t.Errorf("level %d: password warning logged %d times", tt.sec, n)
		}
	}
}

func TestAuthExitStatus(t *testing.T) {
	tests := []struct {
		body   string
		status AuthStatus
		reason string
	}{
		{"exit 0", AuthAccepted, ""},
		{"exit 1", AuthRejected, ""},
		{`printf 'TEMP[backoff 30,advance remote]: busy\n' > "$auth_failed_reason_file"; exit 1`, AuthRejected, "TEMP[backoff 30,advance remote]: busy\n"},
		{`echo "ignored on success" > "$auth_failed_reason_file"; exit 0`, AuthAccepted, ""},
		{"exit 3", AuthRejected, ""},
		{"exit 2", AuthDeferred, ""},
		{"kill -KILL $$", AuthRejected, ""},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		e := NewEnv()
		res, err := r.AuthUserPass(t.Context(), writeScript(t, tt.body), config.ViaEnv, e, "u", "p")
		if err != nil || res.Status != tt.status || res.Reason != tt.reason {
			t.Errorf("%q: %v %q, %v; want %v %q", tt.body, res.Status, res.Reason, err, tt.status, tt.reason)
			continue
		}
		acf, _ := e.Get("auth_control_file")
		if (res.Deferred != nil) != (tt.status == AuthDeferred) || exists(acf) != (tt.status == AuthDeferred) {
			t.Errorf("%q: Deferred %v, control file exists %v", tt.body, res.Deferred, exists(acf))
		}
		if res.Deferred != nil {
			if res.Deferred.ControlFile() != acf {
				t.Errorf("ControlFile %q != %q", res.Deferred.ControlFile(), acf)
			}
			res.Deferred.Close()
			if exists(acf) {
				t.Error("Close left the control file")
			}
		}
	}
}

func TestAuthNotRun(t *testing.T) {
	r, _ := newTestRunner(t, SecurityBuiltIn)
	if res, err := r.AuthUserPass(t.Context(), nil, config.ViaFile, nil, "u", "p"); err != nil || res.Status != AuthAccepted {
		t.Errorf("no script: %+v, %v", res, err)
	}
	res, err := r.AuthUserPass(t.Context(), writeScript(t, "exit 0"), config.ViaFile, nil, "u", "p")
	if !errors.Is(err, ErrNotAllowed) || res.Status != AuthRejected {
		t.Errorf("AuthUserPass = %+v, %v", res, err)
	}
	if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	r.TmpDir = filepath.Join(t.TempDir(), "missing")
	r.Security = SecurityScripts
	if _, err := r.AuthUserPass(t.Context(), writeScript(t, "exit 0"), config.ViaEnv, nil, "u", "p"); err == nil {
		t.Error("no error without a tmp-dir")
	}
}

// The control file is written after the script returned, while Wait is
// polling.
func TestAuthDeferredLater(t *testing.T) {
	tests := []struct {
		control, reason string
		status          AuthStatus
	}{
		{"1\n", "", AuthAccepted},
		{"0", "User has been permanently disabled", AuthRejected},
		{"0", "", AuthRejected},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		e := NewEnv()
		res, err := r.AuthUserPass(t.Context(), writeScript(t, "exit 2"), config.ViaEnv, e, "u", "p")
		if err != nil || res.Status != AuthDeferred || res.Pending != nil {
			t.Fatalf("AuthUserPass = %+v, %v", res, err)
		}
		d := res.Deferred
		if st, _ := d.Poll(); st != AuthDeferred {
			t.Fatalf("Poll before the decision = %v", st)
		}
		// Garbage does not decide.
		os.WriteFile(d.ControlFile(), []byte("x"), 0o600)
		if st, _ := d.Poll(); st != AuthDeferred {
			t.Fatalf("Poll with garbage = %v", st)
		}
		type result struct {
			st     AuthStatus
			reason string
			err    error
		}
		done := make(chan result)
		go func() {
			st, reason, err := d.Wait(t.Context())
			done <- result{st, reason, err}
		}()
		rf, _ := e.Get("auth_failed_reason_file")
		if tt.reason != "" {
			os.WriteFile(rf, []byte(tt.reason), 0o600)
		}
		os.WriteFile(d.ControlFile(), []byte(tt.control), 0o600)
		got := <-done
		if got.err != nil || got.st != tt.status || got.reason != tt.reason {
			t.Errorf("Wait = %+v, want %v %q", got, tt.status, tt.reason)
		}
		if exists(d.ControlFile()) || exists(rf) {
			t.Error("control files not removed after the decision")
		}
		// The decision is final.
		if st, reason := d.Poll(); st != tt.status || reason != tt.reason {
			t.Errorf("Poll after the decision = %v %q", st, reason)
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}
}

// The common real-world form: the script starts a background process that
// decides, then exits 2.
func TestAuthDeferredBackground(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s := writeScript(t, `( sleep 0.2; echo "no" > "$auth_failed_reason_file"; echo 0 > "$auth_control_file" ) >/dev/null 2>&1 &
exit 2`)
	res, err := r.AuthUserPass(t.Context(), s, config.ViaFile, nil, "u", "p")
	if err != nil || res.Status != AuthDeferred {
		t.Fatalf("AuthUserPass = %+v, %v", res, err)
	}
	defer res.Deferred.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, reason, err := res.Deferred.Wait(ctx)
	if err != nil || st != AuthRejected || reason != "no\n" {
		t.Errorf("Wait = %v %q %v", st, reason, err)
	}
}

func TestAuthDeferredTimeout(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	res, err := r.AuthUserPass(t.Context(), writeScript(t, "exit 2"), config.ViaEnv, nil, "u", "p")
	if err != nil || res.Status != AuthDeferred {
		t.Fatalf("AuthUserPass = %+v, %v", res, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	st, _, err := res.Deferred.Wait(ctx)
	if st != AuthDeferred || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, %v", st, err)
	}
	res.Deferred.Close()
	// Too late: the decision can no longer arrive.
	os.WriteFile(res.Deferred.ControlFile(), []byte("1"), 0o600)
	if st, _ := res.Deferred.Poll(); st != AuthDeferred {
		t.Errorf("Poll after Close = %v", st)
	}
	os.Remove(res.Deferred.ControlFile())
	if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestAuthPending(t *testing.T) {
	tests := []struct {
		name    string
		sso     string
		pending string
		status  AuthStatus
		reason  string
		want    *Pending
	}{
		{"webauth", "webauth,openurl,crtext", "300\nwebauth\nWEB_AUTH::https://sso.example/x\n", AuthDeferred, "",
			&Pending{Timeout: 300 * time.Second, Method: "webauth", Extra: "WEB_AUTH::https://sso.example/x"}},
		{"crtext", "crtext", "60\r\ncrtext\r\nCR_TEXT:R,E:Enter your OTP\r\nignored\n", AuthDeferred, "",
			&Pending{Timeout: time.Minute, Method: "crtext", Extra: "CR_TEXT:R,E:Enter your OTP"}},
		{"no IV_SSO", "", "300\nwebauth\nX\n", AuthRejected, "Authentication failed, required pending auth method 'webauth' not supported", nil},
		{"other method", "openurl", "300\nwebauth\nX\n", AuthRejected, "Authentication failed, required pending auth method 'webauth' not supported", nil},
		{"two lines", "webauth", "300\nwebauth\n", AuthRejected, "", nil},
		{"zero timeout", "webauth", "soon\nwebauth\nX\n", AuthRejected, "", nil},
		{"empty file", "webauth", "", AuthDeferred, "", nil},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		e := NewEnv()
		if tt.sso != "" {
			e.SetPeerInfo("IV_SSO=" + tt.sso + "\n")
		}
		s := writeScript(t, "printf '%s' "+shellQuote(tt.pending)+` > "$auth_pending_file"; exit 2`)
		res, err := r.AuthUserPass(t.Context(), s, config.ViaEnv, e, "u", "p")
		if err != nil || res.Status != tt.status || res.Reason != tt.reason {
			t.Errorf("%s: %v %q %v; want %v %q", tt.name, res.Status, res.Reason, err, tt.status, tt.reason)
			continue
		}
		if (res.Pending == nil) != (tt.want == nil) || (res.Pending != nil && *res.Pending != *tt.want) {
			t.Errorf("%s: Pending = %+v, want %+v", tt.name, res.Pending, tt.want)
		}
		if pf, _ := e.Get("auth_pending_file"); exists(pf) {
			t.Errorf("%s: pending file not removed", tt.name)
		}
		if res.Deferred != nil {
			res.Deferred.Close()
		}
		if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
			t.Errorf("%s: files left: %v", tt.name, left)
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestParsePending(t *testing.T) {
	long := strings.Repeat("x", 1500)
	tests := []struct {
		in   string
		want *Pending
		err  bool
	}{
		{"", nil, false},
		{"300\nwebauth\nWEB_AUTH::u\n", &Pending{300 * time.Second, "webauth", "WEB_AUTH::u"}, false},
		{"300\nwebauth\nWEB_AUTH::u", &Pending{300 * time.Second, "webauth", "WEB_AUTH::u"}, false},
		{"  +42abc\nm\n\n", &Pending{42 * time.Second, "m", ""}, false},
		{"-1\nm\ne\n", &Pending{4294967295 * time.Second, "m", "e"}, false},
		{"4294967296\nm\ne\n", &Pending{0, "m", "e"}, false},
		{"99999999999999999999999\nm\ne\n", &Pending{4294967295 * time.Second, "m", "e"}, false},
		{"30\nm\ne\x00tail\n", &Pending{30 * time.Second, "m", "e"}, false},
		{"0\nm\ne\n", nil, true},
		{"abc\nm\ne\n", nil, true},
		{"\n\n\n", nil, true},
		{"30\n", nil, true},
		{"30\nm", nil, true},
		// A 1500-byte line is two fgets lines of 1023 and 477 bytes.
		{"30\n" + long + "\n", &Pending{30 * time.Second, long[:1023], long[1023:]}, false},
	}
	for _, tt := range tests {
		got, err := ParsePending([]byte(tt.in))
		if (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrPendingFormat)) {
			t.Errorf("ParsePending(%q) error %v", tt.in, err)
			continue
		}
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("ParsePending(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseAuthControl(t *testing.T) {
	tests := []struct {
		in   string
		want AuthStatus
	}{
		{"1", AuthAccepted}, {"1\n", AuthAccepted}, {"10", AuthAccepted},
		{"0", AuthRejected}, {"0\n", AuthRejected}, {"01", AuthRejected},
		{"", AuthDeferred}, {"2", AuthDeferred}, {" 1", AuthDeferred}, {"\n1", AuthDeferred}, {"yes", AuthDeferred},
	}
	for _, tt := range tests {
		if got := ParseAuthControl([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseAuthControl(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseFailedReason(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"disabled\n":  "disabled\n",
		"a\x00b":      "a",
		"\x00":        "",
		"TEMP: busy":  "TEMP: busy",
		"multi\nline": "multi\nline",
	} {
		if got := ParseFailedReason([]byte(in)); got != want {
			t.Errorf("ParseFailedReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPendingMethodSupported(t *testing.T) {
	tests := []struct {
		sso, method string
		want        bool
	}{
		{"webauth,openurl,crtext", "crtext", true},
		{"webauth", "webauth", true},
		{",,webauth,", "webauth", true},
		{"webauth", "web", false},
		{"", "", false},
		{"webauth,", "", false},
	}
	for _, tt := range tests {
		if got := PendingMethodSupported(tt.sso, tt.method); got != tt.want {
			t.Errorf("PendingMethodSupported(%q, %q) = %v", tt.sso, tt.method, got)
		}
	}
	long := strings.Repeat("m", 200)
	if r := unsupportedMethodReason(long); len(r) != 127 || !strings.HasPrefix(r, "Authentication failed, required pending auth method 'mmm") {
		t.Errorf("long reason %d bytes", len(r))
	}
}

func TestAuthDeferredWindow(t *testing.T) {
	tests := []struct{ hand, reneg, want time.Duration }{
		{60 * time.Second, 3600 * time.Second, 60 * time.Second},
		{60 * time.Second, 100 * time.Second, 50 * time.Second},
		{60 * time.Second, 0, 60 * time.Second},
	}
	for _, tt := range tests {
		if got := AuthDeferredWindow(tt.hand, tt.reneg); got != tt.want {
			t.Errorf("AuthDeferredWindow(%v, %v) = %v", tt.hand, tt.reneg, got)
		}
	}
}

func TestStrtol(t *testing.T) {
	tests := map[string]int64{
		"0": 0, "42": 42, " \t+7x": 7, "-12": -12, "": 0, "-": 0, "x1": 0,
		"9223372036854775807": 9223372036854775807, "9223372036854775808": 9223372036854775807,
		"-9223372036854775808": -9223372036854775808, "-99999999999999999999": -9223372036854775808,
	}
	for in, want := range tests {
		if got := strtol(in); got != want {
			t.Errorf("strtol(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzParsePending(f *testing.F) {
	f.Add([]byte("300\nwebauth\nWEB_AUTH::https://x\n"))
	f.Add([]byte("-1\r\ncrtext\r\nCR_TEXT:R,E:x\r\n\x00"))
	f.Add([]byte(strings.Repeat("9", 2000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePending(data)
		if err != nil {
			if p != nil || !errors.Is(err, ErrPendingFormat) {
				t.Fatalf("ParsePending = %+v, %v", p, err)
			}
			return
		}
		if p == nil {
			if len(data) != 0 {
				t.Fatalf("no result and no error for %q", data)
			}
			return
		}
		if p.Timeout < 0 || p.Timeout > 4294967295*time.Second || p.Timeout%time.Second != 0 {
			t.Fatalf("timeout %v", p.Timeout)
		}
		for _, s := range []string{p.Method, p.Extra} {
			if len(s) > 1023 || strings.ContainsAny(s, "\x00") || strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\r") {
				t.Fatalf("line %q", s)
			}
		}
	})
}

func FuzzParseAuthControl(f *testing.F) {
	f.Add([]byte("1"))
	f.Add([]byte("0\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := ParseAuthControl(data)
		want := AuthDeferred
		if len(data) > 0 && data[0] == '1' {
			want = AuthAccepted
		} else if len(data) > 0 && data[0] == '0' {
			want = AuthRejected
		}
		if got != want {
			t.Fatalf("ParseAuthControl(%q) = %v", data, got)
		}
	})
}

func FuzzParseFailedReason(f *testing.F) {
	f.Add([]byte("TEMP[backoff 30,advance remote]: busy\n"))
	f.Add([]byte("a\x00b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := ParseFailedReason(data)
		if strings.Contains(got, "\x00") || !strings.HasPrefix(string(data), got) {
			t.Fatalf("ParseFailedReason(%q) = %q", data, got)
		}
	})
}

func TestFgetsLines(t *testing.T) {
	got := fgetsLines([]byte("ab\ncdefg\nh"), 4)
	if want := []string{"ab\n", "cde", "fg\n", "h"}; !slices.Equal(got, want) {
		t.Errorf("fgetsLines = %q, want %q", got, want)
	}
}
