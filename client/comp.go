package client

import (
	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/dataplane"
)

func compMode(o *config.Options) comp.Mode {
	return dataplane.Compression(o.Data.Compression.Algorithm)
}

func compAllow(o *config.Options) comp.Allow {
	switch o.Data.Compression.Allow {
	case config.AllowCompressionYes:
		return comp.AllowYes
	case config.AllowCompressionAsym:
		return comp.AllowAsym
	}
	return comp.AllowNo
}

// isV1Framing reports whether m adds a v1 framing byte (counted in the OCC
// link-mtu).
func isV1Framing(m comp.Mode) bool {
	return m == comp.LZOStub || m == comp.LZO || m == comp.StubSwap || m == comp.LZ4
}

func dirNumber(d config.KeyDirection) int {
	if d == config.KeyDirInverse {
		return 1
	}
	return 0
}
