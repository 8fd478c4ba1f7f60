package replay

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	w := New(DefaultSize, DefaultBacktrack)
	steps := []struct {
		id   uint32
		want bool
	}{
		{0, false}, // id 0 is never valid
		{1, true},
		{1, false}, // duplicate
		{3, true},
		{2, true}, // reordered within the window
		{2, false},
		{100, true},
		{36, false}, // 64 behind: outside
		{37, true},  // 63 behind: inside, unseen
		{37, false},
		{99, true},
		{1000, true}, // jump beyond the window
		{999, true},
		{100, false},
	}
	for i, s := range steps {
		if got := w.Accept(s.id, 0, now); got != s.want {
			t.Fatalf("step %d id %d: got %v want %v", i, s.id, got, s.want)
		}
	}
}

func TestLongForm(t *testing.T) {
	now := time.Unix(1000, 0)
	w := New(64, 15*time.Second)
	if !w.Accept(5, 100, now) || w.Accept(5, 100, now) {
		t.Fatal("dup")
	}
	if w.Accept(6, 99, now) {
		t.Fatal("older time accepted")
	}
	if !w.Accept(1, 101, now) {
		t.Fatal("newer time rejected")
	}
	if w.Accept(7, 100, now) {
		t.Fatal("old sequence accepted after restart")
	}
}

func TestTimeBacktrack(t *testing.T) {
	now := time.Unix(1000, 0)
	w := New(64, 15*time.Second)
	w.Accept(1, 0, now)
	w.Accept(5, 0, now.Add(time.Second))
	// 3 is still fine shortly after.
	if !w.Check(3, 0, now.Add(2*time.Second)) {
		t.Fatal("reordered packet rejected too early")
	}
	// 20 s after 5 arrived, ids below it are expired.
	if w.Check(4, 0, now.Add(21*time.Second)) {
		t.Fatal("stale reordered packet accepted")
	}
	if !w.Check(6, 0, now.Add(21*time.Second)) {
		t.Fatal("new packet rejected")
	}
}

func TestWrapEdge(t *testing.T) {
	now := time.Unix(1, 0)
	w := New(64, time.Second)
	if !w.Accept(0xFFFFFFFF, 0, now) || w.Accept(0xFFFFFFFF, 0, now) || !w.Accept(0xFFFFFFFE, 0, now) {
		t.Fatal("edge")
	}
}

func TestZeroAlloc(t *testing.T) {
	w := New(64, time.Second)
	now := time.Unix(5, 0)
	id := uint32(0)
	if a := testing.AllocsPerRun(1000, func() { id++; w.Accept(id, 0, now) }); a != 0 {
		t.Fatal(a)
	}
}

func BenchmarkAccept(b *testing.B) {
	w := New(64, time.Second)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Accept(uint32(i+1), 0, now)
	}
}

func FuzzWindow(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 4})
	f.Fuzz(func(t *testing.T, ids []byte) {
		w := New(16, time.Second)
		now := time.Unix(100, 0)
		seen := map[uint32]bool{}
		for i, b := range ids {
			id := uint32(b) * 3
			ok := w.Accept(id, 0, now.Add(time.Duration(i)*time.Millisecond))
			if ok && seen[id] {
				t.Fatalf("id %d accepted twice", id)
			}
			if ok {
				seen[id] = true
			}
		}
	})
}
