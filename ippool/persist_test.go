package ippool

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func hintStrings(hs []Hint) []string {
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%d:%s|%v|%v", h.Line, h.CN, h.IPv4, h.IPv6))
	}
	return out
}

func TestParsePersist(t *testing.T) {
	long := strings.Repeat("x", MaxLineLen) + ",10.8.0.2"
	tests := []struct {
		name     string
		in       string
		hints    []string
		problems []string // substrings, one per problem, in order
	}{
		{"as 2.6 writes it", "alice,10.8.0.4,fd00:8::1000\nbob,10.8.0.8,fd00:8::1001\n",
			[]string{"1:alice|10.8.0.4|fd00:8::1000", "2:bob|10.8.0.8|fd00:8::1001"}, nil},
		{"IPv4 only, with and without the last comma", "alice,10.8.0.2,\nbob,10.8.0.3",
			[]string{"1:alice|10.8.0.2|invalid IP", "2:bob|10.8.0.3|invalid IP"}, nil},
		{"IPv6 only", "alice,,fd00:9::1\n", []string{"1:alice|invalid IP|fd00:9::1"}, nil},
		{"comments and empty lines", "# x\n; y\n\n\r\n", nil, nil},
		{"CR anywhere is dropped", "ali\rce,10.8.0.2\r\n", []string{"1:alice|10.8.0.2|invalid IP"}, nil},
		{"extra fields ignored", "alice,10.8.0.2,fd00::2,junk,more\n", []string{"1:alice|10.8.0.2|fd00::2"}, nil},
		{"blanks around addresses", "al ice , 10.8.0.2 ,\tfd00::2 \n", []string{"1:al ice |10.8.0.2|fd00::2"}, nil},
		{"IPv6 with bits", "alice,,fd00::1000/64\n", []string{"1:alice|invalid IP|fd00::1000"}, nil},
		{"no comma", "alice\n", nil, []string{"line 1: \"alice\" has no address"}},
		{"no address", "alice,\nbob,,\n", nil, []string{"line 1: \"alice,\" has no address", "line 2: \"bob,,\" has no address"}},
		{"no name", ",10.8.0.2\n", nil, []string{"line 1: \",10.8.0.2\" has no common name"}},
		{"bad IPv4 alone", "alice,10.8.4,\n", nil, []string{`line 1: invalid IPv4 "10.8.4" for CN "alice"`}},
		{"IPv6 in the IPv4 field", "alice,fd00::1,\n", nil, []string{`invalid IPv4 "fd00::1"`}},
		{"bad IPv4, good IPv6", "alice,bogus,fd00::2\n", []string{"1:alice|invalid IP|fd00::2"}, []string{`invalid IPv4 "bogus"`}},
		{"zone", "alice,,fe80::1%eth0\n", nil, []string{`invalid IPv6 "fe80::1%eth0"`}},
		{"mapped IPv4", "alice,,::ffff:10.8.0.2\n", nil, []string{`invalid IPv6`}},
		{"NUL", "al\x00ice,10.8.0.2\nbob,10.8.0.3\n", []string{"2:bob|10.8.0.3|invalid IP"}, []string{"line 1: contains a NUL byte"}},
		{"long line skipped, numbering kept", long + "\nbob,10.8.0.3\n" + long, []string{"2:bob|10.8.0.3|invalid IP"},
			[]string{"line 1 is longer than 4096 bytes", "line 3 is longer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hints, problems, err := ParsePersist(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := hintStrings(hints); fmt.Sprint(got) != fmt.Sprint(tt.hints) {
				t.Errorf("hints\n got %q\nwant %q", got, tt.hints)
			}
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems %v, want %d", problems, len(tt.problems))
			}
			for i, p := range problems {
				if !errors.Is(p, ErrBadHint) || !strings.HasPrefix(p.Error(), "ippool: ") || !strings.Contains(p.Error(), tt.problems[i]) {
					t.Errorf("problem %q does not contain %q", p, tt.problems[i])
				}
			}
		})
	}
}

