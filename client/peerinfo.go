package client

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/datacrypto"
	"github.com/openvpn-go/openvpn-go/wire"
)

// ProtocolVersion is the OpenVPN version whose protocol openvpn-go speaks;
// it is announced as IV_VER so that servers (and their scripts, which often
// gate features on it) treat us as the 2.6 client we are compatible with.
const ProtocolVersion = "2.6.14"

// ivProto: openvpn-go announces only the IV_PROTO bits it implements:
// DATA_V2, REQUEST_PUSH, TLS_KEY_EXPORT, AUTH_PENDING_KW, DNS_OPTION,
// CC_EXIT_NOTIFY and AUTH_FAIL_TEMP; not DYN_TLS_CRYPT (bit 9).
const ivProto = wire.IVProtoDataV2 | wire.IVProtoRequestPush | wire.IVProtoTLSKeyExport | wire.IVProtoAuthPendingKW |
	wire.IVProtoDNSOption | wire.IVProtoCCExitNotify | wire.IVProtoAuthFailTemp

// peerInfo builds the IV_ lines a 2.6 client sends (ssl.c push_peer_info),
// in 2.6's order: VER, PLAT, TCPNL, MTU, NCP, CIPHERS, PROTO, compression,
// then the push-peer-info extras and setenv'd IV_GUI_VER/IV_SSO/UV_*.
func peerInfo(o *config.Options, ciphers []string, noEKM bool) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	line("IV_VER", ProtocolVersion)
	line("IV_PLAT", "linux")
	line("IV_TCPNL", "1")
	mtuMax := 1600
	if len(o.Connections) > 0 && o.Connections[0].TunMTUMax > 0 {
		mtuMax = o.Connections[0].TunMTUMax
	}
	line("IV_MTU", fmt.Sprint(mtuMax))
	if slices.Contains(ciphers, "AES-128-GCM") && slices.Contains(ciphers, "AES-256-GCM") {
		line("IV_NCP", "2")
	}
	line("IV_CIPHERS", strings.Join(ciphers, ":"))
	proto := ivProto
	if noEKM {
		proto &^= wire.IVProtoTLSKeyExport
	}
	line("IV_PROTO", fmt.Sprint(proto))
	b.Write(comp.AppendPeerInfo(nil, compAllow(o), compMode(o)))
	var guiVer, sso string
	var uv []string
	for _, s := range o.Setenv {
		switch {
		case s.Name == "IV_GUI_VER":
			guiVer = s.Value
		case s.Name == "IV_SSO":
			sso = s.Value
		case strings.HasPrefix(s.Name, "UV_"):
			uv = append(uv, s.Name+"="+s.Value)
		}
	}
	if o.PushPeerInfo {
		if hw := defaultHWAddr(); hw != "" {
			line("IV_HWADDR", hw)
		}
		line("IV_SSL", "Go crypto/tls")
		for _, v := range uv {
			b.WriteString(v + "\n")
		}
	}
	if guiVer != "" {
		line("IV_GUI_VER", guiVer)
	}
	if sso != "" {
		line("IV_SSO", sso)
	}
	return b.String()
}

// defaultHWAddr returns the MAC of the first non-loopback interface that is
// up, for IV_HWADDR.
func defaultHWAddr() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 && len(i.HardwareAddr) == 6 {
			return i.HardwareAddr.String()
		}
	}
	return ""
}

// supportedCiphers filters data-ciphers to what openvpn-go implements,
// keeping the configured order.
func supportedCiphers(o *config.Options) ([]string, error) {
	var out []string
	for _, c := range o.Data.Ciphers {
		name, err := datacrypto.Canonical(c)
		if err != nil {
			continue
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("client: none of data-ciphers %s is supported; use AES-256-GCM, AES-128-GCM or CHACHA20-POLY1305", strings.Join(o.Data.Ciphers, ":"))
	}
	return out, nil
}

// occString builds the OCC options string sent in key-method 2
// (options.c options_string). Only its cipher field and ",comp-lzo," matter
// to a 2.6 peer; the rest is what 2.6 itself writes, to avoid warnings.
func occString(o *config.Options, ce *config.Connection, remote netip.AddrPort, tcp bool) string {
	var b strings.Builder
	devType := "tun"
	if o.Device.Type == config.DevTap {
		devType = "tap"
	}
	tunMTU := ce.TunMTU
	if tunMTU == 0 {
		tunMTU = 1500
	}
	occMTU := tunMTU
	if ce.TunMTUOCC > 0 {
		occMTU = ce.TunMTUOCC
	}
	// link-mtu as 2.6 computes it for the OCC string (mtu.c
	// calc_options_string_link_mtu): the pre-2.6 formula with the BF-CBC
	// placeholder when no cipher is configured.
	cipher := ""
	if o.Data.Cipher != "" && slices.Contains(o.Data.Ciphers, o.Data.Cipher) {
		cipher = o.Data.Cipher
	}
	auth := o.Data.Auth
	if auth == "" {
		auth = "SHA1"
	}
	hmacLen := 20
	if ai, err := datacrypto.LookupAuth(auth); err == nil {
		hmacLen = ai.Size
	}
	overhead := 1 + 4 // opcode, packet-id
	keysize := 128
	authField := auth
	if cipher != "" {
		ci, err := datacrypto.LookupCipher(cipher)
		if err == nil {
			keysize = ci.KeySize * 8
			if ci.AEAD {
				authField = "[null-digest]"
				overhead += 16 + 12 + ci.BlockSize
			} else {
				overhead += ci.BlockSize + ci.IVSize + hmacLen
			}
		}
	} else {
		overhead += 16 + hmacLen // BF-CBC placeholder counts as none + 16
	}
	if isV1Framing(compMode(o)) {
		overhead++
	}
	if ce.Fragment > 0 {
		overhead += 4
	}
	if tcp {
		overhead += 2
	}
	proto := "UDPv4"
	if tcp {
		proto = "TCPv4_CLIENT"
	}
	fmt.Fprintf(&b, "V4,dev-type %s,link-mtu %d,tun-mtu %d,proto %s", devType, tunMTU+overhead, occMTU, proto)
	if o.Ifconfig.IPv6.IsValid() {
		b.WriteString(",tun-ipv6")
	}
	if compMode(o) != comp.None {
		b.WriteString(",comp-lzo")
	}
	if ce.Wrap.Mode == config.WrapTLSAuth && ce.Wrap.Direction != config.KeyDirBidirectional {
		fmt.Fprintf(&b, ",keydir %d", dirNumber(ce.Wrap.Direction))
	}
	if cipher != "" {
		fmt.Fprintf(&b, ",cipher %s", cipher)
	}
	fmt.Fprintf(&b, ",auth %s,keysize %d", authField, keysize)
	if ce.Wrap.Mode == config.WrapTLSAuth {
		b.WriteString(",tls-auth")
	}
	b.WriteString(",key-method 2,tls-client")
	return b.String()
}
