// Package deps checks the import rules written down in ARCHITECTURE.md.
package deps

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/openvpn-go/openvpn-go"

// layer of every package of the module. Packages not listed fail the test,
// so a new package has to be placed in a layer (and in ARCHITECTURE.md).
var layer = map[string]int{
	"wire": 0, "replay": 0, "keys": 0, "config": 0, "event": 0, "ippool": 0, "x509name": 0,
	"netconf": 0, "comp": 0, "fragment": 0, "ippkt": 0, "internal/bufpool": 0, "authtoken": 0,
	"ctlwrap": 1, "tlsconf": 1, "reliable": 1, "datacrypto": 1, "transport": 1, "tun": 1, "hook": 1, "pki": 1,
	"control": 2, "dataplane": 2,
	"client": 3, "server": 3, "mgmt": 3,
	"cmd/openvpn-go": 4,
	// Test support: may import the library, never the command.
	"internal/lab": 3, "internal/bench": 4, "internal/pcap": 1, "internal/vectors": 0, "internal/deps": 0, "internal/race": 0,
}

// Packages that work on bytes only.
var noIO = []string{"wire", "replay", "keys", "reliable", "datacrypto", "ctlwrap", "comp", "fragment", "ippkt"}

var forbidden = map[string][]string{
	"tun":     {"config"},
	"netconf": {"config"},
	"mgmt":    {"client", "server"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		l, ok := layer[name]
		if !ok {
			// Sub-packages inherit their parent's layer (e.g. transport/transporttest).
			for parent, pl := range layer {
				if strings.HasPrefix(name, parent+"/") {
					l, ok = pl, true
				}
			}
		}
		if !ok {
			t.Errorf("package %s is not placed in a layer: add it to internal/deps and ARCHITECTURE.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				for _, n := range noIO {
					if name == n && (imp == "net" || imp == "os" || imp == "os/exec") {
						t.Errorf("%s imports %s; it must work on bytes only", name, imp)
					}
				}
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if strings.HasPrefix(name, dep+"/") || strings.HasPrefix(dep, name+"/") {
				continue // a package and its own sub-packages
			}
			dl, ok := layer[dep]
			if !ok {
				for parent, pl := range layer {
					if strings.HasPrefix(dep, parent+"/") {
						dl, ok = pl, true
					}
				}
			}
			if ok && dl >= l {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point downward", name, l, dep, dl)
			}
			for _, f := range forbidden[name] {
				if dep == f {
					t.Errorf("%s must not import %s", name, dep)
				}
			}
		}
	}
}
