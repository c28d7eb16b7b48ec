package query

import (
	"strings"
	"unicode/utf8"
)

// Limits on what Parse accepts, so a hostile query cannot exhaust the stack
// or build an enormous SQL statement.
const (
	// MaxQueryBytes is the longest query accepted.
	MaxQueryBytes = 16 << 10
	// MaxDepth is the deepest nesting of parentheses and negations.
	MaxDepth = 64
	// MaxTerms is the most terms one query may hold.
	MaxTerms = 512
)

// Parse reads a query. The empty query (or only white space) and a lone "*"
// parse to *MatchAll. Errors are *Error values naming the column.
func Parse(src string) (Node, error) {
	if len(src) > MaxQueryBytes {
		return nil, errorf(1, "query is %d bytes long; the limit is %d", len(src), MaxQueryBytes)
	}
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return nil, errorf(utf8.RuneCountInString(src[:off])+1, "query is not valid UTF-8")
	}
	p := &parser{src: src}
	p.skipSpace()
	if p.eof() {
		return &MatchAll{Col: 1}, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.src[p.pos] == ')' {
			return nil, p.errAt(p.pos, "unexpected ')' without a matching '('")
		}
		return nil, p.errAt(p.pos, "unexpected %q", p.rest(12))
	}
	return n, nil
}

type parser struct {
	src      string
	pos      int
	depth    int
	terms    int
	defField string // field of an enclosing field:( ... ) group
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) col(off int) int { return utf8.RuneCountInString(p.src[:off]) + 1 }

func (p *parser) errAt(off int, format string, args ...any) *Error {
	return errorf(p.col(off), format, args...)
}

func (p *parser) rest(n int) string {
	s := p.src[p.pos:]
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

// keyword reports whether the keyword kw stands at the current position as
// a word of its own.
func (p *parser) keyword(kw string) bool {
	if !strings.HasPrefix(p.src[p.pos:], kw) {
		return false
	}
	end := p.pos + len(kw)
	return end == len(p.src) || isSpace(p.src[end]) || p.src[end] == '(' || p.src[end] == ')'
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(p.pos, "query nests more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) parseOr() (Node, error) {
	start := p.pos
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for {
		save := p.pos
		p.skipSpace()
		if p.eof() || !p.keyword("OR") {
			p.pos = save
			break
		}
		p.pos += len("OR")
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' {
			return nil, p.errAt(p.pos, "expected a term after OR")
		}
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &Or{Col: p.col(start), Nodes: nodes}, nil
}

func (p *parser) parseAnd() (Node, error) {
	start := p.pos
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for {
		save := p.pos
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' || p.keyword("OR") {
			p.pos = save
			break
		}
		if p.keyword("AND") {
			p.pos += len("AND")
			p.skipSpace()
			if p.eof() || p.src[p.pos] == ')' || p.keyword("OR") || p.keyword("AND") {
				return nil, p.errAt(p.pos, "expected a term after AND")
			}
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &And{Col: p.col(start), Nodes: nodes}, nil
}

func (p *parser) parseUnary() (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	start := p.pos
	switch {
	case p.keyword("NOT"):
		p.pos += len("NOT")
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' || p.keyword("AND") || p.keyword("OR") {
			return nil, p.errAt(p.pos, "expected a term after NOT")
		}
	case p.src[p.pos] == '-' && p.pos+1 < len(p.src) && !isSpace(p.src[p.pos+1]) && p.src[p.pos+1] != ')':
		p.pos++
	default:
		return p.parsePrimary()
	}
	n, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &Not{Col: p.col(start), Node: n}, nil
}

func (p *parser) parsePrimary() (Node, error) {
	switch c := p.src[p.pos]; c {
	case '(':
		return p.parseGroup(p.defField)
	case ')':
		return nil, p.errAt(p.pos, "unexpected ')'")
	case '"':
		start := p.pos
		s, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		return p.newTerm(&Term{Col: p.col(start), ValueCol: p.col(start), Field: p.defField, Op: OpMatch, Value: s, Quoted: true})
	}
	for _, kw := range [...]string{"AND", "OR"} {
		if p.keyword(kw) {
			return nil, p.errAt(p.pos, "expected a term before %s", kw)
		}
	}
	start := p.pos
	if field, ok, err := p.readFieldName(); err != nil {
		return nil, err
	} else if ok {
		return p.parseValue(start, field)
	}
	w, err := p.readWord(stopWord)
	if err != nil {
		return nil, err
	}
	if w.raw == "*" && p.defField == "" {
		return &MatchAll{Col: p.col(start)}, nil
	}
	return p.newTerm(w.term(p.col(start), p.col(start), p.defField))
}

// parseGroup reads "( query )"; field is the default field of bare words
// inside (empty outside a field:( ... ) group).
func (p *parser) parseGroup(field string) (Node, error) {
	open := p.pos
	p.pos++
	p.skipSpace()
	if p.eof() || p.src[p.pos] == ')' {
		return nil, p.errAt(p.pos, "expected a term after '('")
	}
	saved := p.defField
	p.defField = field
	n, err := p.parseOr()
	p.defField = saved
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.src[p.pos] != ')' {
		return nil, p.errAt(p.pos, "missing ')' to close the '(' at col %d", p.col(open))
	}
	p.pos++
	return n, nil
}

func (p *parser) newTerm(t *Term) (Node, error) {
	p.terms++
	if p.terms > MaxTerms {
		return nil, errorf(t.Col, "query has more than %d terms", MaxTerms)
	}
	return t, nil
}
