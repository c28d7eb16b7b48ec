package correlation

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// base is the event time the hand-built streams start at.
func base() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// loadFixture parses testdata/rules files and fails on any error.
func loadFixture(t testing.TB, names ...string) ([]*Rule, []RuleRef) {
	t.Helper()
	var rules []*Rule
	var refs []RuleRef
	for _, n := range names {
		p := filepath.Join("testdata", "rules", n)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, f, errs := ParseWithRefs(p, data)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", n, errs)
		}
		rules, refs = append(rules, r...), append(refs, f...)
	}
	return rules, refs
}

// parseOne parses YAML that must hold correlation rules without errors.
func parseOne(t testing.TB, doc string) []*Rule {
	t.Helper()
	rules, errs := Parse("inline.yml", []byte(doc))
	if len(errs) > 0 || len(rules) == 0 {
		t.Fatalf("parse: %d rules, %v", len(rules), errs)
	}
	return rules
}

// mustEngine builds an engine that must accept every rule.
func mustEngine(t testing.TB, rules []*Rule, opts Options) *Engine {
	t.Helper()
	e, errs := NewEngine(rules, opts)
	if len(errs) > 0 {
		t.Fatalf("NewEngine: %v", errs)
	}
	return e
}

// sink collects results; it is safe for concurrent use.
type sink struct {
	mu  sync.Mutex
	got []Result
}

func (s *sink) emit(r Result) {
	s.mu.Lock()
	s.got = append(s.got, r)
	s.mu.Unlock()
}

func (s *sink) results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Result(nil), s.got...)
}

// byRule returns the results of the rule with the given title.
func (s *sink) byRule(title string) []Result {
	var out []Result
	for _, r := range s.results() {
		if r.Rule.Title == title {
			out = append(out, r)
		}
	}
	return out
}

// step is one match of a hand-built stream: a rule reference, an offset
// from base(), and the event's fields as name=value pairs. ECS names
// (source.ip, host.name, ...) fill the event's ECS fields; others become
// original fields.
type step struct {
	rule   string
	offset time.Duration
	fields string // "source.ip=10.0.0.1 TargetUserName=bob"
}

// event builds the event of a step.
func (s step) event(id uint64) *schema.Event {
	ev := &schema.Event{ID: id, Timestamp: base().Add(s.offset)}
	for _, kv := range strings.Fields(s.fields) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "source.ip":
			ev.Source.IP = v
		case "destination.ip":
			ev.Destination.IP = v
		case "host.name":
			ev.Host.Name = v
		case "user.name":
			ev.User.Name = v
		default:
			ev.Fields.Add(k, v)
		}
	}
	return ev
}

// match turns a step into a match; the rule reference is used as both id
// and name unless it contains "=", as in "id=..." or "name=...".
func (s step) match(id uint64) Match {
	m := Match{Time: base().Add(s.offset), Event: s.event(id)}
	switch {
	case strings.HasPrefix(s.rule, "id="):
		m.RuleID = strings.TrimPrefix(s.rule, "id=")
	case strings.HasPrefix(s.rule, "name="):
		m.RuleName = strings.TrimPrefix(s.rule, "name=")
	default:
		m.RuleID, m.RuleName = s.rule, s.rule
	}
	return m
}

// run feeds steps in order, event ids counting from 1, and returns the
// results.
func run(e *Engine, steps []step) []Result {
	var s sink
	for i, st := range steps {
		e.Observe(st.match(uint64(i+1)), s.emit)
	}
	return s.results()
}

// every returns n steps of rule, the i-th at start + i*gap, with fields
// produced per index.
func every(rule string, n int, start, gap time.Duration, fields func(i int) string) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = step{rule: rule, offset: start + time.Duration(i)*gap, fields: fields(i)}
	}
	return out
}

func fixed(s string) func(int) string { return func(int) string { return s } }

// counts returns the Count of each result.
func counts(rs []Result) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Count
	}
	return out
}
