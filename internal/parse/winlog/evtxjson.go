package winlog

import (
	"bytes"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Mapper maps Windows events in JSON form (Winlogbeat documents and
// evtx_dump-style records). It reuses its parser between calls, so it is
// not safe for concurrent use; use one Mapper per goroutine.
type Mapper struct {
	p fastjson.Parser
}

// MapEvtxJSON maps one evtx_dump-style record, {"Event":{"System":{...},
// "EventData":{...}}}, with XML attributes under "#attributes" and element
// text beside them under "#text".
func MapEvtxJSON(rec []byte, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.MapEvtxJSON(rec, received, ev)
}

// MapEvtxJSON maps one evtx_dump-style record; see the function MapEvtxJSON.
func (m *Mapper) MapEvtxJSON(rec []byte, received time.Time, ev *schema.Event) error {
	root, err := m.parse(rec)
	if err != nil {
		return err
	}
	e := root.Get("Event")
	if e == nil || e.Type() != fastjson.TypeObject {
		return parse.Errorf(parse.ReasonMissingField, "evtx json: no Event object")
	}
	sys := e.Get("System")
	if sys == nil || sys.Type() != fastjson.TypeObject {
		return parse.Errorf(parse.ReasonMissingField, "evtx json: no Event.System object")
	}
	r := &winRecord{}
	jsonSystem(sys, r)
	if ts := jsonText(attr(sys.Get("TimeCreated"), "SystemTime")); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return parse.Errorf(parse.ReasonBadTimestamp, "evtx json: TimeCreated %q: %v", ts, err)
		}
		r.time = t
	}
	if d := e.Get("EventData"); d != nil {
		jsonEventData(d, r)
	}
	if d := e.Get("UserData"); d != nil {
		jsonUserData(d, r)
	}
	return r.build(ev, schema.InputEVTX, received, string(bytes.TrimSpace(rec)))
}

// parse checks and parses one JSON object.
func (m *Mapper) parse(rec []byte) (*fastjson.Value, error) {
	rec = bytes.TrimSpace(rec)
	if err := parse.CheckRecord(rec, parse.MaxRecordBytes); err != nil {
		return nil, err
	}
	v, err := m.p.ParseBytes(rec)
	if err != nil {
		return nil, parse.Errorf(parse.ReasonInvalidJSON, "windows json: %v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, parse.Errorf(parse.ReasonInvalidJSON, "windows json: the record is a JSON %s, not an object", v.Type())
	}
	return v, nil
}

// jsonSystem reads the System element.
func jsonSystem(sys *fastjson.Value, r *winRecord) {
	r.sys[sysEventID] = jsonText(sys.Get("EventID"))
	r.sys[sysChannel] = jsonText(sys.Get("Channel"))
	r.sys[sysComputer] = jsonText(sys.Get("Computer"))
	r.sys[sysProvider] = jsonText(attr(sys.Get("Provider"), "Name"))
	r.sys[sysRecordID] = jsonText(sys.Get("EventRecordID"))
	r.sys[sysLevel] = jsonText(sys.Get("Level"))
	r.sys[sysTask] = jsonText(sys.Get("Task"))
	r.sys[sysOpcode] = jsonText(sys.Get("Opcode"))
	r.sys[sysKeywords] = jsonText(sys.Get("Keywords"))
	exec := sys.Get("Execution")
	r.sys[sysProcessID] = jsonText(attr(exec, "ProcessID"))
	r.sys[sysThreadID] = jsonText(attr(exec, "ThreadID"))
	r.sys[sysUserID] = jsonText(attr(sys.Get("Security"), "UserID"))
}

// attr returns the XML attribute name of element v, found under
// "#attributes" (evtx_dump) or directly in the element.
func attr(v *fastjson.Value, name string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	if a := v.Get("#attributes", name); a != nil {
		return a
	}
	return v.Get(name)
}

// jsonText returns the canonical text of a JSON value: strings as they
// are, numbers as written, booleans as true/false, arrays joined with
// commas, elements with text by their "#text".
func jsonText(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNumber:
		return string(v.MarshalTo(nil))
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	case fastjson.TypeArray:
		items := v.GetArray()
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = jsonText(it)
		}
		return strings.Join(parts, ",")
	case fastjson.TypeObject:
		return jsonText(v.Get("#text"))
	}
	return ""
}

