package correlation

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/golden"
)

// dump renders parsed rules, references and errors as text for golden
// files.
func dump(rules []*Rule, refs []RuleRef, errs []LoadError) []byte {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %s:%d id=%q name=%q title=%q\n", filepath.ToSlash(r.File), r.Line, r.ID, r.Name, r.Title)
		fmt.Fprintf(&b, "  type=%s rules=%q group-by=%q timespan=%v condition=%q implicit=%v generate=%v\n",
			r.Type, r.Rules, r.GroupBy, r.Timespan, r.Condition.String(), r.Condition.Implicit, r.Generate)
		fmt.Fprintf(&b, "  level=%q status=%q tags=%q\n", r.Level, r.Status, r.Tags)
		aliases := make([]string, 0, len(r.Aliases))
		for a := range r.Aliases {
			aliases = append(aliases, a)
		}
		slices.Sort(aliases)
		for _, a := range aliases {
			keys := make([]string, 0, len(r.Aliases[a]))
			for k := range r.Aliases[a] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "  alias %s: %s -> %s\n", a, k, r.Aliases[a][k])
			}
		}
	}
	for _, r := range refs {
		fmt.Fprintf(&b, "ref id=%q name=%q\n", r.ID, r.Name)
	}
	for _, e := range errs {
		e.File = filepath.ToSlash(e.File)
		fmt.Fprintf(&b, "error %s\n", e.Error())
	}
	return []byte(b.String())
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	produce := func(t *testing.T, path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rules, refs, errs := ParseWithRefs(path, data)
		return dump(rules, refs, errs)
	}
	t.Run("rules", func(t *testing.T) {
		t.Parallel()
		golden.CheckFiles(t, filepath.Join("testdata", "rules", "*.yml"), produce)
	})
	t.Run("bad", func(t *testing.T) {
		t.Parallel()
		golden.CheckFiles(t, filepath.Join("testdata", "bad", "*.yml"), produce)
	})
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		// want checks the one rule parsed; nil when the rule must fail.
		want func(t *testing.T, r *Rule)
		// errs are substrings of the expected errors, each with its line.
		errs []string
	}{
		{"event_count", `
title: t
id: i
name: n
correlation:
  type: event_count
  rules: r1
  group-by: source.ip
  timespan: 5m
  condition: {gte: 10}
`, func(t *testing.T, r *Rule) {
			if r.Type != EventCount || r.Timespan != 5*time.Minute || !slices.Equal(r.Rules, []string{"r1"}) ||
				!slices.Equal(r.GroupBy, []string{"source.ip"}) || r.Condition.String() != "gte 10" || r.Line != 2 {
				t.Errorf("got %+v", r)
			}
			if !r.Condition.Monotone() || r.Condition.Holds(9) || !r.Condition.Holds(10) {
				t.Errorf("condition %v misjudged", r.Condition)
			}
		}, nil},
		{"value_count with two fields", `
title: t
correlation:
  type: value_count
  rules: [a, b]
  timespan: 1d
  condition: {field: [User, Domain], gt: 3, lte: 7}
`, func(t *testing.T, r *Rule) {
			if !slices.Equal(r.Condition.Field, []string{"User", "Domain"}) || r.Condition.Monotone() ||
				r.Condition.Holds(3) || !r.Condition.Holds(4) || !r.Condition.Holds(7) || r.Condition.Holds(8) {
				t.Errorf("condition %+v", r.Condition)
			}
		}, nil},
		{"temporal defaults to all rules", `
title: t
correlation: {type: temporal, rules: [a, b, c], timespan: 2h}
`, func(t *testing.T, r *Rule) {
			if !r.Condition.Implicit || r.Condition.String() != "gte 3" || len(r.GroupBy) != 0 {
				t.Errorf("condition %+v", r.Condition)
			}
		}, nil},
		{"generate at top level or in the section", `
title: t
generate: true
correlation: {type: temporal, rules: [a, b], timespan: 1s}
`, func(t *testing.T, r *Rule) {
			if !r.Generate {
				t.Error("generate not read")
			}
		}, nil},
		{"yaml anchors", `
title: t
x: &span 15m
correlation: {type: temporal, rules: [a, b], timespan: *span}
`, func(t *testing.T, r *Rule) {
			if r.Timespan != 15*time.Minute {
				t.Errorf("timespan %v", r.Timespan)
			}
		}, nil},
		{"no title", `
correlation: {type: temporal, rules: [a, b], timespan: 1m}
`, nil, []string{"x.yml:2: correlation rule has no title"}},
		{"neq", `
title: t
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {neq: 1}}
`, func(t *testing.T, r *Rule) {
			if r.Condition.Holds(1) || !r.Condition.Holds(2) || r.Condition.Monotone() {
				t.Errorf("condition %+v", r.Condition)
			}
		}, nil},
		{"too many rules", "title: t\ncorrelation: {type: temporal, timespan: 1m, rules: [" +
			strings.TrimSuffix(strings.Repeat("r, ", 65), ", ") + "]}\n",
			nil, []string{"x.yml:2: correlation references 65 rules; at most 64", `rule reference "r" is listed twice`}},
		{"unknown type and key", `
title: t
correlation:
  type: value_sum
  rules: [a]
  timespan: 1m
  gap: 5m
`, nil, []string{`x.yml:7: unknown correlation key "gap"`, `x.yml:4: unsupported correlation type "value_sum"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rules, errs := Parse("x.yml", []byte(tc.yaml))
			for _, want := range tc.errs {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e.Error(), want)
				}
				if !found {
					t.Errorf("no error %q in %v", want, errs)
				}
			}
			if tc.want == nil {
				if len(rules) != 0 {
					t.Fatalf("parsed %d rules, want none", len(rules))
				}
				return
			}
			if len(errs) != 0 || len(rules) != 1 {
				t.Fatalf("got %d rules, errors %v", len(rules), errs)
			}
			tc.want(t, rules[0])
		})
	}
}

// TestParseReportsAllProblems checks that a document's problems are all
// reported at once, each on its own line, and that a good document beside
// a bad one still loads.
func TestParseReportsAllProblems(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "bad", "many_errors.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := Parse(path, data)
	if len(rules) != 1 || rules[0].Title != "A good rule beside the bad one still loads" {
		t.Errorf("rules = %v, want the good one", rules)
	}
	lines := map[int]bool{}
	for _, e := range errs {
		if e.File != path || e.Line == 0 {
			t.Errorf("error without file and line: %v", e)
		}
		lines[e.Line] = true
	}
	for _, l := range []int{2, 4, 5, 8, 9, 11, 12, 13, 14, 15} {
		if !lines[l] {
			t.Errorf("no error on line %d: %v", l, errs)
		}
	}
}

// TestParseNode checks that a decoded document is parsed as Parse parses
// it, and that a document without a correlation section is refused.
func TestParseNode(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/rules/bruteforce.yml")
	if err != nil {
		t.Fatal(err)
	}
	want, errs := Parse("bruteforce.yml", data)
	if len(errs) > 0 || len(want) != 1 {
		t.Fatalf("Parse: %d rules, errors %v", len(want), errs)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var got *Rule
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if root := doc.Content[0]; IsCorrelation(root) {
			got, errs = ParseNode("bruteforce.yml", root)
		} else if r, e := ParseNode("bruteforce.yml", root); r != nil || len(e) != 1 || e[0].Line != root.Line {
			t.Errorf("detection document: rule %v, errors %v", r, e)
		}
	}
	if len(errs) > 0 || !reflect.DeepEqual(got, want[0]) {
		t.Errorf("ParseNode = %+v, %v; want %+v", got, errs, want[0])
	}
}
