package intel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Store keeps sources' status and indicators (statedb implements it).
type Store interface {
	RecordIntelFetch(ctx context.Context, f Fetched) (added int, err error)
	IntelSources(ctx context.Context) ([]SourceStatus, error)
	IntelMatchable(ctx context.Context, fn func(in *Indicator, lastSeen time.Time)) error
}

// Hunter searches stored events for indicators not yet hunted (RetroHunt).
type Hunter interface {
	Hunt(ctx context.Context) (alerts int, err error)
}

// SourceConfig is one configured source and its schedule.
type SourceConfig struct {
	Name, Kind string
	// Interval is the time between fetches.
	Interval time.Duration
	// Decay ages out indicators without an expiry: their confidence falls
	// linearly to zero over Decay after the feed last listed them (0: no
	// decay).
	Decay  time.Duration
	Source Source
}

// Manager polls the configured sources on their schedules, records what
// they deliver, keeps the matcher current and starts retro-hunts for new
// indicators.
type Manager struct {
	store   Store
	sources []SourceConfig
	hunter  Hunter
	log     *slog.Logger
	metrics *Metrics
	// decays holds every decay known, by source name, including sources
	// no longer configured (their indicators stay until withdrawn).
	decays  map[string]time.Duration
	matcher atomic.Pointer[Matcher]
	rebuild chan struct{}
	hunt    chan struct{}
	// pending counts rebuilds and hunts asked for and not yet finished.
	pending atomic.Int32
	mu      sync.Mutex // serialises rebuilds
}

// Busy reports whether a matcher rebuild or a retro-hunt is running or
// waiting to run.
func (m *Manager) Busy() bool { return m.pending.Load() > 0 }

// NewManager returns a manager; hunter may be nil (no retro-hunt).
func NewManager(store Store, sources []SourceConfig, hunter Hunter, metrics *Metrics, log *slog.Logger) *Manager {
	m := &Manager{store: store, sources: sources, hunter: hunter, log: log, metrics: metrics,
		decays: map[string]time.Duration{}, rebuild: make(chan struct{}, 1), hunt: make(chan struct{}, 1)}
	for _, s := range sources {
		m.decays[s.Name] = s.Decay
	}
	m.matcher.Store(NewBuilder().Build())
	return m
}

// Matcher returns the current matcher (never nil).
func (m *Manager) Matcher() *Matcher { return m.matcher.Load() }

// Load builds the matcher from the stored indicators.
func (m *Manager) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	b := NewBuilder()
	for name, d := range m.decays {
		b.AddSource(SourceInfo{Name: name, Decay: d})
	}
	if err := m.store.IntelMatchable(ctx, func(in *Indicator, seen time.Time) { b.Add(in, seen) }); err != nil {
		return fmt.Errorf("intel: load indicators: %w", err)
	}
	mt := b.Build()
	m.matcher.Store(mt)
	if m.metrics != nil {
		m.metrics.setMatcher(mt, time.Since(start))
	}
	m.log.Info("threat intel matcher built", "indicators", mt.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run fetches every source on its schedule until ctx ends, rebuilding the
// matcher after changes and retro-hunting new indicators.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range m.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.poll(ctx, s)
		}()
	}
	m.kick(m.hunt) // indicators a previous run did not finish hunting
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-m.rebuild:
			if err := m.Load(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("threat intel matcher rebuild failed", "err", err)
			}
			m.pending.Add(-1)
		case <-m.hunt:
			m.runHunt(ctx)
			m.pending.Add(-1)
		}
	}
}

func (m *Manager) kick(c chan struct{}) {
	m.pending.Add(1)
	select {
	case c <- struct{}{}:
	default:
		m.pending.Add(-1) // one is waiting already
	}
}

func (m *Manager) runHunt(ctx context.Context) {
	if m.hunter == nil {
		return
	}
	n, err := m.hunter.Hunt(ctx)
	if err != nil && ctx.Err() == nil {
		m.log.Warn("threat intel retro-hunt failed", "err", err)
		return
	}
	if n > 0 {
		m.log.Info("threat intel retro-hunt raised alerts", "alerts", n)
	}
}

