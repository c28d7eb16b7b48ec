package rules

import (
	"io/fs"

	"github.com/vigil-soc/vigil/internal/detect/sigma"
	"github.com/vigil-soc/vigil/internal/detect/sigma/correlation"
	"github.com/vigil-soc/vigil/internal/schema"
)

// ruleFS is one place rules are loaded from.
type ruleFS struct {
	fsys         fs.FS
	root, prefix string
}

// loadCorrelations builds the correlation engine of the correlation rules
// the Sigma loader parsed (less the disabled ones) over the enabled
// detection rules. It returns nil when there are none.
func loadCorrelations(parsed []*correlation.Rule, enabled []*sigma.Rule, disable Filter) (*correlation.Engine, []sigma.LoadError) {
	var rules []*correlation.Rule
	for _, r := range parsed {
		if !disable.Matches(&sigma.Rule{ID: r.ID, Level: r.Level, Tags: r.Tags, Path: r.File}) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, nil
	}
	base := make([]correlation.RuleRef, 0, len(enabled))
	for _, r := range enabled {
		base = append(base, correlation.RuleRef{ID: r.ID, Name: r.Name})
	}
	return correlation.NewEngine(rules, correlation.Options{BaseRules: base})
}

// correlate feeds one detection match to the correlation engine and
// reports whether the detection rule raises its own alert.
func (rs *ruleSet) correlate(r *sigma.Rule, ev *schema.Event, emit func(schema.Alert)) bool {
	if rs.corr == nil {
		return true
	}
	rs.corr.Observe(correlation.Match{RuleID: r.ID, RuleName: r.Name, Time: ev.Timestamp, Event: ev},
		func(res correlation.Result) {
			if res.Intermediate {
				return
			}
			a := res.Alert()
			a.Status = schema.StatusNew
			emit(a)
		})
	return rs.corr.Generates(correlation.RuleRef{ID: r.ID, Name: r.Name})
}

// CorrelationStats returns the correlation engine's state size, or zero
// when no correlation rules are loaded.
func (m *Manager) CorrelationStats() correlation.Stats {
	if rs := m.cur.Load(); rs.corr != nil {
		return rs.corr.Stats()
	}
	return correlation.Stats{}
}
