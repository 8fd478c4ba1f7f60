// Package control implements one OpenVPN 2.6 control session: the exchange
// between a client and a server that authenticates them with TLS, agrees on
// data-channel keys (key-method 2) and carries control messages such as
// PUSH_REQUEST and PUSH_REPLY.
//
// A Session holds up to three key slots, one per live key_id: the primary
// (its keys encrypt data), a slot being negotiated (renegotiation) and the
// lame duck (the previous primary, kept for --tran-window so packets in
// flight still decrypt). Each slot runs its own reliability layer
// (package reliable) and its own brand-new TLS session: renegotiation is a
// fresh handshake on key_id 1..7,1,..., never TLS renegotiation.
//
//	slot states (ssl_common.h S_*):
//
//	  initial ──our reset queued──▶ preStart ──our reset acked──▶ start (TLS runs)
//	     start ──TLS done, key-method messages exchanged──▶ active
//	     any ──hand-window expired / TLS error──▶ failed
//
// The session is sans-I/O: the owner goroutine feeds it wire packets
// (HandlePacket), runs Tick when the Wake channel fires or NextDeadline
// passes, sends the packets Outgoing returns and reacts to Events. Every
// method takes the current time. The only goroutines are one per TLS
// session (crypto/tls is blocking); they talk to the owner through an
// in-memory pipe and never touch session state. A Session is not safe for
// concurrent use.
//
// References: protocol-control-channel.md §4–§9; openvpn ssl.c tls_process,
// tls_pre_decrypt, key_method_2_write/read, key_state_soft_reset.
package control
