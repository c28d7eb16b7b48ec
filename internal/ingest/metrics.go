package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest log's Prometheus metrics.
type Metrics struct {
	QueueBytes     prometheus.Gauge
	QueueMessages  prometheus.Gauge
	AckLatency     prometheus.Histogram
	Consumed       *prometheus.CounterVec
	ConsumeSeconds *prometheus.HistogramVec
	ConsumeErrors  *prometheus.CounterVec
	CorruptBatches prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		QueueBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_ingest_queue_bytes",
			Help: "Bytes in the ingest log not yet acknowledged by every consumer."}),
		QueueMessages: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_ingest_queue_messages",
			Help: "Batches in the ingest log not yet acknowledged by every consumer."}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_ingest_ack_latency_seconds",
			Help:    "Time from submitting events until the ingest log stored them durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		Consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_consumer_events_total",
			Help: "Events processed and acknowledged by each consumer."}, []string{"consumer"}),
		ConsumeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_consumer_batch_seconds",
			Help: "Time a consumer spent on one call.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"consumer"}),
		ConsumeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_consumer_errors_total",
			Help: "Failed consumer calls (retried)."}, []string{"consumer"}),
		CorruptBatches: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_ingest_corrupt_batches_total",
			Help: "Ingest log messages that could not be decoded and were skipped."}),
	}
	reg.MustRegister(m.QueueBytes, m.QueueMessages, m.AckLatency, m.Consumed, m.ConsumeSeconds,
		m.ConsumeErrors, m.CorruptBatches)
	return m
}
