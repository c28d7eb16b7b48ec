package beacon

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

func benchAnalyzer(b *testing.B, cfg Config) *Analyzer {
	b.Helper()
	internal, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(cfg, internal, flow.NewPrevalence(7, 64))
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// benchPair returns the source and destination of pair i of 10,000: 100
// hosts × 100 destinations.
func benchPair(i int) (netip.Addr, netip.Addr) {
	return netip.AddrFrom4([4]byte{10, 1, 0, byte(i % 100)}), netip.AddrFrom4([4]byte{203, 0, byte(i / 100 % 256), byte(i % 100)})
}

// BenchmarkObserve: the per-record cost in steady state, 10,000 pairs each
// connecting once a simulated minute, with Advance (not timed) every simulated
// minute.
func BenchmarkObserve(b *testing.B) {
	const pairs = 10000
	// A 2h window so that three simulated hours of warm-up reach the
	// steady state (buffers at their working size, old samples expiring).
	cfg := DefaultConfig()
	cfg.Window, cfg.Interval, cfg.DurationMin, cfg.DurationIdeal = 2*time.Hour, 10*time.Minute, time.Hour, time.Hour
	a := benchAnalyzer(b, cfg)
	// The engine reads every event into one reused Record, so the record
	// is hot in cache; so is it here.
	var r flow.Record
	base := t0
	step := func(n int) {
		i := n % pairs
		r = flow.Record{Kind: flow.KindFlow, EventID: uint64(n + 1), SrcPort: uint16(40000 + n%20000), DstPort: 443,
			BytesOut: 400, BytesIn: 1200, Start: base.Add(time.Duration(n) * 6 * time.Millisecond)} // 10k records per simulated minute
		r.Src, r.Dst = benchPair(i)
		r.End = r.Start
		a.Observe(&r)
		if i == pairs-1 {
			b.StopTimer() // scoring is measured by BenchmarkScore10M
			a.Advance(r.Start.Add(-2*time.Minute), func(flow.Signal) {})
			b.StartTimer()
		}
	}
	for n := range 3 * pairs * 60 { // warm up: three simulated hours
		step(n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 3 * pairs * 60
	for b.Loop() {
		step(n)
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScore10M: one scoring pass over 10,000 pairs holding 1,000
// connections each (10M connections, a 24 h window, ±20% jitter).
func BenchmarkScore10M(b *testing.B) {
	const pairs, per = 10000, 1000
	a := benchAnalyzer(b, DefaultConfig())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g := newGen(13)
	period := 24 * time.Hour / per
	r := flow.Record{Kind: flow.KindFlow}
	for i := range pairs {
		r.Src, r.Dst = benchPair(i)
		t := t0
		for range per {
			r.Start, r.End, r.SrcPort, r.DstPort, r.BytesOut = t, t, g.port(), 443, 500+int64(g.rng.IntN(50))
			a.Observe(&r)
			t = t.Add(time.Duration(float64(period) * (0.8 + 0.4*g.rng.Float64())))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	end := a.next + int64(23*time.Hour/time.Second)
	emitted := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a.scoreAt(end, func(flow.Signal) { emitted++ })
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pairs, "ns/pair")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/pairs, "heap-bytes/pair")
	b.ReportMetric(float64(a.Stats().Bytes)/pairs, "est-bytes/pair")
	if emitted == 0 {
		b.Fatal("no beacon found")
	}
}

// BenchmarkMemorySparsePairs: memory per pair when most pairs are seen a
// few times (the common case), 100,000 pairs with 3 connections each.
func BenchmarkMemorySparsePairs(b *testing.B) {
	const pairs = 100000
	for b.Loop() {
		a := benchAnalyzer(b, DefaultConfig())
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := flow.Record{Kind: flow.KindFlow, BytesOut: 100}
		for i := range pairs * 3 {
			r.Src = netip.AddrFrom4([4]byte{10, 2, byte(i % 250), 1})
			r.Dst = netip.AddrFrom4([4]byte{198, 18, byte(i / 3 / 250 % 256), byte(i / 3 % 250)})
			r.Start = t0.Add(time.Duration(i) * 10 * time.Millisecond)
			r.DstPort, r.EventID = 443, uint64(i+1)
			a.Observe(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(a.pairs)), "heap-bytes/pair")
		b.ReportMetric(float64(a.Stats().Bytes)/float64(len(a.pairs)), "est-bytes/pair")
	}
}
