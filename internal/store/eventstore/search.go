package eventstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Search limits.
const (
	// DefaultLimit is the page size when SearchRequest.Limit is 0.
	DefaultLimit = 100
	// MaxLimit is the largest page; larger limits are reduced to it.
	MaxLimit = 10000
)

// ErrBadCursor is returned for a cursor Search did not issue.
var ErrBadCursor = errors.New("eventstore: invalid cursor")

// SearchRequest asks for a page of events.
type SearchRequest struct {
	// From and To bound the event time to [From, To); a zero From or To
	// leaves that side open.
	From, To time.Time
	// Query is in Vigil's query language (docs/query.md); "" matches all.
	Query string
	// Limit is the page size: 0 means DefaultLimit, and it is capped at
	// MaxLimit.
	Limit int
	// Cursor continues from the page that returned it as Next. The other
	// fields must be the same as for that page.
	Cursor string
	// Ascending orders oldest first; the default is newest first.
	Ascending bool
}

// SearchResult is one page of events.
type SearchResult struct {
	// Events are ordered by event time, then ID (descending unless the
	// request was Ascending).
	Events []schema.Event
	// Next is the cursor of the next page; "" when this is the last.
	Next string
	// Took is how long the search took.
	Took time.Duration
	// Partitions are the partition tables the search read, in the order
	// read.
	Partitions []string
}

// Plan describes how Count reads a query: the partitions it touches and
// the SQL it runs.
type Plan struct {
	Partitions []string
	SQL        string
	Args       []any
}

// position is where a page ends: the last event's time (as stored:
// microseconds plus the nanoseconds below) and ID.
type position struct {
	micros int64
	nanos  uint16
	id     uint64
}

func (p position) encode() string {
	b := make([]byte, 0, 1+8+2+8)
	b = append(b, 1) // cursor format version
	b = binary.BigEndian.AppendUint64(b, uint64(p.micros))
	b = binary.BigEndian.AppendUint16(b, p.nanos)
	b = binary.BigEndian.AppendUint64(b, p.id)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 19 || b[0] != 1 {
		return position{}, fmt.Errorf("%w %q", ErrBadCursor, s)
	}
	p := position{
		micros: int64(binary.BigEndian.Uint64(b[1:9])),
		nanos:  binary.BigEndian.Uint16(b[9:11]),
		id:     binary.BigEndian.Uint64(b[11:19]),
	}
	if p.nanos >= 1000 {
		return position{}, fmt.Errorf("%w %q", ErrBadCursor, s)
	}
	return p, nil
}

func positionOf(e *schema.Event) position {
	t := e.Timestamp.UTC()
	return position{micros: t.UnixMicro(), nanos: uint16(t.Nanosecond() % 1000), id: e.ID}
}

