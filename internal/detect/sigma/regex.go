package sigma

import (
	"fmt"
	"regexp"
	"strings"
)

// compileRegex compiles the value of an re item with its flags (i, m, s)
// into a Go regular expression. Sigma's regular expressions are PCRE-like;
// Go's RE2 syntax covers what rules use, and translateRegex rewrites the
// PCRE forms that have an RE2 equivalent for deciding whether a value
// matches. Lookaround and backreferences have none: such values are
// rejected with the reason.
func compileRegex(expr, flags string) (*regexp.Regexp, error) {
	prefix := ""
	if flags != "" {
		prefix = "(?" + flags + ")"
	}
	re, err := regexp.Compile(prefix + expr)
	if err == nil {
		return re, nil
	}
	tr, terr := translateRegex(expr)
	if terr != nil {
		return nil, terr
	}
	if tr != expr {
		if re, err2 := regexp.Compile(prefix + tr); err2 == nil {
			return re, nil
		}
	}
	return nil, fmt.Errorf("regular expression %q: %w", expr, err)
}

// translateRegex rewrites PCRE constructs that RE2 lacks but that have the
// same effect on whether a text matches: atomic groups (?>...) become plain
// groups and possessive quantifiers (*+, ++, ?+, {n}+) plain ones (both only
// restrict backtracking; RE2 does not backtrack), and \Z becomes \n?\z. It
// fails, naming the construct, on lookaround, backreferences and other
// constructs with no RE2 form.
func translateRegex(expr string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '\\' && i+1 < len(expr):
			n := expr[i+1]
			if !inClass {
				switch {
				case n >= '1' && n <= '9':
					return "", fmt.Errorf("regular expression %q uses a backreference (\\%c), which Go's RE2 engine cannot match", expr, n)
				case n == 'Z':
					b.WriteString(`\n?\z`)
					i++
					continue
				case n == 'G' || n == 'K' || n == 'R' || n == 'X':
					return "", fmt.Errorf("regular expression %q uses \\%c, which Go's RE2 engine does not support", expr, n)
				}
			}
			b.WriteByte(c)
			b.WriteByte(n)
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ] right after [ or [^ is a literal.
			if i+1 < len(expr) && expr[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(expr) && expr[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == '(' && strings.HasPrefix(expr[i:], "(?>"):
			b.WriteString("(?:")
			i += 2
		case c == '(' && (strings.HasPrefix(expr[i:], "(?=") || strings.HasPrefix(expr[i:], "(?!") ||
			strings.HasPrefix(expr[i:], "(?<=") || strings.HasPrefix(expr[i:], "(?<!")):
			return "", fmt.Errorf("regular expression %q uses lookaround, which Go's RE2 engine cannot match", expr)
		case c == '+' && i > 0 && isQuantifierEnd(expr, i-1):
			// Possessive: drop the +.
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// isQuantifierEnd reports whether expr[i] ends a quantifier (*, +, ?, or
// the } of {n,m}), so a + after it makes it possessive.
func isQuantifierEnd(expr string, i int) bool {
	if i > 0 && expr[i-1] == '\\' {
		return false
	}
	switch expr[i] {
	case '*', '?':
		return true
	case '+':
		// "a++" is possessive; the first + is the quantifier.
		return i == 0 || expr[i-1] != '+'
	case '}':
		j := strings.LastIndexByte(expr[:i], '{')
		if j < 0 {
			return false
		}
		for _, r := range expr[j+1 : i] {
			if (r < '0' || r > '9') && r != ',' {
				return false
			}
		}
		return true
	}
	return false
}
