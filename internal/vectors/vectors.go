// Package vectors locates the shared reference material that lives beside
// the repository (../shared: test vectors recorded from openvpn 2.6.14 and
// the corpus of real-world configs). Tests call Dir and skip when the
// material is absent; set OPENVPN_GO_SHARED to point elsewhere.
package vectors

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the shared directory, or "" if it cannot be found.
func Root() string {
	if d := os.Getenv("OPENVPN_GO_SHARED"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <repo>/internal/vectors/vectors.go; look beside the repo and
	// above it.
	dir := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	for i := 0; i < 4; i++ {
		cand := filepath.Join(filepath.Dir(dir), "shared")
		if st, err := os.Stat(filepath.Join(cand, "testvectors")); err == nil && st.IsDir() {
			return cand
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// Dir returns the path of sub (e.g. "testvectors/openvpn-2.6.14") inside the
// shared directory, skipping the test if it is absent.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	r := Root()
	if r == "" {
		t.Skip("shared test material not found beside the repository; set OPENVPN_GO_SHARED")
	}
	p := filepath.Join(r, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test material %s: %v", p, err)
	}
	return p
}
