// Package datacrypto protects OpenVPN 2.6 data-channel packets: it seals
// (encrypts and authenticates) outbound payloads and opens inbound packets
// with the data-channel ciphers AES-128/192/256-GCM, CHACHA20-POLY1305 and
// AES-128/192/256-CBC with an HMAC (SHA1, SHA224, SHA256, SHA384, SHA512),
// plus cipher "none" with an HMAC. It owns one key_id's send packet-id
// counter and receive replay window. That is its one job; choosing a key by
// key_id, compression framing and fragmentation belong to the caller.
//
// # Wire formats
//
// AEAD (GCM, ChaCha20-Poly1305), tag before ciphertext:
//
//	[hdr 1|4][packet-id 4][tag 16][ciphertext n]
//	nonce = packet-id || implicit IV (8 bytes)
//	AD    = V2 header || packet-id  (V1: packet-id only)
//
// CBC + HMAC (encrypt-then-MAC, header not covered):
//
//	[hdr 1|4][HMAC][IV 16][CBC(packet-id 4 || payload || PKCS#7)]
//	HMAC = HMAC(hmac key, IV || ciphertext)
//
// Cipher none + HMAC:
//
//	[hdr 1|4][HMAC][packet-id 4][payload]
//	HMAC = HMAC(hmac key, packet-id || payload)
//
// # Buffer convention
//
// Everything works in place and nothing allocates per packet.
//
// Outbound: the caller puts the plaintext at an offset off of its buffer,
// with off >= Headroom bytes in front of it and at least Tailroom bytes of
// spare capacity behind it (cap(buf)-len(buf) >= Tailroom). The plaintext is
// buf[off:]. [Key.Seal] writes the header, packet-id, tag, HMAC and IV into
// buf[off-Headroom:off] (bytes there that do not end up in the packet are
// scratch, e.g. the AEAD nonce), the CBC padding or the transient AEAD tag
// into buf[len(buf):len(buf)+Tailroom], encrypts the plaintext where it lies,
// and returns the packet: a sub-slice of buf that may extend past len(buf)
// into the capacity. Nothing outside buf[off-Headroom:len(buf)+Tailroom] is
// touched. A dataplane therefore allocates every buffer of a batch as
// make([]byte, off+mtu, off+mtu+Tailroom), reads each tun packet to
// buf[off:], and seals them all with the same off (see [Key.SealBatch]), the
// way wireguard-go passes one offset to its tun and crypto stages. Framing
// that goes inside the encryption (compression byte, fragment header) is
// written just before the plaintext by lowering off, as long as off stays
// >= Headroom; framing outside it (TCP length) needs off >= Headroom + 2 so
// the caller can prepend it to the returned packet in place.
//
// Inbound: [Key.Open] takes one whole data packet (header included) and
// returns the plaintext as a sub-slice of it. It writes only inside
// pkt[:len(pkt)]; after Open, successful or not, the bytes of pkt other than
// the returned plaintext are unspecified.
//
// # Concurrency
//
// [Key.Seal], [Key.SealBatch], [Key.Open], [Key.NeedsRenegotiation],
// [Key.SentID] and the accessors are safe for concurrent use by any number
// of goroutines on the same Key: the send packet-id is an atomic counter, so
// concurrent sealers get distinct ids, and per-call state (HMAC, CBC chaining
// state, AEAD nonce) comes from a per-Key sync.Pool or from the caller's
// buffer. [Key.Replay] is not: the receive path calls it from one goroutine
// per Key, in arrival order, after Open (which may run out of order on
// several workers) succeeded.
//
// # Security notes
//
// Tags and HMACs are verified in constant time (by the AEAD, or with
// crypto/hmac.Equal) before anything is decrypted or parsed; CBC padding is
// checked only after the HMAC, so there is no padding oracle. CBC IVs are
// AES-256 under a random per-Key secret applied to the packet-id: unique and
// unpredictable, and free of syscalls and allocation. Ciphers with a 64-bit
// block (BF-CBC, DES, CAST5, IDEA, RC2) are refused because of SWEET32, and
// CBC or none without an HMAC is refused because it is unauthenticated.
//
// References: OpenVPN crypto.c openvpn_encrypt_aead/openvpn_decrypt_aead,
// openvpn_encrypt_v1/openvpn_decrypt_v1, ssl.c init_key_contexts and
// key_ctx_update_implicit_iv, packet_id.c packet_id_send_update.
package datacrypto
