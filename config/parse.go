package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CmdLineFile is the File of a Directive that came from the command line, as
// OpenVPN prints it.
const CmdLineFile = "[CMD-LINE]"

// MaxConfigSize bounds the size of one configuration file, in bytes,
// including its inline blocks. Larger input is rejected rather than read.
const MaxConfigSize = 16 << 20

// Directive is one option as written: a name, its arguments and where it
// came from. Directives are plain values; they do not alias the input they
// were parsed from.
type Directive struct {
	// Name is the option name without a leading "--", e.g. "remote".
	Name string
	// Args are the words after the name, unquoted. For an inline block
	// (<ca>...</ca>) Args holds exactly one element: the block's text, one
	// line per "\n", carriage returns removed.
	Args []string
	// File is the file the directive was read from as it was named to the
	// loader (joined with the including file's directory for includes), or
	// CmdLineFile.
	File string
	// Line is the 1-based line number in File. For the command line it is the
	// 1-based position of the "--name" word among the arguments.
	Line int
	// Inline reports that the directive was written as a <name>...</name>
	// block.
	Inline bool
	// Block holds the directives inside a <connection> block, with their own
	// positions. It is nil for every other directive.
	Block []Directive
}

// Pos returns "file:line", the prefix used in every message about d.
func (d Directive) Pos() string {
	return fmt.Sprintf("%s:%d", d.File, d.Line)
}

// String renders d as a config line ("remote vpn.example.com 1194 udp"). An
// inline block renders as "<name>" followed by the number of lines, so
// secrets are not printed.
func (d Directive) String() string {
	if d.Inline {
		n := strings.Count(strings.TrimSuffix(firstArg(d), "\n"), "\n") + 1
		if firstArg(d) == "" {
			n = 0
		}
		return fmt.Sprintf("<%s> (%d lines)", d.Name, n)
	}
	return joinWords(append([]string{d.Name}, d.Args...))
}

// MarshalJSON renders d with the text of inline blocks replaced by its
// line count: blocks hold keys.
func (d Directive) MarshalJSON() ([]byte, error) {
	args := d.Args
	if d.Inline {
		args = []string{d.String()}
	}
	return json.Marshal(struct {
		Name   string      `json:"name"`
		Args   []string    `json:"args,omitempty"`
		File   string      `json:"file"`
		Line   int         `json:"line"`
		Inline bool        `json:"inline,omitempty"`
		Block  []Directive `json:"block,omitempty"`
	}{d.Name, args, d.File, d.Line, d.Inline, d.Block})
}

func firstArg(d Directive) string {
	if len(d.Args) == 0 {
		return ""
	}
	return d.Args[0]
}

