package sigma

// What finding a needle does. A needle's hit satisfies the clauses of the
// atoms it belongs to and, for big atoms (see indexBigAtoms), marks the
// atom. Both are marks (clauses numbered first, then two per big atom),
// and a needle's marks are one run of effects, so a hit reads one place:
// an effect holds its mark and, for a clause, the clause's routed rule and
// that rule's number of clauses.
type effect uint64

// clauseEffect returns the effect of satisfying clause c of routed rule
// rule, which has need clauses.
func clauseEffect(c, rule, need int32) effect {
	return effect(uint32(c)) | effect(rule+1)<<32 | effect(need)<<56
}

// mark returns the effect's mark.
func (f effect) mark() uint32 { return uint32(f) }

// rule returns the routed rule of a clause's effect, or -1 for a big
// atom's mark.
func (f effect) rule() int32 { return int32(f>>32&0xffffff) - 1 }

// need returns the number of clauses of a clause's rule.
func (f effect) need() int32 { return int32(f >> 56) }

// maxEffectRules bounds the routed rules of a route (effects hold a rule
// in 24 bits).
const maxEffectRules = 1<<24 - 1

// buildEffects lays out the effects of each needle: the clauses it
// satisfies (clauses[n], any order, with repeats) and the marks of the
// big atoms it belongs to (bigs[n]).
func (p *plan) buildEffects(clauses, bigs [][]int32) {
	p.nMarks = int(p.bigBase) + 2*p.nBig
	p.fxStart = make([]int32, 0, p.nNeedles+1)
	for n := range p.nNeedles {
		p.fxStart = append(p.fxStart, int32(len(p.fx)))
		for _, c := range sortedSet(clauses[n]) {
			ci := p.clauseRule[c]
			p.fx = append(p.fx, clauseEffect(c, ci.rule, ci.need))
		}
		for _, m := range bigs[n] {
			p.fx = append(p.fx, effect(uint32(m)))
		}
	}
	p.fxStart = append(p.fxStart, int32(len(p.fx)))
}

// markNeedle marks the first hit of a needle in the event: its marks are
// set, and a rule whose clauses are then all satisfied becomes a
// candidate.
func (st *evalState) markNeedle(id int32) {
	st.needleGen[id] = st.mgen
	p := st.p
	for _, f := range p.fx[p.fxStart[id]:p.fxStart[id+1]] {
		m := f.mark()
		if st.markGen[m] == st.mgen {
			continue
		}
		st.markGen[m] = st.mgen
		r := f.rule()
		if r < 0 {
			continue
		}
		rm := &st.ruleMark[r]
		if rm.gen != st.mgen {
			rm.gen, rm.cnt = st.mgen, 0
		}
		if rm.cnt++; int32(rm.cnt) == f.need() {
			st.cands = append(st.cands, r)
		}
	}
}