// poll fetches s now when it is due (by its stored last success) and then
// every Interval.
func (m *Manager) poll(ctx context.Context, s SourceConfig) {
	cursor, wait := "", time.Duration(0)
	if st, ok := m.status(ctx, s.Name); ok {
		cursor = st.Cursor
		if !st.LastSuccess.IsZero() && st.Failures == 0 {
			wait = max(0, s.Interval-time.Since(st.LastSuccess))
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cursor = m.fetch(ctx, s, cursor)
		t.Reset(s.Interval)
	}
}

func (m *Manager) status(ctx context.Context, name string) (SourceStatus, bool) {
	all, err := m.store.IntelSources(ctx)
	if err != nil {
		return SourceStatus{}, false
	}
	for _, st := range all {
		if st.Name == name {
			return st, true
		}
	}
	return SourceStatus{}, false
}

// fetch runs one fetch of s and records it; it returns the cursor to use
// next.
func (m *Manager) fetch(ctx context.Context, s SourceConfig, cursor string) string {
	b, err := s.Source.Fetch(ctx, cursor)
	if ctx.Err() != nil {
		return cursor
	}
	added, rerr := m.Record(ctx, s.Name, s.Kind, b, err)
	if rerr != nil {
		m.log.Warn("threat intel source failed", "source", s.Name, "err", rerr)
		return cursor
	}
	m.log.Info("threat intel source fetched", "source", s.Name, "indicators", len(b.Indicators), "new", added,
		"problems", len(b.Problems))
	if b.Cursor != "" {
		return b.Cursor
	}
	return cursor
}

// Record stores one fetch (or a one-off import) of source and, when it
// changed anything, rebuilds the matcher and starts a retro-hunt. A fetch
// error is recorded in the source's status and returned.
func (m *Manager) Record(ctx context.Context, source, kind string, b Batch, fetchErr error) (added int, err error) {
	added, err = m.storeFetch(ctx, source, kind, b, fetchErr)
	if err != nil {
		return added, err
	}
	if len(b.Indicators) > 0 || b.Full {
		m.kick(m.rebuild)
	}
	if added > 0 {
		m.kick(m.hunt)
	}
	return added, nil
}

// Import records a one-off file's indicators as source, then rebuilds the
// matcher and retro-hunts at once (not in the background, as Record has
// Run do), so the caller learns what the hunt raised.
func (m *Manager) Import(ctx context.Context, source, kind string, b Batch) (added, alerts int, err error) {
	if added, err = m.storeFetch(ctx, source, kind, b, nil); err != nil {
		return added, 0, err
	}
	alerts, err = m.Refresh(ctx)
	return added, alerts, err
}

// store1 records one fetch or import and counts it in the metrics.
func (m *Manager) storeFetch(ctx context.Context, source, kind string, b Batch, fetchErr error) (int, error) {
	for i := range b.Indicators {
		b.Indicators[i].Source = source
	}
	added, err := m.store.RecordIntelFetch(ctx, Fetched{Source: source, Kind: kind, At: time.Now().UTC(), Err: fetchErr, Batch: b})
	if m.metrics != nil {
		m.metrics.fetched(source, fetchErr == nil && err == nil)
	}
	if err != nil {
		return added, err
	}
	if fetchErr != nil {
		return 0, fetchErr
	}
	return added, nil
}

// Refresh rebuilds the matcher now and runs a retro-hunt, for one-off
// imports outside Run.
func (m *Manager) Refresh(ctx context.Context) (alerts int, err error) {
	if err := m.Load(ctx); err != nil {
		return 0, err
	}
	if m.hunter == nil {
		return 0, nil
	}
	return m.hunter.Hunt(ctx)
}

// ErrNoSource is returned for a source name that is not configured.
var ErrNoSource = errors.New("intel: no such source")

// Status returns every configured or stored source's status, configured
// sources first in configuration order.
func (m *Manager) Status(ctx context.Context) ([]SourceStatus, error) {
	stored, err := m.store.IntelSources(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]SourceStatus{}
	for _, s := range stored {
		byName[s.Name] = s
	}
	var out []SourceStatus
	for _, s := range m.sources {
		st, ok := byName[s.Name]
		if !ok {
			st = SourceStatus{Name: s.Name, Kind: s.Kind}
		}
		delete(byName, s.Name)
		out = append(out, st)
	}
	for _, s := range stored {
		if _, ok := byName[s.Name]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}
