package transport

// The machinery under udpConn and udpPacketConn: recvmmsg/sendmmsg on
// preallocated message headers, UDP GSO (UDP_SEGMENT) on send and UDP GRO on
// receive. Modelled on wireguard-go's conn package (bind_std.go, gso_linux.go,
// features_linux.go, errors_linux.go; MIT), written for this package's
// interfaces: message headers, iovecs, addresses and control messages are
// built in place, so a steady-state batch allocates nothing.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// maxIPv4UDPPayload and maxIPv6UDPPayload bound the sum of a GSO
	// send's segments: beyond them the kernel answers EMSGSIZE. IPv6 does
	// not count its own header (its payload length field excludes it).
	maxIPv4UDPPayload = 1<<16 - 1 - 20 - 8
	maxIPv6UDPPayload = 1<<16 - 1 - 8

	// gsoSegmentsOld is the kernel's UDP_MAX_SEGMENTS (segments per GSO
	// send) before commit 1382e3b6a350 ("net: change maximum number of UDP
	// segments to 128", Linux 6.11, backported to some stable kernels);
	// gsoSegmentsNew is the value since. The limit cannot be queried: we
	// start with 128 on kernels >= 6.11 and drop to 64 on EINVAL.
	gsoSegmentsOld = 64
	gsoSegmentsNew = 128

	// groBufSize holds any coalesced UDP_GRO message: the kernel stops
	// aggregating at 64 KiB of UDP payload.
	groBufSize = 1 << 16
	// groEntries is the number of 64 KiB receive buffers of a socket with
	// GRO on, hence the most datagrams (coalesced or not) one recvmmsg
	// returns and the bound of the segments carried over to the next
	// ReadBatch: 16 × 64 KiB = 1 MiB per socket.
	groEntries = 16
	// oobSize is the control buffer per received message: UDP_GRO's cmsg
	// needs CmsgSpace(4) = 24 bytes; the rest is room for cmsgs that a
	// Control function may have enabled.
	oobSize = 128

	// sendIovecs is the most packets one sendmmsg carries.
	sendIovecs = 4 * DefaultBatchSize

	// segLimitRetry is the number of WriteBatch calls after an EMSGSIZE (a segment
	// larger than the path MTU) after which full-size segments are tried
	// again, so that a transient PMTU drop does not disable GSO for good.
	segLimitRetry = 1 << 14
)

// offloadPolicy selects the offloads a new socket may use (both by
// default; OPENVPN_GO_UDP_OFFLOAD and tests restrict them).
type offloadPolicy struct{ noGSO, noGRO bool }

// envOffloadPolicy reads OPENVPN_GO_UDP_OFFLOAD: "0", "off", "false" or
// "none" turn GSO and GRO off, "gso" or "gro" allow only that one.
// Anything else (or unset) allows both. It is a debugging knob for drivers
// or kernels that mishandle UDP offloads, and for A/B measurements.
func envOffloadPolicy() offloadPolicy {
	switch v, _ := syscall.Getenv("OPENVPN_GO_UDP_OFFLOAD"); v {
	case "0", "off", "false", "none":
		return offloadPolicy{noGSO: true, noGRO: true}
	case "gso":
		return offloadPolicy{noGRO: true}
	case "gro":
		return offloadPolicy{noGSO: true}
	}
	return offloadPolicy{}
}

var kernelVersion = sync.OnceValues(func() (major, minor int) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return 0, 0
	}
	var v [2]int
	i := 0
	for _, c := range u.Release {
		if c >= '0' && c <= '9' {
			v[i] = v[i]*10 + int(c-'0')
			continue
		}
		if i++; i == len(v) || c != '.' {
			break
		}
	}
	return v[0], v[1]
})

func kernelAtLeast(major, minor int) bool {
	ma, mi := kernelVersion()
	return ma > major || ma == major && mi >= minor
}

