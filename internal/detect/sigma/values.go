package sigma

import (
	"net/netip"
	"strconv"
	"strings"
)

// valueSet is the compiled alternatives of a detection item (or of one
// value of an item with the all modifier): it matches when any alternative
// matches. String patterns are lower-cased at load unless cased is set, and
// then compared with the lower-cased field value.
type valueSet struct {
	// null matches an absent or empty field; any matches every non-empty
	// value (a lone *).
	null, any bool
	cased     bool
	// text and rawPats say whether the set has text patterns and patterns
	// on the value as written; finish sets them.
	text, rawPats bool
	exact         []string
	exactSet      map[string]struct{} // exact, when there are many
	prefix        []string
	suffix        []string
	contains      []string
	globs         []sigmaString
	regexes       []sigmaRegex
	cidrs         []netip.Prefix
	cmps          []numCmp

	// idx numbers the set within its rule's detection; engines give each
	// routed rule a run of atoms, one per set, found at the run's start
	// plus idx.
	idx int32
	// needles are the literals the engine's automata search for the set
	// (see planNeedles); pre says the set can only match when one of them
	// occurs, and slow that it has patterns beyond its exact, prefix,
	// suffix and contains literals (wildcards, a lone *, regular
	// expressions, networks, numbers).
	needles []needleSpec
	pre     bool
	slow    bool
}

// exactSetMin is the number of exact values from which a set is built
// instead of scanning the list.
const exactSetMin = 8

// numCmp is one numeric comparison of a gt/gte/lt/lte item.
type numCmp struct {
	op  string
	val float64
}

// addString adds a string pattern, classifying it by where its wildcards
// are.
func (vs *valueSet) addString(s sigmaString) {
	if !vs.cased {
		s = s.mapLiterals(lower)
	}
	n := len(s)
	star := func(i int) bool { return s[i].kind == partStar }
	lit := func(i int) bool { return s[i].kind == partLit }
	switch {
	case n == 0:
		vs.null = true // '' is the empty value, which Vigil treats as absent
	case n == 1 && lit(0):
		vs.exact = append(vs.exact, s[0].lit)
	case n == 1 && star(0):
		vs.any = true
	case n == 2 && lit(0) && star(1):
		vs.prefix = append(vs.prefix, s[0].lit)
	case n == 2 && star(0) && lit(1):
		vs.suffix = append(vs.suffix, s[1].lit)
	case n == 3 && star(0) && lit(1) && star(2):
		vs.contains = append(vs.contains, s[1].lit)
	default:
		vs.globs = append(vs.globs, s)
	}
}

// finish builds the lookup structures once all values are added.
func (vs *valueSet) finish() {
	vs.text = vs.any || len(vs.exact) > 0 || len(vs.prefix) > 0 || len(vs.suffix) > 0 ||
		len(vs.contains) > 0 || len(vs.globs) > 0
	vs.rawPats = len(vs.regexes) > 0 || len(vs.cidrs) > 0 || len(vs.cmps) > 0
	if len(vs.exact) >= exactSetMin {
		vs.exactSet = make(map[string]struct{}, len(vs.exact))
		for _, e := range vs.exact {
			vs.exactSet[e] = struct{}{}
		}
	}
	vs.planNeedles()
}

// matchText reports whether the text patterns match v, which is the
// lower-cased field value unless the set is cased.
func (vs *valueSet) matchText(v string) bool {
	if vs.any {
		return true
	}
	if vs.exactSet != nil {
		if _, ok := vs.exactSet[v]; ok {
			return true
		}
	} else {
		for _, e := range vs.exact {
			if v == e {
				return true
			}
		}
	}
	for _, p := range vs.prefix {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	for _, p := range vs.suffix {
		if strings.HasSuffix(v, p) {
			return true
		}
	}
	for _, p := range vs.contains {
		if strings.Contains(v, p) {
			return true
		}
	}
	for _, g := range vs.globs {
		if globMatch(g, v) {
			return true
		}
	}
	return false
}

// matchSlow reports whether the patterns beyond the set's literals match:
// a lone *, wildcard patterns (on text, the lower-cased value unless the
// set is cased) and the patterns on the value as written.
func (vs *valueSet) matchSlow(text, raw string) bool {
	if vs.any {
		return true
	}
	for _, g := range vs.globs {
		if globMatch(g, text) {
			return true
		}
	}
	return vs.rawPats && vs.matchRaw(raw)
}

// matchRaw reports whether the patterns that read the value as written
// (regular expressions, networks, numbers) match raw.
func (vs *valueSet) matchRaw(raw string) bool {
	for i := range vs.regexes {
		if vs.regexes[i].match(raw) {
			return true
		}
	}
	if len(vs.cidrs) > 0 {
		if ip, ok := parseIP(raw); ok {
			for _, p := range vs.cidrs {
				if p.Contains(ip) {
					return true
				}
			}
		}
	}
	if len(vs.cmps) > 0 {
		if f, ok := parseNumber(raw); ok {
			for _, c := range vs.cmps {
				if c.match(f) {
					return true
				}
			}
		}
	}
	return false
}

func (c numCmp) match(f float64) bool {
	switch c.op {
	case "gt":
		return f > c.val
	case "gte":
		return f >= c.val
	case "lt":
		return f < c.val
	case "lte":
		return f <= c.val
	}
	return false
}

// parseIP reads an IP address as events write it: plain, with a zone, in
// brackets, or IPv4-mapped IPv6 (compared as IPv4).
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.WithZone("").Unmap(), true
}

// parseNumber reads a decimal, 0x-hexadecimal or floating-point number.
// Leading zeros are decimal, not octal.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	neg := strings.HasPrefix(s, "-")
	if h := strings.TrimPrefix(s, "-"); len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		u, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return 0, false
		}
		if neg {
			return -float64(u), true
		}
		return float64(u), true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
