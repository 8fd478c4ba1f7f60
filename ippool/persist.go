package ippool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The ifconfig-pool-persist file, as openvpn 2.6 reads and writes it
// (pool.c:ifconfig_pool_read, ifconfig_pool_list; status.c:status_read):
//
//   - one entry per line, "CN,IPv4,IPv6", lines ending in "\n";
//   - 2.6 writes every entry that remembers a common name, leased or not, in
//     pool order, always with both commas; a missing family is an empty
//     field ("alice,10.8.0.2," or "alice,,2001:db8::1000"); with Net30 the
//     IPv4 field is the base of the client's /30 block (10.8.0.4 for a
//     client at 10.8.0.6);
//   - reading drops every "\r", skips empty lines and lines starting with
//     "#" or ";", needs at least "CN,IPv4" ("CN," alone is skipped) and
//     ignores fields after the third. An address outside the pool, or a
//     malformed one, is ignored; when IPv4 is unusable the IPv6 address
//     chooses the entry, and when both are usable and disagree IPv4 wins.
//     A later line for the same entry replaces an earlier one.

// MaxLineLen is the longest persist-file line ParsePersist accepts; longer
// lines are skipped. (2.6 reads lines into a 256-byte buffer; a common name
// is at most 64 characters.)
const MaxLineLen = 4096

// maxSavedCN is the longest name Save writes: its line fits MaxLineLen.
const maxSavedCN = MaxLineLen - len(",255.255.255.255,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")

// Hint is one usable line of a persist file.
type Hint struct {
	// Line is the 1-based line number.
	Line int
	// CN is the common name, as written (not trimmed).
	CN string
	// IPv4 and IPv6 are the addresses; an absent or malformed field is the
	// zero Addr, and at least one of them is valid.
	IPv4, IPv6 netip.Addr
}

// ParsePersist reads an ifconfig-pool-persist file. It returns the lines
// holding at least one well-formed address, in order, and one error
// wrapping ErrBadHint, with the line number and what to fix, per line that
// is skipped (other than empty and comment lines) or has a malformed
// address. Lines are limited to MaxLineLen bytes. err is set only when r
// fails. It does not know the pool: Load checks the addresses against it.
func ParsePersist(r io.Reader) (hints []Hint, problems []error, err error) {
	br := bufio.NewReaderSize(r, MaxLineLen)
	for n := 1; ; n++ {
		line, long, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return hints, problems, fmt.Errorf("ippool: reading the persist file at line %d: %w", n, rerr)
		}
		if long {
			problems = append(problems, fmt.Errorf("ippool: %w: line %d is longer than %d bytes: remove it", ErrBadHint, n, MaxLineLen))
		} else {
			h, perr := parseLine(line, n)
			if perr != nil {
				problems = append(problems, perr)
			}
			if h.IPv4.IsValid() || h.IPv6.IsValid() {
				hints = append(hints, h)
			}
		}
		if rerr != nil {
			return hints, problems, nil
		}
	}
}

// readLine returns the next line without its "\n"; long reports a line
// longer than MaxLineLen (its bytes are discarded). At the end of the input
// it returns io.EOF along with the last, unterminated, line.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		frag, ferr := br.ReadSlice('\n')
		if len(line) <= MaxLineLen { // keeps at most 2*MaxLineLen+1 bytes
			line = append(line, frag...)
		}
		if ferr == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > MaxLineLen {
			return nil, true, ferr
		}
		return line, false, ferr
	}
}

// parseLine returns the hint of one line and what is wrong with it. A hint
// with no address is a line to skip; a line with one malformed address and
// one good one returns both the hint and an error.
func parseLine(line []byte, n int) (Hint, error) {
	h := Hint{Line: n}
	if bytes.IndexByte(line, '\r') >= 0 {
		line = bytes.ReplaceAll(line, []byte("\r"), nil)
	}
	if len(line) == 0 || line[0] == '#' || line[0] == ';' {
		return h, nil
	}
	bad := func(format string, args ...any) (Hint, error) {
		return h, fmt.Errorf("ippool: %w: line %d: %s", ErrBadHint, n, fmt.Sprintf(format, args...))
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return bad("contains a NUL byte: remove it")
	}
	s := string(line)
	cn, rest, ok := strings.Cut(s, ",")
	if !ok || rest == "" {
		return bad("%q has no address: write CN,IPv4[,IPv6]", clip(s))
	}
	if cn == "" {
		return bad("%q has no common name: write CN,IPv4[,IPv6]", clip(s))
	}
	h.CN = cn
	f4, rest, _ := strings.Cut(rest, ",")
	f6, _, _ := strings.Cut(rest, ",")
	var errs []string
	if f := strings.Trim(f4, " \t"); f != "" {
		if a, err := netip.ParseAddr(f); err == nil && a.Is4() {
			h.IPv4 = a
		} else {
			errs = append(errs, fmt.Sprintf("invalid IPv4 %q for CN %q", clip(f4), clip(cn)))
		}
	}
	if f := strings.Trim(f6, " \t"); f != "" {
		// 2.6 also accepts address/bits here and ignores the bits.
		if a, b, ok := strings.Cut(f, "/"); ok {
			if v, err := strconv.Atoi(b); err == nil && v >= 0 && v <= 128 {
				f = a
			}
		}
		if a, err := netip.ParseAddr(f); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" {
			h.IPv6 = a
		} else {
			errs = append(errs, fmt.Sprintf("invalid IPv6 %q for CN %q", clip(f6), clip(cn)))
		}
	}
	if len(errs) > 0 {
		return h, fmt.Errorf("ippool: %w: line %d: %s: fix or remove the address", ErrBadHint, n, strings.Join(errs, ", "))
	}
	if !h.IPv4.IsValid() && !h.IPv6.IsValid() {
		return bad("%q has no address: write CN,IPv4[,IPv6]", clip(s))
	}
	return h, nil
}