func TestLoadAgainstPool(t *testing.T) {
	p := mustNew(t, with6(net30_24, "fd00:8::1000/64"))
	in := strings.Join([]string{
		"a,10.8.0.6,",              // a client address: its block, entry 0
		"b,10.9.0.4,",              // outside
		"c,10.9.0.4,fd00:8::1002",  // IPv4 outside: IPv6 chooses entry 2
		"d,10.8.0.12,fd00:8::1005", // offsets differ: IPv4 wins, entry 2 again
		"e,,fd00:8::1003",          // entry 3
		"f,10.8.0.251,",            // last block (10.8.0.248): entry 61
		"g,10.8.0.252,",            // past the pool
		"h,10.8.0.2,",              // below the pool
		"i,bogus,fd00:8::1004",     // bad IPv4, IPv6 entry 4
		"",
	}, "\n")
	n, problems, err := p.Load(strings.NewReader(in), t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("applied %d hints, want 6", n)
	}
	want := []string{
		`line 9: invalid IPv4 "bogus" for CN "i"`,
		`line 2: CN "b": IPv4 10.9.0.4 is outside the pool (pool 10.8.0.4-10.8.0.251 (net30) and fd00:8::1000-fd00:8::103d): hint ignored`,
		`line 3: CN "c": IPv4 10.9.0.4 is outside the pool (pool`,
		`): hint applied`,
		`line 4: CN "d": IPv4 10.8.0.12 and IPv6 fd00:8::1005 are at different offsets (2 and 5); using IPv4`,
		`line 7: CN "g": IPv4 10.8.0.252 is outside the pool`,
		`line 8: CN "h": IPv4 10.8.0.2 is outside the pool`,
	}
	if len(problems) != len(want)-1 {
		t.Fatalf("problems:\n%v", problems)
	}
	for i, w := range []string{want[0], want[1], want[2], want[4], want[5], want[6]} {
		if !strings.Contains(problems[i].Error(), w) || !errors.Is(problems[i], ErrBadHint) {
			t.Errorf("problem %d: %q does not contain %q", i, problems[i], w)
		}
	}
	if !strings.Contains(problems[2].Error(), want[3]) {
		t.Errorf("problem 2: %q", problems[2])
	}
	var b strings.Builder
	if err := p.Save(&b); err != nil {
		t.Fatal(err)
	}
	wantFile := "a,10.8.0.4,fd00:8::1000\nd,10.8.0.12,fd00:8::1002\ne,10.8.0.16,fd00:8::1003\ni,10.8.0.20,fd00:8::1004\nf,10.8.0.248,fd00:8::103d\n"
	if b.String() != wantFile {
		t.Errorf("Save:\n%s\nwant:\n%s", b.String(), wantFile)
	}
	// The hints are honoured; c lost hers to d; newcomers take unused
	// entries.
	run(t, p, []step{{"d", "10.8.0.14"}, {"f", "10.8.0.250"}, {"new", "10.8.0.10"}, {"c", "10.8.0.26"}})
}

func TestLoadLeasedAndReadErrors(t *testing.T) {
	p := mustNew(t, subnet24)
	if _, err := p.Acquire("alice", t0); err != nil {
		t.Fatal(err)
	}
	n, problems, err := p.Load(strings.NewReader("bob,10.8.0.2,\ncarol,10.8.0.3,\n"), t0)
	if err != nil || n != 1 || len(problems) != 1 || !strings.Contains(problems[0].Error(), `line 1: CN "bob": 10.8.0.2 is leased`) {
		t.Fatalf("Load = %d, %v, %v", n, problems, err)
	}
	r := &failingReader{data: "dave,10.8.0.4,\npartial,10.8", err: errors.New("disk on fire")}
	n, _, err = p.Load(r, t0)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "ippool: reading the persist file at line 2: disk on fire") {
		t.Fatalf("Load with a failing reader = %d, %v", n, err)
	}
	run(t, p, []step{{"dave", "10.8.0.4"}, {"carol", "10.8.0.3"}, {"x", "10.8.0.5"}})
}

