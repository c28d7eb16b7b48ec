package sigma

import (
	"slices"
	"strconv"
	"strings"
)

// plan is the prefilter of a route: the literal needles of all its rules,
// grouped per field into automata, and what a needle hit implies.
//
// Every value set of every routed rule is an atom (numbered from the
// rule's atomBase plus the set's idx). A rule's condition is reduced at
// compile time to clauses, sets of atoms of which at least one must match
// for the condition to hold (see condNeed). Scanning an event's fields
// marks the needles found; a needle's hit satisfies the clauses of the
// atoms it belongs to, and a rule is evaluated only when all its clauses
// are satisfied, or always when it has none. An atom matches when one of
// its literals was found (flagDef); when only the required literal of one
// of its wildcard patterns or regular expressions was found (flagMaybe),
// those patterns are checked.
type plan struct {
	// groups are the field groups, whose heads are heads[i], then the
	// keyword groups (scanned last: the field groups cover fields for
	// them); groupSlots holds the slots of the field groups.
	groups     []scanGroup
	heads      []groupHead
	groupSlots []int32
	nNeedles   int
	nAtoms     int
	// scanned tells, per atom, whether its needles are searched in every
	// event; the sets of the others are matched directly when read.
	scanned []bool
	nRep    int // reporting states of the groups' DFAs
	// Needles of atom a: literals atomNeedles[atomStart[a]:atomMaybe[a]],
	// required literals atomNeedles[atomMaybe[a]:atomStart[a+1]].
	atomStart   []int32
	atomMaybe   []int32
	atomNeedles []int32
	// What finding needle n does: fx[fxStart[n]:fxStart[n+1]] (see
	// effect). Marks are numbered clauses first, then two per big atom.
	fxStart []int32
	fx      []effect
	nMarks  int
	// Atoms with many needles are marked when a needle is found (see
	// indexBigAtoms): atomBig[a] numbers atom a among them, or is -1.
	atomBig    []int32
	nBig       int
	bigBase    int32        // the mark of the first big atom
	clauseRule []clauseInfo // routed rule of each clause, and its clause count
	ruleNeed   []int32      // clauses per routed rule
	always     []int32      // routed rules without clauses, in order
}

// Atom flags.
const (
	flagDef   = 1 // a literal of the set matched: the set matches
	flagMaybe = 2 // a required literal occurred: the set must be checked
)

// scanGroup is one field of a route (the slots tried in order, or the
// whole event for keywords), compared case-insensitively or as written,
// and the automata of the needles searched in it.
type scanGroup struct {
	slots   []int32
	keyword bool
	cased   bool
	// prefix holds the needles the value starts with and (as ends) those
	// it equals, from node 0; suffix the reversed needles it ends with.
	prefix *sparseTrie
	suffix *sparseTrie
	// ac finds the needles the value contains; acx those with bytes that
	// are not printable ASCII, tab or line breaks (wide and UTF-8 needles),
	// which only values with such bytes can contain.
	ac  *acDFA
	acx *acDFA
	// stride replaces ac when every needle is long (see strideSearch);
	// gramsx replaces acx when there are many exotic needles (see
	// gramSearch).
	stride *strideSearch
	gramsx *gramSearch
	// ascii says every needle of the group is ASCII (see mustLowerText).
	ascii bool
	// covers says the group also searches the route's keyword needles
	// (see embedKeywords), so the field it reads needs no keyword search.
	covers bool
	// minLen is the length of the group's shortest needle: shorter values
	// need no scan.
	minLen int
	// memoID numbers the group among all the engine's groups, for the
	// value memo (see valueMemo).
	memoID uint32
}

// clauseInfo is a clause's rule and the number of clauses of that rule.
type clauseInfo struct {
	rule, need int32
}

// maxRuleClauses bounds the clauses a rule keeps: a needle hit updates
// every clause it satisfies, and a few selective clauses already keep the
// rule from being evaluated on most events.
const maxRuleClauses = 6

// keepBestClauses keeps the maxRuleClauses clauses of cs least likely to
// be satisfied by chance (see clauseScore).
func keepBestClauses(cs [][]int32, d *detection) [][]int32 {
	if len(cs) <= maxRuleClauses {
		return cs
	}
	slices.SortStableFunc(cs, func(a, b []int32) int {
		if sa, sb := clauseScore(a, d), clauseScore(b, d); sa != sb {
			return sb - sa
		}
		return len(a) - len(b)
	})
	return cs[:maxRuleClauses]
}

// needleKey identifies a needle within a group.
type needleKey struct {
	kind needleKind
	text string
}

// groupBuilder collects the needles of one group.
type groupBuilder struct {
	g     scanGroup
	index map[needleKey]int32
	order []needleKey
	// extra are keyword needles the group searches too, with their ids
	// (see embedKeywords).
	extra    []needleKey
	extraIDs []int32
}