// probeOffloads enables UDP_GRO and reports what the socket supports:
// tx when getsockopt(UDP_SEGMENT) works (Linux >= 4.18), rx when UDP_GRO
// reads back as on. UDP_GRO is only set on Linux >= 5.12: older kernels
// cannot read it back (commit 98184612aca0), which is how wireguard-go
// gates it too.
func probeOffloads(rc syscall.RawConn, pol offloadPolicy) (tx, rx bool) {
	rc.Control(func(fd uintptr) {
		if !pol.noGSO {
			_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
			tx = err == nil
		}
		if !pol.noGRO && kernelAtLeast(5, 12) {
			if unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil {
				v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO)
				rx = err == nil && v == 1
			}
		}
	})
	return tx, rx
}

// gsoCmsg is one UDP_SEGMENT control message, laid out as the kernel reads
// it (struct cmsghdr followed by a __u16, padded to CMSG_SPACE).
type gsoCmsg struct {
	hdr  unix.Cmsghdr
	size uint16
	_    [6]byte
}

// oobBuf is one message's receive control buffer (8-byte aligned).
type oobBuf [oobSize / 8]uint64

func setIovec(v *unix.Iovec, b []byte) {
	v.Base = unsafe.SliceData(b)
	v.SetLen(len(b))
}