// clip shortens s for messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Load reads the hints of an ifconfig-pool-persist file (ParsePersist) into
// p as of now: each entry named by a line remembers the line's common name
// and counts as released at now (so new clients take never-used entries
// first), and is fixed with Config.FixedHints. Entries leased at the time
// are left alone. Load is meant to run once, before the first Acquire.
//
// It returns the number of hints applied and, each wrapping ErrBadHint, one
// error per line ignored (malformed, outside the pool, or naming a leased
// entry) or only partly usable (one malformed address or one outside the
// pool, IPv4 and IPv6 at different offsets): first those ParsePersist
// finds, then those against the pool. err is set only when r fails, after
// the lines read so far were applied.
func (p *Pool) Load(r io.Reader, now time.Time) (applied int, problems []error, err error) {
	hints, problems, err := ParsePersist(r)
	sec := unixSec(now)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hints {
		i4, i6 := -1, -1
		var msgs []string
		if h.IPv4.IsValid() {
			if i4 = p.index(h.IPv4); i4 < 0 {
				msgs = append(msgs, fmt.Sprintf("IPv4 %v is outside the pool", h.IPv4))
			}
		}
		if h.IPv6.IsValid() {
			if i6 = p.index(h.IPv6); i6 < 0 {
				msgs = append(msgs, fmt.Sprintf("IPv6 %v is outside the pool", h.IPv6))
			}
		}
		i := i4
		if i < 0 {
			i = i6
		}
		if i4 >= 0 && i6 >= 0 && i4 != i6 {
			msgs = append(msgs, fmt.Sprintf("IPv4 %v and IPv6 %v are at different offsets (%d and %d); using IPv4", h.IPv4, h.IPv6, i4, i6))
		}
		if i >= 0 && p.entries[i].inUse {
			msgs = append(msgs, fmt.Sprintf("%s is leased", p.describe(i)))
			i = -1
		}
		if len(msgs) > 0 {
			action := "hint applied"
			if i < 0 {
				action = "hint ignored"
			}
			problems = append(problems, fmt.Errorf("ippool: %w: line %d: CN %q: %s (pool %s): %s; fix or remove the line", ErrBadHint, h.Line, clip(h.CN), strings.Join(msgs, ", "), p, action))
		}
		if i < 0 {
			continue
		}
		p.setCN(i, h.CN)
		e := &p.entries[i]
		e.lastRelease = sec
		e.fixed = p.cfg.FixedHints
		p.free.update(i)
		applied++
	}
	return applied, problems, err
}

// Save writes the persist file's content to w in 2.6's format: one
// "CN,IPv4,IPv6" line for every entry that remembers a common name, leased
// or not, in pool order. Names that could not be read back (containing
// ",", "\r", "\n" or NUL, starting with "#" or ";", or making the line
// longer than MaxLineLen) are left out. The
// content is taken under the lock and written after releasing it. On
// success Changed reports false until the pool changes again.
//
// Save does not make the write atomic: write to a temporary file and rename
// it over the old one. With Config.FixedHints (a read-only file) 2.6 never
// writes the file; neither should the caller.
func (p *Pool) Save(w io.Writer) error {
	p.mu.Lock()
	snap := p.changes
	var b bytes.Buffer
	step := uint32(1)
	if p.cfg.Topology == Net30 {
		step = 4 // the block base (pool.c:ifconfig_pool_handle_to_ip_base)
	}
	for i := range p.entries {
		cn := p.entries[i].cn
		if cn == "" || len(cn) > maxSavedCN || strings.ContainsAny(cn, ",\r\n\x00") || cn[0] == '#' || cn[0] == ';' {
			continue
		}
		b.WriteString(cn)
		b.WriteByte(',')
		if p.v4 {
			b.WriteString(addr4From(p.v4base + uint32(i)*step).String())
		}
		b.WriteByte(',')
		if p.v6 {
			b.WriteString(addr6Add(p.v6base, uint64(i)).String())
		}
		b.WriteByte('\n')
	}
	p.mu.Unlock()
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("ippool: writing the persist file: %w (the pool stays marked as changed; retry later)", err)
	}
	p.mu.Lock()
	if snap > p.saved {
		p.saved = snap
	}
	p.mu.Unlock()
	return nil
}

// Changed reports whether the content Save would write has changed since
// the last successful Save (or since New, when nothing was saved yet): a
// common name was given, taken over or forgotten by an entry. Leases and
// releases of an entry by the name it already remembers change nothing.
func (p *Pool) Changed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changes != p.saved
}
