package reliable

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/wire"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestSendWindow(t *testing.T) {
	l := New(Config{})
	for i := 0; i < 6; i++ {
		if l.SendSpace() != 6-i {
			t.Fatalf("space %d after %d", l.SendSpace(), i)
		}
		if mid := l.Queue(wire.OpControlV1, []byte{byte(i)}); mid != uint32(i) {
			t.Fatalf("mid %d", mid)
		}
	}
	if l.SendSpace() != 0 {
		t.Fatal("window not full")
	}
	// Acking mid 1 does not open the window: mid 0 is still the lowest.
	l.OnAcks([]uint32{1}, t0)
	if l.SendSpace() != 0 {
		t.Fatalf("space %d", l.SendSpace())
	}
	l.OnAcks([]uint32{0}, t0)
	if l.SendSpace() != 2 {
		t.Fatalf("space %d", l.SendSpace())
	}
}

func TestBackoff(t *testing.T) {
	l := New(Config{InitialTimeout: 2 * time.Second})
	l.Queue(wire.OpControlHardResetClientV2, nil)
	var sends []time.Duration
	now := t0
	for i := 0; i < 200; i++ {
		l.Transmit(now, func(op wire.Opcode, mid uint32, p []byte) { sends = append(sends, now.Sub(t0)) })
		now = now.Add(500 * time.Millisecond)
	}
	want := []time.Duration{0, 2 * time.Second, 6 * time.Second, 14 * time.Second, 30 * time.Second, 62 * time.Second}
	if !slices.Equal(sends[:len(want)], want) {
		t.Fatalf("send times %v, want prefix %v", sends, want)
	}
	if d, ok := l.NextDeadline(); !ok || d.IsZero() {
		t.Fatal("deadline")
	}
}

func TestReceiveWindowAndAcks(t *testing.T) {
	l := New(Config{})
	if !l.OnPacket(wire.OpControlV1, 2, []byte("c")) {
		t.Fatal("out-of-order packet not stored")
	}
	if _, _, ok := l.Pop(); ok {
		t.Fatal("popped before mid 0")
	}
	l.OnPacket(wire.OpControlV1, 0, []byte("a"))
	l.OnPacket(wire.OpControlV1, 0, []byte("a")) // duplicate, still acked
	if l.OnPacket(wire.OpControlV1, 12, []byte("x")) {
		t.Fatal("beyond window stored")
	}
	got := l.AckBlock(nil, 8)
	if !slices.Equal(got, []uint32{2, 0}) {
		t.Fatalf("acks %v", got)
	}
	_, p, ok := l.Pop()
	if !ok || string(p) != "a" {
		t.Fatal("pop a")
	}
	if _, _, ok := l.Pop(); ok {
		t.Fatal("popped across a gap")
	}
	l.OnPacket(wire.OpControlV1, 1, []byte("b"))
	var out []string
	for {
		_, p, ok := l.Pop()
		if !ok {
			break
		}
		out = append(out, string(p))
	}
	if !slices.Equal(out, []string{"b", "c"}) {
		t.Fatal(out)
	}
	// MRU refill: new pending 1 first, then 2 and 0 repeated.
	if got := l.AckBlock(nil, 4); !slices.Equal(got, []uint32{1, 2, 0}) {
		t.Fatalf("acks %v", got)
	}
	// Duplicate of an old packet is acked again.
	l.OnPacket(wire.OpControlV1, 0, nil)
	if got := l.AckBlock(nil, 1); !slices.Equal(got, []uint32{0}) {
		t.Fatalf("acks %v", got)
	}
}

func TestPendingAckCap(t *testing.T) {
	l := New(Config{})
	for mid := uint32(0); mid < 12; mid++ {
		l.OnPacket(wire.OpControlV1, mid, nil)
	}
	if got := l.AckBlock(nil, 8); len(got) != 8 {
		t.Fatalf("acks %v", got)
	}
}

func TestFastRetransmit(t *testing.T) {
	l := New(Config{})
	for i := 0; i < 5; i++ {
		l.Queue(wire.OpControlV1, []byte{byte(i)})
	}
	count := map[uint32]int{}
	l.Transmit(t0, func(op wire.Opcode, mid uint32, p []byte) { count[mid]++ })
	// Acks for 1, 2, 3 but not 0: after the third, 0 is due immediately.
	now := t0.Add(100 * time.Millisecond)
	l.OnAcks([]uint32{1}, now)
	l.OnAcks([]uint32{2}, now)
	if d, _ := l.NextDeadline(); !d.After(now) {
		t.Fatal("retransmit before third ack")
	}
	l.OnAcks([]uint32{3, 3, 99}, now)
	l.Transmit(now, func(op wire.Opcode, mid uint32, p []byte) { count[mid]++ })
	if count[0] != 2 || count[4] != 1 {
		t.Fatalf("counts %v", count)
	}
}