func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// wrapErr maps a socket error to this package's errors.
func wrapErr(op string, err error) error {
	if errors.Is(err, net.ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("transport: %s: %w", op, err)
}

// ---- send ----

// outBatch is the packet source of one WriteBatch: a Conn's packets or a
// PacketConn's messages.
type outBatch interface {
	len() int
	pkt(i int) []byte
	// sameDst reports whether packets i and j go to the same peer.
	sameDst(i, j int) bool
	// maxPayload is the largest UDP payload towards packet i's peer.
	maxPayload(i int) int
	// address sets message m's destination to packet i's peer.
	address(w *udpWriter, m, i int)
}

// connOut is a connected socket's batch: no addresses.
type connOut struct {
	pkts [][]byte
	max  int
}

func (o connOut) len() int                       { return len(o.pkts) }
func (o connOut) pkt(i int) []byte               { return o.pkts[i] }
func (o connOut) sameDst(int, int) bool          { return true }
func (o connOut) maxPayload(int) int             { return o.max }
func (o connOut) address(w *udpWriter, m, _ int) { w.hs[m].Hdr.Name, w.hs[m].Hdr.Namelen = nil, 0 }

// packetOut is an unconnected socket's batch.
type packetOut struct {
	msgs []Message
	v6   bool // the socket is AF_INET6 (IPv4 peers are sent v4-mapped)
}

func (o packetOut) len() int                       { return len(o.msgs) }
func (o packetOut) pkt(i int) []byte               { return o.msgs[i].Buf }
func (o packetOut) sameDst(i, j int) bool          { return o.msgs[i].Addr == o.msgs[j].Addr }
func (o packetOut) address(w *udpWriter, m, i int) { w.setName(m, o.msgs[i].Addr, o.v6) }
func (o packetOut) maxPayload(i int) int {
	if a := o.msgs[i].Addr.Addr(); a.Is4() || a.Is4In6() {
		return maxIPv4UDPPayload
	}
	return maxIPv6UDPPayload
}

// udpWriter holds the send side of a socket. All of it is guarded by
// udpSock.wmu.
type udpWriter struct {
	hs    []unix.Mmsghdr // one per message (a datagram or a GSO run)
	iovs  []unix.Iovec   // one per packet
	names []unix.RawSockaddrInet6
	cms   []gsoCmsg
	first []int // first packet of each message, an index into the batch
	iov0  []int // first iovec of each message, an index into iovs
	segs  []int // packets in each message

	gso      bool // GSO on: cleared for good on EIO/EINVAL
	maxSegs  int  // segments per GSO send
	segLimit int  // largest segment size coalesced (lowered on EMSGSIZE)
	segAge   int  // WriteBatch calls since segLimit was lowered

	scopes map[string]uint32 // IPv6 zone → scope id

	// sendmmsg arguments and results, for sendFn (a method value bound
	// once, so the RawConn.Write callback does not allocate).
	start, end int
	n          int
	errno      syscall.Errno
	sendFn     func(fd uintptr) bool

	// fault, in tests, makes the simulated kernel refuse message k with
	// an errno (0: send it). Messages before k are sent for real.
	fault func(segs, segSize int) syscall.Errno
	// stats for tests
	gsoSends, gsoPackets int
}

func (w *udpWriter) init(gso bool) {
	w.hs = make([]unix.Mmsghdr, DefaultBatchSize)
	w.iovs = make([]unix.Iovec, sendIovecs)
	w.names = make([]unix.RawSockaddrInet6, DefaultBatchSize)
	w.cms = make([]gsoCmsg, DefaultBatchSize)
	w.first = make([]int, DefaultBatchSize)
	w.iov0 = make([]int, DefaultBatchSize)
	w.segs = make([]int, DefaultBatchSize)
	for i := range w.cms {
		w.cms[i].hdr.Level = unix.SOL_UDP
		w.cms[i].hdr.Type = unix.UDP_SEGMENT
		w.cms[i].hdr.SetLen(unix.CmsgLen(2))
	}
	w.gso = gso
	w.maxSegs = gsoSegmentsOld
	if kernelAtLeast(6, 11) {
		w.maxSegs = gsoSegmentsNew
	}
	w.segLimit = 1 << 16
	w.sendFn = w.sendmmsg
}

// build lays out packets [from, ...) of out as messages: runs of
// consecutive packets to the same peer with the same length (the last may
// be shorter) become one GSO message whose iovecs point into the caller's
// buffers. It returns the number of messages and the packet after the last
// one laid out.
func build[O outBatch](w *udpWriter, out O, from int) (nm, next int) {
	p, nv := from, 0
	for p < out.len() && nm < len(w.hs) && nv < len(w.iovs) {
		b := out.pkt(p)
		size := len(b)
		setIovec(&w.iovs[nv], b)
		cnt := 1
		if w.gso && size > 0 && size <= w.segLimit {
			total, limit := size, out.maxPayload(p)
			for p+cnt < out.len() && cnt < w.maxSegs && nv+cnt < len(w.iovs) {
				nb := out.pkt(p + cnt)
				l := len(nb)
				if l == 0 || l > size || total+l > limit || !out.sameDst(p, p+cnt) {
					break
				}
				setIovec(&w.iovs[nv+cnt], nb)
				cnt++
				total += l
				if l < size {
					break // a shorter packet ends the run
				}
			}
		}
		h := &w.hs[nm].Hdr
		h.Iov = &w.iovs[nv]
		h.SetIovlen(cnt)
		if cnt > 1 {
			w.cms[nm].size = uint16(size)
			h.Control = (*byte)(unsafe.Pointer(&w.cms[nm]))
			h.SetControllen(unix.CmsgSpace(2))
		} else {
			h.Control = nil
			h.SetControllen(0)
		}
		out.address(w, nm, p)
		w.first[nm], w.iov0[nm], w.segs[nm] = p, nv, cnt
		nm++
		p += cnt
		nv += cnt
	}
	return nm, p
}

// setName addresses message m to a (a v4-mapped address on an IPv6
// socket for an IPv4 peer).
func (w *udpWriter) setName(m int, a netip.AddrPort, v6 bool) {
	sa := &w.names[m]
	h := &w.hs[m].Hdr
	ip := a.Addr()
	if !v6 && (ip.Is4() || ip.Is4In6()) {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.As4()}
		putPort(&sa4.Port, a.Port())
		h.Name, h.Namelen = (*byte)(unsafe.Pointer(sa4)), unix.SizeofSockaddrInet4
		return
	}
	// IPv6 (or, on an IPv4 socket, an address the kernel will refuse).
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
	putPort(&sa.Port, a.Port())
	if z := ip.Zone(); z != "" {
		sa.Scope_id = w.scope(z)
	}
	h.Name, h.Namelen = (*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet6
}

func (w *udpWriter) scope(zone string) uint32 {
	if id, ok := w.scopes[zone]; ok {
		return id
	}
	var id uint32
	if ifi, err := net.InterfaceByName(zone); err == nil {
		id = uint32(ifi.Index)
	} else if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		id = uint32(n)
	}
	if w.scopes == nil {
		w.scopes = map[string]uint32{}
	}
	w.scopes[zone] = id
	return id
}

