// Package eventstore keeps normalised events in DuckDB and searches them
// with Vigil's query language (package query).
//
// Events are partitioned by the UTC day of their event time: one table per
// day (events_YYYYMMDD), created on demand, and a catalogue table
// (partitions) with each day's first and last event time and its event
// count. Searches and counts read only the partitions whose event times
// overlap the requested range, and also filter on the time column. Count
// runs one UNION ALL over those partitions; Search reads them one at a time
// in page order (newest first unless ascending) and stops once the page is
// full, so a recent page of a long range reads only the latest days.
// Retention drops whole day tables and trims the boundary day.
//
// Events read back exactly as written, with two normalisations: times are
// in UTC, and empty lists and fields read back as nil.
//
// Concurrency: Write and EnforceRetention serialise on an internal lock, so
// writes happen one at a time (callers should write from one goroutine to
// avoid waiting). Search, Count, Plan and Stats may run at any time,
// concurrently with each other and with writes; each reads one consistent
// snapshot.
package eventstore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vigil-soc/vigil/internal/query"
)

// Options configure a Store.
type Options struct {
	// Retention is how long events are kept, by event time; 0 keeps them
	// forever. EnforceRetention applies it.
	Retention time.Duration
	// MemoryLimit is DuckDB's memory_limit (for example "2GB"); "" keeps
	// DuckDB's default (80% of RAM).
	MemoryLimit string
	// Threads is DuckDB's worker thread count; 0 keeps its default (one per
	// core).
	Threads int
	// CheckpointThreshold is the write-ahead log size at which a commit
	// folds the log into the database file (DuckDB's
	// checkpoint_threshold); "" means DefaultCheckpointThreshold. Larger
	// values make bulk writes faster (fewer, larger checkpoints) and
	// crash recovery slower (a longer log to replay).
	CheckpointThreshold string
}

// DefaultCheckpointThreshold is the checkpoint threshold when
// Options.CheckpointThreshold is "". DuckDB's own default (16MB) makes
// every other 10,000-event write pay for a checkpoint.
const DefaultCheckpointThreshold = "256MB"

// Store is an event store on one DuckDB database.
type Store struct {
	db      *sql.DB
	path    string
	opts    Options
	log     *slog.Logger
	layout  *layout
	mapping query.Mapping

	// wmu serialises Write and EnforceRetention; known (the partition
	// tables that exist) is guarded by it.
	wmu   sync.Mutex
	known map[string]bool

	// beforeCommit, when set (by tests), runs just before a Write commits;
	// an error aborts the Write.
	beforeCommit func() error
}

// Open opens (creating it if need be) the event store at path, a DuckDB
// database file; "" or ":memory:" opens an in-memory store. It applies the
// schema migrations the database lacks.
func Open(ctx context.Context, path string, o Options, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Threads < 0 {
		return nil, fmt.Errorf("eventstore: threads must not be negative, got %d", o.Threads)
	}
	params := url.Values{}
	if o.MemoryLimit != "" {
		params.Set("memory_limit", o.MemoryLimit)
	}
	if o.Threads > 0 {
		params.Set("threads", strconv.Itoa(o.Threads))
	}
	params.Set("checkpoint_threshold", cmp.Or(o.CheckpointThreshold, DefaultCheckpointThreshold))
	dsn := path + "?" + params.Encode()
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("eventstore: open %q: %w", path, err)
	}
	s := &Store{
		db:      sql.OpenDB(connector),
		path:    path,
		opts:    o,
		log:     log,
		layout:  newLayout(),
		mapping: query.ECSMapping(),
		known:   make(map[string]bool),
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.loadKnown(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	log.Info("event store open", "path", path, "partitions", len(s.known))
	return s, nil
}

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("eventstore: close: %w", err)
	}
	return nil
}

// migrations are the schema changes in order; migration i brings the
// database to version i+1. Partition tables are created on demand from the
// layout and are not migrations' business until a migration alters them.
func migrations() []string {
	return []string{
		`CREATE TABLE partitions (
			name VARCHAR PRIMARY KEY,
			day DATE NOT NULL,
			min_ts TIMESTAMP NOT NULL,
			max_ts TIMESTAMP NOT NULL,
			events BIGINT NOT NULL
		);
		CREATE TABLE checkpoint (seq UBIGINT NOT NULL);
		INSERT INTO checkpoint VALUES (0);`,
	}
}

// ErrNewerSchema is returned by Open when the database was written by a
// newer build with schema migrations this build does not know.
var ErrNewerSchema = errors.New("eventstore: database schema is newer than this build")

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("eventstore: create schema_migrations: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("eventstore: read schema version: %w", err)
	}
	ms := migrations()
	if have > len(ms) {
		return fmt.Errorf("%w: database version %d, build knows %d", ErrNewerSchema, have, len(ms))
	}
	for v := have + 1; v <= len(ms); v++ {
		if err := s.applyMigration(ctx, v, ms[v-1]); err != nil {
			return err
		}
		s.log.Info("event store schema migrated", "version", v)
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, stmt string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("eventstore: migration %d: %w", version, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("eventstore: migration %d: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, now()::TIMESTAMP)`, version); err != nil {
		return fmt.Errorf("eventstore: migration %d: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("eventstore: migration %d: commit: %w", version, err)
	}
	return nil
}

func (s *Store) loadKnown(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM partitions`)
	if err != nil {
		return fmt.Errorf("eventstore: read partitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("eventstore: read partitions: %w", err)
		}
		s.known[name] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("eventstore: read partitions: %w", err)
	}
	return nil
}

// Checkpoint returns the highest ingest-log sequence stored (0 when none).
func (s *Store) Checkpoint(ctx context.Context) (uint64, error) {
	var seq uint64
	if err := s.db.QueryRowContext(ctx, `SELECT seq FROM checkpoint`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("eventstore: read checkpoint: %w", err)
	}
	return seq, nil
}

// partitionName returns the table of the UTC day of t.
func partitionName(t time.Time) string {
	return "events_" + t.UTC().Format("20060102")
}

// execDriver runs a statement on a raw driver connection.
func execDriver(ctx context.Context, c driver.Conn, stmt string, args ...any) (driver.Result, error) {
	ex, ok := c.(driver.ExecerContext)
	if !ok {
		return nil, errors.New("driver connection cannot execute statements")
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return ex.ExecContext(ctx, stmt, named)
}
