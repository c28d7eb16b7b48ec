package correlation

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// feedMany feeds n failed logons, the i-th from address ip(i) at
// base()+i*gap, reusing one event.
func feedMany(e *Engine, rule string, n int, gap time.Duration, ip func(i int) string) int {
	fired := 0
	ev := &schema.Event{}
	for i := range n {
		ev.ID = uint64(i + 1)
		ev.Source.IP = ip(i)
		ev.Timestamp = base().Add(time.Duration(i) * gap)
		e.Observe(Match{RuleName: rule, Event: ev}, func(Result) { fired++ })
	}
	return fired
}

func TestStateIsBounded(t *testing.T) {
	t.Parallel()
	bf, bfRefs := loadFixture(t, "bruteforce.yml")
	rangeRule := parseOne(t, `
title: few
correlation: {type: event_count, rules: [failed_logon], group-by: source.ip, timespan: 1h, condition: {lt: 5}}`)
	tests := []struct {
		name  string
		rules []*Rule
		opts  Options
		n     int
		gap   time.Duration
		ip    func(i int) string
		check func(t *testing.T, s Stats)
	}{
		{"MaxGroups evicts the least recently used", bf, Options{BaseRules: bfRefs, MaxGroups: 1000}, 100000, time.Millisecond,
			func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255) },
			func(t *testing.T, s Stats) {
				if s.Groups != 1000 || s.EvictedGroups != 99000 || s.Entries != 1000 {
					t.Errorf("stats = %+v", s)
				}
			}},
		{"groups expire as event time advances", bf, Options{BaseRules: bfRefs}, 100000, 360 * time.Millisecond * 10,
			func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255) },
			func(t *testing.T, s Stats) {
				// 10 minutes of state plus a sweep step, at one group per 3.6s.
				if s.Groups > 210 || s.ExpiredGroups < 99790 || s.Bytes > 100_000 {
					t.Errorf("stats = %+v", s)
				}
			}},
		{"one busy group keeps under the threshold", bf, Options{BaseRules: bfRefs}, 100000, time.Second,
			func(int) string { return "10.0.0.1" },
			func(t *testing.T, s Stats) {
				if s.Groups != 1 || s.Entries >= 10 || s.Fired != 10000 {
					t.Errorf("stats = %+v", s)
				}
			}},
		{"MaxEntries caps a group waiting for its window to close", rangeRule, Options{MaxEntries: 100}, 10000, time.Millisecond,
			func(int) string { return "10.0.0.1" },
			func(t *testing.T, s Stats) {
				if s.Entries != 100 || s.DroppedEntries != 9900 || s.Fired != 0 {
					t.Errorf("stats = %+v", s)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, tc.rules, tc.opts)
			feedMany(e, "failed_logon", tc.n, tc.gap, tc.ip)
			s := e.Stats()
			tc.check(t, s)
			t.Logf("%+v", s)
		})
	}
}

