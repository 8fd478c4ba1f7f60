package hook

import (
	"context"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/x509name/x509nametest"
)

func TestRunUpDown(t *testing.T) {
	r, lb := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, "", "--flag")
	e := NewEnv()
	u := UpDown{Dev: "tun0", DevType: "tun", TunMTU: 1500, IfconfigLocal: "10.8.0.2", IfconfigRemote: "255.255.255.0"}
	if err := r.RunUpDown(t.Context(), s, TypeUp, e, u); err != nil {
		t.Fatal(err)
	}
	// openvpn logs the command line of up and down scripts.
	if !strings.Contains(lb.String(), s.Path+" --flag tun0 1500 0 10.8.0.2 255.255.255.0 init") {
		t.Errorf("command line not logged:\n%s", lb.String())
	}
	argv, env := dump()
	if want := []string{"--flag", "tun0", "1500", "0", "10.8.0.2", "255.255.255.0", "init"}; !slices.Equal(argv, want) {
		t.Errorf("argv = %q, want %q", argv, want)
	}
	want := []string{"script_type=up", "dev_type=tun", "dev=tun0", "tun_mtu=1500", "script_context=init"}
	if !slices.Equal(env, want) {
		t.Errorf("env = %q, want %q", env, want)
	}
	// The variables are set even without a script (openvpn sets them for
	// plugins too), and a down keeps dev_type from the up.
	if err := r.RunUpDown(t.Context(), nil, TypeDown, e, UpDown{Dev: "tun0", TunMTU: 1500, Signal: "sigterm"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.Get("signal"); v != "sigterm" {
		t.Errorf("signal = %q", v)
	}
	if v, _ := e.Get("dev_type"); v != "tun" {
		t.Errorf("dev_type = %q", v)
	}
}

func TestIPChangeArg(t *testing.T) {
	tests := []struct {
		ap   netip.AddrPort
		want string
	}{
		{netip.MustParseAddrPort("192.0.2.1:1194"), "[AF_INET]192.0.2.1 1194"},
		{netip.MustParseAddrPort("[2001:db8::1]:443"), "[AF_INET6]2001:db8::1 443"},
		{netip.MustParseAddrPort("[::ffff:192.0.2.1]:1194"), "[AF_INET6]::ffff:192.0.2.1 1194"},
		{netip.MustParseAddrPort("0.0.0.0:0"), "[AF_INET][undef] 0"},
	}
	for _, tt := range tests {
		if got := IPChangeArg(tt.ap); got != tt.want {
			t.Errorf("IPChangeArg(%v) = %q, want %q", tt.ap, got, tt.want)
		}
	}
	r, _ := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, "")
	if err := r.IPChange(t.Context(), s, nil, tests[0].ap); err != nil {
		t.Fatal(err)
	}
	if argv, _ := dump(); !slices.Equal(argv, []string{"[AF_INET]192.0.2.1 1194"}) {
		t.Errorf("argv = %q", argv)
	}
}

func TestLearnAddress(t *testing.T) {
	tests := []struct {
		op     LearnOp
		addr   string
		cn     string
		body   string
		env    *Env
		argv   []string
		ok     bool
		envLen int
	}{
		{LearnAdd, "10.8.0.2", "alice smith", "", NewEnv(), []string{"add", "10.8.0.2", "alice smith"}, true, 1},
		{LearnUpdate, "fd00:8::1000", "", "", NewEnv(), []string{"update", "fd00:8::1000", "UNDEF"}, true, 1},
		{LearnAdd, "10.0.0.0/24", "bob", "exit 1", NewEnv(), []string{"add", "10.0.0.0/24", "bob"}, false, 1},
		{LearnDelete, "00:ff:01:02:03:04", "ignored", "", nil, []string{"delete", "00:ff:01:02:03:04"}, true, 1},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		s, dump := dumpScript(t, tt.body)
		err := r.LearnAddress(t.Context(), s, tt.env, tt.op, tt.addr, tt.cn)
		if (err == nil) != tt.ok {
			t.Errorf("%s %s: %v", tt.op, tt.addr, err)
		}
		argv, env := dump()
		if !slices.Equal(argv, tt.argv) {
			t.Errorf("argv = %q, want %q", argv, tt.argv)
		}
		if len(env) != tt.envLen || env[0] != "script_type=learn-address" {
			t.Errorf("env = %q", env)
		}
	}
}

