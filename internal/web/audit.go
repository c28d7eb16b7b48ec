package web

import (
	"encoding/json"
	"maps"
	"slices"
)

// Changes lists what an audit entry changed: the fields of before and
// after whose values differ, as "old → new", skipping bookkeeping fields.
func (e auditEntry) Changes() []kv {
	before, okB := jsonObject(e.Before)
	after, okA := jsonObject(e.After)
	if !okB && !okA {
		return rawChange(e.Before, e.After)
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []kv
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if k == "updated" || k == "password_hash" {
			continue
		}
		b, a := compact(before[k]), compact(after[k])
		if b == a {
			continue
		}
		out = append(out, kv{k, shorten(60, b) + " → " + shorten(60, a)})
	}
	return out
}

// jsonObject decodes raw as a JSON object.
func jsonObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

// compact renders a JSON value for display: strings without quotes, null
// and absent as "".
func compact(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// rawChange shows non-object before/after values as they are.
func rawChange(before, after json.RawMessage) []kv {
	if len(before) == 0 && len(after) == 0 {
		return nil
	}
	return []kv{{"", shorten(60, compact(before)) + " → " + shorten(60, compact(after))}}
}
