package sigma

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Wildcard kinds of a string part.
const (
	partLit  = 0
	partStar = '*'
	partOne  = '?'
	// partPlaceholder is a %name% placeholder of a value with the expand
	// modifier; lit holds the name.
	partPlaceholder = '%'
)

// strPart is one part of a Sigma string: literal text, or a wildcard.
type strPart struct {
	kind byte // partLit, partStar or partOne
	lit  string
}

// sigmaString is a rule value after Sigma's wildcard and escape rules:
// literal runs and wildcards, with adjacent literals merged.
type sigmaString []strPart

// parseSigmaString reads a rule value: * and ? are wildcards, and a
// backslash escapes *, ? and itself. A backslash before any other character,
// or at the end, is a plain backslash. This is the Sigma specification's
// rule (and pySigma's): \* and \? are plain, \\ is one backslash, \\* is a
// backslash and a wildcard, \\\* a backslash and a plain star, and a single
// \ before other text (C:\Windows) stays as written.
func parseSigmaString(s string) sigmaString { return parseSigma(s, false) }

// parseSigma reads a rule value like parseSigmaString; with placeholders
// set it also reads %name% as a placeholder, and \% as a plain percent sign
// (the expand modifier's rules).
func parseSigma(s string, placeholders bool) sigmaString {
	var out sigmaString
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, strPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\' ||
				(placeholders && s[i+1] == '%')) {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case c == '*' || c == '?':
			flush()
			out = append(out, strPart{kind: c})
		case placeholders && c == '%':
			end := strings.IndexByte(s[i+1:], '%')
			if end <= 0 {
				lit.WriteByte(c)
				continue
			}
			flush()
			out = append(out, strPart{kind: partPlaceholder, lit: s[i+1 : i+1+end]})
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out
}

// plainString returns s as one literal, without wildcard parsing.
func plainString(s string) sigmaString {
	if s == "" {
		return nil
	}
	return sigmaString{{lit: s}}
}

// hasWildcards reports whether the string holds a wildcard.
func (s sigmaString) hasWildcards() bool {
	for _, p := range s {
		if p.kind != partLit {
			return true
		}
	}
	return false
}

// plain returns the literal text of a string without wildcards.
func (s sigmaString) plain() string {
	var b strings.Builder
	for _, p := range s {
		b.WriteString(p.lit)
	}
	return b.String()
}

// String writes the string back in Sigma's escaped form.
func (s sigmaString) String() string {
	var b strings.Builder
	for _, p := range s {
		switch p.kind {
		case partPlaceholder:
			b.WriteString("%" + p.lit + "%")
			continue
		case partStar, partOne:
			b.WriteByte(p.kind)
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			if c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// normalize merges adjacent literals and drops empty ones and repeated
// stars.
func (s sigmaString) normalize() sigmaString {
	out := make(sigmaString, 0, len(s))
	for _, p := range s {
		if p.kind == partLit && p.lit == "" {
			continue
		}
		if n := len(out); n > 0 {
			last := &out[n-1]
			if p.kind == partLit && last.kind == partLit {
				last.lit += p.lit
				continue
			}
			if p.kind == partStar && last.kind == partStar {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// withStars returns s with a star added at the start and/or the end, when
// not there already.
func (s sigmaString) withStars(start, end bool) sigmaString {
	out := make(sigmaString, 0, len(s)+2)
	if start && (len(s) == 0 || s[0].kind != partStar) {
		out = append(out, strPart{kind: partStar})
	}
	out = append(out, s...)
	if end && (len(out) == 0 || out[len(out)-1].kind != partStar) {
		out = append(out, strPart{kind: partStar})
	}
	return out
}

// mapLiterals returns s with every literal replaced by fn(literal).
func (s sigmaString) mapLiterals(fn func(string) string) sigmaString {
	out := make(sigmaString, len(s))
	for i, p := range s {
		if p.kind == partLit {
			p.lit = fn(p.lit)
		}
		out[i] = p
	}
	return out
}

// lowerInto appends the lower-case form of s to dst. Unlike strings.ToLower
// it keeps bytes that are not valid UTF-8 as they are (values encoded as
// UTF-16 by the wide modifier are compared byte for byte).
func lowerInto(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}

// isLower reports whether s is its own lower-case form, so it need not be
// copied.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// lower returns the lower-case form of s (see lowerInto).
func lower(s string) string {
	if isLower(s) {
		return s
	}
	return string(lowerInto(make([]byte, 0, len(s)), s))
}