func TestTLSVerify(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	exportDir := t.TempDir()
	s, dump := dumpScript(t, `cp "$peer_cert" "$D/cert.pem"; test "$2" = 0 || exit 1`, "tlsarg")
	cert := x509nametest.Cert(t, big.NewInt(7), pkix.RDNSequence{{x509nametest.ATV("2.5.4.10", "Org")}, {x509nametest.ATV("2.5.4.3", "alice smith/..")}})
	e := NewEnv()
	e.SetCert(0, cert)
	e.SetUntrusted(netip.MustParseAddrPort("192.0.2.5:40000"))
	if err := r.TLSVerify(t.Context(), s, e, 0, cert, exportDir); err != nil {
		t.Fatal(err)
	}
	argv, env := dump()
	if want := []string{"tlsarg", "0", "O=Org, CN=alice smith/.."}; !slices.Equal(argv, want) {
		t.Errorf("argv = %q, want %q", argv, want)
	}
	m := envMap(env)
	pc := m["peer_cert"]
	if filepath.Dir(pc) != exportDir || !tempName.MatchString(filepath.Base(pc)) || !strings.Contains(pc, "openvpn_pef_") {
		t.Errorf("peer_cert = %q", pc)
	}
	if m["tls_id_0"] != "O=Org, CN=alice smith/.." || m["untrusted_ip"] != "192.0.2.5" || m["script_type"] != "tls-verify" {
		t.Errorf("env %q", env)
	}
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Path), "cert.pem"))
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "CERTIFICATE" || string(blk.Bytes) != string(cert.Raw) {
		t.Errorf("exported certificate %q", b)
	}
	if exists(pc) {
		t.Error("exported certificate not removed")
	}
	if _, ok := e.Get("peer_cert"); ok {
		t.Error("peer_cert left in the Env")
	}
	// Depth 1 makes this script fail: the certificate is refused.
	if err := r.TLSVerify(t.Context(), s, e, 1, cert, ""); err == nil {
		t.Error("failing tls-verify accepted")
	}
	if err := r.TLSVerify(t.Context(), nil, e, 0, cert, exportDir); err != nil {
		t.Error(err)
	}
}

func TestTLSCryptV2Verify(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, `cp "$metadata_file" "$D/meta"`)
	if err := r.TLSCryptV2Verify(t.Context(), s, []byte("\x00user data\x01")); err != nil {
		t.Fatal(err)
	}
	argv, env := dump()
	m := envMap(env)
	if len(argv) != 0 || len(env) != 3 || m["script_type"] != "tls-crypt-v2-verify" || m["metadata_type"] != "0" {
		t.Errorf("argv %q env %q", argv, env)
	}
	if !strings.Contains(filepath.Base(m["metadata_file"]), "openvpn_tls_crypt_v2_metadata__") || exists(m["metadata_file"]) {
		t.Errorf("metadata_file %q", m["metadata_file"])
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Path), "meta")); string(b) != "user data\x01" {
		t.Errorf("metadata %q", b)
	}
	if err := r.TLSCryptV2Verify(t.Context(), s, nil); err == nil {
		t.Error("empty metadata accepted")
	}
	if err := r.TLSCryptV2Verify(t.Context(), writeScript(t, "exit 1"), []byte{1, 0, 0, 0, 0, 0, 0, 0, 1}); err == nil {
		t.Error("failing script accepted")
	}
}

func TestClientCRResponse(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, `cp "$1" "$D/resp"`)
	e := NewEnv()
	e.Set("common_name", "alice")
	if err := r.ClientCRResponse(t.Context(), s, e, "MTIzNDU2"); err != nil {
		t.Fatal(err)
	}
	argv, env := dump()
	if len(argv) != 1 || !strings.Contains(argv[0], "openvpn_cr_") || exists(argv[0]) || envMap(env)["script_type"] != "client-crresponse" {
		t.Errorf("argv %q env %q", argv, env)
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Path), "resp")); string(b) != "MTIzNDU2\n" {
		t.Errorf("response file %q", b)
	}
}

