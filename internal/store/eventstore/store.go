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
// Writes are tuned for throughput: events are appended through appenders
// restricted to the columns they set (append.go), the long text columns
// are compressed with zstd, and the database file is attached with small
// row groups, so that a write of a storage-stage batch goes to the file
// compressed rather than through the write-ahead log (see rowGroupSize).
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
	"strings"
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
	// Threads is DuckDB's thread count; 0 means DefaultThreads.
	Threads int
	// CheckpointThreshold is the write-ahead log size at which a commit
	// folds the log into the database file (DuckDB's
	// checkpoint_threshold); "" means DefaultCheckpointThreshold. Larger
	// values make bulk writes faster (fewer, larger checkpoints) and
	// crash recovery slower (a longer log to replay).
	CheckpointThreshold string
}

// DefaultThreads is DuckDB's thread count when Options.Threads is 0.
// Writes run on one thread whatever the setting, and with more threads the
// writing thread busy-waits while a worker runs each step: on a two-core
// machine that made a write take half as much CPU again, and made the
// typical search (a page of a time range) slower too. More threads speed
// up counts and searches over long ranges on machines with cores to spare.
const DefaultThreads = 1

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
// schema migrations the database lacks. A database file must be open in
// one Store at a time.
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
	params.Set("threads", strconv.Itoa(cmp.Or(o.Threads, DefaultThreads)))
	params.Set("checkpoint_threshold", cmp.Or(o.CheckpointThreshold, DefaultCheckpointThreshold))
	// A checkpoint's vacuum merges runs of small row groups, recompressing
	// them. Writes whose last row group is under half full (a batch of
	// 10,000 events: 8,192 + 1,808 rows) leave such runs, and merging them
	// made those writes take half as much CPU again. Retention drops whole
	// days, so the deleted rows vacuum would also reclaim are few.
	params.Set("max_vacuum_tasks", "0")
	connector, err := connect(path, params)
	if err != nil {
		return nil, fmt.Errorf("eventstore: open %q: %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore: open %q: %w", path, err)
	}
	s := &Store{
		db:      db,
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

// Physical storage of a file-backed store. DuckDB takes these only as
// options of ATTACH, so the store opens an in-memory database and attaches
// the file to it under fileCatalog, the default catalog of every
// connection.
const (
	fileCatalog = "vigil_events"
	// rowGroupSize is the rows per row group (DuckDB's default is
	// 122,880). A transaction that appends at least a row group to a
	// table has its row groups compressed and written straight to the
	// database file, leaving only their addresses to the write-ahead log;
	// smaller appends go through the log and are compressed at the next
	// checkpoint, which costs half as much CPU again. The storage stage
	// writes batches of about 13,000 events (16MB of ingest log); of the
	// sizes measured (4,096 to 16,384 rows) this one took the least CPU
	// for them.
	rowGroupSize = 4 * 2048
	// storageVersion is the on-disk format. zstd column compression
	// (bigText) needs v1.2.0 or later; with v1.4.0's compression of the
	// other text columns writes took less CPU than with v1.2.0's. Opening
	// a file of an older format upgrades it.
	storageVersion = "v1.4.0"
)

// connect returns the connector of the database at path ("" or ":memory:"
// for an in-memory one) with the DuckDB settings in params.
//
// DuckDB shares a database file's instance between connectors in one
// process, but not an attached file's: a file-backed store's file must be
// open in one Store at a time (the node's data directory lock ensures it).
func connect(path string, params url.Values) (*duckdb.Connector, error) {
	if path == "" || path == ":memory:" {
		return duckdb.NewConnector(":memory:?"+params.Encode(), nil)
	}
	attach := fmt.Sprintf("ATTACH IF NOT EXISTS '%s' AS %s (ROW_GROUP_SIZE %d, STORAGE_VERSION '%s')",
		strings.ReplaceAll(path, "'", "''"), fileCatalog, rowGroupSize, storageVersion)
	return duckdb.NewConnector(":memory:?"+params.Encode(), func(ex driver.ExecerContext) error {
		ctx := context.Background()
		if _, err := ex.ExecContext(ctx, attach, nil); err != nil {
			return err
		}
		_, err := ex.ExecContext(ctx, "USE "+fileCatalog, nil)
		return err
	})
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
		flowEdgesDDL,
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
	return s.upgradePartitions(ctx)
}

// upgradePartitions adds the columns of the current layout to partitions
// created by an older build.
func (s *Store) upgradePartitions(ctx context.Context) error {
	last := s.layout.names[len(s.layout.names)-1]
	rows, err := s.db.QueryContext(ctx, `SELECT table_name FROM duckdb_columns() WHERE column_name = ?`, last)
	if err != nil {
		return fmt.Errorf("eventstore: read partition columns: %w", err)
	}
	current := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("eventstore: read partition columns: %w", err)
		}
		current[name] = true
	}
	rows.Close()
	for name := range s.known {
		if current[name] {
			continue
		}
		for _, stmt := range s.layout.upgrade(name) {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("eventstore: upgrade partition %s: %w", name, err)
			}
		}
		s.log.Info("event store partition upgraded to the current layout", "partition", name)
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
