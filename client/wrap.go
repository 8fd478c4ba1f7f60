package client

import (
	"fmt"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/control"
	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/keys"
)

// newWrapper builds the control-channel protection of a connection entry.
// resetV3 reports that the client must start with
// P_CONTROL_HARD_RESET_CLIENT_V3 (tls-crypt-v2).
func newWrapper(ce *config.Connection, o *config.Options, role control.Role) (w control.Wrapper, resetV3 bool, err error) {
	wo := ctlwrap.Options{ReplayWindow: o.Data.ReplayWindow, ReplayBacktrack: o.Data.ReplayTime}
	switch ce.Wrap.Mode {
	case config.WrapNone:
		return ctlwrap.None{}, false, nil
	case config.WrapTLSAuth:
		k2, n, err := keys.ParseStaticKey(ce.Wrap.Key.Data)
		if err != nil {
			return nil, false, fmt.Errorf("client: tls-auth key %s: %w", materialName(ce.Wrap.Key), err)
		}
		dir := keys.Bidirectional
		switch ce.Wrap.Direction {
		case config.KeyDirNormal:
			dir = keys.Normal
		case config.KeyDirInverse:
			dir = keys.Inverse
		}
		if n < 2 {
			// openvpn 2.6 refuses one-key (1024-bit) files too.
			return nil, false, fmt.Errorf("client: tls-auth key %s holds %d bits; a 2048-bit OpenVPN static key is required (generate one with 'openvpn-go genkey tls-auth FILE')", materialName(ce.Wrap.Key), n*1024)
		}
		digest := ce.Wrap.Digest
		if digest == "" {
			digest = o.Data.Auth
		}
		d, err := ctlwrap.ParseDigest(digest)
		if err != nil {
			return nil, false, fmt.Errorf("client: tls-auth digest: %w", err)
		}
		w, err := ctlwrap.NewTLSAuth(&k2, dir, d, wo)
		return w, false, err
	case config.WrapTLSCrypt:
		k2, n, err := keys.ParseStaticKey(ce.Wrap.Key.Data)
		if err != nil {
			return nil, false, fmt.Errorf("client: tls-crypt key %s: %w", materialName(ce.Wrap.Key), err)
		}
		if n < 2 {
			return nil, false, fmt.Errorf("client: tls-crypt key %s must hold 2048 bits (generate one with 'openvpn-go genkey tls-crypt')", materialName(ce.Wrap.Key))
		}
		w, err := ctlwrap.NewTLSCrypt(&k2, role == control.RoleServer, wo)
		return w, false, err
	case config.WrapTLSCryptV2:
		ck, err := keys.ParseTLSCryptV2ClientKey(ce.Wrap.Key.Data)
		if err != nil {
			return nil, false, fmt.Errorf("client: tls-crypt-v2 key %s: %w", materialName(ce.Wrap.Key), err)
		}
		w, err := ctlwrap.NewTLSCryptV2Client(&ck, true, wo)
		return w, true, err
	}
	return nil, false, fmt.Errorf("client: unknown control-channel wrapping %v", ce.Wrap.Mode)
}

func materialName(m *config.Material) string {
	if m == nil {
		return "(missing)"
	}
	if m.Inline {
		return fmt.Sprintf("<inline, %s:%d>", m.File, m.Line)
	}
	return fmt.Sprintf("%q", m.Path)
}
