package sigma

import (
	"slices"
)

// Keyword coverage. Keywords are searched in the event's message and in
// every original field value, so most of the bytes they read are values the
// field groups read too, and remember (see valueMemo). The needles of a
// route's keyword group, when it has only case-insensitive contains needles
// (the usual keyword lists), are therefore also searched by every
// case-insensitive field group that reads original fields only: the value
// such a group scans is one of the keyword texts, so a keyword needle found
// there is found in the event, and it is found at no extra cost when the
// value is remembered. The group covers the field it read (marked by the
// field's index in the event), and the keyword group itself then searches
// only the message and the fields no group covered.

// keywordNeedles returns the needles of the route's case-insensitive
// keyword group when they can be covered by the field groups: contains
// needles without exotic bytes (so that a value of a covering group is
// scanned for them as the keyword group would scan it). It returns nil
// otherwise.
func (pl *planner) keywordNeedles() []needleKey {
	for _, gb := range pl.groups {
		if !gb.g.keyword || gb.g.cased {
			continue
		}
		for _, k := range gb.order {
			if k.kind != needleContains || hasExotic(k.text) {
				return nil
			}
		}
		return gb.order
	}
	return nil
}

// embedKeywords gives the keyword needles kw (with their ids in the
// keyword group) to the field groups that can cover their fields:
// case-insensitive groups whose slots are all original fields (ecs tells
// the slots read from the ECS fields, which are not keyword texts). It
// orders the groups so that the keyword groups come last.
func (pl *planner) embedKeywords(kw []needleKey, ecs func(slot int32) bool) {
	slices.SortStableFunc(pl.keys, func(a, b string) int {
		ka, kb := pl.groups[a].g.keyword, pl.groups[b].g.keyword
		switch {
		case ka == kb:
			return 0
		case kb:
			return -1
		}
		return 1
	})
	if len(kw) == 0 {
		return
	}
	var kwGroup *groupBuilder
	for _, gb := range pl.groups {
		if gb.g.keyword && !gb.g.cased {
			kwGroup = gb
		}
	}
	for _, gb := range pl.groups {
		if gb.g.keyword || gb.g.cased || slices.ContainsFunc(gb.g.slots, ecs) {
			continue
		}
		gb.g.covers = true
		for _, k := range kw {
			gb.extra = append(gb.extra, k)
			gb.extraIDs = append(gb.extraIDs, kwGroup.index[k])
		}
	}
}

// cover marks field fi of the event as searched for the keyword needles.
func (st *evalState) cover(fi int32) {
	st.kwCover[fi] = st.gen
}

// scanKeywords runs a keyword group of case-insensitive contains needles
// over the texts it still has to search: the message and the fields no
// field group covered.
func (st *evalState) scanKeywords(g *scanGroup) {
	minLen := max(g.minLen, 1) // texts shorter than every needle hold none
	if m := st.ev.Message; len(m) >= minLen {
		st.keywordText(g, m)
	}
	f := st.ev.Fields
	for i := range f {
		if v := f[i].Value; len(v) >= minLen && st.kwCover[i] != st.gen {
			st.keywordText(g, v)
		}
	}
}

// keywordText runs a keyword group of contains needles over text t, read
// lower-cased when it has non-ASCII letters that change (the automata fold
// ASCII letters themselves).
func (st *evalState) keywordText(g *scanGroup, t string) {
	if g.mustLowerText(t) {
		t = st.lowerText(t)
	}
	g.scanContains(t, st)
}

// keywordItem matches a keyword item against the event's message and every
// original field value: each set must match one of them.
func (st *evalState) keywordItem(it *item) bool {
	for _, vs := range it.sets {
		if a := st.base + vs.idx; st.p != nil && st.p.scanned[a] {
			f := st.atomFlags(a)
			if f&flagDef != 0 {
				continue
			}
			if !vs.slow || (vs.pre && f&flagMaybe == 0) {
				return false
			}
		}
		st.kwLower()
		hit := false
		for i, raw := range st.kwRaw {
			if vs.text {
				v := raw
				if !vs.cased {
					v = st.kwLow[i]
				}
				if vs.matchText(v) {
					hit = true
					break
				}
			}
			if vs.rawPats && vs.matchRaw(raw) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// keywords collects the texts keyword items search, once per event.
func (st *evalState) keywords() {
	if st.kwGen == st.gen {
		return
	}
	st.kwGen = st.gen
	st.kwRaw = st.kwRaw[:0]
	if st.ev.Message != "" {
		st.kwRaw = append(st.kwRaw, st.ev.Message)
	}
	for i := range st.ev.Fields {
		if v := st.ev.Fields[i].Value; v != "" {
			st.kwRaw = append(st.kwRaw, v)
		}
	}
}

// kwLower lower-cases the keyword texts, once per event.
func (st *evalState) kwLower() {
	st.keywords()
	if st.kwLowGen == st.gen {
		return
	}
	st.kwLowGen = st.gen
	st.kwLow = st.kwLow[:0]
	for _, v := range st.kwRaw {
		st.kwLow = append(st.kwLow, st.lowerText(v))
	}
}
