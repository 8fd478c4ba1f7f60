package authtoken

import (
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Token format constants (auth_token.c, auth_token.h).
const (
	// Prefix starts every token (SESSION_ID_PREFIX).
	Prefix = "SESS_ID_AT_"
	// Len is the length of every token: the prefix and 80 base64 characters.
	Len = len(Prefix) + 80
	// SessionIDLen is the size of the session id inside a token.
	SessionIDLen = 12
	// SessionIDBase64Len is the size of the base64 session id that follows
	// the prefix and is handed to scripts as $session_id.
	SessionIDBase64Len = 16
	// PrefixCompareLen is how many leading characters of a token must stay
	// the same for the lifetime of a connection (prefix and session id).
	PrefixCompareLen = len(Prefix) + SessionIDBase64Len
	// SecretLen is the size of the secret (one OpenVPN struct key).
	SecretLen = 128

	dataLen = SessionIDLen + 8 + 8 + sha256.Size // 60 bytes, no base64 padding
	keyOff  = 64                                 // the HMAC slot of the secret
	keyLen  = sha256.Size
)

// ErrToken is wrapped by every error about a malformed token.
var ErrToken = errors.New("malformed auth-token")

// Secret is the HMAC key that signs tokens.
type Secret struct {
	key [keyLen]byte
}

// NewSecret returns the Secret held in secret, the decoded auth-token secret
// file (at least SecretLen bytes; openvpn reads one struct key and ignores
// the rest). The key is bytes 64..95. The bytes are copied.
func NewSecret(secret []byte) (*Secret, error) {
	if len(secret) < SecretLen {
		return nil, fmt.Errorf("authtoken: secret of %d bytes is shorter than %d: generate one with --genkey auth-token", len(secret), SecretLen)
	}
	s := new(Secret)
	copy(s.key[:], secret[keyOff:keyOff+keyLen])
	return s, nil
}

// NewRandomSecret returns a Secret made from SecretLen bytes read from rand
// (nil means crypto/rand.Reader), as openvpn does when no --auth-gen-token-secret is given (tokens then do
// not survive a restart).
func NewRandomSecret(rand io.Reader) (*Secret, error) {
	var b [SecretLen]byte
	defer clear(b[:])
	if rand == nil {
		rand = cryptorand.Reader
	}
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("authtoken: reading random secret: %w", err)
	}
	return NewSecret(b[:])
}

// Token is a decoded token.
type Token struct {
	SessionID [SessionIDLen]byte
	Initial   uint64 // unix seconds of the first token of the session
	Renewed   uint64 // unix seconds this token was issued
	MAC       [sha256.Size]byte
}

// IsToken reports whether password is presented as a token: exactly Len
// characters starting with Prefix (auth_token.c is_auth_token, 2.6.21). Only
// such passwords are checked as tokens; others go to normal authentication.
func IsToken(password string) bool {
	return len(password) == Len && subtle.ConstantTimeCompare([]byte(password[:len(Prefix)]), []byte(Prefix)) == 1
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// Parse decodes a token. It must pass IsToken and its 80 characters must be
// standard base64 without padding, decoding to exactly 60 bytes. (openvpn's
// decoder is more lenient with some non-canonical spellings; openvpn and we
// only ever issue canonical tokens.)
func Parse(tok string) (Token, error) {
	var t Token
	if !IsToken(tok) {
		return t, fmt.Errorf("authtoken: %w: not %d characters starting with %q", ErrToken, Len, Prefix)
	}
	enc := tok[len(Prefix):]
	for i := 0; i < len(enc); i++ {
		if strings.IndexByte(b64Alphabet, enc[i]) < 0 {
			return t, fmt.Errorf("authtoken: %w: invalid base64 character at offset %d", ErrToken, len(Prefix)+i)
		}
	}
	var b [dataLen]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(enc))
	if err != nil || n != dataLen {
		return t, fmt.Errorf("authtoken: %w: does not decode to %d bytes", ErrToken, dataLen)
	}
	copy(t.SessionID[:], b[:SessionIDLen])
	t.Initial = binary.BigEndian.Uint64(b[SessionIDLen:])
	t.Renewed = binary.BigEndian.Uint64(b[SessionIDLen+8:])
	copy(t.MAC[:], b[SessionIDLen+16:])
	return t, nil
}

// String encodes t.
func (t *Token) String() string {
	var b [dataLen]byte
	copy(b[:], t.SessionID[:])
	binary.BigEndian.PutUint64(b[SessionIDLen:], t.Initial)
	binary.BigEndian.PutUint64(b[SessionIDLen+8:], t.Renewed)
	copy(b[SessionIDLen+16:], t.MAC[:])
	return Prefix + base64.StdEncoding.EncodeToString(b[:])
}

// SessionID returns the base64 session id of a token (its characters 11 to
// 26), the value of the $session_id script variable, or "" if tok is not a
// token.
func SessionID(tok string) string {
	if !IsToken(tok) {
		return ""
	}
	return tok[len(Prefix):PrefixCompareLen]
}

