package baseline

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// day returns the start of day n (1-based) of every scenario: day 1 is
// Monday 2025-03-03 UTC.
func day(n int) time.Time {
	return time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n-1)
}

// at returns hour:minute of day n.
func at(n, hour, minute int) time.Time {
	return day(n).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// gen builds deterministic synthetic flow records.
type gen struct {
	recs []flow.Record
	id   uint64
	rng  *rand.Rand
}

func newGen(seed uint64) *gen { return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// add appends one TCP flow from src to dst:port with the bytes each way.
func (g *gen) add(start time.Time, src, dst netip.Addr, port uint16, out, in int64) {
	g.id++
	g.recs = append(g.recs, flow.Record{
		Kind: flow.KindFlow, EventID: g.id, Start: start, End: start.Add(30 * time.Second),
		Src: src, Dst: dst, SrcPort: uint16(40000 + g.id%20000), DstPort: port, Proto: flow.ProtoTCP,
		BytesOut: out, BytesIn: in, PktsOut: out/1400 + 1, PktsIn: in/1400 + 1, State: flow.StateEstablished,
	})
}

// minute returns a random offset inside an hour.
func (g *gen) minute() time.Duration { return time.Duration(g.rng.IntN(3600)) * time.Second }

// vary returns v scaled by a random factor in [1-f, 1+f].
func (g *gen) vary(v int64, f float64) int64 {
	return int64(float64(v) * (1 - f + 2*f*g.rng.Float64()))
}

// hours calls fn for the start of every hour in [from, to).
func hours(from, to time.Time, fn func(h time.Time)) {
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		fn(h)
	}
}

// commonDst returns one of 20 external addresses every workstation uses.
func commonDst(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%20)}) }

// workstation adds office traffic for host: busy on weekdays 08–18 UTC,
// a trickle at night and at weekends.
func (g *gen) workstation(host netip.Addr, from, to time.Time) {
	fileServer := ip("10.0.0.10")
	hours(from, to, func(h time.Time) {
		wd := h.Weekday()
		busy := wd != time.Saturday && wd != time.Sunday && h.Hour() >= 8 && h.Hour() < 18
		if !busy {
			for range 2 {
				g.add(h.Add(g.minute()), host, commonDst(g.rng.IntN(20)), 443, g.vary(5000, 0.5), g.vary(20000, 0.5))
			}
			return
		}
		for range 20 + g.rng.IntN(10) {
			g.add(h.Add(g.minute()), host, commonDst(g.rng.IntN(20)), 443, g.vary(100_000, 0.8), g.vary(1_500_000, 0.8))
		}
		for range 3 {
			g.add(h.Add(g.minute()), host, fileServer, 445, g.vary(1_000_000, 0.3), g.vary(5_000_000, 0.3))
		}
	})
}

// sorted returns the records in start order, ties by event ID.
func (g *gen) sorted() []flow.Record {
	out := slices.Clone(g.recs)
	slices.SortFunc(out, func(a, b flow.Record) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.EventID, b.EventID)
	})
	return out
}

// engine does what the network analytics engine does around an analyzer:
// feeds the shared prevalence first, then the analyzer, and advances the
// watermark (newest event time - 2 minutes) after each 5-minute batch,
// with the records of a batch in shuffled order.
type engine struct {
	t        testing.TB
	cfg      Config
	internal *flow.Set
	prev     *flow.Prevalence
	a        *Analyzer
	sigs     []flow.Signal
	newest   time.Time
	rng      *rand.Rand
	next     int // index of the next record to feed
}

func newEngine(t testing.TB, cfg Config) *engine {
	t.Helper()
	internal, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{t: t, cfg: cfg, internal: internal, prev: flow.NewPrevalence(7, 64), rng: rand.New(rand.NewPCG(7, 11))}
	e.a, err = New(cfg, internal, e.prev, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newTestAnalyzer returns an analyzer over the default internal networks
// without a prevalence reader.
func newTestAnalyzer(t testing.TB, cfg Config) *Analyzer {
	t.Helper()
	internal, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, internal, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const lateness = 2 * time.Minute

// run feeds recs (sorted) up to, not including, the first record at or
// after until (zero: all), continuing from where the last call stopped.
func (e *engine) run(recs []flow.Record, until time.Time) {
	for e.next < len(recs) {
		start := recs[e.next].Start.Truncate(5 * time.Minute)
		if !until.IsZero() && !start.Before(until) {
			return
		}
		j := e.next
		for j < len(recs) && recs[j].Start.Before(start.Add(5*time.Minute)) {
			j++
		}
		batch := slices.Clone(recs[e.next:j])
		e.rng.Shuffle(len(batch), func(x, y int) { batch[x], batch[y] = batch[y], batch[x] })
		for i := range batch {
			e.observe(&batch[i])
		}
		e.next = j
		e.advance(e.newest.Add(-lateness))
	}
}

// observe feeds the prevalence tracker as the engine does (internal
// source, external destination), then the analyzer.
func (e *engine) observe(r *flow.Record) {
	if r.Start.After(e.newest) {
		e.newest = r.Start
	}
	if e.internal.Contains(r.Src) && !e.internal.Contains(r.Dst) {
		e.prev.Observe(r.Src, r.Dst, r.Name, r.Start)
	}
	e.a.Observe(r)
}

func (e *engine) advance(wm time.Time) {
	e.prev.Advance(wm)
	e.a.Advance(wm, func(s flow.Signal) { e.sigs = append(e.sigs, s) })
}

// flush closes every hour up to end.
func (e *engine) flush(end time.Time) { e.advance(end) }

// restart saves the prevalence tracker and the analyzer and continues
// with fresh instances restored from the saved state.
func (e *engine) restart() {
	e.t.Helper()
	pb, err := e.prev.MarshalBinary()
	if err != nil {
		e.t.Fatal(err)
	}
	ab, err := e.a.MarshalBinary()
	if err != nil {
		e.t.Fatal(err)
	}
	e.prev = flow.NewPrevalence(7, 64)
	if err := e.prev.UnmarshalBinary(pb); err != nil {
		e.t.Fatal(err)
	}
	if e.a, err = New(e.cfg, e.internal, e.prev, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.a.UnmarshalBinary(ab); err != nil {
		e.t.Fatal(err)
	}
}

// signalsFor returns the signals about host (or with host as its subnet's
// first address) matching kind ("" for any).
func signalsFor(sigs []flow.Signal, host netip.Addr, kind string) []flow.Signal {
	var out []flow.Signal
	for _, s := range sigs {
		if s.Host == host && (kind == "" || s.Kind == kind) {
			out = append(out, s)
		}
	}
	return out
}

// highOrAbove returns the signals of severity high or critical.
func highOrAbove(sigs []flow.Signal) []flow.Signal {
	var out []flow.Signal
	for _, s := range sigs {
		if s.Severity >= schema.SeverityHigh {
			out = append(out, s)
		}
	}
	return out
}

func fact(s flow.Signal, key string) string {
	for _, f := range s.Facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
