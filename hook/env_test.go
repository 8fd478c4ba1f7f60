package hook

import (
	"slices"
	"strconv"
	"testing"
)

func TestEnvSetFilters(t *testing.T) {
	tests := []struct {
		name, value string
		wantKV      string // "" when nothing is set
	}{
		{"common_name", "alice", "common_name=alice"},
		{"X509_0_SMIME-CAPS", "v", "X509_0_SMIMECAPS=v"},
		{"bad name=x", "v", "badnamex=v"},
		{"ünï", "v", "n=v"},
		{"-=.", "v", ""},
		{"v", "a\x00b\x01c\x1fd\x7fe", "v=abcde"},
		{"v", "tab\there\r\n", "v=tabhere"},
		{"v", "utf8 ü € and spaces / .. $(x)", "v=utf8 ü € and spaces / .. $(x)"},
		{"v", "", "v="},
	}
	for _, tt := range tests {
		e := NewEnv()
		e.Set(tt.name, tt.value)
		got := e.Vars()
		if tt.wantKV == "" {
			if len(got) != 0 {
				t.Errorf("Set(%q, %q) = %q, want nothing", tt.name, tt.value, got)
			}
			continue
		}
		if len(got) != 1 || got[0] != tt.wantKV {
			t.Errorf("Set(%q, %q) = %q, want [%q]", tt.name, tt.value, got, tt.wantKV)
		}
	}
}

func TestEnvOrderAndReplace(t *testing.T) {
	e := NewEnv()
	e.Set("a", "1")
	e.Set("b", "2")
	e.Set("c", "3")
	e.Set("a", "4") // replaced and now the most recent
	e.SetInt("n", -5)
	e.SetUint("u", 18446744073709551615)
	want := []string{"u=18446744073709551615", "n=-5", "a=4", "c=3", "b=2"}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Fatalf("Vars = %q, want %q", got, want)
	}
	if v, ok := e.Get("a"); !ok || v != "4" {
		t.Errorf("Get(a) = %q, %v", v, ok)
	}
	if _, ok := e.Get("ab"); ok {
		t.Errorf("Get(ab) found a variable")
	}
	e.Del("c")
	e.Del("missing")
	if got := e.Vars(); slices.Contains(got, "c=3") || e.Len() != 4 {
		t.Errorf("after Del: %q", got)
	}
	// A name that is a prefix of another does not match it.
	e.Set("ab", "x")
	e.Del("a")
	if v, ok := e.Get("ab"); !ok || v != "x" {
		t.Errorf("Del(a) removed ab")
	}
}

func TestEnvironPasswordFiltering(t *testing.T) {
	e := NewEnv()
	e.Set("username", "u")
	e.Set("password", "p")
	e.Set("password2", "p2")
	e.Set("my_password", "kept")
	tests := []struct {
		sec  Security
		want []string
	}{
		{SecurityNone, []string{"my_password=kept", "username=u"}},
		{SecurityBuiltIn, []string{"my_password=kept", "username=u"}},
		{SecurityScripts, []string{"my_password=kept", "username=u"}},
		{SecurityPasswords, []string{"my_password=kept", "password2=p2", "password=p", "username=u"}},
	}
	for _, tt := range tests {
		if got := e.Environ(tt.sec); !slices.Equal(got, tt.want) {
			t.Errorf("Environ(%d) = %q, want %q", tt.sec, got, tt.want)
		}
	}
}

func TestEnvSetIncr(t *testing.T) {
	e := NewEnv()
	for _, v := range []string{"a", "b", "c"} {
		e.SetIncr("X509_0_OU", v)
	}
	for name, want := range map[string]string{"X509_0_OU": "a", "X509_0_OU_1": "b", "X509_0_OU_2": "c"} {
		if got, _ := e.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	full := NewEnv()
	full.Set("x", "0")
	for i := 1; i < 1000; i++ {
		full.Set("x_"+strconv.Itoa(i), "")
	}
	full.SetIncr("x", "lost")
	if full.Len() != 1000 {
		t.Errorf("SetIncr with 1000 names taken added a variable: %d", full.Len())
	}
}

func TestEnvNilAndClone(t *testing.T) {
	var e *Env
	if e.Len() != 0 || e.Vars() != nil || e.Clone() != nil {
		t.Error("nil Env is not empty")
	}
	if _, ok := e.Get("x"); ok {
		t.Error("nil Env has x")
	}
	e.Del("x") // must not panic
	a := NewEnv()
	a.Set("x", "1")
	b := a.Clone()
	b.Set("x", "2")
	b.Set("y", "3")
	if v, _ := a.Get("x"); v != "1" || a.Len() != 1 {
		t.Errorf("Clone shares state: %q", a.Vars())
	}
}
