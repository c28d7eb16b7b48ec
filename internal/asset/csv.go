package asset

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// ErrBadCSV marks a CSV file that cannot be imported at all: unreadable,
// empty, or without a hostname or ip column.
var ErrBadCSV = errors.New("asset: bad CSV file")

// MaxCSVErrors is the most problems ParseCSV reports; the rest are counted
// in one last problem.
const MaxCSVErrors = 1000

// LineError is one problem of a CSV import: the line (1 is the header),
// the column number and name when the problem is one cell's, and why.
type LineError struct {
	Line   int    `json:"line"`
	Column int    `json:"column,omitempty"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

// Error implements error.
func (e LineError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d (%s): %s", e.Line, e.Column, e.Name, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Row is one good row of a CSV file: its line and the fields it sets.
type Row struct {
	Line  int                `json:"line"`
	Patch statedb.AssetPatch `json:"patch"`
}

// CSV is a parsed CSV file: the good rows and every problem found.
type CSV struct {
	Rows   []Row
	Errors []LineError
	// fieldColumn maps statedb field names to their column, for reporting
	// the import's own errors.
	fieldColumn map[string]column
}

// column is one recognised column of the header.
type column struct {
	index int    // 0-based position
	name  string // as written in the header
	field string // statedb field name
}

// columnFields maps header names (lower case, '_' for spaces and dashes) to
// asset fields.
var columnFields = map[string]string{
	"hostname": "hostname", "host": "hostname",
	"ip": "addresses", "ips": "addresses", "address": "addresses", "addresses": "addresses",
	"mac": "mac", "owner": "owner", "role": "role", "criticality": "criticality", "tags": "tags",
	"expected_sources": "expected_sources", "notes": "notes",
}

// ParseCSV reads an asset CSV file (see the package documentation). Every
// problem of the header, a row or a cell is collected with its line and
// column; rows with problems are left out of Rows. The error, wrapping
// ErrBadCSV, is for input that cannot be used at all: unreadable, empty, or
// a header without a hostname or address column.
func ParseCSV(r io.Reader) (*CSV, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	out := &CSV{fieldColumn: map[string]column{}}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty; want a header row naming the columns", ErrBadCSV)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read the header: %w", ErrBadCSV, err)
	}
	cols, err := out.readHeader(slices.Clone(header))
	if err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			out.addError(LineError{Line: pe.Line, Column: pe.Column, Reason: pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCSV, err)
		}
		line, _ := cr.FieldPos(0)
		out.readRow(rec, line, len(header), cols)
	}
	return out, nil
}

// addError records a problem, up to MaxCSVErrors.
func (c *CSV) addError(e LineError) {
	switch {
	case len(c.Errors) < MaxCSVErrors:
		c.Errors = append(c.Errors, e)
	case len(c.Errors) == MaxCSVErrors:
		c.Errors = append(c.Errors, LineError{Line: e.Line, Reason: "too many problems; the rest are not listed"})
	}
}

// readHeader maps the header's columns to asset fields.
func (c *CSV) readHeader(header []string) ([]column, error) {
	var cols []column
	for i, h := range header {
		name := strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a byte order mark from spreadsheets
		key := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(name))
		field, ok := columnFields[key]
		switch {
		case !ok:
			c.addError(LineError{Line: 1, Column: i + 1, Name: name, Reason: "unknown column, ignored " +
				"(known: hostname, ip, mac, owner, role, criticality, tags, expected_sources, notes)"})
			continue
		case c.fieldColumn[field].name != "":
			c.addError(LineError{Line: 1, Column: i + 1, Name: name, Reason: fmt.Sprintf(
				"repeats column %d (%s), ignored", c.fieldColumn[field].index+1, c.fieldColumn[field].name)})
			continue
		}
		col := column{index: i, name: name, field: field}
		c.fieldColumn[field] = col
		cols = append(cols, col)
	}
	if c.fieldColumn["hostname"].name == "" && c.fieldColumn["addresses"].name == "" {
		return nil, fmt.Errorf("%w: the header %q has neither a hostname nor an ip column", ErrBadCSV,
			strings.Join(header, ","))
	}
	return cols, nil
}

// readRow parses one record; a good one is added to Rows.
func (c *CSV) readRow(rec []string, line, width int, cols []column) {
	if !slices.ContainsFunc(rec, func(f string) bool { return strings.TrimSpace(f) != "" }) {
		return // a blank line, or only separators
	}
	if len(rec) != width {
		c.addError(LineError{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), width)})
		return
	}
	var p statedb.AssetPatch
	bad := false
	for _, col := range cols {
		if err := setField(&p, col.field, rec[col.index]); err != nil {
			c.addError(LineError{Line: line, Column: col.index + 1, Name: col.name, Reason: err.Error()})
			bad = true
		}
	}
	if !bad {
		c.Rows = append(c.Rows, Row{Line: line, Patch: p})
	}
}

// setField checks one cell and sets its field in p.
func setField(p *statedb.AssetPatch, field, cell string) error {
	if !utf8.ValidString(cell) {
		return errors.New("not valid UTF-8")
	}
	v := strings.TrimSpace(cell)
	var err error
	switch field {
	case "hostname":
		p.Hostname = &v
	case "addresses":
		l := splitList(v)
		for i := range l {
			if l[i], err = statedb.NormalizeAddress(l[i]); err != nil {
				return err
			}
		}
		p.Addresses = &l
	case "mac":
		if v, err = statedb.NormalizeMAC(v); err != nil {
			return err
		}
		p.MAC = &v
	case "criticality":
		if v, err = statedb.ParseCriticality(v); err != nil {
			return err
		}
		p.Criticality = &v
	case "expected_sources":
		l := splitList(v)
		for i := range l {
			if l[i], err = statedb.NormalizeExpectedSource(l[i]); err != nil {
				return err
			}
		}
		p.ExpectedSources = &l
	case "tags":
		l := splitList(v)
		p.Tags = &l
	case "owner":
		p.Owner = &v
	case "role":
		p.Role = &v
	case "notes":
		p.Notes = &v
	}
	return nil
}

// splitList splits a list cell on ';', ',' and white space, dropping empty
// values. It never returns nil.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if f == nil {
		return []string{}
	}
	return f
}

// Importer stores asset rows; *statedb.DB is one.
type Importer interface {
	ImportAssets(ctx context.Context, rows []statedb.AssetPatch, key statedb.ImportKey) (statedb.ImportResult, error)
}

// ImportReport is the outcome of a CSV import: the counts of the rows
// applied and every problem, by line.
type ImportReport struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Skipped counts the data lines not imported because of a problem.
	Skipped int         `json:"skipped"`
	Errors  []LineError `json:"errors,omitempty"`
}

// ImportCSV parses a CSV file and imports its good rows into db, matching
// existing assets by key. The report holds the problems of the file and
// those the database found (a taken host name, an ambiguous address) by
// line. The error is for a file that cannot be used at all or a database
// failure.
func ImportCSV(ctx context.Context, db Importer, r io.Reader, key statedb.ImportKey) (ImportReport, error) {
	c, err := ParseCSV(r)
	if err != nil {
		return ImportReport{}, err
	}
	rows := make([]statedb.AssetPatch, len(c.Rows))
	for i := range c.Rows {
		rows[i] = c.Rows[i].Patch
	}
	res, err := db.ImportAssets(ctx, rows, key)
	if err != nil {
		return ImportReport{}, fmt.Errorf("asset: import: %w", err)
	}
	rep := ImportReport{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Errors: c.Errors}
	for _, ie := range res.Errors {
		le := LineError{Line: c.Rows[ie.Row].Line, Reason: ie.Reason}
		if col, ok := c.fieldColumn[ie.Field]; ok {
			le.Column, le.Name = col.index+1, col.name
		} else if ie.Field != "" {
			le.Reason = ie.Field + ": " + ie.Reason
		}
		rep.Errors = append(rep.Errors, le)
	}
	slices.SortStableFunc(rep.Errors, func(a, b LineError) int { return a.Line - b.Line })
	rep.Skipped = rowsWithErrors(rep.Errors)
	return rep, nil
}

// rowsWithErrors counts the distinct data lines (not the header) among errs.
func rowsWithErrors(errs []LineError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		if e.Line > 1 {
			lines[e.Line] = true
		}
	}
	return len(lines)
}
