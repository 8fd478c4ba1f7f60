package config

// This file is the tokenizer for one option line. It reproduces the word
// splitting of OpenVPN 2.6 (options.c, parse_line) from its documented and
// observed behaviour:
//
//   - words are separated by white space (space, \t, \n, \v, \f, \r);
//   - a word starting with '#' or ';' starts a comment that runs to the end
//     of the line, so a comment may follow the arguments;
//   - "double quotes" group words; inside them a backslash escapes '\\',
//     '"' and white space;
//   - 'single quotes' group words literally (no escapes at all);
//   - outside quotes a backslash escapes '\\', '"' and white space, so
//     `a\ b` is one word; any other escaped character is an error (OpenVPN's
//     "Bad backslash usage", typically an unescaped Windows path);
//   - a closing quote ends the word: `"a"b` is the two words a and b;
//   - at most MaxParams words per line (the option name included).

import (
	"errors"
	"fmt"
	"strings"
)

// MaxParams is OpenVPN's MAX_PARMS: the largest number of words on one
// option line, the option name included. OpenVPN 2.6 treats more as an error
// and so does this package.
const MaxParams = 16

// MaxLineLen is the longest option line OpenVPN 2.6 reads (OPTION_LINE_SIZE
// minus the terminating newline), in bytes. Lines inside inline blocks such
// as <ca> are not limited.
const MaxLineLen = 255

// MaxParamLen is the longest single word, in bytes (OPTION_PARM_SIZE).
const MaxParamLen = 256

// SplitLine splits one option line into words using OpenVPN 2.6's rules:
// white-space separation, "double" and 'single' quotes, backslash escapes
// outside single quotes, and '#'/';' comments where a word starts. A line
// that is empty or only a comment yields no words and no error.
//
// The returned strings are copies; line is not retained. SplitLine is safe
// for concurrent use. It is also the right tokenizer for the management
// interface, whose command lines follow the same rules.
func SplitLine(line string) ([]string, error) {
	w, err := splitLine(line)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return w, nil
}

// errBackslash is wrapped by splitLine when a backslash escapes a character
// other than '\\', '"' or white space.
var errBackslash = errors.New(`bad backslash ('\'): outside single quotes only \\, \" and "\ " are escapes; write Windows paths with doubled backslashes ("C:\\dir\\file") or in 'single quotes'`)

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// splitLine is SplitLine without the package prefix on errors.
func splitLine(line string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		i     int
	)
	emit := func() error {
		if cur.Len() > MaxParamLen {
			return fmt.Errorf("word %d is %d bytes long; the limit is %d", len(words)+1, cur.Len(), MaxParamLen)
		}
		if len(words) == MaxParams {
			return fmt.Errorf("more than %d words on one line (OpenVPN's limit): group words that belong together in \"double quotes\"", MaxParams)
		}
		words = append(words, cur.String())
		cur.Reset()
		return nil
	}
	for i < len(line) {
		c := line[i]
		switch {
		case isSpace(c):
			i++
		case c == '#' || c == ';':
			return words, nil
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("no closing single quote (')")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 2
			if err := emit(); err != nil {
				return nil, err
			}
		case c == '"':
			i++
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '\\' {
					if i+1 >= len(line) {
						return nil, errors.New("backslash at the end of the line inside a quoted word")
					}
					n := line[i+1]
					if n != '\\' && n != '"' && !isSpace(n) {
						return nil, errBackslash
					}
					cur.WriteByte(n)
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, errors.New(`no closing double quote (")`)
			}
			if err := emit(); err != nil {
				return nil, err
			}
		case c == '\\' && i+1 < len(line) && isSpace(line[i+1]):
			// An escaped space where a word would start: OpenVPN drops it.
			i += 2
		default:
			// Unquoted word. A leading backslash escapes its first character.
			for i < len(line) {
				c := line[i]
				if c == '\\' {
					if i+1 >= len(line) {
						return nil, errors.New("backslash at the end of the line: nothing to escape")
					}
					n := line[i+1]
					if n != '\\' && n != '"' && !isSpace(n) {
						return nil, errBackslash
					}
					cur.WriteByte(n)
					i += 2
					continue
				}
				if isSpace(c) {
					break
				}
				cur.WriteByte(c)
				i++
			}
			if err := emit(); err != nil {
				return nil, err
			}
		}
	}
	return words, nil
}

// quoteWord returns w in a form splitLine reads back as the single word w.
func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\n\v\f\r\"'\\#;") {
		return w
	}
	if !strings.ContainsRune(w, '\'') && !strings.ContainsAny(w, "\n\r") {
		return "'" + w + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '\\' || c == '"' || isSpace(c) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// joinWords renders words as one option line that splitLine reads back.
func joinWords(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteWord(w))
	}
	return b.String()
}
