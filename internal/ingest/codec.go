package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// The ingest log carries batches of normalised events in a compact binary
// form: a version byte, the event count, then each event's fields in a fixed
// order. Strings are length-prefixed; decoding converts the whole message to
// one string once and slices it, so decoded events share that memory and
// cost no allocation per string. Version 2 appends the enrichment fields
// (assets, GeoIP, ASN) to each event; version 1 batches still decode.
const codecVersion = 2

var errShort = errors.New("ingest codec: truncated batch")

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		e.uvarint(0)
		return
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()) + 1)
}

func (e *encoder) list(l []string) {
	e.uvarint(uint64(len(l)))
	for _, s := range l {
		e.str(s)
	}
}

// AppendBatch appends the encoding of evs to dst and returns it.
func AppendBatch(dst []byte, evs []schema.Event) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, codecVersion)
	e.uvarint(uint64(len(evs)))
	for i := range evs {
		e.event(&evs[i])
	}
	return e.b
}

func (e *encoder) event(ev *schema.Event) {
	e.time(ev.Timestamp)
	e.time(ev.Received)
	e.str(ev.Input)
	m := &ev.Event
	e.str(m.Kind)
	e.list(m.Category)
	e.list(m.Type)
	e.str(m.Action)
	e.str(m.Outcome)
	e.str(m.Dataset)
	e.str(m.Module)
	e.str(m.Provider)
	e.str(m.Code)
	e.varint(int64(m.Severity))
	e.varint(m.Duration)
	e.str(ev.Host.Name)
	e.str(ev.Host.Hostname)
	e.str(ev.Host.IP)
	e.str(ev.Host.OS)
	e.endpoint(&ev.Source)
	e.endpoint(&ev.Destination)
	n := &ev.Network
	e.str(n.Transport)
	e.str(n.Protocol)
	e.str(n.Direction)
	e.varint(n.Bytes)
	e.varint(n.Packets)
	e.str(n.CommunityID)
	e.str(ev.User.Name)
	e.str(ev.User.Domain)
	e.str(ev.User.ID)
	p := &ev.Process
	e.varint(p.PID)
	e.str(p.Name)
	e.str(p.Executable)
	e.str(p.CommandLine)
	e.varint(p.Parent.PID)
	e.str(p.Parent.Name)
	e.str(p.Parent.Executable)
	e.str(p.Parent.CommandLine)
	e.str(ev.File.Path)
	e.str(ev.File.Name)
	e.str(ev.File.Hash.MD5)
	e.str(ev.File.Hash.SHA1)
	e.str(ev.File.Hash.SHA256)
	e.str(ev.DNS.Question.Name)
	e.str(ev.DNS.Question.Type)
	e.str(ev.DNS.ResponseCode)
	e.list(ev.DNS.Answers)
	e.str(ev.URL.Full)
	e.str(ev.URL.Domain)
	e.str(ev.URL.Path)
	e.str(ev.Observer.Name)
	e.str(ev.Observer.Type)
	e.str(ev.Observer.IP)
	e.str(ev.Log.Level)
	e.str(ev.Log.Logger)
	e.str(ev.Log.File.Path)
	e.syslog(ev.Log.Syslog)
	e.str(ev.Message)
	e.uvarint(uint64(len(ev.Fields)))
	for _, f := range ev.Fields {
		e.str(f.Key)
		e.str(f.Value)
	}
	e.str(ev.Original)
	e.enrichment(ev)
}

// enrichment writes a flag and, when any enrichment field is set, the
// host asset and both endpoints' GeoIP, ASN and asset fields.
func (e *encoder) enrichment(ev *schema.Event) {
	if ev.Host.Asset == (schema.Asset{}) && !enriched(&ev.Source) && !enriched(&ev.Destination) {
		e.uvarint(0)
		return
	}
	e.uvarint(1)
	e.asset(&ev.Host.Asset)
	for _, p := range []*schema.Endpoint{&ev.Source, &ev.Destination} {
		e.str(p.Geo.CountryISOCode)
		e.str(p.Geo.CountryName)
		e.str(p.Geo.CityName)
		e.varint(p.AS.Number)
		e.str(p.AS.Organization.Name)
		e.asset(&p.Asset)
	}
}

func enriched(p *schema.Endpoint) bool {
	return p.Geo != (schema.Geo{}) || p.AS != (schema.AS{}) || p.Asset != (schema.Asset{})
}

func (e *encoder) asset(a *schema.Asset) {
	e.str(a.ID)
	e.str(a.Name)
	e.str(a.Role)
	e.str(a.Criticality)
}

func (e *encoder) syslog(s schema.LogSyslog) {
	if !s.Present {
		e.uvarint(0)
		return
	}
	e.uvarint(1)
	e.varint(int64(s.Facility))
	e.varint(int64(s.Severity))
}

func (e *encoder) endpoint(p *schema.Endpoint) {
	e.str(p.IP)
	e.varint(int64(p.Port))
	e.str(p.Domain)
	e.str(p.MAC)
	e.varint(p.Bytes)
	e.varint(p.Packets)
}

type decoder struct {
	s   string // the whole message; decoded strings are slices of it
	off int
	err error
	// version is the batch's codec version.
	version byte
	// Slabs that events' fields and lists are cut from, so a batch costs a
	// few allocations rather than several per event.
	fieldSlab []schema.Field
	listSlab  []string
}

// slabSize is how many fields (or list items) one slab allocation holds.
const slabSize = 4096

