// Package silence detects log sources (host × input) that went silent,
// dropped in volume or started failing to parse.
//
// Every source learns its cadence, a time-weighted log-scale histogram of
// the gaps between its events, and its hourly volume, an EWMA per hour of
// week where the week shows variation and over all hours otherwise. A
// source is silent once no event came for max(K × its p99 gap, Floor); its
// volume dropped when an hour closes far below that hour's baseline.
//
// The detector works in two clocks over one state. In event time, the
// detection stage feeds it every event: the watermark of each input (the
// newest event time seen of that kind of log, kept apart for live and for
// imported events) is the clock, so an import of last week's logs raises
// what live ingest would have. A source is judged by how far the
// watermark of its input moved since its last event arrived, so a source
// whose events arrive behind the others (two imports of different weeks at
// once) does not look silent, and neither does a whole kind of log when
// another is replayed ahead of it (a sensor's ten days of history sent at
// once). A source alone of its kind is therefore judged in wall time only.
// In wall time, the
// node calls CheckWall every few seconds with the source table's counters:
// a live source that stops raises its alert even though no event arrives,
// and parse-error rate jumps are read from the counters. Each episode is
// one alert (one dedup key per source and rule); when the source comes
// back the alert is emitted again with how long it was silent, so the
// grouped alert records the recovery.
package silence

