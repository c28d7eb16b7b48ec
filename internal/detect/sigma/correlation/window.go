package correlation

import (
	"math/bits"
	"sort"

	"github.com/vigil-soc/vigil/internal/schema"
)

// scratch is reusable memory for evaluation; the engine's lock guards it.
type scratch struct {
	key, val []byte
	values   map[string]int32 // value_count: entries per value in the window
	rules    [MaxRuleRefs]int32
	start    [MaxRuleRefs]int // temporal_ordered: start index per prefix
	set      [MaxRuleRefs]bool
}

// window is a run of a group's entries, [lo, hi), and its measure.
type window struct {
	lo, hi   int
	count    int // entries
	distinct int // value_count: values; temporal kinds: rules
}

// counter measures a sliding run of entries.
type counter struct {
	c        *corr
	s        *scratch
	n        int
	distinct int
}

// newCounter returns a counter over the scratch; the scratch's value map
// is empty between evaluations (drain empties it).
func newCounter(c *corr, s *scratch) counter {
	s.rules = [MaxRuleRefs]int32{}
	return counter{c: c, s: s}
}

// drain removes the entries still counted, leaving the value map empty
// without clearing its whole capacity.
func (k *counter) drain(es []entry) {
	if k.c.rule.Type == ValueCount {
		for i := range es {
			k.del(&es[i])
		}
	}
}

func (k *counter) add(e *entry) {
	k.n++
	switch k.c.rule.Type {
	case ValueCount:
		if k.s.values[e.val]++; k.s.values[e.val] == 1 {
			k.distinct++
		}
	case Temporal:
		for m := e.mask; m != 0; m &= m - 1 {
			p := bits.TrailingZeros64(m)
			if k.s.rules[p]++; k.s.rules[p] == 1 {
				k.distinct++
			}
		}
	}
}

func (k *counter) del(e *entry) {
	k.n--
	switch k.c.rule.Type {
	case ValueCount:
		if k.s.values[e.val]--; k.s.values[e.val] == 0 {
			k.distinct--
			delete(k.s.values, e.val)
		}
	case Temporal:
		for m := e.mask; m != 0; m &= m - 1 {
			p := bits.TrailingZeros64(m)
			if k.s.rules[p]--; k.s.rules[p] == 0 {
				k.distinct--
			}
		}
	}
}

// measure is the number the condition is compared with.
func (k *counter) measure() int64 {
	if k.c.rule.Type == EventCount {
		return int64(k.n)
	}
	return int64(k.distinct)
}

// evalEager looks for a window of at most one timespan that holds the
// entry at time t and satisfies the (monotone) condition. It returns the
// earliest such window.
func (e *Engine) evalEager(c *corr, g *group, t int64) (window, bool) {
	if c.rule.Type == TemporalOrdered {
		return e.ordered(c, g.entries, t-c.span, t+c.span, true)
	}
	es := g.entries
	lo := sort.Search(len(es), func(i int) bool { return es[i].at >= t-c.span })
	hi := sort.Search(len(es), func(i int) bool { return es[i].at > t })
	k := newCounter(c, &e.scratch)
	j := lo
	for i := lo; i < hi; i++ {
		for j < len(es) && es[j].at <= es[i].at+c.span {
			k.add(&es[j])
			j++
		}
		if c.rule.Condition.Holds(k.measure()) {
			w := window{lo: i, hi: j, count: k.n, distinct: k.distinct}
			k.drain(es[i:j])
			return w, true
		}
		k.del(&es[i])
	}
	k.drain(es[max(hi, lo):max(j, hi, lo)])
	return window{}, false
}

// ordered finds, among the entries with times in [from, to], the first
// sequence of the correlation's rules in their listed order that lasts at
// most one timespan and whose length satisfies the condition. When
// monotone is false it instead measures the longest ordered prefix found
// in the whole run (whose entries already lie within one timespan).
func (e *Engine) ordered(c *corr, es []entry, from, to int64, monotone bool) (window, bool) {
	nr := len(c.rule.Rules)
	s := &e.scratch
	s.set = [MaxRuleRefs]bool{}
	lo := sort.Search(len(es), func(i int) bool { return es[i].at >= from })
	best := window{lo: lo, hi: lo}
	for k := lo; k < len(es) && es[k].at <= to; k++ {
		for p := nr - 1; p >= 0; p-- {
			if es[k].mask&(1<<p) == 0 {
				continue
			}
			switch {
			case p == 0:
				s.start[0], s.set[0] = k, true
			case s.set[p-1]:
				s.start[p], s.set[p] = s.start[p-1], true
			default:
				continue
			}
			if es[k].at-es[s.start[p]].at > c.span {
				continue
			}
			w := window{lo: s.start[p], hi: k + 1, count: k + 1 - s.start[p], distinct: p + 1}
			if monotone && c.rule.Condition.Holds(int64(p+1)) {
				return w, true
			}
			if w.distinct > best.distinct {
				best = w
			}
		}
	}
	return best, !monotone && best.distinct > 0 && c.rule.Condition.Holds(int64(best.distinct))
}

// closeWindows decides the windows of a group whose lateness has passed
// (all of them when final): the window starting at the oldest entry and
// lasting one timespan fires when its count satisfies the condition, and
// its entries are dropped either way.
func (e *Engine) closeWindows(c *corr, g *group, final bool) {
	for len(g.entries) > 0 {
		start := g.entries[0].at
		if !final && start+2*c.span >= e.clock {
			return
		}
		es := g.entries
		hi := sort.Search(len(es), func(i int) bool { return es[i].at > start+c.span })
		var w window
		var ok bool
		if c.rule.Type == TemporalOrdered {
			w, ok = e.ordered(c, es[:hi], start, start+c.span, false)
			w.lo, w.hi = 0, hi
			w.count = hi
		} else {
			k := newCounter(c, &e.scratch)
			for i := range es[:hi] {
				k.add(&es[i])
			}
			w = window{lo: 0, hi: hi, count: k.n, distinct: k.distinct}
			ok = c.rule.Condition.Holds(k.measure())
			k.drain(es[:hi])
		}
		if ok {
			e.fire(c, g, w, nil)
		} else {
			g.dropFirst(hi)
		}
	}
}

// fire turns a window into a Result, resets the group up to the window's
// end, and feeds the result to the correlations that reference c. ev is
// the event that completed the window, if any: chained correlations read
// group-by fields that the result's group lacks from it.
func (e *Engine) fire(c *corr, g *group, w window, ev *schema.Event) {
	res := e.result(c, g, w)
	g.dropFirst(w.hi)
	e.stats.Fired++
	e.out = append(e.out, res)
	for _, d := range c.down {
		e.feed(d.c, d.mask, input{at: res.Last.UnixNano(), ev: ev, up: &res})
	}
}
