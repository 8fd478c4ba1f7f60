package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/openvpn-go/openvpn-go/internal/vectors"
)

// corpusSeeds adds every corpus file (whole, and each line) as a seed.
func corpusSeeds(f *testing.F, lines bool) {
	dir := vectors.Dir(f, "corpus/ovpn")
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range paths {
		if strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".tsv") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if !lines {
			f.Add(data)
			continue
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			f.Add(l)
		}
	}
}

// FuzzLex checks that SplitLine never panics and that its words survive a
// round trip through joinWords.
func FuzzLex(f *testing.F) {
	for _, s := range []string{`a "b c" 'd e' f\ g # h`, `x "\"" '\'`, "\x00\xff"} {
		f.Add([]byte(s))
	}
	corpusSeeds(f, true)
	f.Fuzz(func(t *testing.T, line []byte) {
		words, err := SplitLine(string(line))
		if err != nil {
			return
		}
		if len(words) > MaxParams {
			t.Fatalf("%d words", len(words))
		}
		back, err := splitLine(joinWords(words))
		if err != nil {
			t.Fatalf("round trip of %q: %v", words, err)
		}
		if len(words) == 0 && len(back) == 0 {
			return
		}
		if !reflect.DeepEqual(back, words) {
			t.Fatalf("round trip %q -> %q", words, back)
		}
	})
}

// FuzzParse runs the parser and the whole evaluation on arbitrary files:
// nothing may panic, every directive has a plausible position, and errors
// always carry a position.
func FuzzParse(f *testing.F) {
	corpusSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		dirs, _ := ParseDirectives(bytes.NewReader(data), "f.conf")
		n := bytes.Count(data, []byte("\n")) + 1
		for _, d := range dirs {
			if d.Line < 1 || d.Line > n {
				t.Fatalf("directive %q at line %d of %d", d.Name, d.Line, n)
			}
		}
		fsys := fstest.MapFS{"f.conf": &fstest.MapFile{Data: data}}
		o, ds, err := (&Loader{FS: fsys}).Load("f.conf")
		if (err != nil) != ds.HasErrors() || o == nil || len(o.Connections) == 0 {
			t.Fatalf("inconsistent result: err %v, %d diagnostics", err, len(ds.List))
		}
		_ = o.Summary()
		for _, d := range ds.List {
			if d.File == "" {
				t.Fatalf("diagnostic without a file: %v", d)
			}
		}
		c, ds2, err := (&Loader{FS: fsys}).LoadCCD("f.conf")
		if (err != nil) != ds2.HasErrors() || c == nil {
			t.Fatalf("inconsistent ccd result")
		}
	})
}

// FuzzParsePushReply parses and applies arbitrary PUSH_REPLY messages.
func FuzzParsePushReply(f *testing.F) {
	for _, m := range labPushReplies(f) {
		f.Add(m)
	}
	f.Add("PUSH_REPLY,route-gateway dhcp,redirect-gateway def1 ipv6,dns server 0 address [::1]:53,push-continuation 2")
	f.Add("PUSH_REPLY,comp-lzo,compress lz4-v2,auth-token-user !!!,peer-id 16777215")
	f.Fuzz(func(t *testing.T, msg string) {
		opts, err := ParsePushReply(msg)
		if err != nil {
			return
		}
		for _, pol := range []PushPolicy{{}, {RouteNoPull: true, AllowCompression: AllowCompressionYes, Filters: []PullFilter{{PullIgnore, "route"}}}} {
			var p Pushed
			_ = p.Apply(opts, pol)
			if len(p.Accepted)+len(p.Notes) > 2*len(opts)+1 {
				t.Fatalf("%d accepted and %d notes for %d options", len(p.Accepted), len(p.Notes), len(opts))
			}
		}
	})
}
