//go:build linux

package tun

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

const cloneDevice = "/dev/net/tun"

// Create creates (or attaches to an existing persistent) device of the given
// kind, sets its MTU in bytes (0 keeps the kernel's, 1500 for a new device)
// and returns it. The device is not brought up and has no addresses: that is
// package netconf's job. It disappears when the Device is closed, unless it
// was made persistent beforehand (openvpn --mktun, ip tuntap add).
//
// name follows OpenVPN's --dev: "", "tun" and "tap" let the kernel pick the
// next free tunN or tapN (read it back with Device.Name), a name containing
// "%d" is a kernel template, any other name is used exactly. Use KindOf to
// turn --dev and --dev-type into kind.
//
// The device is created in the network namespace of the calling thread, and
// that thread's namespace is where MTU and Name look the device up later.
func Create(name string, mtu int, kind Kind) (Device, error) {
	kname, err := kernelName(name, kind)
	if err != nil {
		return nil, err
	}
	if err := checkMTU(mtu); err != nil {
		return nil, err
	}
	flags := uint16(unix.IFF_NO_PI)
	if kind == TUN {
		flags |= unix.IFF_TUN | unix.IFF_VNET_HDR
	} else {
		flags |= unix.IFF_TAP
	}
	f, err := openClone(kname, flags)
	if err != nil {
		return nil, fmt.Errorf("tun: create %s device %q: %w", kind, kname, err)
	}
	dev, err := newDevice(f, mtu)
	if err != nil {
		f.Close()
		return nil, err
	}
	return dev, nil
}

// CreateFromFile returns a Device for f, an open /dev/net/tun descriptor that
// is already attached to a tun or tap interface (TUNSETIFF done, with
// IFF_NO_PI), typically received from a privileged helper. The kind and name
// are read from the descriptor; a tun descriptor may use IFF_VNET_HDR (then
// the offloads are enabled as for Create), a tap descriptor must not. mtu is
// the MTU to set in bytes, or 0 to keep the current one.
//
// Like net.FileConn, CreateFromFile duplicates the descriptor: the caller
// still owns f and should close it; closing f does not affect the Device. The
// interface must be in the calling thread's network namespace.
func CreateFromFile(f *os.File, mtu int) (Device, error) {
	if err := checkMTU(mtu); err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("tun: use descriptor %s: %w", f.Name(), err)
	}
	dup := -1
	cerr := rc.Control(func(fd uintptr) {
		dup, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return nil, fmt.Errorf("tun: use descriptor %s: %w", f.Name(), cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("tun: duplicate descriptor %s: %w", f.Name(), err)
	}
	// Non-blocking before os.NewFile, so that the runtime poller owns it and
	// Close unblocks a blocked Read.
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("tun: make descriptor %s non-blocking: %w", f.Name(), err)
	}
	df := os.NewFile(uintptr(dup), cloneDevice)
	if err := checkNoPI(df); err != nil {
		df.Close()
		return nil, err
	}
	dev, err := newDevice(df, mtu)
	if err != nil {
		df.Close()
		return nil, err
	}
	return dev, nil
}

// openClone opens the clone device and attaches it to interface name with
// flags. The returned file is non-blocking and registered with the poller.
func openClone(name string, flags uint16) (*os.File, error) {
	fd, err := unix.Open(cloneDevice, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return nil, fmt.Errorf("%s does not exist: load the tun kernel module or create the device node: %w", cloneDevice, err)
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("open %s: run as root or with CAP_NET_ADMIN, or have a helper pass the descriptor to CreateFromFile: %w", cloneDevice, err)
		}
		return nil, fmt.Errorf("open %s: %w", cloneDevice, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("TUNSETIFF: run as root or with CAP_NET_ADMIN: %w", err)
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EINVAL):
			return nil, fmt.Errorf("TUNSETIFF: the name is taken by a device of another kind or with other flags, or is in use: %w", err)
		}
		return nil, fmt.Errorf("TUNSETIFF: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), cloneDevice), nil
}

// ifaceInfo returns the interface name and TUN flags (IFF_TUN/IFF_TAP,
// IFF_NO_PI, IFF_VNET_HDR, ...) of an attached /dev/net/tun file. It does not
// depend on the calling thread's network namespace.
func ifaceInfo(f *os.File) (string, uint16, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", 0, err
	}
	var ifr *unix.Ifreq
	cerr := rc.Control(func(fd uintptr) {
		ifr, err = unix.NewIfreq("")
		if err == nil {
			err = unix.IoctlIfreq(int(fd), unix.TUNGETIFF, ifr)
		}
	})
	if cerr != nil {
		return "", 0, cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("TUNGETIFF: %w", err)
	}
	return ifr.Name(), ifr.Uint16(), nil
}

