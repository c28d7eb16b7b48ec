package sigma

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// detection is a rule's compiled detection section.
type detection struct {
	// fields are the event fields the rule reads, by Sigma name; items
	// refer to them by index.
	fields   []string
	searches []*search
	cond     *condNode
	keywords bool // some item searches the whole event
	// sets are the value sets of all items, numbered by valueSet.idx.
	sets []*valueSet
}

// search is one search identifier: alternatives linked with OR (a list of
// maps), each an AND of items (one map).
type search struct {
	name string
	line int
	alts [][]*item
}

// item is one detection item: a field (or the whole event, for keywords)
// and its compiled values.
type item struct {
	field int // index into detection.fields; -1 for keywords
	typ   valueType
	// sets are linked with AND (one per value under all) and hold
	// alternatives linked with OR; without all there is one set.
	sets []*valueSet
	// exists is the wanted presence of an exists item.
	exists bool
	// refs are the referenced fields of a fieldref item (OR, or AND under
	// all), compared by refWild (equality, contains, startswith, endswith).
	refs    []int
	refWild string
	refAll  bool
	cased   bool
}

// posError is a problem at a line of the rule file.
type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return e.msg }

func errorAt(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &posError{line: line, msg: fmt.Sprintf(format, args...)}
}

// compiler compiles one detection section.
type compiler struct {
	det      *detection
	fieldIdx map[string]int
	opts     *LoadOptions
}

// compileDetection compiles a detection mapping node.
func compileDetection(n *yaml.Node, opts *LoadOptions) (*detection, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errorAt(n, "detection must be a map of search identifiers and a condition")
	}
	c := &compiler{det: &detection{}, fieldIdx: map[string]int{}, opts: opts}
	var condNode *yaml.Node
	var names []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if seen[k.Value] {
			return nil, errorAt(k, "detection key %q is given twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "condition":
			condNode = v
			continue
		case "timeframe":
			continue // Sigma 1.0 aggregation window; unused without aggregations
		}
		s, err := c.search(k.Value, v)
		if err != nil {
			return nil, err
		}
		s.line = k.Line
		c.det.searches = append(c.det.searches, s)
		names = append(names, k.Value)
	}
	if condNode == nil {
		return nil, errorAt(n, "detection has no condition")
	}
	cond, err := compileConditions(condNode, names)
	if err != nil {
		return nil, err
	}
	c.det.cond = cond
	return c.det, nil
}

// compileConditions compiles the condition, which may be a list of
// conditions linked with OR.
func compileConditions(n *yaml.Node, names []string) (*condNode, error) {
	var srcs []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		srcs = []*yaml.Node{n}
	case yaml.SequenceNode:
		srcs = n.Content
	default:
		return nil, errorAt(n, "condition must be a string or a list of strings")
	}
	or := &condNode{kind: condOr}
	for _, s := range srcs {
		s = resolveAlias(s)
		if s.Kind != yaml.ScalarNode {
			return nil, errorAt(s, "condition must be a string")
		}
		c, err := parseCondition(s.Value, names)
		if err != nil {
			return nil, errorAt(s, "%v", err)
		}
		or.kids = append(or.kids, c)
	}
	if len(or.kids) == 0 {
		return nil, errorAt(n, "condition list is empty")
	}
	if len(or.kids) == 1 {
		return or.kids[0], nil
	}
	return or, nil
}

// search compiles one search identifier's value.
func (c *compiler) search(name string, v *yaml.Node) (*search, error) {
	s := &search{name: name}
	switch v.Kind {
	case yaml.MappingNode:
		alt, err := c.mapItems(v)
		if err != nil {
			return nil, err
		}
		s.alts = [][]*item{alt}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, errorAt(v, "search %q is an empty list", name)
		}
		maps := 0
		for _, e := range v.Content {
			if resolveAlias(e).Kind == yaml.MappingNode {
				maps++
			}
		}
		if maps == 0 {
			it, err := c.item(-1, nil, v)
			if err != nil {
				return nil, errorAt(v, "search %q: %v", name, err)
			}
			s.alts = [][]*item{{it}}
			break
		}
		if maps != len(v.Content) {
			return nil, errorAt(v, "search %q mixes maps and plain values in one list", name)
		}
		for _, e := range v.Content {
			alt, err := c.mapItems(resolveAlias(e))
			if err != nil {
				return nil, err
			}
			s.alts = append(s.alts, alt)
		}
	case yaml.ScalarNode:
		it, err := c.item(-1, nil, v)
		if err != nil {
			return nil, errorAt(v, "search %q: %v", name, err)
		}
		s.alts = [][]*item{{it}}
	default:
		return nil, errorAt(v, "search %q must be a map, a list or a value", name)
	}
	return s, nil
}

