package sigma

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/winlog"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// ruleDirs returns the SigmaHQ rule folders Vigil loads as a whole.
func ruleDirs() []string { return []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} }

// sigmaRoot returns the shared SigmaHQ copy, or skips the test.
func sigmaRoot(t testing.TB) string {
	t.Helper()
	return filepath.Dir(shareddata.Path(t, "sigma/REGRESSION_INDEX.csv"))
}

// loadRuleDirs loads every rule of SigmaHQ's rule folders.
func loadRuleDirs(t testing.TB, root string) (*RuleSet, []LoadError) {
	t.Helper()
	all := &RuleSet{}
	var errs []LoadError
	fsys := os.DirFS(root)
	for _, d := range ruleDirs() {
		set, e := LoadDir(fsys, d, LoadOptions{})
		all.Rules = append(all.Rules, set.Rules...)
		all.Correlations = append(all.Correlations, set.Correlations...)
		errs = append(errs, e...)
	}
	return all, errs
}

// regressionCase is one row of REGRESSION_INDEX.csv.
type regressionCase struct {
	rulePath, ruleID, evtxPath, jsonPath string
	minMatches                           int
}

func readRegressionIndex(t testing.TB, root string) []regressionCase {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "REGRESSION_INDEX.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []regressionCase
	for _, r := range recs[1:] {
		c := regressionCase{rulePath: r[0], ruleID: r[1], evtxPath: r[8], jsonPath: r[9], minMatches: 1}
		if r[10] != "" {
			if c.minMatches, err = strconv.Atoi(r[10]); err != nil {
				t.Fatalf("match_count %q: %v", r[10], err)
			}
		}
		out = append(out, c)
	}
	return out
}

// sampleReceived is the receive time given to sample events.
const sampleReceivedUnix = 1767323045

// readJSONEvents maps an evtx_dump-style JSON file.
func readJSONEvents(t testing.TB, path string) []schema.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := winlog.SplitJSONObjects(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var m winlog.Mapper
	evs := make([]schema.Event, len(objs))
	for i, o := range objs {
		if err := m.MapEvtxJSON(o, time.Unix(sampleReceivedUnix, 0).UTC(), &evs[i]); err != nil {
			t.Fatalf("%s object %d: %v", path, i, err)
		}
	}
	return evs
}

// readEVTXEvents maps an .evtx file.
func readEVTXEvents(t testing.TB, path string) []schema.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []schema.Event
	err = winlog.ReadEVTX(context.Background(), f, time.Unix(sampleReceivedUnix, 0).UTC(), func(ev *schema.Event) error {
		evs = append(evs, *ev)
		return nil
	}, func(err error) { t.Errorf("%s: rejected record: %v", path, err) })
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs
}

// countMatches counts the events on which rule id fires.
func countMatches(e *Engine, evs []schema.Event, id string) int {
	n := 0
	for i := range evs {
		e.Match(&evs[i], func(r *Rule) {
			if r.ID == id {
				n++
			}
		})
	}
	return n
}
