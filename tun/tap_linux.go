//go:build linux

package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// tapDevice is a layer-2 device: one Ethernet frame (without preamble or FCS,
// and without any packet-information header) per buffer, BatchSize 1. Read,
// Write, Name, MTU and Close may be called concurrently.
type tapDevice struct {
	file  *os.File   // attached /dev/net/tun, non-blocking, in the poller
	ctl   *ctlSocket // ioctls in the device's namespace
	nl    *os.File   // NETLINK_ROUTE socket subscribed to link changes
	index int32

	events  chan Event
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the event goroutine has exited

	closeOnce sync.Once
	closeErr  error
}

// newTAP starts the event goroutine for an attached tap file. It takes
// ownership of f and ctl only on success.
func newTAP(f *os.File, ctl *ctlSocket, name string) (*tapDevice, error) {
	index, err := ctl.index(name)
	if err != nil {
		return nil, err
	}
	nl, err := linkMonitor()
	if err != nil {
		return nil, fmt.Errorf("subscribe to link changes: %w", err)
	}
	d := &tapDevice{
		file:    f,
		ctl:     ctl,
		nl:      nl,
		index:   index,
		events:  make(chan Event, 5),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	// Read the initial state after subscribing, so no change is missed.
	flags, err := ctl.flags(name)
	if err != nil {
		nl.Close()
		return nil, err
	}
	mtu, err := ctl.mtu(name)
	if err != nil {
		nl.Close()
		return nil, err
	}
	go d.watch(flags&unix.IFF_RUNNING != 0, uint32(mtu))
	return d, nil
}

// linkMonitor opens a non-blocking netlink socket in the calling thread's
// namespace that receives RTM_NEWLINK/RTM_DELLINK notifications. It is
// wrapped in an os.File so that Close unblocks a pending Read.
func linkMonitor() (*os.File, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "netlink-link"), nil
}

// watch turns link notifications for the device into Events until Close. It
// reports EventUp first if the link is already running, like wireguard-go.
func (d *tapDevice) watch(running bool, mtu uint32) {
	defer close(d.done)
	defer close(d.events)
	if running && !d.emit(EventUp) {
		return
	}
	buf := make([]byte, 1<<16)
	for {
		n, err := d.nl.Read(buf)
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				continue // notifications were lost to an overrun; later ones still count
			}
			return // closed, or the socket failed: no more events
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
				continue
			}
			index := int32(binary.NativeEndian.Uint32(m.Data[4:8]))
			flags := binary.NativeEndian.Uint32(m.Data[8:12])
			if index != d.index {
				continue
			}
			nowRunning := flags&unix.IFF_RUNNING != 0
			if nowRunning != running {
				running = nowRunning
				e := Event(EventDown)
				if running {
					e = EventUp
				}
				if !d.emit(e) {
					return
				}
			}
			if attrs, err := syscall.ParseNetlinkRouteAttr(&m); err == nil {
				for _, a := range attrs {
					if a.Attr.Type == unix.IFLA_MTU && len(a.Value) >= 4 {
						if v := binary.NativeEndian.Uint32(a.Value); v != mtu {
							mtu = v
							if !d.emit(EventMTUUpdate) {
								return
							}
						}
					}
				}
			}
		}
	}
}

// emit delivers e unless the device is closing; it reports whether it did.
func (d *tapDevice) emit(e Event) bool {
	select {
	case d.events <- e:
		return true
	case <-d.closing:
		return false
	}
}

// File returns the /dev/net/tun file of the device.
func (d *tapDevice) File() *os.File { return d.file }

// Read reads one frame into bufs[0][offset:] and sets sizes[0]. It blocks
// until a frame arrives or the device is closed (then it returns an error
// matching os.ErrClosed).
func (d *tapDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	n, err := d.file.Read(bufs[0][offset:])
	if err != nil {
		return 0, mapClosed(err)
	}
	sizes[0] = n
	return 1, nil
}

// Write writes each bufs[i][offset:] as one frame; offset must be at least
// Offset, as for every Device. It returns the number of frames written; a
// frame the kernel rejects does not stop the others, and the errors are
// joined.
func (d *tapDevice) Write(bufs [][]byte, offset int) (int, error) {
	if offset < Offset {
		return 0, fmt.Errorf("tun: write with offset %d: leave at least tun.Offset (%d) bytes of headroom", offset, Offset)
	}
	var (
		errs    error
		written int
	)
	for _, b := range bufs {
		if _, err := d.file.Write(b[offset:]); err != nil {
			if err = mapClosed(err); err == os.ErrClosed {
				return written, err
			}
			errs = errors.Join(errs, err)
			continue
		}
		written++
	}
	return written, errs
}

// Name returns the interface's current name.
func (d *tapDevice) Name() (string, error) {
	name, _, err := ifaceInfo(d.file)
	if err != nil {
		return "", fmt.Errorf("tun: name: %w", err)
	}
	return name, nil
}

// MTU returns the interface's current MTU in bytes (the Ethernet payload
// size: frames are up to MTU+14 bytes, or MTU+18 with a VLAN tag).
func (d *tapDevice) MTU() (int, error) {
	name, err := d.Name()
	if err != nil {
		return 0, err
	}
	mtu, err := d.ctl.mtu(name)
	if err != nil {
		return 0, fmt.Errorf("tun: %w", err)
	}
	return mtu, nil
}

// Events returns the channel of state changes; it is closed by Close.
func (d *tapDevice) Events() <-chan Event { return d.events }

// BatchSize is 1: a tap device moves one frame per system call.
func (d *tapDevice) BatchSize() int { return 1 }

// Close closes the device: a blocked Read returns, the event goroutine exits
// and Events is closed before Close returns. It is safe to call more than once.
func (d *tapDevice) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
		d.nl.Close()
		<-d.done
		d.closeErr = d.file.Close()
		d.ctl.close()
	})
	return d.closeErr
}
