package sigma

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
)

// corpusSeed and corpusSize fix the benchmark corpus.
const (
	corpusSeed = 20260302
	corpusSize = 20000
)

// allRulesEngine loads every SigmaHQ rule (rules/, rules-emerging-threats/,
// rules-threat-hunting/) into an engine with the default mapping.
func allRulesEngine(b *testing.B) (*Engine, *RuleSet, string) {
	b.Helper()
	root := sigmaRoot(b)
	all, _ := loadRuleDirs(b, root)
	mapping, err := DefaultMapping()
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(all.Rules, mapping)
	if err != nil {
		b.Fatal(err)
	}
	return e, all, root
}

// BenchmarkMatch evaluates every loaded SigmaHQ rule on single event sets
// and reports events per second:
//   - regression: SigmaHQ's 238 regression events, all malicious, mostly
//     Sysmon process creation, file and registry events;
//   - benign-process: an everyday Sysmon process creation (notepad opening
//     a file) from Winlogbeat, routed to every process_creation rule.
func BenchmarkMatch(b *testing.B) {
	e, _, root := allRulesEngine(b)
	var regression []schema.Event
	for _, c := range readRegressionIndex(b, root) {
		regression = append(regression, readJSONEvents(b, filepath.Join(root, c.jsonPath))...)
	}
	wb, err := os.ReadFile(filepath.Join("..", "..", "parse", "winlog", "testdata", "winlogbeat_sysmon1.json"))
	if err != nil {
		b.Fatal(err)
	}
	benign := make([]schema.Event, 1)
	if err := winlog.MapWinlogbeat(wb, time.Time{}, &benign[0]); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		evs  []schema.Event
	}{{"regression", regression}, {"benign-process", benign}} {
		b.Run(bc.name, func(b *testing.B) {
			benchVigil(b, e, bc.evs)
		})
	}
}

// benchVigil times Match over evs (after one untimed pass that compiles the
// routes) and reports events/s, allocations and matches per event.
func benchVigil(b *testing.B, e *Engine, evs []schema.Event) float64 {
	b.Helper()
	matches := 0
	count := func(*Rule) { matches++ }
	for i := range evs {
		e.Match(&evs[i], count)
	}
	matches = 0
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		e.Match(&evs[n%len(evs)], count)
		n++
	}
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(matches)/float64(n), "matches/event")
	return rate
}

// BenchmarkCorpus is the bar: every loaded SigmaHQ rule (all of
// rules/, rules-emerging-threats/ and rules-threat-hunting/; the Windows
// ones apply to this corpus) evaluated per core over the generated mixed
// corpus of Windows events (see corpus_test.go), mapped by the Winlogbeat
// mapper, of which a few percent match. The same run evaluates
// github.com/bradleyjkemp/sigma-go on the rules it can load, on the same
// events (given to it as maps of the fields the rules read, under the
// rules' own field names, built before timing) with the same logsource
// routing, and reports the ratio of the two rates.
func BenchmarkCorpus(b *testing.B) {
	e, all, root := allRulesEngine(b)
	c := generateCorpus(b, corpusSeed, corpusSize)
	matched, total, attacks := corpusMatchStats(e, c)
	b.Logf("corpus: %d events, %d attacker events (%.1f%%); %d events (%.2f%%) fire %d rule matches; %d rules loaded",
		len(c.events), attacks, 100*float64(attacks)/float64(len(c.events)), matched,
		100*float64(matched)/float64(len(c.events)), total, len(all.Rules))
	var vigilRate float64
	b.Run("vigil", func(b *testing.B) {
		vigilRate = benchVigil(b, e, c.events)
		b.ReportMetric(100*float64(matched)/float64(len(c.events)), "%matched")
		b.ReportMetric(float64(len(all.Rules)), "rules")
	})
	// The same events without Winlogbeat's rendered message, as EVTX
	// imports carry them: keywords then search the field values only.
	noMessage := slices.Clone(c.events)
	for i := range noMessage {
		noMessage[i].Message = ""
	}
	b.Run("vigil-no-message", func(b *testing.B) { benchVigil(b, e, noMessage) })
	sg := newSigmaGoBench(b, e, all, root, c.events)
	b.Run("sigma-go", func(b *testing.B) {
		rate := sg.run(b)
		if vigilRate > 0 && rate > 0 {
			b.ReportMetric(vigilRate/rate, "x-vigil/sigma-go")
			b.Logf("Vigil %.0f events/s, sigma-go %.0f events/s: Vigil is %.0f times faster", vigilRate, rate, vigilRate/rate)
		}
	})
}

// corpusMatchStats counts the events with a match, all matches, and the
// attacker events.
func corpusMatchStats(e *Engine, c *benchCorpus) (matched, total, attacks int) {
	for i := range c.events {
		n := 0
		e.Match(&c.events[i], func(*Rule) { n++ })
		total += n
		if n > 0 {
			matched++
		}
		if c.malicious[i] {
			attacks++
		}
	}
	return matched, total, attacks
}

// sigmaGoBench holds sigma-go's evaluators and, per event, the evaluators
// of the event's logsources and the event as a map.
type sigmaGoBench struct {
	perEvent [][]*evaluator.RuleEvaluator
	maps     []map[string]any
	loaded   int
}

// newSigmaGoBench parses the rule files of the loaded rules with sigma-go
// and prepares the events.
func newSigmaGoBench(b *testing.B, e *Engine, all *RuleSet, root string, evs []schema.Event) *sigmaGoBench {
	b.Helper()
	byID := map[string]*evaluator.RuleEvaluator{}
	failed := 0
	for _, r := range all.Rules {
		data, err := os.ReadFile(filepath.Join(root, r.Path))
		if err != nil {
			b.Fatal(err)
		}
		sr, err := sigmago.ParseRule(data)
		if err != nil || sr.ID != r.ID {
			failed++
			continue
		}
		byID[r.ID] = evaluator.ForRule(sr)
	}
	sg := &sigmaGoBench{loaded: len(byID)}
	b.Logf("sigma-go v0.6.6 parsed %d of %d rules (%d failed)", len(byID), len(all.Rules), failed)
	st := newEvalState(e)
	for i := range evs {
		st.begin(&evs[i])
		m := map[string]any{}
		var rules []*evaluator.RuleEvaluator
		if rt := e.routeOf(st); rt != nil {
			for _, rr := range rt.rules {
				st.fields = rr.fields
				for fi, name := range rr.rule.det.fields {
					if s, ok := st.field(fi); ok {
						m[name] = st.slot[s].val
					}
				}
				if ev, ok := byID[rr.rule.ID]; ok {
					rules = append(rules, ev)
				}
			}
		}
		st.end()
		sg.perEvent = append(sg.perEvent, rules)
		sg.maps = append(sg.maps, m)
	}
	return sg
}

// run times sigma-go over the events.
func (sg *sigmaGoBench) run(b *testing.B) float64 {
	ctx := context.Background()
	matches, errs := 0, 0
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := n % len(sg.maps)
		for _, r := range sg.perEvent[i] {
			res, err := r.Matches(ctx, sg.maps[i])
			if err != nil {
				errs++
			} else if res.Match {
				matches++
			}
		}
		n++
	}
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(matches)/float64(n), "matches/event")
	b.ReportMetric(float64(errs)/float64(n), "errors/event")
	b.ReportMetric(float64(sg.loaded), "rules")
	return rate
}
