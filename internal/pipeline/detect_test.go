package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/detect"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// counter is a stateful detector: it counts events and raises an alert
// whose key carries the running count at every 7th event, so an alert set
// built with lost or doubled state differs from an uninterrupted run's.
type counter struct {
	n        uint64
	failSave bool // simulates a crash before the state is saved
}

func (c *counter) Name() string { return "counter" }

func (c *counter) Detect(evs []schema.Event, emit func(schema.Alert)) {
	for i := range evs {
		c.n++
		if c.n%7 == 0 {
			emit(schema.Alert{RuleID: "count", Kind: schema.KindBuiltin, Title: "seventh", Severity: schema.SeverityLow,
				FirstSeen: evs[i].Timestamp, LastSeen: evs[i].Timestamp, DedupKey: fmt.Sprintf("n=%d", c.n)})
		}
	}
}

func (c *counter) SaveState() ([]byte, error) {
	if c.failSave {
		return nil, errors.New("disk full")
	}
	return binary.AppendUvarint(nil, c.n), nil
}

func (c *counter) LoadState(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return errors.New("bad counter state")
	}
	c.n = n
	return nil
}

var _ detect.Stateful = (*counter)(nil)

// TestDetectStageStateReplay stops the stage after its state was saved
// mid-stream and alerts were stored beyond it, restarts it with a fresh
// detector, and checks the restored state plus replay yields exactly the
// alerts of an uninterrupted run.
func TestDetectStageStateReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lg, db, quiet := openLogAndState(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	submit := func(from, n int) {
		for i := from; i < from+n; i++ {
			// One event per batch, so the stage sees many sequences.
			ev := schema.Event{Timestamp: base.Add(time.Duration(i) * time.Second), Message: "e"}
			if err := lg.Submit(ctx, []schema.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(det *counter, interval time.Duration, until uint64) *DetectStage {
		st := NewDetectStage(det, db, time.Hour, quiet)
		st.SetStateInterval(interval)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- st.Run(rctx, lg) }()
		deadline := time.Now().Add(20 * time.Second)
		for st.Done() < until && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st.Done() < until {
			t.Fatalf("stage reached %d, want %d", st.Done(), until)
		}
		return st
	}
	// Run 1 handles 21 events and saves its state on shutdown.
	submit(0, 21)
	run(&counter{}, 0, 21)
	if seq, _, ok, _ := db.DetectorState(ctx, ConsumerDetect); !ok || seq != 21 {
		t.Fatalf("after run 1: saved seq %d", seq)
	}
	// Run 2 stores alerts up to 40 but never manages to save its state, as
	// if it crashed before the next snapshot.
	submit(21, 19)
	run(&counter{n: 21, failSave: true}, 0, 40)
	if seq, _, _, _ := db.DetectorState(ctx, ConsumerDetect); seq != 21 {
		t.Fatalf("after run 2: saved seq %d, want 21", seq)
	}
	// Run 3 starts from nothing but the database: restore at 21, replay to
	// 40 without re-raising alerts, then go on.
	submit(40, 30)
	second := &counter{}
	run(second, time.Hour, 70)
	if second.n != 70 {
		t.Errorf("restored and replayed count = %d, want 70", second.n)
	}
	keys := alertKeys(t, db)
	want := []string{}
	for n := 7; n <= 70; n += 7 {
		want = append(want, fmt.Sprintf("n=%d", n))
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("alert keys = %v\nwant        %v", keys, want)
	}
	// The shutdown saved the final state.
	if seq, data, ok, _ := db.DetectorState(ctx, ConsumerDetect); !ok || seq != 70 || len(data) == 0 {
		t.Errorf("final state: seq %d ok %v", seq, ok)
	}
}

// alertKeys returns the dedup keys of the stored alerts, ordered by count.
func alertKeys(t *testing.T, db *statedb.DB) []string {
	t.Helper()
	as, _, err := db.Alerts(context.Background(), statedb.AlertFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ns []int
	for _, a := range as {
		var n int
		if _, err := fmt.Sscanf(a.DedupKey, "n=%d", &n); err != nil {
			t.Fatalf("unexpected alert key %q", a.DedupKey)
		}
		if a.Count != 1 {
			t.Errorf("alert %s counted %d times", a.DedupKey, a.Count)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("n=%d", n)
	}
	return out
}

// TestDetectStageSavesWhenIdle checks that a stage that caught up saves its
// state even with a long interval and no further events: otherwise the log
// keeps every event for a replay, fills up and refuses new ones for good.
func TestDetectStageSavesWhenIdle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lg, db, quiet := openLogAndState(t)
	for i := range 5 {
		ev := schema.Event{Timestamp: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Message: "e"}
		if err := lg.Submit(ctx, []schema.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	st := NewDetectStage(&counter{}, db, time.Hour, quiet)
	st.SetStateInterval(time.Hour)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = st.Run(rctx, lg) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if seq, _, ok, _ := db.DetectorState(ctx, ConsumerDetect); ok && seq == 5 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	seq, _, _, _ := db.DetectorState(ctx, ConsumerDetect)
	t.Fatalf("state saved at %d after the stage caught up, want 5", seq)
}

// openLogAndState opens an embedded ingest log with the detect consumer
// and a state database in a temporary directory, closed when t ends.
func openLogAndState(t *testing.T) (*ingest.Log, *statedb.DB, *slog.Logger) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	lg, err := ingest.Open(ctx, ingest.Options{Dir: filepath.Join(dir, "log"), Consumers: []string{ConsumerDetect}}, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lg.Close)
	db, err := statedb.Open(ctx, filepath.Join(dir, "state.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return lg, db, quiet
}
