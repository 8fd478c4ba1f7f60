package datacrypto

import (
	"errors"
	"fmt"
)

// Errors of the set-up path, wrapped with details.
var (
	// ErrUnsupportedCipher: the cipher name is unknown or not implemented.
	ErrUnsupportedCipher = errors.New("unsupported cipher")
	// ErrWeakCipher: the cipher has a 64-bit block (SWEET32) and is refused.
	ErrWeakCipher = errors.New("weak 64-bit-block cipher refused")
	// ErrUnsupportedAuth: the --auth digest is unknown, or none where an
	// HMAC is required.
	ErrUnsupportedAuth = errors.New("unsupported auth digest")
)

// Errors of the per-packet path. They are returned as preallocated values
// (possibly wrapping one of these), so that failing packets do not allocate
// either; test with errors.Is.
var (
	// ErrBuffer: the caller's buffer breaks the convention (offset below
	// Headroom, not enough spare capacity for Tailroom, empty AEAD payload,
	// invalid header). It is a caller bug, not a network event.
	ErrBuffer = errors.New("datacrypto: buffer does not follow the Seal convention")
	// ErrPacketIDExhausted: the send packet-id reached 0xFFFFFFFF; the key
	// must not send anymore. Renegotiate (NeedsRenegotiation turns true
	// long before this).
	ErrPacketIDExhausted = errors.New("datacrypto: send packet-id exhausted; renegotiate the data-channel key before sending more")
	// ErrNotData: the packet is not a P_DATA_V1/P_DATA_V2 packet.
	ErrNotData = errors.New("datacrypto: not a data packet (opcode is not P_DATA_V1 or P_DATA_V2)")
	// ErrMalformed: the packet is too short or its lengths/padding are
	// inconsistent with the cipher. Drop it.
	ErrMalformed = errors.New("datacrypto: malformed data packet")
	// ErrAuth: the tag or HMAC did not verify (wrong key or key_id, corrupt
	// or forged packet). Drop it; on TCP OpenVPN treats this as fatal.
	ErrAuth = errors.New("datacrypto: packet authentication failed (wrong key, corrupt or forged packet); drop it")
)

// Preallocated wrapped forms, so the hot path returns descriptive errors
// without formatting.
var (
	errOffset   = fmt.Errorf("%w: offset must be between Headroom (%d) and len(buf)", ErrBuffer, Headroom)
	errTailroom = fmt.Errorf("%w: cap(buf)-len(buf) must be at least Tailroom (%d)", ErrBuffer, Tailroom)
	errEmpty    = fmt.Errorf("%w: empty payload (OpenVPN drops AEAD packets without payload); do not send it", ErrBuffer)
	errHeader   = fmt.Errorf("%w: header must be P_DATA_V1 or P_DATA_V2 with key_id 0..7 and peer-id below 2^24", ErrBuffer)
	errBatchOut = fmt.Errorf("%w: SealBatch needs len(pkts) >= len(bufs)", ErrBuffer)
	errZeroID   = fmt.Errorf("%w: SealAt needs a packet-id from ReserveID (never 0)", ErrBuffer)
	errShort    = fmt.Errorf("%w: shorter than header, packet-id, tag/HMAC and minimum payload", ErrMalformed)
	errBlockLen = fmt.Errorf("%w: CBC ciphertext is not a whole number of blocks", ErrMalformed)
	errPadding  = fmt.Errorf("%w: bad CBC padding after a valid HMAC (peer bug or wrong cipher)", ErrMalformed)
	errNilKey2  = errors.New("datacrypto: nil key2 block; pass the 256-byte key material")
)
