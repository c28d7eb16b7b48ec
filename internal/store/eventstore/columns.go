package eventstore

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

// column is one field of schema.Event stored in one or more SQL columns.
// put fills len(names) values for the appender; get reads them back.
type column struct {
	names []string
	types []string
	put   func(e *schema.Event, dst []driver.Value, enc *encoder)
	get   func(e *schema.Event, src []any, dec *decoder) error
}

// layout is the table layout of an event partition: its columns in order.
type layout struct {
	cols  []column
	names []string // every SQL column, in order
	width int
}

func newLayout() *layout {
	l := &layout{}
	l.cols = append(l.cols, coreColumns()...)
	l.cols = append(l.cols, networkColumns()...)
	l.cols = append(l.cols, processColumns()...)
	l.cols = append(l.cols, tailColumns()...)
	// Columns added after the first release go last: older partitions get
	// them by ALTER TABLE ADD COLUMN, which appends.
	l.cols = append(l.cols, enrichColumns()...)
	for _, c := range l.cols {
		l.names = append(l.names, c.names...)
	}
	l.width = len(l.names)
	return l
}

// ddl returns the CREATE TABLE statement of a partition.
func (l *layout) ddl(table string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(table)
	b.WriteString(" (")
	i := 0
	for _, c := range l.cols {
		for j, n := range c.names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " " + c.types[j])
			i++
		}
	}
	b.WriteString(")")
	return b.String()
}

// selectList returns the columns, comma-separated.
func (l *layout) selectList() string { return strings.Join(l.names, ", ") }

// row fills dst (of length l.width) with the event's values.
func (l *layout) row(e *schema.Event, dst []driver.Value, enc *encoder) {
	off := 0
	for _, c := range l.cols {
		c.put(e, dst[off:off+len(c.names)], enc)
		off += len(c.names)
	}
}

// event rebuilds an event from a scanned row.
func (l *layout) event(src []any, dec *decoder) (schema.Event, error) {
	var e schema.Event
	off := 0
	for _, c := range l.cols {
		if err := c.get(&e, src[off:off+len(c.names)], dec); err != nil {
			return e, fmt.Errorf("column %s: %w", c.names[0], err)
		}
		off += len(c.names)
	}
	return e, nil
}

// coreColumns: identity, times, input and event.*.
func coreColumns() []column {
	return []column{
		{
			names: []string{"id"}, types: []string{"UBIGINT NOT NULL"},
			put: func(e *schema.Event, d []driver.Value, _ *encoder) { d[0] = e.ID },
			get: func(e *schema.Event, s []any, _ *decoder) (err error) { e.ID, err = asUint(s[0]); return err },
		},
		timeCol("ts", func(e *schema.Event) *time.Time { return &e.Timestamp }, true),
		timeCol("received", func(e *schema.Event) *time.Time { return &e.Received }, false),
		strCol("input", func(e *schema.Event) *string { return &e.Input }),
		strCol("event.kind", func(e *schema.Event) *string { return &e.Event.Kind }),
		listCol("event.category", func(e *schema.Event) *[]string { return &e.Event.Category }),
		listCol("event.type", func(e *schema.Event) *[]string { return &e.Event.Type }),
		strCol("event.action", func(e *schema.Event) *string { return &e.Event.Action }),
		strCol("event.outcome", func(e *schema.Event) *string { return &e.Event.Outcome }),
		strCol("event.dataset", func(e *schema.Event) *string { return &e.Event.Dataset }),
		strCol("event.module", func(e *schema.Event) *string { return &e.Event.Module }),
		strCol("event.provider", func(e *schema.Event) *string { return &e.Event.Provider }),
		strCol("event.code", func(e *schema.Event) *string { return &e.Event.Code }),
		intCol("event.severity", func(e *schema.Event) *int { return &e.Event.Severity }),
		int64Col("event.duration", func(e *schema.Event) *int64 { return &e.Event.Duration }),
		strCol("host.name", func(e *schema.Event) *string { return &e.Host.Name }),
		strCol("host.hostname", func(e *schema.Event) *string { return &e.Host.Hostname }),
		ipCol("host.ip", func(e *schema.Event) *string { return &e.Host.IP }),
		strCol("host.os.family", func(e *schema.Event) *string { return &e.Host.OS }),
		strCol("user.name", func(e *schema.Event) *string { return &e.User.Name }),
		strCol("user.domain", func(e *schema.Event) *string { return &e.User.Domain }),
		strCol("user.id", func(e *schema.Event) *string { return &e.User.ID }),
	}
}

