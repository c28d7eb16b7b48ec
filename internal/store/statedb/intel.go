package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// migrationIntel creates the threat-intelligence tables: each configured
// source's fetch status and cursor, and the indicators it delivered. The
// columns the matcher needs are real columns so that building it reads no
// JSON; the rest of an indicator is in data.
const migrationIntel = `
CREATE TABLE intel_sources (
	name          TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	cursor        TEXT NOT NULL DEFAULT '',
	last_attempt  INTEGER,
	last_success  INTEGER,
	last_error    TEXT NOT NULL DEFAULT '',
	failures      INTEGER NOT NULL DEFAULT 0,
	indicators    INTEGER NOT NULL DEFAULT 0,
	problems      INTEGER NOT NULL DEFAULT 0,
	last_problems TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE intel_indicators (
	source      TEXT NOT NULL,
	type        TEXT NOT NULL,
	value       TEXT NOT NULL,
	confidence  INTEGER NOT NULL,
	valid_from  INTEGER,
	valid_until INTEGER,
	revoked     INTEGER NOT NULL DEFAULT 0,
	threat      TEXT NOT NULL DEFAULT '',
	tags        TEXT NOT NULL DEFAULT '[]',
	also        TEXT NOT NULL DEFAULT '',
	data        BLOB NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	hunted      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (source, type, value)
) WITHOUT ROWID;
CREATE INDEX intel_indicators_hunted ON intel_indicators (hunted) WHERE hunted = 0;
`

// intelChunk is how many indicators one write transaction stores.
const intelChunk = 20000

// maxProblemsKept bounds the problems kept per source.
const maxProblemsKept = 50

// indicatorDetails is the part of an indicator kept as JSON.
type indicatorDetails struct {
	ID          string `json:"id,omitempty"`
	Description string `json:"description,omitempty"`
}

// RecordIntelFetch stores the outcome of one fetch of a source in one
// transaction: its status, and on success its indicators. A full batch
// replaces the source's indicators (those no longer listed are withdrawn);
// an incremental one adds and updates. It returns how many indicators were
// new to the source.
//
// Indicators are written in chunks of intelChunk per transaction, so a
// feed of millions does not hold the writer for long; the status and the
// withdrawal of unlisted indicators come last, in one transaction.
func (d *DB) RecordIntelFetch(ctx context.Context, f intel.Fetched) (added int, err error) {
	ins := f.Batch.Indicators
	for f.Err == nil && len(ins) > 0 {
		chunk := ins[:min(len(ins), intelChunk)]
		ins = ins[len(chunk):]
		if err := d.write(ctx, func(tx *sql.Tx) error {
			return upsertIndicators(ctx, tx, f.Source, f.At, chunk)
		}); err != nil {
			return 0, err
		}
	}
	err = d.write(ctx, func(tx *sql.Tx) error {
		if err := touchIntelSource(ctx, tx, f); err != nil {
			return err
		}
		if f.Err != nil {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators WHERE source = ? AND first_seen = ?`,
			f.Source, nsOf(f.At)).Scan(&added); err != nil {
			return fmt.Errorf("statedb: count new indicators of %s: %w", f.Source, err)
		}
		if f.Batch.Full {
			if _, err := tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE source = ? AND last_seen < ?`,
				f.Source, nsOf(f.At)); err != nil {
				return fmt.Errorf("statedb: withdraw indicators of %s: %w", f.Source, err)
			}
		}
		return finishIntelSource(ctx, tx, f)
	})
	return added, err
}

