package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCases runs the hand-written cases in testdata/cases. Each archive
// holds configuration files, optionally "load" (files to load, one per
// line; default: every top-level .ovpn/.conf file) or "args" (a command
// line, one word per line), and "want": the report, summary and typed
// result, regenerated with -update. Files ending in .sh are executable.
func TestCases(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "cases", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(data)
			fsys := fstest.MapFS{}
			var load, args []string
			var want []byte
			wantIdx := -1
			for i, f := range a.files {
				switch f.name {
				case "want":
					want, wantIdx = f.data, i
					continue
				case "load":
					load = strings.Fields(string(f.data))
					continue
				case "args":
					args = strings.Split(strings.TrimSuffix(string(f.data), "\n"), "\n")
					continue
				}
				mode := os.FileMode(0o644)
				if strings.HasSuffix(f.name, ".sh") {
					mode = 0o755
				}
				fsys[f.name] = &fstest.MapFile{Data: f.data, Mode: mode}
			}
			if load == nil && args == nil {
				for _, f := range a.files {
					if !strings.Contains(f.name, "/") && (strings.HasSuffix(f.name, ".ovpn") || strings.HasSuffix(f.name, ".conf")) {
						load = append(load, f.name)
					}
				}
			}
			l := &Loader{FS: fsys}
			var out bytes.Buffer
			render := func(title string, o *Options, d *Diagnostics) {
				out.WriteString("## " + title + "\n")
				(&Report{File: title, Options: o, Diagnostics: d}).WriteTo(&out)
				out.WriteString("# typed result\n")
				out.WriteString(dump(o))
			}
			if args != nil {
				o, d, _ := l.LoadArgs(args)
				render(CmdLineFile, o, d)
			}
			for _, name := range load {
				o, d, _ := l.Load(name)
				render(name, o, d)
			}
			got := out.Bytes()
			if *update {
				if wantIdx < 0 {
					a.files = append(a.files, archiveFile{name: "want"})
					wantIdx = len(a.files) - 1
				}
				a.files[wantIdx].data = got
				if err := os.WriteFile(path, formatArchive(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from the want section (run 'go test ./config -update' and review):\n%s", lineDiff(string(want), string(got)))
			}
		})
	}
}
