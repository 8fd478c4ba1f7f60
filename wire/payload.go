package wire

import "bytes"

// Data-channel payloads that are not tunnel packets (ping.h, occ.h). They
// travel inside the encryption like any packet and are recognised after
// decryption and decompression.

// PingMagic is the keepalive payload: a data packet whose plaintext is
// exactly these 16 bytes is a ping.
var PingMagic = [16]byte{0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb, 0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48}

// OCCMagic prefixes every OCC message.
var OCCMagic = [16]byte{0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81, 0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c}

// OCC opcodes (the byte after OCCMagic).
const (
	OCCRequest        = 0
	OCCReply          = 1
	OCCMTULoadRequest = 2
	OCCMTULoad        = 3
	OCCMTURequest     = 4
	OCCMTUReply       = 5
	OCCExit           = 6
)

// IsPing reports whether a decrypted payload is a keepalive ping.
func IsPing(p []byte) bool { return len(p) == len(PingMagic) && [16]byte(p) == PingMagic }

// OCCOpcode returns the OCC opcode of a decrypted payload, or -1 if the
// payload is not an OCC message.
func OCCOpcode(p []byte) int {
	if len(p) <= len(OCCMagic) || !bytes.Equal(p[:len(OCCMagic)], OCCMagic[:]) {
		return -1
	}
	return int(p[len(OCCMagic)])
}
