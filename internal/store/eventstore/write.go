package eventstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// dayBatch is the events of one partition in a Write.
type dayBatch struct {
	table    string
	day      time.Time
	idx      []int // indexes into the Write's events, in input order
	min, max time.Time
}

// Write appends events (their IDs already set by the ingest log) and
// records checkpoint as the highest ingest-log sequence stored, in one
// transaction: after a crash either both are there or neither.
//
// Events whose ingest sequence (schema.SplitID of their ID) is at or below
// the stored checkpoint are replays of stored events and are skipped, and
// the checkpoint never moves backwards. Events with a time DuckDB cannot
// hold (outside years 1 to 9999) are skipped and logged; the rest of the
// batch is stored.
//
// Write is serialised with other Writes and with EnforceRetention.
func (s *Store) Write(ctx context.Context, evs []schema.Event, checkpoint uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("eventstore: write: %w", err)
	}
	defer conn.Close()
	var created []string
	err = conn.Raw(func(dc any) error {
		var err error
		created, err = s.writeTx(ctx, dc.(driver.Conn), evs, checkpoint)
		return err
	})
	if err != nil {
		return fmt.Errorf("eventstore: write: %w", err)
	}
	for _, t := range created {
		s.known[t] = true
	}
	return nil
}

// writeTx writes in one transaction on dc and returns the partition tables
// it created.
func (s *Store) writeTx(ctx context.Context, dc driver.Conn, evs []schema.Event, checkpoint uint64) ([]string, error) {
	txer, ok := dc.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("driver connection has no transactions")
	}
	tx, err := txer.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	created, err := s.writeInTx(ctx, dc, evs, checkpoint)
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Join(err, tx.Rollback())
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			return nil, errors.Join(err, tx.Rollback())
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return created, nil
}

func (s *Store) writeInTx(ctx context.Context, dc driver.Conn, evs []schema.Event, checkpoint uint64) ([]string, error) {
	stored, err := readCheckpoint(ctx, dc)
	if err != nil {
		return nil, err
	}
	batches := s.group(evs, stored)
	var created []string
	for _, b := range batches {
		isNew := !s.known[b.table]
		if isNew {
			if _, err := execDriver(ctx, dc, s.layout.ddl(b.table)); err != nil {
				return nil, fmt.Errorf("create %s: %w", b.table, err)
			}
			created = append(created, b.table)
		}
		if err := s.appendBatch(dc, evs, b); err != nil {
			return nil, err
		}
		if err := recordPartition(ctx, dc, b, isNew); err != nil {
			return nil, err
		}
	}
	if err := upsertEdges(ctx, dc, rollupFlows(evs, batches)); err != nil {
		return nil, err
	}
	if checkpoint > stored {
		if _, err := execDriver(ctx, dc, `UPDATE checkpoint SET seq = `+strconv.FormatUint(checkpoint, 10)); err != nil {
			return nil, fmt.Errorf("update checkpoint: %w", err)
		}
	}
	return created, nil
}

func readCheckpoint(ctx context.Context, dc driver.Conn) (uint64, error) {
	q, ok := dc.(driver.QueryerContext)
	if !ok {
		return 0, errors.New("driver connection cannot query")
	}
	rows, err := q.QueryContext(ctx, `SELECT seq FROM checkpoint`, nil)
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	seq, err := asUint(dest[0])
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	return seq, nil
}

// group sorts the events to store into per-day batches, skipping replays
// (sequence at or below stored) and times DuckDB cannot hold.
func (s *Store) group(evs []schema.Event, stored uint64) []*dayBatch {
	byTable := make(map[string]*dayBatch)
	var order []*dayBatch
	for i := range evs {
		e := &evs[i]
		if seq, _ := schema.SplitID(e.ID); stored > 0 && seq <= stored {
			continue
		}
		if !storableTime(e.Timestamp) || !storableTime(e.Received) {
			s.log.Warn("event store skipped an event with an unstorable time",
				"id", e.ID, "timestamp", e.Timestamp, "received", e.Received)
			continue
		}
		ts := e.Timestamp.UTC()
		name := partitionName(ts)
		b := byTable[name]
		if b == nil {
			y, m, d := ts.Date()
			b = &dayBatch{table: name, day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), min: ts, max: ts}
			byTable[name] = b
			order = append(order, b)
		}
		b.idx = append(b.idx, i)
		if ts.Before(b.min) {
			b.min = ts
		}
		if ts.After(b.max) {
			b.max = ts
		}
	}
	slices.SortFunc(order, func(a, b *dayBatch) int { return a.day.Compare(b.day) })
	return order
}

// storableTime reports whether t fits a partition name and a TIMESTAMP.
func storableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// appendBatch appends one day's events; the appenders take part in the
// connection's open transaction.
func (s *Store) appendBatch(dc driver.Conn, evs []schema.Event, b *dayBatch) error {
	p := newPartAppender(dc, b.table, s.layout, &encoder{})
	for _, i := range b.idx {
		if err := p.append(&evs[i]); err != nil {
			return errors.Join(err, p.close())
		}
	}
	return p.close()
}

// recordPartition adds the batch to the catalogue: a new row for a table
// created in this transaction (the row and the table come and go together),
// else an update of the existing row.
func recordPartition(ctx context.Context, dc driver.Conn, b *dayBatch, isNew bool) error {
	var err error
	if isNew {
		_, err = execDriver(ctx, dc, `INSERT INTO partitions (name, day, min_ts, max_ts, events) VALUES (?, ?::DATE, ?, ?, ?)`,
			b.table, b.day.Format("2006-01-02"), b.min, b.max, int64(len(b.idx)))
	} else {
		_, err = execDriver(ctx, dc, `UPDATE partitions SET min_ts = least(min_ts, ?), max_ts = greatest(max_ts, ?),
			events = events + ? WHERE name = ?`, b.min, b.max, int64(len(b.idx)), b.table)
	}
	if err != nil {
		return fmt.Errorf("catalogue %s: %w", b.table, err)
	}
	return nil
}
