package correlation

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every rule it returns is
// one the engine accepts, and that every error names the file and a line.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/rules/*.yml", "testdata/bad/*.yml"} {
		files, _ := filepath.Glob(pattern)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("title: t\ncorrelation: {type: temporal, rules: [a, b], timespan: 1m, aliases: {x: &a {a: f}, y: *a}}"))
	f.Add([]byte("correlation: *x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := Parse("f.yml", data)
		for _, e := range errs {
			if e.File != "f.yml" || e.Reason == "" {
				t.Errorf("error without file or reason: %+v", e)
			}
		}
		for _, r := range rules {
			if r.Title == "" || !r.Type.valid() || len(r.Rules) == 0 || r.Timespan <= 0 || r.Timespan > MaxTimespan ||
				len(r.Condition.Bounds) == 0 || r.File != "f.yml" || r.Line < 1 {
				t.Errorf("invalid rule parsed: %+v", r)
			}
		}
		e, errs2 := NewEngine(rules, Options{})
		for _, err := range errs2 {
			if err.Line < 1 {
				t.Errorf("engine error without a line: %v", err)
			}
		}
		// Drive what was built a little: a match for every reference.
		for _, r := range e.Rules() {
			for i, ref := range r.Rules {
				e.Observe(Match{RuleID: ref, Time: base().Add(time.Duration(i) * time.Second)}, func(Result) {})
			}
		}
		e.Flush(func(Result) {})
	})
}