func TestNewEngineReports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		base    []RuleRef
		running []string // titles of the rules that run
		errs    []string
	}{
		{"unknown reference", `
title: a
correlation: {type: temporal, rules: [known, unknown], timespan: 1m}`, []RuleRef{{Name: "known"}}, nil,
			[]string{`inline.yml:2: correlation "a": references unknown rules unknown; skipped`}},
		{"references unchecked without base rules", `
title: a
correlation: {type: temporal, rules: [known, unknown], timespan: 1m}`, nil, []string{"a"}, nil},
		{"self reference", `
title: a
name: a
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 2}}`, nil, nil,
			[]string{`reference cycle "a" (a) → "a" (a)`}},
		{"cycle of two and a rule above it", `
title: a
name: a
correlation: {type: event_count, rules: [b], timespan: 1m, condition: {gte: 2}}
---
title: b
name: b
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 2}}
---
title: c
name: c
correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 2}}
---
title: d
correlation: {type: event_count, rules: [base], timespan: 1m, condition: {gte: 2}}`, nil, []string{"d"},
			[]string{`correlation "a" (a): is part of the reference cycle`, `correlation "b" (b): is part of the reference cycle`,
				`correlation "c" (c): references "a" (a), which is skipped`}},
		{"duplicate id", `
title: a
id: x
correlation: {type: event_count, rules: [r], timespan: 1m, condition: {gte: 2}}
---
title: b
id: x
correlation: {type: event_count, rules: [r], timespan: 1m, condition: {gte: 2}}`, nil, []string{"a"},
			[]string{`inline.yml:6: correlation "b" (x): id or name "x" is already used by "a" (x); skipped`}},
		{"alias for a rule not referenced", `
title: a
correlation:
  type: temporal
  rules: [r1, r2]
  group-by: [ip]
  timespan: 1m
  aliases: {ip: {r1: source.ip, r3: destination.ip}}`, nil, nil,
			[]string{`alias "ip" names rule "r3", which the correlation does not reference`}},
		{"alias by id for a rule referenced by name", `
title: a
correlation:
  type: temporal
  rules: [r1, r2]
  group-by: [ip]
  timespan: 1m
  aliases: {ip: {id-1: source.ip, r2: destination.ip}}`, []RuleRef{{ID: "id-1", Name: "r1"}, {Name: "r2"}}, []string{"a"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rules := parseOne(t, tc.doc)
			e, errs := NewEngine(rules, Options{BaseRules: tc.base})
			var running []string
			for _, r := range e.Rules() {
				running = append(running, r.Title)
			}
			if fmt.Sprint(running) != fmt.Sprint(tc.running) {
				t.Errorf("running %v, want %v", running, tc.running)
			}
			if len(errs) != len(tc.errs) {
				t.Errorf("errors %v, want %d", errs, len(tc.errs))
			}
			for _, want := range tc.errs {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e.Error(), want)
				}
				if !found {
					t.Errorf("no error %q in %v", want, errs)
				}
			}
		})
	}
}

func TestNewEngineChecksHandBuiltRules(t *testing.T) {
	t.Parallel()
	good := &Rule{Title: "ok", Type: EventCount, Rules: []string{"r"}, Timespan: time.Minute,
		Condition: Condition{Bounds: []Bound{{GTE, 2}}}}
	bad := []*Rule{
		{Title: "no type", Rules: []string{"r"}, Timespan: time.Minute, Condition: good.Condition},
		{Title: "no rules", Type: EventCount, Timespan: time.Minute, Condition: good.Condition},
		{Title: "no timespan", Type: EventCount, Rules: []string{"r"}, Condition: good.Condition},
		{Title: "no condition", Type: EventCount, Rules: []string{"r"}, Timespan: time.Minute},
		{Title: "no field", Type: ValueCount, Rules: []string{"r"}, Timespan: time.Minute, Condition: good.Condition},
		nil,
	}
	e, errs := NewEngine(append(bad, good), Options{})
	if len(errs) != 5 || len(e.Rules()) != 1 {
		t.Fatalf("errors %v, rules %v", errs, e.Rules())
	}
}

// TestConcurrentObserve feeds one engine from several goroutines, one
// address each; run with -race.
func TestConcurrentObserve(t *testing.T) {
	t.Parallel()
	rules, refs := loadFixture(t, "bruteforce.yml")
	e := mustEngine(t, rules, Options{BaseRules: refs})
	var s sink
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			ev := schema.Event{Source: schema.Endpoint{IP: fmt.Sprintf("10.0.0.%d", w)}}
			for i := range 100 {
				ev.Timestamp = base().Add(time.Duration(i) * time.Millisecond)
				e.Observe(Match{RuleName: "failed_logon", Event: &ev}, s.emit)
			}
			_ = e.Stats()
		})
	}
	wg.Wait()
	if got := len(s.results()); got != 40 {
		t.Errorf("%d results, want 40 (10 per address)", got)
	}
}
