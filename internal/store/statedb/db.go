// Package statedb is Vigil's state database: the small, transactional facts
// beside the event store. It keeps sources (host × input) and their counters,
// dead letters (rejected records), API tokens, alerts with their grouping and
// workflow status, detection consumer checkpoints, and settings.
//
// It runs on SQLite through modernc.org/sqlite (pure Go) in WAL mode: many
// readers proceed while one writer commits. Writes from this process are
// serialised by a semaphore before they reach SQLite, so they queue in Go
// instead of spinning on SQLite's busy handler; the busy timeout still covers
// other processes (a backup tool, the sqlite3 shell).
//
// Times are stored as INTEGER nanoseconds since the Unix epoch (UTC). A NULL
// or 0 means "not known" and reads back as the zero time.Time.
package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNotFound is returned when a looked-up row (alert, token, setting) does
// not exist.
var ErrNotFound = errors.New("statedb: not found")

// DefaultDeadLetterLimit is how many dead letters are kept unless
// WithDeadLetterLimit says otherwise; older ones are pruned.
const DefaultDeadLetterLimit = 100_000

// defaultMaxOpenConns bounds the pool. WAL lets readers run beside the one
// writer; a handful of connections is plenty for an API and a few consumers
// and keeps SQLite's per-connection page cache small.
const defaultMaxOpenConns = 4

// busyTimeoutMS is how long SQLite waits on a lock held by another process
// before it answers SQLITE_BUSY.
const busyTimeoutMS = 5000

// DB is the state database. It is safe for concurrent use.
type DB struct {
	db  *sql.DB
	log *slog.Logger
	// wsem serialises write transactions of this process (capacity 1).
	wsem chan struct{}
	// now is the clock; tests replace it before the DB is shared.
	now func() time.Time
	// deadLetterLimit is the most dead letters kept.
	deadLetterLimit int64
	// lastPrune is the Unix minute source_minutes was last pruned.
	lastPrune atomic.Int64
}

// Option adjusts how Open sets up the database.
type Option func(*options)

type options struct {
	deadLetterLimit int64
	maxOpenConns    int
}

// WithDeadLetterLimit sets how many dead letters are kept (at least 1).
func WithDeadLetterLimit(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.deadLetterLimit = n
		}
	}
}

// WithMaxOpenConns sets the connection pool size (at least 2: one writer and
// one reader).
func WithMaxOpenConns(n int) Option {
	return func(o *options) {
		if n >= 2 {
			o.maxOpenConns = n
		}
	}
}

// Open opens or creates the state database at path, switches it to WAL mode
// with a busy timeout and foreign keys on, and applies any pending schema
// migrations in order, each in its own transaction. It refuses a database
// whose schema is newer than this build knows (ErrSchemaTooNew).
func Open(ctx context.Context, path string, log *slog.Logger, opts ...Option) (*DB, error) {
	d, err := openDB(ctx, path, log, opts...)
	if err != nil {
		return nil, err
	}
	ms := migrations()
	applied, err := migrate(ctx, d, ms)
	if err != nil {
		d.db.Close()
		return nil, err
	}
	if applied > 0 {
		log.Info("state database migrated", "path", path, "applied", applied, "version", len(ms))
	}
	return d, nil
}

// openDB opens the database and checks its pragmas, without migrating.
func openDB(ctx context.Context, path string, log *slog.Logger, opts ...Option) (*DB, error) {
	if log == nil {
		return nil, errors.New("statedb: nil logger")
	}
	o := options{deadLetterLimit: DefaultDeadLetterLimit, maxOpenConns: defaultMaxOpenConns}
	for _, opt := range opts {
		opt(&o)
	}
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, err
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("statedb: open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(o.maxOpenConns)
	sdb.SetMaxIdleConns(o.maxOpenConns)
	d := &DB{
		db:              sdb,
		log:             log,
		wsem:            make(chan struct{}, 1),
		now:             time.Now,
		deadLetterLimit: o.deadLetterLimit,
	}
	if err := d.checkPragmas(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("statedb: open %s: %w", path, err)
	}
	return d, nil
}

// dataSourceName builds the driver DSN: an absolute file: URI with the
// per-connection pragmas. Write transactions begin IMMEDIATE so they take the
// write lock up front and never fail on a read-to-write lock upgrade.
func dataSourceName(path string) (string, error) {
	if path == "" || path == ":memory:" {
		return "", fmt.Errorf("statedb: need a database file path, got %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("statedb: resolve %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	// url.URL renders "file:///abs"; SQLite wants "file:/abs" without an
	// authority, which "file:" + escaped path gives.
	return "file:" + u.EscapedPath() + "?" + u.RawQuery, nil
}

// checkPragmas confirms the pragmas took effect; WAL can be refused on some
// file systems, and running without it would make readers block the writer.
func (d *DB) checkPragmas(ctx context.Context) error {
	var mode string
	if err := d.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var fk int
	if err := d.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk != 1 {
		return errors.New("foreign keys could not be enabled")
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("statedb: close: %w", err)
	}
	return nil
}

// write runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise. Only one write transaction of this DB runs at a
// time; waiting for the turn honours ctx.
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	select {
	case d.wsem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("statedb: wait for write: %w", ctx.Err())
	}
	defer func() { <-d.wsem }()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("statedb: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			d.log.Warn("state database rollback failed", "err", rbErr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("statedb: commit: %w", err)
	}
	return nil
}

// Nanosecond bounds of the int64 range; times outside are clamped.
const (
	minNS = math.MinInt64 + 1
	maxNS = math.MaxInt64
)

// toNS converts t to stored nanoseconds: NULL for the zero time, clamped to
// the int64 range otherwise.
func toNS(t time.Time) sql.NullInt64 {
	switch {
	case t.IsZero():
		return sql.NullInt64{}
	case t.Before(time.Unix(0, minNS)):
		return sql.NullInt64{Int64: minNS, Valid: true}
	case t.After(time.Unix(0, maxNS)):
		return sql.NullInt64{Int64: maxNS, Valid: true}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// nsOf is toNS for values that are never NULL (zero time stores 0).
func nsOf(t time.Time) int64 { return toNS(t).Int64 }

// fromNS converts stored nanoseconds back to a UTC time; NULL and 0 give the
// zero time.
func fromNS(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}