// checkNoPI verifies that a device was attached with IFF_NO_PI. TUNGETIFF
// cannot tell: it reports the read-only IFF_NOFILTER, which has the same value
// as IFF_NO_PI. The link's netlink attributes can (IFLA_TUN_PI), looked up in
// the calling thread's namespace.
func checkNoPI(f *os.File) error {
	name, _, err := ifaceInfo(f)
	if err != nil {
		return fmt.Errorf("tun: read device flags: %w", err)
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("tun: look up device %s (it must be in the calling thread's network namespace): %w", name, err)
	}
	tt, ok := link.(*netlink.Tuntap)
	if !ok {
		return fmt.Errorf("tun: device %s is a %s link, not tun/tap", name, link.Type())
	}
	if tt.Flags&netlink.TUNTAP_NO_PI == 0 {
		return fmt.Errorf("tun: device %s was opened without IFF_NO_PI: open it with IFF_NO_PI", name)
	}
	return nil
}

// newDevice wraps an attached /dev/net/tun file (opened with IFF_NO_PI)
// according to its flags and sets the MTU. It does not close f on error.
func newDevice(f *os.File, mtu int) (Device, error) {
	name, flags, err := ifaceInfo(f)
	if err != nil {
		return nil, fmt.Errorf("tun: read device flags: %w", err)
	}
	switch {
	case flags&unix.IFF_TUN != 0:
	case flags&unix.IFF_TAP != 0:
		if flags&unix.IFF_VNET_HDR != 0 {
			return nil, fmt.Errorf("tun: tap device %s was opened with IFF_VNET_HDR, which is not supported: open it without", name)
		}
	default:
		return nil, fmt.Errorf("tun: device %s is neither tun nor tap (flags %#x)", name, flags)
	}
	ctl, err := newCtlSocket()
	if err != nil {
		return nil, fmt.Errorf("tun: open control socket for %s: %w", name, err)
	}
	if mtu == 0 {
		mtu, err = ctl.mtu(name)
	} else {
		err = ctl.setMTU(name, mtu)
	}
	if err != nil {
		ctl.close()
		return nil, fmt.Errorf("tun: MTU of %s: %w", name, err)
	}
	if flags&unix.IFF_TUN != 0 {
		wg, err := wgtun.CreateTUNFromFile(f, mtu)
		if err != nil {
			ctl.close()
			return nil, fmt.Errorf("tun: set up tun device %s: %w", name, err)
		}
		return newNativeTUN(wg, ctl), nil
	}
	d, err := newTAP(f, ctl, name)
	if err != nil {
		ctl.close()
		return nil, fmt.Errorf("tun: set up tap device %s: %w", name, err)
	}
	return d, nil
}

// ctlSocket is a datagram socket used for interface ioctls (SIOCGIFMTU, ...).
// Those look the interface up by name in the socket's network namespace,
// which is fixed when the socket is created: keeping one socket per device
// makes MTU work from any thread. It is safe for concurrent use.
type ctlSocket struct{ f *os.File }

func newCtlSocket() (*ctlSocket, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &ctlSocket{f: os.NewFile(uintptr(fd), "tun-ctl")}, nil
}

func (c *ctlSocket) close() error { return c.f.Close() }

// ioctl runs an interface ioctl on name; prepare may fill in the request.
func (c *ctlSocket) ioctl(name string, req uint, prepare func(*unix.Ifreq)) (*unix.Ifreq, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		prepare(ifr)
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	cerr := rc.Control(func(fd uintptr) { err = unix.IoctlIfreq(int(fd), req, ifr) })
	if cerr != nil {
		return nil, cerr
	}
	return ifr, err
}

func (c *ctlSocket) mtu(name string) (int, error) {
	ifr, err := c.ioctl(name, unix.SIOCGIFMTU, nil)
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFMTU %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

func (c *ctlSocket) setMTU(name string, mtu int) error {
	_, err := c.ioctl(name, unix.SIOCSIFMTU, func(ifr *unix.Ifreq) { ifr.SetUint32(uint32(mtu)) })
	if err != nil {
		return fmt.Errorf("SIOCSIFMTU %s %d: %w", name, mtu, err)
	}
	return nil
}

func (c *ctlSocket) flags(name string) (uint16, error) {
	ifr, err := c.ioctl(name, unix.SIOCGIFFLAGS, nil)
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFFLAGS %s: %w", name, err)
	}
	return ifr.Uint16(), nil
}

