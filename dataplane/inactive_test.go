package dataplane

import (
	"testing"
	"time"
)

func TestInactivity(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		at      time.Duration // since t0
		bytes   uint64        // tunnel bytes added before the check
		expired bool
	}
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		minBytes int64
		steps    []step
	}{
		{"disabled", 0, 0, []step{{time.Hour, 0, false}}},
		{"idle", 3 * time.Second, 0, []step{{2 * time.Second, 0, false}, {3*time.Second + 1, 0, true}}},
		{"any traffic resets", 3 * time.Second, 0, []step{{2 * time.Second, 1, false}, {4 * time.Second, 0, false}, {5*time.Second + 1, 0, true}}},
		{"below min bytes", 3 * time.Second, 1000, []step{{1 * time.Second, 400, false}, {2 * time.Second, 400, false}, {3*time.Second + 1, 0, true}}},
		{"min bytes reached", 3 * time.Second, 1000, []step{{1 * time.Second, 600, false}, {2 * time.Second, 600, false}, {4 * time.Second, 0, false}, {5*time.Second + 1, 0, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Peer
			p.tunRxBytes.Add(12345) // traffic before arming does not count
			var in Inactivity
			in.Set(tc.timeout, tc.minBytes, &p, t0)
			for i, s := range tc.steps {
				p.tunTxBytes.Add(s.bytes)
				if got := in.Expired(&p, t0.Add(s.at)); got != s.expired {
					t.Fatalf("step %d (%v): expired %v, want %v", i, s.at, got, s.expired)
				}
			}
		})
	}
}