// cString returns s up to its first NUL, as C's strlen sees it.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func (s *Secret) mac(username string, t *Token) [sha256.Size]byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(cString(username)))
	var b [SessionIDLen + 16]byte
	copy(b[:], t.SessionID[:])
	binary.BigEndian.PutUint64(b[SessionIDLen:], t.Initial)
	binary.BigEndian.PutUint64(b[SessionIDLen+8:], t.Renewed)
	m.Write(b[:])
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// Generate issues a token for username at time now (auth_token.c
// generate_auth_token). initial is the first token the connection received
// or presented (openvpn's auth_token_initial): if it is not empty the new
// token keeps its session id and initial timestamp (a renewal); otherwise a
// new session id is read from rand (nil means crypto/rand.Reader) and the
// initial timestamp is now. Pass username "" if the presented token was only valid
// for the empty user (State AuthenticatedEmptyUser/ExpiredEmptyUser), as
// openvpn does, so that this restriction carries over.
func (s *Secret) Generate(rand io.Reader, username, initial string, now time.Time) (string, error) {
	var t Token
	ts := uint64(now.Unix())
	if initial != "" {
		it, err := Parse(initial)
		if err != nil {
			return "", fmt.Errorf("authtoken: renewing from the initial token: %w", err)
		}
		t.SessionID, t.Initial = it.SessionID, it.Initial
	} else {
		if rand == nil {
			rand = cryptorand.Reader
		}
		if _, err := io.ReadFull(rand, t.SessionID[:]); err != nil {
			return "", fmt.Errorf("authtoken: reading random session id: %w", err)
		}
		t.Initial = ts
	}
	t.Renewed = ts
	t.MAC = s.mac(username, &t)
	return t.String(), nil
}

// State is the outcome of a token check, named as openvpn's $session_state.
type State int

// Token states (auth_token.c add_session_token_env).
const (
	Initial                State = iota // the password is not a token
	Authenticated                       // valid token for this user
	Expired                             // HMAC valid, outside its time limits
	Invalid                             // malformed, wrong HMAC, or a different session id
	AuthenticatedEmptyUser              // valid only with the empty username
	ExpiredEmptyUser                    // valid only with the empty username, and expired
)

var stateNames = [...]string{"Initial", "Authenticated", "Expired", "Invalid", "AuthenticatedEmptyUser", "ExpiredEmptyUser"}

// String returns the $session_state spelling, e.g. "AuthenticatedEmptyUser".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Policy holds the limits of --auth-gen-token [lifetime] [renewal-time].
type Policy struct {
	// Lifetime bounds a session from its first token; 0 means no limit.
	Lifetime time.Duration
	// Renewal is the renewal time (openvpn's default is --reneg-sec). A
	// token is accepted from its issue time until 2*Renewal later.
	Renewal time.Duration
}

// Result is the outcome of Verify.
type Result struct {
	State State
	// HMACOK, EmptyUser and Expired are openvpn's AUTH_TOKEN_HMAC_OK,
	// AUTH_TOKEN_VALID_EMPTYUSER and AUTH_TOKEN_EXPIRED flags.
	HMACOK, EmptyUser, Expired bool
	// SessionID is the token's base64 session id ($session_id) when the
	// token is valid and not expired; otherwise "" and the server takes the
	// session id of a newly generated token.
	SessionID string
	// Token is the decoded token (zero for Initial and malformed tokens).
	Token Token
}

// OK reports whether the token authenticates the user without further
// checks (openvpn skips scripts, plugins and management for it unless
// --auth-gen-token's external-auth is set).
func (r Result) OK() bool { return r.State == Authenticated }

// Verify checks password as a token for username at time now with openvpn
// 2.6's rules (auth_token.c verify_auth_token):
//
//   - a password that is not a token (IsToken) gives Initial;
//   - it must decode to 60 bytes and carry the HMAC of username, or else of
//     the empty username (EmptyUser), otherwise Invalid;
//   - it is Expired if now < renewed, now >= renewed + 2*Renewal, renewed <
//     initial, or Lifetime > 0 and now > initial + Lifetime (unsigned
//     arithmetic on unix seconds, as in openvpn);
//   - if held (the connection's auth_token_initial) is not empty, the
//     token's first PrefixCompareLen characters must equal held's,
//     otherwise Invalid.
//
// The caller remembers the first token that verifies with HMACOK as the
// connection's initial token (openvpn 2.6.21 stores it only then).
func (s *Secret) Verify(username, password, held string, p Policy, now time.Time) Result {
	if !IsToken(password) {
		return Result{State: Initial}
	}
	t, err := Parse(password)
	if err != nil {
		return Result{State: Invalid}
	}
	var r Result
	if m := s.mac(username, &t); hmac.Equal(m[:], t.MAC[:]) {
		r.HMACOK = true
	} else if m := s.mac("", &t); hmac.Equal(m[:], t.MAC[:]) {
		r.HMACOK, r.EmptyUser = true, true
	} else {
		return Result{State: Invalid}
	}
	n := uint64(now.Unix())
	renewal := uint64(int64(p.Renewal / time.Second))
	if !(n >= t.Renewed && n < t.Renewed+2*renewal) {
		r.Expired = true
	}
	if t.Renewed < t.Initial {
		r.Expired = true
	}
	if lt := uint64(int64(p.Lifetime / time.Second)); lt != 0 && n > t.Initial+lt {
		r.Expired = true
	}
	if held != "" && (len(held) < PrefixCompareLen ||
		subtle.ConstantTimeCompare([]byte(held[:PrefixCompareLen]), []byte(password[:PrefixCompareLen])) != 1) {
		return Result{State: Invalid}
	}
	r.Token = t
	switch {
	case !r.EmptyUser && !r.Expired:
		r.State = Authenticated
	case !r.EmptyUser:
		r.State = Expired
	case !r.Expired:
		r.State = AuthenticatedEmptyUser
	default:
		r.State = ExpiredEmptyUser
	}
	if !r.Expired {
		r.SessionID = SessionID(password)
	}
	return r
}
