package sigma

import (
	"slices"
)

// evalRoute evaluates the rules of rt on the state's event: it scans the
// event's fields with the route's automata, then evaluates, in rule order,
// the rules whose clauses are all satisfied and those without clauses.
func (st *evalState) evalRoute(rt *route, fn func(r *Rule)) {
	p := rt.plan
	st.prepare(p)
	st.scanFields(p)
	for gi := len(p.heads); gi < len(p.groups); gi++ {
		st.scanKeywordGroup(&p.groups[gi])
	}
	cands := st.cands
	slices.Sort(cands)
	i, j := 0, 0
	for {
		var ri int32
		switch {
		case i < len(cands) && (j == len(p.always) || cands[i] < p.always[j]):
			ri = cands[i]
			i++
		case j < len(p.always):
			ri = p.always[j]
			j++
		default:
			return
		}
		rr := &rt.rules[ri]
		st.fields, st.base = rr.fields, rr.atomBase
		if st.rule(rr.rule.det) {
			fn(rr.rule)
		}
	}
}

// prepare sizes the state's marks for plan p.
func (st *evalState) prepare(p *plan) {
	st.p = p
	st.cands = st.cands[:0]
	if len(st.repGen) < p.nRep {
		st.repGen = make([]uint8, p.nRep)
	}
	if len(st.needleGen) < p.nNeedles {
		st.needleGen = make([]uint8, p.nNeedles)
	}
	if len(st.markGen) < p.nMarks {
		st.markGen = make([]uint8, p.nMarks)
	}
	if len(st.ruleMark) < len(p.ruleNeed) {
		st.ruleMark = make([]ruleMark, len(p.ruleNeed))
	}
}

// scanFields runs every field group's automata over its field: the first
// of its slots that is present.
func (st *evalState) scanFields(p *plan) {
	for i := range p.heads {
		h := &p.heads[i]
		s := h.first
		if st.present[s] != st.gen {
			if !h.ecs && h.lo == h.hi {
				continue // the group's only slot, an original field, is absent
			}
			if !st.has(s, h.ecs) {
				if s = st.laterSlot(p, h); s < 0 {
					continue
				}
			}
		}
		sl := &st.slot[s]
		st.scanValue(&p.groups[i], h, sl.val, s)
		if h.covers {
			st.cover(sl.fi)
		}
	}
}

// has reports whether slot s has a value in the event. Original fields
// were indexed by indexFields (see present); a group with ECS slots (ecs)
// reads those on demand.
func (st *evalState) has(s int32, ecs bool) bool {
	if st.present[s] == st.gen {
		return true
	}
	if !ecs {
		return false
	}
	_, ok := st.raw(s)
	return ok
}

// laterSlot returns the first slot after the first of group head h that
// has a value, or -1.
func (st *evalState) laterSlot(p *plan, h *groupHead) int32 {
	for _, s := range p.groupSlots[h.lo:h.hi] {
		if st.has(s, h.ecs) {
			return s
		}
	}
	return -1
}

// scanKeywordGroup runs a keyword group's automata over the texts of the
// event (see scanKeywords for the usual groups of contains needles).
func (st *evalState) scanKeywordGroup(g *scanGroup) {
	if g.cased || g.prefix != nil || g.suffix != nil || g.acx != nil || g.gramsx != nil {
		st.keywords()
		for _, t := range st.kwRaw {
			st.scanText(g, t, -1)
		}
		return
	}
	st.scanKeywords(g)
}

// scanContains runs the group's contains automata over text.
func (g *scanGroup) scanContains(text string, st *evalState) {
	if g.ac != nil {
		g.ac.scan(text, st)
	}
	if g.stride != nil {
		g.stride.scan(text, st)
	}
}

// scanText reports the group's needles found in raw, the value of slot s
// (-1 for a keyword text). The automata of a case-insensitive group fold
// ASCII letters themselves, so the value is only lower-cased first when it
// has non-ASCII letters that change.
func (st *evalState) scanText(g *scanGroup, raw string, s int32) {
	if len(raw) < g.minLen {
		return // no needle fits
	}
	text := raw
	if !g.cased && g.mustLowerText(raw) {
		if s >= 0 {
			text = st.low(s)
		} else {
			text = st.lowerText(raw)
		}
	}
	if g.prefix != nil {
		g.prefix.walk(0, text, 0, st)
	}
	if g.suffix != nil {
		g.suffix.walkBack(0, text, st)
	}
	if g.ac != nil {
		g.ac.scan(text, st)
	}
	if g.stride != nil {
		g.stride.scan(text, st)
	}
	if (g.acx != nil || g.gramsx != nil) && hasExotic(text) {
		if g.acx != nil {
			g.acx.scan(text, st)
		} else {
			g.gramsx.scan(text, st)
		}
	}
}

// hitNeedles records hits of needles (see hitNeedle).
func (st *evalState) hitNeedles(ids []int32) {
	if st.recording {
		st.recorded = append(st.recorded, ids...)
	}
	for _, id := range ids {
		if st.needleGen[id] != st.mgen {
			st.markNeedle(id)
		}
	}
}

// hitNeedle records a hit of a needle, once per event: it satisfies the
// needle's clauses, and a rule whose clauses are all satisfied becomes a
// candidate. While the state records (see scanValue), every needle
// reported is also appended to recorded, even one already hit.
func (st *evalState) hitNeedle(id int32) {
	if st.recording {
		st.recorded = append(st.recorded, id)
	}
	if st.needleGen[id] != st.mgen {
		st.markNeedle(id)
	}
}
