package netflow

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Options construct an Engine.
type Options struct {
	// Internal are the internal networks.
	Internal *flow.Set
	// Analyzers are the phase-one analytics, fed in this order.
	Analyzers []flow.Analyzer
	// Prevalence is shared by the analyzers and phase two; the engine
	// feeds it before the analyzers.
	Prevalence *flow.Prevalence
	// Lateness is how far behind the newest event time a record may still
	// arrive; windows close at newest − Lateness.
	Lateness time.Duration
	// Assets, AdminHosts, AdminPorts and Hours are phase-two context.
	Assets     map[netip.Addr]Asset
	AdminHosts *flow.Set
	AdminPorts []uint16
	Hours      Hours
	// Intel and HostAlerts are optional context sources.
	Intel      Intel
	HostAlerts HostAlerts
	Log        *slog.Logger
}

// Engine runs the network analytics over events as a detect.Detector: it
// reads each event's flow view, feeds the analyzers in event time, and
// turns their signals into alerts with context. It is stateful
// (detect.Stateful): baselines and windows survive restarts.
type Engine struct {
	opt     Options
	p2      *phaseTwo
	rec     flow.Record
	newest  time.Time // newest event time seen
	mark    time.Time // last watermark handed to the analyzers
	prevDay int64     // day of the last prevalence sweep
	records int64
	signals map[string]int64
	pending []flow.Signal // signals of the current flush
	flushes int64

	// mu guards what Stats and the metrics read from other goroutines.
	mu    sync.Mutex
	stats map[string]flow.Stats
}

var (
	_ detect.Detector = (*Engine)(nil)
	_ detect.Stateful = (*Engine)(nil)
)

// New returns an engine.
func New(o Options) *Engine {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Prevalence == nil {
		o.Prevalence = flow.NewPrevalence(7, 64)
	}
	ports := map[uint16]bool{}
	for _, p := range o.AdminPorts {
		ports[p] = true
	}
	return &Engine{opt: o, signals: map[string]int64{}, stats: map[string]flow.Stats{},
		p2: &phaseTwo{internal: o.Internal, assets: o.Assets, adminHosts: o.AdminHosts, adminPorts: ports,
			hours: o.Hours, prev: o.Prevalence, intel: o.Intel, hostAlerts: o.HostAlerts,
			recent: map[netip.Addr][]recentAlert{}, fleet: map[string]int{}}}
}

// Name returns "network".
func (e *Engine) Name() string { return "network" }

// Detect feeds the flow views of evs to the analyzers, then closes the
// windows the batch moved past and emits their alerts.
func (e *Engine) Detect(evs []schema.Event, emit func(schema.Alert)) {
	for i := range evs {
		e.Observe(&evs[i])
	}
	e.Flush(emit)
}

// Observe feeds one event; it reports whether the event had a flow view.
func (e *Engine) Observe(ev *schema.Event) bool {
	r := &e.rec
	if !flow.FromEvent(ev, r) {
		return false
	}
	e.ObserveRecord(r)
	return true
}

// ObserveRecord feeds one record (benchmarks and callers that already hold
// records use it directly).
func (e *Engine) ObserveRecord(r *flow.Record) {
	e.records++
	if r.Start.After(e.newest) {
		e.newest = r.Start
	}
	if e.opt.Internal.Contains(r.Src) && !e.opt.Internal.Contains(r.Dst) && r.Kind != flow.KindDNS {
		e.opt.Prevalence.Observe(r.Src, r.Dst, r.Name, r.Start)
	} else if r.Kind == flow.KindDNS && r.Name != "" && !r.Answer && e.opt.Internal.Contains(r.Src) {
		e.opt.Prevalence.Observe(r.Src, netip.Addr{}, r.Name, r.Start)
	}
	for _, a := range e.opt.Analyzers {
		a.Observe(r)
	}
}

// Flush moves the watermark to the newest event time minus the allowed
// lateness and emits the alerts of the windows that closed.
func (e *Engine) Flush(emit func(schema.Alert)) {
	if e.newest.IsZero() {
		return
	}
	mark := e.newest.Add(-e.opt.Lateness)
	if !mark.After(e.mark) {
		return
	}
	e.mark = mark
	if day := mark.Unix() / 86400; day != e.prevDay {
		e.prevDay = day
		e.opt.Prevalence.Advance(mark)
	}
	e.pending = e.pending[:0]
	for _, a := range e.opt.Analyzers {
		a.Advance(mark, func(s flow.Signal) { e.pending = append(e.pending, s) })
	}
	// Phase two sees the flush's signals together, so a deviation many
	// hosts share in the same hour reads as a fleet-wide change.
	clear(e.p2.fleet)
	for _, s := range e.pending {
		if s.Kind == flow.SignalBaseline && e.opt.Internal.Contains(s.Host) && !strings.HasPrefix(s.Title, "subnet ") {
			e.p2.fleet[fleetKey(s)]++
		}
	}
	for _, s := range e.pending {
		e.signals[s.Kind]++
		emit(e.p2.alert(s))
	}
	e.p2.forget(mark)
	// Sizes are for metrics; walking every pair on every flush would cost
	// more than the analytics themselves.
	if e.flushes++; e.flushes%statsEvery == 1 {
		e.refreshStats()
	}
}

