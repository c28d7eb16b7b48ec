package beacon

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// t0 is the start of every generated scenario: a Monday, 00:00 UTC.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// gen builds deterministic synthetic traffic.
type gen struct {
	rng  *rand.Rand
	recs []flow.Record
	id   uint64
}

func newGen(seed uint64) *gen { return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func host(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}) }

func ext(s string) netip.Addr { return netip.MustParseAddr(s) }

// flowRec appends a flow record.
func (g *gen) flowRec(t time.Time, src, dst netip.Addr, sport, dport uint16, bytes int64, dur time.Duration) {
	g.id++
	g.recs = append(g.recs, flow.Record{Kind: flow.KindFlow, EventID: g.id, Start: t, End: t.Add(dur),
		Src: src, Dst: dst, SrcPort: sport, DstPort: dport, Proto: flow.ProtoTCP,
		BytesOut: bytes * 2 / 5, BytesIn: bytes - bytes*2/5, State: flow.StateEstablished})
}

// appRec appends a TLS record naming the server.
func (g *gen) appRec(t time.Time, src, dst netip.Addr, name string) {
	g.id++
	g.recs = append(g.recs, flow.Record{Kind: flow.KindApp, EventID: g.id, Start: t, End: t,
		Src: src, Dst: dst, SrcPort: g.port(), DstPort: 443, Proto: flow.ProtoTCP, Name: name, Service: "ssl"})
}

func (g *gen) port() uint16 { return uint16(32768 + g.rng.IntN(28000)) }

// beacon: connections every period·(1 ± jitter) (uniform) from start for
// dur, each of size(i) bytes; withName also logs the TLS server name.
func (g *gen) beacon(src, dst netip.Addr, dport uint16, name string, period time.Duration, jitter float64,
	start time.Time, dur time.Duration, size func(*rand.Rand) int64) {
	for t := start.Add(time.Duration(g.rng.Float64() * float64(period))); t.Before(start.Add(dur)); {
		g.flowRec(t, src, dst, g.port(), dport, size(g.rng), 300*time.Millisecond)
		if name != "" {
			g.appRec(t, src, dst, name)
		}
		f := 1 + jitter*(2*g.rng.Float64()-1)
		t = t.Add(time.Duration(f * float64(period)))
	}
}

func fixedSize(n int64) func(*rand.Rand) int64 {
	return func(r *rand.Rand) int64 { return n + int64(r.IntN(9)) - 4 }
}

// ntp: every host polls both servers from port 123, the interval doubling
// from 64 s to 1024 s like ntpd, with ±2% jitter.
func (g *gen) ntp(hosts int, servers []netip.Addr, dur time.Duration) {
	for h := 1; h <= hosts; h++ {
		for _, s := range servers {
			poll := 64 * time.Second
			for t := t0.Add(time.Duration(g.rng.IntN(60)) * time.Second); t.Before(t0.Add(dur)); {
				g.id++
				g.recs = append(g.recs, flow.Record{Kind: flow.KindFlow, EventID: g.id, Start: t,
					End: t.Add(20 * time.Millisecond), Src: host(h), Dst: s, SrcPort: 123, DstPort: 123,
					Proto: flow.ProtoUDP, BytesOut: 76, BytesIn: 76, PktsOut: 1, PktsIn: 1, State: flow.StateEstablished})
				t = t.Add(time.Duration(float64(poll) * (1 + 0.02*(2*g.rng.Float64()-1))))
				if poll < 1024*time.Second && g.rng.IntN(8) == 0 {
					poll *= 2
				}
			}
		}
	}
}

// monitoring: an agent on every host reports to one SaaS endpoint every
// 60 s (±2%), with its TLS server name.
func (g *gen) monitoring(hosts int, dst netip.Addr, name string, dur time.Duration) {
	for h := 1; h <= hosts; h++ {
		g.beacon(host(h), dst, 443, name, time.Minute, 0.02, t0, dur, fixedSize(2400))
	}
}

// browsing: a person on host h browses during office hours (08–18): visits
// arrive with heavy-tailed (Pareto, α=1.2) gaps, each to one of a few
// popular sites (Zipf-like), pulling a few pages of log-normal size.
func (g *gen) browsing(h int, sites []netip.Addr, names []string, days int) {
	for d := range days {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		for t := day.Add(8 * time.Hour); t.Before(day.Add(18 * time.Hour)); {
			i := int(math.Min(float64(len(sites)-1), math.Floor(float64(len(sites))*math.Pow(g.rng.Float64(), 3))))
			for range 1 + g.rng.IntN(6) {
				size := int64(math.Exp(9 + 1.5*g.rng.NormFloat64()))
				g.flowRec(t, host(h), sites[i], g.port(), 443, size, 2*time.Second)
				g.appRec(t, host(h), sites[i], names[i])
				t = t.Add(time.Duration(1+g.rng.IntN(20)) * time.Second)
			}
			gap := 20 * math.Pow(1-g.rng.Float64(), -1/1.2) // seconds, Pareto
			t = t.Add(time.Duration(math.Min(gap, 4*3600) * float64(time.Second)))
		}
	}
}

func (g *gen) sorted() []flow.Record {
	slices.SortStableFunc(g.recs, func(a, b flow.Record) int { return a.Start.Compare(b.Start) })
	return g.recs
}

// driver feeds records like the engine: the shared prevalence first, then
// the analyzer, with Advance(max time − 2 min) after every batch of
// event time.
type driver struct {
	a       *Analyzer
	prev    *flow.Prevalence
	batch   time.Duration
	maxT    time.Time
	batchAt time.Time
	sigs    []flow.Signal
}

func newDriver(t testing.TB, cfg Config) *driver {
	t.Helper()
	prev := flow.NewPrevalence(7, 256)
	internal, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, internal, prev)
	if err != nil {
		t.Fatal(err)
	}
	return &driver{a: a, prev: prev, batch: 5 * time.Minute}
}

func (d *driver) feed(recs []flow.Record) {
	for i := range recs {
		r := &recs[i]
		if d.batchAt.IsZero() {
			d.batchAt = r.Start.Add(d.batch)
		}
		if r.Start.After(d.batchAt) {
			d.advance(d.maxT.Add(-2 * time.Minute))
			d.batchAt = r.Start.Add(d.batch)
		}
		if r.Start.After(d.maxT) {
			d.maxT = r.Start
		}
		if r.Kind == flow.KindFlow {
			d.prev.Observe(r.Src, r.Dst, "", r.Start)
		} else {
			d.prev.Observe(r.Src, netip.Addr{}, r.Name, r.Start)
		}
		d.a.Observe(r)
	}
}

func (d *driver) advance(w time.Time) {
	d.prev.Advance(w)
	d.a.Advance(w, func(s flow.Signal) { d.sigs = append(d.sigs, s) })
}

// byKey groups signals by key.
func byKey(sigs []flow.Signal) map[string][]flow.Signal {
	m := map[string][]flow.Signal{}
	for _, s := range sigs {
		m[s.Key] = append(m[s.Key], s)
	}
	return m
}

func fact(s flow.Signal, key string) string {
	for _, f := range s.Facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}