func (d *decoder) takeFields(n int) schema.Fields {
	if len(d.fieldSlab) < n {
		d.fieldSlab = make([]schema.Field, max(slabSize, n))
	}
	f := d.fieldSlab[:n:n]
	d.fieldSlab = d.fieldSlab[n:]
	return f
}

func (d *decoder) takeList(n int) []string {
	if len(d.listSlab) < n {
		d.listSlab = make([]string, max(slabSize, n))
	}
	l := d.listSlab[:n:n]
	d.listSlab = d.listSlab[n:]
	return l
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.off >= len(d.s) {
			d.err = errShort
			return 0
		}
		c := d.s[d.off]
		d.off++
		if c < 0x80 {
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.err = errors.New("ingest codec: varint overflows 64 bits")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.off) {
		d.err = errShort
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	ns := d.uvarint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(sec, int64(ns-1)).UTC()
}

func (d *decoder) list() []string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	if n > uint64(len(d.s)-d.off) {
		d.err = errShort
		return nil
	}
	l := d.takeList(int(n))
	for i := range l {
		l[i] = d.str()
	}
	return l
}

// DecodeBatch decodes a batch written by AppendBatch, appending the events
// to dst. The events' strings share one copy of data.
func DecodeBatch(dst []schema.Event, data []byte) ([]schema.Event, error) {
	if len(data) == 0 || data[0] < 1 || data[0] > codecVersion {
		return dst, fmt.Errorf("ingest codec: unknown batch version")
	}
	d := decoder{s: string(data), off: 1, version: data[0]}
	n := d.uvarint()
	if n > uint64(len(data)) {
		return dst, errShort
	}
	dst = slices.Grow(dst, int(n)) // events are large: grow once, not by doubling
	for i := uint64(0); i < n && d.err == nil; i++ {
		dst = append(dst, schema.Event{})
		d.event(&dst[len(dst)-1])
	}
	if d.err != nil {
		return dst, d.err
	}
	return dst, nil
}

func (d *decoder) event(ev *schema.Event) {
	ev.Timestamp = d.time()
	ev.Received = d.time()
	ev.Input = d.str()
	m := &ev.Event
	m.Kind = d.str()
	m.Category = d.list()
	m.Type = d.list()
	m.Action = d.str()
	m.Outcome = d.str()
	m.Dataset = d.str()
	m.Module = d.str()
	m.Provider = d.str()
	m.Code = d.str()
	m.Severity = int(d.varint())
	m.Duration = d.varint()
	ev.Host.Name = d.str()
	ev.Host.Hostname = d.str()
	ev.Host.IP = d.str()
	ev.Host.OS = d.str()
	d.endpoint(&ev.Source)
	d.endpoint(&ev.Destination)
	n := &ev.Network
	n.Transport = d.str()
	n.Protocol = d.str()
	n.Direction = d.str()
	n.Bytes = d.varint()
	n.Packets = d.varint()
	n.CommunityID = d.str()
	ev.User.Name = d.str()
	ev.User.Domain = d.str()
	ev.User.ID = d.str()
	p := &ev.Process
	p.PID = d.varint()
	p.Name = d.str()
	p.Executable = d.str()
	p.CommandLine = d.str()
	p.Parent.PID = d.varint()
	p.Parent.Name = d.str()
	p.Parent.Executable = d.str()
	p.Parent.CommandLine = d.str()
	ev.File.Path = d.str()
	ev.File.Name = d.str()
	ev.File.Hash.MD5 = d.str()
	ev.File.Hash.SHA1 = d.str()
	ev.File.Hash.SHA256 = d.str()
	ev.DNS.Question.Name = d.str()
	ev.DNS.Question.Type = d.str()
	ev.DNS.ResponseCode = d.str()
	ev.DNS.Answers = d.list()
	ev.URL.Full = d.str()
	ev.URL.Domain = d.str()
	ev.URL.Path = d.str()
	ev.Observer.Name = d.str()
	ev.Observer.Type = d.str()
	ev.Observer.IP = d.str()
	ev.Log.Level = d.str()
	ev.Log.Logger = d.str()
	ev.Log.File.Path = d.str()
	if d.uvarint() == 1 {
		ev.Log.Syslog = schema.LogSyslog{Facility: int(d.varint()), Severity: int(d.varint()), Present: true}
	}
	ev.Message = d.str()
	d.fields(ev)
	ev.Original = d.str()
	if d.version >= 2 && d.uvarint() == 1 {
		d.asset(&ev.Host.Asset)
		for _, p := range []*schema.Endpoint{&ev.Source, &ev.Destination} {
			p.Geo.CountryISOCode = d.str()
			p.Geo.CountryName = d.str()
			p.Geo.CityName = d.str()
			p.AS.Number = d.varint()
			p.AS.Organization.Name = d.str()
			d.asset(&p.Asset)
		}
	}
}

func (d *decoder) asset(a *schema.Asset) {
	a.ID = d.str()
	a.Name = d.str()
	a.Role = d.str()
	a.Criticality = d.str()
}

func (d *decoder) fields(ev *schema.Event) {
	nf := d.uvarint()
	if nf == 0 || d.err != nil {
		return
	}
	if nf > uint64(len(d.s)-d.off) {
		d.err = errShort
		return
	}
	ev.Fields = d.takeFields(int(nf))
	for i := range ev.Fields {
		ev.Fields[i].Key = d.str()
		ev.Fields[i].Value = d.str()
	}
}

func (d *decoder) endpoint(p *schema.Endpoint) {
	p.IP = d.str()
	p.Port = int(d.varint())
	p.Domain = d.str()
	p.MAC = d.str()
	p.Bytes = d.varint()
	p.Packets = d.varint()
}
