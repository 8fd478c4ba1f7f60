// Package wire holds the OpenVPN 2.6 byte formats: the opcode/key-id byte,
// plain control packets (session ids, ACK arrays, message ids), the
// tls-auth/tls-crypt replay id, P_DATA_V1/V2 headers with peer-id, the
// early-negotiation TLVs of a server reset, the key-method-2 message, the
// NUL-terminated control-message framing and TCP's 16-bit length framing.
//
// Everything here works on byte slices: parsers take []byte and return values
// that alias the input (valid as long as the input is), builders append to a
// caller-supplied slice. Nothing allocates on the parse and build paths, and
// no input makes a parser panic: every length field is bounds-checked and a
// malformed packet yields an error wrapping ErrMalformed.
//
// The package knows nothing about wrapping (tls-auth, tls-crypt): a "plain"
// control packet is the form the packet has on the wire when no wrapping is
// configured. Package ctlwrap converts between wrapped and plain forms.
//
// References: OpenVPN ssl_pkt.h (opcodes), reliable.c (ack blocks),
// ssl.c key_method_2_write/read, packet_id.h, socket.h (TCP framing).
package wire
