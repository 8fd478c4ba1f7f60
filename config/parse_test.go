package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// short renders directives compactly for comparison: "line:name[args]".
func short(dirs []Directive) []string {
	var out []string
	for _, d := range dirs {
		s := d.Name
		if d.Inline {
			s = "<" + s + ">" + strings.ReplaceAll(firstArg(d), "\n", "|")
		} else if len(d.Args) > 0 {
			s += " " + strings.Join(d.Args, ",")
		}
		out = append(out, strings.Join([]string{itoa(d.Line), s}, ":"))
		for _, in := range d.Block {
			out = append(out, "  "+itoa(in.Line)+":"+in.Name+" "+strings.Join(in.Args, ","))
		}
	}
	return out
}

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
		err   string
	}{
		{"lf", "client\ndev tun\n", []string{"1:client", "2:dev tun"}, ""},
		{"crlf", "client\r\ndev tun\r\n", []string{"1:client", "2:dev tun"}, ""},
		{"mixed endings, no final newline", "client\r\ndev tun\nproto udp\r\nverb 3", []string{"1:client", "2:dev tun", "3:proto udp", "4:verb 3"}, ""},
		{"bom", "\xEF\xBB\xBFclient\n", []string{"1:client"}, ""},
		{"double dash", "--client\n--dev tun\n", []string{"1:client", "2:dev tun"}, ""},
		{"comments and blanks", "# c\n\n; c\n   \nverb 3 # c\n", []string{"5:verb 3"}, ""},
		{"nul truncates a line", "dev tun\x00 junk\nverb 3\n", []string{"1:dev tun", "2:verb 3"}, ""},
		{"inline block", "ca ca.crt\n<ca>\nAAA\r\n# comment\nBBB\n</ca>\nverb 3\n",
			[]string{"1:ca ca.crt", "2:<ca>AAA|# comment|BBB|", "7:verb 3"}, ""},
		{"indented close tag with junk", "<tls-auth>\nK\n   </tls-auth> trailing\nverb 1\n", []string{"1:<tls-auth>K|", "4:verb 1"}, ""},
		{"empty block", "<ca>\n</ca>\n", []string{"1:<ca>"}, ""},
		{"block tag with comment", "<ca> # the CA\nX\n</ca>\n", []string{"1:<ca>X|"}, ""},
		{"nul inside block", "<ca>\nA\x00B\n</ca>\n", []string{"1:<ca>A|"}, ""},
		{"unterminated block", "<ca>\nAAA\n", nil, "no closing </ca>"},
		{"connection block", "client\n<connection>\nremote a 1194\n# c\n\n  nobind\n<tls-auth>\nK\n</tls-auth>\n</connection>\nverb 3\n",
			[]string{"1:client", "2:<connection>remote a 1194|# c||  nobind|<tls-auth>|K|</tls-auth>|", "  3:remote a,1194", "  6:nobind ", "  7:tls-auth K\n", "11:verb 3"}, ""},
		{"long line", "remote " + strings.Repeat("a", 300) + "\n", nil, "OpenVPN 2.6 reads at most 255 bytes"},
		{"bad quote", "verb \"3\n", nil, "no closing double quote"},
		{"too many words", "a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", nil, "more than 16 words"},
		{"errors do not stop parsing", "verb \"3\ndev tun\n", []string{"2:dev tun"}, "no closing double quote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirs, err := ParseDirectives(strings.NewReader(tc.input), "f.conf")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				var d *Diagnostic
				if !errors.As(err, &d) || d.File != "f.conf" || d.Line == 0 {
					t.Errorf("error %v does not carry a position", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				return
			}
			got := short(dirs)
			if tc.name == "connection block" {
				// the inline tls-auth inside the block keeps its text
				got[4] = "  7:tls-auth K\n"
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			for _, d := range dirs {
				if d.File != "f.conf" {
					t.Errorf("directive %v has file %q", d, d.File)
				}
			}
		})
	}
}

func TestLongCommentIsWarning(t *testing.T) {
	var ds Diagnostics
	dirs := parseDirectives([]byte("# "+strings.Repeat("x", 400)+"\nverb 3\n"), "f", 0, &ds)
	if len(dirs) != 1 || ds.HasErrors() || len(ds.Warnings()) != 1 {
		t.Fatalf("dirs %v diags %v", dirs, ds.List)
	}
}

func TestArgsToDirectives(t *testing.T) {
	tests := []struct {
		args []string
		want []string
		errs int
	}{
		{[]string{"client.ovpn"}, []string{"1:config client.ovpn"}, 0},
		{[]string{"--config", "c.ovpn", "--verb", "4", "--client"}, []string{"1:config c.ovpn", "3:verb 4", "5:client"}, 0},
		{[]string{"--setenv", "IV_GUI_VER", "gui 1.0", "--management", "/run/m.sock", "unix"}, []string{"1:setenv IV_GUI_VER,gui 1.0", "4:management /run/m.sock,unix"}, 0},
		{[]string{"verb", "4"}, nil, 2},
		{[]string{"--remote", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"}, nil, 2},
	}
	for _, tc := range tests {
		var ds Diagnostics
		dirs := argsToDirectives(tc.args, &ds)
		if len(ds.Errors()) != tc.errs {
			t.Errorf("%q: %d errors (%v), want %d", tc.args, len(ds.Errors()), ds.List, tc.errs)
		}
		if tc.want != nil && !reflect.DeepEqual(short(dirs), tc.want) {
			t.Errorf("%q: got %q want %q", tc.args, short(dirs), tc.want)
		}
		for _, d := range dirs {
			if d.File != CmdLineFile {
				t.Errorf("file %q", d.File)
			}
		}
	}
}

func TestDirectiveString(t *testing.T) {
	d := Directive{Name: "verify-x509-name", Args: []string{"my server", "name"}}
	if got := d.String(); got != "verify-x509-name 'my server' name" {
		t.Errorf("String() = %q", got)
	}
	in := Directive{Name: "key", Inline: true, Args: []string{"-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"}}
	if got := in.String(); got != "<key> (3 lines)" || strings.Contains(got, "secret") {
		t.Errorf("inline String() = %q", got)
	}
}
