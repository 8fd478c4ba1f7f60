package wire

import "bytes"

// Control messages (PUSH_REQUEST, PUSH_REPLY, AUTH_FAILED, ...) are text
// strings terminated by one NUL, each sent with its own TLS write
// (ssl_pkt.c extract_command_buffer).

// MaxControlMessageLen is the largest message including its NUL that an
// OpenVPN peer reads in one piece (TLS_CHANNEL_BUF_SIZE).
const MaxControlMessageLen = 2048

// AppendControlMessage appends msg followed by a NUL.
func AppendControlMessage(dst []byte, msg string) []byte {
	dst = append(dst, msg...)
	return append(dst, 0)
}

// SplitControlMessages calls fn for every NUL-terminated message in b, after
// stripping trailing CR/LF. Messages that contain other control characters
// are skipped and counted in bad, as is a trailing fragment without a NUL
// (OpenVPN 2.6.11+ discards it). fn's argument aliases b.
func SplitControlMessages(b []byte, fn func(msg []byte)) (bad int) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return bad + 1
		}
		msg := b[:i]
		b = b[i+1:]
		for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == '\r') {
			msg = msg[:len(msg)-1]
		}
		if len(msg) == 0 {
			continue
		}
		if !printable(msg) {
			bad++
			continue
		}
		fn(msg)
	}
	return bad
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
