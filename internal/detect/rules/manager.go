// Package rules runs detection rules in the detection stage: it loads the
// embedded SigmaHQ pack and the user's rule folders, applies enable/disable
// filters and tuning exceptions, reloads on change without dropping events,
// evaluates every event (concurrently over a batch), and turns matches into
// alerts.
package rules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/detect/sigma"
	"github.com/vigil-soc/vigil/internal/detect/sigma/correlation"
	"github.com/vigil-soc/vigil/internal/rulepack"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Manager owns the loaded rule set and is the Sigma detector.
type Manager struct {
	// cfgMu guards cfg.Disable, which SetEnabled changes at run time.
	cfgMu sync.Mutex
	cfg   Config
	log   *slog.Logger
	cur   atomic.Pointer[ruleSet]

	mu         sync.Mutex
	hits       map[string]int64 // by rule id
	suppressed map[string]int64 // by rule id
}

var _ detect.Detector = (*Manager)(nil)

// ruleSet is one loaded generation of rules.
type ruleSet struct {
	engine   *sigma.Engine
	byID     map[string]*sigma.Rule
	errors   []sigma.LoadError
	disabled int
	loaded   time.Time
	stamp    string // fingerprint of the rule folders, for reload checks
	except   map[string][]compiledException
	corr     *correlation.Engine // nil without correlation rules
}

// Status summarises the loaded rules.
type Status struct {
	Loaded     int               `json:"loaded"`
	Disabled   int               `json:"disabled"`
	Unrouted   int               `json:"unrouted"`
	Errors     []sigma.LoadError `json:"errors"`
	LoadedAt   time.Time         `json:"loaded_at"`
	Hits       map[string]int64  `json:"hits"`
	Suppressed map[string]int64  `json:"suppressed"`
}

// NewManager loads the rules. Load errors of single rules are reported in
// Status, not returned; an error means nothing usable could be built.
func NewManager(cfg Config, log *slog.Logger) (*Manager, error) {
	m := &Manager{cfg: cfg, log: log, hits: map[string]int64{}, suppressed: map[string]int64{}}
	rs, err := m.load()
	if err != nil {
		return nil, err
	}
	m.cur.Store(rs)
	return m, nil
}

// Name returns "sigma".
func (m *Manager) Name() string { return "sigma" }

// load builds a new generation from the configured sources.
func (m *Manager) load() (*ruleSet, error) {
	mapping, err := sigma.DefaultMapping()
	if err != nil {
		return nil, err
	}
	for _, d := range m.cfg.MappingDirs {
		if err := mapping.AddFS(os.DirFS(d), "."); err != nil {
			return nil, fmt.Errorf("rules: mapping %s: %w", d, err)
		}
	}
	opts := sigma.LoadOptions{Placeholders: m.cfg.Placeholders}
	var all []*sigma.Rule
	var corrs []*correlation.Rule
	var errs []sigma.LoadError
	var srcs []ruleFS
	if m.cfg.Builtin {
		srcs = append(srcs, ruleFS{rulepack.SigmaHQ(), "rules", "sigmahq/"})
	}
	for _, d := range m.cfg.Dirs {
		srcs = append(srcs, ruleFS{os.DirFS(d), ".", filepath.Clean(d) + "/"})
	}
	for _, src := range srcs {
		set, e := sigma.LoadDir(src.fsys, src.root, opts)
		for i := range e {
			e[i].File = src.prefix + e[i].File
		}
		errs = append(errs, e...)
		for _, r := range set.Rules {
			r.Path = src.prefix + r.Path
			all = append(all, r)
		}
		for _, c := range set.Correlations {
			c.File = src.prefix + c.File
			corrs = append(corrs, c)
		}
	}
	rs := &ruleSet{byID: map[string]*sigma.Rule{}, errors: errs, loaded: time.Now().UTC(), stamp: m.stamp()}
	disable := m.disableFilter()
	var enabled []*sigma.Rule
	for _, r := range all {
		if disable.Matches(r) {
			rs.disabled++
			continue
		}
		enabled = append(enabled, r)
		rs.byID[r.ID] = r
	}
	if rs.engine, err = sigma.NewEngine(enabled, mapping); err != nil {
		return nil, err
	}
	if rs.except, err = compileExceptions(m.cfg.Exceptions, rs.byID); err != nil {
		return nil, err
	}
	var cerrs []sigma.LoadError
	rs.corr, cerrs = loadCorrelations(corrs, enabled, disable)
	rs.errors = append(rs.errors, cerrs...)
	return rs, nil
}

// disableFilter returns the rules disabled now (configuration and
// runtime changes).
func (m *Manager) disableFilter() Filter {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	f := m.cfg.Disable
	f.IDs = slices.Clone(f.IDs)
	return f
}

