package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegressionConformance runs SigmaHQ's regression samples: every rule
// with a regression test must fire at least match_count times on its
// sample, from the evtx_dump JSON twin and from the .evtx file, both with
// only that rule loaded and with every rule of rules/,
// rules-emerging-threats/ and rules-threat-hunting/ loaded.
func TestRegressionConformance(t *testing.T) {
	t.Parallel()
	root := sigmaRoot(t)
	cases := readRegressionIndex(t, root)
	mapping, err := DefaultMapping()
	if err != nil {
		t.Fatal(err)
	}
	all, _ := loadRuleDirs(t, root)
	allEngine, err := NewEngine(all.Rules, mapping)
	if err != nil {
		t.Fatal(err)
	}
	pass := 0
	var failures []string
	for _, c := range cases {
		msg := runRegressionCase(t, root, c, mapping, allEngine)
		if msg == "" {
			pass++
			continue
		}
		failures = append(failures, msg)
	}
	t.Logf("SigmaHQ regression conformance: %d/%d samples fire their rule from JSON and EVTX, alone and with all %d rules loaded",
		pass, len(cases), len(all.Rules))
	if len(cases) != 202 {
		t.Errorf("the index lists %d samples; the manifest says 202", len(cases))
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// runRegressionCase runs one sample and returns what failed, or "".
func runRegressionCase(t *testing.T, root string, c regressionCase, mapping *Mapping, allEngine *Engine) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, c.rulePath))
	if err != nil {
		t.Fatal(err)
	}
	loaded, errs := LoadFile(c.rulePath, data, LoadOptions{})
	rules := loaded.Rules
	if len(errs) > 0 || len(rules) != 1 {
		return fmt.Sprintf("%s: loaded %d rules, errors %v", c.rulePath, len(rules), errs)
	}
	single, err := NewEngine(rules, mapping)
	if err != nil {
		return fmt.Sprintf("%s: %v", c.rulePath, err)
	}
	if len(single.Unrouted()) > 0 {
		return fmt.Sprintf("%s: logsource %s has no mapping", c.rulePath, rules[0].Logsource)
	}
	jsonEvs := readJSONEvents(t, filepath.Join(root, c.jsonPath))
	evtxEvs := readEVTXEvents(t, filepath.Join(root, c.evtxPath))
	counts := []int{
		countMatches(single, jsonEvs, c.ruleID), countMatches(single, evtxEvs, c.ruleID),
		countMatches(allEngine, jsonEvs, c.ruleID), countMatches(allEngine, evtxEvs, c.ruleID),
	}
	for _, n := range counts {
		if n < c.minMatches {
			return fmt.Sprintf("%s: matches (json, evtx, json with all rules, evtx with all rules) = %v, want at least %d of %d/%d events",
				c.rulePath, counts, c.minMatches, len(jsonEvs), len(evtxEvs))
		}
	}
	return ""
}

// TestLoadSigmaHQ loads every rule of SigmaHQ's rule folders and reports
// how many loaded and why the others did not, grouped by reason.
func TestLoadSigmaHQ(t *testing.T) {
	t.Parallel()
	root := sigmaRoot(t)
	set, errs := loadRuleDirs(t, root)
	mapping, err := DefaultMapping()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(set.Rules, mapping)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string][]string{}
	for _, le := range errs {
		groups[reasonGroup(le.Reason)] = append(groups[reasonGroup(le.Reason)], le.Error())
	}
	windows := 0
	for _, r := range set.Rules {
		if r.Logsource.Product == "windows" {
			windows++
		}
	}
	t.Logf("SigmaHQ rules: %d loaded (%d product windows), %d failed, %d correlation rules; %d loaded rules have no logsource mapping",
		len(set.Rules), windows, len(errs), len(set.Correlations), len(e.Unrouted()))
	for g, list := range groups {
		t.Logf("  %d failed: %s", len(list), g)
		for _, l := range list {
			t.Logf("    %s", l)
		}
	}
	unrouted := map[string]int{}
	for _, r := range e.Unrouted() {
		unrouted[r.Logsource.String()]++
	}
	t.Logf("  unrouted logsources: %v", unrouted)
	if len(set.Rules) < 3600 {
		t.Errorf("only %d rules loaded", len(set.Rules))
	}
}

// reasonGroup shortens a load error to its kind for grouping.
func reasonGroup(reason string) string {
	for _, k := range []string{"placeholder", "lookaround", "backreference", "unknown modifier", "invalid YAML"} {
		if strings.Contains(reason, k) {
			return k
		}
	}
	if i := strings.IndexByte(reason, ':'); i > 0 && i < 60 {
		return reason[:i]
	}
	return reason
}
