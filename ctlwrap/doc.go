// Package ctlwrap protects control-channel packets the way openvpn 2.6 does:
// no wrapping, tls-auth (HMAC firewall), tls-crypt (AES-256-CTR +
// HMAC-SHA256 SIV), tls-crypt-v2 (client-specific tls-crypt keys carried as a
// server-wrapped WKc) and dynamic tls-crypt (renegotiations, key from TLS-EKM).
// It converts between the wrapped wire form of a packet and the *plain* form
// that wire.ParseControl reads (opcode|key_id, session id, ack block, message
// id, payload).
//
// # Packet ids and replay
//
// Every wrapper except None puts a 64-bit replay id (wire.WrapPID: a 32-bit
// counter and the sender's start time in unix seconds) on each packet. The
// send counter is pre-incremented, so the first packet carries 1, and each
// Wrap call uses a fresh id: retransmissions must be re-wrapped, never resent
// as they are. SetSendID moves the counter (a 2.6 UDP server's stateless reset
// carries id 1 and the session continues with 2; a tls-crypt-v2 client that
// signals early negotiation starts at 0x0f000000). Unwrap authenticates first
// and then checks the id against a replay.Window (64 ids, 15 s backtrack by
// default).
//
// # Buffers
//
// Wrap appends the wrapped packet to dst and Unwrap appends the plain packet to
// dst; both return the extended slice and leave dst's length unchanged on
// error. Neither allocates when dst has enough spare capacity (Overhead tells
// how much a wrapped packet grows). Wrap's dst must not overlap plain. Unwrap
// may run in place (dst = pkt[:0]); other overlaps are not allowed. Results
// live in dst's backing array (or a new one if it had to grow), never in
// plain.
//
// # Concurrency
//
// A wrapper value belongs to one control session: Wrap, Unwrap and SetSendID
// are not safe for concurrent use. The stateless methods (UnwrapStateless,
// WrapStateless, and V2ServerKey's methods) only read immutable key material
// and use pooled scratch space: they are safe for concurrent use with each
// other and with a session's methods, do not touch counters or replay
// windows, and do not allocate in steady state (except where documented for
// tls-crypt-v2, whose per-client AES key schedule costs one allocation). A UDP
// server uses them from its socket-reader goroutine for the cookie handshake,
// before any session state exists.
//
// References: OpenVPN ssl_pkt.c (tls_wrap_control, swap_hmac,
// read_control_auth, tls_pre_decrypt_lite), crypto.c (openvpn_encrypt_v1 and
// openvpn_decrypt_v1 without cipher), tls_crypt.c (tls_crypt_wrap,
// tls_crypt_unwrap, tls_crypt_v2_*, tls_session_generate_dynamic_tls_crypt_key),
// packet_id.c, doc/tls-crypt-v2.txt.
package ctlwrap
