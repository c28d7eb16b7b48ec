package eventstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ts := time.Date(2024, 5, 1, 10, 11, 12, 123456789, time.UTC)
	full := fullEvent(7, 0, ts)
	assertAllFieldsSet(t, reflect.ValueOf(full), "Event")
	minimal := schema.Event{ID: schema.MakeID(7, 1), Timestamp: ts.Add(time.Nanosecond)}
	noPriority := fullEvent(7, 2, ts.Add(2*time.Nanosecond))
	noPriority.Log.Syslog = schema.LogSyslog{}
	preEpoch := schema.Event{ID: schema.MakeID(7, 3), Timestamp: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	zeroTime := schema.Event{ID: schema.MakeID(7, 4), Message: "no time"}
	want := []schema.Event{zeroTime, preEpoch, full, minimal, noPriority}
	mustWrite(t, s, []schema.Event{full, minimal, noPriority, preEpoch, zeroTime}, 7)

	res, err := s.Search(context.Background(), SearchRequest{Ascending: true, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(want) {
		t.Fatalf("got %d events, want %d", len(res.Events), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(res.Events[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, res.Events[i], want[i])
		}
	}
}

func TestInvalidUTF8IsReplacedNotLost(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ts := day(1).Add(time.Hour)
	bad := schema.Event{ID: schema.MakeID(1, 0), Timestamp: ts, Message: "bad \xff byte", User: schema.User{Name: "\xc3"},
		Event:  schema.EventMeta{Category: []string{"x\xfe"}},
		Fields: schema.Fields{{Key: "k\xff", Value: "v\xff"}}}
	good := fullEvent(1, 1, ts)
	mustWrite(t, s, []schema.Event{bad, good}, 1)
	res, err := s.Search(context.Background(), SearchRequest{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || !reflect.DeepEqual(res.Events[1], good) {
		t.Fatalf("good event not stored intact: %+v", res.Events)
	}
	got := res.Events[0]
	if got.Message != "bad \uFFFD byte" || got.User.Name != "\uFFFD" || got.Event.Category[0] != "x\uFFFD" ||
		got.Fields[0] != (schema.Field{Key: "k\uFFFD", Value: "v\uFFFD"}) {
		t.Fatalf("invalid UTF-8 not replaced: %+v", got)
	}
}

func TestUnstorableTimeSkipped(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	evs := []schema.Event{
		{ID: schema.MakeID(1, 0), Timestamp: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: schema.MakeID(1, 1), Timestamp: day(2)},
		{ID: schema.MakeID(1, 2), Timestamp: day(2), Received: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	mustWrite(t, s, evs, 1)
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 1 {
		t.Fatalf("stored %d events, want 1", n)
	}
	if cp, _ := s.Checkpoint(context.Background()); cp != 1 {
		t.Fatalf("checkpoint %d, want 1", cp)
	}
}

func TestCheckpointAndReplay(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	if cp, err := s.Checkpoint(ctx); err != nil || cp != 0 {
		t.Fatalf("fresh checkpoint = %d, %v", cp, err)
	}
	batch := func(seq uint64, n int) []schema.Event {
		evs := make([]schema.Event, n)
		for i := range evs {
			evs[i] = smallEvent(seq, i, day(3).Add(time.Duration(seq)*time.Minute))
		}
		return evs
	}
	mustWrite(t, s, append(batch(1, 3), batch(2, 2)...), 2)
	mustWrite(t, s, append(batch(2, 2), batch(3, 4)...), 3) // batch 2 replayed
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 9 {
		t.Fatalf("count = %d, want 9 (replayed batch stored twice?)", n)
	}
	mustWrite(t, s, nil, 1) // an older checkpoint does not move it back
	if cp, _ := s.Checkpoint(ctx); cp != 3 {
		t.Fatalf("checkpoint = %d, want 3", cp)
	}
	mustWrite(t, s, nil, 1<<63+5) // no events, checkpoint only; high bit set
	if cp, _ := s.Checkpoint(ctx); cp != 1<<63+5 {
		t.Fatalf("checkpoint = %d, want %d", cp, uint64(1<<63+5))
	}
}

func TestWriteIsAtomic(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	mustWrite(t, s, []schema.Event{smallEvent(1, 0, day(1))}, 1)
	boom := errors.New("boom")
	s.beforeCommit = func() error { return boom }
	evs := []schema.Event{smallEvent(2, 0, day(1)), smallEvent(2, 1, day(4)), smallEvent(2, 2, day(5))}
	if err := s.Write(ctx, evs, 2); !errors.Is(err, boom) {
		t.Fatalf("Write error = %v, want boom", err)
	}
	s.beforeCommit = nil
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 1 {
		t.Fatalf("count after failed write = %d, want 1", n)
	}
	if cp, _ := s.Checkpoint(ctx); cp != 1 {
		t.Fatalf("checkpoint after failed write = %d, want 1", cp)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Partitions != 1 || st.Events != 1 {
		t.Fatalf("stats after failed write = %+v, %v", st, err)
	}
	// The tables the failed write created were rolled back; writing to
	// those days again creates them again.
	mustWrite(t, s, evs, 2)
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 4 {
		t.Fatalf("count = %d, want 4", n)
	}
}

func TestCanceledWriteStoresNothing(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, []schema.Event{smallEvent(1, 0, day(1))}, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write error = %v, want context.Canceled", err)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}, ""); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
}

func TestReopenKeepsEventsAndCheckpoint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{Threads: 1, MemoryLimit: "256MB"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ev := fullEvent(9, 0, day(6).Add(time.Hour))
	mustWrite(t, s, []schema.Event{ev}, 9)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cp, _ := s.Checkpoint(ctx); cp != 9 {
		t.Fatalf("checkpoint after reopen = %d, want 9", cp)
	}
	res, err := s.Search(ctx, SearchRequest{})
	if err != nil || len(res.Events) != 1 || !reflect.DeepEqual(res.Events[0], ev) {
		t.Fatalf("after reopen: %+v, %v", res.Events, err)
	}
	if !s.known[partitionName(ev.Timestamp)] {
		t.Fatal("known partitions not loaded on open")
	}
	var versions int
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(migrations()) {
		t.Fatalf("schema_migrations rows = %d, %v", versions, err)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	t.Parallel()
	s, path := openTest(t, Options{})
	if _, err := s.db.Exec(`INSERT INTO schema_migrations VALUES (99, now()::TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path, Options{}, testLogger(t))
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open error = %v, want ErrNewerSchema", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := Open(ctx, "", Options{Threads: -1}, nil); err == nil {
		t.Fatal("negative threads accepted")
	}
	if _, err := Open(ctx, "", Options{MemoryLimit: "lots"}, nil); err == nil {
		t.Fatal("bad memory limit accepted")
	}
	dir := t.TempDir()
	if _, err := Open(ctx, filepath.Join(dir, "missing", "x.duckdb"), Options{}, nil); err == nil {
		t.Fatal("path in a missing directory accepted")
	}
}

func TestInMemoryStore(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), "", Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustWrite(t, s, []schema.Event{smallEvent(1, 0, day(1))}, 1)
	st, err := s.Stats(context.Background())
	if err != nil || st.Events != 1 || st.Bytes != 0 {
		t.Fatalf("stats = %+v, %v", st, err)
	}
}

// TestPartitionDDLGolden pins the partition table layout: a change needs a
// schema migration for existing partitions. Set VIGIL_UPDATE_GOLDEN=1 to
// rewrite testdata/partition.sql.
func TestPartitionDDLGolden(t *testing.T) {
	t.Parallel()
	got := strings.ReplaceAll(newLayout().ddl("events_YYYYMMDD"), ", ", ",\n  ") + "\n"
	golden := filepath.Join("testdata", "partition.sql")
	if os.Getenv("VIGIL_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with VIGIL_UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("partition layout changed (add a migration, then update the golden file):\n%s", got)
	}
}

// TestLayoutCoversQueryMapping checks that every column the query language
// may name exists in a partition table.
func TestLayoutCoversQueryMapping(t *testing.T) {
	t.Parallel()
	l := newLayout()
	m := query.ECSMapping()
	var want []string
	for _, c := range m.Columns {
		want = append(want, c.Name)
		if c.Kind == query.IP {
			want = append(want, c.Hi, c.Lo)
		}
	}
	want = append(want, m.FieldsColumn)
	want = append(want, m.TextColumns...)
	for _, c := range want {
		if !slices.Contains(l.names, c) {
			t.Errorf("query column %s is not in the partition layout", c)
		}
	}
}

// TestUpgradeOldPartition opens a store whose partition lacks the columns
// added later (as a partition written by an older build does): Open adds
// them, old rows read back with the new fields empty, and new events with
// every field set are stored beside them.
func TestUpgradeOldPartition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(ctx, path, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	old := smallEvent(1, 0, day(3))
	mustWrite(t, s, []schema.Event{old}, 1)
	for _, c := range enrichColumns() {
		for _, n := range c.names {
			if _, err := s.db.ExecContext(ctx, "ALTER TABLE events_20240503 DROP COLUMN "+n); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	full := fullEvent(2, 0, day(3).Add(time.Hour))
	mustWrite(t, s, []schema.Event{full}, 2)
	res, err := s.Search(ctx, SearchRequest{Query: "", Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("got %d events, want 2", len(res.Events))
	}
	if res.Events[0].Source.Geo != (schema.Geo{}) || res.Events[0].ID != old.ID {
		t.Errorf("old event read back as %+v", res.Events[0])
	}
	if got := res.Events[1]; got.Destination.Asset.Criticality != "high" || got.Source.AS.Number != 29518 {
		t.Errorf("new event lost its enrichment: %+v", got)
	}
	n, err := s.Count(ctx, time.Time{}, time.Time{}, `source.geo.country_iso_code:SE AND host.asset.criticality:critical`)
	if err != nil || n != 1 {
		t.Fatalf("count by enrichment fields = %d, %v; want 1", n, err)
	}
}
