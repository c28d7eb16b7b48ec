package newtalker

import (
	"runtime"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// BenchmarkObserve measures Observe per record in steady state, after
// learning: records of ten routine days, replayed with their times moved on
// each pass, 15% of them touching a sensitive asset.
func BenchmarkObserve(b *testing.B) {
	g := &gen{}
	routine(g, 10)
	for i := range 100_000 { // traffic between workstations and the internet
		at := t0.Add(time.Duration(i) * 10 * 24 * time.Hour / 100_000)
		g.add(at, ws(i%200), netipFrom(198, 18, byte(i/256%4), byte(i)), 443, tcp, flow.StateEstablished)
	}
	sortRecs(g.recs)
	recs := g.recs
	a := newAnalyzer(b, testConfig())
	emit := func(flow.Signal) {}
	shift := time.Duration(0)
	pass := func(n int) {
		for i := 0; i < n; i++ {
			r := &recs[i%len(recs)]
			if i%len(recs) == 0 && i > 0 {
				shift += 10 * 24 * time.Hour
			}
			r.Start, r.End = r.Start.Add(shift), r.End.Add(shift)
			a.Observe(r)
			r.Start, r.End = r.Start.Add(-shift), r.End.Add(-shift)
			if i%1000 == 999 {
				a.Advance(r.Start, emit)
			}
		}
	}
	pass(len(recs))
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
	st := a.Stats()
	b.ReportMetric(float64(st.Entities["pairs"]), "pairs")
}

// BenchmarkPairMemory measures the heap one remembered pair costs: the
// figure behind pairBytes.
func BenchmarkPairMemory(b *testing.B) {
	c := testConfig()
	c.MaxPairsPerAsset = 1 << 20
	for range b.N {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		a := newAnalyzer(b, c)
		var r flow.Record
		for i := range 200_000 {
			r = flow.Record{Kind: flow.KindFlow, Start: t0, End: t0, Src: netipFrom(10, 1, byte(i>>8), byte(i)),
				Dst: db, SrcPort: 50000, DstPort: 5432, Proto: tcp, State: flow.StateEstablished}
			a.Observe(&r)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := a.Stats().Entities["pairs"]
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/pair")
		runtime.KeepAlive(a)
	}
}
