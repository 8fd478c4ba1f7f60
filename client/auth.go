package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/openvpn-go/openvpn-go/config"
)

// authState holds the credentials the client sends in key-method 2:
// username and password (from the profile or asked for), and the
// auth-token the server pushed, which replaces the password from the next
// authentication on (renegotiation or reconnect) until the server refuses
// it.
type authState struct {
	mu        sync.Mutex
	enabled   bool // auth-user-pass present
	username  string
	password  string
	havePass  bool
	noCache   bool
	challenge *config.StaticChallenge
	response  string // static-challenge response for the next attempt

	token     string
	tokenUser string // auth-token-user: overrides the username sent with the token
	retry     bool   // the last credentials were refused
}

func (a *authState) init(o *config.Options) {
	up := o.Auth.UserPass
	if up == nil {
		return
	}
	a.enabled = true
	a.username = up.Username
	a.password, a.havePass = up.Password, up.HasPassword
	a.noCache = o.Auth.NoCache
	a.challenge = o.Auth.StaticChallenge
	if o.Auth.Token != "" {
		a.token = o.Auth.Token
	}
}

// ensure asks for missing credentials before a connection attempt. It does
// nothing when a token or complete credentials are at hand.
func (a *authState) ensure(ctx context.Context, ask CredentialsFunc) error {
	a.mu.Lock()
	if !a.enabled || a.token != "" || (a.username != "" && a.havePass && a.challenge == nil && !a.retry) {
		a.mu.Unlock()
		return nil
	}
	req := CredentialsRequest{
		Username:     a.username,
		NeedUsername: a.username == "" || a.retry,
		NeedPassword: !a.havePass || a.retry,
		Retry:        a.retry,
	}
	if a.challenge != nil {
		req.Challenge, req.ChallengeEcho = a.challenge.Text, a.challenge.Echo
	}
	a.mu.Unlock()
	if ask == nil {
		return errors.New("client: the profile needs a username/password (auth-user-pass) but no way to ask for it was given; put them in the auth-user-pass file")
	}
	cr, err := ask(ctx, req)
	if err != nil {
		return fmt.Errorf("client: asking for credentials: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.NeedUsername && cr.Username != "" {
		a.username = cr.Username
	}
	if req.NeedPassword {
		a.password, a.havePass = cr.Password, true
	}
	a.response = cr.Response
	a.retry = false
	return nil
}

// credentials returns what to send in the key-method message now.
func (a *authState) credentials() (user, pass string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.enabled {
		return "", ""
	}
	if a.token != "" {
		u := a.username
		if a.tokenUser != "" {
			u = a.tokenUser
		}
		return u, a.token
	}
	pass = a.password
	if a.challenge != nil {
		// static-challenge: SCRV1:base64(password):base64(response)
		pass = "SCRV1:" + base64.StdEncoding.EncodeToString([]byte(a.password)) + ":" +
			base64.StdEncoding.EncodeToString([]byte(a.response))
	}
	if a.noCache && a.token == "" {
		// auth-nocache: forget the password once it has been used; it is
		// asked for again when needed.
		a.password, a.havePass = "", false
	}
	return a.username, pass
}

// setToken stores a pushed auth-token (and optional auth-token-user).
func (a *authState) setToken(token, userB64 string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.enabled {
		return
	}
	a.token = token
	if userB64 != "" {
		if u, err := base64.StdEncoding.DecodeString(userB64); err == nil {
			a.tokenUser = string(u)
		}
	}
}

// hasToken reports whether an auth-token is held.
func (a *authState) hasToken() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token != ""
}

// refused handles AUTH_FAILED: a held token is dropped (the next attempt
// uses the password); otherwise the credentials are marked for re-asking.
// It reports whether a token was dropped.
func (a *authState) refused(forget bool) (hadToken bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" {
		a.token, a.tokenUser = "", ""
		return true
	}
	a.retry = true
	if forget {
		a.password, a.havePass = "", false
	}
	return false
}
