package sigma

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoadFile loads arbitrary rule files: loading must report problems,
// never panic, and whatever loads must evaluate without panicking.
func FuzzLoadFile(f *testing.F) {
	for _, pattern := range []string{"testdata/load/*.yml", "testdata/sigmahq/*.yml"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(ruleYAML("k:\n  - '|all': [a, b]\nsel:\n  F|re|i: x\ncondition: 1 of them")))
	m := newTestMapping(f)
	events := []*testEventSpec{
		{"F", "x", "Image", `C:\a.exe`, "EventID", "1", "message", "a b"},
		{"CommandLine", "powershell -enc SQBFAFgA", "NewProcessName", "x"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := LoadFile("fuzz.yml", data, LoadOptions{Placeholders: map[string][]string{"p": {"v"}}})
		for _, e := range errs {
			if e.File != "fuzz.yml" || e.Reason == "" {
				t.Fatalf("malformed error %+v", e)
			}
		}
		var det []*Rule
		for _, r := range rules {
			if r.Correlation == nil {
				det = append(det, r)
			}
		}
		e, err := NewEngine(det, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range events {
			e.Match(testEvent(*spec...), func(*Rule) {})
		}
	})
}

// testEventSpec is the key/value list of a test event.
type testEventSpec []string

// FuzzCondition parses arbitrary conditions over fixed identifiers: errors
// are fine, panics and trees that refer to unknown searches are not.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"a", "a and not (b or c)", "1 of sel*", "all of them", "2 of *",
		"not not a", "((a))", "a | count() > 1", "1 of", "(", "all of _x*"} {
		f.Add(s)
	}
	names := []string{"a", "b", "c", "sel_1", "sel_2", "_x1"}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCondition(s, names)
		if err != nil {
			return
		}
		var walk func(*condNode)
		walk = func(n *condNode) {
			switch n.kind {
			case condSearch:
				if n.search < 0 || n.search >= len(names) {
					t.Fatalf("%q: search index %d", s, n.search)
				}
			case condNot:
				if len(n.kids) != 1 {
					t.Fatalf("%q: not with %d operands", s, len(n.kids))
				}
			case condOf:
				if n.n < 1 || n.n > len(n.kids) {
					t.Fatalf("%q: %d of %d", s, n.n, len(n.kids))
				}
			}
			for _, k := range n.kids {
				walk(k)
			}
		}
		walk(n)
	})
}

// FuzzSigmaString checks the value parser against its inverse and the
// wildcard matcher against an equivalent regular expression.
func FuzzSigmaString(f *testing.F) {
	for _, s := range [][2]string{{`*\cmd.exe`, `c:\windows\cmd.exe`}, {`a\\*b`, `a\xxb`}, {`a\*b`, `a*b`},
		{`??x*`, `abxyz`}, {`*a*a*b`, `aaaab`}, {`é?`, `éé`}, {`\\\\server`, `\\server`}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		p := parseSigmaString(pattern)
		if again := parseSigmaString(p.String()); !reflect.DeepEqual(again, p) {
			t.Fatalf("%q: round trip via %q gives %#v, want %#v", pattern, p.String(), again, p)
		}
		if !utf8.ValidString(pattern) || !utf8.ValidString(value) {
			return // ? counts runes; the regexp comparison needs valid text
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, part := range p {
			switch part.kind {
			case partStar:
				re.WriteString(".*")
			case partOne:
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(part.lit))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(value)
		if got := globMatch(p.normalize(), value); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp %s says %v", pattern, value, got, re.String(), want)
		}
	})
}