import (
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Rule ids of the alerts.
const (
	RuleSilent      = "vigil.silence.silent"
	RuleVolumeDrop  = "vigil.silence.volume_drop"
	RuleParseErrors = "vigil.silence.parse_errors"
)

// unknownName stands in for an empty host or input, as in the sources
// table.
const unknownName = "unknown"

// Detector is the silent-source detector. It is safe for concurrent use:
// the detection stage calls Detect while the node's loop calls CheckWall.
type Detector struct {
	o      Options
	assets risk.AssetLookup
	step   time.Duration // event time between two sweeps

	mu sync.Mutex
	st state
}

// state is everything the detector learns; SaveState writes it.
type state struct {
	// Watermark is the newest event time seen, kept apart for imported
	// (0) and live (1) events: an import of last month's logs followed by
	// live ingest is not a month of silence of the imported sources.
	Watermark [2]time.Time
	NextSweep [2]time.Time
	// InputWM is the newest event time per clock class and input: a
	// source is judged against the sources of its own input, so a fast
	// replay of one kind of log (ten days of Zeek history) does not make
	// the sources of another look silent.
	InputWM map[string]time.Time
	// InputSweep is when the sources of each class and input are judged
	// next (their input's watermark passing it).
	InputSweep map[string]time.Time
	Sources    map[string]*source
	Errors     map[string]*errStat
	// Counters for metrics.
	Alerts     map[string]int64 // by rule, recoveries included
	Suppressed int64
	Untracked  int64
	Evicted    int64
}

// source is one host × input.
type source struct {
	Host, Input string
	// First and Last are the earliest and latest event times; InRefWM is
	// the watermark of its input when Last arrived (at least Last);
	// LastRecv its receipt.
	First, Last, InRefWM, LastRecv time.Time
	Live                           bool
	Events                         int64
	Criticality                    string // from enrichment, when the lookup has none
	Cad                            cadence
	Vol                            volume
	Silent                         episode
	Drop                           episode
}

// episode is an open silence, volume drop or error-rate jump.
type episode struct {
	Open, Alerted, Suppressed bool
	// Since is when it began (the last event of a silence, the first low
	// hour of a drop); Hours counts the low hours of a drop.
	Since    time.Time
	Hours    int
	Baseline float64
	Current  float64
}

var (
	_ detect.Detector = (*Detector)(nil)
	_ detect.Stateful = (*Detector)(nil)
)

// New returns a detector. assets (may be nil) sets severity from the
// source host's criticality.
func New(o Options, assets risk.AssetLookup) *Detector {
	o = o.withDefaults()
	return &Detector{o: o, assets: assets, step: max(time.Second, o.Floor/4), st: newState()}
}

func newState() state {
	return state{Sources: map[string]*source{}, Errors: map[string]*errStat{}, Alerts: map[string]int64{},
		InputWM: map[string]time.Time{}, InputSweep: map[string]time.Time{}}
}

// Name returns "silence".
func (d *Detector) Name() string { return "silence" }

// Detect learns from evs in event time and judges every source as the
// watermark advances.
func (d *Detector) Detect(evs []schema.Event, emit func(schema.Alert)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range evs {
		c := d.observe(&evs[i], emit)
		ik := inputKey(c, evs[i].Input)
		if wm := d.st.InputWM[ik]; !wm.IsZero() && !wm.Before(d.st.InputSweep[ik]) {
			d.sweep(c, normInput(evs[i].Input), d.st.Watermark[c], emit)
			d.st.InputSweep[ik] = wm.Add(d.step)
		}
	}
}

// sourceKey returns the key and the normalised host and input of ev's
// source.
func sourceKey(host, input string) (string, string, string) {
	if host == "" {
		host = unknownName
	}
	if input == "" {
		input = unknownName
	}
	return host + "\x00" + input, host, input
}

// observe learns one event and returns its clock class (1: live).
func (d *Detector) observe(ev *schema.Event, emit func(schema.Alert)) int {
	ts := ev.Timestamp
	if ts.IsZero() {
		ts = ev.Received
	}
	live := isLive(ts, ev.Received, d.o.LiveSkew)
	c := classOf(live)
	if ts.IsZero() {
		return c
	}
	ik := inputKey(c, ev.Input)
	inBefore := d.st.InputWM[ik]
	// An event dated in the future of its receipt (a wrong clock) does not
	// move the watermark: it would make every other source look silent.
	if ev.Received.IsZero() || !ts.After(ev.Received.Add(d.o.LiveSkew)) {
		if ts.After(inBefore) {
			d.st.InputWM[ik] = ts
		}
		if ts.After(d.st.Watermark[c]) {
			d.st.Watermark[c] = ts
		}
	}
	s := d.source(ev.SourceHost(), ev.Input)
	if s == nil {
		return c
	}
	if crit := ev.Host.Asset.Criticality; crit != "" {
		s.Criticality = crit
	}
	s.Events++
	if s.Events == 1 {
		s.First, s.Last, s.InRefWM, s.LastRecv, s.Live = ts, ts, later(inBefore, ts), ev.Received, live
		s.Vol.Hour, s.Vol.Count = unixHour(ts), 1
		return c
	}
	if ts.Before(s.Last) {
		if unixHour(ts) == s.Vol.Hour {
			s.Vol.Count++
		}
		return c
	}
	// Close the hours first: while a silence is open they are not learned.
	d.closeHours(s, unixHour(ts), emit)
	if s.Silent.Open {
		if s.Silent.Alerted {
			emit(d.recovered(s, ts))
		}
		s.Silent = episode{}
	} else {
		s.Cad.add(ts.Sub(s.Last))
	}
	s.Vol.Count++
	s.Last, s.InRefWM, s.LastRecv, s.Live = ts, later(inBefore, ts), ev.Received, live
	return c
}

// inputKey keys the watermark of one clock class and input.
func inputKey(c int, input string) string { return string(rune('0'+c)) + normInput(input) }

// normInput names an empty input as sources do.
func normInput(input string) string {
	if input == "" {
		return unknownName
	}
	return input
}

// classOf returns the watermark index of live or imported events.
func classOf(live bool) int {
	if live {
		return 1
	}
	return 0
}

// source returns the state of a source, creating it; nil when the cap is
// reached.
func (d *Detector) source(host, input string) *source {
	k, host, input := sourceKey(host, input)
	if s := d.st.Sources[k]; s != nil {
		return s
	}
	if len(d.st.Sources) >= d.o.MaxSources {
		d.st.Untracked++
		return nil
	}
	s := &source{Host: host, Input: input}
	d.st.Sources[k] = s
	return s
}

func isLive(ts, recv time.Time, skew time.Duration) bool {
	if recv.IsZero() {
		return false
	}
	diff := recv.Sub(ts)
	return diff <= skew && diff >= -skew
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ready reports whether a source has history enough to be judged silent.
func (d *Detector) ready(s *source) bool {
	return s.Events >= int64(d.o.MinEvents) && s.Last.Sub(s.First) >= d.o.MinHistory && s.Cad.Total > 0
}

// threshold returns how long a source may stay quiet.
func (d *Detector) threshold(s *source) time.Duration {
	p99 := s.Cad.quantile(0.99)
	return max(time.Duration(d.o.K*float64(p99)), d.o.Floor)
}

// Watermark returns the newest event time seen of live or imported
// events.
func (d *Detector) Watermark(live bool) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.Watermark[classOf(live)]
}
