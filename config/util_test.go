package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// archive is a minimal txtar: a comment, then files introduced by
// "-- name --" lines.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
}

func parseArchive(data []byte) archive {
	var a archive
	var cur *archiveFile
	var comment bytes.Buffer
	for len(data) > 0 {
		line := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		t := strings.TrimRight(string(line), "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			a.files = append(a.files, archiveFile{name: strings.TrimSpace(t[3 : len(t)-3])})
			cur = &a.files[len(a.files)-1]
			continue
		}
		if cur == nil {
			comment.Write(line)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	a.comment = comment.String()
	return a
}

func formatArchive(a archive) []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./config -update' to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (run 'go test ./config -update' and review the diff):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			if n++; n > 10 {
				break
			}
		}
	}
	return b.String()
}

// dump renders a value as sorted "path: value" lines, omitting zero
// values, so that golden files show the typed result compactly.
func dump(v any) string {
	var lines []string
	dumpValue(&lines, "", reflect.ValueOf(v))
	return strings.Join(lines, "\n") + "\n"
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	stringerType = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
)

func dumpValue(lines *[]string, path string, v reflect.Value) {
	if !v.IsValid() {
		return
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		if v.Type() == reflect.TypeOf(&Material{}) {
			m := v.Interface().(*Material)
			sum := sha256.Sum256(m.Data)
			src := "inline"
			if !m.Inline {
				src = m.Path
			}
			*lines = append(*lines, fmt.Sprintf("%s: %s (%d bytes, sha256 %s, line %d)", path, src, len(m.Data), hex.EncodeToString(sum[:4]), m.Line))
			return
		}
		dumpValue(lines, path, v.Elem())
		return
	}
	t := v.Type()
	if t == durationType {
		if v.Int() != 0 {
			*lines = append(*lines, fmt.Sprintf("%s: %v", path, time.Duration(v.Int())))
		}
		return
	}
	if t.Implements(stringerType) && t.Kind() != reflect.Struct || t.Kind() == reflect.Struct && t.PkgPath() == "net/netip" {
		if v.IsZero() {
			return
		}
		*lines = append(*lines, fmt.Sprintf("%s: %v", path, v.Interface()))
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "Directives" || f.Name == "Data" && t == reflect.TypeOf(Material{}) {
				continue
			}
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if f.Name == "Password" && t == reflect.TypeOf(UserPass{}) {
				if v.Field(i).String() != "" {
					*lines = append(*lines, p+": (set)")
				}
				continue
			}
			dumpValue(lines, p, v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if v.Len() > 0 && !(t.Kind() == reflect.Array && v.IsZero()) {
				b := make([]byte, v.Len())
				reflect.Copy(reflect.ValueOf(b), v)
				*lines = append(*lines, fmt.Sprintf("%s: %x", path, b))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			dumpValue(lines, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			dumpValue(lines, fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k))
		}
	default:
		if v.IsZero() {
			return
		}
		if t.Kind() == reflect.String {
			*lines = append(*lines, fmt.Sprintf("%s: %q", path, v.String()))
			return
		}
		*lines = append(*lines, fmt.Sprintf("%s: %v", path, v.Interface()))
	}
}

const testCA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2E=\n-----END CERTIFICATE-----\n"

// mapFS builds an in-memory file system from name, content pairs.
func mapFS(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(kv[i], ".sh") {
			mode = 0o755
		}
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1]), Mode: mode}
	}
	return m
}
