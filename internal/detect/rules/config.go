package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/sigma"
)

// Config says which rules run.
type Config struct {
	// Builtin loads the embedded SigmaHQ pack.
	Builtin bool
	// Dirs are folders of the user's own Sigma rules (*.yml, *.yaml).
	Dirs []string
	// MappingDirs are folders of extra logsource/field mapping files.
	MappingDirs []string
	// Disable turns off rules by id, tag, level or path glob.
	Disable Filter
	// Placeholders are the values of %name% placeholders for the expand
	// modifier.
	Placeholders map[string][]string
	// Exceptions suppress matches of a rule that meet field conditions.
	Exceptions []Exception
	// ReloadInterval is how often Dirs are checked for changes (0: never).
	ReloadInterval time.Duration
}

// Filter selects rules. A rule is selected when any list selects it.
type Filter struct {
	IDs    []string
	Tags   []string
	Levels []string
	// Paths are globs (path.Match) over the rule's file path or any
	// trailing part of it ("windows/process_creation/*.yml"); a pattern
	// ending in "/" selects everything below that folder.
	Paths []string
}

// Matches reports whether the filter selects r.
func (f Filter) Matches(r *sigma.Rule) bool {
	if slices.Contains(f.IDs, r.ID) || slices.Contains(f.Levels, r.Level) {
		return true
	}
	for _, t := range f.Tags {
		if r.HasTag(t) {
			return true
		}
	}
	for _, p := range f.Paths {
		if strings.HasSuffix(p, "/") && strings.Contains("/"+r.Path, "/"+p) {
			return true
		}
		for i := -1; i < len(r.Path); i++ {
			if i >= 0 && r.Path[i] != '/' {
				continue
			}
			if ok, _ := path.Match(p, r.Path[i+1:]); ok {
				return true
			}
		}
	}
	return false
}

// Exception is a tuning hook: matches of Rule on events that meet every
// condition in Where are suppressed (counted, not alerted) until Expires.
type Exception struct {
	Rule    string            // rule id
	Where   map[string]string // field -> value; * and ? are wildcards; case-insensitive
	Owner   string
	Reason  string
	Expires time.Time // zero: never
}

// Validate checks the exception's required parts.
func (x Exception) Validate() error {
	var p []string
	if x.Rule == "" {
		p = append(p, "rule id is required")
	}
	if len(x.Where) == 0 {
		p = append(p, "at least one field condition is required")
	}
	if x.Owner == "" || x.Reason == "" {
		p = append(p, "owner and reason are required")
	}
	if len(p) > 0 {
		return fmt.Errorf("exception: %s", strings.Join(p, "; "))
	}
	return nil
}
