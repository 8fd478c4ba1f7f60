package ctlwrap

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/replay"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Errors wrapped by the errors of this package. Every failure to unwrap is a
// reason to drop the packet silently, as openvpn does.
var (
	// ErrMalformed: the packet is too short or its framing is inconsistent.
	ErrMalformed = errors.New("malformed wrapped packet")
	// ErrAuth: the HMAC or tag does not match (wrong key, wrong direction,
	// corrupted or forged packet).
	ErrAuth = errors.New("packet authentication failed")
	// ErrReplay: the packet authenticated but its replay id was seen before
	// or is too old.
	ErrReplay = errors.New("packet replay")
	// ErrNoClientKey: a tls-crypt-v2 server session has no client key yet
	// (its first packet must be P_CONTROL_HARD_RESET_CLIENT_V3 or
	// P_CONTROL_WKC_V1).
	ErrNoClientKey = errors.New("no tls-crypt-v2 client key yet")
	// ErrPIDExhausted: the 32-bit send counter is used up; renegotiate.
	ErrPIDExhausted = errors.New("wrap packet id exhausted")
)

// Pre-built errors for the per-packet paths, so that failures do not
// allocate either.
var (
	errShortPlain = fmt.Errorf("ctlwrap: %w: plain control packet shorter than %d bytes (opcode and session id)", ErrMalformed, wire.HeaderLen)
	errAuthFailed = fmt.Errorf("ctlwrap: %w: drop the packet", ErrAuth)
	errReplayed   = fmt.Errorf("ctlwrap: %w: drop the packet", ErrReplay)
	errExhausted  = fmt.Errorf("ctlwrap: %w: renegotiate before 2^32 control packets", ErrPIDExhausted)
	errNoKey      = fmt.Errorf("ctlwrap: %w: drop packets until the client sends its WKc", ErrNoClientKey)

	errShortAuth    = fmt.Errorf("ctlwrap: %w: tls-auth packet shorter than opcode, session id, HMAC and packet id", ErrMalformed)
	errShortCrypt   = fmt.Errorf("ctlwrap: %w: tls-crypt packet shorter than %d bytes", ErrMalformed, cryptOffCT)
	errNoWKcLen     = fmt.Errorf("ctlwrap: %w: packet too short to hold a WKc length", ErrMalformed)
	errWKcOverrun   = fmt.Errorf("ctlwrap: %w: WKc length exceeds the bytes after the opcode", ErrMalformed)
	errWKcLen       = fmt.Errorf("ctlwrap: %w: WKc length outside [%d, %d]", ErrMalformed, keys.TLSCryptV2MinWKcLen, keys.TLSCryptV2MaxWKcLen)
	errWKcSelfLen   = fmt.Errorf("ctlwrap: %w: WKc does not end in its own length", ErrMalformed)
	errWKcAuth      = fmt.Errorf("ctlwrap: tls-crypt-v2 client key: %w: the WKc was not made with this server key", ErrAuth)
	errNotWKcOpcode = fmt.Errorf("ctlwrap: %w: only P_CONTROL_HARD_RESET_CLIENT_V3 and P_CONTROL_WKC_V1 carry a WKc", ErrMalformed)
	errEmpty        = fmt.Errorf("ctlwrap: %w: empty packet", ErrMalformed)
)

// Wrapper converts between plain control packets and their wrapped wire form
// for one control session. See the package documentation for the buffer and
// concurrency rules.
type Wrapper interface {
	// Wrap appends the wire form of the plain control packet plain to dst,
	// using the next send packet id.
	Wrap(dst, plain []byte) ([]byte, error)
	// Unwrap authenticates (and decrypts) the wire packet pkt, checks its
	// replay id at time now and appends the plain packet to dst.
	Unwrap(dst, pkt []byte, now time.Time) ([]byte, error)
	// Overhead returns how many bytes Wrap adds to a plain packet (not
	// counting a tls-crypt-v2 WKc).
	Overhead() int
	// SetSendID sets the send counter so that the next Wrap uses last+1.
	SetSendID(last uint32)
}

