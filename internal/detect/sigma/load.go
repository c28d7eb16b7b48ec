package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/detect/sigma/correlation"
)

// LoadDir loads every *.yml and *.yaml file under root in fsys, in lexical
// path order: detection rules compiled, correlation rules parsed by the
// correlation package (each file is read and decoded once for both). Rules
// that cannot load are reported with file, line and reason and skipped;
// all others load. A rule whose id was already loaded is reported and
// skipped.
func LoadDir(fsys fs.FS, root string, opts LoadOptions) (*RuleSet, []LoadError) {
	set := &RuleSet{}
	var errs []LoadError
	ids := map[string]string{}
	// unique reports whether a rule's id is new, reporting it when not.
	unique := func(p, id string, line int) bool {
		if id == "" {
			return true
		}
		if first, dup := ids[id]; dup {
			errs = append(errs, LoadError{File: p, Line: line,
				Reason: fmt.Sprintf("duplicate rule id %s (first loaded from %s); skipped", id, first)})
			return false
		}
		ids[id] = p
		return true
	}
	walk := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, LoadError{File: p, Reason: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, LoadError{File: p, Reason: err.Error()})
			return nil
		}
		file, ferrs := LoadFile(p, data, opts)
		errs = append(errs, ferrs...)
		for _, r := range file.Rules {
			if unique(p, r.ID, r.Line) {
				set.Rules = append(set.Rules, r)
			}
		}
		for _, c := range file.Correlations {
			if unique(p, c.ID, c.Line) {
				set.Correlations = append(set.Correlations, c)
			}
		}
		return nil
	})
	if walk != nil {
		errs = append(errs, LoadError{File: root, Reason: walk.Error()})
	}
	return set, errs
}

func isRuleFile(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yml" || ext == ".yaml"
}

// yamlLine finds the line number in a YAML parser error ("yaml: line 6:
// ..."), or 0.
func yamlLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	j := i + len("line ")
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	n, _ := strconv.Atoi(msg[j:k])
	return n
}

// LoadFile loads the rules of one file: a YAML document per rule, with
// Sigma 1.0 collections (action: global, reset and repeat) merged. A
// document with a correlation section is handed to the correlation
// package's parser. path names the file in errors, in Rule.Path and in
// correlation.Rule.File. A document that cannot load is reported and
// skipped; the others load.
func LoadFile(path string, data []byte, opts LoadOptions) (*RuleSet, []LoadError) {
	set := &RuleSet{}
	var errs []LoadError
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var global, previous *yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, LoadError{File: path, Line: yamlLine(err), Reason: "invalid YAML: " + err.Error()})
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := resolveAlias(doc.Content[0])
		if root.Kind != yaml.MappingNode {
			errs = append(errs, LoadError{File: path, Line: root.Line, Reason: "a rule must be a YAML map"})
			continue
		}
		switch action := scalarValue(mapGet(root, "action")); action {
		case "global":
			global = root
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if previous == nil {
				errs = append(errs, LoadError{File: path, Line: root.Line, Reason: "action: repeat has no previous rule"})
				continue
			}
			root = mergeMaps(previous, root)
		case "":
		default:
			errs = append(errs, LoadError{File: path, Line: root.Line, Reason: fmt.Sprintf("unknown action %q", action)})
			continue
		}
		if global != nil {
			root = mergeMaps(global, root)
		}
		previous = root
		if correlation.IsCorrelation(root) {
			c, cerrs := correlation.ParseNode(path, root)
			if c != nil {
				set.Correlations = append(set.Correlations, c)
			}
			errs = append(errs, cerrs...)
			continue
		}
		r, err := parseRule(path, root, &opts)
		if err != nil {
			errs = append(errs, toLoadError(path, root.Line, err))
			continue
		}
		set.Rules = append(set.Rules, r)
	}
	return set, errs
}

func toLoadError(file string, line int, err error) LoadError {
	var pe *posError
	if errors.As(err, &pe) && pe.line > 0 {
		line = pe.line
	}
	return LoadError{File: file, Line: line, Reason: err.Error()}
}

// mergeMaps returns base with overlay's keys merged in: maps merge key by
// key, anything else is replaced. The action key is dropped. Neither input
// is changed.
func mergeMaps(base, overlay *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: overlay.Line, Column: overlay.Column}
	idx := map[string]int{}
	add := func(k, v *yaml.Node) {
		if k.Value == "action" {
			return
		}
		if i, ok := idx[k.Value]; ok {
			old := resolveAlias(out.Content[i+1])
			if old.Kind == yaml.MappingNode && resolveAlias(v).Kind == yaml.MappingNode {
				v = mergeMaps(old, resolveAlias(v))
			}
			out.Content[i+1] = v
			return
		}
		idx[k.Value] = len(out.Content)
		out.Content = append(out.Content, k, v)
	}
	for i := 0; i+1 < len(base.Content); i += 2 {
		add(base.Content[i], base.Content[i+1])
	}
	for i := 0; i+1 < len(overlay.Content); i += 2 {
		add(overlay.Content[i], overlay.Content[i+1])
	}
	return out
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveAlias(m.Content[i+1])
		}
	}
	return nil
}

// scalarValue returns the text of a scalar node, or "".
func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// stringField reads an optional scalar key.
func stringField(m *yaml.Node, key string) (string, error) {
	n := mapGet(m, key)
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", errorAt(n, "%s must be a plain value", key)
	}
	return scalarValue(n), nil
}

// stringList reads an optional key holding a list of plain values (or one
// plain value).
func stringList(m *yaml.Node, key string) ([]string, error) {
	n := mapGet(m, key)
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if v := scalarValue(n); v != "" {
			return []string{v}, nil
		}
		return nil, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			e = resolveAlias(e)
			if e.Kind != yaml.ScalarNode {
				return nil, errorAt(e, "%s must be a list of plain values", key)
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, errorAt(n, "%s must be a list", key)
}
