package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/openvpn-go/openvpn-go/authtoken"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/hook"
	"github.com/openvpn-go/openvpn-go/wire"
)

// errDeferred: the auth-user-pass-verify script deferred its decision; the
// instance polls it (pendingAuth) and continues when it arrives.
var errDeferred = errors.New("authentication deferred")

// authError is a refused authentication: the reason sent to the client in
// AUTH_FAILED,<reason> ("" for a plain AUTH_FAILED) and the log text.
type authError struct {
	client string
	log    string
}

func (e *authError) Error() string { return e.log }

// pendingAuth follows a deferred auth-user-pass-verify decision for the
// key kid.
type pendingAuth struct {
	d        *hook.Deferred
	kid      wire.KeyID
	deadline time.Time
}

// authenticate checks the first key exchange of a client: certificate (done
// by TLS), username/password through auth-user-pass-verify or an
// auth-gen-token token, and duplicate common names. It returns errDeferred
// when the script deferred its decision.
func (in *instance) authenticate(km *wire.KeyMethodMessage, now time.Time) error {
	s := in.s
	o := s.o
	in.username = hook.RemapUsername(km.Username)
	if o.Server.UsernameAsCommonName && km.Username != "" {
		in.cn = in.username
		in.env.SetCommonName(in.cn)
	}
	if in.cn == "" {
		if o.Server.VerifyClientCert == config.ClientCertRequire {
			return errors.New("client presented no certificate")
		}
		in.cn = "UNDEF"
	}
	script := o.Scripts.AuthUserPassVerify
	if script != nil && !km.HasUserPass && !o.Server.AuthUserPassOptional {
		return errors.New("client did not send a username and password (auth-user-pass); refusing")
	}
	if km.HasUserPass && s.tokens != nil && authtoken.IsToken(km.Password) {
		r := s.tokens.Verify(km.Username, km.Password, "", s.tokenPolicy(), now)
		switch {
		case r.OK():
			in.heldToken = km.Password
			if g := s.srv.AuthGenToken; g == nil || !g.ExternalAuth {
				in.logf("auth-token: accepted the token of %s (session %s)", in.username, r.SessionID)
				return in.finishAuth(now, km.Password, true)
			}
			// external-auth: the script decides, the token only carries the
			// session on.
		case r.State == authtoken.Expired:
			return &authError{client: "SESSION: token expired", log: "auth-token: the token expired"}
		default:
			return errors.New("auth-token: invalid token")
		}
	}
	if script != nil && km.HasUserPass {
		if err := in.runAuthScript(0, km, now); err != nil {
			return err
		}
	}
	return in.finishAuth(now, "", km.HasUserPass)
}

// finishAuth completes a successful authentication: a token for clients
// that sent credentials (renewing initial when given), and duplicate-cn.
func (in *instance) finishAuth(now time.Time, initial string, hasUserPass bool) error {
	if hasUserPass {
		if err := in.issueToken(now, initial); err != nil {
			return err
		}
	}
	return in.checkDuplicate()
}

// runAuthScript runs auth-user-pass-verify for the credentials of key kid.
// A deferred decision is stored in in.pending and reported as errDeferred.
func (in *instance) runAuthScript(kid wire.KeyID, km *wire.KeyMethodMessage, now time.Time) error {
	o := in.s.o
	if in.pending != nil {
		in.pending.d.Close()
		in.pending = nil
	}
	ctx, cancel := context.WithTimeout(in.s.ctx, in.handWindow())
	defer cancel()
	res, err := in.s.hooks.AuthUserPass(ctx, o.Scripts.AuthUserPassVerify, o.Scripts.AuthUserPassVerifyMethod, in.env, km.Username, km.Password)
	if err != nil {
		return fmt.Errorf("TLS Auth Error: Auth Username/Password verification failed for peer: %v", err)
	}
	switch res.Status {
	case hook.AuthAccepted:
		in.logf("TLS: Username/Password authentication succeeded for username '%s'", in.username)
		return nil
	case hook.AuthDeferred:
		window := hook.AuthDeferredWindow(in.handWindow(), o.TLS.Reneg.Seconds)
		if p := res.Pending; p != nil {
			if p.Timeout < window {
				window = p.Timeout
			}
			in.sendPending(now, p, window)
		}
		in.pending = &pendingAuth{d: res.Deferred, kid: kid, deadline: now.Add(window)}
		in.logf("TLS: Username/Password authentication deferred for username '%s'", in.username)
		return errDeferred
	}
	return &authError{client: res.Reason, log: fmt.Sprintf("TLS Auth Error: Auth Username/Password verification failed for peer (username '%s')", in.username)}
}

// sendPending tells the client its authentication is pending (2.6:
// AUTH_PENDING with the timeout, then INFO_PRE with the script's text).
func (in *instance) sendPending(now time.Time, p *hook.Pending, window time.Duration) {
	msg := "AUTH_PENDING"
	if in.ivProto&wire.IVProtoAuthPendingKW != 0 {
		msg = fmt.Sprintf("AUTH_PENDING,timeout %d", int(window/time.Second))
	}
	in.sess.SendMessage(now, msg)
	in.sess.SendMessage(now, "INFO_PRE,"+p.Extra)
}

// pollPending checks a deferred authentication and continues with its
// outcome.
func (in *instance) pollPending(now time.Time) {
	p := in.pending
	st, reason := p.d.Poll()
	if st == hook.AuthDeferred && now.Before(p.deadline) {
		return
	}
	in.pending = nil
	p.d.Close()
	var err error
	switch st {
	case hook.AuthAccepted:
		in.logf("TLS: Username/Password authentication succeeded for username '%s' (deferred)", in.username)
	case hook.AuthRejected:
		err = &authError{client: reason, log: fmt.Sprintf("TLS Auth Error: Auth Username/Password verification failed for peer (username '%s', deferred)", in.username)}
	default:
		err = errors.New("TLS Auth Error: the deferred authentication timed out")
	}
	if p.kid != 0 || in.ready {
		// A renegotiation.
		if err != nil {
			in.reauthFailed(err, now)
		} else if !in.keyAuthenticated(p.kid, now) {
			in.exitAt = now
		}
		return
	}
	if err == nil {
		err = in.finishAuth(now, "", true)
	}
	in.authenticated(err, now)
}

// reauthenticate checks a renegotiation's credentials: the current token,
// or the password through the script again.
func (in *instance) reauthenticate(kid wire.KeyID, km *wire.KeyMethodMessage, now time.Time) error {
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
			return &authError{client: "SESSION: token expired", log: "auth-token: the token expired"}
		}
		return errors.New("auth-token: invalid token")
	}
	if s.o.Scripts.AuthUserPassVerify != nil {
		if err := in.runAuthScript(kid, km, now); err != nil {
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

// runDisconnect runs client-disconnect.
func (in *instance) runDisconnect() {
	o := in.s.o
	if o.Scripts.ClientDisconnect == nil {
		return
	}
	st := in.peer.Stats()
	in.env.SetDisconnect(st.LinkRxBytes, st.LinkTxBytes, time.Since(in.connectedAt))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in.s.hooks.ClientDisconnect(ctx, o.Scripts.ClientDisconnect, in.env)
}