// networkColumns: source.*, destination.*, network.*, dns.*, url.*,
// observer.*.
func networkColumns() []column {
	cols := append(endpointColumns("source", func(e *schema.Event) *schema.Endpoint { return &e.Source }),
		endpointColumns("destination", func(e *schema.Event) *schema.Endpoint { return &e.Destination })...)
	return append(cols,
		strCol("network.transport", func(e *schema.Event) *string { return &e.Network.Transport }),
		strCol("network.protocol", func(e *schema.Event) *string { return &e.Network.Protocol }),
		strCol("network.direction", func(e *schema.Event) *string { return &e.Network.Direction }),
		int64Col("network.bytes", func(e *schema.Event) *int64 { return &e.Network.Bytes }),
		int64Col("network.packets", func(e *schema.Event) *int64 { return &e.Network.Packets }),
		strCol("network.community_id", func(e *schema.Event) *string { return &e.Network.CommunityID }),
		strCol("dns.question.name", func(e *schema.Event) *string { return &e.DNS.Question.Name }),
		strCol("dns.question.type", func(e *schema.Event) *string { return &e.DNS.Question.Type }),
		strCol("dns.response_code", func(e *schema.Event) *string { return &e.DNS.ResponseCode }),
		listCol("dns.answers", func(e *schema.Event) *[]string { return &e.DNS.Answers }),
		strCol("url.full", func(e *schema.Event) *string { return &e.URL.Full }),
		strCol("url.domain", func(e *schema.Event) *string { return &e.URL.Domain }),
		strCol("url.path", func(e *schema.Event) *string { return &e.URL.Path }),
		strCol("observer.name", func(e *schema.Event) *string { return &e.Observer.Name }),
		strCol("observer.type", func(e *schema.Event) *string { return &e.Observer.Type }),
		ipCol("observer.ip", func(e *schema.Event) *string { return &e.Observer.IP }),
	)
}

func endpointColumns(prefix string, ep func(*schema.Event) *schema.Endpoint) []column {
	return []column{
		ipCol(prefix+".ip", func(e *schema.Event) *string { return &ep(e).IP }),
		intCol(prefix+".port", func(e *schema.Event) *int { return &ep(e).Port }),
		strCol(prefix+".domain", func(e *schema.Event) *string { return &ep(e).Domain }),
		strCol(prefix+".mac", func(e *schema.Event) *string { return &ep(e).MAC }),
		int64Col(prefix+".bytes", func(e *schema.Event) *int64 { return &ep(e).Bytes }),
		int64Col(prefix+".packets", func(e *schema.Event) *int64 { return &ep(e).Packets }),
	}
}

// enrichColumns: the asset inventory and GeoIP/ASN fields enrichment adds.
func enrichColumns() []column {
	host := func(e *schema.Event) *schema.Asset { return &e.Host.Asset }
	cols := assetColumns("host", host)
	for _, side := range []struct {
		prefix string
		ep     func(*schema.Event) *schema.Endpoint
	}{
		{"source", func(e *schema.Event) *schema.Endpoint { return &e.Source }},
		{"destination", func(e *schema.Event) *schema.Endpoint { return &e.Destination }},
	} {
		p, ep := side.prefix, side.ep
		cols = append(cols,
			strCol(p+".geo.country_iso_code", func(e *schema.Event) *string { return &ep(e).Geo.CountryISOCode }),
			strCol(p+".geo.country_name", func(e *schema.Event) *string { return &ep(e).Geo.CountryName }),
			strCol(p+".geo.city_name", func(e *schema.Event) *string { return &ep(e).Geo.CityName }),
			int64Col(p+".as.number", func(e *schema.Event) *int64 { return &ep(e).AS.Number }),
			strCol(p+".as.organization.name", func(e *schema.Event) *string { return &ep(e).AS.Organization.Name }))
		cols = append(cols, assetColumns(p, func(e *schema.Event) *schema.Asset { return &ep(e).Asset })...)
	}
	return cols
}

func assetColumns(prefix string, a func(*schema.Event) *schema.Asset) []column {
	return []column{
		strCol(prefix+".asset.id", func(e *schema.Event) *string { return &a(e).ID }),
		strCol(prefix+".asset.name", func(e *schema.Event) *string { return &a(e).Name }),
		strCol(prefix+".asset.role", func(e *schema.Event) *string { return &a(e).Role }),
		strCol(prefix+".asset.criticality", func(e *schema.Event) *string { return &a(e).Criticality }),
	}
}

