// Package ecsjson maps generic JSON log records into schema events: the
// NDJSON lines and Elasticsearch bulk documents that Filebeat, Fluent Bit,
// Vector and Logstash send, in Elastic Common Schema (ECS) shape, nested
// ({"source":{"ip":...}}) or dotted ({"source.ip":...}).
//
// Every value of the record is kept in Event.Fields under its dotted path
// (at most MaxFields of them); the ECS fields the schema knows are also
// set on the event.
package ecsjson

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// numTimeKeys is how many keys timeKey knows.
const numTimeKeys = 5

// timeKey ranks the keys read for the event time, best first: @timestamp,
// timestamp, time, ts, date. Other keys rank -1.
func timeKey(key string) int {
	switch key {
	case "@timestamp":
		return 0
	case "timestamp":
		return 1
	case "time":
		return 2
	case "ts":
		return 3
	case "date":
		return 4
	}
	return -1
}

// Mapper maps JSON records, reusing its parser and buffers from call to
// call. The zero value is ready to use. A Mapper is not safe for
// concurrent use: give each goroutine its own.
type Mapper struct {
	p fastjson.Parser
	f Flattener
}

// Map parses rec, one JSON object, and maps it into ev (see MapValue).
// Invalid JSON and JSON that is not an object are rejected with
// parse.ReasonInvalidJSON.
func (m *Mapper) Map(rec []byte, input string, received time.Time, ev *schema.Event) error {
	if err := parse.CheckRecord(rec, 0); err != nil {
		*ev = schema.Event{Fields: ev.Fields[:0]}
		return err
	}
	v, err := m.p.ParseBytes(rec)
	if err != nil {
		*ev = schema.Event{Fields: ev.Fields[:0]}
		return parse.Errorf(parse.ReasonInvalidJSON, "%w", err)
	}
	return m.MapValue(v, rec, input, received, ev)
}

// MapValue maps v, the parsed form of rec, into ev, overwriting it and
// reusing the capacity of ev.Fields. input is the schema.Input* value to
// set (schema.InputNDJSON or schema.InputBulk). The event time is
// @timestamp (RFC 3339 or epoch milliseconds), else timestamp, time, ts or
// date, else received. A @timestamp that cannot be read rejects the record
// with parse.ReasonBadTimestamp.
func (m *Mapper) MapValue(v *fastjson.Value, rec []byte, input string, received time.Time, ev *schema.Event) error {
	fields := ev.Fields[:0]
	*ev = schema.Event{}
	o, err := v.Object()
	if err != nil {
		return parse.Errorf(parse.ReasonInvalidJSON, "record is a JSON %s, not an object", v.Type())
	}
	ev.Original = m.f.Flatten(o, rec)
	ev.Input = input
	ev.Received = received
	var al aliases
	var times [numTimeKeys]Leaf
	for i, n := 0, m.f.Len(); i < n; i++ {
		l := m.f.Leaf(i)
		if setECS(ev, &l) {
			continue
		}
		if k := timeKey(l.Key); k >= 0 {
			if times[k].Key == "" {
				times[k] = l
			}
			continue
		}
		al.note(&l)
	}
	al.apply(ev)
	if err := setTime(ev, &times, received); err != nil {
		*ev = schema.Event{Fields: fields}
		return err
	}
	ev.Fields = m.f.AppendFields(fields)
	return nil
}

// setTime sets the event time from the first time key present.
func setTime(ev *schema.Event, times *[numTimeKeys]Leaf, received time.Time) error {
	for k := range times {
		if times[k].Key == "" {
			continue
		}
		t, err := ParseTime(times[k])
		if err == nil {
			ev.Timestamp = t
			return nil
		}
		if k == 0 {
			return parse.Errorf(parse.ReasonBadTimestamp, "%w", err)
		}
	}
	ev.Timestamp = received
	return nil
}

// Map maps one JSON object into ev with a Mapper of its own. Use a Mapper
// per goroutine to map many records without allocating parsers.
func Map(rec []byte, input string, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.Map(rec, input, received, ev)
}

// MapValue maps an already parsed JSON object (v, parsed from rec) into
// ev with a Mapper of its own.
func MapValue(v *fastjson.Value, rec []byte, input string, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.MapValue(v, rec, input, received, ev)
}
