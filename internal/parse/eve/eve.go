// Package eve maps Suricata EVE JSON records (alert, flow, netflow, dns,
// http, tls, fileinfo, ssh, anomaly, stats and, generically, every other
// event type) into schema events.
//
// Every value of the record is kept in Event.Fields under its dotted EVE
// path ("alert.signature", "tls.ja3.hash"; at most ecsjson.MaxFields);
// the ECS fields the schema knows are set from them.
package eve

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Module and Dataset are the event.module and event.dataset of EVE events.
const (
	Module  = "suricata"
	Dataset = "suricata.eve"
)

// Mapper maps EVE records, reusing its parser and buffers from call to
// call. The zero value is ready to use. A Mapper is not safe for
// concurrent use: give each goroutine its own.
type Mapper struct {
	p fastjson.Parser
	f ecsjson.Flattener
}

// Map parses rec, one EVE JSON object, and maps it into ev (see
// MapValue). Invalid JSON and JSON that is not an object are rejected with
// parse.ReasonInvalidJSON.
func (m *Mapper) Map(rec []byte, received time.Time, ev *schema.Event) error {
	if err := parse.CheckRecord(rec, 0); err != nil {
		*ev = schema.Event{Fields: ev.Fields[:0]}
		return err
	}
	v, err := m.p.ParseBytes(rec)
	if err != nil {
		*ev = schema.Event{Fields: ev.Fields[:0]}
		return parse.Errorf(parse.ReasonInvalidJSON, "eve: %w", err)
	}
	return m.MapValue(v, rec, received, ev)
}

// MapValue maps v, the parsed form of rec, into ev, overwriting it and
// reusing the capacity of ev.Fields. The event time is the record's
// timestamp; a record without one gets received, and one whose timestamp
// cannot be read is rejected with parse.ReasonBadTimestamp. A record
// without event_type is not EVE and is rejected with
// parse.ReasonMissingField.
func (m *Mapper) MapValue(v *fastjson.Value, rec []byte, received time.Time, ev *schema.Event) error {
	fields := ev.Fields[:0]
	*ev = schema.Event{}
	o, err := v.Object()
	if err != nil {
		return parse.Errorf(parse.ReasonInvalidJSON, "eve: record is a JSON %s, not an object", v.Type())
	}
	ev.Original = m.f.Flatten(o, rec)
	ev.Input = schema.InputSuricata
	ev.Received = received
	ev.Timestamp = received
	ev.Event.Module = Module
	ev.Event.Dataset = Dataset
	var st state
	for i, n := 0, m.f.Len(); i < n; i++ {
		l := m.f.Leaf(i)
		if err := st.read(ev, &l); err != nil {
			*ev = schema.Event{Fields: fields}
			return err
		}
	}
	if st.eventType == "" {
		*ev = schema.Event{Fields: fields}
		return parse.Errorf(parse.ReasonMissingField, "eve: record has no event_type")
	}
	ev.Fields = st.finish(ev, fields)
	ev.Fields = m.f.AppendFields(ev.Fields)
	return nil
}

// Map maps one EVE record into ev with a Mapper of its own. Use a Mapper
// per goroutine to map many records without allocating parsers.
func Map(rec []byte, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.Map(rec, received, ev)
}

// MapValue maps an already parsed EVE record (v, parsed from rec) into ev
// with a Mapper of its own.
func MapValue(v *fastjson.Value, rec []byte, received time.Time, ev *schema.Event) error {
	var m Mapper
	return m.MapValue(v, rec, received, ev)
}
