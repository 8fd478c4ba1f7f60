package ctlwrap

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/replay"
	"github.com/openvpn-go/openvpn-go/wire"
)

// Digest is an HMAC digest usable with tls-auth (--auth).
type Digest struct {
	name string
	new  func() hash.Hash
	size int
}

// Name returns the OpenSSL name of d, e.g. "SHA256".
func (d Digest) Name() string { return d.name }

// Size returns the MAC length of d in bytes (also its HMAC key length in
// OpenVPN).
func (d Digest) Size() int { return d.size }

var digests = []Digest{
	{"MD5", md5.New, md5.Size},
	{"SHA1", sha1.New, sha1.Size},
	{"SHA224", sha256.New224, sha256.Size224},
	{"SHA256", sha256.New, sha256.Size},
	{"SHA384", sha512.New384, sha512.Size384},
	{"SHA512", sha512.New, sha512.Size},
}

// ParseDigest returns the digest named by --auth (case-insensitive; "SHA-256"
// and "SHA2-256" spellings are accepted too). An empty name is SHA1,
// openvpn's default.
func ParseDigest(name string) (Digest, error) {
	n := strings.ToUpper(name)
	if n == "" {
		n = "SHA1"
	}
	n = strings.Replace(n, "SHA2-", "SHA", 1)
	n = strings.Replace(n, "SHA-", "SHA", 1)
	for _, d := range digests {
		if d.name == n {
			return d, nil
		}
	}
	return Digest{}, fmt.Errorf("ctlwrap: digest %q is not supported for tls-auth: use SHA1, SHA224, SHA256, SHA384, SHA512 or MD5", name)
}

// authDir is one direction of tls-auth: a digest and its HMAC key.
type authDir struct {
	d   Digest
	key []byte // prefix of the Key's HMAC slot, Digest.Size bytes
}

// authWork is tls-auth scratch space.
type authWork struct {
	mac macState
}

// sum computes HMAC(pid || time || op || sid || rest) into w.mac.sum.
func (a *authDir) sum(w *authWork, pidTime, head, rest []byte) []byte {
	w.mac.setKey(a.key)
	w.mac.reset()
	w.mac.write(pidTime)
	w.mac.write(head)
	w.mac.write(rest)
	return w.mac.final()
}

// wrap builds op || sid || HMAC || pid || time || rest.
func (a *authDir) wrap(w *authWork, dst, plain []byte, pid wire.WrapPID) ([]byte, error) {
	if len(plain) < wire.HeaderLen {
		return dst, errShortPlain
	}
	h := a.d.size
	dst, out := extend(dst, len(plain)+h+wire.WrapPIDLen)
	copy(out, plain[:wire.HeaderLen])
	pidTime := out[wire.HeaderLen+h : wire.HeaderLen+h+wire.WrapPIDLen]
	pid.Append(pidTime[:0])
	copy(out[wire.HeaderLen+h+wire.WrapPIDLen:], plain[wire.HeaderLen:])
	copy(out[wire.HeaderLen:], a.sum(w, pidTime, plain[:wire.HeaderLen], plain[wire.HeaderLen:]))
	return dst, nil
}

// unwrap verifies pkt and appends op || sid || rest to dst.
func (a *authDir) unwrap(w *authWork, dst, pkt []byte) ([]byte, wire.WrapPID, error) {
	h := a.d.size
	off := wire.HeaderLen + h + wire.WrapPIDLen
	if len(pkt) < off {
		return dst, wire.WrapPID{}, errShortAuth
	}
	pidTime := pkt[wire.HeaderLen+h : off]
	mac := a.sum(w, pidTime, pkt[:wire.HeaderLen], pkt[off:])
	if subtle.ConstantTimeCompare(mac, pkt[wire.HeaderLen:wire.HeaderLen+h]) != 1 {
		return dst, wire.WrapPID{}, errAuthFailed
	}
	pid, _ := wire.ParseWrapPID(pidTime)
	rest := len(pkt) - off
	dst, out := extend(dst, wire.HeaderLen+rest)
	copy(out, pkt[:wire.HeaderLen])
	copy(out[wire.HeaderLen:], pkt[off:])
	return dst, pid, nil
}

