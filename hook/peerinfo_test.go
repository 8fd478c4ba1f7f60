package hook

import (
	"slices"
	"strings"
	"testing"
)

func TestValidatePeerInfoLine(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"IV_VER=2.6.14", "IV_VER=2.6.14", true},
		{"IV_X=", "IV_X=", true},
		{"IV_GUI_VER=OpenVPN GUI 11", "IV_GUI_VER=OpenVPN_GUI_11", true},
		{"UV_X=$(id)`id`;|&<>", "UV_X=__id)_id_;|&<>", true},
		{"UV_X=a=b", "UV_X=a=b", true},
		{"UV_X=tab\there", "UV_X=tab_here", true},
		{"UV_X=ü", "UV_X=__", true},
		{"UV_X=\x7f", "UV_X=_", true},
		{"=value", "", false},
		{"NOEQUALS", "", false},
		{"", "", false},
		{"IV-X=1", "", false},
		{"IV X=1", "", false},
		{"IV_ü=1", "", false},
	}
	for _, tt := range tests {
		got, ok := ValidatePeerInfoLine(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ValidatePeerInfoLine(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParsePeerInfo(t *testing.T) {
	long := "UV_LONG=" + strings.Repeat("a", 300) // 308 bytes
	tests := []struct {
		name     string
		in       string
		want     []string
		rejected int
	}{
		{"typical", "IV_VER=2.6.14\nIV_PLAT=linux\nIV_PROTO=990\nIV_CIPHERS=AES-256-GCM:AES-128-GCM\nIV_SSO=webauth,crtext\n",
			[]string{"IV_VER=2.6.14", "IV_PLAT=linux", "IV_PROTO=990", "IV_CIPHERS=AES-256-GCM:AES-128-GCM", "IV_SSO=webauth,crtext"}, 0},
		{"no final newline", "IV_VER=2.6.14\nUV_A=b", []string{"IV_VER=2.6.14", "UV_A=b"}, 0},
		{"crlf", "IV_VER=2.6.14\r\nUV_A=b\r\r\n", []string{"IV_VER=2.6.14", "UV_A=b"}, 0},
		{"empty line rejected", "IV_A=1\n\nIV_B=2\n", []string{"IV_A=1", "IV_B=2"}, 1},
		{"other prefixes rejected", "IV_A=1\nPATH=/tmp\nLD_PRELOAD=/x.so\niv_lower=1\n", []string{"IV_A=1"}, 3},
		{"NUL ends the text", "IV_A=1\nIV_B=2\x00\nIV_C=3\n", []string{"IV_A=1", "IV_B=2"}, 0},
		{"empty", "", nil, 0},
		// 308-byte line: the first 255 bytes are one line, byte 256 is
		// lost, byte 257 consumed, the rest ("aaa...") is another line
		// that fails validation.
		{"long line cut", long + "\nIV_B=2\n", []string{long[:255], "IV_B=2"}, 1},
		// Exactly 256 bytes: cut to 255, the newline is consumed as the
		// lost byte, the next line is intact.
		{"256-byte line", "UV_L=" + strings.Repeat("b", 251) + "\nIV_B=2\n", []string{"UV_L=" + strings.Repeat("b", 250), "IV_B=2"}, 0},
		{"255-byte line kept", "UV_L=" + strings.Repeat("b", 250) + "\nIV_B=2", []string{"UV_L=" + strings.Repeat("b", 250), "IV_B=2"}, 0},
	}
	for _, tt := range tests {
		got, rejected := ParsePeerInfo(tt.in)
		if !slices.Equal(got, tt.want) || rejected != tt.rejected {
			t.Errorf("%s: ParsePeerInfo = %q, %d; want %q, %d", tt.name, got, rejected, tt.want, tt.rejected)
		}
	}
}

func TestSetPeerInfo(t *testing.T) {
	e := NewEnv()
	e.Set("IV_VER", "old")
	vars, rejected := e.SetPeerInfo("IV_VER=2.6.14\nIV_GUI_VER=OpenVPN GUI\nbad\n")
	if len(vars) != 2 || rejected != 1 {
		t.Fatalf("SetPeerInfo = %q, %d", vars, rejected)
	}
	want := []string{"IV_GUI_VER=OpenVPN_GUI", "IV_VER=2.6.14"}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Errorf("Vars = %q, want %q", got, want)
	}
}

func FuzzParsePeerInfo(f *testing.F) {
	f.Add("IV_VER=2.6.14\nIV_PLAT=linux\n")
	f.Add("UV_X=" + strings.Repeat("x", 600) + "\n\r\n=\x00")
	f.Fuzz(func(t *testing.T, s string) {
		vars, _ := ParsePeerInfo(s)
		for _, v := range vars {
			name, value, ok := strings.Cut(v, "=")
			if !ok || len(v) > 255 || !(strings.HasPrefix(name, "IV_") || strings.HasPrefix(name, "UV_")) {
				t.Fatalf("bad variable %q", v)
			}
			if filterName(name) != name {
				t.Fatalf("bad name in %q", v)
			}
			for i := 0; i < len(value); i++ {
				if c := value[i]; c <= ' ' || c >= 0x7f || c == '$' || c == '(' || c == '`' {
					t.Fatalf("unsafe byte %#x in %q", c, v)
				}
			}
		}
		e := NewEnv()
		e.SetPeerInfo(s)
		if e.Len() > len(vars) {
			t.Fatalf("env has more variables than lines")
		}
	})
}
