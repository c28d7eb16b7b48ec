package eventstore

import (
	"database/sql/driver"
	"errors"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Appending is where most of a write's CPU goes. duckdb-go's appender
// makes one cgo call per NULL value and one per string, and an event sets
// only a few of a partition's ~80 columns. So events are appended through
// appenders restricted to the columns they set (DuckDB fills the others
// with NULL, a column at a time): a batch from one source has only a few
// such column sets.
const (
	// maxSubsetAppenders caps the column sets one partition's write
	// appends through; events with further sets go through an appender of
	// every column.
	maxSubsetAppenders = 16
	// flushRows is how many rows an appender buffers before moving them
	// into the transaction's storage, keeping its buffer small.
	flushRows = 4 * 2048
	// maskWords is the size of a colMask in 64-bit words; the layout has
	// at most 64*maskWords columns (checked by a test).
	maskWords = 2
)

// colMask is a set of layout columns: bit i is column i.
type colMask [maskWords]uint64

// subsetAppender appends rows that set exactly its columns.
type subsetAppender struct {
	app  *duckdb.Appender
	cols []int // layout column indexes; nil means every column
	rows int   // rows appended since the last flush
}

// partAppender appends one write's events to one partition table, inside
// the connection's open transaction. It is not safe for concurrent use.
type partAppender struct {
	dc    driver.Conn
	table string
	l     *layout
	enc   *encoder
	bySet map[colMask]*subsetAppender
	all   *subsetAppender
	row   []driver.Value // the event being appended, every column
	sub   []driver.Value // its set columns
}

func newPartAppender(dc driver.Conn, table string, l *layout, enc *encoder) *partAppender {
	return &partAppender{
		dc: dc, table: table, l: l, enc: enc,
		bySet: make(map[colMask]*subsetAppender),
		row:   make([]driver.Value, l.width),
		sub:   make([]driver.Value, 0, l.width),
	}
}

// append adds one event.
func (p *partAppender) append(e *schema.Event) error {
	p.l.row(e, p.row, p.enc)
	var set colMask
	for i, v := range p.row {
		if v != nil {
			set[i>>6] |= 1 << (i & 63)
		}
	}
	a, err := p.appender(set)
	if err != nil {
		return err
	}
	vals := p.row
	if a.cols != nil {
		vals = p.sub[:0]
		for _, c := range a.cols {
			vals = append(vals, p.row[c])
		}
	}
	if err := a.app.AppendRow(vals...); err != nil {
		return fmt.Errorf("append event %d to %s: %w", e.ID, p.table, err)
	}
	if a.rows++; a.rows == flushRows {
		a.rows = 0
		if err := a.app.Flush(); err != nil {
			return fmt.Errorf("flush %s: %w", p.table, err)
		}
	}
	return nil
}

// appender returns the appender for rows that set the columns in set,
// creating it on first use.
func (p *partAppender) appender(set colMask) (*subsetAppender, error) {
	if a := p.bySet[set]; a != nil {
		return a, nil
	}
	var cols []int
	for i := range p.l.width {
		if set[i>>6]&(1<<(i&63)) != 0 {
			cols = append(cols, i)
		}
	}
	if len(cols) == p.l.width || len(p.bySet) == maxSubsetAppenders {
		return p.allColumns()
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = p.l.names[c]
	}
	app, err := duckdb.NewAppenderWithColumns(p.dc, "", "", p.table, names)
	if err != nil {
		return nil, fmt.Errorf("appender for %s: %w", p.table, err)
	}
	a := &subsetAppender{app: app, cols: cols}
	p.bySet[set] = a
	return a, nil
}

func (p *partAppender) allColumns() (*subsetAppender, error) {
	if p.all == nil {
		app, err := duckdb.NewAppenderFromConn(p.dc, "", p.table)
		if err != nil {
			return nil, fmt.Errorf("appender for %s: %w", p.table, err)
		}
		p.all = &subsetAppender{app: app}
	}
	return p.all, nil
}

// close flushes and closes every appender. After an append error it still
// must be called, to release them.
func (p *partAppender) close() error {
	var errs []error
	for _, a := range p.bySet {
		errs = append(errs, a.app.Close())
	}
	if p.all != nil {
		errs = append(errs, p.all.app.Close())
	}
	clear(p.row)
	clear(p.sub[:cap(p.sub)])
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flush %s: %w", p.table, err)
	}
	return nil
}
