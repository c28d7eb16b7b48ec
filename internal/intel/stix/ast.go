package stix

import (
	"strconv"
	"strings"
	"time"
)

// AST is a parsed STIX pattern. Parse builds it; Indicators compiles it.
type AST struct {
	// Source is the pattern text as given to Parse.
	Source string
	// Root is the top observation expression.
	Root ObservationExpr
}

// String returns the pattern in canonical form: single spaces, nested
// expressions of a different operator in parentheses, literals in their
// canonical spelling. Parsing the canonical form yields the same AST.
func (a *AST) String() string { return a.Root.String() }

// Logic is a boolean or sequencing operator between two expressions.
type Logic int

// Logic operators. FollowedBy only occurs between observations.
const (
	LogicAnd Logic = iota + 1
	LogicOr
	LogicFollowedBy
)

// String returns the operator's keyword.
func (l Logic) String() string {
	switch l {
	case LogicAnd:
		return "AND"
	case LogicOr:
		return "OR"
	case LogicFollowedBy:
		return "FOLLOWEDBY"
	}
	return "?"
}

// ObservationExpr is a node of the observation layer: an Observation, an
// ObservationOp or a Qualified expression.
type ObservationExpr interface {
	// Pos is the byte offset in the pattern where the node starts (for an
	// operator node: where its operator keyword is).
	Pos() int
	// String returns the node in canonical pattern syntax.
	String() string
	write(b *strings.Builder)
	isObservationExpr()
}

// Observation is one observation expression in square brackets.
type Observation struct {
	Start int
	Expr  ComparisonExpr
}

// Pos returns the offset of the opening bracket.
func (o *Observation) Pos() int { return o.Start }

// String returns "[comparison]".
func (o *Observation) String() string { return build(o.write) }

func (o *Observation) write(b *strings.Builder) {
	b.WriteByte('[')
	o.Expr.write(b)
	b.WriteByte(']')
}

func (*Observation) isObservationExpr() {}

// ObservationOp joins two observation expressions with AND, OR or
// FOLLOWEDBY.
type ObservationOp struct {
	// OpPos is the offset of the operator keyword.
	OpPos       int
	Op          Logic
	Left, Right ObservationExpr
}

// Pos returns the offset of the operator keyword.
func (o *ObservationOp) Pos() int { return o.OpPos }

// String returns "left OP right" with nested expressions of another
// operator in parentheses.
func (o *ObservationOp) String() string { return build(o.write) }

func (o *ObservationOp) write(b *strings.Builder) {
	writeChild(b, o.Left, o.Op, true)
	b.WriteString(" " + o.Op.String() + " ")
	writeChild(b, o.Right, o.Op, false)
}

func (*ObservationOp) isObservationExpr() {}

// build returns what write writes.
func build(write func(*strings.Builder)) string {
	var b strings.Builder
	write(&b)
	return b.String()
}

// writeChild writes an operand of an operator node: in parentheses when it
// is an operator node itself, unless it is the left operand with the same
// operator (the chains are left-associative).
func writeChild(b *strings.Builder, e interface{ write(*strings.Builder) }, parent Logic, left bool) {
	op := Logic(0)
	switch n := e.(type) {
	case *ObservationOp:
		op = n.Op
	case *ComparisonOp:
		op = n.Op
	}
	if op != 0 && (op != parent || !left) {
		b.WriteByte('(')
		e.write(b)
		b.WriteByte(')')
		return
	}
	e.write(b)
}

// QualifierKind names the kind of an observation qualifier.
type QualifierKind int

// Qualifier kinds.
const (
	QualifierWithin QualifierKind = iota + 1
	QualifierRepeats
	QualifierStartStop
)

// String returns the qualifier's keyword(s).
func (k QualifierKind) String() string {
	switch k {
	case QualifierWithin:
		return "WITHIN"
	case QualifierRepeats:
		return "REPEATS"
	case QualifierStartStop:
		return "START/STOP"
	}
	return "?"
}

// Qualifier restricts when or how often an observation must occur.
type Qualifier struct {
	Kind QualifierKind
	// Start is the offset of the qualifier's first keyword.
	Start int
	// Seconds is the WITHIN window, as written (integer or float).
	Seconds Literal
	// Times is the REPEATS count.
	Times int64
	// From and Until bound a START/STOP qualifier.
	From, Until time.Time
}

// String returns the qualifier in pattern syntax.
func (q Qualifier) String() string {
	switch q.Kind {
	case QualifierWithin:
		return "WITHIN " + q.Seconds.String() + " SECONDS"
	case QualifierRepeats:
		return "REPEATS " + strconv.FormatInt(q.Times, 10) + " TIMES"
	case QualifierStartStop:
		return "START " + formatTimestamp(q.From) + " STOP " + formatTimestamp(q.Until)
	}
	return "?"
}

// Qualified is an observation expression followed by a qualifier.
type Qualified struct {
	Expr      ObservationExpr
	Qualifier Qualifier
}

// Pos returns the offset of the qualifier's first keyword.
func (q *Qualified) Pos() int { return q.Qualifier.Start }

// String returns "expr QUALIFIER", with an operator expression in
// parentheses.
func (q *Qualified) String() string { return build(q.write) }

