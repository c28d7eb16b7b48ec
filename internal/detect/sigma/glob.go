package sigma

import (
	"strings"
	"unicode/utf8"
)

// globMatch reports whether v matches the pattern p: literals must match
// exactly, * matches any run of characters (also none) and ? exactly one
// character. It runs in O(len(v) * len(p)) at worst, without recursion: on a
// mismatch it returns to the last star and lets it take one more
// character.
func globMatch(p sigmaString, v string) bool {
	pi, vi := 0, 0
	starP, starV := -1, 0
	for {
		if pi < len(p) {
			switch part := p[pi]; part.kind {
			case partStar:
				starP, starV = pi, vi
				pi++
				continue
			case partOne:
				if vi < len(v) {
					_, n := utf8.DecodeRuneInString(v[vi:])
					vi += n
					pi++
					continue
				}
			default:
				if strings.HasPrefix(v[vi:], part.lit) {
					// A literal after a star is found by searching, so the
					// star does not advance one character at a time.
					vi += len(part.lit)
					pi++
					continue
				}
			}
		} else if vi == len(v) {
			return true
		}
		if starP < 0 || starV >= len(v) {
			return false
		}
		// Let the last star take one more character and try again from
		// the part after it; when that part is a literal, jump straight to
		// its next occurrence.
		_, n := utf8.DecodeRuneInString(v[starV:])
		starV += n
		if next := starP + 1; next < len(p) && p[next].kind == partLit {
			i := strings.Index(v[starV:], p[next].lit)
			if i < 0 {
				return false
			}
			starV += i
		}
		pi, vi = starP+1, starV
	}
}