func (w *udpWriter) sendmmsg(fd uintptr) bool {
	end := w.end
	if w.fault != nil {
		for k := w.start; k < end; k++ {
			if e := w.fault(w.segs[k], int(w.iovs[w.iov0[k]].Len)); e != 0 {
				if k == w.start {
					w.n, w.errno = 0, e
					return true
				}
				end = k
				break
			}
		}
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hs[w.start])), uintptr(end-w.start), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until the socket is writable
		}
		w.n, w.errno = int(n), e
		return true
	}
}

// send writes messages [0, nm). It returns retry = -1 when they are all
// sent (or dropped, as datagrams may be), or retry >= 0: the index (into
// the batch) of the first packet to lay out again because the kernel
// refused an offload. The offload state has then been adjusted; the
// packets before retry have been sent once, the others not at all.
func (w *udpWriter) send(rc syscall.RawConn, nm int) (retry int, err error) {
	w.start = 0
	retried := false
	for w.start < nm {
		w.end = nm
		if err := rc.Write(w.sendFn); err != nil {
			return -1, wrapErr("sendmmsg", err)
		}
		if w.errno == 0 {
			for m := w.start; m < w.start+w.n; m++ {
				if w.segs[m] > 1 {
					w.gsoSends++
					w.gsoPackets += w.segs[m]
				}
			}
			w.start += max(w.n, 1)
			retried = false
			continue
		}
		m, e := w.start, w.errno
		if w.segs[m] > 1 {
			size := int(w.iovs[w.iov0[m]].Len)
			switch e {
			case unix.EIO:
				// udp_send_skb: the egress device cannot checksum (no tx
				// checksum offload), or IPsec: GSO is off for good.
				w.gso = false
				return w.first[m], nil
			case unix.EINVAL:
				if w.segs[m] > gsoSegmentsOld && w.maxSegs > gsoSegmentsOld {
					w.maxSegs = gsoSegmentsOld // a kernel with UDP_MAX_SEGMENTS 64
				} else {
					w.gso = false
				}
				return w.first[m], nil
			case unix.EMSGSIZE:
				// A segment does not fit the path MTU (the kernel does not
				// fragment GSO segments): send this size unsegmented.
				w.segLimit, w.segAge = size-1, 0
				return w.first[m], nil
			}
		}
		if !isTransient(e) {
			return -1, fmt.Errorf("transport: sendmmsg: %w", e)
		}
		if retried || e == unix.EMSGSIZE {
			w.start++ // lossy datagrams: drop this one
			retried = false
			continue
		}
		// A stale ICMP error (ECONNREFUSED) is reported once by the send
		// that did not go out; try it again before dropping it.
		retried = true
	}
	return -1, nil
}

// write sends a whole batch, falling back from GSO as the kernel requires.
func write[O outBatch](s *udpSock, out O) error {
	w := &s.w
	if w.segLimit < 1<<16 {
		if w.segAge++; w.segAge > segLimitRetry {
			w.segLimit = 1 << 16
		}
	}
	for from := 0; from < out.len(); {
		nm, next := build(w, out, from)
		retry, err := w.send(s.rc, nm)
		if err != nil {
			return err
		}
		if !w.gso && s.gsoOn.Load() {
			s.gsoOn.Store(false)
		}
		if retry >= 0 {
			next = retry
		}
		from = next
	}
	return nil
}

