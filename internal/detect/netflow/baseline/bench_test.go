package baseline

import (
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// benchDay returns one day of traffic for n hosts in 10.0.0.0/16: each
// host opens perHour flows an hour to 40 external and 4 internal peers.
func benchDay(n, perHour int) []flow.Record {
	g := newGen(10)
	hours(day(1), day(2), func(h time.Time) {
		for i := range n {
			host := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			for range perHour {
				dst := netip.AddrFrom4([4]byte{198, 51, 100, byte(g.rng.IntN(40))})
				if g.rng.IntN(5) == 0 {
					dst = netip.AddrFrom4([4]byte{10, 0, 200, byte(g.rng.IntN(4))})
				}
				g.add(h.Add(g.minute()), host, dst, uint16(443+g.rng.IntN(4)), g.vary(200_000, 0.9), g.vary(2_000_000, 0.9))
			}
		}
	})
	return g.sorted()
}

// BenchmarkObserve measures the per-record cost of Observe (with Advance
// after every 1,000 records, as the engine does after a batch) in steady
// state: the day of traffic replays shifted by a day each pass, after one
// warm-up pass.
func BenchmarkObserve(b *testing.B) {
	b.Run("subnets", func(b *testing.B) { benchObserve(b, DefaultConfig()) })
	cfg := DefaultConfig()
	cfg.SubnetPrefixV4 = 0
	b.Run("hosts-only", func(b *testing.B) { benchObserve(b, cfg) })
}

func benchObserve(b *testing.B, cfg Config) {
	recs := benchDay(500, 10)
	a := newTestAnalyzer(b, cfg)
	emit := func(flow.Signal) {}
	pass := func(shift time.Duration, limit int) {
		for i := range recs {
			if i == limit {
				return
			}
			recs[i].Start = recs[i].Start.Add(shift)
			a.Observe(&recs[i])
			if i%1000 == 999 {
				a.Advance(recs[i].Start.Add(-lateness), emit)
			}
		}
	}
	pass(0, -1)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for n := b.N; n > 0; n -= len(recs) {
		pass(24*time.Hour, n)
	}
	b.StopTimer()
	// On a shared machine wall time overstates the cost; the process's CPU
	// time (GC included) is what one core spends.
	cpu := float64(cpuTime()-cpu0) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/record")
	b.ReportMetric(1e9/cpu, "records/s/core")
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// fillHosts feeds n hosts for the given number of days: each sends 4 flows
// an hour (two to external peers large enough to be tracked as pairs).
func fillHosts(a *Analyzer, n, days int) {
	id := uint64(0)
	emit := func(flow.Signal) {}
	hours(day(1), day(days+1), func(h time.Time) {
		for i := range n {
			host := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
			for k := range 4 {
				id++
				dst := netip.AddrFrom4([4]byte{198, 51, 100, byte(k + i%8)})
				out := int64(30_000_000)
				if k >= 2 {
					dst, out = netip.AddrFrom4([4]byte{10, 2, 0, byte(k)}), 1_000_000
				}
				ts := h.Add(time.Duration(k) * time.Minute)
				a.Observe(&flow.Record{Kind: flow.KindFlow, EventID: id, Start: ts, End: ts, Src: host, Dst: dst,
					DstPort: 443, BytesOut: out, BytesIn: out / 10, PktsOut: 100, PktsIn: 50})
			}
		}
		a.Advance(h.Add(time.Hour-lateness), emit)
	})
}

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerHost reports the heap held per host with a full ring
// of history (4 weeks and a day) and two tracked external pairs.
func BenchmarkMemoryPerHost(b *testing.B) {
	const hosts, days = 1000, 29
	for range b.N {
		before := heapAfterGC()
		a := newTestAnalyzer(b, DefaultConfig())
		fillHosts(a, hosts, days)
		after := heapAfterGC()
		st := a.Stats()
		b.ReportMetric(float64(after-before)/hosts, "heap-bytes/host")
		b.ReportMetric(float64(st.Bytes)/hosts, "estimated-bytes/host")
		runtime.KeepAlive(a)
	}
}

// TestMemoryEstimate checks that Stats' estimate tracks the real heap for
// hosts with a full history, and that memory stays bounded per host.
func TestMemoryEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds four weeks of traffic")
	}
	const hosts, days = 100, 29
	before := heapAfterGC()
	a := newTestAnalyzer(t, DefaultConfig())
	fillHosts(a, hosts, days)
	after := heapAfterGC()
	st := a.Stats()
	real := float64(after-before) / hosts
	est := float64(st.Bytes) / hosts
	t.Logf("per host: heap %.0f bytes, estimate %.0f bytes; entities %v", real, est, st.Entities)
	if est < real/2 || est > real*2 {
		t.Errorf("estimate %.0f bytes/host is not within 2x of the heap's %.0f", est, real)
	}
	if real > 20_000 {
		t.Errorf("%.0f bytes per host", real)
	}
	if st.Entities["pairs"] != 2*hosts {
		t.Errorf("pairs %d, want %d", st.Entities["pairs"], 2*hosts)
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("saved state: %d bytes per host", len(data)/hosts)
	runtime.KeepAlive(a)
}
