package scan

import (
	"cmp"
	"math"
	"slices"

	"github.com/vigil-soc/vigil/internal/flow"
)

// kind is the shape of a scan.
type kind uint8

const (
	kindHorizontal kind = iota + 1 // one port, many hosts
	kindVertical                   // one host, many ports
	kindSweep                      // ICMP requests to many hosts
)

func (k kind) String() string {
	switch k {
	case kindHorizontal:
		return "horizontal"
	case kindVertical:
		return "vertical"
	case kindSweep:
		return "sweep"
	}
	return "unknown"
}

// maxSignalsPerKind caps the signals one source raises of one kind at one
// window boundary; further groups that cross the threshold are counted in
// the facts of those raised (a grid scan of many ports on many hosts would
// otherwise raise one signal per port and per host).
const maxSignalsPerKind = 3

// groupKey names a candidate scan of one source: the port (horizontal),
// the host (vertical) or the ICMP version (sweep).
type groupKey struct {
	kind  kind
	proto uint8
	port  uint16
	dst   [16]byte
}

// tally counts a group's targets in one window.
type tally struct {
	// targets, of them failed and answered, internal ones and internal
	// ones that answered.
	n, failed, answered, internal, answeredInternal int32
	attempts                                        int64
	first, last                                     int64 // unix ns; first == 0 when empty
}

func (t *tally) add(c *contact, answered, failed bool) {
	if t.n == 0 || c.first < t.first {
		t.first = c.first
	}
	t.last = max(t.last, c.last)
	t.n++
	t.attempts += int64(c.attempts)
	if c.internal {
		t.internal++
	}
	switch {
	case answered:
		t.answered++
		if c.internal {
			t.answeredInternal++
		}
	case failed:
		t.failed++
	}
}

// agg counts one group's targets in the windows ending at a boundary: all
// targets of the fast window, the failed ones of the slow window.
type agg struct {
	key        groupKey
	fast, slow tally
	fresh      int32 // targets first seen since the previous evaluation
	// isSlow says the group fired on the slow threshold.
	isSlow bool
}

// scope returns the tally the group fired on.
func (g *agg) scope() *tally {
	if g.isSlow {
		return &g.slow
	}
	return &g.fast
}

// report remembers a scan already signalled, so that later windows of the
// same scan raise a signal only when it has doubled.
type report struct {
	since          int64 // start of the first window that fired (ns)
	total, emitted int32 // targets so far; targets when last signalled
	lastFire       int64 // the last boundary (hop) the scan fired at
}

// status bits of a contact in the windows of one evaluation.
const (
	stFast     = 1 << iota // seen in the fast window
	stAnswered             // answered in the fast window
	stFailed               // failed and never answered in the fast window
	stSlowFail             // failed and never answered in the slow window
)

// scratch is the reusable workspace of an evaluation.
type scratch struct {
	idx  map[groupKey]int32
	aggs []agg
	rank []int32
}

func (sc *scratch) reset() {
	if sc.idx == nil {
		sc.idx = map[groupKey]int32{}
	}
	clear(sc.idx)
	sc.aggs = sc.aggs[:0]
}

func (sc *scratch) add(k groupKey, c *contact, st int, fresh bool) {
	i, ok := sc.idx[k]
	if !ok {
		i = int32(len(sc.aggs))
		sc.idx[k] = i
		sc.aggs = append(sc.aggs, agg{key: k})
	}
	g := &sc.aggs[i]
	if fresh {
		g.fresh++
	}
	if st&stSlowFail != 0 {
		g.slow.add(c, false, true)
	}
	if st&stFast != 0 {
		g.fast.add(c, st&stAnswered != 0, st&stFailed != 0)
	}
}

// status returns c's status bits for the windows ending at boundary e.
func (a *Analyzer) status(c *contact, e int64) int {
	last, st := e-1, 0
	if from := e - a.fastHops; c.in(c.seen, from, last) {
		st |= stFast
		if c.in(c.ok, from, last) {
			st |= stAnswered
		} else if c.in(c.failed, from, last) {
			st |= stFailed
		}
	}
	if from := e - a.slowHops; a.slowHops > 0 && c.in(c.failed, from, last) && !c.in(c.ok, from, last) {
		st |= stSlowFail
	}
	return st
}

// evaluate counts s's groups in the windows ending at boundary e and
// appends the signals of those that cross their thresholds.
func (a *Analyzer) evaluate(s *source, e int64, slow bool, out *[]flow.Signal) {
	if !a.mayFire(s, e, slow) {
		s.lastEval = e
		return
	}
	sc := &a.sc
	sc.reset()
	since := s.lastEval * a.hopNs
	for _, i := range s.list {
		c := &a.cs[i]
		st := a.status(c, e)
		if st&(stFast|stSlowFail) == 0 {
			continue
		}
		fresh := c.first >= since
		if isICMP(c.k.t.proto) {
			sc.add(groupKey{kind: kindSweep, proto: c.k.t.proto}, c, st, fresh)
			continue
		}
		sc.add(groupKey{kind: kindHorizontal, proto: c.k.t.proto, port: c.k.t.port}, c, st, fresh)
		sc.add(groupKey{kind: kindVertical, proto: c.k.t.proto, dst: c.k.t.dst}, c, st, fresh)
	}
	s.lastEval = e
	for _, k := range []kind{kindHorizontal, kindVertical, kindSweep} {
		a.judgeKind(s, e, k, slow, out)
	}
}