// statsEvery is how many flushes pass between refreshes of the sizes the
// metrics report.
const statsEvery = 256

func (e *Engine) refreshStats() {
	st := make(map[string]flow.Stats, len(e.opt.Analyzers)+1)
	for _, a := range e.opt.Analyzers {
		st[a.Name()] = a.Stats()
	}
	d, h, b := e.opt.Prevalence.Size()
	st["prevalence"] = flow.Stats{Entities: map[string]int{"destinations": d, "hosts": h}, Bytes: b}
	e.mu.Lock()
	e.stats = st
	e.mu.Unlock()
}

// Stats returns each analyzer's size as of the last flush.
func (e *Engine) Stats() map[string]flow.Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Analyzer returns the analyzer named name, or nil.
func (e *Engine) Analyzer(name string) flow.Analyzer {
	for _, a := range e.opt.Analyzers {
		if a.Name() == name {
			return a
		}
	}
	return nil
}

type engineState struct {
	Newest, Mark time.Time
	Records      int64
	Prevalence   []byte
	Analyzers    map[string][]byte
	// Recent is phase two's memory of the engine's own alerts per host.
	Recent map[netip.Addr][]RecentAlert
}

// RecentAlert is a saved entry of phase two's corroboration memory.
type RecentAlert struct {
	Kind string
	At   time.Time
}

// SaveState saves the watermark, the prevalence tracker and every
// analyzer's state.
func (e *Engine) SaveState() ([]byte, error) {
	st := engineState{Newest: e.newest, Mark: e.mark, Records: e.records, Analyzers: map[string][]byte{},
		Recent: map[netip.Addr][]RecentAlert{}}
	for h, rs := range e.p2.recent {
		for _, r := range rs {
			st.Recent[h] = append(st.Recent[h], RecentAlert{Kind: r.kind, At: r.at})
		}
	}
	var err error
	if st.Prevalence, err = e.opt.Prevalence.MarshalBinary(); err != nil {
		return nil, err
	}
	for _, a := range e.opt.Analyzers {
		b, err := a.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("network: save %s: %w", a.Name(), err)
		}
		st.Analyzers[a.Name()] = b
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		return nil, fmt.Errorf("network: save state: %w", err)
	}
	return buf.Bytes(), nil
}

// LoadState restores state saved by SaveState. Analyzers without saved
// state (added since) start empty.
func (e *Engine) LoadState(data []byte) error {
	var st engineState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return fmt.Errorf("network: load state: %w", err)
	}
	if err := e.opt.Prevalence.UnmarshalBinary(st.Prevalence); err != nil {
		return err
	}
	for _, a := range e.opt.Analyzers {
		if b, ok := st.Analyzers[a.Name()]; ok {
			if err := a.UnmarshalBinary(b); err != nil {
				return fmt.Errorf("network: load %s: %w", a.Name(), err)
			}
		}
	}
	e.newest, e.mark, e.records = st.Newest, st.Mark, st.Records
	e.prevDay = e.mark.Unix() / 86400
	clear(e.p2.recent)
	for h, rs := range st.Recent {
		for _, r := range rs {
			e.p2.recent[h] = append(e.p2.recent[h], recentAlert{kind: r.Kind, at: r.At})
		}
	}
	return nil
}

// Collector returns Prometheus metrics for the engine: records analysed,
// signals by kind, tracked entities and memory by analyzer.
func (e *Engine) Collector() prometheus.Collector { return &collector{e: e} }

type collector struct{ e *Engine }

var (
	descEntities = prometheus.NewDesc("vigil_network_tracked_entities",
		"Keys (hosts, pairs, domains) tracked by each network analyzer.", []string{"analyzer", "kind"}, nil)
	descBytes = prometheus.NewDesc("vigil_network_state_bytes",
		"Estimated memory held by each network analyzer.", []string{"analyzer"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEntities
	ch <- descBytes
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for name, st := range c.e.Stats() {
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes), name)
		for k, n := range st.Entities {
			ch <- prometheus.MustNewConstMetric(descEntities, prometheus.GaugeValue, float64(n), name, k)
		}
	}
}
