//go:build !race

package datacrypto

const raceEnabled = false