// upgrade returns the statements that add the columns a partition created
// by an older layout lacks (ADD COLUMN IF NOT EXISTS is a no-op otherwise).
func (l *layout) upgrade(table string) []string {
	var out []string
	for _, c := range enrichColumns() {
		for j, n := range c.names {
			out = append(out, "ALTER TABLE "+table+" ADD COLUMN IF NOT EXISTS "+n+" "+c.types[j])
		}
	}
	return out
}

// processColumns: process.*, file.*.
func processColumns() []column {
	return []column{
		int64Col("process.pid", func(e *schema.Event) *int64 { return &e.Process.PID }),
		strCol("process.name", func(e *schema.Event) *string { return &e.Process.Name }),
		strCol("process.executable", func(e *schema.Event) *string { return &e.Process.Executable }),
		strCol("process.command_line", func(e *schema.Event) *string { return &e.Process.CommandLine }),
		int64Col("process.parent.pid", func(e *schema.Event) *int64 { return &e.Process.Parent.PID }),
		strCol("process.parent.name", func(e *schema.Event) *string { return &e.Process.Parent.Name }),
		strCol("process.parent.executable", func(e *schema.Event) *string { return &e.Process.Parent.Executable }),
		strCol("process.parent.command_line", func(e *schema.Event) *string { return &e.Process.Parent.CommandLine }),
		strCol("file.path", func(e *schema.Event) *string { return &e.File.Path }),
		strCol("file.name", func(e *schema.Event) *string { return &e.File.Name }),
		strCol("file.hash.md5", func(e *schema.Event) *string { return &e.File.Hash.MD5 }),
		strCol("file.hash.sha1", func(e *schema.Event) *string { return &e.File.Hash.SHA1 }),
		strCol("file.hash.sha256", func(e *schema.Event) *string { return &e.File.Hash.SHA256 }),
	}
}

// tailColumns: log.*, message, fields and original.
func tailColumns() []column {
	return []column{
		strCol("log.level", func(e *schema.Event) *string { return &e.Log.Level }),
		strCol("log.logger", func(e *schema.Event) *string { return &e.Log.Logger }),
		strCol("log.file.path", func(e *schema.Event) *string { return &e.Log.File.Path }),
		syslogCol(),
		bigText(strCol("message", func(e *schema.Event) *string { return &e.Message })),
		bigText(column{
			names: []string{"fields"}, types: []string{"VARCHAR"},
			put: func(e *schema.Event, d []driver.Value, enc *encoder) {
				d[0] = nil
				if b := enc.fieldsJSON(e.Fields); b != nil {
					d[0] = b
				}
			},
			get: func(e *schema.Event, s []any, dec *decoder) (err error) { e.Fields, err = dec.fields(s[0]); return err },
		}),
		bigText(strCol("event.original", func(e *schema.Event) *string { return &e.Original })),
	}
}

// bigText marks a text column that holds long, mostly distinct values
// (the message, the fields and the raw record): it is compressed with
// zstd, which for such values measured both smaller and cheaper than
// DuckDB's default choice (dictionary and FSST): about a quarter less CPU
// per write.
func bigText(c column) column {
	c.types = []string{c.types[0] + " USING COMPRESSION zstd"}
	return c
}

func syslogCol() column {
	return column{
		names: []string{query.ColumnName("log.syslog.facility.code"), query.ColumnName("log.syslog.severity.code")},
		types: []string{"INTEGER", "INTEGER"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) {
			d[0], d[1] = nil, nil
			if e.Log.Syslog.Present {
				d[0], d[1] = int64(e.Log.Syslog.Facility), int64(e.Log.Syslog.Severity)
			}
		},
		get: func(e *schema.Event, s []any, _ *decoder) error {
			if s[0] == nil && s[1] == nil {
				return nil
			}
			f, err1 := asInt(s[0])
			v, err2 := asInt(s[1])
			e.Log.Syslog = schema.LogSyslog{Facility: int(f), Severity: int(v), Present: true}
			if err1 != nil {
				return err1
			}
			return err2
		},
	}
}

// strCol stores a string; "" is NULL. Invalid UTF-8 is replaced by U+FFFD,
// since DuckDB's VARCHAR holds only valid UTF-8.
func strCol(ecs string, f func(*schema.Event) *string) column {
	return column{
		names: []string{query.ColumnName(ecs)}, types: []string{"VARCHAR"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) { d[0] = textValue(*f(e)) },
		get: func(e *schema.Event, s []any, _ *decoder) (err error) { *f(e), err = asString(s[0]); return err },
	}
}

