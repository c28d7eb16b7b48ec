package winlog

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// MapWinlogbeat maps one Winlogbeat document, as Winlogbeat 7.x and 8.x
// ship them to Elasticsearch (winlog.event_id, winlog.channel,
// winlog.provider_name, winlog.computer_name, winlog.record_id,
// winlog.event_data.*, winlog.user_data.*, event.code, host.name,
// @timestamp, message).
//
// Winlogbeat renders the level, task, opcode and keywords by name; they are
// turned back into the numbers the event log holds where the name is
// standard (levels, opcodes, audit keywords) or known from the mapping
// table (task names of the mapped events; Sysmon's tasks equal their event
// ids). Names it cannot turn back are kept as they are.
func MapWinlogbeat(rec []byte, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.MapWinlogbeat(rec, received, ev)
}

// MapWinlogbeat maps one Winlogbeat document; see the function
// MapWinlogbeat.
func (m *Mapper) MapWinlogbeat(rec []byte, received time.Time, ev *schema.Event) error {
	doc, err := m.parse(rec)
	if err != nil {
		return err
	}
	r := &winRecord{}
	wl := func(keys ...string) *fastjson.Value { return lookup(doc, append([]string{"winlog"}, keys...)...) }
	s := &r.sys
	s[sysEventID] = jsonText(wl("event_id"))
	if s[sysEventID] == "" {
		s[sysEventID] = jsonText(lookup(doc, "event", "code"))
	}
	s[sysChannel] = jsonText(wl("channel"))
	s[sysComputer] = jsonText(wl("computer_name"))
	if s[sysComputer] == "" {
		s[sysComputer] = jsonText(lookup(doc, "host", "name"))
	}
	s[sysProvider] = jsonText(wl("provider_name"))
	s[sysRecordID] = jsonText(wl("record_id"))
	s[sysProcessID] = jsonText(wl("process", "pid"))
	s[sysThreadID] = jsonText(wl("process", "thread", "id"))
	s[sysUserID] = jsonText(wl("user", "identifier"))
	level := jsonText(wl("level"))
	if level == "" {
		level = jsonText(lookup(doc, "log", "level"))
	}
	s[sysLevel] = levelNumber(level, s[sysProvider])
	s[sysOpcode] = opcodeNumber(jsonText(wl("opcode")))
	s[sysTask] = taskNumber(jsonText(wl("task")), s[sysProvider], s[sysEventID])
	s[sysKeywords] = keywordsNumber(wl("keywords"), s[sysChannel])
	if err := winlogbeatTime(doc, r); err != nil {
		return err
	}
	r.message = jsonText(lookup(doc, "message"))
	if d := wl("event_data"); d != nil && d.Type() == fastjson.TypeObject {
		o, _ := d.Object()
		o.Visit(func(k []byte, v *fastjson.Value) { jsonField(string(k), v, r) })
	}
	if d := wl("user_data"); d != nil && d.Type() == fastjson.TypeObject {
		o, _ := d.Object()
		o.Visit(func(k []byte, v *fastjson.Value) {
			if string(k) != "xml_name" {
				jsonField(string(k), v, r)
			}
		})
	}
	return r.build(ev, schema.InputWinlogbeat, received, string(bytes.TrimSpace(rec)))
}

// winlogbeatTime reads the event time: winlog.time_created when present
// (full precision), else @timestamp.
func winlogbeatTime(doc *fastjson.Value, r *winRecord) error {
	ts := jsonText(lookup(doc, "winlog", "time_created"))
	if ts == "" {
		ts = jsonText(lookup(doc, "@timestamp"))
	}
	if ts == "" {
		return parse.Errorf(parse.ReasonMissingField, "winlogbeat: no @timestamp")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return parse.Errorf(parse.ReasonBadTimestamp, "winlogbeat: @timestamp %q: %v", ts, err)
	}
	r.time = t
	return nil
}

// lookup finds keys in a document whose objects are nested ({"winlog":
// {"channel": ...}}), flattened with dots ({"winlog.channel": ...}) or a mix
// of both.
func lookup(v *fastjson.Value, keys ...string) *fastjson.Value {
	if v == nil || len(keys) == 0 {
		return v
	}
	for i := 1; i <= len(keys); i++ {
		k := keys[0]
		if i > 1 {
			k = strings.Join(keys[:i], ".")
		}
		if sub := v.Get(k); sub != nil {
			if r := lookup(sub, keys[i:]...); r != nil {
				return r
			}
		}
	}
	return nil
}

// levelNumber turns Winlogbeat's level name back into the event level. The
// Security auditing provider logs at level 0, which Windows also renders
// as "Information".
func levelNumber(name, provider string) string {
	switch strings.ToLower(name) {
	case "":
		return ""
	case "information", "informational", "info":
		if provider == provSecurity {
			return "0"
		}
		return "4"
	case "critical":
		return "1"
	case "error":
		return "2"
	case "warning":
		return "3"
	case "verbose":
		return "5"
	}
	return name
}

// opcodeNumber turns a standard (winmeta) opcode name into its number.
func opcodeNumber(name string) string {
	switch strings.ToLower(name) {
	case "info":
		return "0"
	case "start":
		return "1"
	case "stop":
		return "2"
	case "dcstart":
		return "3"
	case "dcstop":
		return "4"
	case "extension":
		return "5"
	case "reply":
		return "6"
	case "resume":
		return "7"
	case "suspend":
		return "8"
	case "send":
		return "9"
	case "receive":
		return "240"
	}
	return name
}

// taskNumber turns a task name into the task number, from the mapping
// table or, for Sysmon, the event id.
func taskNumber(name, provider, id string) string {
	if name == "" || isDigits(name) {
		return name
	}
	if rule, ok := lookupRule(provider, id); ok && rule.task != "" && strings.EqualFold(rule.taskName, name) {
		return rule.task
	}
	if provider == provSysmon {
		return id
	}
	return name
}

// keywordBits are the standard (winmeta) keyword names.
func keywordBit(name string) (uint64, bool) {
	switch strings.ToLower(name) {
	case "audit success":
		return keywordAuditSuccess, true
	case "audit failure":
		return keywordAuditFailure, true
	case "classic":
		return 0x80000000000000, true
	case "correlation hint":
		return 0x40000000000000, true
	case "response time":
		return 0x1000000000000, true
	case "sqm":
		return 0x8000000000000, true
	case "wdi diag", "wdi diagnostic":
		return 0x4000000000000, true
	case "wdi context":
		return 0x2000000000000, true
	}
	return 0, false
}

// keywordsNumber turns Winlogbeat's keyword names into the keyword mask,
// adding the channel's own bit, which Windows does not render. Unknown
// names are kept, joined with commas.
func keywordsNumber(v *fastjson.Value, channel string) string {
	var names []string
	if v != nil && v.Type() == fastjson.TypeArray {
		for _, it := range v.GetArray() {
			names = append(names, jsonText(it))
		}
	} else if s := jsonText(v); s != "" {
		if _, ok := parseHex(s); ok {
			return s
		}
		names = strings.Split(s, ",")
	}
	mask := channelOf(channel).keywordBit
	for _, n := range names {
		bit, ok := keywordBit(strings.TrimSpace(n))
		if !ok {
			return strings.Join(names, ",")
		}
		mask |= bit
	}
	if mask == 0 {
		return ""
	}
	return "0x" + strconv.FormatUint(mask, 16)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
