package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/sigma"
	"github.com/vigil-soc/vigil/internal/schema"
)

type compiledException struct {
	x     Exception
	conds []exceptionCond
}

type exceptionCond struct {
	field   string
	pattern string // lower-cased
}

// compileExceptions validates the exceptions and indexes them by rule id.
// Every problem is reported at once.
func compileExceptions(xs []Exception, loaded map[string]*sigma.Rule) (map[string][]compiledException, error) {
	out := map[string][]compiledException{}
	var probs []string
	for i, x := range xs {
		if err := x.Validate(); err != nil {
			probs = append(probs, fmt.Sprintf("exception %d: %v", i+1, err))
			continue
		}
		if _, ok := loaded[x.Rule]; !ok {
			probs = append(probs, fmt.Sprintf("exception %d: %v: %s", i+1, ErrUnknownRule, x.Rule))
			continue
		}
		cx := compiledException{x: x}
		fields := make([]string, 0, len(x.Where))
		for f := range x.Where {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			cx.conds = append(cx.conds, exceptionCond{field: f, pattern: strings.ToLower(x.Where[f])})
		}
		out[x.Rule] = append(out[x.Rule], cx)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("rules: %s", strings.Join(probs, "\n"))
	}
	return out, nil
}

// suppressing returns the live exception that suppresses rule's match on
// ev, or nil.
func (rs *ruleSet) suppressing(rule string, ev *schema.Event, now time.Time) *Exception {
	for i := range rs.except[rule] {
		cx := &rs.except[rule][i]
		if !cx.x.Expires.IsZero() && now.After(cx.x.Expires) {
			continue
		}
		if cx.matches(ev) {
			return &cx.x
		}
	}
	return nil
}

func (cx *compiledException) matches(ev *schema.Event) bool {
	for _, c := range cx.conds {
		v, _ := ev.Get(c.field)
		if !wildcard(c.pattern, strings.ToLower(v)) {
			return false
		}
	}
	return true
}

// wildcard matches s against pattern with * (any run) and ? (one byte).
func wildcard(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