func touchIntelSource(ctx context.Context, tx *sql.Tx, f intel.Fetched) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO intel_sources (name, kind, last_attempt) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, last_attempt = excluded.last_attempt`, f.Source, f.Kind, nsOf(f.At))
	if err != nil {
		return fmt.Errorf("statedb: intel source %s: %w", f.Source, err)
	}
	if f.Err != nil {
		_, err = tx.ExecContext(ctx, `UPDATE intel_sources SET last_error = ?, failures = failures + 1 WHERE name = ?`,
			f.Err.Error(), f.Source)
	}
	if err != nil {
		return fmt.Errorf("statedb: intel source %s: %w", f.Source, err)
	}
	return nil
}

func finishIntelSource(ctx context.Context, tx *sql.Tx, f intel.Fetched) error {
	probs := f.Batch.Problems
	if len(probs) > maxProblemsKept {
		probs = probs[:maxProblemsKept]
	}
	pj, err := json.Marshal(probs)
	if err != nil {
		return fmt.Errorf("statedb: intel source %s: %w", f.Source, err)
	}
	cursor := f.Batch.Cursor
	_, err = tx.ExecContext(ctx, `UPDATE intel_sources SET last_success = ?, last_error = '', failures = 0,
cursor = CASE WHEN ? = '' THEN cursor ELSE ? END, problems = ?, last_problems = ?,
indicators = (SELECT count(*) FROM intel_indicators WHERE source = ?) WHERE name = ?`,
		nsOf(f.At), cursor, cursor, len(f.Batch.Problems), string(pj), f.Source, f.Source)
	if err != nil {
		return fmt.Errorf("statedb: intel source %s: %w", f.Source, err)
	}
	return nil
}

// upsertIndicators writes indicators of one source seen at "at", several
// rows per statement. New rows get first_seen = at.
func upsertIndicators(ctx context.Context, tx *sql.Tx, source string, at time.Time, ins []intel.Indicator) error {
	now := nsOf(at)
	args := make([]any, 0, len(ins)*13)
	for i := range ins {
		in := &ins[i]
		tags := "[]"
		if len(in.Tags) > 0 {
			b, _ := json.Marshal(in.Tags)
			tags = string(b)
		}
		also := ""
		if len(in.Also) > 0 {
			b, _ := json.Marshal(in.Also)
			also = string(b)
		}
		data := []byte("{}")
		if in.ID != "" || in.Description != "" {
			data, _ = json.Marshal(indicatorDetails{ID: in.ID, Description: in.Description})
		}
		args = append(args, source, string(in.Type), in.Value, in.Confidence, toNS(in.ValidFrom), toNS(in.ValidUntil),
			in.Revoked, in.Threat, tags, also, data, now, now)
	}
	err := execMulti(ctx, tx, `INSERT INTO intel_indicators (source, type, value, confidence, valid_from,
valid_until, revoked, threat, tags, also, data, first_seen, last_seen)`, `ON CONFLICT (source, type, value) DO UPDATE SET
confidence = excluded.confidence, valid_from = excluded.valid_from, valid_until = excluded.valid_until,
revoked = excluded.revoked, threat = excluded.threat, tags = excluded.tags, also = excluded.also, data = excluded.data,
last_seen = excluded.last_seen`, 13, args)
	if err != nil {
		return fmt.Errorf("statedb: store indicators of %s: %w", source, err)
	}
	return nil
}

// IntelSources returns the status of every source that has been fetched.
func (d *DB) IntelSources(ctx context.Context) ([]intel.SourceStatus, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name, kind, cursor, last_attempt, last_success, last_error, failures,
indicators, problems, last_problems FROM intel_sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("statedb: read intel sources: %w", err)
	}
	defer rows.Close()
	var out []intel.SourceStatus
	for rows.Next() {
		var s intel.SourceStatus
		var attempt, success sql.NullInt64
		var probs string
		if err := rows.Scan(&s.Name, &s.Kind, &s.Cursor, &attempt, &success, &s.LastError, &s.Failures,
			&s.Indicators, &s.Problems, &probs); err != nil {
			return nil, fmt.Errorf("statedb: read intel sources: %w", err)
		}
		s.LastAttempt, s.LastSuccess = fromNS(attempt), fromNS(success)
		_ = json.Unmarshal([]byte(probs), &s.LastProblems)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: read intel sources: %w", err)
	}
	return out, nil
}

// IntelMatchable calls fn for every stored indicator with the fields the
// matcher needs (not ID and Description) and when its feed last listed it.
func (d *DB) IntelMatchable(ctx context.Context, fn func(in *intel.Indicator, lastSeen time.Time)) error {
	rows, err := d.db.QueryContext(ctx, `SELECT source, type, value, confidence, valid_from, valid_until, revoked,
