package sigma

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// parseRule reads one detection rule document.
func parseRule(path string, root *yaml.Node, opts *LoadOptions) (*Rule, error) {
	r := &Rule{Path: path, Line: root.Line}
	if err := parseMeta(r, root); err != nil {
		return nil, err
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
