package flowcollect

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports a collector's counters and per-exporter statistics to
// Prometheus, read when scraped.
type metrics struct {
	c                                                       *Collector
	received, queueDropped, accepted, lost, malformed, supp *prometheus.Desc
	exporters                                               *prometheus.Desc
	expPackets, expFlows, expBytes, expMalformed            *prometheus.Desc
	expMissing, expDrops, expRate                           *prometheus.Desc
}

// RegisterMetrics registers the collector's metrics with reg: totals
// (vigil_flow_*_total) and, per exporter address, packets, flows, bytes,
// malformed packets, data sets without template and dropped, and the
// sampling rate seen. The number of exporters is bounded by
// DecoderConfig.MaxExporters.
func (c *Collector) RegisterMetrics(reg prometheus.Registerer) error {
	exp := []string{"exporter"}
	m := &metrics{
		c:            c,
		received:     prometheus.NewDesc("vigil_flow_datagrams_received_total", "Flow datagrams received (NetFlow, IPFIX, sFlow).", nil, nil),
		queueDropped: prometheus.NewDesc("vigil_flow_datagrams_dropped_total", "Flow datagrams dropped because the decode queue was full.", nil, nil),
		accepted:     prometheus.NewDesc("vigil_flow_events_accepted_total", "Flow events made durable.", nil, nil),
		lost:         prometheus.NewDesc("vigil_flow_events_lost_total", "Decoded flow events abandoned at shutdown.", nil, nil),
		malformed:    prometheus.NewDesc("vigil_flow_datagrams_malformed_total", "Flow datagrams with a malformed part.", nil, nil),
		supp:         prometheus.NewDesc("vigil_flow_rejects_suppressed_total", "Flow problems counted but not sent to the dead-letter table (rate limit).", nil, nil),
		exporters:    prometheus.NewDesc("vigil_flow_exporters", "Flow exporters tracked.", nil, nil),
		expPackets:   prometheus.NewDesc("vigil_flow_exporter_packets_total", "Datagrams decoded, by exporter.", exp, nil),
		expFlows:     prometheus.NewDesc("vigil_flow_exporter_flows_total", "Flow events produced, by exporter.", exp, nil),
		expBytes:     prometheus.NewDesc("vigil_flow_exporter_bytes_total", "Datagram bytes decoded, by exporter.", exp, nil),
		expMalformed: prometheus.NewDesc("vigil_flow_exporter_malformed_total", "Malformed datagrams, by exporter.", exp, nil),
		expMissing:   prometheus.NewDesc("vigil_flow_exporter_missing_template_total", "Data sets that arrived before their template, by exporter.", exp, nil),
		expDrops:     prometheus.NewDesc("vigil_flow_exporter_template_drops_total", "Data sets dropped because their template never arrived, by exporter.", exp, nil),
		expRate:      prometheus.NewDesc("vigil_flow_exporter_sampling_rate", "Latest sampling interval applied, by exporter.", exp, nil),
	}
	return reg.Register(m)
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.received, m.queueDropped, m.accepted, m.lost, m.malformed, m.supp,
		m.exporters, m.expPackets, m.expFlows, m.expBytes, m.expMalformed, m.expMissing, m.expDrops, m.expRate} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	n := m.c.Counters()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(m.received, n.Received)
	counter(m.queueDropped, n.QueueDropped)
	counter(m.accepted, n.Accepted)
	counter(m.lost, n.Lost)
	counter(m.malformed, n.Malformed)
	counter(m.supp, n.RejectsSuppressed)
	stats := m.c.Stats()
	ch <- prometheus.MustNewConstMetric(m.exporters, prometheus.GaugeValue, float64(len(stats)))
	for _, s := range stats {
		ip := s.Exporter.String()
		counter(m.expPackets, s.Packets, ip)
		counter(m.expFlows, s.Flows, ip)
		counter(m.expBytes, s.Bytes, ip)
		counter(m.expMalformed, s.Malformed, ip)
		counter(m.expMissing, s.MissingTemplate, ip)
		counter(m.expDrops, s.TemplateDrops, ip)
		ch <- prometheus.MustNewConstMetric(m.expRate, prometheus.GaugeValue, float64(s.SamplingRate), ip)
	}
}