// TLSAuth is tls-auth wrapping (--tls-auth, with --auth's digest): an HMAC
// over the packet, inserted after the opcode and session id:
//
//	wire:      op|key_id (1) || own sid (8) || HMAC || pid (4) || time (4) || rest
//	HMAC over: pid || time || op|key_id || own sid || rest
//
// It implements Wrapper and Stateless.
type TLSAuth struct {
	send, recv authDir
	ctr        counter
	win        *replay.Window
	work       authWork
	pool       sync.Pool // of *authWork, for the stateless methods
}

// NewTLSAuth returns a tls-auth wrapper for a key file's key material k used
// in direction dir (the second argument of --tls-auth or --key-direction;
// Bidirectional uses keys[0] both ways) with the given digest. The HMAC keys
// are copied from k.
func NewTLSAuth(k *keys.Key2, dir keys.Direction, d Digest, o Options) (*TLSAuth, error) {
	if d.new == nil {
		return nil, fmt.Errorf("ctlwrap: tls-auth needs a digest: use ParseDigest")
	}
	send, recv := k.Keys(dir)
	a := &TLSAuth{
		send: authDir{d, append([]byte(nil), send.HMAC[:d.size]...)},
		recv: authDir{d, append([]byte(nil), recv.HMAC[:d.size]...)},
		ctr:  newCounter(&o),
		win:  newWindow(&o),
	}
	send.Zero()
	recv.Zero()
	a.work.mac.init(d.new)
	a.pool.New = func() any {
		w := new(authWork)
		w.mac.init(d.new)
		return w
	}
	return a, nil
}

// Overhead returns the HMAC size plus 8.
func (a *TLSAuth) Overhead() int { return a.send.d.size + wire.WrapPIDLen }

// SetSendID sets the send counter so that the next Wrap uses last+1.
func (a *TLSAuth) SetSendID(last uint32) { a.ctr.id = last }

// SendPID returns the packet id of the last Wrap (ID 0 before the first).
func (a *TLSAuth) SendPID() wire.WrapPID { return wire.WrapPID{ID: a.ctr.id, Time: a.ctr.time} }

// Wrap appends the tls-auth form of plain to dst.
func (a *TLSAuth) Wrap(dst, plain []byte) ([]byte, error) {
	if len(plain) < wire.HeaderLen {
		return dst, errShortPlain
	}
	pid, err := a.ctr.next()
	if err != nil {
		return dst, err
	}
	return a.send.wrap(&a.work, dst, plain, pid)
}

// Unwrap verifies the HMAC of pkt, checks its replay id and appends the plain
// packet to dst.
func (a *TLSAuth) Unwrap(dst, pkt []byte, now time.Time) ([]byte, error) {
	out, pid, err := a.recv.unwrap(&a.work, dst, pkt)
	if err != nil {
		return dst, err
	}
	if err := accept(a.win, pid, now); err != nil {
		return dst, err
	}
	return out, nil
}

// UnwrapStateless verifies the HMAC of pkt and appends the plain packet to
// dst, without a replay check. Safe for concurrent use.
func (a *TLSAuth) UnwrapStateless(dst, pkt []byte) ([]byte, error) {
	w := a.pool.Get().(*authWork)
	defer a.pool.Put(w)
	out, _, err := a.recv.unwrap(w, dst, pkt)
	return out, err
}

// WrapStateless appends the tls-auth form of plain to dst using pid. Safe for
// concurrent use.
func (a *TLSAuth) WrapStateless(dst, plain []byte, pid wire.WrapPID) ([]byte, error) {
	w := a.pool.Get().(*authWork)
	defer a.pool.Put(w)
	return a.send.wrap(w, dst, plain, pid)
}
