package correlation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Parse reads the correlation rules of one YAML file: every document with
// a correlation section. Documents without one (the detection rules that
// often share the file) are left out. file names the file in errors and in
// Rule.File. Every problem of a document is reported, each with its line,
// and the document is skipped; the other documents load.
//
// Rule folders are read by the Sigma loader (sigma.LoadDir), which hands
// each correlation document to ParseNode; Parse is for a lone file.
func Parse(file string, data []byte) ([]*Rule, []LoadError) {
	rules, _, errs := ParseWithRefs(file, data)
	return rules, errs
}

// ParseWithRefs is Parse that also returns the id and name of every
// document without a correlation section (a detection rule), so that
// references to rules defined in the same files can be checked (see
// Options.BaseRules).
func ParseWithRefs(file string, data []byte) ([]*Rule, []RuleRef, []LoadError) {
	var rules []*Rule
	var refs []RuleRef
	var errs []LoadError
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, LoadError{File: file, Line: yamlLine(err), Reason: "invalid YAML: " + err.Error()})
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := resolve(doc.Content[0])
		if root == nil || root.Kind != yaml.MappingNode {
			continue // not a rule; detection-rule loading reports such documents
		}
		if !IsCorrelation(root) {
			id, _ := scalar(mapGet(root, "id"))
			name, _ := scalar(mapGet(root, "name"))
			if id != "" || name != "" {
				refs = append(refs, RuleRef{ID: id, Name: name})
			}
			continue
		}
		r, e := ParseNode(file, root)
		if len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		rules = append(rules, r)
	}
	return rules, refs, errs
}

// IsCorrelation reports whether a decoded rule document (a YAML mapping)
// is a correlation rule: whether it has a correlation section.
func IsCorrelation(root *yaml.Node) bool {
	return mapGet(root, "correlation") != nil
}

// ParseNode reads one correlation rule from its decoded YAML document, a
// mapping with a correlation section (see IsCorrelation). file names the
// file in errors and in Rule.File. It returns the rule, or every problem
// of the document, each with its line, and no rule.
func ParseNode(file string, root *yaml.Node) (*Rule, []LoadError) {
	if !IsCorrelation(root) {
		line := 0
		if root != nil {
			line = root.Line
		}
		return nil, []LoadError{{File: file, Line: line, Reason: "document has no correlation section"}}
	}
	p := &docParser{file: file}
	r := p.rule(root)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return r, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// yamlLine finds the line number in a YAML parser error.
func yamlLine(err error) int {
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// docParser collects the problems of one document.
type docParser struct {
	file string
	errs []LoadError
}

func (p *docParser) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, LoadError{File: p.file, Line: line, Reason: fmt.Sprintf(format, args...)})
}

// rule reads one correlation rule document.
func (p *docParser) rule(root *yaml.Node) *Rule {
	r := &Rule{File: p.file, Line: root.Line}
	r.Title = p.str(root, "title")
	if r.Title == "" {
		p.errorf(root, "correlation rule has no title")
	}
	r.ID = p.str(root, "id")
	r.Name = p.str(root, "name")
	r.Description = p.str(root, "description")
	r.Status = p.str(root, "status")
	if r.Status != "" && !validStatus(r.Status) {
		p.errorf(mapGet(root, "status"), "unknown status %q (want stable, test, experimental, deprecated or unsupported)", r.Status)
	}
	r.Level = p.str(root, "level")
	if r.Level != "" && !validLevel(r.Level) {
		p.errorf(mapGet(root, "level"), "unknown level %q (want informational, low, medium, high or critical)", r.Level)
	}
	r.Tags = p.list(root, "tags")
	c := mapGet(root, "correlation")
	if c.Kind != yaml.MappingNode {
		p.errorf(c, "correlation must be a map")
		return r
	}
	// generate belongs in the correlation section (as pySigma reads it);
	// a top-level generate is accepted too.
	top, inner := p.boolean(root, "generate"), p.boolean(c, "generate")
	r.Generate = top || inner
	p.correlation(r, c)
	return r
}

// correlation reads the correlation section into r.
func (p *docParser) correlation(r *Rule, c *yaml.Node) {
	for i := 0; i+1 < len(c.Content); i += 2 {
		switch k := c.Content[i]; k.Value {
		case "type", "rules", "group-by", "timespan", "condition", "aliases", "generate":
		default:
			p.errorf(k, "unknown correlation key %q (want type, rules, group-by, timespan, condition, aliases or generate)", k.Value)
		}
	}
	r.Type = Type(p.str(c, "type"))
	switch {
	case mapGet(c, "type") == nil:
		p.errorf(c, "correlation has no type")
	case !r.Type.valid():
		p.errorf(mapGet(c, "type"), "unsupported correlation type %q (want event_count, value_count, temporal or temporal_ordered)", r.Type)
	}
	p.refs(r, c)
	r.GroupBy = p.list(c, "group-by")
	p.uniqueNonEmpty(mapGet(c, "group-by"), "group-by field", r.GroupBy)
	if ts := mapGet(c, "timespan"); ts == nil {
		p.errorf(c, "correlation has no timespan")
	} else if s, ok := scalar(ts); !ok {
		p.errorf(ts, "timespan must be a plain value such as 5m")
	} else if d, err := parseTimespan(s); err != nil {
		p.errorf(ts, "%v", err)
	} else {
		r.Timespan = d
	}
	p.aliases(r, mapGet(c, "aliases"))
	p.condition(r, c)
}

// refs reads the rules list.
func (p *docParser) refs(r *Rule, c *yaml.Node) {
	n := mapGet(c, "rules")
	if n == nil {
		p.errorf(c, "correlation references no rules")
		return
	}
	r.Rules = p.list(c, "rules")
	switch {
	case len(r.Rules) == 0:
		p.errorf(n, "correlation references no rules")
	case len(r.Rules) > MaxRuleRefs:
		p.errorf(n, "correlation references %d rules; at most %d are supported", len(r.Rules), MaxRuleRefs)
	}
	p.uniqueNonEmpty(n, "rule reference", r.Rules)
}

// uniqueNonEmpty reports empty and repeated entries of a list.
func (p *docParser) uniqueNonEmpty(n *yaml.Node, what string, l []string) {
	seen := make(map[string]bool, len(l))
	for i, v := range l {
		at := n
		if n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == len(l) {
			at = n.Content[i]
		}
		if v == "" {
			p.errorf(at, "empty %s", what)
		} else if seen[v] {
			p.errorf(at, "%s %q is listed twice", what, v)
		}
		seen[v] = true
	}
}

// aliases reads the aliases map: alias → rule reference → field.
func (p *docParser) aliases(r *Rule, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "aliases must be a map of alias names to maps of rule to field")
		return
	}
	r.Aliases = make(map[string]map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		alias, m := n.Content[i].Value, resolve(n.Content[i+1])
		if m == nil || m.Kind != yaml.MappingNode || len(m.Content) == 0 {
			p.errorf(n.Content[i], "alias %q must map rule names to field names", alias)
			continue
		}
		fields := make(map[string]string, len(m.Content)/2)
		for j := 0; j+1 < len(m.Content); j += 2 {
			ref := m.Content[j].Value
			f, ok := scalar(m.Content[j+1])
			if !ok || f == "" {
				p.errorf(m.Content[j], "alias %q: the field for rule %q must be a plain field name", alias, ref)
				continue
			}
			fields[ref] = f
		}
		r.Aliases[alias] = fields
	}
}
