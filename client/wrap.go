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
	if ce.Wrap.Mode == config.WrapTLSCryptV2 {
		ck, err := keys.ParseTLSCryptV2ClientKey(ce.Wrap.Key.Data)
		if err != nil {
			return nil, false, fmt.Errorf("client: tls-crypt-v2 key %s: %w", ce.Wrap.Key.Source(), err)
		}
		w, err := ctlwrap.NewTLSCryptV2Client(&ck, true, wo)
		return w, true, err
	}
	mk, err := ctlwrap.FromConfig(&ce.Wrap, o.Data.Auth, role == control.RoleServer, wo)
	if err != nil {
		return nil, false, fmt.Errorf("client: %w", err)
	}
	sw, err := mk()
	if err != nil {
		return nil, false, fmt.Errorf("client: %w", err)
	}
	return sw, false, nil
}
