package stix

// maxDepth bounds the nesting of parentheses, so that a hostile pattern
// cannot exhaust the stack.
const maxDepth = 200

// Parse parses a STIX 2.1 pattern (the grammar of STIXPattern.g4) into an
// AST. A malformed pattern yields a *SyntaxError with the column and what
// was expected there.
//
// Beyond the grammar, Parse accepts unquoted property names with hyphens
// (file:extensions.windows-pebinary-ext...), as the STIX 2.1
// specification's own examples use them, and rejects an observation
// expression with two qualifiers of the same kind, which the specification
// forbids.
func Parse(pattern string) (*AST, error) {
	p := &parser{lex: lexer{src: pattern}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.observationExprs()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
	}
	return &AST{Source: pattern, Root: root}, nil
}

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expected(what string) *SyntaxError {
	return &SyntaxError{Offset: p.tok.pos, Column: column(p.lex.src, p.tok.pos), Expected: what,
		Found: p.tok.describe()}
}

// expect consumes a token of kind k or fails saying what was expected.
func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.expected(what)
	}
	return t, p.advance()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{Offset: p.tok.pos, Column: column(p.lex.src, p.tok.pos),
			Msg: "parentheses nested too deeply"}
	}
	return nil
}

// binaryLevel parses left-associative chains "operand (OP operand)*".
func (p *parser) binaryLevel(op tokKind, operand func() (node, error), join func(pos int, l, r node) node) (node, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == op {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = join(pos, left, right)
	}
	return left, nil
}

// node is either an ObservationExpr or a ComparisonExpr while parsing.
type node interface{ Pos() int }

func (p *parser) observationExprs() (ObservationExpr, error) {
	n, err := p.binaryLevel(tFollowedBy, p.observationOr, obsJoin(LogicFollowedBy))
	if err != nil {
		return nil, err
	}
	return n.(ObservationExpr), nil
}

func (p *parser) observationOr() (node, error) {
	return p.binaryLevel(tOr, p.observationAnd, obsJoin(LogicOr))
}

func (p *parser) observationAnd() (node, error) {
	return p.binaryLevel(tAnd, p.qualified, obsJoin(LogicAnd))
}

func obsJoin(op Logic) func(int, node, node) node {
	return func(pos int, l, r node) node {
		return &ObservationOp{OpPos: pos, Op: op, Left: l.(ObservationExpr), Right: r.(ObservationExpr)}
	}
}

// qualified parses an observation expression with its qualifiers.
func (p *parser) qualified() (node, error) {
	e, err := p.observationPrimary()
	if err != nil {
		return nil, err
	}
	seen := map[QualifierKind]bool{}
	for p.tok.kind == tWithin || p.tok.kind == tRepeats || p.tok.kind == tStart {
		start := p.tok.pos
		q, err := p.qualifier()
		if err != nil {
			return nil, err
		}
		if seen[q.Kind] {
			return nil, &SyntaxError{Offset: start, Column: column(p.lex.src, start),
				Msg: "duplicate " + q.Kind.String() + " qualifier on one observation expression"}
		}
		seen[q.Kind] = true
		e = &Qualified{Expr: e, Qualifier: q}
	}
	return e, nil
}

func (p *parser) observationPrimary() (ObservationExpr, error) {
	switch p.tok.kind {
	case tLBrack:
		start := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRBrack, "']', AND or OR"); err != nil {
			return nil, err
		}
		return &Observation{Start: start, Expr: c.(ComparisonExpr)}, nil
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.observationExprs()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "')', AND, OR, FOLLOWEDBY or a qualifier"); err != nil {
			return nil, err
		}
		p.depth--
		return e, nil
	}
	return nil, p.expected("'[' or '(' starting an observation expression")
}

// qualifier parses WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
func (p *parser) qualifier() (Qualifier, error) {
	q := Qualifier{Start: p.tok.pos}
	kw := p.tok.kind
	if err := p.advance(); err != nil {
		return q, err
	}
	switch kw {
	case tWithin:
		q.Kind = QualifierWithin
		if (p.tok.kind != tInt && p.tok.kind != tFloat) || p.tok.text[0] == '-' {
			return q, p.expected("a positive number of seconds")
		}
		q.Seconds = p.tok.lit
		if err := p.advance(); err != nil {
			return q, err
		}
		_, err := p.expect(tSeconds, "SECONDS")
		return q, err
	case tRepeats:
		q.Kind = QualifierRepeats
		if p.tok.kind != tInt || p.tok.text[0] == '-' {
			return q, p.expected("a positive integer")
		}
		q.Times = p.tok.lit.Int
		if err := p.advance(); err != nil {
			return q, err
		}
		_, err := p.expect(tTimes, "TIMES")
		return q, err
	}
	q.Kind = QualifierStartStop
	t, err := p.expect(tTimestamp, "a timestamp t'...' after START")
	if err != nil {
		return q, err
	}
	q.From = t.lit.Time
	if _, err := p.expect(tStop, "STOP"); err != nil {
		return q, err
	}
	t, err = p.expect(tTimestamp, "a timestamp t'...' after STOP")
	q.Until = t.lit.Time
	return q, err
}

func (p *parser) comparisonOr() (node, error) {
	return p.binaryLevel(tOr, p.comparisonAnd, cmpJoin(LogicOr))
}

func (p *parser) comparisonAnd() (node, error) {
	return p.binaryLevel(tAnd, p.propTest, cmpJoin(LogicAnd))
}

func cmpJoin(op Logic) func(int, node, node) node {
	return func(pos int, l, r node) node {
		return &ComparisonOp{OpPos: pos, Op: op, Left: l.(ComparisonExpr), Right: r.(ComparisonExpr)}
	}
}
