// Package keys holds OpenVPN's key material formats and derivations, byte for
// byte as openvpn 2.6 reads and writes them:
//
//   - the 2048-bit static key file ("-----BEGIN OpenVPN Static key V1-----",
//     used by tls-auth and tls-crypt), parsed like openvpn's read_key_file and
//     written like "openvpn --genkey secret";
//   - the Key (64 cipher bytes || 64 HMAC bytes) and Key2 (two Keys, 256 bytes)
//     layouts and the key directions (NORMAL "0", INVERSE "1", bidirectional);
//   - the PEM key files: tls-crypt-v2 server key, tls-crypt-v2 client key
//     (Kc || WKc) and the auth-token secret, as "openvpn --genkey" writes them;
//   - the data-channel key derivation: the TLS 1.0/1.1 PRF and OpenVPN's
//     master-secret and key-expansion steps, the TLS keying-material exporter
//     labels, and the AEAD implicit IV slice.
//
// The package works on bytes only (no I/O): callers read files and pass their
// contents. Parsers never panic and bound every length. Functions are safe for
// concurrent use; values (Key, Key2) are plain arrays that callers own. Key
// material is secret: callers should zero it (Key2.Zero) when done.
//
// References: OpenVPN crypto.c (read_key_file, write_key_file,
// key_direction_state_init, read_pem_key_file), crypto_openssl.c
// (crypto_pem_encode, ssl_tls1_PRF), ssl.c (openvpn_PRF,
// generate_key_expansion_openvpn_prf, key_ctx_update_implicit_iv),
// ssl_backend.h (EXPORT_* labels), tls_crypt.c and auth_token.c (PEM labels).
package keys
