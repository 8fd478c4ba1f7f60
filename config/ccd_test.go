package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
)

func TestCCDCorpus(t *testing.T) {
	dir := vectors.Dir(t, "corpus/ovpn")
	data, err := os.ReadFile(filepath.Join(dir, "openvpn-tests__ccd_cron2-win10"))
	if err != nil {
		t.Fatal(err)
	}
	c, ds, err := ParseCCD(bytes.NewReader(data), "cron2-win10")
	if err != nil {
		var b bytes.Buffer
		ds.WriteTo(&b)
		t.Fatalf("%v\n%s", err, b.String())
	}
	if c.IfconfigPush == nil || !c.IfconfigPush.Local.IsValid() || !c.IfconfigIPv6Push.IsValid() {
		t.Errorf("ifconfig-push not read: %+v", c)
	}
	golden(t, filepath.Join("testdata", "ccd", "cron2-win10.golden"), []byte(dump(c)))
}

func TestCCD(t *testing.T) {
	fsys := mapFS(
		"ccd/alice", `# alice's settings
ifconfig-push 10.8.0.50 255.255.255.0
ifconfig-ipv6-push fd00::50/64 fd00::1
iroute 192.168.50.0 255.255.255.0
iroute 192.168.51.7
iroute-ipv6 2001:db8:50::/48
push "route 192.168.60.0 255.255.255.0"
push "dhcp-option DNS 10.8.0.1"
push-remove dhcp-option
push-remove route-gateway
config common
`,
		"ccd/common", "push \"ping 10\"\nsession-timeout 3600\ncompress stub-v2\ndata-ciphers aes-256-gcm\n",
		"ccd/bad", `iroute 192.168.50.1 255.255.255.0
ifconfig-push 10.8.0.50
dev tun
remote x
frobnicate
push "a, b"
iroute-ipv6 nope
ca ca.crt
config loop
`,
		"ccd/loop", "config bad\n",
		"ccd/reset", "push \"route 1.2.3.0 255.255.255.0\"\npush-reset\npush \"ping 5\"\ndisable\n",
	)
	l := &Loader{FS: fsys}
	c, ds, err := l.LoadCCD("ccd/alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.List) != 0 {
		t.Errorf("diagnostics: %v", ds.List)
	}
	p := netip.MustParsePrefix
	if c.IfconfigPush.Local != netip.MustParseAddr("10.8.0.50") || c.IfconfigPush.Remote != netip.MustParseAddr("255.255.255.0") {
		t.Errorf("ifconfig-push %+v", c.IfconfigPush)
	}
	if c.IfconfigIPv6Push != p("fd00::50/64") || c.IfconfigIPv6Remote != netip.MustParseAddr("fd00::1") {
		t.Errorf("ifconfig-ipv6-push %v %v", c.IfconfigIPv6Push, c.IfconfigIPv6Remote)
	}
	if len(c.IRoutes) != 2 || c.IRoutes[0] != p("192.168.50.0/24") || c.IRoutes[1] != p("192.168.51.7/32") || c.IRoutes6[0] != p("2001:db8:50::/48") {
		t.Errorf("iroutes %v %v", c.IRoutes, c.IRoutes6)
	}
	var pushes []string
	for _, e := range c.Push {
		pushes = append(pushes, e.Option)
	}
	if strings.Join(pushes, "|") != "route 192.168.60.0 255.255.255.0|ping 10" {
		t.Errorf("push %q", pushes)
	}
	if strings.Join(c.PushRemove, "|") != "dhcp-option|route-gateway" {
		t.Errorf("push-remove %q", c.PushRemove)
	}
	if c.SessionTimeout.Seconds() != 3600 || c.Compression != CompStubV2 || c.Ciphers[0] != "AES-256-GCM" {
		t.Errorf("include not applied: %+v", c)
	}
	if c.Directives[len(c.Directives)-1].File != filepath.Join("ccd", "common") {
		t.Errorf("included directive file %q", c.Directives[len(c.Directives)-1].File)
	}

	c, _, err = l.LoadCCD("ccd/reset")
	if err != nil || !c.PushReset || !c.Disable || len(c.Push) != 1 || c.Push[0].Option != "ping 5" {
		t.Errorf("push-reset: %v %+v", err, c)
	}

	_, ds, err = l.LoadCCD("ccd/bad")
	if err == nil {
		t.Fatal("no error for a bad ccd file")
	}
	var b bytes.Buffer
	ds.WriteTo(&b)
	for _, want := range []string{
		"ccd/bad:1: error: iroute: network 192.168.50.1 has host bits",
		"ccd/bad:2: error: ifconfig-push: takes at least 2 arguments",
		"ccd/bad:3: error: dev: option 'dev' cannot be used in this context",
		"ccd/bad:4: error: remote: option 'remote' cannot be used in this context",
		"ccd/bad:5: error: frobnicate: unknown option",
		"ccd/bad:6: error: push: a pushed option cannot contain ','",
		"ccd/bad:7: error: iroute-ipv6:",
		"ccd/bad:8: error: ca: option 'ca' cannot be used in this context",
		"include loop",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
}
