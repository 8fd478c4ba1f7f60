package dataplane

import "time"

// Inactivity implements "inactive n [bytes]": the tunnel ends when, for n
// seconds, fewer than bytes of tunnel traffic (plaintext read from and
// written to the tun device, both directions; pings do not count) passed.
// With bytes 0 any packet counts as activity. The zero value is disabled.
// Only the owner of the peer calls it.
type Inactivity struct {
	timeout  time.Duration
	minBytes uint64
	base     uint64
	deadline time.Time
}

// Set arms t with timeout and minBytes (timeout 0 disables it),
// counting from now and the peer's current traffic.
func (t *Inactivity) Set(timeout time.Duration, minBytes int64, p *Peer, now time.Time) {
	*t = Inactivity{timeout: timeout}
	if timeout <= 0 {
		return
	}
	if minBytes > 0 {
		t.minBytes = uint64(minBytes)
	}
	st := p.Stats()
	t.base = st.TunRxBytes + st.TunTxBytes
	t.deadline = now.Add(timeout)
}

// Expired reports whether the inactivity timeout passed; enough traffic
// since the last reset restarts the timer.
func (t *Inactivity) Expired(p *Peer, now time.Time) bool {
	if t.timeout <= 0 {
		return false
	}
	st := p.Stats()
	total := st.TunRxBytes + st.TunTxBytes
	if d := total - t.base; d > 0 && d >= t.minBytes {
		t.base = total
		t.deadline = now.Add(t.timeout)
		return false
	}
	return now.After(t.deadline)
}
