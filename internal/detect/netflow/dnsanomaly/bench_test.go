package dnsanomaly

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// benchRecords builds n query records: 2,000 hosts looking up a mix of
// popular names, CDN names and tunnel-like names, with 2% NXDOMAIN.
func benchRecords(n int) []flow.Record {
	g := newGen(11)
	recs := make([]flow.Record, 0, n)
	for i := range n {
		var name string
		switch i % 10 {
		case 0, 1, 2, 3:
			name = []string{"www.news.example", "api.video.example", "login.sso.example", "mail.corp-mail.example"}[i%4]
		case 4, 5, 6:
			name = "e" + strconv.Itoa(1000+i%9000) + ".dscb.edge-cdn.example"
		case 7:
			name = g.chunk(base32Alpha, 56) + ".t.tunnel-" + strconv.Itoa(i%50) + ".example"
		default:
			name = "img-" + strconv.Itoa(i%400) + ".static.cdn-images.example"
		}
		r := flow.Record{Kind: flow.KindDNS, EventID: uint64(i + 1), Src: host(1 + i%200), Dst: resolver, Name: name, QType: "A"}
		if i%50 == 0 {
			r.Name, r.RCode = g.chunk("abcdefghijklmnopqrstuvwxyz", 12)+".com", "NXDOMAIN"
		}
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkObserve: the per-record cost on a query mix, 10k records per
// simulated minute, with Advance (not timed) every simulated minute.
func BenchmarkObserve(b *testing.B) {
	recs := benchRecords(100000)
	d := newDriver(b, DefaultConfig())
	var r flow.Record
	step := func(n int) {
		r = recs[n%len(recs)]
		r.Start = t0.Add(time.Duration(n) * 6 * time.Millisecond)
		r.End = r.Start
		d.a.Observe(&r)
		if n%10000 == 9999 {
			b.StopTimer()
			d.advance(r.Start.Add(-2 * time.Minute))
			b.StartTimer()
		}
	}
	for n := range 1200000 { // two simulated hours
		step(n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 1200000
	for b.Loop() {
		step(n)
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkMemoryPerDomain: memory per tracked domain with 10,000 domains
// of 100 distinct subdomains each (sketch mode), and per NXDOMAIN host.
func BenchmarkMemoryPerDomain(b *testing.B) {
	for b.Loop() {
		d := newDriver(b, DefaultConfig())
		g := newGen(12)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := flow.Record{Kind: flow.KindDNS, Src: host(1), QType: "A"}
		for i := range 1000000 {
			r.Start = t0.Add(time.Duration(i) * time.Millisecond)
			r.Name = g.chunk(hexAlpha, 12) + ".dom" + strconv.Itoa(i%10000) + ".example"
			d.a.Observe(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := d.a.Stats()
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(st.Entities["domains"]), "heap-bytes/domain")
		b.ReportMetric(float64(st.Bytes)/float64(st.Entities["domains"]), "est-bytes/domain")
	}
}
