// Package tuntest provides an in-memory tun.Device for tests of code that
// reads and writes packets, without root and without a kernel device.
//
// Directions follow the project convention: the test sends on Outbound what
// the "host" sends into the tunnel (the Device returns it from Read, tun →
// network) and receives from Inbound what the code under test writes into
// the tunnel (network → tun).
package tuntest

import (
	"os"
	"sync"

	"github.com/openvpn-go/openvpn-go/tun"
)

// Device is an in-memory tun.Device. Create it with New. All methods are safe
// for concurrent use.
type Device struct {
	// Outbound carries packets that Read returns. Read takes the first one
	// blocking and then, up to BatchSize, whatever else is ready. The device
	// copies each packet, so the sender may reuse it.
	Outbound chan []byte
	// Inbound receives a copy of every packet passed to Write (without the
	// offset headroom). Write blocks until the test receives it or the
	// device is closed.
	Inbound chan []byte

	name      string
	mtu       int
	batch     int
	events    chan tun.Event
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns an open Device with the given name, MTU in bytes and batch
// size (values below 1 mean 1). Its Events channel reports EventUp once.
func New(name string, mtu, batchSize int) *Device {
	if batchSize < 1 {
		batchSize = 1
	}
	d := &Device{
		Outbound: make(chan []byte),
		Inbound:  make(chan []byte),
		name:     name,
		mtu:      mtu,
		batch:    batchSize,
		events:   make(chan tun.Event, 1),
		closed:   make(chan struct{}),
	}
	d.events <- tun.EventUp
	return d
}

var _ tun.Device = (*Device)(nil)

// File returns nil: there is no file behind the device.
func (d *Device) File() *os.File { return nil }

// Read copies packets from Outbound into bufs[i][offset:]. It blocks until
// at least one packet is available or the device is closed, in which case it
// returns os.ErrClosed. A packet longer than the buffer is truncated.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	select {
	case <-d.closed:
		return 0, os.ErrClosed
	case p := <-d.Outbound:
		sizes[0] = copy(bufs[0][offset:], p)
	}
	n := 1
	for n < len(bufs) && n < d.batch {
		select {
		case p := <-d.Outbound:
			sizes[n] = copy(bufs[n][offset:], p)
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

// Write sends a copy of each bufs[i][offset:] on Inbound. It returns the
// number of packets delivered and os.ErrClosed if the device was closed
// first.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	for i, b := range bufs {
		p := append([]byte(nil), b[offset:]...)
		select {
		case <-d.closed:
			return i, os.ErrClosed
		case d.Inbound <- p:
		}
	}
	return len(bufs), nil
}

// MTU returns the MTU given to New.
func (d *Device) MTU() (int, error) { return d.mtu, nil }

// Name returns the name given to New.
func (d *Device) Name() (string, error) { return d.name, nil }

// Events returns the event channel; it is closed by Close.
func (d *Device) Events() <-chan tun.Event { return d.events }

// BatchSize returns the batch size given to New.
func (d *Device) BatchSize() int { return d.batch }

// Close unblocks Read and Write and closes Events. It is safe to call more
// than once.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		close(d.closed)
		close(d.events)
	})
	return nil
}
