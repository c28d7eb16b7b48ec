package stix

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tIdentHyphen
	tString
	tInt
	tFloat
	tBool
	tTimestamp
	tHex
	tBinary
	tAnd
	tOr
	tNot
	tFollowedBy
	tLike
	tMatches
	tIsSuperset
	tIsSubset
	tExists
	tLast
	tIn
	tStart
	tStop
	tSeconds
	tWithin
	tRepeats
	tTimes
	tEq
	tNeq
	tLt
	tLe
	tGt
	tGe
	tColon
	tDot
	tComma
	tLParen
	tRParen
	tLBrack
	tRBrack
	tPlus
	tMinus
	tPower
	tDivide
	tAsterisk
)

// keyword returns the token of a keyword (the grammar's keywords are
// case-sensitive).
func keyword(s string) (tokKind, bool) {
	switch s {
	case "AND":
		return tAnd, true
	case "OR":
		return tOr, true
	case "NOT":
		return tNot, true
	case "FOLLOWEDBY":
		return tFollowedBy, true
	case "LIKE":
		return tLike, true
	case "MATCHES":
		return tMatches, true
	case "ISSUPERSET":
		return tIsSuperset, true
	case "ISSUBSET":
		return tIsSubset, true
	case "EXISTS":
		return tExists, true
	case "LAST":
		return tLast, true
	case "IN":
		return tIn, true
	case "START":
		return tStart, true
	case "STOP":
		return tStop, true
	case "SECONDS":
		return tSeconds, true
	case "WITHIN":
		return tWithin, true
	case "REPEATS":
		return tRepeats, true
	case "TIMES":
		return tTimes, true
	case "true", "false":
		return tBool, true
	}
	return 0, false
}

// token is one lexical token; lit is set for literal tokens.
type token struct {
	kind tokKind
	pos  int
	text string
	lit  Literal
}

// describe names the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tString:
		return "string " + quoteString(shorten(t.lit.Str))
	}
	return "'" + shorten(t.text) + "'"
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// SyntaxError reports a malformed pattern: where, and what was expected or
// what is wrong.
type SyntaxError struct {
	// Offset is the byte offset of the error in the pattern.
	Offset int
	// Column is the 1-based column (in characters) of the error.
	Column int
	// Expected says what the parser wanted there, e.g. "']'" or "a
	// comparison operator"; empty for lexical errors.
	Expected string
	// Found describes what was there instead.
	Found string
	// Msg describes a lexical or semantic error.
	Msg string
}

// Error formats the error as "column N: expected X, found Y" or
// "column N: message".
func (e *SyntaxError) Error() string {
	if e.Expected != "" {
		return fmt.Sprintf("column %d: expected %s, found %s", e.Column, e.Expected, e.Found)
	}
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

func column(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

func lexError(src string, off int, msg string) *SyntaxError {
	return &SyntaxError{Offset: off, Column: column(src, off), Msg: msg}
}

// lexer splits a pattern into tokens on demand.
type lexer struct {
	src string
	pos int
}

// next returns the next token, skipping whitespace and comments.
func (l *lexer) next() (token, *SyntaxError) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[start]
	switch {
	case (c == 't' || c == 'h' || c == 'b') && start+1 < len(l.src) && l.src[start+1] == '\'':
		return l.prefixed(c)
	case isIdentStart(c):
		return l.ident(), nil
	case c == '\'':
		s, end, err := scanString(l.src, start)
		if err != nil {
			return token{}, err
		}
		l.pos = end
		return token{kind: tString, pos: start, text: l.src[start:end], lit: Literal{Kind: LitString, Start: start, Str: s}}, nil
	case isDigit(c) || ((c == '+' || c == '-' || c == '.') && l.numberAhead(start)):
		return l.number()
	}
	return l.punct()
}

func (l *lexer) skipSpace() *SyntaxError {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			l.pos++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isUnicodeSpace(r) {
				return nil
			}
			l.pos += n
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := indexFrom(l.src, l.pos+2, "*/")
			if end < 0 {
				return lexError(l.src, l.pos, "unterminated comment")
			}
			l.pos = end + 2
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		default:
			return nil
		}
	}
	return nil
}

