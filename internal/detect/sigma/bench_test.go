package sigma

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
)

// BenchmarkMatch evaluates every loaded SigmaHQ rule (rules/,
// rules-emerging-threats/, rules-threat-hunting/; about 2,800 of them are
// Windows rules) on Windows events and reports events per second:
//   - regression: SigmaHQ's 238 regression events, all malicious, mostly
//     Sysmon process creation, file and registry events;
//   - benign-process: an everyday Sysmon process creation (notepad opening
//     a file), which every process_creation rule is evaluated on.
func BenchmarkMatch(b *testing.B) {
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
			matches := 0
			count := func(*Rule) { matches++ }
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				e.Match(&bc.evs[n%len(bc.evs)], count)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(matches)/float64(n), "matches/event")
		})
	}
}
