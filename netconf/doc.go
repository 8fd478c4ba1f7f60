// Package netconf establishes a declared host network state — a link's MTU
// and up state, its addresses, routes, and host routes that keep chosen
// destinations on the path they had before the tunnel — and reverts it
// exactly.
//
// The caller describes the whole wanted state in a Config and hands it to a
// Configurator's Set, as often as it changes (after a reconnect, a new push).
// Set compares the Config with what it applied before and with the host, and
// changes only the difference. Everything it changes is recorded in a
// journal, so Close removes exactly what netconf added and restores what it
// modified (MTU, link state), leaving the host as found. Things that already
// existed are used but never owned, and never removed.
//
// Bypass entries are resolved with a route lookup to the address when they
// first appear, so a route pushed into the tunnel that covers, say, the VPN
// server's own address does not loop the connection into the tunnel. This
// works for IPv4 and IPv6, for gateways and on-link destinations.
//
// New and NewInNamespace return the Linux implementation (rtnetlink through
// github.com/vishvananda/netlink); Recorder applies Configs to an in-memory
// model of a host and records every change as an `ip` command line, for
// tests without root.
//
// The package starts no goroutines; every call does its work before it
// returns.
//
// The package knows nothing about OpenVPN: the client translates pushed
// options (ifconfig, route, redirect-gateway, ...) into a Config.
package netconf