// planner builds the plan of a route.
type planner struct {
	p      *plan
	groups map[string]*groupBuilder
	keys   []string
	// def and maybe list the needles of each atom.
	def, maybe [][]int32
}

// buildPlan compiles the prefilter of rt's rules; ecs tells the slots read
// from the ECS fields.
func buildPlan(rt *route, ecs func(slot int32) bool) *plan {
	pl := &planner{p: &plan{}, groups: map[string]*groupBuilder{}}
	var clauses [][]int32
	for ri := range rt.rules {
		clauses = append(clauses, pl.addRule(rt, int32(ri))...)
	}
	pl.index(clauses)
	pl.embedKeywords(pl.keywordNeedles(), ecs)
	p := pl.p
	for _, k := range pl.keys {
		g := pl.groups[k].compile()
		for _, a := range []*acDFA{g.ac, g.acx} {
			if a != nil {
				a.repBase = int32(p.nRep)
				p.nRep += len(a.tail)
			}
		}
		p.groups = append(p.groups, g)
		if !g.keyword {
			p.heads = append(p.heads, groupHead{first: g.slots[0], lo: int32(len(p.groupSlots)),
				hi: int32(len(p.groupSlots) + len(g.slots) - 1), minLen: int32(g.minLen), covers: g.covers,
				ecs: slices.ContainsFunc(g.slots, ecs)})
			p.groupSlots = append(p.groupSlots, g.slots[1:]...)
		}
	}
	return p
}

// groupHead is what the scan of an event reads of a field group before its
// automata (see scanFields): its first slot and the others
// (groupSlots[lo:hi]), the length of its shortest needle, its memo number,
// whether it covers its field for the keywords (see embedKeywords) and
// whether some slot is an ECS field.
type groupHead struct {
	first  int32
	lo, hi int32
	minLen int32
	memoID uint32
	covers bool
	ecs    bool
}

// numberGroups numbers the plan's groups for the value memo from first,
// and returns the next number.
func (p *plan) numberGroups(first uint32) uint32 {
	for i := range p.groups {
		p.groups[i].memoID = first
		if i < len(p.heads) {
			p.heads[i].memoID = first
		}
		first++
	}
	return first
}

// addRule plans routed rule ri: its atoms, the needles of its scanned sets
// and its clauses (returned, in route atom numbers).
func (pl *planner) addRule(rt *route, ri int32) [][]int32 {
	rr := &rt.rules[ri]
	rr.atomBase = int32(pl.p.nAtoms)
	d := rr.rule.det
	pl.p.nAtoms += len(d.sets)
	pl.def = append(pl.def, make([][]int32, len(d.sets))...)
	pl.maybe = append(pl.maybe, make([][]int32, len(d.sets))...)
	cs := keepBestClauses(normalizeClauses(condNeed(d.cond, d)), d)
	// The needles of a rule's clauses are searched in every event; so are
	// all of those of a rule without clauses (it is evaluated on every
	// event). The other sets of rules with clauses are only read when the
	// rule is a candidate, and compared directly then.
	scanned := make([]bool, len(d.sets))
	for _, c := range cs {
		for _, a := range c {
			scanned[a] = true
		}
	}
	if len(cs) == 0 {
		for i := range scanned {
			scanned[i] = true
		}
		pl.p.always = append(pl.p.always, ri)
	}
	pl.p.scanned = append(pl.p.scanned, scanned...)
	for _, s := range d.searches {
		for _, alt := range s.alts {
			for _, it := range alt {
				pl.addItem(rr, it, scanned)
			}
		}
	}
	pl.p.ruleNeed = append(pl.p.ruleNeed, int32(len(cs)))
	for _, c := range cs {
		for i := range c {
			c[i] += rr.atomBase
		}
		pl.p.clauseRule = append(pl.p.clauseRule, clauseInfo{rule: ri, need: int32(len(cs))})
	}
	return cs
}

// addItem adds the needles of an item's scanned sets to their groups.
func (pl *planner) addItem(rr *routedRule, it *item, scanned []bool) {
	var slots []int32
	if it.field >= 0 {
		slots = rr.fields[it.field]
	}
	for _, vs := range it.sets {
		if !scanned[vs.idx] {
			continue
		}
		atom := rr.atomBase + vs.idx
		for _, n := range vs.needles {
			gb := pl.group(slots, it.field < 0, n.cased)
			id := gb.needle(pl.p, n.kind, n.text)
			if n.maybe {
				pl.maybe[atom] = append(pl.maybe[atom], id)
			} else {
				pl.def[atom] = append(pl.def[atom], id)
			}
		}
	}
}

