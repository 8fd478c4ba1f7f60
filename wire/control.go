package wire

import "encoding/binary"

// Limits of the control channel (reliable.h, ssl.h).
const (
	// MaxAcks is the largest number of ids one ack block may carry
	// (RELIABLE_ACK_SIZE).
	MaxAcks = 8
	// MaxPiggybackAcks is the largest number of ids OpenVPN puts on a packet
	// that is not a P_ACK_V1 (CONTROL_SEND_ACK_MAX).
	MaxPiggybackAcks = 4
	// HeaderLen is the opcode byte plus the sender's session id.
	HeaderLen = 1 + 8
)

// ControlPacket is a decoded plain control packet:
//
//	opcode|key_id (1) || own session id (8) || ack count n (1) ||
//	n x u32 acked message ids || peer session id (8, iff n > 0) ||
//	message id (4, absent in P_ACK_V1) || payload
//
// Payload aliases the parsed buffer.
type ControlPacket struct {
	Opcode          Opcode
	KeyID           KeyID
	SessionID       SessionID // the sender's session id
	NumAcks         int
	Acks            [MaxAcks]uint32
	RemoteSessionID SessionID // the receiver's session id; valid iff NumAcks > 0
	MessageID       uint32    // absent (zero) for P_ACK_V1
	Payload         []byte
}

// AckList returns the acked ids.
func (p *ControlPacket) AckList() []uint32 { return p.Acks[:p.NumAcks] }

// AckBlockLen returns the encoded size of an ack block with n ids.
func AckBlockLen(n int) int {
	if n == 0 {
		return 1
	}
	return 1 + 4*n + 8
}

// Len returns the encoded length of p.
func (p *ControlPacket) Len() int {
	n := HeaderLen + AckBlockLen(p.NumAcks) + len(p.Payload)
	if p.Opcode.HasMessageID() {
		n += 4
	}
	return n
}

// ParseControl decodes a plain control packet. It checks the opcode is a
// control opcode, the ack count is at most MaxAcks, and that P_ACK_V1 has no
// payload. It does not check session ids against any state.
func ParseControl(b []byte) (ControlPacket, error) {
	var p ControlPacket
	if len(b) < HeaderLen+1 {
		return p, malformed("control packet of %d bytes is shorter than %d", len(b), HeaderLen+1)
	}
	p.Opcode, p.KeyID = SplitOpcode(b[0])
	if !p.Opcode.IsControl() {
		return p, malformed("opcode %v is not a control opcode", p.Opcode)
	}
	copy(p.SessionID[:], b[1:9])
	rest, err := parseAckBlock(&p, b[9:])
	if err != nil {
		return p, err
	}
	if p.Opcode.HasMessageID() {
		if len(rest) < 4 {
			return p, malformed("%v without message id", p.Opcode)
		}
		p.MessageID = binary.BigEndian.Uint32(rest)
		rest = rest[4:]
	} else if len(rest) != 0 {
		return p, malformed("P_ACK_V1 with %d bytes of payload", len(rest))
	}
	p.Payload = rest
	return p, nil
}

func parseAckBlock(p *ControlPacket, b []byte) ([]byte, error) {
	if len(b) < 1 {
		return nil, malformed("missing ack count")
	}
	n := int(b[0])
	if n > MaxAcks {
		return nil, malformed("ack count %d exceeds %d", n, MaxAcks)
	}
	b = b[1:]
	if n == 0 {
		return b, nil
	}
	if len(b) < 4*n+8 {
		return nil, malformed("ack block of %d ids truncated", n)
	}
	p.NumAcks = n
	for i := 0; i < n; i++ {
		p.Acks[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	copy(p.RemoteSessionID[:], b[4*n:4*n+8])
	return b[4*n+8:], nil
}

// Append appends the plain encoding of p to dst.
func (p *ControlPacket) Append(dst []byte) []byte {
	dst = append(dst, OpcodeByte(p.Opcode, p.KeyID))
	dst = append(dst, p.SessionID[:]...)
	dst = append(dst, byte(p.NumAcks))
	for _, id := range p.Acks[:p.NumAcks] {
		dst = binary.BigEndian.AppendUint32(dst, id)
	}
	if p.NumAcks > 0 {
		dst = append(dst, p.RemoteSessionID[:]...)
	}
	if p.Opcode.HasMessageID() {
		dst = binary.BigEndian.AppendUint32(dst, p.MessageID)
	}
	return append(dst, p.Payload...)
}

// WrapPID is the replay id that tls-auth and tls-crypt put on every control
// packet: a pre-incremented counter and the sender's start time.
type WrapPID struct {
	ID   uint32
	Time uint32
}

// WrapPIDLen is the encoded size of a WrapPID.
const WrapPIDLen = 8

// ParseWrapPID decodes a WrapPID from the first 8 bytes of b.
func ParseWrapPID(b []byte) (WrapPID, bool) {
	if len(b) < WrapPIDLen {
		return WrapPID{}, false
	}
	return WrapPID{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])}, true
}

// Append appends the encoding of w to dst.
func (w WrapPID) Append(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, w.ID)
	return binary.BigEndian.AppendUint32(dst, w.Time)
}

// Early negotiation (ssl_pkt.h): a tls-crypt-v2 client that starts its wrap
// counter at EarlyNegStart signals that it understands TLVs in the server's
// reset.
const (
	EarlyNegMask          = 0xff000000
	EarlyNegStart         = 0x0f000000
	TLVTypeEarlyNegFlags  = 0x0001
	EarlyNegFlagResendWKC = 0x0001
)

// EarlyNegFlags parses the TLVs in the payload of a server hard reset and
// returns the EARLY_NEG_FLAGS value (0 if absent). Unknown types are skipped;
// a truncated TLV is an error, as in OpenVPN.
func EarlyNegFlags(payload []byte) (uint16, error) {
	var flags uint16
	for len(payload) > 0 {
		if len(payload) < 4 {
			return 0, malformed("truncated TLV header")
		}
		typ := binary.BigEndian.Uint16(payload)
		l := int(binary.BigEndian.Uint16(payload[2:]))
		if len(payload) < 4+l {
			return 0, malformed("TLV type %d length %d exceeds packet", typ, l)
		}
		v := payload[4 : 4+l]
		if typ == TLVTypeEarlyNegFlags {
			if l != 2 {
				return 0, malformed("EARLY_NEG_FLAGS of length %d", l)
			}
			flags = binary.BigEndian.Uint16(v)
		}
		payload = payload[4+l:]
	}
	return flags, nil
}

// AppendEarlyNegFlags appends an EARLY_NEG_FLAGS TLV to dst.
func AppendEarlyNegFlags(dst []byte, flags uint16) []byte {
	dst = binary.BigEndian.AppendUint16(dst, TLVTypeEarlyNegFlags)
	dst = binary.BigEndian.AppendUint16(dst, 2)
	return binary.BigEndian.AppendUint16(dst, flags)
}
