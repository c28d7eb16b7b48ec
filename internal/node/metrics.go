package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerListenerMetrics exports the syslog listeners' and the dead-letter
// writer's own counters.
func (n *Node) registerListenerMetrics() {
	if n.Syslog != nil {
		s := n.Syslog
		counter := func(name, help string, f func() uint64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
				func() float64 { return float64(f()) })
		}
		n.Reg.MustRegister(
			counter("vigil_syslog_received_total", "Syslog messages received (frames and datagrams).",
				func() uint64 { return s.Stats().Received }),
			counter("vigil_syslog_accepted_total", "Syslog events made durable.",
				func() uint64 { return s.Stats().Accepted }),
			counter("vigil_syslog_rejected_total", "Syslog messages rejected for framing or parsing.",
				func() uint64 { return s.Stats().Rejected }),
			counter("vigil_syslog_udp_dropped_total", "UDP datagrams dropped because the queue was full.",
				func() uint64 { return s.Stats().UDPDropped }),
			counter("vigil_syslog_lost_total", "Parsed syslog events abandoned at shutdown.",
				func() uint64 { return s.Stats().Lost }),
			counter("vigil_syslog_refused_connections_total", "TCP/TLS connections refused at the connection limit.",
				func() uint64 { return s.Stats().Refused }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_syslog_connections",
				Help: "Open syslog TCP/TLS connections."}, func() float64 { return float64(s.Stats().Connections) }),
		)
	}
	if n.Rules != nil {
		r := n.Rules
		gauge := func(name, help string, f func() float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
		}
		n.Reg.MustRegister(
			gauge("vigil_rules_loaded", "Detection rules loaded and enabled.", func() float64 { return float64(r.Status().Loaded) }),
			gauge("vigil_rules_load_errors", "Rules that failed to load.", func() float64 { return float64(len(r.Status().Errors)) }),
			gauge("vigil_correlation_groups", "Correlation windows (rule x group) held in memory.",
				func() float64 { return float64(r.CorrelationStats().Groups) }),
			gauge("vigil_correlation_state_bytes", "Approximate memory held by correlation windows.",
				func() float64 { return float64(r.CorrelationStats().Bytes) }),
		)
	}
	n.Reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigil_deadletters_dropped_total",
		Help: "Rejected records counted but not kept because the dead-letter queue was full."},
		func() float64 { return float64(n.Rejects.Dropped()) }))
}
