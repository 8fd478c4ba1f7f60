package ctlwrap

import (
	"errors"
	"fmt"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/keys"
)

// StaticWrapper is a wrapper keyed by a static key file (none, tls-auth,
// tls-crypt): it works per session and statelessly (the server's HMAC
// cookie handshake).
type StaticWrapper interface {
	Wrapper
	Stateless
}

// ErrRoleKey is returned by FromConfig for tls-crypt-v2, whose client and
// server keys differ: build those with NewTLSCryptV2Client or
// NewV2ServerKey.
var ErrRoleKey = errors.New("ctlwrap: tls-crypt-v2 keys depend on the role")

// FromConfig checks the key of a none, tls-auth or tls-crypt profile as
// openvpn 2.6 does (a 2048-bit OpenVPN static key) and returns a
// constructor of its wrapper; each call returns a wrapper with its own
// packet ids and replay window. auth is the --auth digest, which tls-auth
// uses unless the profile names its own; server picks tls-crypt's key
// halves.
func FromConfig(w *config.Wrap, auth string, server bool, o Options) (func() (StaticWrapper, error), error) {
	switch w.Mode {
	case config.WrapNone:
		return func() (StaticWrapper, error) { return None{}, nil }, nil
	case config.WrapTLSAuth, config.WrapTLSCrypt:
	case config.WrapTLSCryptV2:
		return nil, ErrRoleKey
	default:
		return nil, fmt.Errorf("ctlwrap: unknown control-channel wrapping %v", w.Mode)
	}
	name, gen := "tls-auth", "tls-auth"
	if w.Mode == config.WrapTLSCrypt {
		name, gen = "tls-crypt", "tls-crypt"
	}
	if w.Key == nil {
		return nil, fmt.Errorf("%s: no key", name)
	}
	k2, n, err := keys.ParseStaticKey(w.Key.Data)
	if err != nil {
		return nil, fmt.Errorf("%s key %s: %w", name, w.Key.Source(), err)
	}
	if n < 2 {
		// openvpn 2.6 refuses one-key (1024-bit) files too.
		return nil, fmt.Errorf("%s key %s holds %d bits; a 2048-bit OpenVPN static key is required (generate one with 'openvpn-go genkey %s FILE')",
			name, w.Key.Source(), n*1024, gen)
	}
	if w.Mode == config.WrapTLSCrypt {
		if _, err := NewTLSCrypt(&k2, server, o); err != nil {
			return nil, fmt.Errorf("tls-crypt key %s: %w", w.Key.Source(), err)
		}
		return func() (StaticWrapper, error) { return NewTLSCrypt(&k2, server, o) }, nil
	}
	dir := keys.Bidirectional
	switch w.Direction {
	case config.KeyDirNormal:
		dir = keys.Normal
	case config.KeyDirInverse:
		dir = keys.Inverse
	}
	digest := w.Digest
	if digest == "" {
		digest = auth
	}
	d, err := ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("tls-auth digest: %w", err)
	}
	if _, err := NewTLSAuth(&k2, dir, d, o); err != nil {
		return nil, fmt.Errorf("tls-auth key %s: %w", w.Key.Source(), err)
	}
	return func() (StaticWrapper, error) { return NewTLSAuth(&k2, dir, d, o) }, nil
}
