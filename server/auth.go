package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/authtoken"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/tlsconf"
	"github.com/openvpn-go/openvpn-go/wire"
)

// authenticate checks the first key exchange of a client: certificate (done
// by TLS), username/password through auth-user-pass-verify or an
// auth-gen-token token, and duplicate common names.
func (in *instance) authenticate(km *wire.KeyMethodMessage, now time.Time) error {
	s := in.s
	o := s.o
	in.username = tlsconf.RemapCommonName(km.Username)
	in.password = km.Password
	if o.Server.UsernameAsCommonName && km.Username != "" {
		in.cn = in.username
	}
	if in.cn == "" {
		if o.Server.VerifyClientCert == config.ClientCertRequire {
			return errors.New("client presented no certificate")
		}
		in.cn = "UNDEF"
	}
	script := o.Scripts.AuthUserPassVerify
	if script != nil {
		if !km.HasUserPass && !o.Server.AuthUserPassOptional {
			return errors.New("client did not send a username and password (auth-user-pass); refusing")
		}
	}
	if len(in.password) > 0 && s.tokens != nil && authtoken.IsToken(in.password) {
		r := s.tokens.Verify(km.Username, in.password, "", s.tokenPolicy(), now)
		switch {
		case r.OK():
			in.heldToken = in.password
			if g := s.srv.AuthGenToken; g == nil || !g.ExternalAuth {
				in.logf("auth-token: accepted the token of %s (session %s)", in.username, r.SessionID)
				return in.issueToken(now, in.password)
			}
		case r.State == authtoken.Expired:
			return errors.New("SESSION: token expired")
		default:
			return errors.New("auth-token: invalid token")
		}
	}
	if script != nil && km.HasUserPass {
		if err := in.runAuthScript(km.Username, km.Password); err != nil {
			return err
		}
		in.logf("TLS: Username/Password authentication succeeded for username '%s'", in.username)
	}
	if s.tokens != nil && km.HasUserPass {
		if err := in.issueToken(now, ""); err != nil {
			return err
		}
	}
	return in.checkDuplicate()
}

// reauthenticate checks a renegotiation's credentials: the current token,
// or the password through the script again.
func (in *instance) reauthenticate(km *wire.KeyMethodMessage, now time.Time) error {
	s := in.s
	if !km.HasUserPass || s.o.Scripts.AuthUserPassVerify == nil && s.tokens == nil {
		return nil
	}
	if s.tokens != nil && authtoken.IsToken(km.Password) {
		r := s.tokens.Verify(km.Username, km.Password, in.heldToken, s.tokenPolicy(), now)
		if r.OK() {
			if in.heldToken == "" {
				in.heldToken = km.Password
			}
			return in.issueToken(now, km.Password)
		}
		if r.State == authtoken.Expired {
			return errors.New("SESSION: token expired")
		}
		return errors.New("auth-token: invalid token")
	}
	if s.o.Scripts.AuthUserPassVerify != nil {
		if err := in.runAuthScript(km.Username, km.Password); err != nil {
			return err
		}
	}
	if s.tokens != nil {
		return in.issueToken(now, in.token)
	}
	return nil
}

// issueToken mints a new token (renewing initial's session when given).
func (in *instance) issueToken(now time.Time, initial string) error {
	if in.s.tokens == nil {
		return nil
	}
	if initial == "" {
		initial = in.token
	}
	tok, err := in.s.tokens.Generate(rand.Reader, in.username, initial, now)
	if err != nil {
		return fmt.Errorf("auth-gen-token: %w", err)
	}
	in.token = tok
	return nil
}

// checkDuplicate enforces duplicate-cn: without it, an older session of
// the same common name is disconnected.
func (in *instance) checkDuplicate() error {
	s := in.s
	s.mu.Lock()
	old := s.byCN[in.cn]
	s.byCN[in.cn] = append(old, in)
	s.mu.Unlock()
	if s.srv.DuplicateCN {
		return nil
	}
	for _, o := range old {
		if o != in {
			s.log.Info(fmt.Sprintf("MULTI: new connection by client '%s' will cause previous active sessions by this client to be dropped.  Remember to use the --duplicate-cn option if you want multiple clients using the same certificate or username to concurrently connect.", in.cn))
			o.stop(0)
		}
	}
	return nil
}