// SetEnabled enables or disables one rule by id and reloads the rules.
// Rules disabled by tag, level or path stay disabled.
func (m *Manager) SetEnabled(id string, enabled bool) error {
	m.cfgMu.Lock()
	ids := slices.DeleteFunc(slices.Clone(m.cfg.Disable.IDs), func(s string) bool { return s == id })
	if !enabled {
		ids = append(ids, id)
	}
	m.cfg.Disable.IDs = ids
	m.cfgMu.Unlock()
	return m.Reload()
}

// DisabledIDs returns the ids of rules disabled by id.
func (m *Manager) DisabledIDs() []string { return m.disableFilter().IDs }

// Reload loads the rules again and swaps them in atomically; events being
// evaluated finish on the old set. On failure the old set stays.
func (m *Manager) Reload() error {
	rs, err := m.load()
	if err != nil {
		return err
	}
	m.cur.Store(rs)
	m.log.Info("rules reloaded", "rules", len(rs.byID), "errors", len(rs.errors), "disabled", rs.disabled)
	return nil
}

// stamp fingerprints the user rule folders (names, sizes, times).
func (m *Manager) stamp() string {
	var b []byte
	for _, d := range m.cfg.Dirs {
		_ = filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			if info, err := de.Info(); err == nil {
				b = fmt.Appendf(b, "%s|%d|%d\n", p, info.Size(), info.ModTime().UnixNano())
			}
			return nil
		})
	}
	return string(b)
}

// WatchOnce reloads when the rule folders changed since the last load.
func (m *Manager) WatchOnce() error {
	if m.stamp() == m.cur.Load().stamp {
		return nil
	}
	return m.Reload()
}

// Status returns counts, load errors and hit counts.
func (m *Manager) Status() Status {
	rs := m.cur.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Loaded: len(rs.byID), Disabled: rs.disabled, Unrouted: len(rs.engine.Unrouted()),
		Errors: rs.errors, LoadedAt: rs.loaded, Hits: map[string]int64{}, Suppressed: map[string]int64{}}
	for k, v := range m.hits {
		st.Hits[k] = v
	}
	for k, v := range m.suppressed {
		st.Suppressed[k] = v
	}
	return st
}

// Rules returns the enabled rules, sorted by path.
func (m *Manager) Rules() []*sigma.Rule {
	rs := m.cur.Load()
	out := make([]*sigma.Rule, 0, len(rs.byID))
	for _, r := range rs.byID {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// match is one rule matching one event of a batch.
type match struct {
	idx  int
	rule *sigma.Rule
}

// Detect evaluates every event of evs, concurrently over chunks of the
// batch, and emits alerts in event order.
func (m *Manager) Detect(evs []schema.Event, emit func(schema.Alert)) {
	rs := m.cur.Load()
	matches := evaluate(rs.engine, evs)
	now := time.Now()
	var hits, supp []string
	for _, mt := range matches {
		ev := &evs[mt.idx]
		if x := rs.suppressing(mt.rule.ID, ev, now); x != nil {
			supp = append(supp, mt.rule.ID)
			continue
		}
		hits = append(hits, mt.rule.ID)
		if rs.correlate(mt.rule, ev, emit) {
			emit(AlertFor(mt.rule, ev))
		}
	}
	m.count(hits, supp)
}

func (m *Manager) count(hits, supp []string) {
	if len(hits) == 0 && len(supp) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range hits {
		m.hits[id]++
	}
	for _, id := range supp {
		m.suppressed[id]++
	}
}

// evaluate runs the engine over evs on up to GOMAXPROCS goroutines and
// returns the matches ordered by event.
func evaluate(e *sigma.Engine, evs []schema.Event) []match {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(evs)/256))
	parts := make([][]match, workers)
	var wg sync.WaitGroup
	chunk := (len(evs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(len(evs), (w+1)*chunk)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				e.Match(&evs[i], func(r *sigma.Rule) { parts[w] = append(parts[w], match{idx: i, rule: r}) })
			}
		}(w, lo, hi)
	}
	wg.Wait()
	var out []match
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ErrUnknownRule is returned for an exception naming a rule that is not
// loaded.
var ErrUnknownRule = errors.New("rules: exception for a rule that is not loaded")

// Run checks the rule folders for changes every ReloadInterval and reloads
// them, until ctx ends. A reload that fails keeps the running rules.
func (m *Manager) Run(ctx context.Context) error {
	if m.cfg.ReloadInterval <= 0 || len(m.cfg.Dirs) == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(m.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := m.WatchOnce(); err != nil {
				m.log.Error("rules reload failed; keeping the running rules", "err", err)
			}
		}
	}
}