func TestClientDisconnect(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	s, dump := dumpScript(t, "")
	e := NewEnv()
	e.SetTrusted(netip.MustParseAddrPort("192.0.2.5:40000"))
	e.SetDisconnect(10, 20, 3*time.Second)
	if err := r.ClientDisconnect(t.Context(), s, e); err != nil {
		t.Fatal(err)
	}
	argv, env := dump()
	want := []string{"script_type=client-disconnect", "time_duration=3", "bytes_sent=20", "bytes_received=10", "trusted_port=40000", "trusted_ip=192.0.2.5"}
	if len(argv) != 0 || !slices.Equal(env, want) {
		t.Errorf("argv %q env %q", argv, env)
	}
}

func TestClientConnect(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status ConnectStatus
		config string
	}{
		{"config", `printf 'push "route 10.1.0.0 255.255.0.0"\nifconfig-push 10.8.0.9 255.255.255.0\n' > "$1"`, ConnectSucceeded,
			"push \"route 10.1.0.0 255.255.0.0\"\nifconfig-push 10.8.0.9 255.255.255.0\n"},
		{"nothing written", "exit 0", ConnectSucceeded, ""},
		{"explicit 1", `echo x > "$1"; echo 1 > "$client_connect_deferred_file"`, ConnectSucceeded, "x\n"},
		{"config removed", `rm "$1"`, ConnectSucceeded, ""},
		{"exit 1", `echo x > "$1"; exit 1`, ConnectFailed, ""},
		// Exit status 2 is a failure for client-connect: only the file defers.
		{"exit 2", "exit 2", ConnectFailed, ""},
		// openvpn 2.6 accepts these; the manual (and this package) say fail.
		{"wrote 0", `echo 0 > "$client_connect_deferred_file"`, ConnectFailed, ""},
		{"wrote garbage", `echo x > "$client_connect_deferred_file"`, ConnectFailed, ""},
		{"deferred", `echo 2 > "$client_connect_deferred_file"`, ConnectDeferred, ""},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		s, dump := dumpScript(t, tt.body)
		e := NewEnv()
		e.Set("common_name", "alice")
		res, err := r.ClientConnect(t.Context(), s, e)
		if err != nil || res.Status != tt.status || string(res.Config) != tt.config {
			t.Errorf("%s: %v %q %v; want %v %q", tt.name, res.Status, res.Config, err, tt.status, tt.config)
			continue
		}
		argv, env := dump()
		m := envMap(env)
		cfg, ret := m["client_connect_config_file"], m["client_connect_deferred_file"]
		if len(argv) != 1 || argv[0] != cfg || !strings.Contains(cfg, "/openvpn_cc_") || !strings.Contains(ret, "/openvpn_ccr_") ||
			filepath.Dir(cfg) != r.TmpDir || m["script_type"] != "client-connect" || m["common_name"] != "alice" {
			t.Errorf("%s: argv %q env %q", tt.name, argv, env)
		}
		_, inEnv := e.Get("client_connect_config_file")
		if deferred := tt.status == ConnectDeferred; exists(cfg) != deferred || exists(ret) != deferred || inEnv != deferred {
			t.Errorf("%s: files exist %v %v, in env %v", tt.name, exists(cfg), exists(ret), inEnv)
		}
		if res.Deferred != nil {
			res.Deferred.Close()
			if exists(cfg) || exists(ret) {
				t.Errorf("%s: Close left files", tt.name)
			}
			if _, ok := e.Get("client_connect_deferred_file"); ok {
				t.Errorf("%s: Close left the variables", tt.name)
			}
		}
	}
}

func TestClientConnectDeferred(t *testing.T) {
	tests := []struct {
		name   string
		ret    string
		status ConnectStatus
		config string
	}{
		{"success", "1", ConnectSucceeded, "push \"route 10.9.0.0 255.255.0.0\"\n"},
		{"failure", "0\n", ConnectFailed, ""},
		{"garbage", "?", ConnectFailed, ""},
	}
	for _, tt := range tests {
		r, _ := newTestRunner(t, SecurityScripts)
		e := NewEnv()
		res, err := r.ClientConnect(t.Context(), writeScript(t, `echo 2 > "$client_connect_deferred_file"`), e)
		if err != nil || res.Status != ConnectDeferred {
			t.Fatalf("%s: ClientConnect = %+v, %v", tt.name, res, err)
		}
		d := res.Deferred
		cfg, _ := e.Get("client_connect_config_file")
		ret, _ := e.Get("client_connect_deferred_file")
		// Still "2", then an empty file: no outcome yet.
		if st, _ := d.Poll(); st != ConnectDeferred {
			t.Fatalf("Poll = %v", st)
		}
		os.WriteFile(ret, nil, 0o600)
		if st, _ := d.Poll(); st != ConnectDeferred {
			t.Fatalf("Poll on an empty file = %v", st)
		}
		type result struct {
			st  ConnectStatus
			cfg []byte
			err error
		}
		done := make(chan result)
		go func() {
			st, cfg, err := d.Wait(t.Context())
			done <- result{st, cfg, err}
		}()
		os.WriteFile(cfg, []byte(tt.config), 0o600)
		os.WriteFile(ret, []byte(tt.ret), 0o600)
		got := <-done
		if got.err != nil || got.st != tt.status || string(got.cfg) != tt.config {
			t.Errorf("%s: Wait = %v %q %v", tt.name, got.st, got.cfg, got.err)
		}
		if exists(cfg) || exists(ret) {
			t.Errorf("%s: files not removed", tt.name)
		}
		if _, ok := e.Get("client_connect_config_file"); ok {
			t.Errorf("%s: variables not removed", tt.name)
		}
		if st, _ := d.Poll(); st != tt.status {
			t.Errorf("%s: outcome not final: %v", tt.name, st)
		}
	}
}

