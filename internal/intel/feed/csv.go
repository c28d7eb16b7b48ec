package feed

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/intel"
)

// Column names a CSV column: a 1-based number ("2") or, with a header, the
// header's name for it ("dst_ip", matched without regard to case). ""
// means the column is not mapped.
type Column string

// Columns maps CSV columns to indicator fields. Only Value is required.
type Columns struct {
	Value       Column `yaml:"value"`
	Type        Column `yaml:"type"`
	ID          Column `yaml:"id"`
	Threat      Column `yaml:"threat"`
	Description Column `yaml:"description"`
	Confidence  Column `yaml:"confidence"`
	Tags        Column `yaml:"tags"`
	FirstSeen   Column `yaml:"first_seen"`
	LastSeen    Column `yaml:"last_seen"`
	ValidUntil  Column `yaml:"valid_until"`
	Port        Column `yaml:"port"`
}

// Header modes of a CSV feed.
const (
	HeaderNone    = "none"
	HeaderRow     = "row"
	HeaderComment = "comment"
)

// CSVOptions configures ReadCSV.
type CSVOptions struct {
	// Name is the file name or URL, for Problem locations.
	Name string
	// Header is HeaderNone (or ""), HeaderRow (the first row that is not a
	// comment names the columns) or HeaderComment (the last comment line
	// before the first row does, as in abuse.ch files).
	Header string
	// Comment starts a comment line; "" means "#".
	Comment string
	// Delimiter separates fields; 0 means ','.
	Delimiter rune
	Columns   Columns
	// Type fixes the type when Columns.Type is not mapped; "" detects it
	// per row with DetectType.
	Type intel.Type
	// TagSeparator splits the tags column; "" means ",".
	TagSeparator string
	// TimeFormat is the Go layout of time columns; "" accepts RFC 3339,
	// "2006-01-02 15:04:05", "2006-01-02" and Unix seconds, all UTC
	// unless they say otherwise.
	TimeFormat string
	// ValidFor, when positive, sets ValidUntil to the last-seen time plus
	// ValidFor for rows without a valid-until column value.
	ValidFor time.Duration
	// Tags are added to every indicator (a preset's "c2").
	Tags []string
}

// ReadCSV reads a CSV indicator feed, one indicator per row, with the
// column mapping of opts. Fields may be quoted (quotes inside unquoted
// fields are kept, leading spaces dropped); each line is one row, so a
// quoted field cannot span lines. Blank and comment lines are skipped.
// Rows that do not give a valid indicator become Problems at
// "name:line". The error is for a failed read of r or a header that lacks
// a named column; the indicators read before it are returned with it.
func ReadCSV(r io.Reader, opts CSVOptions) ([]intel.Indicator, []intel.Problem, error) {
	rd := csvReader{opts: opts, comment: opts.Comment}
	if rd.comment == "" {
		rd.comment = "#"
	}
	rd.reset()
	if opts.Header == "" || opts.Header == HeaderNone {
		if err := rd.resolve(nil); err != nil {
			return nil, nil, err
		}
	}
	br := bufio.NewReader(r)
	var lastComment string
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		text := strings.TrimSpace(line)
		switch {
		case text == "":
		case strings.HasPrefix(text, rd.comment):
			lastComment = strings.TrimSpace(strings.TrimPrefix(text, rd.comment))
		default:
			if ferr := rd.row(text, n, lastComment); ferr != nil {
				return rd.out, rd.probs, ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return rd.out, rd.probs, nil
		}
		if err != nil {
			return rd.out, rd.probs, fmt.Errorf("%s:%d: %w", opts.Name, n, err)
		}
	}
}

// csvReader is the state of one ReadCSV call.
type csvReader struct {
	opts    CSVOptions
	comment string
	// cr parses one line at a time, fed by feed.
	cr   *csv.Reader
	feed *lineFeeder
	// idx holds the 0-based index of each mapped column, -1 when unmapped;
	// nil until the header is known.
	idx   map[string]int
	out   []intel.Indicator
	probs []intel.Problem
}