// runAuthScript runs auth-user-pass-verify (via-file or via-env).
func (in *instance) runAuthScript(user, pass string) error {
	o := in.s.o
	sc := o.Scripts.AuthUserPassVerify
	if o.Scripts.Security < 2 {
		return fmt.Errorf("auth-user-pass-verify %q not run: script-security is %d, it needs 2", sc.Command, o.Scripts.Security)
	}
	env := in.baseEnv("user-pass-verify")
	args := append([]string(nil), sc.Args...)
	if o.Scripts.AuthUserPassVerifyMethod == config.ViaEnv {
		env = append(env, "username="+user)
		if o.Scripts.Security >= 3 {
			env = append(env, "password="+pass)
		}
	} else {
		dir := o.Scripts.TmpDir
		if dir == "" {
			dir = os.TempDir()
		}
		f, err := os.CreateTemp(dir, "openvpn_up_")
		if err != nil {
			return fmt.Errorf("auth-user-pass-verify: %w", err)
		}
		defer os.Remove(f.Name())
		fmt.Fprintf(f, "%s\n%s\n", user, pass)
		f.Close()
		args = append(args, f.Name())
		env = append(env, "username="+user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.handWindow())
	defer cancel()
	cmd := exec.CommandContext(ctx, sc.Path, args...)
	cmd.Env = env
	cmd.Dir = o.Dir
	out, err := cmd.CombinedOutput()
	if len(out) > 0 {
		in.logf("auth-user-pass-verify output: %s", strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("TLS Auth Error: Auth Username/Password verification failed for peer (%v)", err)
	}
	return nil
}

// baseEnv is the environment of server scripts.
func (in *instance) baseEnv(typ string) []string {
	env := append(os.Environ(), "script_type="+typ, "common_name="+in.cn,
		"daemon=0", fmt.Sprintf("daemon_pid=%d", os.Getpid()))
	if a := in.addr.Addr(); a.Is4() {
		env = append(env, "untrusted_ip="+a.String(), "trusted_ip="+a.String())
	} else {
		env = append(env, "untrusted_ip6="+a.String(), "trusted_ip6="+a.String())
	}
	env = append(env, fmt.Sprintf("untrusted_port=%d", in.addr.Port()), fmt.Sprintf("trusted_port=%d", in.addr.Port()))
	for k, v := range in.peerInfo {
		if strings.HasPrefix(k, "IV_") || strings.HasPrefix(k, "UV_") {
			env = append(env, k+"="+v)
		}
	}
	if in.vaddr4.IsValid() {
		env = append(env, "ifconfig_pool_remote_ip="+in.vaddr4.String())
	}
	if in.vaddr6.IsValid() {
		env = append(env, "ifconfig_pool_remote_ip6="+in.vaddr6.String())
	}
	if in.s.o.ConfigFile != "" {
		env = append(env, "config="+filepath.Clean(in.s.o.ConfigFile))
	}
	return env
}

// runDisconnect runs client-disconnect.
func (in *instance) runDisconnect() {
	o := in.s.o
	sc := o.Scripts.ClientDisconnect
	if sc == nil || o.Scripts.Security < 2 {
		return
	}
	st := in.peer.Stats()
	env := append(in.baseEnv("client-disconnect"),
		fmt.Sprintf("bytes_received=%d", st.LinkRxBytes), fmt.Sprintf("bytes_sent=%d", st.LinkTxBytes),
		fmt.Sprintf("time_duration=%d", int(time.Since(in.connectedAt).Seconds())))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sc.Path, sc.Args...)
	cmd.Env = env
	cmd.Dir = o.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		in.logf("client-disconnect failed: %v %s", err, out)
	}
}
