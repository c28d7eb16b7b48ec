package sigma

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// valueType is how a detection item's values are compared with the event.
type valueType int

const (
	typeString   valueType = iota // plain, wildcard, contains/startswith/endswith
	typeRegex                     // re
	typeCIDR                      // cidr
	typeCompare                   // gt, gte, lt, lte
	typeExists                    // exists
	typeFieldref                  // fieldref
)

// maxExpansion bounds how many alternatives one rule value may expand into
// (windash makes 5^n of a value with n dashes).
const maxExpansion = 4096

// modSpec is a parsed chain of value modifiers.
type modSpec struct {
	typ   valueType
	steps []string // transformation and wildcard modifiers, in rule order
	all   bool
	cased bool
	// expand reads %name% placeholders; reFlags are the re sub-modifiers;
	// cmp is the comparison of typeCompare.
	expand  bool
	reFlags string
	cmp     string
	// wild is contains, startswith or endswith when one is given.
	wild string
}

// parseModifiers reads the modifiers of a detection key (the parts after
// the field name) and checks that they go together.
func parseModifiers(mods []string) (modSpec, error) {
	var m modSpec
	seen := map[string]bool{}
	setType := func(t valueType, name string) error {
		if m.typ != typeString {
			return fmt.Errorf("modifier %q cannot be combined with the other type modifier of the item", name)
		}
		m.typ = t
		return nil
	}
	for _, mod := range mods {
		if seen[mod] {
			return m, fmt.Errorf("modifier %q is given twice", mod)
		}
		seen[mod] = true
		var err error
		switch mod {
		case "contains", "startswith", "endswith":
			if m.wild != "" {
				return m, fmt.Errorf("modifiers %q and %q exclude each other", m.wild, mod)
			}
			m.wild = mod
			m.steps = append(m.steps, mod)
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "expand":
			m.expand = true
		case "base64", "base64offset", "wide", "utf16le", "utf16be", "utf16", "windash":
			m.steps = append(m.steps, mod)
		case "re":
			err = setType(typeRegex, mod)
		case "i", "m", "s":
			if m.typ != typeRegex {
				return m, fmt.Errorf("regular expression flag %q must follow the re modifier", mod)
			}
			m.reFlags += mod
		case "cidr":
			err = setType(typeCIDR, mod)
		case "gt", "gte", "lt", "lte":
			err = setType(typeCompare, mod)
			m.cmp = mod
		case "exists":
			err = setType(typeExists, mod)
		case "fieldref":
			err = setType(typeFieldref, mod)
		case "":
			return m, errors.New("empty modifier (two | in a row)")
		default:
			return m, fmt.Errorf("unknown modifier %q", mod)
		}
		if err != nil {
			return m, err
		}
	}
	return m, m.check()
}

// check rejects modifier chains that have no meaning.
func (m *modSpec) check() error {
	switch m.typ {
	case typeString:
		return nil
	case typeFieldref:
		for _, s := range m.steps {
			if s != m.wild {
				return fmt.Errorf("modifier %q cannot be applied to a field reference", s)
			}
		}
		return nil
	}
	if len(m.steps) > 0 {
		return fmt.Errorf("modifier %q cannot be combined with %s", m.steps[0], m.typeName())
	}
	if m.expand {
		return fmt.Errorf("modifier expand cannot be combined with %s", m.typeName())
	}
	if m.cased && m.typ != typeRegex {
		return fmt.Errorf("modifier cased cannot be combined with %s", m.typeName())
	}
	return nil
}

func (m *modSpec) typeName() string {
	switch m.typ {
	case typeRegex:
		return "re"
	case typeCIDR:
		return "cidr"
	case typeCompare:
		return m.cmp
	case typeExists:
		return "exists"
	case typeFieldref:
		return "fieldref"
	}
	return "a string value"
}

// expandString applies the modifier chain to one string value and returns
// its alternatives (several when windash, base64offset or expand multiply
// it). The alternatives of one value are linked with OR, also under all.
func (m *modSpec) expandString(v string, placeholders map[string][]string) ([]sigmaString, error) {
	alts := []sigmaString{parseSigma(v, m.expand)}
	if m.expand {
		var err error
		if alts, err = expandPlaceholders(alts[0], placeholders); err != nil {
			return nil, err
		}
	}
	for _, step := range m.steps {
		next := make([]sigmaString, 0, len(alts))
		for _, a := range alts {
			out, err := applyStep(step, a)
			if err != nil {
				return nil, err
			}
			next = append(next, out...)
		}
		if len(next) > maxExpansion {
			return nil, fmt.Errorf("value %q expands into more than %d alternatives", v, maxExpansion)
		}
		alts = next
	}
	for i := range alts {
		alts[i] = alts[i].normalize()
	}
	return alts, nil
}

