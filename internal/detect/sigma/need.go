package sigma

import (
	"slices"
)

// A requirement is a conjunction of clauses, each a list of value sets
// (by idx) of which at least one must be flagged by the prefilter (see
// plan). An empty requirement requires nothing: the condition may hold
// whatever the prefilter finds.

// condNeed returns the requirement of a condition node.
func condNeed(n *condNode, d *detection) [][]int32 {
	switch n.kind {
	case condSearch:
		return searchNeed(d.searches[n.search], d)
	case condAnd:
		return andNeed(n.kids, d)
	case condOr:
		return orNeed(n.kids, d)
	case condOf:
		if n.n == len(n.kids) {
			return andNeed(n.kids, d)
		}
		// At least one of the kids holds when n of them do.
		return orNeed(n.kids, d)
	}
	// not: a negation holds when its operand does not, which the prefilter
	// cannot see.
	return nil
}

func andNeed(kids []*condNode, d *detection) [][]int32 {
	var out [][]int32
	for _, k := range kids {
		out = append(out, condNeed(k, d)...)
	}
	return out
}

func orNeed(kids []*condNode, d *detection) [][]int32 {
	alts := make([][][]int32, 0, len(kids))
	for _, k := range kids {
		alts = append(alts, condNeed(k, d))
	}
	return unionNeed(alts, d)
}

// unionNeed returns the requirement of a disjunction, or nothing when an
// alternative requires nothing. When few, it is every clause joining one
// clause of each alternative ((a and b) or c requires a or c, and b or c);
// else the one clause joining the best clause of each alternative.
func unionNeed(alts [][][]int32, d *detection) [][]int32 {
	if len(alts) == 1 {
		return alts[0]
	}
	combos := 1
	for _, a := range alts {
		if len(a) == 0 {
			return nil
		}
		combos *= len(a)
		if combos > maxUnionClauses {
			break
		}
	}
	if combos <= maxUnionClauses {
		out := [][]int32{nil}
		for _, a := range alts {
			next := make([][]int32, 0, len(out)*len(a))
			for _, prefix := range out {
				for _, c := range a {
					next = append(next, append(slices.Clone(prefix), c...))
				}
			}
			out = next
		}
		return out
	}
	var joined []int32
	for _, a := range alts {
		joined = append(joined, bestClause(a, d)...)
	}
	return [][]int32{joined}
}

// maxUnionClauses bounds the clauses a disjunction is spelled out into.
const maxUnionClauses = 32

// searchNeed returns the requirement of a search: its alternatives (maps)
// joined, each requiring every prefiltered set of its items.
func searchNeed(s *search, d *detection) [][]int32 {
	alts := make([][][]int32, 0, len(s.alts))
	for _, alt := range s.alts {
		var need [][]int32
		for _, it := range alt {
			for _, vs := range it.sets {
				if vs.pre {
					need = append(need, []int32{vs.idx})
				}
			}
		}
		alts = append(alts, need)
	}
	return unionNeed(alts, d)
}

// bestClause picks the clause of a requirement least likely to be
// satisfied by chance: the one whose weakest set has the longest needles,
// then the shortest.
func bestClause(need [][]int32, d *detection) []int32 {
	best, bestScore := need[0], -1
	for _, c := range need {
		score := clauseScore(c, d)
		if score > bestScore || (score == bestScore && len(c) < len(best)) {
			best, bestScore = c, score
		}
	}
	return best
}

// clauseScore rates a clause by its weakest set (see setScore).
func clauseScore(c []int32, d *detection) int {
	score := -1
	for _, a := range c {
		if s := setScore(d.sets[a]); score < 0 || s < score {
			score = s
		}
	}
	return score
}

// setScore rates a set by its shortest needle, an anchored needle counting
// as longer.
func setScore(vs *valueSet) int {
	score := -1
	for _, n := range vs.needles {
		s := len(n.text)
		switch n.kind {
		case needleExact:
			s += 8
		case needlePrefix, needleSuffix:
			s += 4
		}
		if score < 0 || s < score {
			score = s
		}
	}
	return score
}

// normalizeClauses sorts each clause, removes repeated sets and repeated
// clauses, and drops clauses implied by a smaller one (a superset of
// another clause is satisfied whenever that one is).
func normalizeClauses(cs [][]int32) [][]int32 {
	for i, c := range cs {
		c = slices.Clone(c)
		slices.Sort(c)
		cs[i] = slices.Compact(c)
	}
	slices.SortFunc(cs, func(a, b []int32) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return slices.Compare(a, b)
	})
	var out [][]int32
	for _, c := range cs {
		implied := false
		for _, o := range out {
			if isSubset(o, c) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, c)
		}
	}
	return out
}

// isSubset reports whether sorted a is a subset of sorted b.
func isSubset(a, b []int32) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}