// row handles one non-comment line.
func (rd *csvReader) row(text string, n int, lastComment string) error {
	if rd.idx == nil {
		hdrLine := text
		if rd.opts.Header == HeaderComment {
			hdrLine = lastComment
		}
		// Without a header, numbered columns still work and named ones
		// fail in resolve.
		hdr, _ := rd.split(hdrLine)
		if err := rd.resolve(hdr); err != nil {
			return fmt.Errorf("%s:%d: %w", rd.opts.Name, n, err)
		}
		if rd.opts.Header == HeaderRow {
			return nil
		}
	}
	where := fmt.Sprintf("%s:%d", rd.opts.Name, n)
	fields, err := rd.split(text)
	if err != nil {
		rd.probs = append(rd.probs, intel.Problem{Where: where, Reason: err.Error()})
		return nil
	}
	in, err := rd.indicator(fields)
	if err != nil {
		rd.probs = append(rd.probs, intel.Problem{Where: where, Reason: err.Error()})
		return nil
	}
	rd.out = append(rd.out, in)
	return nil
}

// lineFeeder hands one line at a time to a reused csv.Reader, so that a
// broken quote cannot swallow the lines after it.
type lineFeeder struct{ line string }

// Read implements io.Reader over the current line.
func (f *lineFeeder) Read(p []byte) (int, error) {
	if f.line == "" {
		return 0, io.EOF
	}
	n := copy(p, f.line)
	f.line = f.line[n:]
	return n, nil
}

// reset makes a fresh csv.Reader.
func (rd *csvReader) reset() {
	rd.feed = &lineFeeder{}
	rd.cr = csv.NewReader(rd.feed)
	rd.cr.LazyQuotes = true
	rd.cr.FieldsPerRecord = -1
	rd.cr.TrimLeadingSpace = true
	rd.cr.ReuseRecord = true
	if rd.opts.Delimiter != 0 {
		rd.cr.Comma = rd.opts.Delimiter
	}
}

// split parses one line into trimmed fields.
func (rd *csvReader) split(text string) ([]string, error) {
	rd.feed.line = text
	rec, err := rd.cr.Read()
	if err != nil || rd.feed.line != "" {
		rd.reset() // drop whatever the failed read left buffered
		if err == nil {
			err = errors.New("line not consumed")
		}
		return nil, fmt.Errorf("csv: %w", err)
	}
	for i, f := range rec {
		f = strings.TrimSpace(f)
		if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
			f = strings.TrimSpace(f[1 : len(f)-1])
		}
		rec[i] = f
	}
	return rec, nil
}

// columnNames are the mapped field names in columnPtrs order.
func columnNames() []string {
	return []string{"value", "type", "id", "threat", "description", "confidence", "tags",
		"first_seen", "last_seen", "valid_until", "port"}
}

// columnPtrs lists pointers to the columns in columnNames order.
func (c *Columns) columnPtrs() []*Column {
	return []*Column{&c.Value, &c.Type, &c.ID, &c.Threat, &c.Description, &c.Confidence, &c.Tags,
		&c.FirstSeen, &c.LastSeen, &c.ValidUntil, &c.Port}
}

// columnList pairs each mapped field name with its column.
func (c *Columns) columnList() [][2]string {
	names, ptrs := columnNames(), c.columnPtrs()
	out := make([][2]string, len(names))
	for i := range names {
		out[i] = [2]string{names[i], string(*ptrs[i])}
	}
	return out
}

// resolve turns the column mapping into indexes, looking names up in hdr.
func (rd *csvReader) resolve(hdr []string) error {
	rd.idx = map[string]int{}
	var missing []string
	for _, kv := range rd.opts.Columns.columnList() {
		i, err := columnIndex(kv[1], hdr)
		if err != nil {
			missing = append(missing, kv[0]+": "+err.Error())
		}
		rd.idx[kv[0]] = i
	}
	if rd.idx["value"] < 0 && len(missing) == 0 {
		missing = append(missing, "value: no column mapped")
	}
	if len(missing) > 0 {
		return fmt.Errorf("csv columns: %s", strings.Join(missing, "; "))
	}
	return nil
}

