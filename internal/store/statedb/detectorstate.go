package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// SaveDetectorState stores a snapshot of a detection consumer's detector
// state taken after it handled the ingest log up to seq, replacing the
// previous one. A snapshot older than the stored one is ignored.
func (d *DB) SaveDetectorState(ctx context.Context, consumer string, seq uint64, data []byte) error {
	if consumer == "" {
		return errors.New("statedb: save detector state: empty consumer name")
	}
	if seq > math.MaxInt64 {
		return fmt.Errorf("statedb: save detector state: sequence %d out of range", seq)
	}
	if data == nil {
		data = []byte{}
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO detector_state (consumer, seq, data, updated) VALUES (?, ?, ?, ?)
ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, data = excluded.data, updated = excluded.updated
WHERE excluded.seq >= detector_state.seq`, consumer, int64(seq), data, nsOf(d.now()))
		if err != nil {
			return fmt.Errorf("statedb: save detector state of %s: %w", consumer, err)
		}
		return nil
	})
}

// DetectorState returns the last snapshot saved for consumer and the log
// sequence it reflects; ok is false when there is none.
func (d *DB) DetectorState(ctx context.Context, consumer string) (seq uint64, data []byte, ok bool, err error) {
	var s int64
	err = d.db.QueryRowContext(ctx, `SELECT seq, data FROM detector_state WHERE consumer = ?`, consumer).Scan(&s, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil, false, nil
	case err != nil:
		return 0, nil, false, fmt.Errorf("statedb: read detector state of %s: %w", consumer, err)
	}
	return uint64(s), data, true, nil
}
