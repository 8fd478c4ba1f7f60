package ctlwrap

import (
	"sync"
	"testing"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

// TestStatelessConcurrent runs the stateless methods from several goroutines
// while the session methods of the same wrappers run too (go test -race
// proves the contract).
func TestStatelessConcurrent(t *testing.T) {
	k := testKey2()
	d, _ := ParseDigest("SHA256")
	authTx, _ := NewTLSAuth(&k, keys.Inverse, d, Options{Start: t0})
	authRx, _ := NewTLSAuth(&k, keys.Normal, d, Options{Start: t0})
	cryptTx, _ := NewTLSCrypt(&k, false, Options{Start: t0})
	cryptRx, _ := NewTLSCrypt(&k, true, Options{Start: t0})
	srv, ck := v2Keys(t)
	v2cli, _ := NewTLSCryptV2Client(&ck, true, Options{Start: t0})
	reset := wire.ControlPacket{Opcode: wire.OpControlHardResetClientV3, SessionID: wire.SessionID{1}}
	v2pkt, _ := v2cli.Wrap(nil, reset.Append(nil))

	type job struct {
		tx Wrapper
		rx interface {
			Wrapper
			Stateless
		}
	}
	jobs := []job{{authTx, authRx}, {cryptTx, cryptRx}}
	plain := testPlain(200)
	var wg sync.WaitGroup
	for _, j := range jobs {
		pkt, _ := j.tx.Wrap(nil, plain)
		for range 4 {
			wg.Go(func() {
				out := make([]byte, 0, 512)
				for range 200 {
					if _, err := j.rx.UnwrapStateless(out[:0], pkt); err != nil {
						t.Error(err)
						return
					}
					if _, err := j.rx.WrapStateless(out[:0], plain, wire.WrapPID{ID: 1}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		// The session goroutine uses the same receiver meanwhile.
		wg.Go(func() {
			for range 200 {
				p, err := j.tx.Wrap(nil, plain)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := j.rx.Unwrap(nil, p, t0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			var info ClientKeyInfo
			for range 100 {
				if _, err := srv.UnwrapStateless(nil, v2pkt, &info); err != nil {
					t.Error(err)
					return
				}
				if info.Kc != ck.Kc {
					t.Error("wrong Kc")
					return
				}
			}
		})
	}
	wg.Wait()
}
