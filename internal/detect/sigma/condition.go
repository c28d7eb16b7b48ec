package sigma

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// condKind is the kind of a condition node.
type condKind uint8

const (
	condSearch condKind = iota // a search identifier
	condAnd
	condOr
	condNot
	condOf // at least n of kids (n == len(kids) for "all of")
)

// condNode is a node of a compiled condition.
type condNode struct {
	kind   condKind
	search int // index of the search, for condSearch
	n      int // for condOf: how many kids must match
	kids   []*condNode
}

// condToken is one token of a condition with its byte offset.
type condToken struct {
	text string
	pos  int
}

// condParser parses one condition expression.
type condParser struct {
	src   string
	toks  []condToken
	i     int
	names []string // search identifiers, in definition order
	index map[string]int
}

// parseCondition parses a Sigma condition over the given search
// identifiers: and, or, not, parentheses, "1 of x*", "all of x*", "N of
// x*" and "them" (every identifier not starting with an underscore).
// Keywords are case-insensitive. Precedence, loosest first: or, and, not,
// "of", parentheses.
func parseCondition(src string, names []string) (*condNode, error) {
	p := &condParser{src: src, names: names, index: make(map[string]int, len(names))}
	for i, n := range names {
		p.index[n] = i
	}
	if err := p.tokenize(); err != nil {
		return nil, err
	}
	if len(p.toks) == 0 {
		return nil, errors.New("condition is empty")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errorf("unexpected %q", p.toks[p.i].text)
	}
	return n, nil
}

func (p *condParser) tokenize() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, condToken{s[i : i+1], i})
			i++
		case c == '|':
			return fmt.Errorf("condition %q: aggregations after | (Sigma 1.0 count() and near) are not supported; write a correlation rule", s)
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			p.toks = append(p.toks, condToken{s[i:j], i})
			i = j
		default:
			return fmt.Errorf("condition %q: unexpected character %q at offset %d", s, c, i)
		}
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '*' || c == '-' || c == '.' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func (p *condParser) errorf(format string, args ...any) error {
	pos := len(p.src)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return fmt.Errorf("condition %q at offset %d: %s", p.src, pos, fmt.Sprintf(format, args...))
}

// peek returns the next token lower-cased, or "" at the end.
func (p *condParser) peek() string {
	if p.i >= len(p.toks) {
		return ""
	}
	return strings.ToLower(p.toks[p.i].text)
}

func (p *condParser) or() (*condNode, error) {
	return p.binary("or", condOr, p.and)
}

func (p *condParser) and() (*condNode, error) {
	return p.binary("and", condAnd, p.not)
}

// binary parses operands separated by op into one flat node.
func (p *condParser) binary(op string, kind condKind, operand func() (*condNode, error)) (*condNode, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if p.peek() != op {
		return first, nil
	}
	n := &condNode{kind: kind, kids: []*condNode{first}}
	for p.peek() == op {
		p.i++
		k, err := operand()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k)
	}
	return n, nil
}

func (p *condParser) not() (*condNode, error) {
	if p.peek() != "not" {
		return p.primary()
	}
	p.i++
	k, err := p.not()
	if err != nil {
		return nil, err
	}
	return &condNode{kind: condNot, kids: []*condNode{k}}, nil
}

func (p *condParser) primary() (*condNode, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, p.errorf("expression expected at the end")
	case "(":
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, p.errorf("missing )")
		}
		p.i++
		return n, nil
	case ")", "and", "or", "of", "them":
		return nil, p.errorf("unexpected %q", p.toks[p.i].text)
	}
	if p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "of") {
		return p.of()
	}
	name := p.toks[p.i].text
	idx, ok := p.index[name]
	if !ok {
		if strings.Contains(name, "*") {
			return nil, p.errorf("pattern %q needs \"1 of\" or \"all of\"", name)
		}
		return nil, p.errorf("unknown search identifier %q", name)
	}
	p.i++
	return &condNode{kind: condSearch, search: idx}, nil
}

// of parses "1 of x", "all of x", "any of x" or "N of x".
func (p *condParser) of() (*condNode, error) {
	quant := p.peek()
	p.i += 2 // quantifier and "of"
	target := p.peek()
	if target == "" {
		return nil, p.errorf("search identifier pattern expected after %q of", quant)
	}
	pattern := p.toks[p.i].text
	p.i++
	var kids []*condNode
	for i, name := range p.names {
		if (target == "them" && !strings.HasPrefix(name, "_")) || (target != "them" && identMatch(pattern, name)) {
			kids = append(kids, &condNode{kind: condSearch, search: i})
		}
	}
	if len(kids) == 0 {
		p.i--
		return nil, p.errorf("%q matches no search identifier", pattern)
	}
	n := &condNode{kind: condOf, kids: kids}
	switch quant {
	case "all":
		n.n = len(kids)
	case "any":
		n.n = 1
	default:
		k, err := strconv.Atoi(quant)
		if err != nil || k < 1 {
			p.i -= 3
			return nil, p.errorf("%q is not a quantifier (1, all or a count)", quant)
		}
		n.n = k
	}
	if n.n > len(kids) {
		return nil, fmt.Errorf("condition %q: %d of %q can never match: the pattern matches %d search identifiers",
			p.src, n.n, pattern, len(kids))
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return n, nil
}

// identMatch matches a search identifier against a pattern whose * stand
// for any run of characters.
func identMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	var pat sigmaString
	for i, part := range strings.Split(pattern, "*") {
		if i > 0 {
			pat = append(pat, strPart{kind: partStar})
		}
		if part != "" {
			pat = append(pat, strPart{lit: part})
		}
	}
	return globMatch(pat.normalize(), name)
}
