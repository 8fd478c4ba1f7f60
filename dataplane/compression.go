package dataplane

import (
	"github.com/openvpn-go/openvpn-go/comp"
	"github.com/openvpn-go/openvpn-go/config"
)

// Compression returns the framing of a configured, pushed or per-client
// compression algorithm ("compress migrate" and none frame nothing).
func Compression(a config.CompAlgorithm) comp.Mode {
	switch a {
	case config.CompLZOStub:
		return comp.LZOStub
	case config.CompLZO:
		return comp.LZO
	case config.CompStub:
		return comp.StubSwap
	case config.CompLZ4:
		return comp.LZ4
	case config.CompStubV2:
		return comp.StubV2
	case config.CompLZ4V2:
		return comp.LZ4V2
	}
	return comp.None
}
