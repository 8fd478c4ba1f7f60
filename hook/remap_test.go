package hook

import "testing"

// Hostile names as a client could send them. openvpn 2.6 only replaces
// control characters (its manual's [A-Za-z0-9_.@-] class is pre-2.5
// --compat-names behaviour); the reference binary exports
// common_name=alice smith/.. unchanged.
func TestRemapHostileNames(t *testing.T) {
	tests := []struct {
		in, user, pass string
	}{
		{"alice", "alice", "alice"},
		{"alice smith", "alice smith", "alice smith"},
		{"../../etc/passwd", "../../etc/passwd", "../../etc/passwd"},
		{"..", "..", ".."},
		{"a\x00b", "a_b", "a_b"},
		{"line1\r\nline2", "line1__line2", "line1__line2"},
		{"tab\tbell\a", "tab_bell_", "tab_bell_"},
		{"del\x7f", "del_", "del_"},
		{"$(rm -rf /);`id`", "$(rm -rf /);`id`", "$(rm -rf /);`id`"},
		{"-leading", "-leading", "-leading"},
		{"ünïcödé 😀", "ünïcödé 😀", "ünïcödé 😀"},
		{"\xff\xfe", "\xff\xfe", "\xff\xfe"},
	}
	for _, tt := range tests {
		if got := RemapUsername(tt.in); got != tt.user {
			t.Errorf("RemapUsername(%q) = %q, want %q", tt.in, got, tt.user)
		}
		if got := RemapCommonName(tt.in); got != tt.user {
			t.Errorf("RemapCommonName(%q) = %q, want %q", tt.in, got, tt.user)
		}
		if got := RemapPassword(tt.in); got != tt.pass {
			t.Errorf("RemapPassword(%q) = %q, want %q", tt.in, got, tt.pass)
		}
	}
}

func TestCCDFileName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"alice", "alice", true},
		{"alice smith/..", "alice smith_..", true},
		{"../../etc/passwd", ".._.._etc_passwd", true},
		{".", "", false},
		{"..", "", false},
		{"", "", false},
		{"/", "_", true},
		{"a\nb", "a_b", true},
	}
	for _, tt := range tests {
		got, ok := CCDFileName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CCDFileName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