// applyStep applies one transformation or wildcard modifier to a value.
func applyStep(step string, s sigmaString) ([]sigmaString, error) {
	switch step {
	case "contains":
		return []sigmaString{s.withStars(true, true)}, nil
	case "startswith":
		return []sigmaString{s.withStars(false, true)}, nil
	case "endswith":
		return []sigmaString{s.withStars(true, false)}, nil
	case "windash":
		return windash(s), nil
	}
	if s.hasWildcards() {
		return nil, fmt.Errorf("modifier %s cannot encode a value with wildcards (%q); put contains, startswith or endswith after it", step, s.String())
	}
	p := s.plain()
	switch step {
	case "base64":
		return []sigmaString{plainString(base64.StdEncoding.EncodeToString([]byte(p)))}, nil
	case "base64offset":
		return base64Offsets(p), nil
	case "wide", "utf16le":
		return []sigmaString{plainString(utf16Bytes(p, false, false))}, nil
	case "utf16be":
		return []sigmaString{plainString(utf16Bytes(p, true, false))}, nil
	case "utf16":
		return []sigmaString{plainString(utf16Bytes(p, false, true))}, nil
	}
	return nil, fmt.Errorf("unknown modifier %q", step)
}

// base64Offsets returns the three base64 forms of p as it would appear at
// byte offsets 0, 1 and 2 of a longer encoded text: the encoding of p after
// zero to two bytes, without the leading and trailing characters that depend
// on the surrounding bytes (pySigma's base64offset).
func base64Offsets(p string) []sigmaString {
	starts := [3]int{0, 2, 3}
	ends := [3]int{0, 3, 2} // characters to drop at the end, by (len+offset) % 3
	out := make([]sigmaString, 0, 3)
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + p))
		end := len(enc) - ends[(len(p)+i)%3]
		if starts[i] >= end {
			continue
		}
		out = append(out, plainString(enc[starts[i]:end]))
	}
	return out
}

// utf16Bytes encodes p as UTF-16 (little-endian unless be), with a
// little-endian byte order mark when bom is set, as a byte string.
func utf16Bytes(p string, be, bom bool) string {
	units := utf16.Encode([]rune(p))
	b := make([]byte, 0, 2*len(units)+2)
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range units {
		if be {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// windashChars are what windash puts where a command-line dash or slash
// stands: hyphen, slash, en dash, em dash and horizontal bar.
func windashChars() []string { return []string{"-", "/", "\u2013", "\u2014", "\u2015"} }

// dashPos locates an option character: the literal part and byte offset.
type dashPos struct{ part, off int }

// windash returns every variant of s with each option character (a - or /
// at the start of a word: not after a word character, and before one)
// replaced by each of windashChars, as pySigma does.
func windash(s sigmaString) []sigmaString {
	var at []dashPos
	for pi, p := range s {
		if p.kind != partLit {
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			if c != '-' && c != '/' {
				continue
			}
			prev, _ := utf8.DecodeLastRuneInString(p.lit[:i])
			next, _ := utf8.DecodeRuneInString(p.lit[i+1:])
			if (i == 0 || !isWordRune(prev)) && i+1 < len(p.lit) && isWordRune(next) {
				at = append(at, dashPos{pi, i})
			}
		}
	}
	if len(at) == 0 {
		return []sigmaString{s}
	}
	chars := windashChars()
	n := 1
	for range at {
		n *= len(chars)
		if n > maxExpansion {
			break
		}
	}
	out := make([]sigmaString, 0, min(n, maxExpansion+1))
	choice := make([]int, len(at))
	for len(out) <= maxExpansion {
		out = append(out, windashVariant(s, at, choice, chars))
		// Advance the choice like an odometer.
		k := len(choice) - 1
		for k >= 0 {
			choice[k]++
			if choice[k] < len(chars) {
				break
			}
			choice[k] = 0
			k--
		}
		if k < 0 {
			break
		}
	}
	return out
}

// windashVariant builds one windash variant: the option character at[i]
// replaced by chars[choice[i]].
func windashVariant(s sigmaString, at []dashPos, choice []int, chars []string) sigmaString {
	v := make(sigmaString, len(s))
	copy(v, s)
	for pi := range v {
		if v[pi].kind != partLit {
			continue
		}
		var b strings.Builder
		last := 0
		for i, p := range at {
			if p.part != pi {
				continue
			}
			b.WriteString(s[pi].lit[last:p.off])
			b.WriteString(chars[choice[i]])
			last = p.off + 1
		}
		if last > 0 {
			b.WriteString(s[pi].lit[last:])
			v[pi].lit = b.String()
		}
	}
	return v
}

// isWordRune reports whether r is a word character as regular expressions
// (Python's \w) define it.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// expandPlaceholders replaces the placeholders of s with their configured
// values; a value list makes one alternative per value.
func expandPlaceholders(s sigmaString, values map[string][]string) ([]sigmaString, error) {
	alts := []sigmaString{nil}
	for _, p := range s {
		if p.kind != partPlaceholder {
			for i := range alts {
				alts[i] = append(alts[i], p)
			}
			continue
		}
		vals, ok := values[p.lit]
		if !ok || len(vals) == 0 {
			return nil, fmt.Errorf("placeholder %%%s%% has no values: define it in the placeholder configuration", p.lit)
		}
		next := make([]sigmaString, 0, len(alts)*len(vals))
		for _, a := range alts {
			for _, v := range vals {
				alt := append(append(sigmaString(nil), a...), parseSigmaString(v)...)
				next = append(next, alt)
			}
		}
		if len(next) > maxExpansion {
			return nil, fmt.Errorf("placeholders expand into more than %d alternatives", maxExpansion)
		}
		alts = next
	}
	return alts, nil
}
