package dataplane

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A server reader facing a stock openvpn client gets that client's
// packets one write at a time: reading them as fast as they arrive means
// a read, a small tun write and (over TCP) an ACK for every one or two
// packets, and the client's single thread pays for each of those ACKs and
// for the ACKs of the TCP inside the tunnel. Under that load the reader
// paces itself, as a NIC's interrupt moderation does (ethtool rx-usecs):
// after a read that returned at least paceMin but fewer than paceBelow
// packets, it starts the next read no sooner than paceDelay after the
// last one, so the packets that arrive meanwhile are processed as one
// batch: fewer system calls, larger GRO-coalesced tun writes (fewer ACKs
// from the TCP in the tunnel), fewer ACKs to a TCP client. A read of a
// packet or two (a ping, interactive traffic) is never followed by a
// wait, and neither is a read that already brought a batch worth
// handing to the crypto workers (a peer that batches its writes, as
// openvpn-go's client does); under load a packet waits at most paceDelay
// longer.
//
// OPENVPN_GO_RX_PACING overrides paceDelay (a Go duration; 0 turns pacing
// off), for A/B measurements.
var paceDelay = paceDelayFromEnv()

const (
	defaultPaceDelay = 200 * time.Microsecond
	// paceMin is the number of packets in one read that marks the link
	// as busy; paceBelow the batch size that needs no waiting for (the
	// size from which a batch goes to the crypto workers).
	paceMin   = 4
	paceBelow = inlineBelow
)

func paceDelayFromEnv() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("OPENVPN_GO_RX_PACING")); err == nil && d >= 0 {
		return d
	}
	return defaultPaceDelay
}

// pacer spaces the reads of one reader goroutine.
type pacer struct {
	delay time.Duration
	next  time.Time // when the next read may start; zero: at once
}

func newPacer() pacer { return pacer{delay: paceDelay} }

// read records a read of n packets that returned at now.
func (p *pacer) read(n int, now time.Time) {
	if n >= paceMin && n < paceBelow && p.delay > 0 {
		p.next = now.Add(p.delay)
	} else {
		p.next = time.Time{}
	}
}

// maxSleepers bounds the readers sleeping at once: nanosleep holds an OS
// thread, and a server with hundreds of busy TCP clients must not hold
// hundreds. Beyond it a reader reads at once.
const maxSleepers = 16

var sleepers atomic.Int32

// wait blocks until the next read may start. It sleeps in nanosleep
// rather than time.Sleep: the runtime's timers wait in epoll with
// millisecond resolution when nothing else is running, which would turn
// 200 µs into 1 ms.
func (p *pacer) wait() {
	if p.next.IsZero() {
		return
	}
	if d := time.Until(p.next); d > 0 {
		if sleepers.Add(1) <= maxSleepers {
			sleep(d)
		}
		sleepers.Add(-1)
	}
	p.next = time.Time{}
}

// sleep is replaced by time.Sleep in tests (synctest's fake clock).
var sleep = func(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
