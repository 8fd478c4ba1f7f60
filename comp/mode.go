package comp

import (
	"errors"
	"fmt"
)

// Mode is one compression framing, as selected by a `comp-lzo` or `compress`
// option in the configuration or in a PUSH_REPLY. The zero value is None.
type Mode uint8

const (
	// None: no compression option at all. Payloads carry no framing and no
	// byte is stripped on receipt.
	None Mode = iota
	// LZOStub is `comp-lzo no`: 0xFA before every payload; only 0xFA is
	// accepted (a 0x66 LZO packet is dropped).
	LZOStub
	// LZO is `comp-lzo`, `comp-lzo yes`, `comp-lzo adaptive` and
	// `compress lzo`: openvpn-go sends 0xFA, and accepts 0xFA and 0x66
	// followed by an LZO1X stream.
	LZO
	// StubSwap is `compress` without argument and `compress stub`: the first
	// payload byte moves to the end and 0xFB takes its place.
	StubSwap
	// LZ4 is `compress lz4`: sent like StubSwap; accepts 0xFB and, swapped
	// the same way, 0x69 followed by an LZ4 block.
	LZ4
	// StubV2 is `compress stub-v2`: nothing is added unless the payload
	// starts with 0x50, which is escaped as 0x50 0x00.
	StubV2
	// LZ4V2 is `compress lz4-v2`: sent like StubV2; also accepts 0x50 0x01
	// followed by an LZ4 block.
	LZ4V2

	numModes
)

// Framing byte values (comp.h).
const (
	lzoCompressByte    = 0x66 // LZO_COMPRESS_BYTE
	lz4CompressByte    = 0x69 // LZ4_COMPRESS_BYTE
	noCompressByte     = 0xFA // NO_COMPRESS_BYTE
	noCompressByteSwap = 0xFB // NO_COMPRESS_BYTE_SWAP
	v2Indicator        = 0x50 // COMP_ALGV2_INDICATOR_BYTE
	v2Uncompressed     = 0x00 // COMP_ALGV2_UNCOMPRESSED_BYTE
	v2LZ4              = 0x01 // COMP_ALGV2_LZ4_BYTE
)

// MaxHeadroom is the most bytes Frame writes before the packet (the v2
// escape 0x50 0x00); MaxTailroom the most it writes after it (the byte the
// swap moves to the end). A caller that reserves both can frame in any mode.
const (
	MaxHeadroom = 2
	MaxTailroom = 1
)

var modeNames = [numModes]string{
	None:     "none",
	LZOStub:  "comp-lzo no",
	LZO:      "comp-lzo yes",
	StubSwap: "compress stub",
	LZ4:      "compress lz4",
	StubV2:   "compress stub-v2",
	LZ4V2:    "compress lz4-v2",
}

// String returns the option that selects m, spelled as a configuration file
// or a PUSH_REPLY would ("comp-lzo no", "compress stub-v2", ...); None is
// "none".
func (m Mode) String() string {
	if m < numModes {
		return modeNames[m]
	}
	return fmt.Sprintf("comp.Mode(%d)", uint8(m))
}

// IsStub reports whether m only frames and never carries compressed data:
// None, LZOStub, StubSwap and StubV2. These are the modes 2.6 allows under
// `allow-compression no`.
func (m Mode) IsStub() bool {
	switch m {
	case None, LZOStub, StubSwap, StubV2:
		return true
	}
	return false
}

// Overhead returns the bytes Frame adds to every packet in mode m: 1 for the
// v1 framings (LZOStub, LZO, StubSwap, LZ4), 0 otherwise. The v2 escape of a
// leading 0x50 is not counted, as in OpenVPN's MTU and link-mtu arithmetic
// (tun packets start with 0x4X or 0x6X).
func (m Mode) Overhead() int {
	switch m {
	case LZOStub, LZO, StubSwap, LZ4:
		return 1
	}
	return 0
}

// ErrBadOption is wrapped by ParseMode and ParseAllow errors.
var ErrBadOption = errors.New("comp: bad compression option")

