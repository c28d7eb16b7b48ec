package correlation

import (
	"fmt"
	"slices"
	"strings"
)

// edge links a rule (base or correlation) to a correlation that references
// it; mask holds the positions in the correlation's rules list it fills.
type edge struct {
	c    *corr
	mask uint64
}

// builder resolves the references of a rule set for NewEngine.
type builder struct {
	opts    Options
	corrs   []*corr
	byKey   map[string]*corr   // correlation id and name → correlation
	base    map[string]RuleRef // base rule id and name → rule
	skipped map[*corr]string   // why a correlation is left out
	errs    []LoadError
}

func newBuilder(rules []*Rule, opts Options) *builder {
	b := &builder{opts: opts, byKey: map[string]*corr{}, skipped: map[*corr]string{}}
	if opts.BaseRules != nil {
		b.base = map[string]RuleRef{}
		for _, r := range opts.BaseRules {
			for _, k := range []string{r.ID, r.Name} {
				if k != "" {
					b.base[k] = r
				}
			}
		}
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		if err := checkRule(r); err != "" {
			b.fail(r, err)
			continue
		}
		c := &corr{rule: r, span: int64(r.Timespan), groups: map[string]*group{}}
		if dup := b.claim(c); dup != "" {
			b.fail(r, dup)
			continue
		}
		b.corrs = append(b.corrs, c)
	}
	return b
}

func (b *builder) fail(r *Rule, reason string) {
	b.errs = append(b.errs, LoadError{File: r.File, Line: r.Line, Reason: fmt.Sprintf("correlation %s: %s; skipped", r, reason)})
}

// claim records the correlation's id and name, reporting a duplicate.
func (b *builder) claim(c *corr) string {
	for _, k := range []string{c.rule.ID, c.rule.Name} {
		if other, ok := b.byKey[k]; ok && k != "" {
			return fmt.Sprintf("id or name %q is already used by %s", k, other.rule)
		}
	}
	for _, k := range []string{c.rule.ID, c.rule.Name} {
		if k != "" {
			b.byKey[k] = c
		}
	}
	return ""
}

// checkRule validates a rule built by hand rather than by Parse.
func checkRule(r *Rule) string {
	switch {
	case !r.Type.valid():
		return fmt.Sprintf("unsupported type %q", r.Type)
	case len(r.Rules) == 0:
		return "references no rules"
	case len(r.Rules) > MaxRuleRefs:
		return fmt.Sprintf("references more than %d rules", MaxRuleRefs)
	case r.Timespan <= 0:
		return "has no timespan"
	case len(r.Condition.Bounds) == 0:
		return "has no condition"
	case r.Type == ValueCount && len(r.Condition.Field) == 0:
		return "is value_count without a condition field"
	}
	return ""
}

// target is what a reference resolves to: a correlation, a base rule, or
// nothing known.
type target struct {
	c       *corr
	base    RuleRef
	isBase  bool
	unknown bool
}

func (b *builder) resolve(ref string) target {
	if c, ok := b.byKey[ref]; ok {
		return target{c: c}
	}
	if b.base == nil {
		return target{base: RuleRef{ID: ref}, isBase: true}
	}
	if r, ok := b.base[ref]; ok {
		return target{base: r, isBase: true}
	}
	return target{unknown: true}
}

// identity names what ref resolves to, so that a rule referenced by id in
// one place and by name in another is recognised as one.
func (b *builder) identity(ref string) string {
	t := b.resolve(ref)
	switch {
	case t.c != nil:
		return "c\x00" + t.c.rule.ID + "\x00" + t.c.rule.Name
	case t.isBase && b.base != nil:
		return "b\x00" + t.base.ID + "\x00" + t.base.Name
	}
	return "r\x00" + ref
}

