package control

import (
	"errors"
	"fmt"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

// KeyDerivation selects how data-channel keys are derived.
type KeyDerivation int

const (
	// DerivePRF is the OpenVPN TLS-1.0 PRF over the key-method randoms
	// (the default unless the server pushes tls-ekm).
	DerivePRF KeyDerivation = iota
	// DeriveEKM is the RFC 5705 exporter, label EXPORTER-OpenVPN-datakeys.
	DeriveEKM
)

func (k KeyDerivation) String() string {
	if k == DeriveEKM {
		return "TLS-EKM"
	}
	return "OpenVPN PRF"
}

// DataKeys derives the 256-byte key2 block of key_id kid. It is valid once
// EventKeyExchanged was reported for kid.
func (s *Session) DataKeys(kid wire.KeyID, how KeyDerivation) ([256]byte, error) {
	var out [256]byte
	sl := s.slotFor(kid)
	if sl == nil || !sl.gotKey || !sl.sentKey {
		return out, fmt.Errorf("control: no exchanged key with id %d", kid)
	}
	switch how {
	case DeriveEKM:
		st := sl.tls.connectionState()
		b, err := st.ExportKeyingMaterial(keys.EKMLabelDataKeys, nil, len(out))
		if err != nil {
			return out, fmt.Errorf("control: TLS keying material exporter: %w", err)
		}
		copy(out[:], b)
		return out, nil
	case DerivePRF:
		client, server := &sl.localKM, &sl.peerKM
		csid, ssid := s.local, s.remote
		if s.cfg.Role == RoleServer {
			client, server = server, client
			csid, ssid = ssid, csid
		}
		if !client.HasPreMast {
			return out, errors.New("control: client key-method message had no pre-master secret")
		}
		cks := keys.KeySource{PreMaster: client.PreMaster, Random1: client.Random1, Random2: client.Random2}
		sks := keys.KeySource{Random1: server.Random1, Random2: server.Random2}
		k2 := keys.DeriveKey2(&cks, &sks, csid, ssid)
		clear(cks.PreMaster[:])
		return k2, nil
	}
	return out, fmt.Errorf("control: unknown key derivation %d", how)
}