type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(b []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(b, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestSaveSkipsUnreadableNames(t *testing.T) {
	p := mustNew(t, subnet24)
	for _, cn := range []string{"a,b", "#x", ";y", "ok", "new\nline", "cr\r", strings.Repeat("x", maxSavedCN+1), strings.Repeat("y", maxSavedCN)} {
		if _, err := p.Acquire(cn, t0); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	if err := p.Save(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != "ok,10.8.0.5,\n"+strings.Repeat("y", maxSavedCN)+",10.8.0.9,\n" {
		t.Fatalf("Save = %q", b.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func TestChanged(t *testing.T) {
	p := mustNew(t, subnet24)
	save := func() error { return p.Save(discard{}) }
	check := func(step string, want bool) {
		t.Helper()
		if p.Changed() != want {
			t.Fatalf("%s: Changed = %v, want %v", step, !want, want)
		}
	}
	check("new pool", false)
	a, _ := p.Acquire("alice", t0)
	check("alice acquired", true)
	if err := save(); err != nil {
		t.Fatal(err)
	}
	check("saved", false)
	p.Release(a, t0.Add(time.Second))
	check("alice released", false)
	a, _ = p.Acquire("alice", t0.Add(2*time.Second))
	check("alice back on her address", false)
	if err := p.Reserve(ip("10.8.0.9")); err != nil {
		t.Fatal(err)
	}
	check("reserved", false)
	b, _ := p.Acquire("bob", t0)
	check("bob acquired", true)
	err := p.Save(writerFunc(func([]byte) (int, error) { return 0, errors.New("disk full") }))
	if err == nil || !strings.Contains(err.Error(), "ippool: writing the persist file: disk full") {
		t.Fatalf("failing Save: %v", err)
	}
	check("failed save", true)
	// A change while Save writes (it does not hold the lock) stays pending.
	err = p.Save(writerFunc(func(d []byte) (int, error) {
		if _, err := p.Acquire("carol", t0); err != nil {
			t.Error(err)
		}
		return len(d), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	check("carol arrived during Save", true)
	_ = save()
	p.Discard(b)
	check("bob discarded", true)
	p.Release(a, t0.Add(3*time.Second))
	_ = save()
	n, _, _ := p.Load(strings.NewReader("alice,10.8.0.2,\n"), t0)
	if n != 1 {
		t.Fatal("Load")
	}
	check("Load of what is known", false)
	p.Load(strings.NewReader("dave,10.8.0.3,\n"), t0)
	check("Load of a new name", true)
}

// FuzzParsePersist checks that ParsePersist never fails on bytes, that what
// it returns is usable, and that Load then Save is a fixed point: saving,
// loading the result into a fresh pool and saving again gives the same
// file, without problems.
func FuzzParsePersist(f *testing.F) {
	for _, s := range []string{
		"alice,10.8.0.4,fd00:8::1000\nbob,10.8.0.8,fd00:8::1001\n",
		"alice,10.8.0.2,\nbob,,fd00:8::3\n# c\n; d\n\n",
		"a,b,c\n,\n,,\n\r\n\x00\n",
		"x,10.8.0.250,fd00:8::ffff/64,extra\ny,10.8.0.2 ,fe80::1%eth0",
		"dup,10.8.0.6,\ndup,10.8.0.10,\nother,10.8.0.6,fd00:8::1009\n",
	} {
		f.Add([]byte(s))
	}
	configs := []Config{with6(net30_24, "fd00:8::1000/64"), with6(subnet24, "fd00:8::2/112"), {IPv6: pfx("fd00:9::/120")}, p2p24}
	f.Fuzz(func(t *testing.T, data []byte) {
		hints, problems, err := ParsePersist(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hints {
			if h.CN == "" || strings.ContainsAny(h.CN, ",\r\n\x00") || h.CN[0] == '#' || h.CN[0] == ';' || (!h.IPv4.IsValid() && !h.IPv6.IsValid()) {
				t.Fatalf("bad hint %+v", h)
			}
		}
		for _, p := range problems {
			if !errors.Is(p, ErrBadHint) {
				t.Fatalf("problem %v does not wrap ErrBadHint", p)
			}
		}
		for _, c := range configs {
			p := mustNew(t, c)
			if _, _, err := p.Load(strings.NewReader(string(data)), t0); err != nil {
				t.Fatal(err)
			}
			var s1 strings.Builder
			if err := p.Save(&s1); err != nil {
				t.Fatal(err)
			}
			q := mustNew(t, c)
			n, problems, err := q.Load(strings.NewReader(s1.String()), t0)
			if err != nil || len(problems) > 0 || n != strings.Count(s1.String(), "\n") {
				t.Fatalf("reloading %q: %d %v %v", s1.String(), n, problems, err)
			}
			var s2 strings.Builder
			if err := q.Save(&s2); err != nil {
				t.Fatal(err)
			}
			if s1.String() != s2.String() {
				t.Fatalf("not a fixed point:\n%q\n%q", s1.String(), s2.String())
			}
			// Every hinted name gets its (first) entry back.
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSuffix(s1.String(), "\n"), "\n") {
				cn, addrs, _ := strings.Cut(line, ",")
				if line == "" || seen[cn] {
					continue
				}
				seen[cn] = true
				l, err := q.Acquire(cn, t0)
				if err != nil {
					t.Fatal(err)
				}
				v4, v6 := "", ""
				if l.IPv4.IsValid() {
					v4 = l.IPv4.String()
					if c.Topology == Net30 {
						v4 = l.Peer.Prev().String()
					}
				}
				if l.IPv6.IsValid() {
					v6 = l.IPv6.String()
				}
				if addrs != v4+","+v6 {
					t.Fatalf("%s got %s,%s, file says %q", cn, v4, v6, line)
				}
			}
		}
	})
}
