// Package fragment implements OpenVPN's `--fragment` layer: the 4-byte
// fragment header that sits inside the encryption after the compression
// framing, the splitting of outbound packets into equally sized fragments,
// and the reassembly of inbound fragments.
//
// The header is one big-endian uint32 (fragment.h):
//
//	bits  0..1   type: 0 FRAG_WHOLE, 1 FRAG_YES_NOTLAST, 2 FRAG_YES_LAST,
//	             3 FRAG_TEST (never implemented by OpenVPN: an error)
//	bits  2..9   seq_id, per sender, mod 256
//	bits 10..14  frag_id, 0..31
//	bits 15..28  FRAG_YES_LAST only: the fragment size >> 2
//
// A packet that fits is sent whole behind an all-zero header. A larger one
// is cut into at most MaxFrags pieces of one size, a multiple of 4; every
// piece but the last carries exactly that many bytes and the last one
// carries the size in its header. Each piece is then encrypted as its own
// data packet.
//
// Splitter (outbound) and Reassembler (inbound) are per peer and not safe for
// concurrent use; each is owned by the goroutine that handles that direction
// of the peer. Neither allocates per packet: the Splitter writes into
// caller-provided buffers and the Reassembler owns Slots buffers allocated
// once by NewReassembler. Reassembler.Incoming never panics on any input,
// and its memory is bounded by Slots × the maximum packet size.
//
// Reference: the shared protocol notes, protocol-data-channel.md §8.5, and
// captures of openvpn 2.6.14 with `fragment 500` in testdata.
package fragment