// mapItems compiles the items of one map, linked with AND.
func (c *compiler) mapItems(m *yaml.Node) ([]*item, error) {
	if len(m.Content) == 0 {
		return nil, errorAt(m, "empty map in detection")
	}
	items := make([]*item, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolveAlias(m.Content[i+1])
		parts := strings.Split(k.Value, "|")
		field := -1
		if parts[0] != "" {
			field = c.field(parts[0])
		}
		it, err := c.item(field, parts[1:], v)
		if err != nil {
			return nil, errorAt(k, "%s: %v", k.Value, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// field returns the index of a field name, adding it when new.
func (c *compiler) field(name string) int {
	if i, ok := c.fieldIdx[name]; ok {
		return i
	}
	c.fieldIdx[name] = len(c.det.fields)
	c.det.fields = append(c.det.fields, name)
	return len(c.det.fields) - 1
}

// item compiles one field (or keyword) item with its modifiers and values.
func (c *compiler) item(field int, mods []string, v *yaml.Node) (*item, error) {
	spec, err := parseModifiers(mods)
	if err != nil {
		return nil, err
	}
	values, err := scalarList(v)
	if err != nil {
		return nil, err
	}
	it := &item{field: field, typ: spec.typ, cased: spec.cased}
	if field < 0 {
		c.det.keywords = true
		if spec.typ != typeString && spec.typ != typeRegex {
			return nil, fmt.Errorf("keyword items cannot use %s", spec.typeName())
		}
		if spec.typ == typeString && spec.wild == "" {
			// Keywords match anywhere in the event's values.
			spec.steps = append(spec.steps, "contains")
		}
	}
	switch spec.typ {
	case typeExists:
		return it, c.existsItem(it, values)
	case typeFieldref:
		return it, c.fieldrefItem(it, &spec, values)
	}
	groups := [][]scalar{values}
	if spec.all {
		groups = groups[:0]
		for _, s := range values {
			groups = append(groups, []scalar{s})
		}
	}
	for _, g := range groups {
		vs := &valueSet{cased: spec.cased}
		for _, s := range g {
			if err := c.addValue(vs, &spec, s); err != nil {
				return nil, err
			}
		}
		vs.finish()
		vs.idx = int32(len(c.det.sets))
		c.det.sets = append(c.det.sets, vs)
		it.sets = append(it.sets, vs)
	}
	return it, nil
}

// addValue adds one rule value to a set according to the item's type.
func (c *compiler) addValue(vs *valueSet, spec *modSpec, s scalar) error {
	if s.null {
		if spec.typ != typeString {
			return fmt.Errorf("null cannot be used with %s", spec.typeName())
		}
		vs.null = true
		return nil
	}
	switch spec.typ {
	case typeRegex:
		re, err := compileRegex(s.text, spec.reFlags)
		if err != nil {
			return err
		}
		vs.regexes = append(vs.regexes, newSigmaRegex(re))
	case typeCIDR:
		p, err := netip.ParsePrefix(strings.TrimSpace(s.text))
		if err != nil {
			return fmt.Errorf("cidr value %q: %w", s.text, err)
		}
		vs.cidrs = append(vs.cidrs, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
	case typeCompare:
		f, ok := parseNumber(s.text)
		if !ok || math.IsNaN(f) {
			return fmt.Errorf("%s needs a number, not %q", spec.cmp, s.text)
		}
		vs.cmps = append(vs.cmps, numCmp{op: spec.cmp, val: f})
	default:
		alts, err := spec.expandString(s.text, c.opts.Placeholders)
		if err != nil {
			return err
		}
		for _, a := range alts {
			vs.addString(a)
		}
	}
	return nil
}

// unmappedBits returns the prefix length of p once an IPv4-mapped IPv6
// prefix is unmapped.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return p.Bits() - 96
	}
	return p.Bits()
}

func (c *compiler) existsItem(it *item, values []scalar) error {
	if it.field < 0 {
		return fmt.Errorf("exists needs a field")
	}
	if len(values) != 1 {
		return fmt.Errorf("exists needs one value, true or false")
	}
	b, err := strconv.ParseBool(values[0].text)
	if err != nil || values[0].null {
		return fmt.Errorf("exists needs true or false, not %q", values[0].text)
	}
	it.exists = b
	return nil
}

func (c *compiler) fieldrefItem(it *item, spec *modSpec, values []scalar) error {
	if it.field < 0 {
		return fmt.Errorf("fieldref needs a field")
	}
	for _, v := range values {
		if v.null || v.text == "" {
			return fmt.Errorf("fieldref needs field names")
		}
		it.refs = append(it.refs, c.field(v.text))
	}
	it.refWild = spec.wild
	it.refAll = spec.all
	return nil
}

// scalar is one rule value: its text (integers in decimal), or null.
type scalar struct {
	text string
	null bool
}

// scalarList returns the values of an item: one scalar or a list of them.
func scalarList(v *yaml.Node) ([]scalar, error) {
	v = resolveAlias(v)
	switch v.Kind {
	case yaml.ScalarNode:
		s, err := scalarOf(v)
		return []scalar{s}, err
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, fmt.Errorf("empty list of values")
		}
		out := make([]scalar, 0, len(v.Content))
		for _, e := range v.Content {
			e = resolveAlias(e)
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a value list may hold only plain values", e.Line)
			}
			s, err := scalarOf(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("a value must be a plain value or a list of them, not a map")
}

// scalarOf reads a YAML scalar: null, an integer (written back in
// decimal), a boolean, or text.
func scalarOf(n *yaml.Node) (scalar, error) {
	switch n.ShortTag() {
	case "!!null":
		return scalar{null: true}, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return scalar{text: strconv.FormatInt(i, 10)}, nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return scalar{text: strconv.FormatUint(u, 10)}, nil
		}
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return scalar{text: strconv.FormatBool(b)}, nil
		}
	}
	return scalar{text: n.Value}, nil
}

// resolveAlias follows YAML aliases to the node they stand for.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}
