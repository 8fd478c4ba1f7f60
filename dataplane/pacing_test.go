package dataplane

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestPacer(t *testing.T) {
	real := sleep
	sleep = time.Sleep
	defer func() { sleep = real }()
	for _, tc := range []struct {
		name  string
		delay time.Duration
		reads []int         // packets per read
		work  time.Duration // processing time after each read
		want  time.Duration // total time spent in wait
	}{
		{"idle link: single packets never wait", 200 * time.Microsecond, []int{1, 1, 3, 1}, 0, 0},
		{"busy reads wait out the delay", 200 * time.Microsecond, []int{8, 8, 8}, 0, 3 * 200 * time.Microsecond},
		{"processing time counts towards the delay", 200 * time.Microsecond, []int{8, 8}, 150 * time.Microsecond, 2 * 50 * time.Microsecond},
		{"slow processing: no extra wait", 200 * time.Microsecond, []int{8, 8}, time.Millisecond, 0},
		{"a small read ends the pacing", 200 * time.Microsecond, []int{8, 1, 1}, 0, 200 * time.Microsecond},
		{"large batches: no wait", 200 * time.Microsecond, []int{16, 64, 8}, 0, 200 * time.Microsecond},
		{"delay 0 turns pacing off", 0, []int{8, 8}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := pacer{delay: tc.delay}
				var waited time.Duration
				for _, n := range tc.reads {
					p.read(n, time.Now())
					time.Sleep(tc.work)
					t0 := time.Now()
					p.wait()
					waited += time.Since(t0)
				}
				if waited != tc.want {
					t.Errorf("waited %v, want %v", waited, tc.want)
				}
			})
		})
	}
}

// TestPacerMaxSleepers: with maxSleepers readers asleep, another reads at
// once instead of holding one more OS thread.
func TestPacerMaxSleepers(t *testing.T) {
	real := sleep
	defer func() { sleep = real }()
	slept := false
	sleep = func(time.Duration) { slept = true }
	sleepers.Store(maxSleepers)
	defer sleepers.Store(0)
	p := pacer{delay: time.Second}
	p.read(8, time.Now())
	p.wait()
	if slept || sleepers.Load() != maxSleepers {
		t.Errorf("slept %v with %d readers asleep (now %d)", slept, maxSleepers, sleepers.Load())
	}
	sleepers.Store(0)
	p.read(8, time.Now())
	p.wait()
	if !slept {
		t.Error("did not sleep with no other reader asleep")
	}
}

// BenchmarkPacerSleep shows the resolution of the pacer's 200 µs sleep
// (nanosleep) next to time.Sleep's: ns/op is the time one sleep took.
func BenchmarkPacerSleep(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    func(time.Duration)
	}{{"nanosleep", sleep}, {"time.Sleep", time.Sleep}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.f(200 * time.Microsecond)
			}
		})
	}
}
