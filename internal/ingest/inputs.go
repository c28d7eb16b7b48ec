package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// InputMetrics count what every input received, accepted and rejected.
// Inputs share one InputMetrics, labelled by input name.
type InputMetrics struct {
	Received *prometheus.CounterVec // records seen, by input
	Accepted *prometheus.CounterVec // events made durable, by input
	Rejected *prometheus.CounterVec // records rejected, by input and reason
	Refused  *prometheus.CounterVec // requests refused for backpressure, by input
}

// NewInputMetrics creates the input metrics and registers them with reg.
func NewInputMetrics(reg prometheus.Registerer) *InputMetrics {
	m := &InputMetrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_events_received_total",
			Help: "Records received, by input."}, []string{"input"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_events_accepted_total",
			Help: "Events made durable in the ingest log, by input."}, []string{"input"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_events_rejected_total",
			Help: "Records rejected as malformed, by input and reason."}, []string{"input", "reason"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_ingest_refused_total",
			Help: "Requests or batches refused because consumers were behind, by input."}, []string{"input"}),
	}
	reg.MustRegister(m.Received, m.Accepted, m.Rejected, m.Refused)
	return m
}

// CountingRecorder counts rejects in the input metrics and passes them on.
type CountingRecorder struct {
	Next    RejectRecorder
	Metrics *InputMetrics
}

var _ RejectRecorder = (*CountingRecorder)(nil)

// Record counts r and forwards it.
func (c *CountingRecorder) Record(r Reject) {
	c.Metrics.Rejected.WithLabelValues(r.Input, r.Reason).Inc()
	if c.Next != nil {
		c.Next.Record(r)
	}
}