func intCol(ecs string, f func(*schema.Event) *int) column {
	return column{
		names: []string{query.ColumnName(ecs)}, types: []string{"BIGINT"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) { d[0] = nullInt(int64(*f(e))) },
		get: func(e *schema.Event, s []any, _ *decoder) error {
			v, err := asInt(s[0])
			*f(e) = int(v)
			return err
		},
	}
}

func int64Col(ecs string, f func(*schema.Event) *int64) column {
	return column{
		names: []string{query.ColumnName(ecs)}, types: []string{"BIGINT"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) { d[0] = nullInt(*f(e)) },
		get: func(e *schema.Event, s []any, _ *decoder) (err error) { *f(e), err = asInt(s[0]); return err },
	}
}

// listCol stores a list as VARCHAR[]; an empty list is NULL.
func listCol(ecs string, f func(*schema.Event) *[]string) column {
	return column{
		names: []string{query.ColumnName(ecs)}, types: []string{"VARCHAR[]"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) { d[0] = nullList(*f(e)) },
		get: func(e *schema.Event, s []any, _ *decoder) (err error) { *f(e), err = asList(s[0]); return err },
	}
}

// ipCol stores an address as text plus its two numeric keys
// (query.IPKey), which are NULL when the text is not an address.
func ipCol(ecs string, f func(*schema.Event) *string) column {
	name := query.ColumnName(ecs)
	return column{
		names: []string{name, name + "_hi", name + "_lo"}, types: []string{"VARCHAR", "BIGINT", "BIGINT"},
		put: func(e *schema.Event, d []driver.Value, _ *encoder) {
			s := *f(e)
			d[0], d[1], d[2] = textValue(s), nil, nil
			if hi, lo, ok := query.IPKey(s); ok {
				d[1], d[2] = hi, lo
			}
		},
		get: func(e *schema.Event, s []any, _ *decoder) (err error) { *f(e), err = asString(s[0]); return err },
	}
}

// timeCol stores a time as TIMESTAMP (microseconds, UTC) plus the
// nanoseconds below the microsecond, so the time reads back exactly. A zero
// time is NULL unless notNull.
func timeCol(name string, f func(*schema.Event) *time.Time, notNull bool) column {
	c := column{names: []string{name, name + "_ns"}, types: []string{"TIMESTAMP", "USMALLINT"}}
	if notNull {
		c.types[0] += " NOT NULL"
	}
	c.put = func(e *schema.Event, d []driver.Value, _ *encoder) {
		t := *f(e)
		if t.IsZero() && !notNull {
			d[0], d[1] = nil, nil
			return
		}
		d[0], d[1] = t, uint16(t.Nanosecond()%1000)
	}
	c.get = func(e *schema.Event, s []any, _ *decoder) error {
		if s[0] == nil {
			*f(e) = time.Time{}
			return nil
		}
		t, ok := s[0].(time.Time)
		if !ok {
			return fmt.Errorf("want a time, got %T", s[0])
		}
		ns, err := asInt(s[1])
		*f(e) = t.UTC().Add(time.Duration(ns))
		return err
	}
	return c
}

// textValue returns s for the appender: nil (NULL) for "", else its bytes,
// with invalid UTF-8 replaced by U+FFFD. The bytes share s's memory rather
// than copying it: the appender copies them into its own buffer before
// AppendRow returns and never writes to them.
func textValue(s string) driver.Value {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func nullInt(v int64) driver.Value {
	if v == 0 {
		return nil
	}
	return v
}

func nullList(l []string) driver.Value {
	if len(l) == 0 {
		return nil
	}
	out := make([]any, len(l))
	for i, s := range l {
		if s == "" {
			out[i] = []byte{} // an empty element, not NULL
			continue
		}
		out[i] = textValue(s)
	}
	return out
}

func asString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("want a string, got %T", v)
}

func asInt(v any) (int64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case int16:
		return int64(v), nil
	}
	return 0, fmt.Errorf("want an integer, got %T", v)
}

func asUint(v any) (uint64, error) {
	if u, ok := v.(uint64); ok {
		return u, nil
	}
	return 0, fmt.Errorf("want an unsigned integer, got %T", v)
}

func asList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			s, err := asString(x)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list, got %T", v)
}
