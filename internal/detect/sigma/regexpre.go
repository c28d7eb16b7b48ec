package sigma

import (
	"regexp"
	"regexp/syntax"
)

// sigmaRegex is a rule's regular expression with a cheap test that rules
// out values it cannot match: those shorter than its shortest match, and
// those without a run of runLen bytes of class run when every match has
// one (\s[a-f0-9]{64} needs 64 hexadecimal digits in a row).
type sigmaRegex struct {
	re     *regexp.Regexp
	minLen int
	run    *[4]uint64 // byte class bitmap; nil when there is no required run
	runLen int
}

// newSigmaRegex analyses re.
func newSigmaRegex(re *regexp.Regexp) sigmaRegex {
	sr := sigmaRegex{re: re}
	r, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return sr
	}
	// Runs are found before simplification turns x{64} into 64 copies.
	sr.run, sr.runLen = requiredRun(r)
	sr.minLen = minMatchLen(r.Simplify())
	return sr
}

// match reports whether the regular expression matches s.
func (sr *sigmaRegex) match(s string) bool {
	if len(s) < sr.minLen {
		return false
	}
	if sr.run != nil && !hasRun(s, sr.run, sr.runLen) {
		return false
	}
	return sr.re.MatchString(s)
}

// hasRun reports whether s has n bytes in a row from class. Every run of n
// bytes covers one of the positions n-1, 2n-1, ...: only those are read,
// and the run around one is measured when it is of the class.
func hasRun(s string, class *[4]uint64, n int) bool {
	if n <= 0 {
		return true
	}
	for p := n - 1; p < len(s); p += n {
		if c := s[p]; class[c>>6]&(1<<(c&63)) == 0 {
			continue
		}
		lo, hi := p, p
		for lo > 0 && hi-lo+1 < n {
			c := s[lo-1]
			if class[c>>6]&(1<<(c&63)) == 0 {
				break
			}
			lo--
		}
		for hi+1 < len(s) && hi-lo+1 < n {
			c := s[hi+1]
			if class[c>>6]&(1<<(c&63)) == 0 {
				break
			}
			hi++
		}
		if hi-lo+1 >= n {
			return true
		}
	}
	return false
}

// minMatchLen returns a lower bound on the length in bytes of r's matches
// (every rune takes at least one byte).
func minMatchLen(r *syntax.Regexp) int {
	switch r.Op {
	case syntax.OpLiteral:
		return len(r.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minMatchLen(r.Sub[0])
	case syntax.OpRepeat:
		return r.Min * minMatchLen(r.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range r.Sub {
			n += minMatchLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range r.Sub {
			if m := minMatchLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

// requiredRun finds the longest run of one ASCII class that every match of
// r contains: a class repeated at least n times in r's top-level sequence.
func requiredRun(r *syntax.Regexp) (*[4]uint64, int) {
	switch r.Op {
	case syntax.OpCapture:
		return requiredRun(r.Sub[0])
	case syntax.OpPlus, syntax.OpRepeat:
		n := 1
		if r.Op == syntax.OpRepeat {
			n = r.Min
		}
		if class, ok := asciiClass(r.Sub[0]); ok && n > 1 {
			return class, n
		}
		if n >= 1 {
			return requiredRun(r.Sub[0])
		}
	case syntax.OpConcat:
		var best *[4]uint64
		bestN := 0
		for _, s := range r.Sub {
			if c, n := requiredRun(s); n > bestN {
				best, bestN = c, n
			}
		}
		return best, bestN
	}
	return nil, 0
}

// asciiClass returns the byte bitmap of a character class (or literal
// rune) made only of ASCII runes.
func asciiClass(r *syntax.Regexp) (*[4]uint64, bool) {
	var ranges []rune
	switch r.Op {
	case syntax.OpCharClass:
		ranges = r.Rune
	case syntax.OpLiteral:
		if len(r.Rune) != 1 || r.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		ranges = []rune{r.Rune[0], r.Rune[0]}
	default:
		return nil, false
	}
	var class [4]uint64
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= 0x80 {
			return nil, false
		}
		for c := ranges[i]; c <= ranges[i+1]; c++ {
			class[c>>6] |= 1 << (c & 63)
		}
	}
	return &class, true
}
