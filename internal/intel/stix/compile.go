package stix

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-soc/vigil/internal/intel"
)

// maxConstructs bounds how many unsupported constructs one error lists;
// further ones are only counted.
const maxConstructs = 20

// maxAlternatives bounds how many alternatives (OR branches and IN values,
// multiplied out over AND) one observation may expand to.
const maxAlternatives = 100_000

// Unsupported is the error for a valid pattern, or part of one, that
// cannot be turned into indicators: FOLLOWEDBY, qualifiers, AND between
// observations or across objects, operators other than =, IN, ISSUBSET and
// LIKE '%.domain', negation, object types and properties without an
// indicator type, and values the indicator type does not accept.
type Unsupported struct {
	// Constructs lists what could not be compiled, in pattern order, at
	// most 20 distinct constructs.
	Constructs []Construct
	// More counts further distinct constructs not listed.
	More int
	// Partial reports that other OR alternatives of the pattern compiled;
	// their indicators are returned alongside the error.
	Partial bool
}

// Construct is one part of a pattern that could not be compiled.
type Construct struct {
	// Column is the 1-based column where the construct starts.
	Column int
	// Name names the construct: "FOLLOWEDBY", "WITHIN qualifier",
	// "MATCHES", "object type process", "property file:name", ...
	Name string
	// Reason says why it is not compiled.
	Reason string
}

// Error lists the constructs, e.g. "unsupported pattern: MATCHES at column
// 24: regular expressions are not matched".
func (u *Unsupported) Error() string {
	parts := make([]string, len(u.Constructs))
	for i, c := range u.Constructs {
		parts[i] = fmt.Sprintf("%s at column %d: %s", c.Name, c.Column, c.Reason)
	}
	s := "unsupported pattern: " + strings.Join(parts, "; ")
	if u.More > 0 {
		s += fmt.Sprintf("; and %d more", u.More)
	}
	if u.Partial {
		s += " (the other alternatives were compiled)"
	}
	return s
}

// Pattern parses and compiles one STIX pattern into indicators, as
// (*AST).Indicators does. A malformed pattern yields an error wrapping a
// *SyntaxError. When only some OR alternatives are unsupported, Pattern
// returns the indicators of the others together with an *Unsupported error
// whose Partial is set; matching those is sound, since any of the
// alternatives satisfies the pattern.
func Pattern(pattern string) ([]intel.Indicator, error) {
	ast, err := Parse(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid STIX pattern: %w", err)
	}
	return ast.Indicators()
}

// Indicators compiles the pattern into indicators: one per OR alternative
// and IN value, each with the conditions ANDed to it on the same object.
// The indicators carry Type, Value, Also and Confidence -1 (unknown); the
// caller fills in the rest. Unsupported parts yield an *Unsupported error;
// see Pattern for partial results.
func (a *AST) Indicators() ([]intel.Indicator, error) {
	c := &compiler{src: a.Source, ascii: isASCII(a.Source), seen: map[string]bool{}}
	c.observations(a.Root)
	if len(c.bad) == 0 {
		return c.out, nil
	}
	return c.out, &Unsupported{Constructs: c.bad, More: c.more, Partial: len(c.out) > 0}
}