// ---- receive ----

// inBatch is the destination of one ReadBatch: a Conn's buffers and sizes
// or a PacketConn's messages.
type inBatch interface {
	len() int
	buf(i int) []byte
	set(i, n int, from netip.AddrPort)
}

type connIn struct {
	bufs  [][]byte
	sizes []int
}

func (c connIn) len() int                       { return min(len(c.bufs), len(c.sizes)) }
func (c connIn) buf(i int) []byte               { return c.bufs[i] }
func (c connIn) set(i, n int, _ netip.AddrPort) { c.sizes[i] = n }

type packetIn []Message

func (p packetIn) len() int         { return len(p) }
func (p packetIn) buf(i int) []byte { return p[i].Buf }
func (p packetIn) set(i, n int, from netip.AddrPort) {
	p[i].N, p[i].Addr = n, from
}

// udpReader holds the receive side of a socket. It is used by one
// goroutine at a time (the ReadBatch contract) and needs no lock.
type udpReader struct {
	hs        []unix.Mmsghdr
	iovs      []unix.Iovec
	names     []unix.RawSockaddrInet6
	oob       []oobBuf
	connected bool // no source addresses needed

	// GRO: datagrams are read into bufs (groEntries × groBufSize) and split
	// into the caller's buffers; what does not fit waits in [next, got)
	// for the next call, starting off bytes into entry next.
	gro             bool
	bufs            []byte
	seg             []int // per entry: UDP_GRO segment size, 0 for a plain datagram, -1 unusable
	got, next, off  int
	from            netip.AddrPort // source of entry next
	zones           map[uint32]string
	coalesced, segs int // stats for tests: GRO messages and their segments

	// recvmmsg arguments and results, for recvFn.
	cnt, n int
	errno  syscall.Errno
	recvFn func(fd uintptr) bool
}

func (r *udpReader) init(gro, connected bool) {
	n := DefaultBatchSize
	if gro {
		n = groEntries
		r.bufs = make([]byte, groEntries*groBufSize)
		r.seg = make([]int, groEntries)
		r.oob = make([]oobBuf, groEntries)
	}
	r.hs = make([]unix.Mmsghdr, n)
	r.iovs = make([]unix.Iovec, n)
	r.names = make([]unix.RawSockaddrInet6, n)
	r.gro, r.connected = gro, connected
	for i := range r.hs {
		r.hs[i].Hdr.Iov = &r.iovs[i]
		r.hs[i].Hdr.SetIovlen(1)
		if !connected {
			r.hs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		}
		if gro {
			r.hs[i].Hdr.Control = (*byte)(unsafe.Pointer(&r.oob[i]))
			setIovec(&r.iovs[i], r.bufs[i*groBufSize:(i+1)*groBufSize])
		}
	}
	r.recvFn = r.recvmmsg
}

func (r *udpReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(r.cnt), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until the socket is readable
		}
		r.n, r.errno = int(n), e
		return true
	}
}

// recv blocks until entries [0, cnt) hold at least one datagram.
func (r *udpReader) recv(rc syscall.RawConn, cnt int) (int, error) {
	for {
		for i := range cnt {
			h := &r.hs[i].Hdr
			if !r.connected {
				h.Namelen = unix.SizeofSockaddrInet6
			}
			if r.gro {
				h.SetControllen(oobSize)
			}
			h.Flags = 0
			r.hs[i].Len = 0
		}
		r.cnt = cnt
		if err := rc.Read(r.recvFn); err != nil {
			return 0, wrapErr("recvmmsg", err)
		}
		if r.errno != 0 {
			if isTransient(r.errno) {
				// ICMP errors on a connected socket (port unreachable while
				// the server restarts): keep reading.
				continue
			}
			return 0, fmt.Errorf("transport: recvmmsg: %w", r.errno)
		}
		if r.n > 0 {
			return r.n, nil
		}
	}
}