// columnIndex returns the 0-based index of column c, -1 when c is "".
func columnIndex(c string, hdr []string) (int, error) {
	if c == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(c); err == nil {
		if n < 1 {
			return -1, fmt.Errorf("column %d: columns count from 1", n)
		}
		return n - 1, nil
	}
	for i, h := range hdr {
		if strings.EqualFold(strings.TrimSpace(h), c) {
			return i, nil
		}
	}
	if hdr == nil {
		return -1, fmt.Errorf("column %q is a name but the feed has no header", c)
	}
	return -1, fmt.Errorf("no column %q in header %q", c, strings.Join(hdr, ","))
}

// field returns the value of mapped field name in rec, "" when unmapped or
// absent.
func (rd *csvReader) field(rec []string, name string) string {
	i := rd.idx[name]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// indicator builds the indicator of one row.
func (rd *csvReader) indicator(rec []string) (intel.Indicator, error) {
	v := rd.field(rec, "value")
	if v == "" {
		return intel.Indicator{}, fmt.Errorf("empty value in column %s", rd.opts.Columns.Value)
	}
	t := rd.opts.Type
	if s := rd.field(rec, "type"); s != "" {
		var err error
		if t, err = intel.ParseType(s); err != nil {
			return intel.Indicator{}, err
		}
	}
	in, err := listIndicator(v, t)
	if err != nil {
		return in, err
	}
	if err := rd.details(&in, rec); err != nil {
		return in, err
	}
	return in, nil
}

// details fills the optional fields of in from rec.
func (rd *csvReader) details(in *intel.Indicator, rec []string) error {
	in.ID = rd.field(rec, "id")
	in.Threat = rd.field(rec, "threat")
	in.Description = rd.field(rec, "description")
	if p := rd.field(rec, "port"); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return fmt.Errorf("port %q: not a port number", p)
		}
		in.Also = []intel.Condition{{Field: PortField, Value: p}}
	}
	if c := rd.field(rec, "confidence"); c != "" {
		conf, err := ParseConfidence(c)
		if err != nil {
			return err
		}
		in.Confidence = conf
	}
	in.Tags = appendTags(append([]string(nil), rd.opts.Tags...), rd.field(rec, "tags"), rd.opts.TagSeparator)
	var lastSeen time.Time
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"first_seen", &in.ValidFrom}, {"last_seen", &lastSeen}, {"valid_until", &in.ValidUntil}} {
		s := rd.field(rec, tf.name)
		if s == "" {
			continue
		}
		t, err := parseTime(s, rd.opts.TimeFormat)
		if err != nil {
			return fmt.Errorf("%s: %w", tf.name, err)
		}
		*tf.dst = t
	}
	if rd.opts.ValidFor > 0 && in.ValidUntil.IsZero() && !lastSeen.IsZero() {
		in.ValidUntil = lastSeen.Add(rd.opts.ValidFor)
	}
	return nil
}

// appendTags splits s by sep (default ",") and appends the tags, without
// brackets and quotes ("['a', 'b']" gives a and b) and without duplicates.
func appendTags(tags []string, s, sep string) []string {
	if sep == "" {
		sep = ","
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "None" || s == "[]" {
		return tags
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	for _, t := range strings.Split(s, sep) {
		t = strings.Trim(strings.TrimSpace(t), `"'`)
		if t != "" && utf8.ValidString(t) && !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseConfidence reads a confidence: an integer 0..100, or a threat level
// word: info 20, low 40, medium 60, high 80, critical 100.
func ParseConfidence(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "info", "informational":
		return 20, nil
	case "low":
		return 40, nil
	case "medium":
		return 60, nil
	case "high":
		return 80, nil
	case "critical":
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100 {
		return -1, fmt.Errorf("confidence %q: want 0..100 or info, low, medium, high, critical", s)
	}
	return n, nil
}

// timeLayouts are tried in turn when no time format is configured.
func timeLayouts() []string {
	return []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05 MST",
		"2006-01-02 15:04", "2006-01-02"}
}

// parseTime reads a time with layout, or one of the usual layouts or Unix
// seconds when layout is "".
func parseTime(s, layout string) (time.Time, error) {
	if layout != "" {
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return t.UTC(), nil
	}
	for _, l := range timeLayouts() {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, 2006-01-02 15:04:05, 2006-01-02 or Unix seconds", s)
}
