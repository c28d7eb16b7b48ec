package scan

import (
	"runtime"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// steadyTraffic returns ten minutes of records from 2,000 internal hosts,
// each talking to its own set of 40 destinations, 5% of attempts failing,
// plus a horizontal scan: the mix an analyzer sees all day.
func steadyTraffic() []flow.Record {
	g := &gen{rnd: 3}
	const hosts, perHost, n = 2000, 40, 200_000
	for i := range n {
		at := t0.Add(time.Duration(i) * 10 * time.Minute / n)
		h := int(g.next() % hosts)
		d := int(g.next() % perHost)
		st := est
		if g.next()%20 == 0 {
			st = att
		}
		g.conn(at, nth("10.0.0.1", h), nth("198.18.0.1", h*7+d), []uint16{443, 80, 53, 445}[d%4], tcp, st)
	}
	for i := range 2000 {
		g.conn(t0.Add(time.Duration(i)*300*time.Millisecond), addr("203.0.113.9"), nth("10.0.0.1", i), 22, tcp, att)
	}
	sortRecs(g.recs)
	return g.recs
}

// benchAnalyzer measures Observe per record in steady state: the records
// are replayed with their times moved on by ten minutes each pass, and
// Advance runs every 1,000 records as the engine would.
func benchAnalyzer(b *testing.B, an flow.Analyzer) {
	recs := steadyTraffic()
	emit := func(flow.Signal) {}
	const span = 10 * time.Minute
	// Warm up: two passes build the state.
	var shift time.Duration
	pass := func(n int) {
		for i := 0; i < n; i++ {
			r := &recs[i%len(recs)]
			if i%len(recs) == 0 && i > 0 {
				shift += span
			}
			r.Start, r.End = r.Start.Add(shift), r.End.Add(shift)
			an.Observe(r)
			r.Start, r.End = r.Start.Add(-shift), r.End.Add(-shift)
			if i%1000 == 999 {
				an.Advance(r.Start.Add(shift-lateness), emit)
			}
		}
	}
	pass(2 * len(recs))
	shift += span
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	pass(b.N)
	cpu = cpuTime() - cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/record")
	}
	st := an.Stats()
	for k, v := range st.Entities {
		b.ReportMetric(float64(v), k)
	}
}

func BenchmarkScanObserve(b *testing.B) { benchAnalyzer(b, newScan(b, nil)) }

func BenchmarkLongConnObserve(b *testing.B) {
	l, err := NewLongConn(DefaultLongConfig(), internalSet(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchAnalyzer(b, l)
}

// BenchmarkContactMemory measures the heap a tracked contact costs: the
// figure behind contactBytes.
func BenchmarkContactMemory(b *testing.B) {
	for range b.N {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		a := newScan(b, nil)
		g := &gen{}
		for s := range 1000 {
			for d := range 200 {
				g.conn(t0, nth("10.0.0.1", s), nth("198.18.0.1", d), 443, tcp, est)
			}
		}
		for i := range g.recs {
			a.Observe(&g.recs[i])
		}
		b.StopTimer()
		g.recs = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := a.Stats().Entities["contacts"]
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/contact")
		b.ReportMetric(float64(a.Stats().Bytes)/float64(n), "estimated-bytes/contact")
		runtime.KeepAlive(a)
	}
}
