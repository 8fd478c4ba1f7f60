package lab

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// RequireEnv names the environment variable that turns the lab's skips into
// failures. CI sets OPENVPN_GO_REQUIRE_LAB=1 so that a machine without root,
// /dev/net/tun or one of the programs below fails loudly instead of skipping
// every integration test.
const RequireEnv = "OPENVPN_GO_REQUIRE_LAB"

// Programs the lab knows how to explain when missing: the Debian package
// that ships each one.
var packageOf = map[string]string{
	"ip":      "iproute2",
	"openvpn": "openvpn",
	"iperf3":  "iperf3",
	"ping":    "iputils-ping",
	"nft":     "nftables",
	"tcpdump": "tcpdump",
	"sysctl":  "procps",
	"ethtool": "ethtool",
}

// required reports whether missing prerequisites must fail the test.
func required() bool {
	v := os.Getenv(RequireEnv)
	return v != "" && v != "0" && v != "false"
}

// unavailable skips t, or fails it when RequireEnv is set, with a message that
// says which prerequisite is missing.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "lab: " + fmt.Sprintf(format, args...)
	if required() {
		t.Fatalf("%s (failing instead of skipping because %s is set)", msg, RequireEnv)
	}
	t.Skip(msg)
}

var rootCheck = sync.OnceValue(func() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("not running as root (euid %d): network namespaces need root; run the tests as root", os.Geteuid())
	}
	fi, err := os.Stat("/dev/net/tun")
	if err != nil {
		return fmt.Sprintf("no /dev/net/tun (%v): load the tun module or run on a machine that has it", err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return "/dev/net/tun is not a character device"
	}
	return ""
})

// RequireRoot skips t unless the process runs as root on a machine with
// /dev/net/tun. With OPENVPN_GO_REQUIRE_LAB=1 it fails t instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if msg := rootCheck(); msg != "" {
		unavailable(t, "%s", msg)
	}
}

// RequireBinary skips t unless every named program is found on $PATH (or,
// for a name containing a slash, exists). With OPENVPN_GO_REQUIRE_LAB=1 it
// fails t instead. The message names the Debian package to install.
func RequireBinary(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := lookPath(name); err != nil {
			unavailable(t, "%v", err)
		}
	}
}

// lookPath resolves a program name like exec.LookPath, with an error that
// says what to install.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	if pkg, ok := packageOf[name]; ok {
		return "", fmt.Errorf("lab: program %q not found on $PATH: install it (apt-get install %s): %w", name, pkg, err)
	}
	return "", fmt.Errorf("lab: program %q not found: install it or fix $PATH: %w", name, err)
}
