package keys

import (
	"errors"
	"fmt"
)

// Static key file framing (crypto.c static_key_head/static_key_foot).
const (
	StaticKeyHeader = "-----BEGIN OpenVPN Static key V1-----"
	StaticKeyFooter = "-----END OpenVPN Static key V1-----"
)

// MaxKeyFileSize bounds the size of a key file this package parses. Real key
// files are below 1 KiB.
const MaxKeyFileSize = 1 << 16

// ErrKeyFile is wrapped by every key file parse error of this package.
var ErrKeyFile = errors.New("invalid key file")

func keyFileError(format string, args ...any) error {
	return fmt.Errorf("keys: %w: "+format, append([]any{ErrKeyFile}, args...)...)
}

// Parser states of read_key_file.
const (
	parseInitial = iota
	parseHead
	parseData
	parseDataComplete
	parseFoot
	parseFinished
)

// ParseStaticKey parses a static key file ("openvpn --genkey secret") the way
// openvpn 2.6's read_key_file does with RKF_MUST_SUCCEED:
//
//   - everything before a line that starts with StaticKeyHeader is ignored,
//     as is the rest of the header line;
//   - after it, only hex digits and white space are allowed until 256 bytes
//     have been read; hex digits pair up across white space; further text
//     on the data lines is ignored once 256 bytes are complete;
//   - a line starting with '-' ends the data and must start with
//     StaticKeyFooter (or a later line must); everything after is ignored.
//
// It returns the key material and nkeys, the number of complete 128-byte Keys
// read (1 or 2; bytes of an incomplete second Key are present in k but not
// counted). It fails if no complete Key was read or the footer is missing.
//
// openvpn 2.6 itself refuses files with fewer than 2 Keys for --tls-auth and
// --tls-crypt (crypto_read_openvpn_key: "does not have OpenVPN Static Key
// format"), even without a key direction; callers that want to be exactly as
// strict check nkeys == 2.
func ParseStaticKey(b []byte) (k Key2, nkeys int, err error) {
	if len(b) > MaxKeyFileSize {
		return k, 0, keyFileError("static key file of %d bytes exceeds %d bytes", len(b), MaxKeyFileSize)
	}
	var (
		state     = parseInitial
		lineNum   = 1
		lineIndex = 0
		match     = 0
		count     = 0
		hi        = -1 // pending high nibble
	)
	for _, c := range b {
		if c == '\n' {
			lineIndex, match = 0, 0
			lineNum++
			continue
		}
		if lineIndex == 0 {
			if state == parseHead {
				state = parseData
			}
			if (state == parseData || state == parseDataComplete) && c == '-' {
				state = parseFoot
			}
		}
		switch state {
		case parseInitial:
			if lineIndex < len(StaticKeyHeader) && c == StaticKeyHeader[lineIndex] {
				if match++; match == len(StaticKeyHeader) {
					state = parseHead
				}
			}
		case parseFoot:
			if lineIndex < len(StaticKeyFooter) && c == StaticKeyFooter[lineIndex] {
				if match++; match == len(StaticKeyFooter) {
					state = parseFinished
				}
			}
		case parseData:
			if v, ok := hexValue(c); ok {
				if hi < 0 {
					hi = v
				} else {
					k[count] = byte(hi<<4 | v)
					hi = -1
					if count++; count == Key2Len {
						state = parseDataComplete
					}
				}
			} else if !isSpace(c) {
				k.Zero()
				if c >= 0x20 && c < 0x7f {
					return k, 0, keyFileError("non-hex character ('%c') at line %d of static key (%d of %d bytes read)", c, lineNum, count, Key2Len)
				}
				return k, 0, keyFileError("non-hex, unprintable character (0x%02x) at line %d of static key (%d of %d bytes read)", c, lineNum, count, Key2Len)
			}
		}
		lineIndex++
	}
	nkeys = count / KeyLen
	if nkeys == 0 {
		k.Zero()
		return k, 0, keyFileError("insufficient key material or header %q not found (%d bytes found, at least %d needed)", StaticKeyHeader, count, KeyLen)
	}
	if state != parseFinished {
		k.Zero()
		return k, 0, keyFileError("footer %q not found (%d bytes found)", StaticKeyFooter, count)
	}
	return k, nkeys, nil
}

func hexValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// StaticKeyFileLen is the size of a file written by AppendStaticKey.
const StaticKeyFileLen = 636

// AppendStaticKey appends k in the exact format of "openvpn --genkey secret
// FILE" (crypto.c write_key_file): a three-line comment, the header, 16 lines
// of 32 lowercase hex digits and the footer, each line ending in "\n".
func AppendStaticKey(dst []byte, k *Key2) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, "#\n# 2048 bit OpenVPN static key\n#\n"...)
	dst = append(dst, StaticKeyHeader+"\n"...)
	for i := 0; i < Key2Len; i += 16 {
		for _, c := range k[i : i+16] {
			dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
		}
		dst = append(dst, '\n')
	}
	return append(dst, StaticKeyFooter+"\n"...)
}
