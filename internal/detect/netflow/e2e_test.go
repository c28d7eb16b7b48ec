package netflow_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect/netflow"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/simulate/netsim"
)

// scenarioRun is one generated multi-day run pushed through the real Zeek
// mapper and the engine with the default configuration.
type scenarioRun struct {
	gen    *netsim.Generator
	alerts []schema.Alert // grouped by dedup key, as the alert store would
	events int
}

func runScenarios(t testing.TB, o netsim.Options, cut func(n int) bool) *scenarioRun {
	t.Helper()
	gen, err := netsim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Network
	for _, h := range gen.Network().Hosts {
		if h.Sensitive {
			cfg.Assets = append(cfg.Assets, config.AssetConfig{Address: h.IP.String(), Name: h.Name, Role: h.Role,
				Criticality: "high", Sensitive: true})
		}
		if h.Admin {
			cfg.AdminHosts = append(cfg.AdminHosts, h.IP.String())
		}
	}
	newEngine := func() *netflow.Engine {
		eng, err := node.NewNetworkEngine(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	eng := newEngine()
	run := &scenarioRun{gen: gen}
	byKey := map[string]int{}
	emit := func(a schema.Alert) {
		if i, ok := byKey[a.DedupKey]; ok {
			g := &run.alerts[i]
			g.Count++
			g.LastSeen = a.LastSeen
			if a.Severity > g.Severity {
				g.Severity, g.Priority = a.Severity, a.Priority
			}
			return
		}
		a.Count = 1
		byKey[a.DedupKey] = len(run.alerts)
		run.alerts = append(run.alerts, a)
	}
	var m zeek.Mapper
	batch := make([]schema.Event, 0, 512)
	flush := func() {
		eng.Detect(batch, emit)
		batch = batch[:0]
	}
	for {
		rec, ok := gen.Next()
		if !ok {
			break
		}
		batch = append(batch, schema.Event{})
		ev := &batch[len(batch)-1]
		if err := m.Map(rec.JSON, rec.Log, rec.Time, ev); err != nil {
			t.Fatalf("record %d does not map: %v", run.events, err)
		}
		ev.ID = uint64(run.events + 1)
		run.events++
		if len(batch) == cap(batch) {
			flush()
			if cut != nil && cut(run.events) {
				// Restart: save, build a fresh engine, restore.
				st, err := eng.SaveState()
				if err != nil {
					t.Fatal(err)
				}
				eng = newEngine()
				if err := eng.LoadState(st); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	flush()
	return run
}

// matches reports whether alert a is a detection of truth tr.
func matches(a *schema.Alert, tr *netsim.Truth) bool {
	if a.Kind != tr.Kind && !slices.Contains(tr.Also, a.Kind) {
		return false
	}
	ends := []string{a.SourceIP, a.DestinationIP}
	if ent, ok := strings.CutPrefix(a.Details["phase1.entity"], "subnet "); ok {
		// A subnet's deviation covers the hosts in it.
		p, err := netip.ParsePrefix(ent)
		return err == nil && tr.Src.IsValid() && p.Contains(tr.Src) && overlaps(a, tr)
	}
	if tr.Src.IsValid() && !slices.Contains(ends, tr.Src.String()) {
		return false
	}
	switch {
	case tr.Dst.IsValid() && a.DestinationIP != "" && a.DestinationIP != tr.Dst.String() && a.SourceIP != tr.Dst.String():
		if tr.Targets.IsValid() {
			if ip, err := netip.ParseAddr(a.DestinationIP); err == nil && tr.Targets.Contains(ip) {
				break
			}
		}
		return false
	case tr.Name != "" && a.DestinationDomain != "" && !strings.HasSuffix(a.DestinationDomain, tr.Name) &&
		!strings.HasSuffix(tr.Name, a.DestinationDomain):
		return false
	}
	return overlaps(a, tr)
}

// overlaps reports whether the alert's time span meets the truth's, with an
// hour's slack before and two after (windows close on the hour).
func overlaps(a *schema.Alert, tr *netsim.Truth) bool {
	return !a.LastSeen.Before(tr.Start.Add(-time.Hour)) && !a.FirstSeen.After(tr.End.Add(2*time.Hour))
}

// TestScenarios runs ten generated days and measures recall and precision
// of the injected scenarios, checks the beacon periods, and that no benign
// look-alike raises an alert of priority high or above.
func TestScenarios(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("multi-day scenario run skipped in -short mode and under -race (make test runs it without -race)")
	}
	t.Parallel()
	run := runScenarios(t, netsim.Options{Seed: 7}, nil)
	report(t, run)
}

func report(t *testing.T, run *scenarioRun) {
	t.Helper()
	truths := run.gen.Truth()
	found := 0
	for i := range truths {
		tr := &truths[i]
		var hit *schema.Alert
		for j := range run.alerts {
			if matches(&run.alerts[j], tr) {
				hit = &run.alerts[j]
				break
			}
		}
		if hit == nil {
			t.Errorf("missed %s (%s): %s", tr.Scenario, tr.Kind, tr.Description)
			continue
		}
		found++
		t.Logf("found  %-28s %-16s %-8s %s", tr.Scenario, hit.Kind, hit.Severity, hit.Title)
		if tr.Kind == "beacon" && tr.Period > 0 {
			checkPeriod(t, tr, run.alerts)
		}
	}
	benign := run.gen.Benign()
	high, tp := 0, 0
	for i := range run.alerts {
		a := &run.alerts[i]
		if a.Priority > 2 {
			continue
		}
		high++
		matched := false
		for j := range truths {
			if matches(a, &truths[j]) {
				matched = true
				break
			}
		}
		if matched {
			tp++
			continue
		}
		for j := range benign {
			if matches(a, &benign[j]) {
				t.Errorf("benign %s raised a %s alert: %s (%v)", benign[j].Scenario, a.Severity, a.Title, a.Details)
			}
		}
		t.Logf("unmatched high alert: %s %s %s", a.Kind, a.Severity, a.Title)
	}
	recall := float64(found) / float64(len(truths))
	precision := 1.0
	if high > 0 {
		precision = float64(tp) / float64(high)
	}
	t.Logf("events %d, alerts %d (high or above %d); recall %d/%d = %.2f; precision (high+) %d/%d = %.2f",
		run.events, len(run.alerts), high, found, len(truths), recall, tp, high, precision)
	if recall < 0.9 {
		t.Errorf("recall %.2f below 0.9", recall)
	}
	if precision < 0.8 {
		t.Errorf("precision of high alerts %.2f below 0.8", precision)
	}
}

// checkPeriod wants the period a beacon alert reports within 10% of the
// injected one.
func checkPeriod(t *testing.T, tr *netsim.Truth, alerts []schema.Alert) {
	t.Helper()
	for i := range alerts {
		a := &alerts[i]
		if a.Kind != "beacon" || !matches(a, tr) {
			continue
		}
		p, err := strconv.ParseFloat(a.Details["phase1.period_s"], 64)
		if err != nil {
			t.Errorf("beacon alert without a period: %v", a.Details)
			return
		}
		want := tr.Period.Seconds()
		if d := (p - want) / want; d < -0.1 || d > 0.1 {
			t.Errorf("%s: period %.1fs, injected %.1fs (%.0f%% off)", tr.Scenario, p, want, 100*d)
		}
		return
	}
}

// TestScenariosRestart cuts the same run into pieces with a save and
// restore of the engine state in between: the alerts must not change.
func TestScenariosRestart(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("multi-day scenario run skipped in -short mode and under -race (make test runs it without -race)")
	}
	t.Parallel()
	o := netsim.Options{Seed: 11, Days: 9, Hosts: 30, BrowseScale: 0.3}
	whole := runScenarios(t, o, nil)
	cut := runScenarios(t, o, func(n int) bool { return n%200_000 < 512 })
	if a, b := summary(whole.alerts), summary(cut.alerts); a != b {
		t.Errorf("alerts differ after restarts:\nwhole: %s\ncut:   %s", a, b)
	}
}

func summary(as []schema.Alert) string {
	var keys []string
	for _, a := range as {
		keys = append(keys, fmt.Sprintf("%s/%s/%d", a.DedupKey, a.Severity, a.Count))
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