// checkRefs reports correlations with unknown references and those that
// take part in a reference cycle.
func (b *builder) checkRefs() {
	for _, c := range b.corrs {
		var unknown []string
		for _, ref := range c.rule.Rules {
			if b.resolve(ref).unknown {
				unknown = append(unknown, ref)
			}
		}
		if len(unknown) > 0 {
			b.skip(c, fmt.Sprintf("references unknown rules %s", strings.Join(unknown, ", ")))
		}
	}
	const (
		unseen = iota
		active
		done
	)
	state := map[*corr]int{}
	var visit func(c *corr, path []*corr)
	visit = func(c *corr, path []*corr) {
		state[c] = active
		for _, ref := range c.rule.Rules {
			next := b.resolve(ref).c
			if next == nil {
				continue
			}
			switch state[next] {
			case active:
				i := slices.Index(path, next)
				cycle := append(slices.Clone(path[i:]), next)
				names := make([]string, len(cycle))
				for j, x := range cycle {
					names[j] = x.rule.String()
				}
				for _, x := range cycle[:len(cycle)-1] {
					b.skip(x, "is part of the reference cycle "+strings.Join(names, " → "))
				}
			case unseen:
				visit(next, append(path, next))
			}
		}
		state[c] = done
	}
	for _, c := range b.corrs {
		if state[c] == unseen {
			visit(c, []*corr{c})
		}
	}
}

func (b *builder) skip(c *corr, reason string) {
	if _, ok := b.skipped[c]; !ok {
		b.skipped[c] = reason
	}
}

// propagate skips correlations that reference skipped ones, until none is
// left to skip.
func (b *builder) propagate() {
	for changed := true; changed; {
		changed = false
		for _, c := range b.corrs {
			if _, gone := b.skipped[c]; gone {
				continue
			}
			for _, ref := range c.rule.Rules {
				if t := b.resolve(ref).c; t != nil {
					if _, gone := b.skipped[t]; gone {
						b.skip(c, fmt.Sprintf("references %s, which is skipped", t.rule))
						changed = true
						break
					}
				}
			}
		}
	}
}

// order returns the usable correlations, each after those it references.
func (b *builder) order() []*corr {
	var out []*corr
	placed := map[*corr]bool{}
	var place func(c *corr)
	place = func(c *corr) {
		if placed[c] {
			return
		}
		placed[c] = true
		for _, ref := range c.rule.Rules {
			if t := b.resolve(ref).c; t != nil {
				place(t)
			}
		}
		out = append(out, c)
	}
	for _, c := range b.corrs {
		if _, gone := b.skipped[c]; !gone {
			place(c)
		}
	}
	for _, c := range b.corrs {
		if reason, gone := b.skipped[c]; gone {
			b.fail(c.rule, reason)
		}
	}
	return out
}

// fields resolves, per position in c's rules list, the field each group-by
// entry and each condition field is read from, applying the aliases. It
// reports alias entries that name no referenced rule.
func (b *builder) fields(c *corr) string {
	r := c.rule
	aliasPos := map[string]map[int]string{} // alias → position → field
	for alias, m := range r.Aliases {
		aliasPos[alias] = map[int]string{}
		for key, field := range m {
			found := false
			for p, ref := range r.Rules {
				if ref == key || b.identity(ref) == b.identity(key) {
					aliasPos[alias][p] = field
					found = true
				}
			}
			if !found {
				return fmt.Sprintf("alias %q names rule %q, which the correlation does not reference", alias, key)
			}
		}
	}
	pick := func(p int, name string) string {
		if f, ok := aliasPos[name][p]; ok {
			return f
		}
		return name
	}
	c.groupFields = make([][]string, len(r.Rules))
	c.valueFields = make([][]string, len(r.Rules))
	for p := range r.Rules {
		for _, g := range r.GroupBy {
			c.groupFields[p] = append(c.groupFields[p], pick(p, g))
		}
		for _, f := range r.Condition.Field {
			c.valueFields[p] = append(c.valueFields[p], pick(p, f))
		}
	}
	return ""
}
