package config

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestKnowsEveryOption checks that every option name OpenVPN 2.6.14's
// option parser accepts (testdata/openvpn-2.6-options.txt) is in the table,
// so that no 2.6 option is reported as unknown.
func TestKnowsEveryOption(t *testing.T) {
	data, err := os.ReadFile("testdata/openvpn-2.6-options.txt")
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(data))
	if len(names) < 300 {
		t.Fatalf("only %d names", len(names))
	}
	for _, n := range names {
		if lookupOption(n) == nil {
			t.Errorf("OpenVPN 2.6 option %q is not in the table", n)
		}
	}
}

func TestTableSanity(t *testing.T) {
	for _, n := range OptionNames() {
		sp := lookupOption(n)
		if sp.max >= 0 && sp.min > sp.max || sp.max >= MaxParams {
			t.Errorf("%s: bad argument bounds %d..%d", n, sp.min, sp.max)
		}
		if sp.class == 0 {
			t.Errorf("%s: no context class", n)
		}
		if sp.status != stSupported && sp.note == "" {
			t.Errorf("%s: status %s without a note", n, sp.status)
		}
		if sp.status == stSupported && sp.apply == nil && sp.class&(cInstance|cPullMode|cNCP|cPeerID|cEcho|cConfig) == 0 {
			t.Errorf("%s: supported but nothing evaluates it", n)
		}
	}
	for _, tc := range []struct{ name, status string }{
		{"remote", "supported"}, {"--remote", "supported"}, {"block-outside-dns", "ignored"},
		{"http-proxy", "not-yet-supported"}, {"tls-remote", "removed"}, {"key-method", "removed"}, {"nope", "unknown"},
	} {
		if s, _ := OptionStatus(tc.name); s != tc.status {
			t.Errorf("OptionStatus(%q) = %q, want %q", tc.name, s, tc.status)
		}
	}
}

// TestNoSecretsInOutput checks that JSON, Summary and Directive strings
// never contain key material or passwords.
func TestNoSecretsInOutput(t *testing.T) {
	const key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
	cfg := "client\ndev tun\nremote a\n<ca>\n" + testCA + "</ca>\n<cert>\n" + testCA + "</cert>\n<key>\n" + key + "</key>\n<auth-user-pass>\nalice\nS3CRETPASS\n</auth-user-pass>\n"
	o, ds, err := (&Loader{FS: mapFS("c.ovpn", cfg)}).Load("c.ovpn")
	if err != nil {
		t.Fatalf("%v %v", err, ds.List)
	}
	if o.Auth.UserPass.Password != "S3CRETPASS" || string(o.TLS.Key.Data) != key {
		t.Fatal("credentials not read")
	}
	js, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(js), o.Summary(), o.Auth.UserPass.String()} {
		for _, secret := range []string{"S3CRETPASS", "MC4CAQAwBQYDK2VwBCIEIA", "PRIVATE KEY"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q leaked into %.200s", secret, out)
			}
		}
	}
}
