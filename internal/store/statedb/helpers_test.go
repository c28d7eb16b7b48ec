package statedb

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for a DB under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// baseTime is the fixed instant test clocks start at.
func baseTime() time.Time { return time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC) }

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openTest opens a fresh database in a temporary directory, closed when the
// test ends.
func openTest(tb testing.TB, opts ...Option) *DB {
	tb.Helper()
	d, err := Open(context.Background(), filepath.Join(tb.TempDir(), "state.db"), testLogger(tb), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

// openTestClock is openTest with a test clock at baseTime.
func openTestClock(tb testing.TB, opts ...Option) (*DB, *testClock) {
	tb.Helper()
	d := openTest(tb, opts...)
	c := newTestClock(baseTime())
	d.now = c.Now
	return d, c
}
