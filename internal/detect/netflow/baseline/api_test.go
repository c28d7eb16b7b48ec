package baseline

import (
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

func TestBaselineAPI(t *testing.T) {
	t.Parallel()
	g := newGen(7)
	host := ip("10.0.1.6")
	g.stepHost(host, ip("198.51.100.10"), 12, 9, 6)
	e := newEngine(t, DefaultConfig())
	e.run(g.sorted(), time.Time{})
	e.flush(day(13))

	if got := Metrics(); len(got) != numMetrics || got[0] != MetricBytesOut || !slices.Contains(got, MetricUnexplained) {
		t.Fatalf("Metrics() = %v", got)
	}
	if e.a.Baseline(host, "no_such_metric") != nil || e.a.Baseline(ip("10.9.9.9"), MetricBytesOut) != nil {
		t.Fatal("unknown metric or host gave points")
	}
	pts := e.a.Baseline(host, MetricBytesOut)
	if len(pts) != 168 || !pts[0].Start.Equal(day(6)) || !pts[167].Start.Equal(at(12, 23, 0)) {
		t.Fatalf("%d points from %v to %v", len(pts), pts[0].Start, pts[len(pts)-1].Start)
	}
	for _, p := range pts {
		if !p.Known || p.HourOfWeek != hourOfWeek(p.Start) {
			t.Fatalf("%+v", p)
		}
		if p.Start.Hour() != 14 {
			continue
		}
		want := 2e8
		if p.Start.Equal(at(9, 14, 0)) {
			want = 1.2e9
		}
		if math.Abs(p.Actual-want)/want > 5e-4 {
			t.Errorf("%v: actual %v, want %v", p.Start, p.Actual, want)
		}
		// Next Tuesday 14:00 sees this week's 1.2 GB and last week's
		// 200 MB, padded with the three days since: the median stays 200 MB.
		if math.Abs(p.Baseline-2e8)/2e8 > 5e-4 || p.AlertAbove < 4*p.Baseline {
			t.Errorf("%v: baseline %v alert above %v", p.Start, p.Baseline, p.AlertAbove)
		}
		if p.Start.Equal(at(9, 14, 0)) && (p.Weeks != 2 || p.MAD != 0) {
			t.Errorf("Tuesday 14:00: %+v", p)
		}
	}
	sub := e.a.SubnetBaseline(mustPrefix("10.0.1.0/24"), MetricBytesOut)
	if len(sub) != 168 || sub[0].Actual != pts[0].Actual {
		t.Errorf("subnet points %d, first %+v", len(sub), sub[0])
	}
}

// TestBaselineConcurrent reads the console API while the engine goroutine
// observes and advances (run with -race).
func TestBaselineConcurrent(t *testing.T) {
	t.Parallel()
	g := newGen(8)
	host := ip("10.0.1.10")
	g.office(10, day(1), day(10))
	e := newEngine(t, DefaultConfig())
	recs := g.sorted()
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				e.a.Baseline(host, MetricConnections)
				e.a.Stats()
				e.a.Counts()
			}
		}
	}()
	e.run(recs, time.Time{})
	close(done)
	wg.Wait()
	if e.a.Counts().Records != uint64(len(recs)) {
		t.Errorf("records %d, want %d", e.a.Counts().Records, len(recs))
	}
}

func TestLateAndEarlyRecords(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t, DefaultConfig())
	host, dst := ip("10.0.1.6"), ip("198.51.100.10")
	rec := func(ts time.Time, out int64) *flow.Record {
		return &flow.Record{Kind: flow.KindFlow, EventID: 1, Start: ts, End: ts, Src: host, Dst: dst,
			DstPort: 443, BytesOut: out}
	}
	a.Observe(rec(at(1, 10, 30), 100))
	a.Observe(rec(at(1, 8, 0), 20)) // late: counted in 10:00
	a.Observe(rec(at(1, 11, 5), 1)) // next hour, still open
	a.Observe(rec(at(1, 14, 0), 7)) // closes 10:00–12:00 early
	a.Observe(rec(time.Time{}, 5))  // no plausible time
	a.Observe(&flow.Record{Kind: flow.KindDNS, Src: host, Dst: dst, Start: at(1, 14, 0)})
	a.Observe(rec(at(1, 14, 10), -3)) // negative counters count as zero
	c := a.Counts()
	if c.Records != 5 || c.Late != 1 || c.BadTime != 1 || c.ForcedCloses != 3 {
		t.Errorf("counts %+v", c)
	}
	a.Advance(at(1, 15, 0), func(flow.Signal) {})
	pts := a.Baseline(host, MetricBytesOut)
	byHour := map[int]float64{}
	for _, p := range pts {
		if p.Known {
			byHour[p.Start.Hour()] = p.Actual
		}
	}
	if byHour[10] != 120 || byHour[11] != 1 || byHour[12] != 0 || byHour[13] != 0 || byHour[14] != 7 {
		t.Errorf("hours %v", byHour)
	}
	if _, ok := byHour[9]; ok {
		t.Error("an hour before the first traffic is known")
	}
	cn := a.Baseline(host, MetricConnections)
	if cn[len(cn)-1].Actual != 2 {
		t.Errorf("connections at 14:00: %v", cn[len(cn)-1].Actual)
	}
}

func TestEvictionAndCaps(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxHosts, cfg.MaxSubnets, cfg.IdleDays = 32, 4, 2
	a := newTestAnalyzer(t, cfg)
	dst := ip("198.51.100.10")
	for i := range 64 {
		ts := at(1, 0, 0).Add(time.Duration(i) * time.Hour)
		host := netip.AddrFrom4([4]byte{10, 0, byte(i), 1})
		a.Observe(&flow.Record{Kind: flow.KindFlow, EventID: uint64(i + 1), Start: ts, End: ts, Src: host, Dst: dst, BytesOut: 1})
	}
	st := a.Stats()
	if st.Entities["hosts"] > 32 || st.Entities["subnets"] > 4 || a.Counts().Evicted == 0 {
		t.Errorf("stats %+v counts %+v", st, a.Counts())
	}
	// Idle for more than two days: everything goes.
	a.Advance(at(8, 0, 0), func(flow.Signal) {})
	if st := a.Stats(); st.Entities["hosts"] != 0 || st.Entities["subnets"] != 0 {
		t.Errorf("after idling: %+v", st)
	}
}
