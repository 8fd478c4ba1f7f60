package server

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/wire"
)

// pushBundleMax is the most bytes of options per PUSH_REPLY message
// (PUSH_BUNDLE_SIZE - 84 in 2.6).
const pushBundleMax = 1024 - 84

// pushOptions builds the client's options in 2.6's order (push.c
// prepare_push_reply): the global push list (minus push-reset/push-remove),
// the client's own pushes, then ifconfig-ipv6, ifconfig, peer-id,
// auth-token, cipher, protocol-flags/key-derivation and tun-mtu.
func (in *instance) pushOptions() []string {
	s := in.s
	var opts []string
	var removes []string
	reset := false
	if in.ccd != nil {
		removes, reset = in.ccd.PushRemove, in.ccd.PushReset
	}
	suppressIfconfig, suppressIfconfig6 := false, false
	for _, r := range removes {
		switch r {
		case "ifconfig":
			suppressIfconfig = true
		case "ifconfig-ipv6":
			suppressIfconfig6 = true
		}
	}
	if !reset {
	global:
		for _, e := range s.srv.Push {
			for _, r := range removes {
				if strings.HasPrefix(e.Option, r) {
					continue global
				}
			}
			// A pushed route equal to one of the client's iroutes is not
			// pushed to that client.
			if in.isOwnIRoute(e.Option) {
				continue
			}
			opts = append(opts, e.Option)
		}
	}
	if in.ccd != nil {
		for _, e := range in.ccd.Push {
			opts = append(opts, e.Option)
		}
	}
	if in.vaddr6.IsValid() && !suppressIfconfig6 {
		bits := 64
		if p := s.srv.Pool6; p.IsValid() {
			bits = p.Bits()
		}
		if in.ccd != nil && in.ccd.IfconfigIPv6Push.IsValid() {
			bits = in.ccd.IfconfigIPv6Push.Bits()
		}
		opts = append(opts, fmt.Sprintf("ifconfig-ipv6 %s/%d %s", in.vaddr6, bits, s.o.Ifconfig.IPv6.Addr()))
	}
	if in.vaddr4.IsValid() && !suppressIfconfig {
		opts = append(opts, fmt.Sprintf("ifconfig %s %s", in.vaddr4, in.vmask4))
	}
	if in.ivProto&wire.IVProtoDataV2 != 0 {
		opts = append(opts, fmt.Sprintf("peer-id %d", in.peer.ID()))
	}
	if in.token != "" {
		opts = append(opts, "auth-token "+in.token)
	}
	if in.supportsNCP() {
		opts = append(opts, "cipher "+in.cipher)
	}
	switch {
	case in.ivProto&wire.IVProtoCCExitNotify != 0:
		flags := "protocol-flags cc-exit"
		if in.ivProto&wire.IVProtoTLSKeyExport != 0 {
			flags += " tls-ekm"
		}
		opts = append(opts, flags)
	case in.ivProto&wire.IVProtoTLSKeyExport != 0:
		opts = append(opts, "key-derivation tls-ekm")
	}
	if _, ok := in.peerInfo["IV_MTU"]; ok {
		mtu := s.o.Connections[0].TunMTU
		if mtu == 0 {
			mtu = 1500
		}
		opts = append(opts, fmt.Sprintf("tun-mtu %d", mtu))
	}
	return opts
}

// isOwnIRoute reports whether a pushed "route"/"route-ipv6" is exactly one
// of the client's iroutes (remove_iroutes_from_push_route_list).
func (in *instance) isOwnIRoute(opt string) bool {
	if in.ccd == nil {
		return false
	}
	f := strings.Fields(opt)
	if len(f) >= 2 && f[0] == "route" {
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			return false
		}
		bits := 32
		if len(f) >= 3 {
			m, err := netip.ParseAddr(f[2])
			if err != nil {
				return false
			}
			bits = maskLen(m)
		}
		p := netip.PrefixFrom(a, bits)
		for _, r := range in.ccd.IRoutes {
			if r == p {
				return true
			}
		}
	}
	if len(f) >= 2 && f[0] == "route-ipv6" {
		p, err := netip.ParsePrefix(f[1])
		if err != nil {
			return false
		}
		for _, r := range in.ccd.IRoutes6 {
			if r == p {
				return true
			}
		}
	}
	return false
}

func maskLen(m netip.Addr) int {
	b := m.As4()
	n := 0
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) == 0 {
				return n
			}
			n++
		}
	}
	return n
}

// pushMessages splits options into PUSH_REPLY messages of at most
// pushBundleMax bytes; all but the last end with push-continuation 2 and,
// if there are several, the last with push-continuation 1.
func pushMessages(opts []string) []string {
	var msgs []string
	cur := "PUSH_REPLY"
	for _, o := range opts {
		if len(cur)+1+len(o)+len(",push-continuation 2") > pushBundleMax && cur != "PUSH_REPLY" {
			msgs = append(msgs, cur+",push-continuation 2")
			cur = "PUSH_REPLY"
		}
		cur += "," + o
	}
	if len(msgs) > 0 {
		cur += ",push-continuation 1"
	}
	return append(msgs, cur)
}

// sendPush sends the PUSH_REPLY.
func (in *instance) sendPush(now time.Time) {
	msgs := pushMessages(in.pushOptions())
	for _, m := range msgs {
		if err := in.sess.SendMessage(now, m); err != nil {
			in.logf("PUSH_REPLY: %v", err)
			return
		}
	}
	in.pushSent = now
	in.logf("SENT CONTROL [%s]: '%s' (status=1)", in.cn, redactToken(strings.Join(msgs, "' '")))
}

func redactToken(s string) string {
	i := strings.Index(s, "auth-token ")
	if i < 0 {
		return s
	}
	j := strings.IndexByte(s[i:], ',')
	if j < 0 {
		return s[:i] + "auth-token SESS_ID"
	}
	return s[:i] + "auth-token SESS_ID" + s[i+j:]
}

// serverOCC is the OCC options string a 2.6 server sends.
func serverOCC(o *config.Options, tcp bool) string {
	proto := "UDPv4"
	if tcp {
		proto = "TCPv4_SERVER"
	}
	dev := "tun"
	if o.Device.Type == config.DevTap {
		dev = "tap"
	}
	mtu := o.Connections[0].TunMTU
	if mtu == 0 {
		mtu = 1500
	}
	auth := o.Data.Auth
	if auth == "" {
		auth = "SHA1"
	}
	return fmt.Sprintf("V4,dev-type %s,link-mtu %d,tun-mtu %d,proto %s,auth %s,keysize 128,key-method 2,tls-server", dev, mtu+41, mtu, proto, auth)
}