// link carries packets between two layers, dropping, duplicating and
// reordering them.
type link struct {
	rng       *rand.Rand
	loss, dup float64
	queue     []pkt
}

type pkt struct {
	op      wire.Opcode
	mid     uint32
	payload []byte
	acks    []uint32
	hasMID  bool
	at      time.Time
}

func (k *link) send(p pkt, now time.Time) {
	if k.rng.Float64() < k.loss {
		return
	}
	p.at = now.Add(time.Duration(k.rng.IntN(300)) * time.Millisecond)
	k.queue = append(k.queue, p)
	if k.rng.Float64() < k.dup {
		p.at = p.at.Add(50 * time.Millisecond)
		k.queue = append(k.queue, p)
	}
}

func (k *link) due(now time.Time) []pkt {
	var out, keep []pkt
	for _, p := range k.queue {
		if !p.at.After(now) {
			out = append(out, p)
		} else {
			keep = append(keep, p)
		}
	}
	k.queue = keep
	return out
}

type end struct {
	l    *Layer
	got  []byte
	out  *link
	in   *link
	data [][]byte
}

func (e *end) step(now time.Time) {
	for _, p := range e.in.due(now) {
		e.l.OnAcks(p.acks, now)
		if p.hasMID {
			e.l.OnPacket(p.op, p.mid, p.payload)
		}
	}
	for {
		_, p, ok := e.l.Pop()
		if !ok {
			break
		}
		e.got = append(e.got, p...)
	}
	for len(e.data) > 0 && e.l.SendSpace() > 0 {
		e.l.Queue(wire.OpControlV1, e.data[0])
		e.data = e.data[1:]
	}
	sent := false
	e.l.Transmit(now, func(op wire.Opcode, mid uint32, p []byte) {
		e.out.send(pkt{op: op, mid: mid, payload: p, hasMID: true, acks: e.l.AckBlock(nil, 4)}, now)
		sent = true
	})
	if !sent && e.l.HasPendingAcks() {
		e.out.send(pkt{acks: e.l.AckBlock(nil, 8)}, now)
	}
}

// TestLossyLink pushes a stream both ways over links with loss, duplication
// and reordering and checks both sides receive it intact and in order.
func TestLossyLink(t *testing.T) {
	for _, tc := range []struct {
		loss, dup float64
	}{{0, 0}, {0.1, 0.1}, {0.3, 0.2}, {0.5, 0}} {
		t.Run(fmt.Sprintf("loss%.0f%%", tc.loss*100), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			ab := &link{rng: rng, loss: tc.loss, dup: tc.dup}
			ba := &link{rng: rng, loss: tc.loss, dup: tc.dup}
			a := &end{l: New(Config{}), out: ab, in: ba}
			b := &end{l: New(Config{}), out: ba, in: ab}
			var wantA, wantB []byte
			for i := 0; i < 60; i++ {
				ma := bytes.Repeat([]byte{byte(i)}, 1+i%7)
				mb := bytes.Repeat([]byte{byte(255 - i)}, 1+i%5)
				a.data = append(a.data, ma)
				b.data = append(b.data, mb)
				wantB = append(wantB, ma...)
				wantA = append(wantA, mb...)
			}
			now := t0
			for i := 0; i < 20000 && !(bytes.Equal(a.got, wantA) && bytes.Equal(b.got, wantB)); i++ {
				a.step(now)
				b.step(now)
				now = now.Add(50 * time.Millisecond)
			}
			if !bytes.Equal(a.got, wantA) || !bytes.Equal(b.got, wantB) {
				t.Fatalf("streams differ after %v: a got %d/%d, b got %d/%d", now.Sub(t0), len(a.got), len(wantA), len(b.got), len(wantB))
			}
		})
	}
}

func FuzzLayer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 5, 6})
	f.Fuzz(func(t *testing.T, ops []byte) {
		l := New(Config{})
		now := t0
		for i, b := range ops {
			switch b % 4 {
			case 0:
				l.OnPacket(wire.OpControlV1, uint32(b)/4, []byte{b})
			case 1:
				l.OnAcks([]uint32{uint32(b) / 4, uint32(i)}, now)
			case 2:
				if l.SendSpace() > 0 {
					l.Queue(wire.OpControlV1, []byte{b})
				}
			case 3:
				l.Pop()
				if got := l.AckBlock(nil, 8); len(got) > 8 {
					t.Fatal("ack block too long")
				}
			}
			l.Transmit(now, func(wire.Opcode, uint32, []byte) {})
			now = now.Add(time.Second)
		}
		if len(l.unacked) > 64 || len(l.pending) > 8 || len(l.mru) > 8 {
			t.Fatal("unbounded state")
		}
	})
}
