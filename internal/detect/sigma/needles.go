package sigma

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// needleKind is where a literal must stand in a field value.
type needleKind uint8

const (
	needleExact needleKind = iota
	needlePrefix
	needleSuffix
	needleContains
)

// needleSpec is one literal of a value set that the route's automata look
// for. A hit of a needle that is not maybe proves that the set matches; a
// hit of a maybe needle (the required literal of a wildcard pattern or a
// regular expression) only says the pattern can match and must be checked.
type needleSpec struct {
	kind  needleKind
	text  string
	maybe bool
	// cased needles are searched in the value as written, the others in
	// the lower-cased value.
	cased bool
}

// maxRegexNeedles bounds the alternatives a regular expression's prefilter
// may have.
const maxRegexNeedles = 32

// planNeedles lists the needles of a set and decides whether the set is
// prefiltered: whether it can only match when one of its needles occurs.
func (vs *valueSet) planNeedles() {
	add := func(kind needleKind, list []string) {
		for _, s := range list {
			vs.needles = append(vs.needles, needleSpec{kind: kind, text: s, cased: vs.cased})
		}
	}
	add(needleExact, vs.exact)
	add(needlePrefix, vs.prefix)
	add(needleSuffix, vs.suffix)
	add(needleContains, vs.contains)
	pre := !vs.null && !vs.any && len(vs.cidrs) == 0 && len(vs.cmps) == 0
	for _, g := range vs.globs {
		n, ok := globNeedle(g)
		if !ok {
			pre = false
			continue
		}
		n.cased = vs.cased
		vs.needles = append(vs.needles, n)
	}
	for _, re := range vs.regexes {
		lits := regexNeedles(re.re)
		if len(lits) == 0 {
			pre = false
			continue
		}
		for _, l := range lits {
			vs.needles = append(vs.needles, needleSpec{kind: needleContains, text: l, maybe: true})
		}
	}
	vs.pre = pre && len(vs.needles) > 0
	vs.slow = vs.any || len(vs.globs) > 0 || vs.rawPats
}

// globNeedle returns the literal a wildcard pattern requires: its leading
// or trailing literal (anchored) or its longest literal, whichever is
// longest, counting an anchor as four bytes.
func globNeedle(g sigmaString) (needleSpec, bool) {
	best, score := needleSpec{}, 0
	for i, p := range g {
		if p.kind != partLit {
			continue
		}
		n, sc := needleSpec{kind: needleContains, text: p.lit, maybe: true}, len(p.lit)
		switch {
		case i == 0 && len(g) > 1:
			n.kind, sc = needlePrefix, sc+4
		case i == len(g)-1 && len(g) > 1:
			n.kind, sc = needleSuffix, sc+4
		}
		if sc > score {
			best, score = n, sc
		}
	}
	return best, score > 0
}

// regexNeedles returns lower-cased literals one of which occurs, lower-cased,
// in every text the regular expression matches, or nil when it has no such
// literals.
func regexNeedles(re *regexp.Regexp) []string {
	r, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	lits := requiredLits(r.Simplify())
	for _, l := range lits {
		if len(l) == 0 || (len(l) == 1 && byteCommonness(l[0]) >= 5) {
			return nil // too common to rule anything out
		}
	}
	return lits
}

// requiredLits returns literals one of which every match of r contains, or
// nil.
func requiredLits(r *syntax.Regexp) []string {
	switch r.Op {
	case syntax.OpLiteral:
		return longest(literalPieces(r, nil))
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(r.Sub[0])
	case syntax.OpRepeat:
		if r.Min >= 1 {
			return requiredLits(r.Sub[0])
		}
	case syntax.OpConcat:
		return concatLits(r.Sub)
	case syntax.OpAlternate:
		var out []string
		for _, s := range r.Sub {
			l := requiredLits(s)
			if len(l) == 0 {
				return nil
			}
			out = append(out, l...)
		}
		if len(out) > maxRegexNeedles {
			return nil
		}
		return out
	}
	return nil
}

