package query

import (
	"strings"
	"unicode/utf8"
)

// word is an unquoted word as read: its raw text, its literal value
// (escapes removed) and its wildcard pattern.
type word struct {
	raw  string
	lit  string
	pat  string
	wild bool
}

func (w word) term(col, vcol int, field string) *Term {
	t := &Term{Col: col, ValueCol: vcol, Field: field, Op: OpMatch, Value: w.lit}
	if field != "" && w.raw == "*" {
		t.Op, t.Value = OpExists, ""
	} else if w.wild {
		t.Op, t.Value = OpWildcard, w.pat
	}
	return t
}

func stopWord(c byte) bool { return isSpace(c) || c == '(' || c == ')' }

func stopBound(c byte) bool { return stopWord(c) || c == ']' || c == '}' }

// readWord reads an unquoted word up to the first unescaped stop character.
func (p *parser) readWord(stop func(byte) bool) (word, error) {
	start := p.pos
	var lit, pat strings.Builder
	w := word{}
	for p.pos < len(p.src) && !stop(p.src[p.pos]) {
		c := p.src[p.pos]
		if c == '\\' {
			if p.pos+1 >= len(p.src) {
				return w, p.errAt(p.pos, "dangling '\\' at the end of the query")
			}
			r, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			lit.WriteRune(r)
			if r == '*' || r == '?' || r == '\\' {
				pat.WriteByte('\\')
			}
			pat.WriteRune(r)
			p.pos += 1 + size
			continue
		}
		if c == '*' || c == '?' {
			w.wild = true
		}
		lit.WriteByte(c)
		pat.WriteByte(c)
		p.pos++
	}
	w.raw, w.lit, w.pat = p.src[start:p.pos], lit.String(), pat.String()
	return w, nil
}

// readQuoted reads a quoted phrase starting at the opening quote.
func (p *parser) readQuoted() (string, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				p.pos++
				continue
			}
			r, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			b.WriteRune(r)
			p.pos += 1 + size
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errAt(open, "unterminated quoted phrase")
}

// readFieldName reads "name:" when the word at the current position is a
// field term. It leaves the position unchanged when it is not.
func (p *parser) readFieldName() (string, bool, error) {
	start := p.pos
	var b strings.Builder
	wild := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if stopWord(c) || c == '"' {
			break
		}
		if c == ':' {
			if b.Len() == 0 {
				return "", false, p.errAt(p.pos, "expected a field name before ':'")
			}
			if wild {
				return "", false, p.errAt(start, "wildcards are not allowed in field names")
			}
			p.pos++
			return b.String(), true, nil
		}
		if c == '\\' && p.pos+1 < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
			b.WriteRune(r)
			p.pos += 1 + size
			continue
		}
		wild = wild || c == '*' || c == '?'
		b.WriteByte(c)
		p.pos++
	}
	p.pos = start
	return "", false, nil
}

// parseValue reads what follows "field:".
func (p *parser) parseValue(start int, field string) (Node, error) {
	col, vcol := p.col(start), p.col(p.pos)
	if p.eof() || stopWord(p.src[p.pos]) && p.src[p.pos] != '(' {
		return nil, p.errAt(p.pos, "expected value after ':'")
	}
	switch p.src[p.pos] {
	case '"':
		s, err := p.readQuoted()
		if err != nil {
			return nil, err
		}
		return p.newTerm(&Term{Col: col, ValueCol: vcol, Field: field, Op: OpMatch, Value: s, Quoted: true})
	case '(':
		return p.parseGroup(field)
	case '[', '{':
		return p.parseRange(col, field)
	case '>', '<':
		return p.parseComparison(col, field)
	}
	w, err := p.readWord(stopWord)
	if err != nil {
		return nil, err
	}
	return p.newTerm(w.term(col, vcol, field))
}

// parseComparison reads ">v", ">=v", "<v" or "<=v".
func (p *parser) parseComparison(col int, field string) (Node, error) {
	op := p.src[p.pos : p.pos+1]
	p.pos++
	incl := false
	if p.pos < len(p.src) && p.src[p.pos] == '=' {
		op += "="
		incl = true
		p.pos++
	}
	vcol := p.col(p.pos)
	if p.eof() || stopWord(p.src[p.pos]) {
		return nil, p.errAt(p.pos, "expected value after '%s'", op)
	}
	b, err := p.readBound(stopWord)
	if err != nil {
		return nil, err
	}
	if b.Open {
		return nil, errorf(vcol, "'*' cannot be compared; use %s:* to test that the field exists", field)
	}
	b.Inclusive = incl
	t := &Term{Col: col, ValueCol: vcol, Field: field, Op: OpRange}
	if op[0] == '>' {
		t.Lo, t.Hi = b, Bound{Open: true, Inclusive: true, Col: vcol}
	} else {
		t.Lo, t.Hi = Bound{Open: true, Inclusive: true, Col: vcol}, b
	}
	return p.newTerm(t)
}

// parseRange reads "[lo TO hi]" with [ ] inclusive and { } exclusive ends.
func (p *parser) parseRange(col int, field string) (Node, error) {
	open := p.pos
	t := &Term{Col: col, ValueCol: p.col(open), Field: field, Op: OpRange}
	p.pos++
	p.skipSpace()
	lo, err := p.readBound(stopBound)
	if err != nil {
		return nil, err
	}
	lo.Inclusive = p.src[open] == '['
	afterLo := p.pos
	p.skipSpace()
	if p.pos == afterLo || !p.keyword("TO") {
		return nil, p.errAt(p.pos, "expected ' TO ' between the bounds of the range at col %d", p.col(open))
	}
	p.pos += len("TO")
	p.skipSpace()
	hi, err := p.readBound(stopBound)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || (p.src[p.pos] != ']' && p.src[p.pos] != '}') {
		return nil, p.errAt(p.pos, "expected ']' or '}' to close the range at col %d", p.col(open))
	}
	hi.Inclusive = p.src[p.pos] == ']'
	p.pos++
	t.Lo, t.Hi = lo, hi
	return p.newTerm(t)
}

// readBound reads one range bound: a quoted phrase, "*" or a word.
func (p *parser) readBound(stop func(byte) bool) (Bound, error) {
	b := Bound{Col: p.col(p.pos)}
	if !p.eof() && p.src[p.pos] == '"' {
		s, err := p.readQuoted()
		b.Value = s
		return b, err
	}
	w, err := p.readWord(stop)
	if err != nil {
		return b, err
	}
	switch w.raw {
	case "":
		return b, errorf(b.Col, "expected a range bound")
	case "*":
		b.Open = true
	default:
		b.Value = w.lit
	}
	return b, nil
}