threat, tags, also, last_seen FROM intel_indicators WHERE revoked = 0`)
	if err != nil {
		return fmt.Errorf("statedb: read indicators: %w", err)
	}
	defer rows.Close()
	var in intel.Indicator
	for rows.Next() {
		if err := scanIndicator(rows, &in, func(seen int64) { fn(&in, fromNS(sql.NullInt64{Int64: seen, Valid: true})) }); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("statedb: read indicators: %w", err)
	}
	return nil
}

func scanIndicator(rows *sql.Rows, in *intel.Indicator, then func(lastSeen int64)) error {
	var from, until sql.NullInt64
	var typ, tags, also string
	var seen int64
	*in = intel.Indicator{}
	if err := rows.Scan(&in.Source, &typ, &in.Value, &in.Confidence, &from, &until, &in.Revoked, &in.Threat, &tags,
		&also, &seen); err != nil {
		return fmt.Errorf("statedb: read indicators: %w", err)
	}
	in.Type, in.ValidFrom, in.ValidUntil = intel.Type(typ), fromNS(from), fromNS(until)
	if tags != "[]" && tags != "null" {
		_ = json.Unmarshal([]byte(tags), &in.Tags)
	}
	if also != "" {
		_ = json.Unmarshal([]byte(also), &in.Also)
	}
	then(seen)
	return nil
}

// IntelIndicator returns one stored indicator with all its details.
func (d *DB) IntelIndicator(ctx context.Context, source string, t intel.Type, value string) (intel.Indicator, bool, error) {
	var in intel.Indicator
	var from, until sql.NullInt64
	var tags, also string
	var data []byte
	err := d.db.QueryRowContext(ctx, `SELECT confidence, valid_from, valid_until, revoked, threat, tags, also, data
FROM intel_indicators WHERE source = ? AND type = ? AND value = ?`, source, string(t), value).Scan(&in.Confidence,
		&from, &until, &in.Revoked, &in.Threat, &tags, &also, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return in, false, nil
	}
	if err != nil {
		return in, false, fmt.Errorf("statedb: read indicator: %w", err)
	}
	in.Source, in.Type, in.Value, in.ValidFrom, in.ValidUntil = source, t, value, fromNS(from), fromNS(until)
	_ = json.Unmarshal([]byte(tags), &in.Tags)
	if also != "" {
		_ = json.Unmarshal([]byte(also), &in.Also)
	}
	var det indicatorDetails
	_ = json.Unmarshal(data, &det)
	in.ID, in.Description = det.ID, det.Description
	return in, true, nil
}

// IntelUnhunted returns up to limit indicators not yet retro-hunted.
func (d *DB) IntelUnhunted(ctx context.Context, limit int) ([]intel.Indicator, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT source, type, value, confidence, valid_from, valid_until, revoked,
threat, tags, also, last_seen FROM intel_indicators WHERE hunted = 0 LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("statedb: read unhunted indicators: %w", err)
	}
	defer rows.Close()
	var out []intel.Indicator
	for rows.Next() {
		var in intel.Indicator
		if err := scanIndicator(rows, &in, func(int64) {}); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: read unhunted indicators: %w", err)
	}
	return out, nil
}

// MarkHunted records that the indicators were retro-hunted.
func (d *DB) MarkHunted(ctx context.Context, ins []intel.Indicator) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE intel_indicators SET hunted = 1 WHERE source = ? AND type = ? AND value = ?`)
		if err != nil {
			return fmt.Errorf("statedb: mark hunted: %w", err)
		}
		defer stmt.Close() //nolint:errcheck // closing a prepared statement after the transaction is done
		for _, in := range ins {
			if _, err := stmt.ExecContext(ctx, in.Source, string(in.Type), in.Value); err != nil {
				return fmt.Errorf("statedb: mark hunted: %w", err)
			}
		}
		return nil
	})
}
