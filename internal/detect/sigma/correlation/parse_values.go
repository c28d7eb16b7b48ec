package correlation

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// condition reads the condition (and for value_count its field). Temporal
// rules without a condition need all their referenced rules.
func (p *docParser) condition(r *Rule, c *yaml.Node) {
	n := mapGet(c, "condition")
	if n == nil {
		if r.Type.temporal() {
			r.Condition = Condition{Bounds: []Bound{{GTE, int64(len(r.Rules))}}, Implicit: true}
		} else if r.Type.valid() {
			p.errorf(c, "%s correlation has no condition", r.Type)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "correlation condition must be a map such as {gte: 10}")
		return
	}
	ops := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		switch op := Op(k.Value); op {
		case GT, GTE, LT, LTE, EQ, NEQ:
			ops++
			val, ok := integer(v)
			if !ok || val < 0 {
				p.errorf(v, "correlation condition %s needs a non-negative integer", op)
				continue
			}
			r.Condition.Bounds = append(r.Condition.Bounds, Bound{op, val})
		case "field":
			r.Condition.Field = p.listNode(v, "condition field")
			p.uniqueNonEmpty(v, "condition field", r.Condition.Field)
		default:
			p.errorf(k, "unknown correlation condition %q (want gt, gte, lt, lte, eq, neq or field)", k.Value)
		}
	}
	if ops > len(r.Condition.Bounds) {
		return // the bad thresholds are reported
	}
	p.checkCondition(r, n)
}

// checkCondition reports conditions that do not fit the rule's type or can
// never hold.
func (p *docParser) checkCondition(r *Rule, n *yaml.Node) {
	cond := &r.Condition
	switch {
	case len(cond.Bounds) == 0:
		p.errorf(n, "correlation condition has no comparison (gt, gte, lt, lte, eq or neq)")
		return
	case r.Type == ValueCount && len(cond.Field) == 0:
		p.errorf(n, "value_count correlation condition needs a field")
	case r.Type != ValueCount && len(cond.Field) > 0 && r.Type.valid():
		p.errorf(n, "condition field is only used by value_count correlations, not %s", r.Type)
	}
	limit := int64(math.MaxInt64)
	if r.Type.temporal() {
		limit = int64(len(r.Rules))
	}
	if !satisfiable(*cond, limit) {
		p.errorf(n, "correlation condition %s can never hold", cond)
	}
}

// satisfiable reports whether some count in 1..limit satisfies c. The
// bounds are intervals and single exclusions, so it is enough to try 1,
// limit and the counts next to each bound.
func satisfiable(c Condition, limit int64) bool {
	try := func(n int64) bool { return n >= 1 && n <= limit && c.Holds(n) }
	if try(1) || try(limit) {
		return true
	}
	for _, b := range c.Bounds {
		if b.Value < math.MaxInt64-2 && (try(b.Value-1) || try(b.Value) || try(b.Value+1) || try(b.Value+2)) {
			return true
		}
	}
	return false
}

// integer reads a YAML integer.
func integer(n *yaml.Node) (int64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

var timespanRE = regexp.MustCompile(`^([0-9]{1,9})([smhdwMy])$`)

// timespanUnits are the timespan units; M and y are pySigma's month and
// year (30.44 and 365.24 days).
var timespanUnits = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "M": 2629746 * time.Second, "y": 31556952 * time.Second,
}

// MaxTimespan is the longest timespan a correlation may have.
const MaxTimespan = 366 * 24 * time.Hour

// parseTimespan reads a timespan: a positive number and a unit.
func parseTimespan(s string) (time.Duration, error) {
	m := timespanRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("timespan %q: want a number and a unit (s, m, h, d or w), such as 5m", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	if n <= 0 {
		return 0, fmt.Errorf("timespan %q must be greater than zero", s)
	}
	unit := timespanUnits[m[2]]
	if n > int64(MaxTimespan/unit) {
		return 0, fmt.Errorf("timespan %q is longer than the supported %v", s, MaxTimespan)
	}
	return time.Duration(n) * unit, nil
}

// resolve follows a YAML alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// scalar returns the text of a scalar node; a null is "". ok is false for
// anything but a scalar.
func scalar(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.ShortTag() == "!!null" {
		return "", true
	}
	return n.Value, true
}

// str reads an optional plain key.
func (p *docParser) str(m *yaml.Node, key string) string {
	n := mapGet(m, key)
	if n == nil {
		return ""
	}
	s, ok := scalar(n)
	if !ok {
		p.errorf(n, "%s must be a plain value", key)
	}
	return s
}

// boolean reads an optional true/false key.
func (p *docParser) boolean(m *yaml.Node, key string) bool {
	n := mapGet(m, key)
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, "%s must be true or false", key)
		return false
	}
	v, _ := strconv.ParseBool(n.Value)
	return v
}

// list reads an optional key holding a list of plain values or one plain
// value.
func (p *docParser) list(m *yaml.Node, key string) []string {
	return p.listNode(mapGet(m, key), key)
}

func (p *docParser) listNode(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if s, _ := scalar(n); s != "" {
			return []string{s}
		}
		return nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			s, ok := scalar(resolve(e))
			if !ok {
				p.errorf(e, "%s must be a list of plain values", what)
				continue
			}
			out = append(out, s)
		}
		return out
	}
	p.errorf(n, "%s must be a list", what)
	return nil
}

// validLevel reports whether v is a Sigma rule level.
func validLevel(v string) bool {
	switch v {
	case "informational", "low", "medium", "high", "critical":
		return true
	}
	return false
}

// validStatus reports whether v is a Sigma rule status.
func validStatus(v string) bool {
	switch v {
	case "stable", "test", "experimental", "deprecated", "unsupported":
		return true
	}
	return false
}
