package eventstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
)

// Bucket is one time bucket of a histogram.
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// Histogram counts the events in [from, to) matching q per step (at least
// one second), oldest first; buckets without events are left out.
func (s *Store) Histogram(ctx context.Context, from, to time.Time, step time.Duration, q string) ([]Bucket, error) {
	if step < time.Second || from.IsZero() || to.IsZero() {
		return nil, fmt.Errorf("eventstore: histogram: want a time range and a step of at least 1s")
	}
	secs := int64(step / time.Second)
	sel := "CAST(floor(epoch(ts) / " + strconv.FormatInt(secs, 10) + ") AS BIGINT) AS b, count(*) AS n"
	rows := map[int64]int64{}
	err := s.aggregate(ctx, from, to, q, sel, "b", func(r *sql.Rows) error {
		var b, n int64
		if err := r.Scan(&b, &n); err != nil {
			return err
		}
		rows[b] += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eventstore: histogram: %w", err)
	}
	out := make([]Bucket, 0, len(rows))
	for b := from.Unix() / secs; b*secs < to.Unix(); b++ {
		if n, ok := rows[b]; ok {
			out = append(out, Bucket{Start: time.Unix(b*secs, 0).UTC(), Count: n})
		}
	}
	return out, nil
}

// Value is one value of a field and how many events have it.
type Value struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// TopValues returns the limit most frequent values of field (an ECS name or
// an original field) among the events in [from, to) matching q.
func (s *Store) TopValues(ctx context.Context, from, to time.Time, q, field string, limit int) ([]Value, error) {
	expr, err := s.fieldExpr(field)
	if err != nil {
		return nil, err
	}
	limit = max(1, min(limit, 1000))
	counts := map[string]int64{}
	err = s.aggregate(ctx, from, to, q, expr+" AS v, count(*) AS n", "v", func(r *sql.Rows) error {
		var v sql.NullString
		var n int64
		if err := r.Scan(&v, &n); err != nil {
			return err
		}
		if v.Valid && v.String != "" {
			counts[v.String] += n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eventstore: top values of %s: %w", field, err)
	}
	out := make([]Value, 0, len(counts))
	for v, n := range counts {
		out = append(out, Value{Value: v, Count: n})
	}
	sortValues(out)
	return out[:min(limit, len(out))], nil
}

// fieldExpr returns the SQL expression of a field as text.
func (s *Store) fieldExpr(field string) (string, error) {
	if c, ok := s.mapping.Columns[field]; ok {
		if c.Kind == query.List {
			return "array_to_string(" + c.Name + ", ',')", nil
		}
		return "CAST(" + c.Name + " AS VARCHAR)", nil
	}
	if field == "" || strings.ContainsAny(field, "'\"\\\x00") || len(field) > 200 {
		return "", fmt.Errorf("eventstore: invalid field name %q", field)
	}
	return "json_extract_string(" + s.mapping.FieldsColumn + ", '$.\"" + field + "\"')", nil
}

// aggregate runs "SELECT sel FROM partition WHERE time and q GROUP BY
// group" over each partition in [from, to) and calls fn for every row.
func (s *Store) aggregate(ctx context.Context, from, to time.Time, q, sel, group string, fn func(*sql.Rows) error) error {
	cq, err := query.Compile(q, s.mapping)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only transaction
	parts, err := partitions(ctx, tx, from, to, true)
	if err != nil {
		return err
	}
	for _, p := range parts {
		cond, args := where(from, to, cq, nil, true)
		rows, err := tx.QueryContext(ctx, "SELECT "+sel+" FROM "+p+" WHERE "+cond+" GROUP BY "+group, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// sortValues orders values by count, most first, then by value.
func sortValues(vs []Value) {
	slices.SortFunc(vs, func(a, b Value) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
}