func (q *Qualified) write(b *strings.Builder) {
	if _, ok := q.Expr.(*ObservationOp); ok || q.repeatsKind() {
		b.WriteByte('(')
		q.Expr.write(b)
		b.WriteByte(')')
	} else {
		q.Expr.write(b)
	}
	b.WriteString(" " + q.Qualifier.String())
}

// repeatsKind reports whether a qualifier of q's kind is already chained
// directly on q's expression, which then needs parentheses to re-parse.
func (q *Qualified) repeatsKind() bool {
	for e, ok := q.Expr.(*Qualified); ok; e, ok = e.Expr.(*Qualified) {
		if e.Qualifier.Kind == q.Qualifier.Kind {
			return true
		}
	}
	return false
}

func (*Qualified) isObservationExpr() {}

// ComparisonExpr is a node inside an observation: a Comparison or a
// ComparisonOp.
type ComparisonExpr interface {
	// Pos is the byte offset where the node starts (for an operator node:
	// where its operator keyword is).
	Pos() int
	// String returns the node in canonical pattern syntax.
	String() string
	write(b *strings.Builder)
	isComparisonExpr()
}

// ComparisonOp joins two comparison expressions with AND or OR.
type ComparisonOp struct {
	OpPos       int
	Op          Logic
	Left, Right ComparisonExpr
}

// Pos returns the offset of the operator keyword.
func (c *ComparisonOp) Pos() int { return c.OpPos }

// String returns "left OP right" with nested expressions of another
// operator in parentheses.
func (c *ComparisonOp) String() string { return build(c.write) }

func (c *ComparisonOp) write(b *strings.Builder) {
	writeChild(b, c.Left, c.Op, true)
	b.WriteString(" " + c.Op.String() + " ")
	writeChild(b, c.Right, c.Op, false)
}

func (*ComparisonOp) isComparisonExpr() {}

// Operator is a comparison operator.
type Operator int

// Comparison operators.
const (
	OpEqual Operator = iota + 1
	OpNotEqual
	OpLess
	OpLessEqual
	OpGreater
	OpGreaterEqual
	OpIn
	OpLike
	OpMatches
	OpIsSubset
	OpIsSuperset
	OpExists
)

var operatorNames = [...]string{
	OpEqual: "=", OpNotEqual: "!=", OpLess: "<", OpLessEqual: "<=", OpGreater: ">", OpGreaterEqual: ">=",
	OpIn: "IN", OpLike: "LIKE", OpMatches: "MATCHES", OpIsSubset: "ISSUBSET", OpIsSuperset: "ISSUPERSET",
	OpExists: "EXISTS",
}

// String returns the operator as written in a pattern.
func (o Operator) String() string {
	if o > 0 && int(o) < len(operatorNames) {
		return operatorNames[o]
	}
	return "?"
}

// Comparison is one property test: path, operator and value(s), or EXISTS
// path.
type Comparison struct {
	// Start is the offset of the comparison's first token.
	Start int
	Path  ObjectPath
	// Negated is set by NOT (NOT =, NOT IN, NOT EXISTS, ...).
	Negated bool
	Op      Operator
	// Value is the right-hand side of every operator but IN and EXISTS.
	Value Literal
	// Set holds the values of IN.
	Set []Literal
}

// Pos returns the offset of the comparison's first token.
func (c *Comparison) Pos() int { return c.Start }

// String returns the comparison in pattern syntax.
func (c *Comparison) String() string { return build(c.write) }

func (c *Comparison) write(b *strings.Builder) {
	if c.Op == OpExists {
		if c.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS " + c.Path.String())
		return
	}
	b.WriteString(c.Path.String())
	if c.Negated {
		b.WriteString(" NOT")
	}
	b.WriteString(" " + c.Op.String() + " ")
	if c.Op != OpIn {
		b.WriteString(c.Value.String())
		return
	}
	b.WriteByte('(')
	for i, v := range c.Set {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	b.WriteByte(')')
}

func (*Comparison) isComparisonExpr() {}

// StepKind is the kind of one object path step.
type StepKind int

// Path step kinds: a property key, a list index, or [*].
const (
	StepKey StepKind = iota + 1
	StepIndex
	StepAnyIndex
)

// PathStep is one step of an object path after the object type.
type PathStep struct {
	Kind StepKind
	// Key is the property name of a StepKey (unquoted).
	Key string
	// Index is the list index of a StepIndex (may be negative).
	Index int64
}

// ObjectPath names a property of a cyber-observable object, e.g.
// file:hashes.'SHA-256' or email-message:body_multipart[*].body_raw_ref.name.
type ObjectPath struct {
	Start      int
	ObjectType string
	// Steps has at least one element, the first always a StepKey.
	Steps []PathStep
}

// Property returns the path after the object type, e.g. "hashes.'SHA-256'".
func (p ObjectPath) Property() string {
	var b strings.Builder
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(quoteKey(s.Key))
		case StepIndex:
			b.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		case StepAnyIndex:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// String returns "type:property".
func (p ObjectPath) String() string { return p.ObjectType + ":" + p.Property() }

// quoteKey returns k bare when the lexer would read it back as the same
// identifier, else quoted with ' and \ escaped.
func quoteKey(k string) string {
	if isBareKey(k) {
		return k
	}
	return quoteString(k)
}

func isBareKey(k string) bool {
	if _, kw := keyword(k); kw || k == "" || !isIdentStart(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isIdentChar(k[i]) {
			return false
		}
	}
	return true
}

func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