func indexFrom(s string, from int, sub string) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func isUnicodeSpace(r rune) bool {
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func isIdentStart(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// ident reads an identifier or keyword; keywords only match whole words.
func (l *lexer) ident() token {
	start := l.pos
	hyphen := false
	for l.pos < len(l.src) && (isIdentChar(l.src[l.pos]) || l.src[l.pos] == '-') {
		hyphen = hyphen || l.src[l.pos] == '-'
		l.pos++
	}
	text := l.src[start:l.pos]
	if hyphen {
		return token{kind: tIdentHyphen, pos: start, text: text}
	}
	if k, ok := keyword(text); ok {
		t := token{kind: k, pos: start, text: text}
		if k == tBool {
			t.lit = Literal{Kind: LitBool, Start: start, Bool: text == "true"}
		}
		return t
	}
	return token{kind: tIdent, pos: start, text: text}
}

// prefixed reads a t'..', h'..' or b'..' literal.
func (l *lexer) prefixed(c byte) (token, *SyntaxError) {
	start := l.pos
	lit := Literal{Start: start}
	var end int
	var err *SyntaxError
	kind := tTimestamp
	switch c {
	case 't':
		lit.Kind = LitTimestamp
		lit.Time, end, err = scanTimestamp(l.src, start)
	case 'h':
		kind, lit.Kind = tHex, LitHex
		lit.Bytes, end, err = scanHex(l.src, start)
	default:
		kind, lit.Kind = tBinary, LitBinary
		lit.Bytes, end, err = scanBinary(l.src, start)
	}
	if err != nil {
		return token{}, err
	}
	l.pos = end
	return token{kind: kind, pos: start, text: l.src[start:end], lit: lit}, nil
}

// numberAhead reports whether a sign or dot at off starts a number.
func (l *lexer) numberAhead(off int) bool {
	i := off
	if l.src[i] == '+' || l.src[i] == '-' {
		i++
	}
	if i < len(l.src) && l.src[i] == '.' {
		i++
	}
	return i < len(l.src) && isDigit(l.src[i])
}

// number reads the longest integer or float literal at the current offset,
// as ANTLR does: ints are '0' or start with 1-9; floats may have leading
// zeros and need digits after the dot.
func (l *lexer) number() (token, *SyntaxError) {
	start, i := l.pos, l.pos
	if l.src[i] == '+' || l.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i+1 < len(l.src) && l.src[i] == '.' && isDigit(l.src[i+1]) {
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
		text := l.src[start:i]
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{}, lexError(l.src, start, "float literal out of range: "+shorten(text))
		}
		l.pos = i
		return token{kind: tFloat, pos: start, text: text, lit: Literal{Kind: LitFloat, Start: start, Float: f}}, nil
	}
	if l.src[digits] == '0' {
		i = digits + 1
	}
	text := l.src[start:i]
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, lexError(l.src, start, "integer literal out of range: "+shorten(text))
	}
	l.pos = i
	return token{kind: tInt, pos: start, text: text, lit: Literal{Kind: LitInt, Start: start, Int: n}}, nil
}

// punct reads an operator or punctuation token.
func (l *lexer) punct() (token, *SyntaxError) {
	start := l.pos
	two := ""
	if start+1 < len(l.src) {
		two = l.src[start : start+2]
	}
	switch two {
	case "==":
		l.pos += 2
		return token{kind: tEq, pos: start, text: two}, nil
	case "!=", "<>":
		l.pos += 2
		return token{kind: tNeq, pos: start, text: two}, nil
	case "<=":
		l.pos += 2
		return token{kind: tLe, pos: start, text: two}, nil
	case ">=":
		l.pos += 2
		return token{kind: tGe, pos: start, text: two}, nil
	}
	if k := punctKind(l.src[start]); k != tEOF {
		l.pos++
		return token{kind: k, pos: start, text: l.src[start : start+1]}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, lexError(l.src, start, fmt.Sprintf("unexpected character %q", r))
}

// punctKind returns the token of a one-character operator or punctuation,
// or tEOF for any other character.
func punctKind(c byte) tokKind {
	switch c {
	case '=':
		return tEq
	case '<':
		return tLt
	case '>':
		return tGt
	case ':':
		return tColon
	case '.':
		return tDot
	case ',':
		return tComma
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '[':
		return tLBrack
	case ']':
		return tRBrack
	case '+':
		return tPlus
	case '-':
		return tMinus
	case '^':
		return tPower
	case '/':
		return tDivide
	case '*':
		return tAsterisk
	}
	return tEOF
}
