package intel

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the threat-intel counters and gauges.
type Metrics struct {
	indicators *prometheus.GaugeVec
	build      prometheus.Gauge
	fetches    *prometheus.CounterVec
	hits       *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		indicators: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_intel_indicators",
			Help: "Active threat-intel indicators in the matcher, by type."}, []string{"type"}),
		build: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_intel_matcher_build_seconds",
			Help: "How long the last matcher build took."}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_intel_fetches_total",
			Help: "Threat-intel source fetches, by source and result (ok, error)."}, []string{"source", "result"}),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_intel_hits_total",
			Help: "Events and flows that matched an indicator, by source and whether found by retro-hunt."},
			[]string{"source", "retro"}),
	}
	if reg != nil {
		reg.MustRegister(m.indicators, m.build, m.fetches, m.hits)
	}
	return m
}

func (m *Metrics) setMatcher(mt *Matcher, took time.Duration) {
	m.indicators.Reset()
	for t, n := range mt.Counts() {
		m.indicators.WithLabelValues(string(t)).Set(float64(n))
	}
	m.build.Set(took.Seconds())
}

func (m *Metrics) fetched(source string, ok bool) {
	r := "ok"
	if !ok {
		r = "error"
	}
	m.fetches.WithLabelValues(source, r).Inc()
}

func (m *Metrics) hit(source string, retro bool) {
	if m == nil {
		return
	}
	r := "false"
	if retro {
		r = "true"
	}
	m.hits.WithLabelValues(source, r).Inc()
}
