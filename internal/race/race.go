//go:build race

// Package race reports whether the binary was built with the race
// detector, under which sync.Pool deliberately drops items and allocation
// counts (testing.AllocsPerRun) mean nothing.
package race

// Enabled is true under -race.
const Enabled = true