// ParseMode parses a compression option from its words: words[0] is
// "comp-lzo" or "compress" and words[1], if present, its argument. migrate is
// true for `compress migrate`, which is a server policy rather than a framing
// (the server then picks a framing per client); its Mode is None.
//
// `comp-lzo` without argument and `comp-lzo adaptive` are LZO (adaptive
// compression only matters to a sender that compresses, which openvpn-go
// never does).
func ParseMode(words []string) (m Mode, migrate bool, err error) {
	if len(words) == 0 || len(words) > 2 {
		return None, false, fmt.Errorf("%w: want an option and at most one argument, got %q", ErrBadOption, words)
	}
	arg, hasArg := "", len(words) == 2
	if hasArg {
		arg = words[1]
	}
	switch words[0] {
	case "comp-lzo":
		switch {
		case !hasArg, arg == "yes", arg == "adaptive":
			return LZO, false, nil
		case arg == "no":
			return LZOStub, false, nil
		}
		return None, false, fmt.Errorf("%w: comp-lzo %q: must be 'yes', 'no' or 'adaptive'", ErrBadOption, arg)
	case "compress":
		switch {
		case !hasArg, arg == "stub":
			return StubSwap, false, nil
		case arg == "stub-v2":
			return StubV2, false, nil
		case arg == "lzo":
			return LZO, false, nil
		case arg == "lz4":
			return LZ4, false, nil
		case arg == "lz4-v2":
			return LZ4V2, false, nil
		case arg == "migrate":
			return None, true, nil
		}
		return None, false, fmt.Errorf("%w: compress %q: unknown algorithm", ErrBadOption, arg)
	}
	return None, false, fmt.Errorf("%w: %q is not comp-lzo or compress", ErrBadOption, words[0])
}

// Allow is the `allow-compression` policy.
type Allow uint8

const (
	// AllowUnset: no allow-compression option. See Effective for what 2.6
	// makes of it.
	AllowUnset Allow = iota
	// AllowNo (`allow-compression no`): only stub framings; a configured
	// compressing mode is a configuration error and a pushed one must end
	// the connection.
	AllowNo
	// AllowAsym (`allow-compression asym`): decompress what arrives, never
	// compress what is sent.
	AllowAsym
	// AllowYes (`allow-compression yes`): 2.6 would compress in both
	// directions. openvpn-go accepts it but still never compresses, so it
	// behaves as AllowAsym.
	AllowYes
)

// String returns the option argument ("no", "asym", "yes"), or "unset".
func (a Allow) String() string {
	switch a {
	case AllowUnset:
		return "unset"
	case AllowNo:
		return "no"
	case AllowAsym:
		return "asym"
	case AllowYes:
		return "yes"
	}
	return fmt.Sprintf("comp.Allow(%d)", uint8(a))
}

// ParseAllow parses the argument of `allow-compression`.
func ParseAllow(word string) (Allow, error) {
	switch word {
	case "no":
		return AllowNo, nil
	case "asym":
		return AllowAsym, nil
	case "yes":
		return AllowYes, nil
	}
	return AllowUnset, fmt.Errorf("%w: allow-compression %q: must be 'yes', 'no' or 'asym'", ErrBadOption, word)
}

// ErrNotAllowed is returned when a compressing mode meets
// `allow-compression no`.
var ErrNotAllowed = errors.New("comp: compression is not allowed (allow-compression no)")

// Effective returns the policy 2.6 applies, given the allow-compression
// option a and the mode configured locally (before any push):
//
//   - unset with a stub mode (or none) becomes AllowNo, 2.6's default;
//   - unset with a compressing mode becomes AllowAsym ("Compression for
//     receiving enabled... Sent packets are not compressed");
//   - AllowNo with a compressing mode is a configuration error
//     (ErrNotAllowed);
//   - anything else is kept.
func (a Allow) Effective(configured Mode) (Allow, error) {
	switch {
	case a == AllowUnset && configured.IsStub():
		return AllowNo, nil
	case a == AllowUnset:
		return AllowAsym, nil
	case a == AllowNo && !configured.IsStub():
		return AllowNo, fmt.Errorf("%w: %s is configured", ErrNotAllowed, configured)
	}
	return a, nil
}

// Permits reports whether mode m may be used under the effective policy a
// (see Effective). A 2.6 client that is pushed a mode its policy does not
// permit aborts the connection ("server pushed compression settings that are
// not allowed") and reconnects.
func (a Allow) Permits(m Mode) bool {
	if m >= numModes {
		return false
	}
	return m.IsStub() || a == AllowAsym || a == AllowYes
}

// AppendPeerInfo appends the compression IV_ variables a pull client sends
// in its peer-info, one "NAME=1\n" line each, in 2.6's order, and returns the
// extended slice. a is the effective policy and m the configured mode: with
// AllowNo, or with `compress stub`/`compress stub-v2` configured, only the
// stubs are advertised (IV_LZO_STUB, IV_COMP_STUB, IV_COMP_STUBv2);
// otherwise IV_LZ4, IV_LZ4v2 and IV_LZO come first, since openvpn-go
// decompresses both algorithms.
func AppendPeerInfo(dst []byte, a Allow, m Mode) []byte {
	stubsOnly := a == AllowNo || a == AllowUnset || m == StubSwap || m == StubV2
	if stubsOnly {
		dst = append(dst, "IV_LZO_STUB=1\n"...)
	} else {
		dst = append(dst, "IV_LZ4=1\nIV_LZ4v2=1\nIV_LZO=1\n"...)
	}
	return append(dst, "IV_COMP_STUB=1\nIV_COMP_STUBv2=1\n"...)
}
