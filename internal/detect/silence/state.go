package silence

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// stateVersion is bumped when the saved layout changes incompatibly.
const stateVersion = 1

// saved is the snapshot SaveState writes.
type saved struct {
	Version int
	State   state
}

// SaveState returns the detector's learned state.
func (d *Detector) SaveState() ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(saved{Version: stateVersion, State: d.st}); err != nil {
		return nil, fmt.Errorf("silence: save state: %w", err)
	}
	return b.Bytes(), nil
}

// LoadState replaces the detector's state with one SaveState wrote.
func (d *Detector) LoadState(data []byte) error {
	var sv saved
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&sv); err != nil {
		return fmt.Errorf("silence: load state: %w", err)
	}
	if sv.Version != stateVersion {
		return fmt.Errorf("silence: load state: version %d, want %d", sv.Version, stateVersion)
	}
	st := newState()
	for k, s := range sv.State.Sources {
		st.Sources[k] = s
	}
	for k, e := range sv.State.Errors {
		st.Errors[k] = e
	}
	for k, n := range sv.State.Alerts {
		st.Alerts[k] = n
	}
	st.Watermark, st.NextSweep = sv.State.Watermark, sv.State.NextSweep
	for k, t := range sv.State.InputWM {
		st.InputWM[k] = t
	}
	for k, t := range sv.State.InputSweep {
		st.InputSweep[k] = t
	}
	st.Suppressed, st.Untracked, st.Evicted = sv.State.Suppressed, sv.State.Untracked, sv.State.Evicted
	d.mu.Lock()
	d.st = st
	d.mu.Unlock()
	return nil
}

// Stats are the detector's figures.
type Stats struct {
	Sources, Live int
	// Silent, Dropped and Erroring count open episodes.
	Silent, Dropped, Erroring int
	// Alerts counts alerts raised by rule, recoveries included.
	Alerts                         map[string]int64
	Suppressed, Untracked, Evicted int64
}

// Stats returns the detector's current figures.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Stats{Sources: len(d.st.Sources), Alerts: map[string]int64{}, Suppressed: d.st.Suppressed,
		Untracked: d.st.Untracked, Evicted: d.st.Evicted}
	for k, n := range d.st.Alerts {
		st.Alerts[k] = n
	}
	for _, s := range d.st.Sources {
		if s.Live {
			st.Live++
		}
		if s.Silent.Open {
			st.Silent++
		}
		if s.Drop.Open {
			st.Dropped++
		}
	}
	for _, e := range d.st.Errors {
		if e.Ep.Open {
			st.Erroring++
		}
	}
	return st
}

var (
	descSources = prometheus.NewDesc("vigil_silence_sources", "Log sources the silence detector tracks.",
		nil, nil)
	descOpen = prometheus.NewDesc("vigil_silence_open_episodes",
		"Open episodes of silent, dropped or erroring sources (suppressed ones included).", []string{"kind"}, nil)
	descAlerts = prometheus.NewDesc("vigil_silence_alerts_total",
		"Silence detector alerts by rule, recoveries included.", []string{"rule"}, nil)
	descSuppressed = prometheus.NewDesc("vigil_silence_suppressed_total",
		"Episodes suppressed by maintenance windows.", nil, nil)
	descUntracked = prometheus.NewDesc("vigil_silence_untracked_total",
		"Events of sources beyond the tracking cap.", nil, nil)
)

var _ prometheus.Collector = (*Detector)(nil)

// Describe implements prometheus.Collector.
func (d *Detector) Describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{descSources, descOpen, descAlerts, descSuppressed, descUntracked} {
		ch <- x
	}
}

// Collect implements prometheus.Collector.
func (d *Detector) Collect(ch chan<- prometheus.Metric) {
	st := d.Stats()
	ch <- prometheus.MustNewConstMetric(descSources, prometheus.GaugeValue, float64(st.Sources))
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(st.Silent), "silent")
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(st.Dropped), "volume_drop")
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(st.Erroring), "parse_errors")
	for _, r := range []string{RuleSilent, RuleVolumeDrop, RuleParseErrors} {
		ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.CounterValue, float64(st.Alerts[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descSuppressed, prometheus.CounterValue, float64(st.Suppressed))
	ch <- prometheus.MustNewConstMetric(descUntracked, prometheus.CounterValue, float64(st.Untracked))
}
