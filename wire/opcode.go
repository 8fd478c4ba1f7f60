package wire

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every parse error of this package.
var ErrMalformed = errors.New("malformed packet")

func malformed(format string, args ...any) error {
	return fmt.Errorf("wire: %w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Opcode is the 5-bit packet type in the first byte of every packet.
type Opcode uint8

// Opcodes of the OpenVPN protocol (ssl_pkt.h).
const (
	OpControlHardResetClientV1 Opcode = 1 // key-method 1, refused
	OpControlHardResetServerV1 Opcode = 2 // key-method 1, refused
	OpControlSoftResetV1       Opcode = 3
	OpControlV1                Opcode = 4
	OpAckV1                    Opcode = 5
	OpDataV1                   Opcode = 6
	OpControlHardResetClientV2 Opcode = 7
	OpControlHardResetServerV2 Opcode = 8
	OpDataV2                   Opcode = 9
	OpControlHardResetClientV3 Opcode = 10 // tls-crypt-v2: WKc appended
	OpControlWKCV1             Opcode = 11 // P_CONTROL_V1 with WKc appended
)

var opcodeNames = [...]string{
	OpControlHardResetClientV1: "P_CONTROL_HARD_RESET_CLIENT_V1",
	OpControlHardResetServerV1: "P_CONTROL_HARD_RESET_SERVER_V1",
	OpControlSoftResetV1:       "P_CONTROL_SOFT_RESET_V1",
	OpControlV1:                "P_CONTROL_V1",
	OpAckV1:                    "P_ACK_V1",
	OpDataV1:                   "P_DATA_V1",
	OpControlHardResetClientV2: "P_CONTROL_HARD_RESET_CLIENT_V2",
	OpControlHardResetServerV2: "P_CONTROL_HARD_RESET_SERVER_V2",
	OpDataV2:                   "P_DATA_V2",
	OpControlHardResetClientV3: "P_CONTROL_HARD_RESET_CLIENT_V3",
	OpControlWKCV1:             "P_CONTROL_WKC_V1",
}

// String returns the name OpenVPN uses for the opcode, e.g. "P_CONTROL_V1".
func (o Opcode) String() string {
	if int(o) < len(opcodeNames) && opcodeNames[o] != "" {
		return opcodeNames[o]
	}
	return fmt.Sprintf("P_UNKNOWN(%d)", uint8(o))
}

// IsData reports whether o is P_DATA_V1 or P_DATA_V2.
func (o Opcode) IsData() bool { return o == OpDataV1 || o == OpDataV2 }

// IsControl reports whether o is a control-channel opcode accepted by
// OpenVPN 2.6 (3..11 except the data opcodes).
func (o Opcode) IsControl() bool {
	return o >= OpControlSoftResetV1 && o <= OpControlWKCV1 && !o.IsData()
}

// IsHardReset reports whether o starts a new session with key-method 2
// (client V2/V3 or server V2).
func (o Opcode) IsHardReset() bool {
	return o == OpControlHardResetClientV2 || o == OpControlHardResetServerV2 || o == OpControlHardResetClientV3
}

// HasMessageID reports whether packets with this opcode carry a reliability
// message id (every control opcode except P_ACK_V1).
func (o Opcode) HasMessageID() bool { return o.IsControl() && o != OpAckV1 }

// KeyID is the 3-bit key id in the first byte of every packet. 0 is the first
// key of a connection; renegotiations use 1..7 and then wrap to 1.
type KeyID uint8

// NextKeyID returns the key id that follows k: 1,2,...,7,1,...
func NextKeyID(k KeyID) KeyID {
	k = (k + 1) & 7
	if k == 0 {
		k = 1
	}
	return k
}

// SplitOpcode splits the first byte of a packet.
func SplitOpcode(b byte) (Opcode, KeyID) { return Opcode(b >> 3), KeyID(b & 7) }

// OpcodeByte builds the first byte of a packet.
func OpcodeByte(op Opcode, k KeyID) byte { return byte(op)<<3 | byte(k&7) }

// PeekOpcode returns the opcode and key id of pkt without further checks.
// ok is false for an empty packet.
func PeekOpcode(pkt []byte) (op Opcode, k KeyID, ok bool) {
	if len(pkt) == 0 {
		return 0, 0, false
	}
	op, k = SplitOpcode(pkt[0])
	return op, k, true
}

// SessionID is the 8-byte control-channel session id. The all-zero value means
// "absent" to OpenVPN and is never valid on the wire.
type SessionID [8]byte

// IsZero reports whether s is all zero.
func (s SessionID) IsZero() bool { return s == SessionID{} }

func (s SessionID) String() string { return fmt.Sprintf("%x", s[:]) }
