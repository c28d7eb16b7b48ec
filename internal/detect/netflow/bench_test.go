package netflow_test

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/detect/netflow"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/simulate/netsim"
)

// benchCorpus returns two generated days of Zeek records (JSON and log
// type) for the benchmarks.
func benchCorpus(b *testing.B) []netsim.Record {
	b.Helper()
	g, err := netsim.New(netsim.Options{Seed: 3, Days: 2, Hosts: 60, AttackDay: 1})
	if err != nil {
		b.Fatal(err)
	}
	var out []netsim.Record
	for {
		r, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, r.Clone())
	}
}

func benchEngine(b *testing.B) *netflowEngine {
	b.Helper()
	eng, err := node.NewNetworkEngine(config.Default().Network, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkAnalytics measures all analyzers (and the prevalence tracker)
// per record, on records already normalised. The corpus is replayed with
// its times shifted by its span each round, so windows keep closing.
func BenchmarkAnalytics(b *testing.B) {
	corpus := benchCorpus(b)
	var m zeek.Mapper
	recs := make([]flow.Record, 0, len(corpus))
	for _, c := range corpus {
		var ev schema.Event
		if err := m.Map(c.JSON, c.Log, c.Time, &ev); err != nil {
			b.Fatal(err)
		}
		var r flow.Record
		if flow.FromEvent(&ev, &r) {
			recs = append(recs, r)
		}
	}
	span := recs[len(recs)-1].Start.Sub(recs[0].Start) + time.Hour
	e := benchEngine(b)
	emit := func(schema.Alert) {}
	b.ReportAllocs()
	b.ResetTimer()
	var shift time.Duration
	for i := 0; i < b.N; i++ {
		j := i % len(recs)
		if j == 0 && i > 0 {
			shift += span
		}
		r := recs[j]
		r.Start, r.End = r.Start.Add(shift), r.End.Add(shift)
		e.ObserveRecord(&r)
		if j%512 == 511 {
			e.Flush(emit)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkZeekToAlerts measures the whole path a Zeek JSON record takes
// through detection: parse and normalise (zeek mapper), flow view, all
// analytics and phase two.
func BenchmarkZeekToAlerts(b *testing.B) {
	corpus := benchCorpus(b)
	e := benchEngine(b)
	var m zeek.Mapper
	batch := make([]schema.Event, 512)
	emit := func(schema.Alert) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		n := 0
		for ; n < len(batch) && i < b.N; n, i = n+1, i+1 {
			c := corpus[i%len(corpus)]
			batch[n] = schema.Event{}
			if err := m.Map(c.JSON, c.Log, c.Time, &batch[n]); err != nil {
				b.Fatal(err)
			}
		}
		e.Detect(batch[:n], emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

type netflowEngine = netflow.Engine
