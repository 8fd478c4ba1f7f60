// Package comp implements OpenVPN's compression framing on the data channel:
// the byte (or bytes) that `comp-lzo` and `compress` put in front of every
// plaintext payload, and the decompression of LZO1X and LZ4 payloads an old
// peer may still send.
//
// The framing is chosen only by configuration and push, never detected: a
// Mode names one framing and is parsed from the option words with ParseMode.
// openvpn-go never compresses outbound packets (2.6's "asym" behaviour), so
// Mode.Frame only adds the "not compressed" framing of its mode, in place,
// using at most MaxHeadroom bytes before and MaxTailroom bytes after the
// packet that the caller reserved. Mode.Unframe removes the framing of a
// received payload, strictly per mode (anything the mode does not allow is an
// error and the packet is to be dropped), and decompresses LZO1X or LZ4
// payloads into a caller-provided scratch buffer whose length bounds the
// output.
//
// The policy side of 2.6 (`allow-compression`, its defaults and the IV_
// peer-info variables) is in Allow, Allow.Effective, Allow.Permits and
// AppendPeerInfo.
//
// Frame and Unframe allocate nothing and never panic; every error they
// return is one of the package's sentinel values, all of which wrap
// ErrMalformed except ErrNoRoom, a caller bug. Mode is a plain value: all its
// methods are safe for concurrent use.
//
// The byte values and rules are those of the shared protocol notes
// (protocol-data-channel.md §6) and of OpenVPN's comp.h, compstub.c, lzo.c
// and comp-lz4.c; the LZO1X decoder was written from the bitstream description in the
// Linux kernel's Documentation/staging/lzo.rst and checked against streams
// made by liblzo2 and captured from openvpn 2.6.14 (see testdata).
package comp
