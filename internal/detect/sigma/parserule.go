package sigma

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parseRule reads one rule document (detection or correlation rule).
func parseRule(path string, root *yaml.Node, opts *LoadOptions) (*Rule, error) {
	r := &Rule{Path: path, Line: root.Line}
	if err := parseMeta(r, root); err != nil {
		return nil, err
	}
	if c := mapGet(root, "correlation"); c != nil {
		corr, err := parseCorrelation(c)
		if err != nil {
			return nil, err
		}
		r.Correlation = corr
		return r, nil
	}
	if f := mapGet(root, "filter"); f != nil && mapGet(root, "detection") == nil {
		return nil, errorAt(f, "Sigma filter documents are not supported by the detection engine")
	}
	ls := mapGet(root, "logsource")
	if ls == nil {
		return nil, errorAt(root, "rule has no logsource")
	}
	if ls.Kind != yaml.MappingNode {
		return nil, errorAt(ls, "logsource must be a map")
	}
	for _, k := range []struct {
		dst *string
		key string
	}{{&r.Logsource.Product, "product"}, {&r.Logsource.Category, "category"},
		{&r.Logsource.Service, "service"}, {&r.Logsource.Definition, "definition"}} {
		v, err := stringField(ls, k.key)
		if err != nil {
			return nil, err
		}
		*k.dst = v
	}
	if r.Logsource.Product == "" && r.Logsource.Category == "" && r.Logsource.Service == "" {
		return nil, errorAt(ls, "logsource names no product, category or service")
	}
	det := mapGet(root, "detection")
	if det == nil {
		return nil, errorAt(root, "rule has no detection")
	}
	d, err := compileDetection(det, opts)
	if err != nil {
		return nil, err
	}
	r.det = d
	return r, nil
}

// parseMeta reads the rule's descriptive keys.
func parseMeta(r *Rule, root *yaml.Node) error {
	for _, k := range []struct {
		dst *string
		key string
	}{{&r.Title, "title"}, {&r.ID, "id"}, {&r.Name, "name"}, {&r.Status, "status"}, {&r.Level, "level"},
		{&r.Description, "description"}, {&r.Author, "author"}, {&r.Date, "date"}, {&r.Modified, "modified"}} {
		v, err := stringField(root, k.key)
		if err != nil {
			return err
		}
		*k.dst = strings.TrimSpace(v)
	}
	if r.Title == "" {
		return errorAt(root, "rule has no title")
	}
	if r.Level != "" && !validLevel(r.Level) {
		return errorAt(mapGet(root, "level"), "unknown level %q (want informational, low, medium, high or critical)", r.Level)
	}
	if r.Status != "" && !validStatus(r.Status) {
		return errorAt(mapGet(root, "status"), "unknown status %q (want stable, test, experimental, deprecated or unsupported)", r.Status)
	}
	for _, k := range []struct {
		dst *[]string
		key string
	}{{&r.Tags, "tags"}, {&r.References, "references"}, {&r.FalsePositives, "falsepositives"}, {&r.Fields, "fields"}} {
		v, err := stringList(root, k.key)
		if err != nil {
			return err
		}
		*k.dst = v
	}
	rel := mapGet(root, "related")
	if rel == nil {
		return nil
	}
	if rel.Kind != yaml.SequenceNode {
		return errorAt(rel, "related must be a list")
	}
	for _, e := range rel.Content {
		e = resolveAlias(e)
		id, err1 := stringField(e, "id")
		typ, err2 := stringField(e, "type")
		if e.Kind != yaml.MappingNode || err1 != nil || err2 != nil {
			return errorAt(e, "related entries must be maps of id and type")
		}
		r.Related = append(r.Related, Related{ID: id, Type: typ})
	}
	return nil
}

// parseCorrelation reads the correlation section of a correlation rule.
func parseCorrelation(n *yaml.Node) (*Correlation, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errorAt(n, "correlation must be a map")
	}
	c := &Correlation{}
	var err error
	if c.Type, err = stringField(n, "type"); err != nil {
		return nil, err
	}
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered":
	case "":
		return nil, errorAt(n, "correlation has no type")
	default:
		return nil, errorAt(mapGet(n, "type"), "unsupported correlation type %q (want event_count, value_count, temporal or temporal_ordered)", c.Type)
	}
	if c.Rules, err = stringList(n, "rules"); err != nil {
		return nil, err
	}
	if len(c.Rules) == 0 {
		return nil, errorAt(n, "correlation references no rules")
	}
	if c.GroupBy, err = stringList(n, "group-by"); err != nil {
		return nil, err
	}
	ts, err := stringField(n, "timespan")
	if err != nil {
		return nil, err
	}
	if c.Timespan, err = parseTimespan(ts); err != nil {
		return nil, errorAt(n, "%v", err)
	}
	if g := mapGet(n, "generate"); g != nil {
		c.Generate = scalarValue(g) == "true"
	}
	if err := parseCorrelationCondition(c, mapGet(n, "condition")); err != nil {
		return nil, err
	}
	return c, parseAliases(c, mapGet(n, "aliases"))
}

// parseCorrelationCondition reads the threshold map (and the field of
// value_count rules).
func parseCorrelationCondition(c *Correlation, n *yaml.Node) error {
	if n == nil {
		if c.Type == "event_count" || c.Type == "value_count" {
			return fmt.Errorf("%s correlation has no condition", c.Type)
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errorAt(n, "correlation condition must be a map")
	}
	c.Condition = map[string]int64{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, resolveAlias(n.Content[i+1])
		switch k {
		case "field":
			c.Field = scalarValue(v)
		case "gt", "gte", "lt", "lte", "eq", "neq":
			x, err := strconv.ParseInt(scalarValue(v), 10, 64)
			if err != nil {
				return errorAt(v, "correlation condition %s needs an integer, not %q", k, v.Value)
			}
			c.Condition[k] = x
		default:
			return errorAt(n.Content[i], "unknown correlation condition %q", k)
		}
	}
	if c.Type == "value_count" && c.Field == "" {
		return errorAt(n, "value_count correlation condition needs a field")
	}
	return nil
}

// parseAliases reads the aliases map: alias name to rule to field.
func parseAliases(c *Correlation, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errorAt(n, "aliases must be a map")
	}
	c.Aliases = map[string]map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m := resolveAlias(n.Content[i+1])
		if m.Kind != yaml.MappingNode {
			return errorAt(m, "alias %q must map rules to fields", n.Content[i].Value)
		}
		per := map[string]string{}
		for j := 0; j+1 < len(m.Content); j += 2 {
			per[m.Content[j].Value] = scalarValue(resolveAlias(m.Content[j+1]))
		}
		c.Aliases[n.Content[i].Value] = per
	}
	return nil
}

// parseTimespan reads a correlation timespan: a number and a unit, s, m, h,
// d or w.
func parseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("correlation timespan %q: want a number and a unit (s, m, h, d, w)", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("correlation timespan %q: want a positive number and a unit (s, m, h, d, w)", s)
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	u, ok := units[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("correlation timespan %q: unknown unit %q (want s, m, h, d, w)", s, s[len(s)-1])
	}
	return time.Duration(n) * u, nil
}
