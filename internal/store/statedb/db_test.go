package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
)

func TestOpenPragmas(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	ctx := context.Background()
	// Hold several connections at once so the checks run on more than one.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := d.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for _, tc := range []struct {
			pragma, want string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "1"}, // NORMAL
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, tc.pragma, err)
			}
			if got != tc.want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, tc.pragma, got, tc.want)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notADB, []byte(strings.Repeat("this is not a database\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
	}{
		{"empty path", ""},
		{"memory", ":memory:"},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "state.db")},
		{"not a database", notADB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Open(context.Background(), tc.path, testLogger(t))
			if err == nil {
				d.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tc.path)
			}
			if !strings.HasPrefix(err.Error(), "statedb: ") {
				t.Errorf("error %q does not name the package", err)
			}
		})
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "x.db"), nil); err == nil {
		t.Error("Open with a nil logger succeeded")
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state?.db")
	d, err := Open(context.Background(), path, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := d.SetSetting(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at the path given: %v", err)
	}
}

func TestMigrateUpgradesOldDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := openDB(ctx, path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := migrate(ctx, old, migrations()[:1]); err != nil || n != 1 {
		t.Fatalf("migrate to version 1: applied %d, %v", n, err)
	}
	// Data written by a version-1 build.
	if err := old.SetSetting(ctx, "retention_days", "30"); err != nil {
		t.Fatal(err)
	}
	plain, _, err := old.CreateToken(ctx, "first admin", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.AddParseErrors(ctx, "fw1", "syslog", "bad_syslog", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.ExecContext(ctx, `SELECT 1 FROM alerts`); err == nil {
		t.Fatal("version-1 database already has an alerts table")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatalf("Open old database: %v", err)
	}
	defer d.Close()
	if v, err := d.SchemaVersion(ctx); err != nil || v != len(migrations()) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(migrations()))
	}
	if v, err := d.GetSetting(ctx, "retention_days"); err != nil || v != "30" {
		t.Errorf("setting after upgrade = %q, %v", v, err)
	}
	if _, err := d.VerifyToken(ctx, plain); err != nil {
		t.Errorf("token after upgrade: %v", err)
	}
	// The tables of later migrations work.
	if err := d.ApplySourceDeltas(ctx, []SourceDelta{{Host: "fw1", Input: "syslog", Events: 5}}); err != nil {
		t.Fatal(err)
	}
	src, err := d.Sources(ctx)
	if err != nil || len(src) != 1 || src[0].Events != 5 || src[0].ParseErrors != 3 {
		t.Fatalf("sources after upgrade = %+v, %v", src, err)
	}
	if _, err := d.UpsertAlerts(ctx, sampleAlerts(1), time.Hour); err != nil {
		t.Fatal(err)
	}
	if names := migrationNames(t, d); len(names) != len(migrations()) || names[0] != migrations()[0].name {
		t.Errorf("schema_migrations = %q", names)
	}
}

// migrationNames returns the names recorded in schema_migrations, in order.
func migrationNames(t *testing.T, d *DB) []string {
	t.Helper()
	rows, err := d.db.QueryContext(context.Background(), `SELECT name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	d, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	future := len(migrations()) + 1
	if _, err := d.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, 0)`,
		future, "from the future"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = Open(ctx, path, testLogger(t))
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open newer database: err = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{fmt.Sprintf("schema version %d", future),
		fmt.Sprintf("versions up to %d", future-1), "newer Vigil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	ms := append(migrations(), migration{
		version: len(migrations()) + 1,
		name:    "broken",
		sql:     `CREATE TABLE half_done (x INTEGER); CREATE TABLE oops (;`,
	})
	if _, err := migrate(ctx, d, ms); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("broken migration: err = %v", err)
	}
	if v, _ := d.SchemaVersion(ctx); v != len(migrations()) {
		t.Errorf("version after failed migration = %d, want %d", v, len(migrations()))
	}
	var n int
	if err := d.db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE name = 'half_done'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half of the failed migration was kept (count %d, %v)", n, err)
	}
	bad := []migration{{version: 2, name: "gap", sql: "SELECT 1"}}
	if _, err := migrate(ctx, d, bad); err == nil {
		t.Error("migrations with a version gap were accepted")
	}
}

func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "race.db")
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*DB, n)
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, path, testLogger(t)) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
	}
	var count int
	if err := dbs[0].db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != len(migrations()) {
		t.Errorf("schema_migrations has %d rows, want %d", count, len(migrations()))
	}
}

func TestSchemaGolden(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	rows, err := d.db.QueryContext(context.Background(),
		`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, sqlText string
		if err := rows.Scan(&typ, &name, &sqlText); err != nil {
			t.Fatal(err)
		}
		b.WriteString("-- " + typ + " " + name + "\n" + sqlText + ";\n\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "schema.golden.sql"), []byte(b.String()))
}

func TestWriteHonoursContext(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	d.wsem <- struct{}{} // another writer holds the turn
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := d.SetSetting(ctx, "k", "v")
	<-d.wsem
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write while blocked: err = %v, want deadline exceeded", err)
	}
	if err := d.SetSetting(context.Background(), "k", "v"); err != nil {
		t.Fatalf("write after release: %v", err)
	}
}

func TestTimeConversion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"ordinary", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)},
		{"other zone", time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)),
			time.Date(2024, 1, 2, 2, 4, 5, 6, time.UTC)},
		{"far future clamps", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, maxNS).UTC()},
		{"far past clamps", time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), time.Unix(0, minNS).UTC()},
	} {
		if got := fromNS(toNS(tc.in)); !got.Equal(tc.want) || got.Location() != tc.want.Location() {
			t.Errorf("%s: round trip of %v = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}