// jsonEventData reads EventData: named values under their names, unnamed
// <Data> values under "Data" (a value, an array, or an object with #text).
func jsonEventData(d *fastjson.Value, r *winRecord) {
	if d.Type() != fastjson.TypeObject {
		if d.Type() != fastjson.TypeNull {
			r.addUnnamed(jsonText(d))
		}
		return
	}
	o, _ := d.Object()
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "#attributes":
		case "Data", "#text":
			if v.Type() == fastjson.TypeObject {
				v = v.Get("#text")
			}
			if v == nil {
				return
			}
			if v.Type() == fastjson.TypeArray {
				for _, it := range v.GetArray() {
					r.addUnnamed(jsonText(it))
				}
				return
			}
			r.addUnnamed(jsonText(v))
		default:
			jsonField(string(k), v, r)
		}
	})
}

// jsonField adds one named value, flattening nested elements with dots.
func jsonField(key string, v *fastjson.Value, r *winRecord) {
	if v.Type() == fastjson.TypeObject && v.Get("#text") == nil {
		o, _ := v.Object()
		o.Visit(func(k []byte, sub *fastjson.Value) {
			if string(k) != "#attributes" {
				jsonField(key+"."+string(k), sub, r)
			}
		})
		return
	}
	r.addData(key, jsonText(v))
}

// jsonUserData reads UserData: the children of its one child element.
func jsonUserData(d *fastjson.Value, r *winRecord) {
	o, err := d.Object()
	if err != nil {
		return
	}
	if o.Len() == 1 {
		o.Visit(func(_ []byte, v *fastjson.Value) {
			if v.Type() == fastjson.TypeObject {
				o, _ = v.Object()
			}
		})
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) != "#attributes" {
			jsonField(string(k), v, r)
		}
	})
}

// SplitJSONObjects splits a byte stream of JSON objects written back to
// back (pretty-printed or not, separated by white space) into objects. The
// objects are sub-slices of data. Bytes that do not belong to an object are
// skipped up to the next '{' and reported in the returned *parse.Error; an
// object cut off at the end is reported the same way. The objects found are
// returned in either case.
func SplitJSONObjects(data []byte) ([][]byte, error) {
	var out [][]byte
	var bad []string
	for i := 0; i < len(data); {
		c := data[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' {
			i++
			continue
		}
		if c != '{' {
			next := bytes.IndexByte(data[i:], '{')
			if next < 0 {
				next = len(data) - i
			}
			bad = append(bad, "stray bytes at offset "+itoa(i))
			i += next
			continue
		}
		end := objectEnd(data, i)
		if end == -1 {
			bad = append(bad, "object at offset "+itoa(i)+" is not terminated")
			break
		}
		if end < 0 {
			bad = append(bad, "object at offset "+itoa(i)+" has a mismatched bracket at offset "+itoa(-end-2))
			i = -end - 1
			continue
		}
		out = append(out, data[i:end])
		i = end
	}
	if len(bad) > 0 {
		return out, parse.Errorf(parse.ReasonInvalidJSON, "json stream: %s", strings.Join(bad, "; "))
	}
	return out, nil
}

// objectEnd returns the offset after the JSON object starting at data[i].
// When the object is not terminated it returns -1; when a bracket does not
// match it returns -(offset of that bracket)-2.
func objectEnd(data []byte, i int) int {
	var stack []byte
	inStr := false
	for ; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{':
			stack = append(stack, '}')
		case '[':
			stack = append(stack, ']')
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return -i - 2
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1
			}
		}
	}
	return -1
}
