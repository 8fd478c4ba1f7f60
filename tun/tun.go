package tun

import (
	"errors"
	"fmt"
	"strings"

	wgtun "golang.zx2c4.com/wireguard/tun"
)

// Device is a tunnel device. Read returns outbound packets (or frames, for a
// tap device) and Write takes inbound ones; both work on batches of at most
// BatchSize packets that start offset bytes into each buffer. Read and Write
// may be called concurrently with each other and with Close; Close unblocks a
// blocked Read and closes the Events channel. See the wireguard-go
// documentation of tun.Device for the full contract.
type Device = wgtun.Device

// Event is a device state change delivered on Device.Events.
type Event = wgtun.Event

// Events a Device reports.
const (
	EventUp        = wgtun.EventUp        // the link became up and running
	EventDown      = wgtun.EventDown      // the link went down
	EventMTUUpdate = wgtun.EventMTUUpdate // the MTU may have changed: call MTU
)

// Offset is the headroom, in bytes, that callers must leave in front of every
// packet they pass to Device.Write, for every kind of device. A tun device
// writes the 10-byte virtio-net header there; other devices ignore it.
// Passing the same offset to Read keeps buffer handling symmetric.
const Offset = 10

// MaxPacketSize is the largest packet (or frame) in bytes a Read can return
// into one buffer: size buffers as Offset+MaxPacketSize to never truncate.
const MaxPacketSize = 65535

// Kind is the kind of tunnel device.
type Kind int

// The kinds of device.
const (
	// TUN is a layer-3 device carrying IPv4 and IPv6 packets (--dev-type tun).
	TUN Kind = iota + 1
	// TAP is a layer-2 device carrying Ethernet frames (--dev-type tap).
	TAP
)

// String returns "tun" or "tap".
func (k Kind) String() string {
	switch k {
	case TUN:
		return "tun"
	case TAP:
		return "tap"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrUnknownKind is returned by KindOf when neither the device type nor the
// device name says whether the device is a tun or a tap device.
var ErrUnknownKind = errors.New("tun: cannot tell whether the device is tun or tap")

// KindOf returns the kind of device that OpenVPN's --dev dev and --dev-type
// devType select. An explicit devType ("tun" or "tap") wins; otherwise the
// name decides by its prefix ("tun0", "tap-lan"). "null" and other types are
// not supported.
func KindOf(dev, devType string) (Kind, error) {
	switch devType {
	case "tun":
		return TUN, nil
	case "tap":
		return TAP, nil
	case "":
	default:
		return 0, fmt.Errorf("tun: dev-type %q is not supported: use tun or tap", devType)
	}
	switch {
	case strings.HasPrefix(dev, "tun"):
		return TUN, nil
	case strings.HasPrefix(dev, "tap"):
		return TAP, nil
	}
	return 0, fmt.Errorf("%w %q: add dev-type tun or dev-type tap", ErrUnknownKind, dev)
}

// maxNameLen is IFNAMSIZ-1: the longest interface name Linux accepts.
const maxNameLen = 15

// kernelName returns the name to pass to TUNSETIFF for the --dev value name:
// "", "tun" and "tap" become the kernel template "tun%d"/"tap%d" (the next
// free unit), anything else is checked and used as given.
func kernelName(name string, kind Kind) (string, error) {
	switch kind {
	case TUN, TAP:
	default:
		return "", fmt.Errorf("tun: unknown device kind %d: use tun.TUN or tun.TAP", int(kind))
	}
	if name == "" || name == "tun" || name == "tap" {
		return kind.String() + "%d", nil
	}
	if len(name) > maxNameLen {
		return "", fmt.Errorf("tun: device name %q is longer than %d bytes: choose a shorter --dev", name, maxNameLen)
	}
	if name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\r\v\f") {
		return "", fmt.Errorf("tun: device name %q is not a valid interface name: avoid '/', ':' and spaces", name)
	}
	return name, nil
}

// checkMTU validates an MTU argument: 0 keeps the device's MTU, anything else
// must be within what Linux allows for a tun/tap device.
func checkMTU(mtu int) error {
	if mtu != 0 && (mtu < 68 || mtu > MaxPacketSize) {
		return fmt.Errorf("tun: MTU %d is out of range: use 68..%d, or 0 to keep the device's MTU", mtu, MaxPacketSize)
	}
	return nil
}