// compiler collects indicators and unsupported constructs.
type compiler struct {
	src     string
	ascii   bool
	out     []intel.Indicator
	seen    map[string]bool
	bad     []Construct
	more    int
	badSeen map[[2]string]bool
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// unsupported records a construct; the same construct and reason at
// another place (e.g. every OR alternative naming the same unknown object
// type) is reported once, at its first column.
func (c *compiler) unsupported(pos int, name, reason string) {
	k := [2]string{name, reason}
	if c.badSeen == nil {
		c.badSeen = map[[2]string]bool{}
	}
	if c.badSeen[k] {
		return
	}
	c.badSeen[k] = true
	if len(c.bad) == maxConstructs {
		c.more++
		return
	}
	col := pos + 1
	if !c.ascii {
		col = column(c.src, pos)
	}
	c.bad = append(c.bad, Construct{Column: col, Name: name, Reason: reason})
}

func (c *compiler) observations(e ObservationExpr) {
	switch e := e.(type) {
	case *Observation:
		c.observation(e)
	case *ObservationOp:
		switch e.Op {
		case LogicOr:
			c.observations(e.Left)
			c.observations(e.Right)
		case LogicAnd:
			c.unsupported(e.OpPos, "AND between observations",
				"both observations must be seen, which one indicator cannot express")
		default:
			c.unsupported(e.OpPos, "FOLLOWEDBY", "sequences of observations are not matched")
		}
	case *Qualified:
		c.unsupported(e.Pos(), e.Qualifier.Kind.String()+" qualifier",
			"timing and repetition constraints are not matched")
	}
}

func (c *compiler) observation(o *Observation) {
	if n := alternatives(o.Expr); n > maxAlternatives {
		c.unsupported(o.Start, "observation", fmt.Sprintf("expands to more than %d alternatives", maxAlternatives))
		return
	}
	for _, term := range dnf(o.Expr) {
		c.term(term)
	}
}

// alternatives counts the terms dnf would return, saturating above
// maxAlternatives.
func alternatives(e ComparisonExpr) int {
	switch e := e.(type) {
	case *Comparison:
		if e.Op == OpIn && !e.Negated {
			return len(e.Set)
		}
		return 1
	case *ComparisonOp:
		l, r := alternatives(e.Left), alternatives(e.Right)
		n := l + r
		if e.Op == LogicAnd {
			if l != 0 && r > (maxAlternatives+1)/l {
				return maxAlternatives + 1
			}
			n = l * r
		}
		return min(n, maxAlternatives+1)
	}
	return 0
}

// dnf returns the comparison expression in disjunctive normal form: a list
// of alternatives, each a list of comparisons that must all hold. IN is
// expanded into one equality per value.
func dnf(e ComparisonExpr) [][]*Comparison {
	switch e := e.(type) {
	case *Comparison:
		if e.Op != OpIn || e.Negated {
			return [][]*Comparison{{e}}
		}
		out := make([][]*Comparison, 0, len(e.Set))
		for _, v := range e.Set {
			eq := *e
			eq.Op, eq.Value, eq.Set = OpEqual, v, nil
			out = append(out, []*Comparison{&eq})
		}
		return out
	case *ComparisonOp:
		l, r := dnf(e.Left), dnf(e.Right)
		if e.Op == LogicOr {
			return append(l, r...)
		}
		out := make([][]*Comparison, 0, len(l)*len(r))
		for _, a := range l {
			for _, b := range r {
				out = append(out, append(slices.Clip(a), b...))
			}
		}
		return out
	}
	return nil
}

// term compiles one alternative: comparisons on one object, exactly one
// observable value (or several hashes of one file) and conditions.
func (c *compiler) term(leaves []*Comparison) {
	for _, l := range leaves {
		if name, reason := operatorSupport(l); name != "" {
			c.unsupported(l.Start, name, reason)
			return
		}
	}
	typ := leaves[0].Path.ObjectType
	for _, l := range leaves[1:] {
		if l.Path.ObjectType != typ {
			c.unsupported(l.Start, "AND across objects", fmt.Sprintf(
				"%s and %s are different objects; only conditions on the same object are matched", typ,
				l.Path.ObjectType))
			return
		}
	}
	if !knownObject(typ) {
		c.unsupported(leaves[0].Start, "object type "+typ, "no indicator type matches "+typ+" objects")
		return
	}
	var t termParts
	for _, l := range leaves {
		if bad := t.add(l); bad != nil {
			c.unsupported(bad.pos, bad.name, bad.reason)
			return
		}
	}
	ins, bad := t.indicators()
	if bad != nil {
		c.unsupported(bad.pos, bad.name, bad.reason)
		return
	}
	for _, in := range ins {
		key := in.Key()
		for _, cond := range in.Also {
			key += "|" + cond.Field + "=" + cond.Value
		}
		if !c.seen[key] {
			c.seen[key] = true
			c.out = append(c.out, in)
		}
	}
}

// operatorSupport names the operator of l and why when it cannot be
// compiled; IN has been expanded to = already.
func operatorSupport(l *Comparison) (string, string) {
	if l.Negated {
		return "NOT " + l.Op.String(), "negated comparisons are not matched"
	}
	switch l.Op {
	case OpEqual, OpIsSubset, OpLike:
		return "", ""
	case OpNotEqual:
		return "!=", "inequality is not matched"
	case OpMatches:
		return "MATCHES", "regular expressions are not matched"
	case OpIsSuperset:
		return "ISSUPERSET", "only ISSUBSET of an address range is matched"
	case OpExists:
		return "EXISTS", "property existence is not matched"
	}
	return l.Op.String(), "ordering comparisons are not matched"
}
