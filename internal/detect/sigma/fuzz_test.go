package sigma

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/schema"
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
		loaded, errs := LoadFile("fuzz.yml", data, LoadOptions{Placeholders: map[string][]string{"p": {"v"}}})
		rules := loaded.Rules
		for _, e := range errs {
			if e.File != "fuzz.yml" || e.Reason == "" {
				t.Fatalf("malformed error %+v", e)
			}
		}
		for _, c := range loaded.Correlations {
			if c.File != "fuzz.yml" || c.Title == "" {
				t.Fatalf("malformed correlation rule %+v", c)
			}
		}
		e, err := NewEngine(rules, m)
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

// FuzzPrefilterAgrees evaluates arbitrary detections on events built from
// arbitrary values with the engine's prefilter and without it (every
// pattern compared directly); both must match the same events.
func FuzzPrefilterAgrees(f *testing.F) {
	for _, s := range [][3]string{
		{"sel:\n  F|contains: [abc, 'x*y', '?z']\ncondition: sel", "xxABCxx", "q"},
		{"sel:\n  F|startswith: Pre\n  G|endswith: '.EXE'\nfilter:\n  F: prefix\ncondition: sel and not filter", "PREfix", "a.exe"},
		{"sel:\n  F|re|i: 'power[s]hell\\.exe -enc'\ncondition: sel", "POWERSHELL.EXE -ENC x", "ſ"},
		{"sel:\n  F|re: '\\s[a-f0-9]{8}\\s'\ncondition: sel", " deadbeef ", ""},
		{"sel:\n  F|contains|windash: ' -enc '\ncondition: sel", "x /enc y", "x \u2013enc y"},
		{"sel:\n  F|base64offset|contains: 'http://'\ncondition: sel", b64("  http://x"), ""},
		{"sel:\n  F|contains|all: [a, b]\nsel2:\n  G: null\ncondition: 1 of sel*", "ba", ""},
		{"keywords:\n  - mimikatz\n  - 'sekurlsa::'\ncondition: keywords", "x", "Sekurlsa::logonpasswords"},
		{"sel:\n  F|cased: CamelCase\n  G|contains|cased: 'Bad'\ncondition: sel", "CamelCase", "xBadx"},
		{"sel:\n  F|fieldref: G\ncondition: sel", "İstanbul", "i̇stanbul"},
		{"a:\n  F|contains: [one, two]\nb:\n  G|endswith: [x, y]\nc:\n  F: three\ncondition: (a and b) or c", "one", "ax"},
		{"sel:\n  F|wide|base64offset|contains: ping\ncondition: sel", b64(utf16Bytes("ping", false, false)), ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	m := newTestMapping(f)
	f.Fuzz(func(t *testing.T, detection, v1, v2 string) {
		loaded, errs := LoadFile("fuzz.yml", []byte(ruleYAML(detection)), LoadOptions{})
		rules := loaded.Rules
		if len(errs) > 0 || len(rules) != 1 {
			return
		}
		fast, naive := fastAndNaive(t, rules, m)
		for _, ev := range []*schema.Event{
			testEvent("F", v1, "G", v2, "message", v1+" "+v2),
			testEvent("F", strings.ToUpper(v1), "G", strings.ToLower(v2), "Image", v2),
			testEvent("G", v1+v2, "F", v2+v1),
		} {
			a, b := 0, 0
			fast.Match(ev, func(*Rule) { a++ })
			naive.Match(ev, func(*Rule) { b++ })
			if a != b {
				t.Fatalf("detection %q on %v: prefilter matched %d times, direct comparison %d", detection, ev.Fields, a, b)
			}
		}
	})
}
