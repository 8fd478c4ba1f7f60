// Package authtoken implements openvpn 2.6's --auth-gen-token tokens in their
// exact format (auth_token.c), so that tokens minted by an openvpn server are
// accepted by ours and the other way round, given the same secret:
//
//	token = "SESS_ID_AT_" || base64(sessid (12) || initial_ts (u64) ||
//	        renew_ts (u64) || HMAC-SHA256(K, username || sessid ||
//	        initial_ts || renew_ts))
//
// That is 11 + 80 = 91 characters. Timestamps are big-endian unix seconds of
// the server's clock; K is bytes 64..95 of the 128-byte secret
// (--auth-gen-token-secret, "openvpn --genkey auth-token"; parse the file
// with keys.ParseAuthTokenKey).
//
// A Secret is immutable and safe for concurrent use. Tokens are secrets:
// never log them (openvpn prints "SESS_ID" instead).
package authtoken
