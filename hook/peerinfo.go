package hook

import "strings"

// peerInfoLineMax is the size of openvpn's line buffer in
// output_peer_info_env: lines are cut to 255 bytes.
const peerInfoLineMax = 256

// ParsePeerInfo turns the peer info a client sent (IV_VER=2.6.14\nIV_PLAT=
// linux\n...) into the variables openvpn 2.6 exports to server scripts
// (misc.c output_peer_info_env): each line that is NAME=value with NAME made
// of [A-Za-z0-9_] and starting with IV_ or UV_ is kept, with control
// characters, spaces, '$', '(' and '`' in the value replaced by '_';
// every other line is rejected and counted (openvpn logs "validation failed
// on peer_info line received from client" for each). Trailing CR are
// removed; the text ends at the first NUL; a line longer than 255 bytes is
// cut as openvpn's fixed buffer cuts it (its first 255 bytes form one line,
// the next byte is lost, and the remainder after one more lost byte is read
// as a further line).
func ParsePeerInfo(peerInfo string) (vars []string, rejected int) {
	if i := strings.IndexByte(peerInfo, 0); i >= 0 {
		peerInfo = peerInfo[:i]
	}
	for pos := 0; ; {
		line, next, ok := cutPeerInfoLine(peerInfo, pos)
		if !ok {
			return vars, rejected
		}
		pos = next
		line = strings.TrimRight(line, "\r\n")
		if v, ok := ValidatePeerInfoLine(line); ok && (strings.HasPrefix(v, "IV_") || strings.HasPrefix(v, "UV_")) {
			vars = append(vars, v)
		} else {
			rejected++
		}
	}
}

// cutPeerInfoLine reads one line from s at pos the way openvpn's buf_parse
// does with a 256-byte buffer, and returns it with the position of the
// next read. ok is false when pos is at the end of s (no further line).
func cutPeerInfoLine(s string, pos int) (line string, next int, ok bool) {
	if pos >= len(s) {
		return "", pos, false
	}
	rest := s[pos:]
	end := strings.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	}
	if end < peerInfoLineMax {
		// Fits: the line, then the delimiter (if any) is consumed.
		return rest[:end], pos + min(end+1, len(rest)), true
	}
	// The buffer fills with 256 bytes, the 257th read byte (a content byte or
	// the '\n') is consumed and dropped, and the last buffer byte is
	// overwritten by the terminator.
	return rest[:peerInfoLineMax-1], pos + min(peerInfoLineMax+1, len(rest)), true
}

// ValidatePeerInfoLine checks and cleans one peer-info line as openvpn's
// validate_peer_info_line does: it must be NAME=value with a non-empty NAME
// of [A-Za-z0-9_]; in the value, bytes that are not printable ASCII, white
// space, '$', '(' and '`' become '_'. It returns the cleaned line.
func ValidatePeerInfoLine(line string) (string, bool) {
	eq := strings.IndexByte(line, '=')
	if eq <= 0 {
		return "", false
	}
	for i := 0; i < eq; i++ {
		if !isNameByte(line[i]) {
			return "", false
		}
	}
	b := []byte(line)
	for i := eq + 1; i < len(b); i++ {
		c := b[i]
		if c <= ' ' || c >= 0x7f || c == '$' || c == '(' || c == '`' {
			b[i] = '_'
		}
	}
	return string(b), true
}

// SetPeerInfo adds the IV_*/UV_* variables of a client's peer info to e (see
// [ParsePeerInfo]) and returns them, and the number of rejected lines, for
// the log ("peer info: IV_VER=2.6.14").
func (e *Env) SetPeerInfo(peerInfo string) (vars []string, rejected int) {
	vars, rejected = ParsePeerInfo(peerInfo)
	for _, v := range vars {
		e.add(v)
	}
	return vars, rejected
}
