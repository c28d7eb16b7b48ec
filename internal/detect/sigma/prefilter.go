package sigma

import (
	"slices"
	"unsafe"
)

// evalRoute evaluates the rules of rt on the state's event: it scans the
// event's fields with the route's automata, then evaluates, in rule order,
// the rules whose clauses are all satisfied and those without clauses.
func (st *evalState) evalRoute(rt *route, fn func(r *Rule)) {
	p := rt.plan
	st.prepare(p)
	for gi := range p.groups {
		st.scanGroup(&p.groups[gi])
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
		st.repGen = make([]uint32, p.nRep)
	}
	if len(st.needleGen) < p.nNeedles {
		st.needleGen = make([]uint32, p.nNeedles)
	}
	if len(st.clauseGen) < len(p.clauseRule) {
		st.clauseGen = make([]uint32, len(p.clauseRule))
	}
	if len(st.ruleMark) < len(p.ruleNeed) {
		st.ruleMark = make([]ruleMark, len(p.ruleNeed))
	}
	if len(st.bigGen) < 2*p.nBig {
		st.bigGen = make([]uint32, 2*p.nBig)
	}
}

// scanGroup runs a group's automata over its field (the first of its slots
// that is present) or, for keywords, over every text of the event.
func (st *evalState) scanGroup(g *scanGroup) {
	if g.keyword {
		st.keywords()
		if g.cased || g.prefix != nil || g.suffix != nil || g.acx != nil || g.gramsx != nil {
			for _, t := range st.kwRaw {
				st.scanText(g, t, -1)
			}
			return
		}
		// Only contains needles: one pass over the short texts joined,
		// and one over each long text.
		g.scanContains(st.kwJoined(), st)
		for _, t := range st.kwLong {
			g.scanContains(t, st)
		}
		return
	}
	for _, s := range g.slots {
		if _, ok := st.raw(s); ok {
			st.scanValue(g, st.slot[s].val, s)
			return
		}
	}
}

// kwJoined returns the short keyword texts (at least p.kwMinLen long,
// shorter than kwLongText) joined by NUL bytes, lower-cased where the
// folding automata need it, and sets kwLong to the long ones, once per
// event. No contains needle of the main automata holds a NUL (it is an
// exotic byte), so no needle is found across two texts.
func (st *evalState) kwJoined() string {
	if st.kwCatGen != st.gen {
		st.kwCatGen = st.gen
		b := st.kwCat[:0]
		st.kwLong = st.kwLong[:0]
		for _, t := range st.kwRaw {
			if len(t) < st.p.kwMinLen {
				continue
			}
			lowerIt := false
			if hi := firstHigh(t); hi >= 0 {
				lowerIt = needsLower(t[hi:])
			}
			switch {
			case len(t) >= kwLongText && lowerIt:
				st.kwLong = append(st.kwLong, st.lowerText(t))
			case len(t) >= kwLongText:
				st.kwLong = append(st.kwLong, t)
			case lowerIt:
				b = append(lowerInto(b, t), 0)
			default:
				b = append(append(b, t...), 0)
			}
		}
		st.kwCat = b
	}
	return unsafe.String(unsafe.SliceData(st.kwCat), len(st.kwCat))
}

// kwLongText is the length from which a keyword text is searched on its
// own rather than joined to the others.
const kwLongText = 256

// scanContains runs the group's contains automata over text.
func (g *scanGroup) scanContains(text string, st *evalState) {
	if g.ac != nil {
		g.ac.scan(text, st)
	}
	if g.skip != nil {
		g.skip.scan(text, st)
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
	hi := firstHigh(raw)
	high := hi >= 0
	text := raw
	if high && !g.cased && needsLower(raw[hi:]) {
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
	if g.skip != nil {
		g.skip.scan(text, st)
	}
	if (g.acx != nil || g.gramsx != nil) && (high || hasExotic(text)) {
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
		if st.needleGen[id] != st.gen {
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
	if st.needleGen[id] != st.gen {
		st.markNeedle(id)
	}
}

// markNeedle marks the first hit of a needle in the event.
func (st *evalState) markNeedle(id int32) {
	st.needleGen[id] = st.gen
	p := st.p
	for _, m := range p.needleBig[p.needleBigStart[id]:p.needleBigStart[id+1]] {
		st.bigGen[m] = st.gen
	}
	for _, c := range p.needleClauses[p.needleClauseStart[id]:p.needleClauseStart[id+1]] {
		if st.clauseGen[c] == st.gen {
			continue
		}
		st.clauseGen[c] = st.gen
		ci := p.clauseRule[c]
		rm := &st.ruleMark[ci.rule]
		if rm.gen != st.gen {
			rm.gen, rm.cnt = st.gen, 0
		}
		if rm.cnt++; rm.cnt == ci.need {
			st.cands = append(st.cands, ci.rule)
		}
	}
}
