package sigma

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// testMapping routes events with input "test" to logsource product test,
// and those with EventID 1 also to category mapped, whose Image is the
// event's NewProcessName.
const testMapping = `
logsources:
  - product: test
    when: {input: test}
  - product: test
    category: mapped
    when: {input: test, EventID: 1}
    fields:
      Image: NewProcessName
`

func newTestMapping(t testing.TB) *Mapping {
	t.Helper()
	m := &Mapping{}
	if err := m.Add("test.yml", []byte(testMapping)); err != nil {
		t.Fatal(err)
	}
	return m
}

// fastAndNaive returns two engines of rules under m: one with the
// prefilter, and one that evaluates every routed rule on every pattern
// (the reference the prefilter must agree with).
func fastAndNaive(t testing.TB, rules []*Rule, m *Mapping) (fast, naive *Engine) {
	t.Helper()
	fast, err := NewEngine(rules, m)
	if err != nil {
		t.Fatal(err)
	}
	naive, err = NewEngine(rules, m)
	if err != nil {
		t.Fatal(err)
	}
	naive.naive = true
	return fast, naive
}

// testEvent builds an event of logsource test from key/value pairs.
func testEvent(kv ...string) *schema.Event {
	ev := &schema.Event{Input: "test"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "message" {
			ev.Message = kv[i+1]
			continue
		}
		ev.Fields.Add(kv[i], kv[i+1])
	}
	return ev
}

// ruleYAML wraps a detection section into a rule of logsource test.
func ruleYAML(detection string) string {
	return "title: test rule\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: test\ndetection:\n" +
		indent(detection, "  ")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// loadOne loads a rule from YAML text and fails the test on errors.
func loadOne(t testing.TB, text string, opts LoadOptions) *Rule {
	t.Helper()
	loaded, errs := LoadFile("rule.yml", []byte(text), opts)
	rules := loaded.Rules
	if len(errs) > 0 {
		t.Fatalf("load errors: %v\n%s", errs, text)
	}
	if len(rules) != 1 {
		t.Fatalf("loaded %d rules, want 1", len(rules))
	}
	return rules[0]
}

// matches reports whether the rule fires on ev through an engine.
func matches(t testing.TB, r *Rule, ev *schema.Event) bool {
	t.Helper()
	e, err := NewEngine([]*Rule{r}, newTestMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	hit := false
	e.Match(ev, func(*Rule) { hit = true })
	return hit
}

// b64 returns the standard base64 encoding of s.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
