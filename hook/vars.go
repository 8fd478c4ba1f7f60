package hook

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

// SetOptions adds the variables openvpn 2.6 sets from its configuration at
// start-up (the setenv and setenv-safe values while the configuration is
// read, then options.c setenv_settings):
//
//   - every "setenv NAME value" as NAME, every "setenv-safe NAME value" as
//     OPENVPN_NAME (skipped, as openvpn does, if the prefixed name is longer
//     than 63 bytes); IV_* and UV_* values too;
//   - config (the first configuration file; unset without one), verb,
//     daemon, daemon_log_redirect (1 with log or log-append),
//     daemon_start_time (start, in Unix seconds) and daemon_pid (pid);
//   - for each connection entry i (from 1): proto_i ("udp", "tcp-client",
//     "udp6"...), local_i (only with "local"), local_port_i (only when the
//     socket binds), remote_i (only with a remote), remote_port_i, and the
//     http_proxy_server_i/http_proxy_port_i or socks_proxy_server_i/
//     socks_proxy_port_i of the entry's proxy.
//
// The DNS variables a p2p or server configuration exports are not included.
func (e *Env) SetOptions(o *config.Options, start time.Time, pid int) {
	e.SetSetenv(o.Setenv)
	if o.ConfigFile != "" {
		e.Set("config", o.ConfigFile)
	} else {
		e.Del("config")
	}
	e.SetInt("verb", int64(o.Log.Verb))
	e.Set("daemon", boolString(o.Process.Daemon))
	e.Set("daemon_log_redirect", boolString(o.Log.File != ""))
	e.SetInt("daemon_start_time", start.Unix())
	e.SetInt("daemon_pid", int64(pid))
	for i, c := range o.Connections {
		n := "_" + strconv.Itoa(i+1)
		e.Set("proto"+n, config.ProtoName(c.Proto, c.Family))
		setOrDel(e, "local"+n, c.Local)
		if c.Bind {
			e.SetInt("local_port"+n, int64(c.LocalPort))
		} else {
			e.Del("local_port" + n)
		}
		setOrDel(e, "remote"+n, c.Remote)
		e.SetInt("remote_port"+n, int64(c.RemotePort))
		if p := c.HTTPProxy; p != nil {
			e.Set("http_proxy_server"+n, p.Host)
			e.SetInt("http_proxy_port"+n, int64(p.Port))
		}
		if p := c.SocksProxy; p != nil {
			e.Set("socks_proxy_server"+n, p.Host)
			e.SetInt("socks_proxy_port"+n, int64(p.Port))
		}
	}
}

// SetSetenv adds "setenv" values as they are and "setenv-safe" values
// (configured or pushed) with the OPENVPN_ prefix; a prefixed name longer
// than 63 bytes is skipped, as openvpn's fixed buffer skips it.
func (e *Env) SetSetenv(list []config.Setenv) {
	for _, s := range list {
		if !s.Safe {
			e.Set(s.Name, s.Value)
		} else if name := "OPENVPN_" + s.Name; len(name) < 64 {
			e.Set(name, s.Value)
		}
	}
}