func (c *ctlSocket) index(name string) (int32, error) {
	ifr, err := c.ioctl(name, unix.SIOCGIFINDEX, nil)
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX %s: %w", name, err)
	}
	return int32(ifr.Uint32()), nil
}

// nativeTUN is wireguard-go's tun device with three changes: Name and MTU
// work from any thread (wireguard-go resolves the name in the calling
// thread's namespace and caches it), and Events is drained internally after
// Close so that wireguard-go's status goroutines never block on a full
// channel nobody reads.
type nativeTUN struct {
	wgtun.Device
	ctl       *ctlSocket
	events    chan Event
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func newNativeTUN(wg wgtun.Device, ctl *ctlSocket) *nativeTUN {
	t := &nativeTUN{
		Device:  wg,
		ctl:     ctl,
		events:  make(chan Event, 5),
		closing: make(chan struct{}),
	}
	go t.forwardEvents(wg.Events())
	return t
}

// forwardEvents copies events until wireguard-go closes its channel (after
// Close), then closes ours. After Close it drops events instead of blocking.
func (t *nativeTUN) forwardEvents(in <-chan Event) {
	defer close(t.events)
	for e := range in {
		select {
		case t.events <- e:
		case <-t.closing:
		}
	}
}

// Name returns the interface's current name.
func (t *nativeTUN) Name() (string, error) {
	name, _, err := ifaceInfo(t.Device.File())
	if err != nil {
		return "", fmt.Errorf("tun: name: %w", err)
	}
	return name, nil
}

// MTU returns the interface's current MTU in bytes.
func (t *nativeTUN) MTU() (int, error) {
	name, err := t.Name()
	if err != nil {
		return 0, err
	}
	mtu, err := t.ctl.mtu(name)
	if err != nil {
		return 0, fmt.Errorf("tun: %w", err)
	}
	return mtu, nil
}

// Read reads up to len(bufs) packets (see Device). After Close it returns an
// error matching os.ErrClosed. wireguard-go's Read also hands over, once,
// the error that ended its netlink event listener (ENOBUFS when the host
// changes links and routes faster than it reads); that says nothing about
// the device, so Read tries again once before returning an error: a
// device that really fails fails again.
func (t *nativeTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	for try := 0; ; try++ {
		n, err := t.Device.Read(bufs, sizes, offset)
		if err == nil {
			return n, nil
		}
		select {
		case <-t.closing:
			return 0, os.ErrClosed
		default:
		}
		err = mapClosed(err)
		if try > 0 || errors.Is(err, os.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, wgtun.ErrTooManySegments) {
			return 0, err
		}
	}
}

// Write writes the packets bufs[i][offset:] (offset >= Offset), coalescing
// them where the offloads allow. It returns len(bufs) on success. On error
// the count is 0 even if some packets were written: wireguard-go reports
// bytes, not packets, so the split is unknown.
func (t *nativeTUN) Write(bufs [][]byte, offset int) (int, error) {
	if offset < Offset {
		return 0, fmt.Errorf("tun: write with offset %d: leave at least tun.Offset (%d) bytes of headroom", offset, Offset)
	}
	if _, err := t.Device.Write(bufs, offset); err != nil {
		return 0, mapClosed(err)
	}
	return len(bufs), nil
}

// Events returns the channel of state changes; it is closed after Close.
func (t *nativeTUN) Events() <-chan Event { return t.events }

// Close closes the device, unblocking Read; it is safe to call more than once.
func (t *nativeTUN) Close() error {
	t.closeOnce.Do(func() {
		close(t.closing)
		// wireguard-go closes the device even when stopping its netlink
		// listener fails because the listener had already ended ("file
		// already closed"): not an error of the device.
		if err := t.Device.Close(); !errors.Is(mapClosed(err), os.ErrClosed) {
			t.closeErr = err
		}
		t.ctl.close()
	})
	return t.closeErr
}

// mapClosed turns the errors a closed descriptor reports into os.ErrClosed.
func mapClosed(err error) error {
	if errors.Is(err, syscall.EBADFD) || errors.Is(err, os.ErrClosed) {
		return os.ErrClosed
	}
	return err
}
