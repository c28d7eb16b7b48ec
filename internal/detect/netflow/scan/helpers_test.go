package scan

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// t0 is the start of the synthetic traffic: a Monday 00:00 UTC.
var t0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

// lateness is the engine's default allowed lateness.
const lateness = 2 * time.Minute

func internalSet(t testing.TB) *flow.Set {
	t.Helper()
	s, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gen builds deterministic synthetic records.
type gen struct {
	recs []flow.Record
	id   uint64
	rnd  uint64
}

// next returns a deterministic pseudo-random number (splitmix64).
func (g *gen) next() uint64 {
	g.rnd += 0x9e3779b97f4a7c15
	z := g.rnd
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// conn adds a record. state decides the counters: failed attempts carry one
// SYN and no reply; answered ones a small exchange.
func (g *gen) conn(at time.Time, src, dst netip.Addr, dport uint16, proto uint8, st flow.State) *flow.Record {
	g.id++
	r := flow.Record{Kind: flow.KindFlow, EventID: g.id, Start: at, End: at.Add(50 * time.Millisecond),
		Src: src, Dst: dst, SrcPort: uint16(40000 + g.id%20000), DstPort: dport, Proto: proto, State: st}
	switch st {
	case flow.StateAttempt:
		r.PktsOut, r.BytesOut = 1, 0
	case flow.StateRejected:
		r.PktsOut, r.PktsIn = 1, 1
	default:
		r.PktsOut, r.PktsIn, r.BytesOut, r.BytesIn = 5, 5, 300, 1200
	}
	if proto == flow.ProtoICMP {
		r.SrcPort, r.DstPort = 8, 0
		if st == flow.StateAttempt {
			r.State, r.PktsIn, r.BytesIn = flow.StateEstablished, 0, 0
		}
	}
	g.recs = append(g.recs, r)
	return &g.recs[len(g.recs)-1]
}

// nth returns the n-th address after base.
func nth(base string, n int) netip.Addr {
	a := netip.MustParseAddr(base)
	if a.Is4() {
		b := a.As4()
		v := binary.BigEndian.Uint32(b[:]) + uint32(n)
		binary.BigEndian.PutUint32(b[:], v)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	v := binary.BigEndian.Uint64(b[8:]) + uint64(n)
	binary.BigEndian.PutUint64(b[8:], v)
	return netip.AddrFrom16(b)
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// sortRecs orders records by start time, stably.
func sortRecs(rs []flow.Record) {
	slices.SortStableFunc(rs, func(x, y flow.Record) int { return x.Start.Compare(y.Start) })
}

// run feeds recs (in the order given) to an analyzer, calling Advance every
// batch records with the watermark the engine would use, then flushes.
func run(an flow.Analyzer, recs []flow.Record, batch int) []flow.Signal {
	var out []flow.Signal
	emit := func(s flow.Signal) { out = append(out, s) }
	var maxT time.Time
	for i := range recs {
		an.Observe(&recs[i])
		if recs[i].Start.After(maxT) {
			maxT = recs[i].Start
		}
		if (i+1)%batch == 0 {
			an.Advance(maxT.Add(-lateness), emit)
		}
	}
	an.Advance(maxT.Add(-lateness), emit)
	an.Advance(maxT.Add(3*time.Hour), emit)
	return out
}

func newScan(t testing.TB, mod func(*Config)) *Analyzer {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg, internalSet(t))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func fact(s flow.Signal, k string) string {
	for _, f := range s.Facts {
		if f.Key == k {
			return f.Value
		}
	}
	return ""
}

func byKey(sigs []flow.Signal) map[string][]flow.Signal {
	m := map[string][]flow.Signal{}
	for _, s := range sigs {
		m[s.Key] = append(m[s.Key], s)
	}
	return m
}

func sortedKeys(m map[string][]flow.Signal) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, cmp.Compare)
	return ks
}

// consistent checks the analyzer's internal structures agree: every
// source's contacts are indexed under it, and nothing else is.
func (a *Analyzer) consistent() error {
	n := 0
	for key, s := range a.sources {
		if s.key != key || a.srcs[s.id] != s || len(s.list) > a.cfg.MaxContactsPerSource {
			return fmt.Errorf("source %v: key %v id %d, %d contacts", s.addr, s.key, s.id, len(s.list))
		}
		for _, i := range s.list {
			c := &a.cs[i]
			if c.src != s.id || c.k.src != key {
				return fmt.Errorf("contact %d of %v belongs to %d", i, s.addr, c.src)
			}
			if _, j, ok := a.index.find(a.cs, &c.k, hashKey(&c.k)); !ok || j != i {
				return fmt.Errorf("contact %d of %v indexed at %d (%v)", i, s.addr, j, ok)
			}
			n++
		}
	}
	used := 0
	for _, slot := range a.index.slots {
		if slot != 0 {
			used++
		}
	}
	if n != a.index.n || used != n || n+len(a.free) != len(a.cs) {
		return fmt.Errorf("%d listed, %d indexed (%d slots), %d free of %d", n, a.index.n, used, len(a.free), len(a.cs))
	}
	return nil
}