// Stateless is implemented by the wrappers whose packets a server can verify
// and answer before it has any session state (None, TLSAuth, TLSCrypt). Both
// methods are safe for concurrent use and leave the send counter and the
// replay window alone.
type Stateless interface {
	// UnwrapStateless is Unwrap without the replay check.
	UnwrapStateless(dst, pkt []byte) ([]byte, error)
	// WrapStateless is Wrap with the given packet id.
	WrapStateless(dst, plain []byte, pid wire.WrapPID) ([]byte, error)
}

// Options are the per-session settings of a wrapper.
type Options struct {
	// Start is the sender's start time, written (in unix seconds) as the
	// time half of every send packet id. Zero means time.Now() when the
	// wrapper is created.
	Start time.Time
	// ReplayWindow is --replay-window's size; 0 means replay.DefaultSize (64).
	ReplayWindow int
	// ReplayBacktrack is --replay-window's time; 0 means
	// replay.DefaultBacktrack (15 s).
	ReplayBacktrack time.Duration
}

// counter is a send packet id (packet_id.c packet_id_send).
type counter struct {
	id, time uint32
}

func newCounter(o *Options) counter {
	t := o.Start
	if t.IsZero() {
		t = time.Now()
	}
	return counter{time: uint32(t.Unix())}
}

// next pre-increments the counter. openvpn rolls the long form over when its
// clock has moved past the start time; a control session never gets near
// 2^32 packets, so we refuse instead.
func (c *counter) next() (wire.WrapPID, error) {
	if c.id == math.MaxUint32 {
		return wire.WrapPID{}, errExhausted
	}
	c.id++
	return wire.WrapPID{ID: c.id, Time: c.time}, nil
}

func newWindow(o *Options) *replay.Window {
	size, bt := o.ReplayWindow, o.ReplayBacktrack
	if size <= 0 {
		size = replay.DefaultSize
	}
	if bt <= 0 {
		bt = replay.DefaultBacktrack
	}
	return replay.New(size, bt)
}

// accept runs the replay check for an authenticated packet.
func accept(w *replay.Window, pid wire.WrapPID, now time.Time) error {
	if !w.Check(pid.ID, pid.Time, now) {
		return errReplayed
	}
	w.Add(pid.ID, pid.Time, now)
	return nil
}

// extend grows dst by n bytes and returns the extended slice and the new
// part. It allocates only when dst lacks capacity.
func extend(dst []byte, n int) ([]byte, []byte) {
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	return dst, dst[start:]
}

// None is the absence of wrapping: wire and plain forms are identical. It
// implements Wrapper and Stateless; all its methods are safe for concurrent
// use.
type None struct{}

// Wrap appends plain to dst.
func (None) Wrap(dst, plain []byte) ([]byte, error) {
	if len(plain) < wire.HeaderLen {
		return dst, errShortPlain
	}
	return append(dst, plain...), nil
}

// Unwrap appends pkt to dst.
func (None) Unwrap(dst, pkt []byte, _ time.Time) ([]byte, error) {
	if len(pkt) < wire.HeaderLen {
		return dst, errShortPlain
	}
	return append(dst, pkt...), nil
}

// UnwrapStateless appends pkt to dst.
func (n None) UnwrapStateless(dst, pkt []byte) ([]byte, error) {
	return n.Unwrap(dst, pkt, time.Time{})
}

// WrapStateless appends plain to dst.
func (n None) WrapStateless(dst, plain []byte, _ wire.WrapPID) ([]byte, error) {
	return n.Wrap(dst, plain)
}

// Overhead returns 0.
func (None) Overhead() int { return 0 }

// SetSendID does nothing: unwrapped packets carry no replay id.
func (None) SetSendID(uint32) {}

// The wrappers and the interfaces they implement.
var (
	_ Wrapper   = None{}
	_ Stateless = None{}
	_ Wrapper   = (*TLSAuth)(nil)
	_ Stateless = (*TLSAuth)(nil)
	_ Wrapper   = (*TLSCrypt)(nil)
	_ Stateless = (*TLSCrypt)(nil)
	_ Wrapper   = (*TLSCryptV2Client)(nil)
	_ Stateless = (*TLSCryptV2Client)(nil)
	_ Wrapper   = (*TLSCryptV2Server)(nil)
)
