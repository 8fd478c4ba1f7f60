package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string // substring of the error, "" for none
	}{
		{"", nil, ""},
		{"   \t  ", nil, ""},
		{"# a comment", nil, ""},
		{"; another comment", nil, ""},
		{"remote vpn.example.com 1194 udp", []string{"remote", "vpn.example.com", "1194", "udp"}, ""},
		{"  remote\tvpn  1194  ", []string{"remote", "vpn", "1194"}, ""},
		{"cipher AES-256-CBC #xcomment", []string{"cipher", "AES-256-CBC"}, ""},
		{"cipher BF-CBC        # trailing comment with 'quotes'", []string{"cipher", "BF-CBC"}, ""},
		{"setenv opt block-outside-dns # comment", []string{"setenv", "opt", "block-outside-dns"}, ""},
		{"a b#c", []string{"a", "b#c"}, ""}, // '#' inside a word is not a comment
		{"a b;c", []string{"a", "b;c"}, ""},
		{`verify-x509-name "cryptostorm sydney server" name`, []string{"verify-x509-name", "cryptostorm sydney server", "name"}, ""},
		{`push "route 10.0.0.0 255.0.0.0"`, []string{"push", "route 10.0.0.0 255.0.0.0"}, ""},
		{`push "dhcp-option DNS 10.8.0.1" # dns`, []string{"push", "dhcp-option DNS 10.8.0.1"}, ""},
		{`x "a # b"`, []string{"x", "a # b"}, ""},
		{`x 'a # b'`, []string{"x", "a # b"}, ""},
		{`x 'C:\dir\file'`, []string{"x", `C:\dir\file`}, ""},
		{`x "C:\\dir\\file"`, []string{"x", `C:\dir\file`}, ""},
		{`x C:\\dir\\file`, []string{"x", `C:\dir\file`}, ""},
		{`x "say \"hi\""`, []string{"x", `say "hi"`}, ""},
		{`x a\ b`, []string{"x", "a b"}, ""},
		{`x "a\ b"`, []string{"x", "a b"}, ""},
		{`x \"quoted`, []string{"x", `"quoted`}, ""},
		{`x ""`, []string{"x", ""}, ""},
		{`x "a"b`, []string{"x", "a", "b"}, ""},
		{`x it's`, []string{"x", "it's"}, ""},
		{`x a"b`, []string{"x", `a"b`}, ""},
		{"x \xe4\xf6 \x80", []string{"x", "\xe4\xf6", "\x80"}, ""}, // non-UTF-8 kept as bytes
		{`x C:\dir`, nil, "bad backslash"},
		{`x "C:\dir"`, nil, "bad backslash"},
		{`x "unterminated`, nil, "no closing double quote"},
		{`x 'unterminated`, nil, "no closing single quote"},
		{`x trailing\`, nil, "backslash at the end"},
		{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", strings.Fields("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), ""},
		{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", nil, "more than 16 words"},
		{"x " + strings.Repeat("a", 257), nil, "257 bytes long"},
	}
	for _, tc := range tests {
		got, err := SplitLine(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SplitLine(%q) error = %v, want %q", tc.line, err, tc.err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("SplitLine(%q) error %q lacks the package prefix", tc.line, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SplitLine(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitLine(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestQuoteRoundTrip checks that joinWords output splits back to the same
// words.
func TestQuoteRoundTrip(t *testing.T) {
	for _, words := range [][]string{
		{"remote", "a b", "c\"d", "e'f", `g\h`, "#i", ";j", "", "k\tl"},
		{"x", "it's \"both\""},
		{"x", "new\nline"},
	} {
		line := joinWords(words)
		got, err := splitLine(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !reflect.DeepEqual(got, words) {
			t.Errorf("round trip of %q via %q gave %q", words, line, got)
		}
	}
}
