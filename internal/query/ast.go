// Package query parses Vigil's search language into an abstract syntax tree
// and translates the tree into a DuckDB SQL condition with parameters.
//
// The language is Lucene/KQL-like: field:value terms, quoted phrases,
// wildcards, ranges and comparisons, CIDR blocks, field existence, AND, OR,
// NOT and parentheses. Bare words search the message and the original
// record. docs/query.md describes it in full.
package query

import (
	"fmt"
	"strings"
)

// Node is one node of a parsed query: *And, *Or, *Not, *Term or *MatchAll.
type Node interface {
	// Pos returns the 1-based column (in runes) where the node begins.
	Pos() int
	// String returns the node in the query language, fully parenthesised,
	// so that parsing it again gives an equal tree.
	String() string
	isNode()
}

// MatchAll matches every event: the empty query or a lone "*".
type MatchAll struct {
	Col int
}

// And matches when every one of Nodes matches.
type And struct {
	Col   int
	Nodes []Node
}

// Or matches when any one of Nodes matches.
type Or struct {
	Col   int
	Nodes []Node
}

// Not matches when Node does not match, including when the field Node
// tests is absent.
type Not struct {
	Col  int
	Node Node
}

// Op is what a Term tests.
type Op int

// Term operations.
const (
	// OpMatch tests equality with Value (for bare words and text fields:
	// case-insensitive containment).
	OpMatch Op = iota + 1
	// OpWildcard matches Value as a pattern: "*" is any run of characters,
	// "?" one character, and a backslash makes the next character literal.
	OpWildcard
	// OpExists tests that the field is present (field:*).
	OpExists
	// OpRange tests that the value lies between Lo and Hi. Comparisons
	// (field:>5) are ranges with one open end.
	OpRange
)

// Bound is one end of a range.
type Bound struct {
	// Value is the bound's literal text; it is meaningless when Open.
	Value string
	// Inclusive is true for [ ] and >= / <=, false for { } and > / <.
	Inclusive bool
	// Open is true for an unbounded end (* or the missing side of a
	// comparison).
	Open bool
	// Col is the 1-based column of the bound's text.
	Col int
}

// Term is one test: a field (or, when Field is empty, the message and
// original record) against a value.
type Term struct {
	// Col is the 1-based column where the term begins; ValueCol where its
	// value begins.
	Col      int
	ValueCol int
	// Field is the field name: an ECS name or an original field name. It
	// is empty for a bare word or phrase.
	Field string
	Op    Op
	// Value is the literal value for OpMatch (escapes removed) and the
	// pattern for OpWildcard (literal *, ? and \ escaped with \).
	Value string
	// Quoted is true when the value was a quoted phrase; quoted values are
	// never wildcards, ranges or CIDR blocks.
	Quoted bool
	// Lo and Hi are the range's ends for OpRange.
	Lo, Hi Bound
}

// Pos returns the node's column.
func (n *MatchAll) Pos() int { return n.Col }

// Pos returns the node's column.
func (n *And) Pos() int { return n.Col }

// Pos returns the node's column.
func (n *Or) Pos() int { return n.Col }

// Pos returns the node's column.
func (n *Not) Pos() int { return n.Col }

// Pos returns the node's column.
func (n *Term) Pos() int { return n.Col }

func (*MatchAll) isNode() {}
func (*And) isNode()      {}
func (*Or) isNode()       {}
func (*Not) isNode()      {}
func (*Term) isNode()     {}

// String returns "*".
func (n *MatchAll) String() string { return "*" }

// String returns the conjunction in parentheses.
func (n *And) String() string { return joinNodes(n.Nodes, " AND ") }

// String returns the disjunction in parentheses.
func (n *Or) String() string { return joinNodes(n.Nodes, " OR ") }

// String returns the negation.
func (n *Not) String() string { return "NOT " + n.Node.String() }

// String returns the term in the query language.
func (n *Term) String() string {
	var b strings.Builder
	if n.Field != "" {
		b.WriteString(escapeWord(n.Field, true))
		b.WriteByte(':')
	}
	switch n.Op {
	case OpExists:
		b.WriteByte('*')
	case OpWildcard:
		b.WriteString(escapePattern(n.Value, n.Field == ""))
	case OpRange:
		writeRange(&b, n)
	default:
		if n.Quoted {
			b.WriteString(quote(n.Value))
		} else {
			b.WriteString(escapeWord(n.Value, n.Field == ""))
		}
	}
	return b.String()
}

func writeRange(b *strings.Builder, n *Term) {
	open, close := byte('{'), byte('}')
	if n.Lo.Inclusive {
		open = '['
	}
	if n.Hi.Inclusive {
		close = ']'
	}
	b.WriteByte(open)
	b.WriteString(boundString(n.Lo))
	b.WriteString(" TO ")
	b.WriteString(boundString(n.Hi))
	b.WriteByte(close)
}

func boundString(bd Bound) string {
	if bd.Open {
		return "*"
	}
	return quote(bd.Value)
}

func joinNodes(nodes []Node, sep string) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// quote returns s as a quoted phrase.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// escapeWord escapes the characters that would end or change an unquoted
// word. colon says whether ':' must be escaped (field names and bare words,
// where it would start a field term). Whole-word keywords are escaped so
// they stay words.
func escapeWord(s string, colon bool) string {
	if s == "" {
		return `""`
	}
	var b strings.Builder
	if isKeyword(s) {
		b.WriteByte('\\')
	}
	for i, r := range s {
		if needsEscape(r, i == 0, colon) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isKeyword(s string) bool { return s == "AND" || s == "OR" || s == "NOT" || s == "TO" }

func needsEscape(r rune, first, colon bool) bool {
	switch r {
	case '\\', '*', '?', '(', ')', '"', ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	case ':':
		return colon
	case '-', '[', '{', '>', '<', '!':
		return first
	}
	return false
}

// escapePattern writes a wildcard pattern as an unquoted word: its escapes
// are kept and characters that would end the word are escaped.
func escapePattern(p string, colon bool) string {
	var b strings.Builder
	esc := false
	for i, r := range p {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r != '*' && r != '?' && needsEscape(r, i == 0, colon):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Error is a query the parser or translator rejects, with the column of the
// problem.
type Error struct {
	// Col is the 1-based column, counted in characters.
	Col int
	Msg string
}

// Error returns "query: col N: message".
func (e *Error) Error() string { return fmt.Sprintf("query: col %d: %s", e.Col, e.Msg) }

func errorf(col int, format string, args ...any) *Error {
	return &Error{Col: col, Msg: fmt.Sprintf(format, args...)}
}
