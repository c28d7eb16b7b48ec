package stix

// propTest parses one comparison, a parenthesised comparison expression,
// or [NOT] EXISTS path.
func (p *parser) propTest() (node, error) {
	switch p.tok.kind {
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "')', AND or OR"); err != nil {
			return nil, err
		}
		p.depth--
		return c, nil
	case tNot, tExists:
		return p.exists()
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Start: path.Start, Path: path}
	if p.tok.kind == tNot {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.operator(c); err != nil {
		return nil, err
	}
	return c, nil
}

// exists parses [NOT] EXISTS path.
func (p *parser) exists() (node, error) {
	c := &Comparison{Start: p.tok.pos, Op: OpExists}
	if p.tok.kind == tNot {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tExists {
			return nil, p.expected("EXISTS after a leading NOT")
		}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// operator parses the operator and right-hand side of a comparison.
func (p *parser) operator(c *Comparison) error {
	opTok := p.tok
	switch opTok.kind {
	case tEq:
		c.Op = OpEqual
	case tNeq:
		c.Op = OpNotEqual
	case tLt:
		c.Op = OpLess
	case tLe:
		c.Op = OpLessEqual
	case tGt:
		c.Op = OpGreater
	case tGe:
		c.Op = OpGreaterEqual
	case tIn:
		c.Op = OpIn
	case tLike:
		c.Op = OpLike
	case tMatches:
		c.Op = OpMatches
	case tIsSubset:
		c.Op = OpIsSubset
	case tIsSuperset:
		c.Op = OpIsSuperset
	default:
		return p.expected("a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)")
	}
	if err := p.advance(); err != nil {
		return err
	}
	switch c.Op {
	case OpIn:
		return p.setLiteral(c)
	case OpLike, OpMatches, OpIsSubset, OpIsSuperset:
		t, err := p.expect(tString, "a string literal after "+c.Op.String())
		c.Value = t.lit
		return err
	case OpEqual, OpNotEqual:
		if !isLiteral(p.tok.kind) {
			return p.expected("a literal after " + opTok.text)
		}
	default:
		if !isLiteral(p.tok.kind) || p.tok.kind == tBool {
			return p.expected("an orderable literal (number, string, timestamp, hex or binary) after " + opTok.text)
		}
	}
	c.Value = p.tok.lit
	return p.advance()
}

func isLiteral(k tokKind) bool {
	switch k {
	case tString, tInt, tFloat, tBool, tTimestamp, tHex, tBinary:
		return true
	}
	return false
}

// setLiteral parses "( )" or "( lit, lit, ... )".
func (p *parser) setLiteral(c *Comparison) error {
	if _, err := p.expect(tLParen, "'(' starting the IN set"); err != nil {
		return err
	}
	c.Set = []Literal{}
	if p.tok.kind == tRParen {
		return p.advance()
	}
	for {
		if !isLiteral(p.tok.kind) {
			return p.expected("a literal in the IN set")
		}
		c.Set = append(c.Set, p.tok.lit)
		if err := p.advance(); err != nil {
			return err
		}
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return err
			}
		case tRParen:
			return p.advance()
		default:
			return p.expected("',' or ')' in the IN set")
		}
	}
}

// objectPath parses type:first(.key|[n]|[*])*.
func (p *parser) objectPath() (ObjectPath, error) {
	path := ObjectPath{Start: p.tok.pos}
	if p.tok.kind != tIdent && p.tok.kind != tIdentHyphen {
		return path, p.expected("an object path (object-type:property)")
	}
	path.ObjectType = p.tok.text
	if err := p.advance(); err != nil {
		return path, err
	}
	if _, err := p.expect(tColon, "':' after the object type "+quoteString(path.ObjectType)); err != nil {
		return path, err
	}
	key, err := p.pathKey("a property name after ':'")
	if err != nil {
		return path, err
	}
	path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
	for {
		switch p.tok.kind {
		case tDot:
			if err := p.advance(); err != nil {
				return path, err
			}
			key, err := p.pathKey("a property name after '.'")
			if err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
		case tLBrack:
			step, err := p.indexStep()
			if err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, step)
		default:
			return path, nil
		}
	}
}

// pathKey reads a property name: an identifier or a quoted string.
func (p *parser) pathKey(what string) (string, error) {
	switch p.tok.kind {
	case tIdent, tIdentHyphen:
		k := p.tok.text
		return k, p.advance()
	case tString:
		k := p.tok.lit.Str
		return k, p.advance()
	}
	return "", p.expected(what)
}

// indexStep parses [n] or [*].
func (p *parser) indexStep() (PathStep, error) {
	if err := p.advance(); err != nil {
		return PathStep{}, err
	}
	var step PathStep
	switch p.tok.kind {
	case tInt:
		step = PathStep{Kind: StepIndex, Index: p.tok.lit.Int}
	case tAsterisk:
		step = PathStep{Kind: StepAnyIndex}
	default:
		return step, p.expected("a list index (integer or *)")
	}
	if err := p.advance(); err != nil {
		return step, err
	}
	_, err := p.expect(tRBrack, "']' closing the list index")
	return step, err
}