// Search returns one page of the events in [r.From, r.To) that match
// r.Query. Query errors wrap *query.Error; cursor errors wrap ErrBadCursor.
func (s *Store) Search(ctx context.Context, r SearchRequest) (SearchResult, error) {
	start := time.Now()
	q, err := query.Compile(r.Query, s.mapping)
	if err != nil {
		return SearchResult{}, fmt.Errorf("eventstore: search: %w", err)
	}
	limit := r.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	var cur *position
	if r.Cursor != "" {
		p, err := decodeCursor(r.Cursor)
		if err != nil {
			return SearchResult{}, err
		}
		cur = &p
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return SearchResult{}, fmt.Errorf("eventstore: search: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only transaction
	res, err := s.searchTx(ctx, tx, r, q, limit, cur)
	if err != nil {
		return SearchResult{}, fmt.Errorf("eventstore: search: %w", err)
	}
	res.Took = time.Since(start)
	return res, nil
}

// searchTx reads the overlapping partitions in time order until the page
// (plus one event, to know whether there is a next page) is full.
func (s *Store) searchTx(ctx context.Context, tx *sql.Tx, r SearchRequest, q query.SQL, limit int, cur *position) (SearchResult, error) {
	from, to := r.From, r.To
	if cur != nil {
		ct := time.UnixMicro(cur.micros).UTC()
		if r.Ascending && (from.IsZero() || ct.After(from)) {
			from = ct
		} else if !r.Ascending && (to.IsZero() || ct.Before(to)) {
			to = ct.Add(time.Microsecond)
		}
	}
	parts, err := partitions(ctx, tx, from, to, r.Ascending)
	if err != nil {
		return SearchResult{}, err
	}
	var res SearchResult
	dec := &decoder{}
	for _, p := range parts {
		if len(res.Events) > limit {
			break
		}
		res.Partitions = append(res.Partitions, p)
		sqlText, args := s.pageSQL(p, r, q, cur, limit+1-len(res.Events))
		if res.Events, err = s.scanEvents(ctx, tx, res.Events, dec, sqlText, args); err != nil {
			return SearchResult{}, fmt.Errorf("%s: %w", p, err)
		}
	}
	if len(res.Events) > limit {
		res.Events = res.Events[:limit]
		res.Next = positionOf(&res.Events[limit-1]).encode()
	}
	return res, nil
}

// partitions lists the partitions whose events may fall in [from, to), in
// time order (newest first unless asc).
func partitions(ctx context.Context, tx *sql.Tx, from, to time.Time, asc bool) ([]string, error) {
	var conds []string
	var args []any
	if !from.IsZero() {
		conds = append(conds, "max_ts >= ?")
		args = append(args, from.UTC().Truncate(time.Microsecond))
	}
	if !to.IsZero() {
		conds = append(conds, "min_ts < ?")
		args = append(args, ceilMicro(to))
	}
	stmt := "SELECT name FROM partitions"
	if len(conds) > 0 {
		stmt += " WHERE " + strings.Join(conds, " AND ")
	}
	stmt += " ORDER BY day"
	if !asc {
		stmt += " DESC"
	}
	rows, err := tx.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("read partitions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read partitions: %w", err)
		}
		if !validPartition(name) {
			return nil, fmt.Errorf("catalogue holds an invalid partition name %q", name)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partitions: %w", err)
	}
	return out, nil
}

// validPartition reports whether name is a partition table name
// (events_YYYYMMDD); names are spliced into SQL, so the catalogue's are
// checked.
func validPartition(name string) bool {
	digits, ok := strings.CutPrefix(name, "events_")
	if !ok || len(digits) != 8 {
		return false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ceilMicro rounds t up to the next microsecond.
func ceilMicro(t time.Time) time.Time {
	t = t.UTC()
	if tr := t.Truncate(time.Microsecond); !tr.Equal(t) {
		return tr.Add(time.Microsecond)
	}
	return t
}

// where builds the condition of one partition: time range, cursor and
// query.
func where(from, to time.Time, q query.SQL, cur *position, asc bool) (string, []any) {
	var conds []string
	var args []any
	if !from.IsZero() {
		c, a := timeBound(from, true)
		conds, args = append(conds, c), append(args, a...)
	}
	if !to.IsZero() {
		c, a := timeBound(to, false)
		conds, args = append(conds, c), append(args, a...)
	}
	if cur != nil {
		op := ">"
		if !asc {
			op = "<"
		}
		ct := time.UnixMicro(cur.micros).UTC()
		conds = append(conds, fmt.Sprintf("(ts %[1]s ? OR (ts = ? AND (ts_ns %[1]s ? OR (ts_ns = ? AND id %[1]s %[2]s))))",
			op, strconv.FormatUint(cur.id, 10)))
		args = append(args, ct, ct, int64(cur.nanos), int64(cur.nanos))
	}
	conds = append(conds, "("+q.Where+")")
	args = append(args, q.Args...)
	return strings.Join(conds, " AND "), args
}

// timeBound returns ts >= t (lower) or ts < t (upper), exact to the
// nanosecond through the ts_ns column.
func timeBound(t time.Time, lower bool) (string, []any) {
	t = t.UTC()
	micro := t.Truncate(time.Microsecond)
	ns := int64(t.Nanosecond() % 1000)
	switch {
	case lower && ns == 0:
		return "ts >= ?", []any{micro}
	case lower:
		return "(ts > ? OR (ts = ? AND ts_ns >= ?))", []any{micro, micro, ns}
	case ns == 0:
		return "ts < ?", []any{micro}
	default:
		return "(ts < ? OR (ts = ? AND ts_ns < ?))", []any{micro, micro, ns}
	}
}

func (s *Store) pageSQL(table string, r SearchRequest, q query.SQL, cur *position, n int) (string, []any) {
	cond, args := where(r.From, r.To, q, cur, r.Ascending)
	order := "ts, ts_ns, id"
	if !r.Ascending {
		order = "ts DESC, ts_ns DESC, id DESC"
	}
	return "SELECT " + s.layout.selectList() + " FROM " + table + " WHERE " + cond +
		" ORDER BY " + order + " LIMIT " + strconv.Itoa(n), args
}

func (s *Store) scanEvents(ctx context.Context, tx *sql.Tx, out []schema.Event, dec *decoder, stmt string, args []any) ([]schema.Event, error) {
	rows, err := tx.QueryContext(ctx, stmt, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	vals := make([]any, s.layout.width)
	ptrs := make([]any, s.layout.width)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return out, err
		}
		e, err := s.layout.event(vals, dec)
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Count returns how many events in [from, to) match query.
func (s *Store) Count(ctx context.Context, from, to time.Time, q string) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("eventstore: count: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only transaction
	p, err := s.plan(ctx, tx, from, to, q)
	if err != nil {
		return 0, fmt.Errorf("eventstore: count: %w", err)
	}
	if len(p.Partitions) == 0 {
		return 0, nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, p.SQL, p.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("eventstore: count: %w", err)
	}
	return n, nil
}

// Plan returns the partitions Count would read for the arguments and the
// SQL it would run (a UNION ALL of one count per partition).
func (s *Store) Plan(ctx context.Context, from, to time.Time, q string) (Plan, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Plan{}, fmt.Errorf("eventstore: plan: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only transaction
	p, err := s.plan(ctx, tx, from, to, q)
	if err != nil {
		return Plan{}, fmt.Errorf("eventstore: plan: %w", err)
	}
	return p, nil
}

func (s *Store) plan(ctx context.Context, tx *sql.Tx, from, to time.Time, src string) (Plan, error) {
	q, err := query.Compile(src, s.mapping)
	if err != nil {
		return Plan{}, err
	}
	parts, err := partitions(ctx, tx, from, to, true)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Partitions: parts}
	if len(parts) == 0 {
		return p, nil
	}
	cond, args := where(from, to, q, nil, true)
	selects := make([]string, len(parts))
	for i, t := range parts {
		selects[i] = "SELECT count(*) AS n FROM " + t + " WHERE " + cond
		p.Args = append(p.Args, args...)
	}
	p.SQL = "SELECT coalesce(sum(n), 0)::BIGINT FROM (" + strings.Join(selects, " UNION ALL ") + ")"
	return p, nil
}