// concatLits picks the best requirement of a concatenation: runs of
// adjacent literals and small character classes, spelled out (a literal
// then [ab] is the two literals), or the requirement of one part.
func concatLits(subs []*syntax.Regexp) []string {
	var best []string
	consider := func(c []string) {
		if len(c) > 0 && (best == nil || litScore(c) > litScore(best)) {
			best = c
		}
	}
	run := []string{""}
	flush := func() {
		if litScore(run) > 0 {
			consider(run)
		}
		run = []string{""}
	}
	for _, s := range subs {
		alts, ok := spellOut(s)
		if !ok {
			flush()
			consider(requiredLits(s))
			continue
		}
		if len(alts)*len(run) > maxRegexNeedles {
			flush()
		}
		run = crossJoin(run, alts)
	}
	flush()
	return best
}

// crossJoin returns every a+b.
func crossJoin(as, bs []string) []string {
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

// spellOut returns the lower-cased texts a literal or a small character
// class matches, when each is safe to search in lower-cased text (see
// literalPieces), or false.
func spellOut(r *syntax.Regexp) ([]string, bool) {
	switch r.Op {
	case syntax.OpLiteral:
		p := literalPieces(r, nil)
		if len(p) != 1 {
			return nil, false // an unsafe rune breaks it
		}
		return p, true
	case syntax.OpCapture:
		return spellOut(r.Sub[0])
	case syntax.OpAlternate, syntax.OpConcat:
		out := []string{""}
		if r.Op == syntax.OpAlternate {
			out = nil
		}
		for _, sub := range r.Sub {
			alts, ok := spellOut(sub)
			if !ok {
				return nil, false
			}
			if r.Op == syntax.OpAlternate {
				out = append(out, alts...)
			} else {
				out = crossJoin(out, alts)
			}
			if len(out) > maxRegexNeedles {
				return nil, false
			}
		}
		return out, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(r.Rune); i += 2 {
			if r.Rune[i+1]-r.Rune[i] >= 8 {
				return nil, false
			}
			for c := r.Rune[i]; c <= r.Rune[i+1]; c++ {
				if c == utf8.RuneError || !foldSafe(c) {
					return nil, false
				}
				l := string(unicode.ToLower(c))
				if !slices.Contains(out, l) {
					out = append(out, l)
				}
				if len(out) > 8 {
					return nil, false
				}
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// litScore rates a requirement by its shortest literal.
func litScore(l []string) int {
	if len(l) == 0 {
		return 0
	}
	m := len(l[0])
	for _, s := range l[1:] {
		m = min(m, len(s))
	}
	return m
}

// longest returns the longest of pieces as a one-element list, or nil.
func longest(pieces []string) []string {
	best := ""
	for _, p := range pieces {
		if len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return nil
	}
	return []string{best}
}

// literalPieces appends the lower-cased text of literal r to the last piece
// of run, starting a new piece at every rune whose lower-cased form cannot
// be relied on (a case-folded rune with a fold that lower-cases to
// something else, such as ſ for s, or the replacement character, which
// stands for invalid bytes).
func literalPieces(r *syntax.Regexp, run []string) []string {
	var b strings.Builder
	if len(run) > 0 {
		b.WriteString(run[len(run)-1])
		run = run[:len(run)-1]
	}
	fold := r.Flags&syntax.FoldCase != 0
	for _, c := range r.Rune {
		if c == utf8.RuneError || (fold && !foldSafe(c)) {
			run = append(run, b.String())
			b.Reset()
			continue
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return append(run, b.String())
}

// foldSafe reports whether every rune that case-folds to c lower-cases to
// the same rune as c.
func foldSafe(c rune) bool {
	lc := unicode.ToLower(c)
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if unicode.ToLower(f) != lc {
			return false
		}
	}
	return true
}