// mayFire is a cheap bound: it reports false when s has too few targets
// or failures in the windows ending at e for any group to cross a
// threshold (slow says the slow rule is judged at e). It reads the source's
// per-hop counts first and its contacts' bitmaps only when those allow a
// scan, so that busy clients cost little.
func (a *Analyzer) mayFire(s *source, e int64, slow bool) bool {
	minT := min(a.cfg.HorizontalMinHosts, a.cfg.VerticalMinPorts, a.cfg.SweepMinHosts)
	needFailed := int(math.Ceil(a.cfg.MinFailedRatio * float64(minT)))
	last, fastFrom, slowFrom := e-1, e-a.fastHops, e-a.slowHops
	fast := s.act.sum(&s.act.seen, fastFrom, last) >= minT && s.act.sum(&s.act.failed, fastFrom, last) >= needFailed
	slow = slow && s.act.sum(&s.act.failed, slowFrom, last) >= a.cfg.SlowMinFailed
	if !fast && !slow {
		return false
	}
	seen, failed, slowFailed := 0, 0, 0
	for _, i := range s.list {
		c := &a.cs[i]
		if c.in(c.seen, fastFrom, last) {
			seen++
			if c.in(c.failed, fastFrom, last) {
				failed++
			}
		}
		if slow && c.in(c.failed, slowFrom, last) {
			slowFailed++
		}
	}
	return (seen >= minT && failed >= needFailed) || (slow && slowFailed >= a.cfg.SlowMinFailed)
}

// judgeKind raises the signals of the groups of kind k that fire, the
// largest first, at most maxSignalsPerKind of them.
func (a *Analyzer) judgeKind(s *source, e int64, k kind, slow bool, out *[]flow.Signal) {
	sc := &a.sc
	sc.rank = sc.rank[:0]
	for i := range sc.aggs {
		g := &sc.aggs[i]
		if g.key.kind == k && a.fires(g, slow) {
			sc.rank = append(sc.rank, int32(i))
		}
	}
	if len(sc.rank) == 0 {
		return
	}
	slices.SortFunc(sc.rank, func(x, y int32) int {
		gx, gy := &sc.aggs[x], &sc.aggs[y]
		if c := cmp.Compare(gy.scope().n, gx.scope().n); c != 0 {
			return c
		}
		if c := cmp.Compare(gx.key.port, gy.key.port); c != 0 {
			return c
		}
		return slices.Compare(gx.key.dst[:], gy.key.dst[:])
	})
	for n, i := range sc.rank {
		g := &sc.aggs[i]
		rep, emit := a.gate(s, e, g)
		if emit && n < maxSignalsPerKind {
			*out = append(*out, a.signal(s, e, g, rep, len(sc.rank)-1))
		}
	}
}

// fires reports whether g crosses the fast or, failing that and when slow
// says the slow rule is judged, the slow threshold, and records which.
func (a *Analyzer) fires(g *agg, slow bool) bool {
	min := a.cfg.HorizontalMinHosts
	switch g.key.kind {
	case kindVertical:
		min = a.cfg.VerticalMinPorts
	case kindSweep:
		min = a.cfg.SweepMinHosts
	}
	if int(g.fast.n) >= min && float64(g.fast.failed) >= a.cfg.MinFailedRatio*float64(g.fast.n) {
		g.isSlow = false
		return true
	}
	// A slow scan is one the fast window cannot see: when the fast window
	// alone holds a threshold's worth of failures, the fast rule judged
	// them (a burst mostly answered is no scan, however many failed).
	if slow && int(g.slow.n) >= a.cfg.SlowMinFailed && int(g.fast.failed) < min {
		g.isSlow = true
		return true
	}
	return false
}

// gate updates the report of g's scan and says whether to signal: at the
// first window of a scan, and again each time its targets have doubled.
func (a *Analyzer) gate(s *source, e int64, g *agg) (*report, bool) {
	n := g.scope().n
	rep := s.reports[g.key]
	if rep == nil || e-rep.lastFire > a.episodeHops() {
		if s.reports == nil {
			s.reports = map[groupKey]*report{}
		}
		rep = &report{since: g.scope().first, total: n, emitted: n, lastFire: e}
		s.reports[g.key] = rep
		return rep, true
	}
	rep.lastFire = e
	rep.total = max(rep.total+g.fresh, n)
	if rep.total >= 2*rep.emitted {
		rep.emitted = rep.total
		return rep, true
	}
	return rep, false
}

// windowHops returns the span, in hops, of the window g fired in.
func (a *Analyzer) windowHops(g *agg) int64 {
	if g.isSlow {
		return a.slowHops
	}
	return a.fastHops
}