// ParseDirectives reads one configuration file and returns its directives in
// order. name is used for positions in the result and in errors. It splits
// lines, removes comments, reads inline blocks (<ca>...</ca>) and the
// contents of <connection> blocks, strips an optional leading "--" from
// names and enforces OpenVPN 2.6's limits (MaxLineLen, MaxParams,
// MaxConfigSize). It does not follow "config" includes, read referenced
// files or interpret options: that is evaluation (Load, Parse).
//
// On syntax errors ParseDirectives still returns every directive it could
// read, and an error describing every problem (a joined error whose parts
// are *Diagnostic). Warnings are not reported here. It is safe for
// concurrent use.
func ParseDirectives(r io.Reader, name string) ([]Directive, error) {
	data, err := readLimited(r, MaxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	var ds Diagnostics
	dirs := parseDirectives(data, name, 0, &ds)
	return dirs, ds.Err()
}

// readLimited reads all of r, failing when it holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// lineReader splits a buffer into lines the way OpenVPN reads them: a line
// ends at "\n"; a trailing "\r" is dropped (CRLF and mixed line endings); the
// last line may lack a newline.
type lineReader struct {
	data []byte
	off  int
	num  int // number of the line last returned
}

// next returns the next line without its terminator, and whether it ended
// with a newline.
func (lr *lineReader) next() (line []byte, ok bool) {
	if lr.off >= len(lr.data) {
		return nil, false
	}
	rest := lr.data[lr.off:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		line = rest
		lr.off = len(lr.data)
	} else {
		line = rest[:i]
		lr.off += i + 1
	}
	lr.num++
	return bytes.TrimSuffix(line, []byte("\r")), true
}

// parseDirectives is ParseDirectives on a buffer. lineOffset is added to line
// numbers (used for the contents of <connection> blocks). Problems are added
// to ds.
func parseDirectives(data []byte, file string, lineOffset int, ds *Diagnostics) []Directive {
	var dirs []Directive
	lr := &lineReader{data: data}
	if lineOffset == 0 {
		lr.data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")) // UTF-8 BOM
	}
	for {
		raw, ok := lr.next()
		if !ok {
			break
		}
		lineNo := lr.num + lineOffset
		pos := Directive{File: file, Line: lineNo}
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			ds.warn(pos, "", "line contains a NUL byte; the rest of the line is ignored (as OpenVPN does)")
			raw = raw[:i]
		}
		if len(raw) > MaxLineLen {
			words, err := splitLine(string(raw))
			if err != nil || len(words) > 0 {
				ds.errorf(pos, "", "line is %d bytes long; OpenVPN 2.6 reads at most %d bytes per option line", len(raw), MaxLineLen)
				continue
			}
			// A long comment: OpenVPN 2.6 would refuse it too, but it is
			// harmless, so only warn.
			ds.warn(pos, "", fmt.Sprintf("comment line is %d bytes long; OpenVPN 2.6 refuses lines over %d bytes", len(raw), MaxLineLen))
			continue
		}
		words, err := splitLine(string(raw))
		if err != nil {
			ds.errorf(pos, "", "%v", err)
			continue
		}
		if len(words) == 0 {
			continue
		}
		name := words[0]
		if len(name) >= 3 && strings.HasPrefix(name, "--") {
			name = name[2:]
		}
		d := Directive{Name: name, Args: words[1:], File: file, Line: lineNo}
		if len(words) == 1 && len(name) >= 2 && name[0] == '<' && name[len(name)-1] == '>' {
			tag := name[1 : len(name)-1]
			d.Name = tag
			d.Inline = true
			body, found := readBlock(lr, "</"+tag+">")
			if !found {
				ds.errorf(d, tag, "<%s> block has no closing </%s> line", tag, tag)
				break
			}
			d.Args = []string{body}
			if tag == "connection" && lineOffset == 0 {
				d.Block = parseDirectives([]byte(body), file, lineNo, ds)
			}
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// readBlock collects lines up to the closing tag (which may be indented and
// followed by anything, as in OpenVPN). Each line keeps its newline; NUL
// bytes end a line's content, as they do in OpenVPN.
func readBlock(lr *lineReader, closeTag string) (string, bool) {
	var b strings.Builder
	for {
		line, ok := lr.next()
		if !ok {
			return b.String(), false
		}
		if bytes.HasPrefix(bytes.TrimLeft(line, " \t\v\f\r"), []byte(closeTag)) {
			return b.String(), true
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		b.Write(line)
		b.WriteByte('\n')
	}
}

// errNotOption is returned by argsToDirectives for a word that should be an
// option but lacks the leading "--".
var errNotOption = errors.New("expected an --option")

// argsToDirectives turns a command line into directives, the way OpenVPN 2.6
// does: each "--name" takes the following words up to the next word starting
// with "--" (at most MaxParams-1 of them); a single argument that does not
// start with "--" means "--config ARG". Problems are added to ds.
func argsToDirectives(args []string, ds *Diagnostics) []Directive {
	if len(args) == 1 && !strings.HasPrefix(args[0], "--") {
		return []Directive{{Name: "config", Args: []string{args[0]}, File: CmdLineFile, Line: 1}}
	}
	var dirs []Directive
	for i := 0; i < len(args); {
		d := Directive{File: CmdLineFile, Line: i + 1}
		w := args[i]
		if !strings.HasPrefix(w, "--") {
			ds.errorf(d, "", "%q is not an option: options on the command line start with \"--\" (did you forget to quote an argument?)", w)
			i++
			continue
		}
		d.Name = w[2:]
		j := i + 1
		for j < len(args) && j-i < MaxParams && !strings.HasPrefix(args[j], "--") {
			d.Args = append(d.Args, args[j])
			j++
		}
		dirs = append(dirs, d)
		i = j
	}
	return dirs
}
