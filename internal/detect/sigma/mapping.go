package sigma

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"gopkg.in/yaml.v3"
)

// mappingFiles are the logsource mappings Vigil ships (read-only).
//
//go:embed mappings/*.yml
var mappingFiles embed.FS

// Mapping is logsource routing and field mapping, loaded from YAML data:
// which events belong to which Sigma logsource, and under which event field
// names a logsource's Sigma fields are found. The zero value is an empty
// mapping. Add and AddFS append definitions (not concurrently with each
// other or with NewEngine); engines built earlier are not affected.
type Mapping struct {
	sources []*Source
}

// Source is one logsource definition of a mapping: the Sigma logsource it
// provides, the conditions an event meets to belong to it, and its field
// mappings.
type Source struct {
	// Product, Category and Service are the Sigma logsource this defines.
	Product, Category, Service string
	// When are the conditions, linked with AND, an event meets to belong
	// to the logsource.
	When []Condition
	// Fields maps a Sigma field name to the event fields that hold it,
	// tried in order; fields not listed are looked up under their own name.
	Fields map[string][]string
	// File and Line locate the definition.
	File string
	Line int
}

// Condition is one routing condition: the event field (an ECS name or an
// original field name, as schema.Event.Get takes it) must hold one of the
// values exactly.
type Condition struct {
	Field  string
	Values []string
}

// String returns the source's logsource as product/category/service.
func (s *Source) String() string {
	return Logsource{Product: s.Product, Category: s.Category, Service: s.Service}.String()
}

// DefaultMapping returns the mapping Vigil ships: Windows event logs
// (Security, System, Sysmon, PowerShell, Defender and the other channels
// SigmaHQ's rules use), Linux (auditd, syslog programs, Sysmon for Linux)
// and network sensors (Zeek, Suricata).
func DefaultMapping() (*Mapping, error) {
	m := &Mapping{}
	if err := m.AddFS(mappingFiles, "mappings"); err != nil {
		return nil, fmt.Errorf("sigma: built-in mapping: %w", err)
	}
	return m, nil
}

// AddFS adds every *.yml and *.yaml mapping file under root in fsys, in
// lexical order.
func (m *Mapping) AddFS(fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return m.Add(p, data)
	})
}

// Add parses one mapping file and adds its logsource definitions. name
// names the file in errors. The file is a map with a logsources list (each
// entry: product, category, service, when, fields) and optional fields
// applied to every entry of the file after the entry's own.
func (m *Mapping) Add(name string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) == 0 {
		return fmt.Errorf("%s: empty mapping file", name)
	}
	doc := root.Content[0]
	common, err := fieldMap(mapGet(doc, "fields"))
	if err != nil {
		return fmt.Errorf("%s:%w", name, err)
	}
	list := mapGet(doc, "logsources")
	if list == nil || list.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: a mapping file needs a logsources list", name, doc.Line)
	}
	var added []*Source
	for _, n := range list.Content {
		s, err := parseSource(resolveAlias(n), common)
		if err != nil {
			return fmt.Errorf("%s:%w", name, err)
		}
		s.File = name
		added = append(added, s)
	}
	m.sources = append(m.sources, added...)
	return nil
}

// Sources returns the mapping's logsource definitions in the order added.
func (m *Mapping) Sources() []*Source { return append([]*Source(nil), m.sources...) }

// parseSource reads one logsource definition.
func parseSource(n *yaml.Node, common map[string][]string) (*Source, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%d: a logsource definition must be a map", n.Line)
	}
	s := &Source{Line: n.Line}
	for _, k := range []struct {
		dst *string
		key string
	}{{&s.Product, "product"}, {&s.Category, "category"}, {&s.Service, "service"}} {
		v, err := stringField(n, k.key)
		if err != nil {
			return nil, fmt.Errorf("%d: %w", n.Line, err)
		}
		*k.dst = v
	}
	if s.Product == "" && s.Category == "" && s.Service == "" {
		return nil, fmt.Errorf("%d: a logsource definition needs a product, category or service", n.Line)
	}
	when := mapGet(n, "when")
	if when == nil || when.Kind != yaml.MappingNode || len(when.Content) == 0 {
		return nil, fmt.Errorf("%d: logsource %s needs a non-empty when map", n.Line, s)
	}
	for i := 0; i+1 < len(when.Content); i += 2 {
		vals, err := scalarList(when.Content[i+1])
		if err != nil {
			return nil, fmt.Errorf("%d: when %s: %w", when.Content[i].Line, when.Content[i].Value, err)
		}
		c := Condition{Field: when.Content[i].Value}
		for _, v := range vals {
			c.Values = append(c.Values, v.text)
		}
		s.When = append(s.When, c)
	}
	own, err := fieldMap(mapGet(n, "fields"))
	if err != nil {
		return nil, err
	}
	s.Fields = mergeFieldMaps(own, common)
	return s, nil
}

// fieldMap reads a fields map: Sigma name to one event field or a list.
func fieldMap(n *yaml.Node) (map[string][]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%d: fields must be a map", n.Line)
	}
	out := map[string][]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		vals, err := scalarList(n.Content[i+1])
		if err != nil {
			return nil, fmt.Errorf("%d: field %s: %w", n.Content[i].Line, n.Content[i].Value, err)
		}
		for _, v := range vals {
			if v.null || v.text == "" {
				return nil, fmt.Errorf("%d: field %s maps to an empty name", n.Content[i].Line, n.Content[i].Value)
			}
			out[n.Content[i].Value] = append(out[n.Content[i].Value], v.text)
		}
	}
	return out, nil
}

// mergeFieldMaps returns own with the entries of common it lacks.
func mergeFieldMaps(own, common map[string][]string) map[string][]string {
	if len(common) == 0 {
		return own
	}
	out := make(map[string][]string, len(own)+len(common))
	for k, v := range common {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// appliesTo reports whether a rule's logsource covers a source: each part
// the rule sets must equal the source's (case-insensitive).
func (l Logsource) appliesTo(s *Source) bool {
	eq := func(rule, src string) bool { return rule == "" || strings.EqualFold(rule, src) }
	return eq(l.Product, s.Product) && eq(l.Category, s.Category) && eq(l.Service, s.Service)
}
