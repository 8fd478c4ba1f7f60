// Package replay implements OpenVPN's packet-id replay protection
// (packet_id.c packet_id_test/packet_id_add/packet_id_reap): a sliding
// window of the last N ids below the highest id seen, plus a time backtrack
// after which reordered packets are no longer accepted.
//
// One Window protects one direction of one key (a data-channel key_id, or the
// tls-auth/tls-crypt wrapping of a control channel). It is not safe for
// concurrent use; the data path keeps one per key and checks ids in order
// after decryption.
//
// Ids come in two forms. The short form (data channel) has only a 32-bit id,
// for which callers pass time 0. The long form (control wrapping) adds the
// sender's start time: a larger time than seen so far starts a new sequence,
// a smaller one is rejected.
package replay

import "time"

// Defaults of --replay-window (DEFAULT_SEQ_BACKTRACK, DEFAULT_TIME_BACKTRACK)
// and its limits.
const (
	DefaultSize      = 64
	DefaultBacktrack = 15 * time.Second
	MaxSize          = 65536
	MaxBacktrack     = 600 * time.Second
	reapInterval     = 5 * time.Second // SEQ_REAP_INTERVAL
)

// Window is a replay window. The zero value is not usable; call New or Init.
type Window struct {
	size      uint32
	backtrack int64 // nanoseconds
	high      uint32
	highTime  uint32
	started   bool
	// seen[id % size] holds the local arrival time (unix nanoseconds) of id,
	// or 0 if id has not been seen. Only ids in (high-size, high] are valid.
	seen []int64
	// expiredBelow: ids <= expiredBelow are rejected (time backtrack).
	expiredBelow uint32
	nextReap     int64
}

// New returns a window of size ids (clamped to [1, MaxSize]) that accepts
// reordered packets for at most backtrack after a newer one was seen.
func New(size int, backtrack time.Duration) *Window {
	w := &Window{}
	w.Init(size, backtrack)
	return w
}

// Init (re)initialises w, reusing its storage when possible.
func (w *Window) Init(size int, backtrack time.Duration) {
	if size < 1 {
		size = 1
	}
	if size > MaxSize {
		size = MaxSize
	}
	if backtrack <= 0 {
		backtrack = DefaultBacktrack
	}
	if cap(w.seen) >= size {
		w.seen = w.seen[:size]
		clear(w.seen)
	} else {
		w.seen = make([]int64, size)
	}
	*w = Window{size: uint32(size), backtrack: int64(backtrack), seen: w.seen}
}

// Check reports whether (id, t) would be accepted at time now, without
// recording it. Callers authenticate the packet first, then call Check and
// Add; Accept does both.
func (w *Window) Check(id, t uint32, now time.Time) bool {
	if id == 0 {
		return false
	}
	if !w.started {
		return true
	}
	if t != w.highTime {
		return t > w.highTime
	}
	if id > w.high {
		return true
	}
	d := w.high - id
	if d >= w.size || id <= w.expiredBelow {
		return false
	}
	w.reap(now.UnixNano())
	if id <= w.expiredBelow {
		return false
	}
	return w.seen[id%w.size] == 0
}

// Add records (id, t) as seen at time now. It must only be called for an id
// that Check accepted.
func (w *Window) Add(id, t uint32, now time.Time) {
	ns := now.UnixNano()
	if ns == 0 {
		ns = 1
	}
	if !w.started || t != w.highTime || uint64(id) > uint64(w.high)+uint64(w.size) {
		// New sequence: forget everything.
		if w.started {
			clear(w.seen)
		}
		w.started = true
		w.highTime = t
		w.high = id
		w.expiredBelow = 0
		w.seen[id%w.size] = ns
		return
	}
	if id > w.high {
		for i := w.high + 1; i < id; i++ {
			w.seen[i%w.size] = 0
		}
		w.high = id
	}
	w.seen[id%w.size] = ns
}

// Accept checks (id, t) and records it if it is acceptable.
func (w *Window) Accept(id, t uint32, now time.Time) bool {
	if !w.Check(id, t, now) {
		return false
	}
	w.Add(id, t, now)
	return true
}

// High returns the highest id accepted so far (0 before the first).
func (w *Window) High() uint32 { return w.high }

// reap expires every id at or below the newest id that was received more
// than the backtrack ago. It runs at most every reapInterval.
func (w *Window) reap(now int64) {
	if now < w.nextReap {
		return
	}
	w.nextReap = now + int64(reapInterval)
	limit := now - w.backtrack
	n := w.size
	if w.high < n {
		n = w.high
	}
	for d := uint32(0); d < n; d++ {
		id := w.high - d
		if id <= w.expiredBelow {
			return
		}
		if t := w.seen[id%w.size]; t != 0 && t < limit {
			w.expiredBelow = id
			return
		}
	}
}