// addr returns entry e's source address (unmapped; a link-local IPv6
// source keeps its zone).
func (r *udpReader) addr(e int) netip.AddrPort {
	if r.connected {
		return netip.AddrPort{}
	}
	sa := &r.names[e]
	switch sa.Family {
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 && !a.Is4In6() {
			a = a.WithZone(r.zone(sa.Scope_id))
		}
		return netip.AddrPortFrom(a.Unmap(), getPort(&sa.Port))
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), getPort(&sa4.Port))
	}
	return netip.AddrPort{}
}

func (r *udpReader) zone(id uint32) string {
	if z, ok := r.zones[id]; ok {
		return z
	}
	z := strconv.FormatUint(uint64(id), 10)
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		z = ifi.Name
	}
	if r.zones == nil {
		r.zones = map[uint32]string{}
	}
	r.zones[id] = z
	return z
}

// groSize parses entry e's control messages for UDP_GRO: the segment
// size, 0 for a plain datagram, -1 when the control data was truncated
// (the datagram cannot be split safely).
func (r *udpReader) groSize(e int) int {
	h := &r.hs[e].Hdr
	if h.Flags&unix.MSG_CTRUNC != 0 {
		return -1
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&r.oob[e])), oobSize)[:min(int(h.Controllen), oobSize)]
	for len(b) >= unix.SizeofCmsghdr {
		c := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(c.Len)
		if l < unix.SizeofCmsghdr || l > len(b) {
			return 0
		}
		if c.Level == unix.SOL_UDP && c.Type == unix.UDP_GRO {
			d := b[unix.CmsgLen(0):l]
			switch {
			case len(d) >= 4: // the kernel sends an int
				return int(int32(binary.NativeEndian.Uint32(d)))
			case len(d) >= 2:
				return int(binary.NativeEndian.Uint16(d))
			}
		}
		b = b[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(b)):]
	}
	return 0
}

// read is ReadBatch for both socket kinds.
func read[I inBatch](s *udpSock, in I) (int, error) {
	r := &s.r
	want := in.len()
	if want == 0 {
		return 0, nil
	}
	if !r.gro {
		// Straight into the caller's buffers.
		cnt := min(want, len(r.hs))
		for i := range cnt {
			setIovec(&r.iovs[i], in.buf(i))
		}
		got, err := r.recv(s.rc, cnt)
		if err != nil {
			return 0, err
		}
		for i := range got {
			n := int(r.hs[i].Len)
			if r.hs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
				n = 0 // too long for its buffer: dropped
			}
			in.set(i, n, r.addr(i))
		}
		return got, nil
	}
	if r.next >= r.got {
		got, err := r.recv(s.rc, min(want, groEntries))
		if err != nil {
			return 0, err
		}
		for e := range got {
			r.seg[e] = r.groSize(e)
			if r.seg[e] > 0 {
				r.coalesced++
			}
		}
		r.got, r.next, r.off = got, 0, 0
	}
	i := 0
	for i < want && r.next < r.got {
		e := r.next
		if r.off == 0 {
			r.from = r.addr(e)
		}
		n := int(r.hs[e].Len)
		data := r.bufs[e*groBufSize : e*groBufSize+n]
		seg := r.seg[e]
		var pkt []byte
		ok := seg >= 0 && r.hs[e].Hdr.Flags&unix.MSG_TRUNC == 0
		if seg > 0 {
			end := min(r.off+seg, n)
			pkt = data[r.off:end]
			r.segs++
			if r.off = end; end >= n {
				r.next, r.off = r.next+1, 0
			}
		} else {
			pkt = data
			r.next++
		}
		b := in.buf(i)
		if !ok || len(pkt) > len(b) {
			in.set(i, 0, r.from) // dropped
		} else {
			in.set(i, copy(b, pkt), r.from)
		}
		i++
	}
	return i, nil
}
