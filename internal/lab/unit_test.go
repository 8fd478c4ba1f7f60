package lab

import (
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name  string
		pid   int
		start string
		ok    bool
	}{
		{"ovt4711-2hx9k-3", 4711, "2hx9k", true},
		{"ovt1-a-12", 1, "a", true},
		{"ovt4711-2hx9k", 0, "", false},
		{"ovt4711--3", 0, "", false},
		{"ovtx-2hx9k-3", 0, "", false},
		{"ovt0-a-1", 0, "", false},
		{"ovt12-a-b", 0, "", false},
		{"ovgcA", 0, "", false},
		{"myns", 0, "", false},
	}
	for _, tc := range tests {
		pid, start, ok := parseName(tc.name)
		if pid != tc.pid || start != tc.start || ok != tc.ok {
			t.Errorf("parseName(%q) = %d, %q, %v; want %d, %q, %v", tc.name, pid, start, ok, tc.pid, tc.start, tc.ok)
		}
	}
}

func TestNewNameUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := newName()
		pid, start, ok := parseName(n)
		if !ok || pid != os.Getpid() || start != selfStart() || start == "" {
			t.Fatalf("newName() = %q does not parse back to this process", n)
		}
		if seen[n] {
			t.Fatalf("newName() repeated %q", n)
		}
		seen[n] = true
	}
}

