package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaryPackage is the command BuildOpenVPNGo builds.
const binaryPackage = "./cmd/openvpn-go"

// buildDirPrefix names the per-process directories that hold the binary in
// os.TempDir(); directories of dead processes are removed on the next build.
const buildDirPrefix = "openvpn-go-lab-"

type buildResult struct {
	path string
	skip string // non-empty: the command has no main package yet
	err  error
}

var buildOnce = sync.OnceValue(build)

// BuildOpenVPNGo builds ./cmd/openvpn-go once per test process (the first
// caller pays) and returns the binary's path. It skips t while
// cmd/openvpn-go has no main package, and fails t if the build fails. The
// binary lives in a per-process directory of os.TempDir() that the next
// test process removes once this one is gone.
func BuildOpenVPNGo(t testing.TB) string {
	t.Helper()
	r := buildOnce()
	if r.skip != "" {
		t.Skip(r.skip)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

func build() buildResult {
	root, err := moduleRoot()
	if err != nil {
		return buildResult{err: err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	list := exec.CommandContext(ctx, "go", "list", "-f", "{{.Name}}", binaryPackage)
	list.Dir = root
	name, err := list.Output()
	if err != nil || strings.TrimSpace(string(name)) != "main" {
		return buildResult{skip: fmt.Sprintf("lab: %s has no main package yet (go list: %q, %v); skipping the tests of the binary",
			binaryPackage, strings.TrimSpace(string(name)), err)}
	}
	sweepBuildDirs()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-%s", buildDirPrefix, os.Getpid(), selfStart()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return buildResult{err: fmt.Errorf("lab: making the build directory: %w", err)}
	}
	out := filepath.Join(dir, "openvpn-go")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, binaryPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return buildResult{err: fmt.Errorf("lab: go build %s failed: %w\n%s", binaryPackage, err, b)}
	}
	return buildResult{path: out}
}

// moduleRoot finds the directory of go.mod: from `go env GOMOD` (the test
// runs inside the module), else from this source file's location.
func moduleRoot() (string, error) {
	if b, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if p := strings.TrimSpace(string(b)); p != "" && p != os.DevNull {
			return filepath.Dir(p), nil
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	return "", errors.New("lab: cannot find the module root (no go.mod from `go env GOMOD` nor next to the lab's source): run the tests inside the module")
}

// sweepBuildDirs removes build directories of processes that are gone.
func sweepBuildDirs() {
	ents, _ := os.ReadDir(os.TempDir())
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), buildDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		// Same "pid-start" shape as a namespace name without the counter.
		if creatorAlive(Prefix + rest + "-0") {
			continue
		}
		if _, _, ok := parseName(Prefix + rest + "-0"); ok {
			os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}
