package sigma

import (
	"fmt"
	"strings"
	"time"
)

// Rule is one loaded Sigma detection rule, or a correlation rule when
// Correlation is set. A Rule is immutable once loaded and may be shared by
// several engines.
type Rule struct {
	// ID is the rule's UUID (the id key); Title its title. Name is the
	// optional name key, by which correlation rules may reference it.
	ID, Title, Name string
	// Level is the Sigma level (informational, low, medium, high, critical)
	// and Status the rule status (stable, test, experimental, deprecated,
	// unsupported); both are empty when the rule does not give them.
	Level, Status string
	// Description, Author, Date and Modified are the rule's metadata as
	// written.
	Description, Author, Date, Modified string
	// Path is the file the rule came from and Line the line its document
	// starts on.
	Path string
	Line int
	// Tags are the rule's tags (attack.t1059.001, cve.2021-44228, ...).
	Tags []string
	// References and FalsePositives are the rule's lists of the same names.
	References, FalsePositives []string
	// Fields lists the fields the rule suggests showing with a match.
	Fields []string
	// Related lists the rules this one derives from, obsoletes or is
	// similar to.
	Related []Related
	// Logsource says which events the rule applies to.
	Logsource Logsource
	// Correlation is the correlation part of a correlation rule; it is nil
	// for detection rules.
	Correlation *Correlation

	det *detection // compiled detection; nil for correlation rules
}

// Related is one entry of a rule's related list.
type Related struct {
	ID, Type string
}

// Logsource is a rule's logsource: the product, category and service of
// the events it applies to. Empty parts match any value.
type Logsource struct {
	Product, Category, Service string
	// Definition is the free-text note on what the log source requires.
	Definition string
}

// String returns the logsource as product/category/service with "-" for
// the parts that are not set.
func (l Logsource) String() string {
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return part(l.Product) + "/" + part(l.Category) + "/" + part(l.Service)
}

// Correlation is the parsed form of a Sigma correlation rule. It is kept for
// the correlation engine; the detection engine does not evaluate it.
type Correlation struct {
	// Type is event_count, value_count, temporal or temporal_ordered.
	Type string
	// Rules are the ids or names of the rules it correlates.
	Rules []string
	// GroupBy lists the fields events are grouped by.
	GroupBy []string
	// Timespan is the window the events must fall into.
	Timespan time.Duration
	// Condition holds the comparison (gt, gte, lt, lte, eq, neq) against
	// its threshold; Field names the counted field of value_count rules.
	Condition map[string]int64
	Field     string
	// Aliases maps an alias name to the field it stands for, per rule.
	Aliases map[string]map[string]string
	// Generate reports whether the referenced rules also raise their own
	// alerts.
	Generate bool
}

// LoadError is a rule that could not be loaded, or a notice about one: the
// file and line of the problem and what is wrong.
type LoadError struct {
	File   string
	Line   int
	Reason string
}

// Error returns "file:line: reason".
func (e LoadError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// LoadOptions configure rule loading.
type LoadOptions struct {
	// Placeholders are the values of the %name% placeholders that values
	// with the expand modifier refer to. A rule that uses a placeholder
	// without values here cannot load.
	Placeholders map[string][]string
}

// RuleSet is what LoadDir loaded: detection rules, correlation rules, and
// notices about files that hold something other than a detection rule.
type RuleSet struct {
	// Rules are the detection rules, in path order.
	Rules []*Rule
	// Correlations are the correlation rules, in path order.
	Correlations []*Rule
	// Notices are remarks that are not load errors, such as correlation
	// rules being left to the correlation engine.
	Notices []LoadError
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

// HasTag reports whether the rule carries tag (case-insensitive).
func (r *Rule) HasTag(tag string) bool {
	for _, t := range r.Tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}