// setOrDel sets name, or removes it for an empty value (openvpn's
// setenv_str with a NULL value).
func setOrDel(e *Env, name, value string) {
	if value == "" {
		e.Del(name)
		return
	}
	e.Set(name, value)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// UpDown describes the tunnel to the up, down and route-pre-down scripts
// (init.c run_up_down).
type UpDown struct {
	// Dev is the actual device name ("tun0").
	Dev string
	// DevType is "tun" or "tap"; openvpn sets dev_type for up only, so it may
	// be left empty for down and route-pre-down.
	DevType string
	// TunMTU is the device MTU.
	TunMTU int
	// IfconfigLocal is the local tunnel address and IfconfigRemote the peer's
	// address (net30, p2p) or the netmask (subnet, tap); "" when not set.
	IfconfigLocal, IfconfigRemote string
	// Context is "init", or "restart" when the device was kept over a
	// restart (persist-tun with up-restart). Empty means "init".
	Context string
	// Signal is the reason the tunnel goes down ("sigterm", "sigusr1",
	// "ping-restart", "connection-reset"...), for down and route-pre-down;
	// empty leaves the signal variable alone.
	Signal string
}

// Args are the positional arguments appended to up, down and
// route-pre-down commands: dev tun_mtu 0 ifconfig_local ifconfig_remote
// context. The third argument used to be link_mtu and is always 0 since
// 2.6; empty addresses stay as empty arguments.
func (u UpDown) Args() []string {
	return []string{u.Dev, strconv.Itoa(u.TunMTU), "0", u.IfconfigLocal, u.IfconfigRemote, u.context()}
}

func (u UpDown) context() string {
	if u.Context == "" {
		return "init"
	}
	return u.Context
}

// SetUpDown adds the variables run_up_down sets: signal (when given),
// script_context, tun_mtu, dev and dev_type (when given).
func (e *Env) SetUpDown(u UpDown) {
	if u.Signal != "" {
		e.Set("signal", u.Signal)
	}
	e.Set("script_context", u.context())
	e.SetInt("tun_mtu", int64(u.TunMTU))
	e.Set("dev", u.Dev)
	if u.DevType != "" {
		e.Set("dev_type", u.DevType)
	}
}

// SetTrusted sets trusted_ip (IPv4, including an IPv4-mapped IPv6 address
// shown in dotted IPv4) or trusted_ip6, and trusted_port when the port is
// not 0: the authenticated peer's address, before ipchange, client-connect
// and client-disconnect (socket.c setenv_trusted).
func (e *Env) SetTrusted(ap netip.AddrPort) { e.setSockaddr("trusted", ap) }

// SetUntrusted sets untrusted_ip or untrusted_ip6 and untrusted_port like
// [Env.SetTrusted]: the address of a peer not yet authenticated, before
// tls-verify and auth-user-pass-verify.
func (e *Env) SetUntrusted(ap netip.AddrPort) { e.setSockaddr("untrusted", ap) }

func (e *Env) setSockaddr(prefix string, ap netip.AddrPort) {
	a := ap.Addr()
	if !a.IsValid() {
		return
	}
	if a.Is4() || a.Is4In6() {
		e.Set(prefix+"_ip", a.Unmap().String())
	} else {
		e.Set(prefix+"_ip6", a.String())
	}
	if ap.Port() != 0 {
		e.SetInt(prefix+"_port", int64(ap.Port()))
	}
}

// PoolAddrs are a client's tunnel addresses as the server exports them to
// client-connect, client-disconnect and learn-address scripts
// (multi.c multi_set_virtual_addr_env). Invalid and unspecified addresses
// are not exported.
type PoolAddrs struct {
	// RemoteIP is the client's IPv4 address (ifconfig_pool_remote_ip).
	RemoteIP netip.Addr
	// Netmask (ifconfig_pool_netmask) is set with topology subnet and tap;
	// LocalIP (ifconfig_pool_local_ip), the server's end of the pair, with
	// net30 and p2p. Set one of them.
	Netmask, LocalIP netip.Addr
	// RemoteIP6 is the client's IPv6 address (ifconfig_pool_remote_ip6),
	// LocalIP6 the server's (ifconfig_pool_local_ip6) and IP6Bits the prefix
	// length (ifconfig_pool_ip6_netbits, exported with RemoteIP6).
	RemoteIP6, LocalIP6 netip.Addr
	IP6Bits             int
}

// SetPoolAddrs replaces the ifconfig_pool_* variables with p.
func (e *Env) SetPoolAddrs(p PoolAddrs) {
	for _, n := range []string{"ifconfig_pool_local_ip", "ifconfig_pool_remote_ip", "ifconfig_pool_netmask"} {
		e.Del(n)
	}
	setAddr := func(name string, a netip.Addr) {
		if a.IsValid() && !a.IsUnspecified() {
			e.Set(name, a.String())
		}
	}
	setAddr("ifconfig_pool_remote_ip", p.RemoteIP)
	setAddr("ifconfig_pool_netmask", p.Netmask)
	setAddr("ifconfig_pool_local_ip", p.LocalIP)
	for _, n := range []string{"ifconfig_pool_local_ip6", "ifconfig_pool_remote_ip6", "ifconfig_pool_ip6_netbits"} {
		e.Del(n)
	}
	if p.RemoteIP6.IsValid() {
		setAddr("ifconfig_pool_remote_ip6", p.RemoteIP6)
		setAddr("ifconfig_pool_local_ip6", p.LocalIP6)
		e.SetInt("ifconfig_pool_ip6_netbits", int64(p.IP6Bits))
	}
}

// SetConnectTime sets time_ascii ("2006-01-02 15:04:05" in t's location;
// openvpn uses local time, so pass a time.Now() value) and time_unix, the
// time the client instance was created.
func (e *Env) SetConnectTime(t time.Time) {
	e.Set("time_ascii", t.Format(time.DateTime))
	e.SetInt("time_unix", t.Unix())
}

// SetDisconnect sets the client-disconnect statistics: bytes_received and
// bytes_sent (link bytes from and to the client) and time_duration (whole
// seconds since the instance was created).
func (e *Env) SetDisconnect(bytesReceived, bytesSent uint64, duration time.Duration) {
	e.SetUint("bytes_received", bytesReceived)
	e.SetUint("bytes_sent", bytesSent)
	e.SetInt("time_duration", int64(duration/time.Second))
}
