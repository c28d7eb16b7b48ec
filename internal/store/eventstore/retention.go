package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Stats describe the store's contents.
type Stats struct {
	Events     int64
	Partitions int
	// Oldest and Newest are the earliest and latest event times stored
	// (microsecond precision); zero when the store is empty.
	Oldest, Newest time.Time
	// Bytes is the size of the database file and its write-ahead log; 0
	// for an in-memory store.
	Bytes int64
}

type partitionInfo struct {
	name         string
	minTS, maxTS time.Time
	events       int64
}

// EnforceRetention deletes the events older than now minus the retention
// (by event time) and returns how many it deleted. Whole days older than
// the cutoff are dropped as tables; in the day that holds the cutoff the
// older rows are deleted, so the cutoff is exact to the microsecond. With
// no retention configured it does nothing.
func (s *Store) EnforceRetention(ctx context.Context, now time.Time) (int, error) {
	if s.opts.Retention <= 0 {
		return 0, nil
	}
	cutoff := now.Add(-s.opts.Retention).UTC().Truncate(time.Microsecond)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("eventstore: retention: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	old, err := oldPartitions(ctx, tx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("eventstore: retention: %w", err)
	}
	var deleted int64
	var dropped []string
	for _, p := range old {
		n, drop, err := trimPartition(ctx, tx, p, cutoff)
		if err != nil {
			return 0, fmt.Errorf("eventstore: retention: %s: %w", p.name, err)
		}
		deleted += n
		if drop {
			dropped = append(dropped, p.name)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM flow_edges WHERE hour < ?`, cutoff.Truncate(time.Hour)); err != nil {
		return 0, fmt.Errorf("eventstore: retention: flow rollup: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("eventstore: retention: commit: %w", err)
	}
	for _, name := range dropped {
		delete(s.known, name)
	}
	if deleted > 0 {
		s.log.Info("event store retention", "cutoff", cutoff, "deleted", deleted, "partitions_dropped", len(dropped))
	}
	return int(deleted), nil
}

func oldPartitions(ctx context.Context, tx *sql.Tx, cutoff time.Time) ([]partitionInfo, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, min_ts, max_ts, events FROM partitions WHERE min_ts < ? ORDER BY day`, cutoff)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partitionInfo
	for rows.Next() {
		var p partitionInfo
		if err := rows.Scan(&p.name, &p.minTS, &p.maxTS, &p.events); err != nil {
			return nil, err
		}
		if !validPartition(p.name) {
			return nil, fmt.Errorf("catalogue holds an invalid partition name %q", p.name)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// trimPartition drops a partition wholly before cutoff, or deletes its rows
// before cutoff. It returns the events deleted and whether it dropped the
// table.
func trimPartition(ctx context.Context, tx *sql.Tx, p partitionInfo, cutoff time.Time) (int64, bool, error) {
	if p.maxTS.Before(cutoff) {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+p.name); err != nil {
			return 0, false, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM partitions WHERE name = ?`, p.name); err != nil {
			return 0, false, err
		}
		return p.events, true, nil
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM "+p.name+" WHERE ts < ?", cutoff)
	if err != nil {
		return 0, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE partitions SET events = events - ?,
		min_ts = coalesce((SELECT min(ts) FROM `+p.name+`), min_ts) WHERE name = ?`, n, p.name)
	return n, false, err
}

// Stats returns the store's event count, partitions, time span and size.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var oldest, newest sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(events), 0)::BIGINT, min(min_ts), max(max_ts) FROM partitions`).
		Scan(&st.Partitions, &st.Events, &oldest, &newest)
	if err != nil {
		return Stats{}, fmt.Errorf("eventstore: stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest = oldest.Time.UTC()
	}
	if newest.Valid {
		st.Newest = newest.Time.UTC()
	}
	if s.path != "" && s.path != ":memory:" {
		for _, f := range []string{s.path, s.path + ".wal"} {
			fi, err := os.Stat(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return Stats{}, fmt.Errorf("eventstore: stats: %w", err)
			}
			st.Bytes += fi.Size()
		}
	}
	return st, nil
}
