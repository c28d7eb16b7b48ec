package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestWriteMixedColumnSets writes events that set many different sets of
// columns, more than maxSubsetAppenders, so that both the per-set
// appenders and the all-columns appender are used, and checks that every
// event reads back exactly.
func TestWriteMixedColumnSets(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	clearers := []func(e *schema.Event){
		func(e *schema.Event) { e.Message = "" },
		func(e *schema.Event) { e.Fields = nil },
		func(e *schema.Event) { e.Host = schema.Host{} },
		func(e *schema.Event) { e.Source = schema.Endpoint{} },
		func(e *schema.Event) { e.DNS = schema.DNS{} },
		func(e *schema.Event) { e.Process = schema.Process{} },
		func(e *schema.Event) { e.Log.Syslog = schema.LogSyslog{} },
	}
	combos := 1 << len(clearers)
	if combos <= maxSubsetAppenders {
		t.Fatalf("%d column sets do not exceed the %d subset appenders", combos, maxSubsetAppenders)
	}
	base := day(2).Add(time.Hour)
	var want []schema.Event
	for i := range 2 * combos {
		e := fullEvent(3, i, base.Add(time.Duration(i)*time.Millisecond+time.Duration(i%1000)))
		for bit, clear := range clearers {
			if (i%combos)&(1<<bit) != 0 {
				clear(&e)
			}
		}
		want = append(want, e)
	}
	mustWrite(t, s, want, 3)
	res, err := s.Search(context.Background(), SearchRequest{Ascending: true, Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(want) {
		t.Fatalf("read %d events, want %d", len(res.Events), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(res.Events[i], want[i]) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, res.Events[i], want[i])
		}
	}
}

// TestBulkWrite writes batches of more than a row group, which DuckDB
// writes straight to the database file rather than to its write-ahead
// log: a failed one leaves nothing behind, a committed one reads back
// exactly, also after reopening, and the log stays small.
func TestBulkWrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	n := 2*rowGroupSize + 123
	evs := make([]schema.Event, n)
	for i := range evs {
		ts := day(7).Add(time.Duration(i) * time.Second)
		if i%1000 == 0 {
			evs[i] = fullEvent(5, i, ts)
		} else {
			evs[i] = smallEvent(5, i, ts)
		}
	}
	boom := errors.New("boom")
	s.beforeCommit = func() error { return boom }
	if err := s.Write(ctx, evs, 5); !errors.Is(err, boom) {
		t.Fatalf("Write error = %v, want boom", err)
	}
	s.beforeCommit = nil
	if got := mustCount(t, s, time.Time{}, time.Time{}, ""); got != 0 {
		t.Fatalf("count after failed write = %d, want 0", got)
	}
	mustWrite(t, s, evs, 5)
	if fi, err := os.Stat(path + ".wal"); err == nil && fi.Size() > 2<<20 {
		t.Errorf("write-ahead log holds %d bytes after a bulk write: the events went through it", fi.Size())
	}
	checkBulk(t, s, evs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{}, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	checkBulk(t, s, evs)
	if cp, err := s.Checkpoint(ctx); err != nil || cp != 5 {
		t.Fatalf("checkpoint = %d, %v; want 5", cp, err)
	}
}

func checkBulk(t *testing.T, s *Store, evs []schema.Event) {
	t.Helper()
	if got := mustCount(t, s, time.Time{}, time.Time{}, ""); got != int64(len(evs)) {
		t.Fatalf("count = %d, want %d", got, len(evs))
	}
	for _, asc := range []bool{true, false} {
		res, err := s.Search(context.Background(), SearchRequest{Ascending: asc, Limit: 1001})
		if err != nil {
			t.Fatal(err)
		}
		want := evs[:1001]
		if !asc {
			want = slices.Clone(evs[len(evs)-1001:])
			slices.Reverse(want)
		}
		for i := range want {
			if !reflect.DeepEqual(res.Events[i], want[i]) {
				t.Fatalf("ascending=%v event %d:\n got %+v\nwant %+v", asc, i, res.Events[i], want[i])
			}
		}
	}
}

// TestOpenUpgradesOlderFile opens a database file written in DuckDB's
// default format (as earlier builds wrote it): its events read back, and
// new partitions compress their big text columns with zstd, which that
// format lacks.
func TestOpenUpgradesOlderFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: sql.OpenDB(connector), log: testLogger(t), layout: newLayout(),
		mapping: query.ECSMapping(), known: make(map[string]bool)}
	if err := old.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first := fullEvent(1, 0, day(3))
	mustWrite(t, old, []schema.Event{first}, 1)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	second := fullEvent(2, 0, day(4))
	mustWrite(t, s, []schema.Event{second}, 2)
	res, err := s.Search(ctx, SearchRequest{Ascending: true})
	if err != nil || !reflect.DeepEqual(res.Events, []schema.Event{first, second}) {
		t.Fatalf("events after upgrade: %+v, %v", res.Events, err)
	}
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	var comp string
	err = s.db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT compression) FROM pragma_storage_info(?)
		WHERE column_name = 'original' AND segment_type = 'VARCHAR'`, partitionName(day(4))).Scan(&comp)
	if err != nil || comp != "ZSTD" {
		t.Fatalf("original column compression = %q, %v; want ZSTD", comp, err)
	}
}

// TestSettings checks the DuckDB settings the store opens with.
func TestSettings(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	for name, want := range map[string]int{"threads": DefaultThreads, "max_vacuum_tasks": 0} {
		var got int
		if err := s.db.QueryRow(`SELECT current_setting(?)`, name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, err, want)
		}
	}
	var rgs int
	err := s.db.QueryRow(`SELECT options['row_group_size'] FROM duckdb_databases() WHERE database_name = ?`, fileCatalog).Scan(&rgs)
	if err != nil || rgs != rowGroupSize {
		t.Errorf("row group size = %d, %v; want %d", rgs, err, rowGroupSize)
	}
}

// TestLayoutFitsColumnMask checks that a colMask can name every column.
func TestLayoutFitsColumnMask(t *testing.T) {
	t.Parallel()
	if w := newLayout().width; w > 64*maskWords {
		t.Fatalf("layout has %d columns, a colMask holds %d", w, 64*maskWords)
	}
}