func TestClientConnectDeferredTimeout(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	res, err := r.ClientConnect(t.Context(), writeScript(t, `echo 2 > "$client_connect_deferred_file"`), nil)
	if err != nil || res.Status != ConnectDeferred {
		t.Fatalf("ClientConnect = %+v, %v", res, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if st, _, err := res.Deferred.Wait(ctx); st != ConnectDeferred || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, %v", st, err)
	}
	res.Deferred.Close()
	if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestClientConnectNotRun(t *testing.T) {
	r, _ := newTestRunner(t, SecurityBuiltIn)
	res, err := r.ClientConnect(t.Context(), writeScript(t, "exit 0"), NewEnv())
	if !errors.Is(err, ErrNotAllowed) || res.Status != ConnectFailed {
		t.Errorf("ClientConnect = %+v, %v", res, err)
	}
	if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	if res, err := r.ClientConnect(t.Context(), nil, nil); err != nil || res.Status != ConnectSucceeded {
		t.Errorf("nil script: %+v, %v", res, err)
	}
}

func TestParseConnectDeferred(t *testing.T) {
	tests := []struct {
		in   string
		want ConnectStatus
	}{
		{"", ConnectDeferred}, {"2", ConnectDeferred}, {"2\n", ConnectDeferred},
		{"1", ConnectSucceeded}, {"1\n", ConnectSucceeded},
		{"0", ConnectFailed}, {" 1", ConnectFailed}, {"x", ConnectFailed},
	}
	for _, tt := range tests {
		if got := ParseConnectDeferred([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseConnectDeferred(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseConnectDeferred(f *testing.F) {
	f.Add([]byte("2"))
	f.Add([]byte("1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := ParseConnectDeferred(data)
		switch {
		case len(data) == 0 || data[0] == '2':
			if got != ConnectDeferred {
				t.Fatalf("%q: %v", data, got)
			}
		case data[0] == '1':
			if got != ConnectSucceeded {
				t.Fatalf("%q: %v", data, got)
			}
		default:
			if got != ConnectFailed {
				t.Fatalf("%q: %v", data, got)
			}
		}
	})
}

// One Runner serves many client instances at once; each has its own Env.
func TestRunnerConcurrent(t *testing.T) {
	r, _ := newTestRunner(t, SecurityScripts)
	accept := writeScript(t, "exit 0")
	deferScript := writeScript(t, "exit 2")
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			e := NewEnv()
			e.SetCommonName("client" + strings.Repeat("x", i))
			s := accept
			if i%2 == 1 {
				s = deferScript
			}
			res, err := r.AuthUserPass(t.Context(), s, 0, e, "u", "p")
			if err == nil && res.Deferred != nil {
				// Several goroutines poll one handle.
				done := make(chan struct{})
				for range 3 {
					go func() { res.Deferred.Poll(); done <- struct{}{} }()
				}
				os.WriteFile(res.Deferred.ControlFile(), []byte("1"), 0o600)
				for range 3 {
					<-done
				}
				if st, _, werr := res.Deferred.Wait(t.Context()); werr != nil || st != AuthAccepted {
					err = fmt.Errorf("deferred: %v %v", st, werr)
				}
				res.Deferred.Close()
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if left, _ := os.ReadDir(r.TmpDir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
