package correlation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Type is a correlation type.
type Type string

// The correlation types of the Sigma correlation specification.
const (
	// EventCount counts the matches of the referenced rules per group.
	EventCount Type = "event_count"
	// ValueCount counts the distinct values of the condition's field per
	// group.
	ValueCount Type = "value_count"
	// Temporal requires the referenced rules to match, in any order, per
	// group.
	Temporal Type = "temporal"
	// TemporalOrdered requires the referenced rules to match in the order
	// they are listed, per group.
	TemporalOrdered Type = "temporal_ordered"
)

// valid reports whether t is one of the four correlation types.
func (t Type) valid() bool {
	switch t {
	case EventCount, ValueCount, Temporal, TemporalOrdered:
		return true
	}
	return false
}

// temporal reports whether t is temporal or temporal_ordered.
func (t Type) temporal() bool { return t == Temporal || t == TemporalOrdered }

// MaxRuleRefs is the largest number of rules one correlation may reference.
const MaxRuleRefs = 64

// Rule is one parsed Sigma correlation rule. A Rule is immutable once parsed
// and may be shared by several engines.
type Rule struct {
	// ID is the rule's id and Name its name key; other correlations may
	// reference the rule by either. Both may be empty, though a rule
	// without either cannot be referenced.
	ID, Name string
	// Title, Status, Level and Description are the rule's metadata. Status
	// and Level are empty when the rule does not give them.
	Title, Status, Level, Description string
	// Tags are the rule's tags (attack.t1110, ...).
	Tags []string
	// Type is the correlation type.
	Type Type
	// Rules are the ids or names of the correlated rules, in the order
	// given (the order matters for temporal_ordered).
	Rules []string
	// GroupBy lists the fields (or aliases) that split matches into
	// groups; empty means one group for all matches.
	GroupBy []string
	// Timespan is the length of the sliding window.
	Timespan time.Duration
	// Condition says when the count of a window fires the rule.
	Condition Condition
	// Aliases maps an alias usable in GroupBy (and in the condition's
	// field) to the field it stands for in the events of each referenced
	// rule, keyed by the rule reference (name or id).
	Aliases map[string]map[string]string
	// Generate reports whether the referenced rules also raise alerts of
	// their own (Sigma's generate; false by default).
	Generate bool
	// File is the file the rule came from and Line the line its document
	// starts on.
	File string
	Line int
}

// String names the rule: its title and, when set, its id.
func (r *Rule) String() string {
	if r.ID != "" {
		return fmt.Sprintf("%q (%s)", r.Title, r.ID)
	}
	if r.Name != "" {
		return fmt.Sprintf("%q (%s)", r.Title, r.Name)
	}
	return strconv.Quote(r.Title)
}

// Op is a comparison of a correlation condition.
type Op string

// The comparisons of a correlation condition.
const (
	GT  Op = "gt"
	GTE Op = "gte"
	LT  Op = "lt"
	LTE Op = "lte"
	EQ  Op = "eq"
	NEQ Op = "neq"
)

// Bound is one comparison of a condition: the count compared with Value.
type Bound struct {
	Op    Op
	Value int64
}

// holds reports whether n satisfies the bound.
func (b Bound) holds(n int64) bool {
	switch b.Op {
	case GT:
		return n > b.Value
	case GTE:
		return n >= b.Value
	case LT:
		return n < b.Value
	case LTE:
		return n <= b.Value
	case EQ:
		return n == b.Value
	case NEQ:
		return n != b.Value
	}
	return false
}

// Condition is a correlation condition: one or more bounds that must all
// hold (the specification's range form, such as gt: 100 and lte: 200), and
// for value_count the field or fields whose distinct values are counted.
type Condition struct {
	// Bounds are the comparisons; they all must hold.
	Bounds []Bound
	// Field names the counted field of a value_count rule; several fields
	// count distinct combinations of their values.
	Field []string
	// Implicit is true when the rule gave no condition and the default
	// applies: a temporal rule needs all its referenced rules.
	Implicit bool
}

// Holds reports whether the count n satisfies every bound.
func (c Condition) Holds(n int64) bool {
	for _, b := range c.Bounds {
		if !b.holds(n) {
			return false
		}
	}
	return len(c.Bounds) > 0
}

// Monotone reports whether the condition only sets lower bounds (gt,
// gte): once it holds for a window, it holds for every window with more
// matches. Such conditions are decided as soon as a match arrives; others
// only when the window closes.
func (c Condition) Monotone() bool {
	for _, b := range c.Bounds {
		if b.Op != GT && b.Op != GTE {
			return false
		}
	}
	return true
}

// String renders the condition as "gte 10" or "gt 100 and lte 200".
func (c Condition) String() string {
	parts := make([]string, len(c.Bounds))
	for i, b := range c.Bounds {
		parts[i] = string(b.Op) + " " + strconv.FormatInt(b.Value, 10)
	}
	s := strings.Join(parts, " and ")
	if len(c.Field) > 0 {
		s = strings.Join(c.Field, ",") + " " + s
	}
	return s
}

// RuleRef identifies a detection rule that correlations may reference: its
// id and its name key (either may be empty).
type RuleRef struct {
	ID, Name string
}

// LoadError is a rule that could not be parsed or used, with the file and
// line of the problem and what is wrong.
type LoadError struct {
	File   string
	Line   int
	Reason string
}

// Error returns "file:line: reason".
func (e LoadError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}
