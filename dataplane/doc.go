// Package dataplane moves tunnel packets: tun ↔ compression framing ↔
// data-channel crypto ↔ link. It holds each peer's keys (one per key_id,
// installed and removed by the control owner) and counts traffic and
// liveness for keepalive.
//
// The hot path follows wireguard-go: batches in, batches out, no channel
// operation and no allocation per packet, no log line per packet. Buffers
// carry the plaintext at Offset so headers are added in place.
//
//	outbound: tun.Read(batch) → frame → Seal (newest key) → link.WriteBatch
//	inbound:  link.ReadBatch → control packets to the session's bounded inbox;
//	          data packets: key by key_id → Open → replay (in order) →
//	          unframe → ping/OCC consumed → tun.Write(batch)
package dataplane
