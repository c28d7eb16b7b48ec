package zeek

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// maxInternedKeys bounds the key cache of a Mapper, so that records with
// ever-new keys cannot grow it without limit.
const maxInternedKeys = 4096

// Mapper maps Zeek JSON log lines into events. It reuses its JSON parser,
// buffers and (when made by NewMapper) a cache of key strings between
// calls, so it is not safe for concurrent use; use one Mapper per
// goroutine. The zero value is ready to use.
type Mapper struct {
	p     fastjson.Parser
	b     ecsBuilder
	keys  map[string]string
	elems []string
	num   []byte
	err   error
	ev    *schema.Event
}

// NewMapper returns a Mapper.
func NewMapper() *Mapper { return &Mapper{keys: make(map[string]string)} }

// MapJSON maps one Zeek JSON log line. logType is the log's type when known
// from the file name ("dns" for dns.log / dns.json / dns.2024-01-01.log.gz);
// the record's "_path" field wins when present. Use a Mapper to map many
// lines without reallocating the parser.
func MapJSON(line []byte, logType string, received time.Time, ev *schema.Event) error {
	var m Mapper // no key cache: it would not be reused
	return m.Map(line, logType, received, ev)
}

// Map maps one Zeek JSON log line; see MapJSON.
func (m *Mapper) Map(line []byte, logType string, received time.Time, ev *schema.Event) error {
	line = bytes.TrimSpace(line)
	if err := parse.CheckRecord(line, parse.MaxRecordBytes); err != nil {
		return err
	}
	v, err := m.p.ParseBytes(line)
	if err != nil {
		return parse.Errorf(parse.ReasonInvalidJSON, "zeek json: %v", err)
	}
	obj, err := v.Object()
	if err != nil {
		return parse.Errorf(parse.ReasonInvalidJSON, "zeek json: the record is a JSON %s, not an object", v.Type())
	}
	if p := obj.Get("_path"); p != nil && p.Type() == fastjson.TypeString {
		logType = string(p.GetStringBytes())
	}
	m.b.reset(logType)
	m.b.begin(ev, received, obj.Len(), string(line))
	m.err, m.ev = nil, ev
	m.object(obj, "", true)
	m.ev = nil
	if m.err != nil {
		return m.err
	}
	m.b.finish(ev)
	return nil
}

// object adds the members of o, flattening nested objects with dots.
func (m *Mapper) object(o *fastjson.Object, prefix string, top bool) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if m.err != nil {
			return
		}
		if top && (string(k) == "_path" || string(k) == "_write_ts") {
			return
		}
		key := m.key(prefix, k)
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			sub, _ := v.Object()
			m.object(sub, key+".", false)
		case fastjson.TypeArray:
			m.array(key, v)
		default:
			val, err := m.scalar(key, v)
			if err != nil {
				m.err = err
				return
			}
			m.b.add(m.ev, key, val, nil)
		}
	})
}

// key returns prefix+k, reusing an interned string for top-level keys.
func (m *Mapper) key(prefix string, k []byte) string {
	if prefix != "" {
		return prefix + string(k)
	}
	if s, ok := m.keys[string(k)]; ok {
		return s
	}
	s := string(k)
	if m.keys != nil && len(m.keys) < maxInternedKeys {
		m.keys[s] = s
	}
	return s
}

// array adds a set or vector value, its elements joined with commas.
func (m *Mapper) array(key string, v *fastjson.Value) {
	items, _ := v.Array()
	m.elems = m.elems[:0]
	for _, it := range items {
		var s string
		switch it.Type() {
		case fastjson.TypeNull:
			s = "-"
		case fastjson.TypeObject, fastjson.TypeArray:
			s = string(it.MarshalTo(nil))
		default:
			var err error
			if s, err = m.scalar(key, it); err != nil {
				m.err = err
				return
			}
		}
		m.elems = append(m.elems, s)
	}
	val := ""
	switch len(m.elems) {
	case 0:
	case 1:
		val = m.elems[0]
	default:
		val = strings.Join(m.elems, ",")
	}
	m.b.add(m.ev, key, val, m.elems)
}

// scalar returns the canonical form of a string, number or boolean.
func (m *Mapper) scalar(key string, v *fastjson.Value) (string, error) {
	if key == "ts" && v.Type() != fastjson.TypeString && v.Type() != fastjson.TypeNumber {
		return "", parse.Errorf(parse.ReasonBadTimestamp, "zeek json: ts is a JSON %s", v.Type())
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return "T", nil
	case fastjson.TypeFalse:
		return "F", nil
	case fastjson.TypeString:
		b := v.GetStringBytes()
		if us, ok := parseISOMicros(string(b)); ok {
			return formatMicros(us), nil
		}
		if key == "ts" {
			return "", parse.Errorf(parse.ReasonBadTimestamp, "zeek json: ts %q is not a Zeek time", b)
		}
		return canonString(string(b)), nil
	}
	m.num = v.MarshalTo(m.num[:0])
	raw := m.num
	if key == "ts" {
		s, _, err := canonTime(string(raw))
		if err != nil {
			return "", parse.Errorf(parse.ReasonBadTimestamp, "zeek json: ts %s: %v", raw, err)
		}
		return s, nil
	}
	if bytes.ContainsAny(raw, ".eEnNiI") {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return string(raw), nil
		}
		return formatDouble(f), nil
	}
	return string(raw), nil
}

// Format is a Zeek log format.
type Format int

// Zeek log formats Sniff tells apart.
const (
	FormatUnknown Format = iota
	FormatTSV
	FormatJSON
)

// Sniff tells the format of a Zeek log from its first bytes: JSON records
// start with '{', TSV logs with a '#' header line.
func Sniff(head []byte) Format {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(head) == 0 {
		return FormatUnknown
	}
	switch head[0] {
	case '{':
		return FormatJSON
	case '#':
		return FormatTSV
	}
	return FormatUnknown
}

// LogTypeFromFilename returns the Zeek log type a file name implies: the
// base name up to its first dot, so "dns" for dns.log, dns.json,
// /logs/dns.2024-01-01.log.gz and dns.00:00:00-01:00:00.log.gz.
func LogTypeFromFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	base, _, _ := strings.Cut(name, ".")
	return base
}