// group returns the builder of a group, adding it when new.
func (pl *planner) group(slots []int32, keyword, cased bool) *groupBuilder {
	var b strings.Builder
	b.WriteString(strconv.FormatBool(keyword) + strconv.FormatBool(cased))
	for _, s := range slots {
		b.WriteString("," + strconv.Itoa(int(s)))
	}
	key := b.String()
	gb, ok := pl.groups[key]
	if !ok {
		gb = &groupBuilder{g: scanGroup{slots: slots, keyword: keyword, cased: cased}, index: map[needleKey]int32{}}
		pl.groups[key] = gb
		pl.keys = append(pl.keys, key)
	}
	return gb
}

// needle returns the route needle id of a needle of the group, adding it
// when new.
func (gb *groupBuilder) needle(p *plan, kind needleKind, text string) int32 {
	k := needleKey{kind, text}
	if id, ok := gb.index[k]; ok {
		return id
	}
	id := int32(p.nNeedles)
	p.nNeedles++
	gb.index[k] = id
	gb.order = append(gb.order, k)
	return id
}

// compile builds the group's automata.
func (gb *groupBuilder) compile() scanGroup {
	g := gb.g
	fold := !g.cased
	var pre, suf trieBuilder
	pre.newRoot()
	suf.newRoot()
	var acTexts, axTexts []string
	var acIDs, axIDs []int32
	g.minLen, g.ascii = -1, true
	ids := make([]int32, 0, len(gb.order)+len(gb.extra))
	for _, k := range gb.order {
		ids = append(ids, gb.index[k])
	}
	ids = append(ids, gb.extraIDs...)
	for i, k := range slices.Concat(gb.order, gb.extra) {
		id := ids[i]
		if g.minLen < 0 || len(k.text) < g.minLen {
			g.minLen = len(k.text)
		}
		g.ascii = g.ascii && firstHigh(k.text) < 0
		switch k.kind {
		case needleExact, needlePrefix:
			pre.insert(0, k.text, false, k.kind == needleExact, id)
		case needleSuffix:
			suf.insert(0, k.text, true, false, id)
		case needleContains:
			if hasExotic(k.text) {
				axTexts, axIDs = append(axTexts, k.text), append(axIDs, id)
			} else {
				acTexts, acIDs = append(acTexts, k.text), append(acIDs, id)
			}
		}
	}
	if len(pre.kids) > 1 {
		g.prefix = pre.freeze(fold)
	}
	if len(suf.kids) > 1 {
		g.suffix = suf.freeze(fold)
	}
	switch {
	case useStrideSearch(acTexts):
		g.stride = newStrideSearch(acTexts, acIDs, fold)
	case len(acTexts) > 0:
		g.ac = newACDFA(acTexts, acIDs, fold)
	}
	switch {
	case len(axTexts) > gramMinNeedles:
		g.gramsx = newGramSearch(axTexts, axIDs, fold)
	case len(axTexts) > 0:
		g.acx = newACDFA(axTexts, axIDs, fold)
	}
	return g
}

// gramMinNeedles is the number of exotic contains needles above which a
// group uses a gram search rather than a DFA: exotic needles (UTF-16 and
// UTF-8 text, lists of look-alike characters) have many distinct bytes, so
// their DFA would be large, and they are only searched in the few values
// with exotic bytes.
const gramMinNeedles = 64

// useStrideSearch reports whether a stride search suits needles better
// than a DFA: when all are long and there are not too many.
func useStrideSearch(needles []string) bool {
	if len(needles) == 0 || len(needles) > strideMaxNeedles {
		return false
	}
	for _, s := range needles {
		if len(s) < strideMinWindow {
			return false
		}
	}
	return true
}

// index flattens the needles of each atom and what finding each needle
// does.
func (pl *planner) index(clauses [][]int32) {
	p := pl.p
	atomClauses := make([][]int32, p.nAtoms)
	for ci, c := range clauses {
		for _, a := range c {
			atomClauses[a] = append(atomClauses[a], int32(ci))
		}
	}
	perNeedle := make([][]int32, p.nNeedles)
	for a := range p.nAtoms {
		def, maybe := sortedSet(pl.def[a]), sortedSet(pl.maybe[a])
		p.atomStart = append(p.atomStart, int32(len(p.atomNeedles)))
		p.atomNeedles = append(p.atomNeedles, def...)
		p.atomMaybe = append(p.atomMaybe, int32(len(p.atomNeedles)))
		p.atomNeedles = append(p.atomNeedles, maybe...)
		if len(atomClauses[a]) == 0 {
			continue
		}
		for _, n := range slices.Concat(def, maybe) {
			perNeedle[n] = append(perNeedle[n], atomClauses[a]...)
		}
	}
	p.atomStart = append(p.atomStart, int32(len(p.atomNeedles)))
	p.bigBase = int32(len(p.clauseRule))
	p.buildEffects(perNeedle, pl.indexBigAtoms())
}

// sortedSet sorts a list and drops repeats.
func sortedSet(l []int32) []int32 {
	slices.Sort(l)
	return slices.Compact(l)
}
