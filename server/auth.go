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
	// renew is the presented token the next one continues once accepted
	// (external-auth, see renewFrom); "" for the connection's own.
	renew string
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
	r, accepted, err := in.checkToken(km, "", now)
	if err != nil {
		return err
	}
	if accepted {
		in.logf("auth-token: accepted the token of %s (session %s)", in.username, r.SessionID)
		return in.finishAuth(now, km.Password, true)
	}
	if script != nil && km.HasUserPass {
		if err := in.setSessionEnv(r, km.Password, now); err != nil {
			return err
		}
		if err := in.runAuthScript(0, km, now); err != nil {
			if errors.Is(err, errDeferred) {
				in.pending.renew = in.renewFrom(r, km.Password)
			}
			return err
		}
	}
	return in.finishAuth(now, in.renewFrom(r, km.Password), km.HasUserPass)
}

// checkToken applies auth-gen-token to a presented password (held is the
// connection's first verified token, "" on a new connection). Without
// external-auth a token decides on its own: accepted, or refused with
// "SESSION: token expired" or as invalid. With external-auth, or for a
// password that is not a token, neither: the script decides, with the
// token's state in session_state (ssl_verify.c verify_user_pass).
func (in *instance) checkToken(km *wire.KeyMethodMessage, held string, now time.Time) (r authtoken.Result, accepted bool, err error) {
	s := in.s
	if !km.HasUserPass || s.tokens == nil || !authtoken.IsToken(km.Password) {
		return authtoken.Result{State: authtoken.Initial}, false, nil
	}
	r = s.tokens.Verify(km.Username, km.Password, held, s.tokenPolicy(), now)
	if r.HMACOK && in.heldToken == "" {
		in.heldToken = km.Password
	}
	if g := s.srv.AuthGenToken; g != nil && g.ExternalAuth {
		if r.Expired {
			in.logf("--auth-token-gen: auth-token from client expired")
		}
		return r, false, nil
	}
	switch {
	case r.OK():
		return r, true, nil
	case r.State == authtoken.Expired:
		return r, false, &authError{client: "SESSION: token expired", log: "auth-token: the token expired"}
	}
	return r, false, errors.New("auth-token: invalid token")
}

// setSessionEnv exports session_state and session_id to the
// authentication script when auth-gen-token is on (auth_token.c
// add_session_token_env): the id of the presented token while it is valid,
// otherwise that of the token this connection is about to receive, minted
// now so that the script and the later push agree.
func (in *instance) setSessionEnv(r authtoken.Result, password string, now time.Time) error {
	if in.s.tokens == nil {
		return nil
	}
	in.env.Set("session_state", r.State.String())
	id := ""
	if r.HMACOK && !r.Expired {
		id = authtoken.SessionID(password)
	} else {
		if in.token == "" {
			if err := in.issueToken(now, ""); err != nil {
				return err
			}
		}
		id = authtoken.SessionID(in.token)
	}
	in.env.Set("session_id", id)
	return nil
}

// renewFrom is the token a new one continues after the script accepted:
// the presented token when its HMAC verified (its session id and first
// issue time carry on, even when expired), otherwise the connection's own.
func (in *instance) renewFrom(r authtoken.Result, password string) string {
	if r.HMACOK && !r.EmptyUser {
		return password
	}
	return ""
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
		err = in.finishAuth(now, p.renew, true)
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
	r, accepted, err := in.checkToken(km, in.heldToken, now)
	if err != nil {
		return err
	}
	if accepted {
		return in.issueToken(now, km.Password)
	}
	if s.o.Scripts.AuthUserPassVerify != nil {
		if err := in.setSessionEnv(r, km.Password, now); err != nil {
			return err
		}
		if err := in.runAuthScript(kid, km, now); err != nil {
			return err
		}
	}
	if s.tokens != nil {
		return in.issueToken(now, in.renewFrom(r, km.Password))
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
