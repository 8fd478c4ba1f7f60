package hook

import (
	"strconv"
	"strings"
)

// Security is a script-security level ("script-security 0..3").
type Security int

// The script-security levels of openvpn 2.6 (run_command.h).
const (
	// SecurityNone runs no external program at all.
	SecurityNone Security = 0
	// SecurityBuiltIn (openvpn's default) runs only built-in helpers such as
	// ip; user scripts are refused.
	SecurityBuiltIn Security = 1
	// SecurityScripts runs user scripts.
	SecurityScripts Security = 2
	// SecurityPasswords also passes variables named password* to scripts.
	SecurityPasswords Security = 3
)

// Env is an ordered set of environment variables with openvpn's names, the
// equivalent of openvpn's env_set. Setting a variable that exists replaces
// it and makes it the most recent one; [Env.Environ] lists the most recent
// first, which is the order openvpn hands to execve.
//
// The zero Env is empty and ready to use. An Env is not safe for concurrent
// use (see the package documentation).
type Env struct {
	vars []string // "NAME=value", oldest first
}

// NewEnv returns an empty Env.
func NewEnv() *Env { return &Env{} }

// Clone returns an independent copy of e (nil for a nil e).
func (e *Env) Clone() *Env {
	if e == nil {
		return nil
	}
	return &Env{vars: append([]string(nil), e.vars...)}
}

// Len reports the number of variables.
func (e *Env) Len() int {
	if e == nil {
		return 0
	}
	return len(e.vars)
}

// Set sets name to value the way openvpn's setenv_str does: characters
// other than [A-Za-z0-9_] are removed from the name, and control characters
// (below 0x20, and DEL) are removed from the value; other bytes, UTF-8
// included, are kept. A name that is empty after filtering is ignored.
func (e *Env) Set(name, value string) {
	name = filterName(name)
	if name == "" {
		return
	}
	e.add(name + "=" + filterValue(value))
}

// SetInt sets name to the decimal form of v.
func (e *Env) SetInt(name string, v int64) { e.Set(name, strconv.FormatInt(v, 10)) }

// SetUint sets name to the decimal form of v.
func (e *Env) SetUint(name string, v uint64) { e.Set(name, strconv.FormatUint(v, 10)) }

// SetIncr sets name, or if name exists name_1, name_2 ... name_999,
// whichever is free first (openvpn's setenv_str_incr, used for repeated
// X509 subject fields). Nothing is set when all are taken.
func (e *Env) SetIncr(name, value string) {
	name = filterName(name)
	if name == "" {
		return
	}
	try := name
	for i := 1; ; i++ {
		if _, ok := e.Get(try); !ok {
			e.Set(try, value)
			return
		}
		if i >= 1000 {
			return
		}
		try = name + "_" + strconv.Itoa(i)
	}
}

// Get returns the value of name and whether it is set.
func (e *Env) Get(name string) (string, bool) {
	if e == nil {
		return "", false
	}
	if i := e.index(name); i >= 0 {
		return e.vars[i][len(name)+1:], true
	}
	return "", false
}

// Del removes name (filtered like Set) if it is set.
func (e *Env) Del(name string) {
	if i := e.index(filterName(name)); i >= 0 {
		e.vars = append(e.vars[:i], e.vars[i+1:]...)
	}
}

// Vars returns every variable as "NAME=value", most recent first, without
// any filtering (for logs that hide passwords, see [Env.Environ]).
func (e *Env) Vars() []string { return e.environ(true) }

// Environ returns the variables a script gets at security level sec, as
// "NAME=value" strings, most recent first: variables whose name starts with
// "password" are left out below [SecurityPasswords] (env_allowed).
func (e *Env) Environ(sec Security) []string { return e.environ(sec >= SecurityPasswords) }

func (e *Env) environ(passwords bool) []string {
	if e == nil {
		return nil
	}
	out := make([]string, 0, len(e.vars))
	for i := len(e.vars) - 1; i >= 0; i-- {
		if !passwords && isPasswordVar(e.vars[i]) {
			continue
		}
		out = append(out, e.vars[i])
	}
	return out
}

// isPasswordVar is openvpn's is_password_env_var: the entry starts with
// "password" (so "password", "password2" and "passwords" alike).
func isPasswordVar(kv string) bool { return strings.HasPrefix(kv, "password") }

// add inserts a "NAME=value" entry whose name is already valid, replacing
// the variable of the same name.
func (e *Env) add(kv string) {
	name, _, _ := strings.Cut(kv, "=")
	if i := e.index(name); i >= 0 {
		e.vars = append(e.vars[:i], e.vars[i+1:]...)
	}
	e.vars = append(e.vars, kv)
}

func (e *Env) index(name string) int {
	if e == nil || name == "" {
		return -1
	}
	for i, kv := range e.vars {
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			return i
		}
	}
	return -1
}

// filterName keeps [A-Za-z0-9_] (openvpn's CC_NAME with no replacement).
func filterName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && isNameByte(byte(r)) {
			return r
		}
		return -1
	}, s)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// filterValue drops control characters (openvpn's CC_PRINT: a byte >= 0x20
// other than DEL, so UTF-8 survives).
func filterValue(s string) string {
	if !strings.ContainsFunc(s, isCtl) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }
