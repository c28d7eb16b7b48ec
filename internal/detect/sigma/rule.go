package sigma

import (
	"strings"

	"github.com/vigil-soc/vigil/internal/detect/sigma/correlation"
)

// Rule is one loaded Sigma detection rule. A Rule is immutable once loaded
// and may be shared by several engines. Correlation rules are loaded as
// correlation.Rule (see RuleSet).
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

	det *detection // compiled detection
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

// LoadError is a rule that could not be loaded: the file and line of the
// problem and what is wrong. It is the correlation package's type, so the
// problems of correlation rules, parsed by that package, need no
// conversion.
type LoadError = correlation.LoadError

// LoadOptions configure rule loading.
type LoadOptions struct {
	// Placeholders are the values of the %name% placeholders that values
	// with the expand modifier refer to. A rule that uses a placeholder
	// without values here cannot load.
	Placeholders map[string][]string
}

// RuleSet is what LoadDir or LoadFile loaded: the detection rules, compiled
// for an Engine, and the correlation rules, parsed by the correlation
// package for its engine.
type RuleSet struct {
	// Rules are the detection rules, in path order.
	Rules []*Rule
	// Correlations are the correlation rules, in path order.
	Correlations []*correlation.Rule
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
