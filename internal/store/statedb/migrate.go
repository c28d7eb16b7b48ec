package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned by Open when the database was written by a
// newer Vigil whose schema this build does not know. Opening it anyway could
// corrupt data the newer build relies on.
var ErrSchemaTooNew = errors.New("statedb: database schema is newer than this build")

// migration is one schema step. Versions run 1, 2, 3, ... without gaps; a
// released migration is never edited, only followed by a new one.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the schema steps in order.
func migrations() []migration {
	return []migration{
		{1, "sources, dead letters, api tokens, settings", migration1},
		{2, "alerts and detection consumer checkpoints", migration2},
		{3, "per-minute source counters", migration3},
		{4, "detector state snapshots", migration4},
		{5, "asset inventory", migrationAssets},
		{6, "threat intelligence sources and indicators", migrationIntel},
		{7, "users, sessions and the audit log", migrationUsers},
		{8, "vulnerability scans and findings", migrationVulns},
		{9, "alert triage: assignee, disposition, timeline", migrationTriage},
	}
}

const migration1 = `
CREATE TABLE sources (
	host         TEXT    NOT NULL,
	input        TEXT    NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	first_event  INTEGER,
	last_event   INTEGER,
	events       INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	parse_errors INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input)
) WITHOUT ROWID;

CREATE TABLE source_errors (
	host   TEXT    NOT NULL,
	input  TEXT    NOT NULL,
	reason TEXT    NOT NULL,
	count  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input, reason),
	FOREIGN KEY (host, input) REFERENCES sources (host, input) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE dead_letters (
	id        INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	input     TEXT    NOT NULL,
	source    TEXT    NOT NULL,
	reason    TEXT    NOT NULL,
	detail    TEXT    NOT NULL,
	raw       BLOB    NOT NULL,
	raw_len   INTEGER NOT NULL,
	truncated INTEGER NOT NULL
);
CREATE INDEX dead_letters_source ON dead_letters (source, id);
CREATE INDEX dead_letters_reason ON dead_letters (reason, id);
CREATE INDEX dead_letters_input ON dead_letters (input, id);

CREATE TABLE api_tokens (
	id        TEXT    PRIMARY KEY,
	name      TEXT    NOT NULL,
	role      TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),
	prefix    TEXT    NOT NULL,
	hash      BLOB    NOT NULL UNIQUE,
	created   INTEGER NOT NULL,
	last_used INTEGER,
	revoked   INTEGER
);
CREATE INDEX api_tokens_prefix ON api_tokens (prefix);

CREATE TABLE settings (
	key     TEXT    PRIMARY KEY,
	value   TEXT    NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;
`

const migration2 = `
CREATE TABLE alerts (
	id                 TEXT    PRIMARY KEY,
	dedup_key          TEXT    NOT NULL,
	rule_id            TEXT    NOT NULL,
	rule_name          TEXT    NOT NULL,
	kind               TEXT    NOT NULL,
	title              TEXT    NOT NULL,
	severity           INTEGER NOT NULL,
	priority           INTEGER NOT NULL,
	first_seen         INTEGER NOT NULL,
	last_seen          INTEGER NOT NULL,
	created            INTEGER NOT NULL,
	updated            INTEGER NOT NULL,
	host               TEXT    NOT NULL,
	source_ip          TEXT    NOT NULL,
	destination_ip     TEXT    NOT NULL,
	destination_domain TEXT    NOT NULL,
	user_name          TEXT    NOT NULL,
	tags               TEXT    NOT NULL,
	evidence_ids       TEXT    NOT NULL,
	status             TEXT    NOT NULL
		CHECK (status IN ('new', 'acknowledged', 'investigating', 'resolved')),
	count              INTEGER NOT NULL,
	details            TEXT    NOT NULL
);
CREATE INDEX alerts_dedup     ON alerts (dedup_key, last_seen);
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_status    ON alerts (status, last_seen, id);
CREATE INDEX alerts_kind      ON alerts (kind, last_seen, id);
CREATE INDEX alerts_host      ON alerts (host, last_seen, id);
CREATE INDEX alerts_rule      ON alerts (rule_id, last_seen, id);

CREATE TABLE consumer_checkpoints (
	consumer TEXT    PRIMARY KEY,
	seq      INTEGER NOT NULL,
	updated  INTEGER NOT NULL
) WITHOUT ROWID;
`

const migration3 = `
CREATE TABLE source_minutes (
	host   TEXT    NOT NULL,
	input  TEXT    NOT NULL,
	minute INTEGER NOT NULL,
	events INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (host, input, minute),
	FOREIGN KEY (host, input) REFERENCES sources (host, input) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX source_minutes_minute ON source_minutes (minute);
`

const migration4 = `
CREATE TABLE detector_state (
	consumer TEXT    PRIMARY KEY,
	seq      INTEGER NOT NULL,
	data     BLOB    NOT NULL,
	updated  INTEGER NOT NULL
) WITHOUT ROWID;
`

// migrate brings the database up to the last of ms, one migration per
// transaction, and returns how many it applied. Each transaction re-reads the
// version, so two processes starting at once apply every step once.
func migrate(ctx context.Context, d *DB, ms []migration) (int, error) {
	for i, m := range ms {
		if m.version != i+1 {
			return 0, fmt.Errorf("statedb: migration %d has version %d; versions must run 1, 2, 3 in order", i, m.version)
		}
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name    TEXT    NOT NULL,
	applied INTEGER NOT NULL
)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("statedb: create schema_migrations: %w", err)
	}
	applied := 0
	for {
		done := false
		err := d.write(ctx, func(tx *sql.Tx) error {
			cur, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			switch {
			case cur > len(ms):
				return fmt.Errorf("%w: the database is at schema version %d but this build knows versions up to %d; "+
					"run a newer Vigil or restore a backup taken before the upgrade", ErrSchemaTooNew, cur, len(ms))
			case cur == len(ms):
				done = true
				return nil
			}
			return applyMigration(ctx, tx, ms[cur], d.now().UnixNano())
		})
		if err != nil {
			return applied, err
		}
		if done {
			return applied, nil
		}
		applied++
	}
}

// applyMigration runs m's SQL and records it, inside tx.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration, now int64) error {
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("statedb: migration %d (%s): %w", m.version, m.name, err)
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`, m.version, m.name, now)
	if err != nil {
		return fmt.Errorf("statedb: record migration %d: %w", m.version, err)
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("statedb: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// SchemaVersion returns the database's schema version: the number of
// migrations applied.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, d.db)
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
