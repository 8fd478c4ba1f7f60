package pcap

import (
	"path/filepath"
	"testing"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
	"github.com/openvpn-go/openvpn-go/wire"
)

func TestCaptures(t *testing.T) {
	dir := vectors.Dir(t, "testvectors/openvpn-2.6.14")
	for _, f := range []string{"dc.pcap", "dc2.pcap", "dc3.pcap", "control/plain.pcap", "control/tauth.pcap", "control/tcrypt.pcap", "control/tcv2.pcap", "control/tcp.pcap"} {
		pkts, err := ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(pkts) < 10 {
			t.Fatalf("%s: only %d packets", f, len(pkts))
		}
		op, _, _ := wire.PeekOpcode(pkts[0].Data)
		if op != wire.OpControlHardResetClientV2 && op != wire.OpControlHardResetClientV3 {
			t.Errorf("%s: first packet is %v", f, op)
		}
	}
}