func TestCreatorAlive(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		want bool
	}{
		{Prefix + self + "-" + selfStart() + "-1", true},
		{Prefix + self + "-zzzzzz-1", false},              // our pid, another start time: pid reused
		{Prefix + "9999999-" + selfStart() + "-1", false}, // above any pid_max
		{"not-ours", true},                                // never touched
	}
	for _, tc := range tests {
		if got := creatorAlive(tc.name); got != tc.want {
			t.Errorf("creatorAlive(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHostAddr(t *testing.T) {
	tests := []struct {
		prefix string
		id     int
		want   string
	}{
		{"10.200.0.0/24", 1, "10.200.0.1"},
		{"10.200.0.77/24", 2, "10.200.0.2"},
		{"fd00:200::/64", 1, "fd00:200::1"},
		{"fd00:202::/64", 254, "fd00:202::fe"},
	}
	for _, tc := range tests {
		if got := hostAddr(netip.MustParsePrefix(tc.prefix), tc.id); got.String() != tc.want {
			t.Errorf("hostAddr(%s, %d) = %s, want %s", tc.prefix, tc.id, got, tc.want)
		}
	}
}

func TestMatchLines(t *testing.T) {
	re := regexp.MustCompile(`peer (\w+) ready`)
	log := "start\npeer a ready\nnoise\npeer b ready\npeer c rea"
	tests := []struct {
		n     int
		final bool
		want  [][]string
	}{
		{1, false, [][]string{{"peer a ready", "a"}}},
		{2, false, [][]string{{"peer a ready", "a"}, {"peer b ready", "b"}}},
		{3, false, [][]string{{"peer a ready", "a"}, {"peer b ready", "b"}}},
		{3, true, [][]string{{"peer a ready", "a"}, {"peer b ready", "b"}}},
	}
	for _, tc := range tests {
		if got := matchLines(log, re, tc.n, tc.final); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("matchLines(n=%d, final=%v) = %q, want %q", tc.n, tc.final, got, tc.want)
		}
	}
	// A last line without newline counts only once the process is gone.
	partial := "x\npeer d ready"
	if got := matchLines(partial, re, 1, false); got != nil {
		t.Errorf("partial line matched before exit: %q", got)
	}
	if got := matchLines(partial, re, 1, true); len(got) != 1 || got[0][1] != "d" {
		t.Errorf("partial line after exit: %q", got)
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
	}
	for _, tc := range tests {
		if got := tail(tc.in, tc.n); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestParseIperf(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    IperfResult
		wantErr string
	}{
		{"tcp", `{"end":{"sum_sent":{"bits_per_second":2e9,"retransmits":7},"sum_received":{"bits_per_second":1.9e9}}}`,
			IperfResult{SentBPS: 2e9, ReceivedBPS: 1.9e9, Retransmits: 7}, ""},
		{"udp 3.12", `{"end":{"sum":{"bits_per_second":1e6,"lost_percent":0.5,"packets":90},
			"sum_sent":{"bits_per_second":1e6,"packets":90},"sum_received":{"bits_per_second":0.99e6,"packets":90,"lost_percent":1.5}}}`,
			IperfResult{SentBPS: 1e6, ReceivedBPS: 0.99e6, LostPercent: 1.5, ReceivedPackets: 90}, ""},
		{"udp old", `{"end":{"sum":{"bits_per_second":1e6,"lost_percent":2}}}`,
			IperfResult{SentBPS: 1e6, ReceivedBPS: 1e6, LostPercent: 2}, ""},
		{"error", `{"start":{},"end":{},"error":"unable to connect to server: Connection refused"}`,
			IperfResult{}, "Connection refused"},
		{"no summary", `{"end":{}}`, IperfResult{}, "no end summary"},
		{"not json", `iperf3: error`, IperfResult{}, "reading iperf3 JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIperf([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseIperf = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestServerConfig(t *testing.T) {
	c := &Cert{CertFile: "/p/s.crt", KeyFile: "/p/s.key"}
	got := OpenVPNServerConfig(ServerOptions{CA: "/p/ca.crt", Cert: c, Wrap: Wrap{TLSAuth: "/p/ta.key"},
		Network: netip.MustParsePrefix("10.9.0.0/16"), CRL: "/p/crl.pem", Extra: []string{"keepalive 1 5"}})
	for _, want := range []string{"\ndev tun\n", "\nproto udp\n", "\nport 1194\n", "\ntopology subnet\n",
		"\nserver 10.9.0.0 255.255.0.0\n", "\nserver-ipv6 fd00:8::/64\n", "\nca /p/ca.crt\n", "\ncert /p/s.crt\n",
		"\nkey /p/s.key\n", "\ndh none\n", "\nremote-cert-tls client\n", "\ntls-auth /p/ta.key 0\n",
		"\ncrl-verify /p/crl.pem\n", "\ndisable-dco\n", "\nverb 3\n", "\nkeepalive 1 5\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("server config lacks %q:\n%s", strings.TrimSpace(want), got)
		}
	}
	if strings.Contains(OpenVPNServerConfig(ServerOptions{NoIPv6: true}), "server-ipv6") {
		t.Error("NoIPv6 still writes server-ipv6")
	}
}

func TestClientConfig(t *testing.T) {
	c := &Cert{CertFile: "/p/c.crt", KeyFile: "/p/c.key"}
	got := OpenVPNClientConfig(ClientOptions{CA: "/p/ca.crt", Cert: c, Remote: netip.MustParseAddr("fd00:200::1"),
		Proto: "tcp", Port: 443, Wrap: Wrap{TLSCryptV2: "/p/v2c.key"}})
	for _, want := range []string{"\nclient\n", "\ndev tun\n", "\nproto tcp\n", "\nremote fd00:200::1 443\n",
		"\nnobind\n", "\nca /p/ca.crt\n", "\ncert /p/c.crt\n", "\nkey /p/c.key\n", "\nremote-cert-tls server\n",
		"\ntls-crypt-v2 /p/v2c.key\n", "\ndisable-dco\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("client config lacks %q:\n%s", strings.TrimSpace(want), got)
		}
	}
	if got := OpenVPNClientConfig(ClientOptions{Wrap: Wrap{TLSAuth: "/k"}}); !strings.Contains(got, "\ntls-auth /k 1\n") {
		t.Errorf("client tls-auth direction is not 1:\n%s", got)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(root + "/go.mod")
	if err != nil || !strings.HasPrefix(string(b), "module github.com/openvpn-go/openvpn-go\n") {
		t.Errorf("module root %s: go.mod %q, %v", root, b, err)
	}
}

func TestSweepBuildDirs(t *testing.T) {
	dead := os.TempDir() + fmt.Sprintf("/%s9999999-%d", buildDirPrefix, os.Getpid())
	live := os.TempDir() + fmt.Sprintf("/%s%d-%s", buildDirPrefix, os.Getpid(), selfStart())
	for _, d := range []string{dead, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	sweepBuildDirs()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("build dir of a dead process survived: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("build dir of this process was removed: %v", err)
	}
}

// skipRecorder records how RequireBinary ends a test instead of ending it.
type skipRecorder struct {
	testing.TB
	how, msg string
}

func (r *skipRecorder) Helper() {}
func (r *skipRecorder) Skip(args ...any) {
	r.how, r.msg = "skip", fmt.Sprint(args...)
	panic(r)
}
func (r *skipRecorder) Fatalf(format string, args ...any) {
	r.how, r.msg = "fatal", fmt.Sprintf(format, args...)
	panic(r)
}

func TestRequireBinaryPolicy(t *testing.T) {
	tests := []struct {
		env, prog, how string
	}{
		{"", "no-such-program-lab", "skip"},
		{"0", "no-such-program-lab", "skip"},
		{"1", "no-such-program-lab", "fatal"},
		{"1", "sh", ""},
		{"", "sh", ""},
	}
	for _, tc := range tests {
		t.Setenv(RequireEnv, tc.env)
		r := &skipRecorder{TB: t}
		func() {
			defer func() {
				if p := recover(); p != nil && p != r {
					panic(p)
				}
			}()
			RequireBinary(r, tc.prog)
		}()
		if r.how != tc.how {
			t.Errorf("%s=%q, %s: ended with %q (%s), want %q", RequireEnv, tc.env, tc.prog, r.how, r.msg, tc.how)
		}
		if r.how != "" && !strings.Contains(r.msg, tc.prog) {
			t.Errorf("message %q does not name the program", r.msg)
		}
	}
	if _, err := lookPath("iperf3x"); err == nil || strings.Contains(err.Error(), "apt-get") {
		t.Errorf("unknown program: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := lookPath("nft"); err == nil || !strings.Contains(err.Error(), "apt-get install nftables") {
		t.Errorf("known program: %v", err)
	}
}
