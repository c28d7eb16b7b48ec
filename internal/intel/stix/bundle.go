package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/TcM1911/stix2"
	gojson "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// Result is what Load or LoadObjects read from STIX objects.
type Result struct {
	// Indicators are the compiled indicators of all indicator objects,
	// with their lifecycle, threat and tags.
	Indicators []intel.Indicator `json:"indicators"`
	// Problems are the objects and patterns that yielded nothing (or not
	// everything), each with the object id and the reason.
	Problems []intel.Problem `json:"problems"`
	Counts   Counts          `json:"counts"`
}

// Counts summarises a load. An indicator object whose pattern compiled
// only partly counts as both Compiled and Unsupported.
type Counts struct {
	// Objects counts the objects seen by STIX type, invalid ones included.
	Objects map[string]int `json:"objects"`
	// Indicators counts indicator objects, all versions included.
	Indicators int `json:"indicators"`
	// Superseded counts indicator objects replaced by a later version
	// (same id, later modified) in the same input.
	Superseded int `json:"superseded,omitempty"`
	// Compiled counts indicator objects that yielded at least one
	// intel.Indicator.
	Compiled int `json:"compiled"`
	// Unsupported counts indicator objects whose pattern type, or some
	// part of whose pattern, cannot be matched.
	Unsupported int `json:"unsupported"`
	// InvalidPatterns counts indicator objects with a missing or malformed
	// pattern.
	InvalidPatterns int `json:"invalid_patterns,omitempty"`
	// InvalidObjects counts objects that are not valid STIX JSON.
	InvalidObjects int `json:"invalid_objects,omitempty"`
}

// Load reads a STIX 2.x document: a bundle, a JSON array of objects, or a
// single object. Only a document that is none of these is an error; bad
// objects and unsupported patterns inside it become Problems and the rest
// still loads.
func Load(data []byte) (Result, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Result{}, errors.New("stix: empty document")
	}
	switch data[0] {
	case '[':
		var objs []json.RawMessage
		if err := gojson.Unmarshal(data, &objs); err != nil {
			return Result{}, fmt.Errorf("stix: invalid JSON array of objects: %w", err)
		}
		return LoadObjects(objs), nil
	case '{':
		return loadDocument(data)
	}
	return Result{}, errors.New("stix: not a STIX bundle or object: the document is not a JSON object or array")
}

func loadDocument(data []byte) (Result, error) {
	var env struct {
		Type    string             `json:"type"`
		ID      string             `json:"id"`
		Schema  json.RawMessage    `json:"$schema"`
		Objects *[]json.RawMessage `json:"objects"`
	}
	if err := gojson.Unmarshal(data, &env); err != nil {
		return Result{}, fmt.Errorf("stix: not a STIX bundle or object: %w", err)
	}
	switch {
	case env.Schema != nil:
		return Result{}, errors.New("stix: not a STIX bundle or object: the document is a JSON Schema")
	case env.Type == "bundle":
		if env.Objects == nil {
			return LoadObjects(nil), nil
		}
		return LoadObjects(*env.Objects), nil
	case env.Type != "" && strings.Contains(env.ID, "--"):
		return LoadObjects([]json.RawMessage{data}), nil
	}
	return Result{}, fmt.Errorf("stix: not a STIX bundle or object: type %q, id %q", env.Type, env.ID)
}

// Objects compiles raw STIX objects, as a TAXII 2.1 envelope delivers
// them, into indicators, reporting what it could not use; it is
// LoadObjects without the counts. Threat names come from indicates
// relationships among the same objects.
func Objects(objects []json.RawMessage) ([]intel.Indicator, []intel.Problem) {
	r := LoadObjects(objects)
	return r.Indicators, r.Problems
}

// LoadObjects compiles raw STIX objects into indicators. Each object is
// validated with github.com/TcM1911/stix2; indicator objects with
// pattern_type stix (or none) are compiled with Pattern, other pattern
// types are reported unsupported. Of several versions of one indicator
// (same id) the one modified last is used.
func LoadObjects(objects []json.RawMessage) Result {
	l := &loader{
		byID:      map[string]*indicatorObject{},
		related:   map[string]relatedObject{},
		indicates: map[string][]string{},
	}
	l.res.Counts.Objects = map[string]int{}
	for i, raw := range objects {
		l.object(i, raw)
	}
	l.finish()
	return l.res
}

// decodeObject decodes one object with the stix2 library. The library
// fails a whole collection on one bad object and can panic on some
// malformed values (a timestamp that is not a string), so each object is
// decoded alone and a panic becomes an error.
func decodeObject(raw json.RawMessage) (obj stix2.STIXObject, err error) {
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("malformed object (%v)", r)
		}
	}()
	doc := make([]byte, 0, len(raw)+96)
	doc = append(doc, `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`...)
	doc = append(doc, raw...)
	doc = append(doc, "]}"...)
	col, err := stix2.FromJSON(doc)
	if err != nil {
		return nil, err
	}
	all := col.AllObjects()
	if len(all) != 1 || all[0] == nil {
		return nil, errors.New("object not decoded")
	}
	return all[0], nil
}
