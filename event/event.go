// Package event holds the connection states that the management interface,
// status output and library users share (the names OpenVPN GUIs key on),
// and the value that reports a state change.
package event

import (
	"net/netip"
	"time"
)

// State is a connection state, named as OpenVPN's management interface
// names it (>STATE:).
type State int

const (
	Connecting State = iota + 1
	Wait
	Auth
	GetConfig
	AssignIP
	AddRoutes
	Connected
	Reconnecting
	Exiting
	Resolve
	TCPConnect
	AuthPending
)

var names = [...]string{
	Connecting: "CONNECTING", Wait: "WAIT", Auth: "AUTH", GetConfig: "GET_CONFIG",
	AssignIP: "ASSIGN_IP", AddRoutes: "ADD_ROUTES", Connected: "CONNECTED",
	Reconnecting: "RECONNECTING", Exiting: "EXITING", Resolve: "RESOLVE",
	TCPConnect: "TCP_CONNECT", AuthPending: "AUTH_PENDING",
}

// String returns the management-interface name, e.g. "CONNECTED".
func (s State) String() string {
	if s > 0 && int(s) < len(names) {
		return names[s]
	}
	return "UNKNOWN"
}

// StateChange reports a transition, with the fields of a >STATE: line.
type StateChange struct {
	Time  time.Time
	State State
	// Detail is SUCCESS/ERROR on CONNECTED, the reason (ping-restart,
	// SIGTERM, auth-failure, connection-reset...) on RECONNECTING/EXITING.
	Detail string
	// TunIPv4 and TunIPv6 are the tunnel addresses once assigned.
	TunIPv4 netip.Addr
	TunIPv6 netip.Addr
	// Remote and Local are the link's addresses once connected.
	Remote netip.AddrPort
	Local  netip.AddrPort
}
