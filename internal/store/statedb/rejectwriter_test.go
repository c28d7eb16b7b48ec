package statedb

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// runWriter starts w.Run and returns a function that stops it and returns
// its error.
func runWriter(w *RejectWriter) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

func TestRejectWriterWritesAll(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{BatchSize: 100, Interval: time.Hour})
	stop := runWriter(w)
	const n = 1234
	for i := range n {
		w.Record(ingest.Reject{Input: "syslog", Source: "fw1", Reason: "bad_syslog", Raw: fmt.Appendf(nil, "r%d", i)})
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got, err := d.DeadLetters(context.Background(), DeadLetterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 || string(got[0].Raw) != fmt.Sprintf("r%d", n-1) {
		t.Errorf("got %d dead letters, newest %q", len(got), got[0].Raw)
	}
	src, _ := d.Sources(context.Background())
	if len(src) != 1 || src[0].ParseErrors != n {
		t.Errorf("sources = %+v, want %d parse errors", src, n)
	}
	if w.Dropped() != 0 {
		t.Errorf("Dropped = %d", w.Dropped())
	}
}

func TestRejectWriterFlushesOnInterval(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{Interval: 10 * time.Millisecond})
	stop := runWriter(w)
	defer stop()
	for i := range 3 {
		w.Record(ingest.Reject{Input: "ndjson", Source: "h", Reason: "invalid_json", Raw: fmt.Appendf(nil, "%d", i)})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := d.DeadLetters(context.Background(), DeadLetterFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, %d of 3 rejects written without a full batch", len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRejectWriterFullQueue(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{Buffer: 5})
	// Run is not started: the queue fills and Record must not block.
	done := make(chan struct{})
	go func() {
		for i := range 20 {
			reason := "bad_syslog"
			if i%2 == 1 {
				reason = "oversized"
			}
			w.Record(ingest.Reject{Input: "syslog", Source: "fw1", Reason: reason, Raw: []byte("x")})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	if w.Dropped() != 15 {
		t.Errorf("Dropped = %d, want 15", w.Dropped())
	}
	wantCounts := []RejectCount{{"syslog", "bad_syslog", 10}, {"syslog", "oversized", 10}}
	if got := w.Counts(); !slices.Equal(got, wantCounts) {
		t.Errorf("Counts = %+v, want %+v", got, wantCounts)
	}
	if err := runWriter(w)(); err != nil {
		t.Fatal(err)
	}
	dls, _ := d.DeadLetters(context.Background(), DeadLetterFilter{})
	if len(dls) != 5 {
		t.Errorf("%d dead letters stored, want the 5 queued", len(dls))
	}
	src, _ := d.Sources(context.Background())
	if len(src) != 1 || src[0].ParseErrors != 20 ||
		src[0].ParseErrorsByReason["bad_syslog"] != 10 || src[0].ParseErrorsByReason["oversized"] != 10 {
		t.Errorf("sources = %+v, want all 20 rejects counted", src)
	}
}

func TestRejectWriterCopiesAndCapsRaw(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{})
	buf := bytes.Repeat([]byte("a"), MaxDeadLetterRaw+100)
	w.Record(ingest.Reject{Input: "ndjson", Source: "h", Reason: "oversized", Raw: buf})
	for i := range buf {
		buf[i] = 'z' // the input reuses its buffer
	}
	if err := runWriter(w)(); err != nil {
		t.Fatal(err)
	}
	dls, _ := d.DeadLetters(context.Background(), DeadLetterFilter{})
	if len(dls) != 1 {
		t.Fatalf("dead letters = %d", len(dls))
	}
	dl := dls[0]
	if !bytes.Equal(dl.Raw, bytes.Repeat([]byte("a"), MaxDeadLetterRaw)) || !dl.Truncated || dl.RawLen != MaxDeadLetterRaw+100 {
		t.Errorf("stored %d bytes (first %q), truncated %v, raw_len %d", len(dl.Raw), dl.Raw[:1], dl.Truncated, dl.RawLen)
	}
}

func TestRejectWriterConcurrentRecord(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{Buffer: 64, BatchSize: 16, Interval: time.Millisecond})
	stop := runWriter(w)
	const workers, per = 8, 200
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range per {
				w.Record(ingest.Reject{Input: fmt.Sprintf("in%d", g%2), Source: "h", Reason: "r", Raw: fmt.Appendf(nil, "%d-%d", g, i)})
				if i%50 == 0 {
					_ = w.Counts()
				}
			}
		})
	}
	wg.Wait()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range w.Counts() {
		total += c.Count
	}
	src, _ := d.Sources(context.Background())
	var stored int64
	for _, s := range src {
		stored += s.ParseErrors
	}
	var rows int64
	if err := d.db.QueryRow(`SELECT count(*) FROM dead_letters`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if total != workers*per || stored != workers*per {
		t.Errorf("counted %d, stored counters %d; want %d each", total, stored, workers*per)
	}
	if rows+w.Dropped() != workers*per {
		t.Errorf("%d dead letters + %d dropped do not account for %d rejects", rows, w.Dropped(), workers*per)
	}
}

func TestRejectWriterSurvivesWriteFailure(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{})
	ctx := context.Background()
	// A real failure: the database refuses dead letters for a while.
	if _, err := d.db.ExecContext(ctx, `CREATE TRIGGER refuse BEFORE INSERT ON dead_letters
BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.Record(ingest.Reject{Input: "syslog", Source: "fw1", Reason: "bad_syslog", Raw: []byte("x")})
	}
	batch := make([]pendingReject, 0, 3)
	for range 3 {
		batch = append(batch, <-w.ch)
	}
	if _, err := w.flush(ctx, batch); err == nil {
		t.Fatal("flush succeeded against a refusing database")
	}
	if w.Dropped() != 3 {
		t.Errorf("Dropped = %d, want 3", w.Dropped())
	}
	if _, err := d.db.ExecContext(ctx, `DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	// The next write carries the counts of the failed one.
	w.Record(ingest.Reject{Input: "syslog", Source: "fw1", Reason: "bad_syslog", Raw: []byte("y")})
	if err := runWriter(w)(); err != nil {
		t.Fatal(err)
	}
	src, _ := d.Sources(ctx)
	dls, _ := d.DeadLetters(ctx, DeadLetterFilter{})
	if len(src) != 1 || src[0].ParseErrors != 4 || len(dls) != 1 {
		t.Errorf("after recovery: sources %+v, %d dead letters; want 4 counted, 1 stored", src, len(dls))
	}
}

func TestRejectWriterShutdownError(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	w := NewRejectWriter(d, testLogger(t), RejectWriterOptions{})
	w.Record(ingest.Reject{Input: "syslog", Source: "fw1", Reason: "bad_syslog"})
	if _, err := d.db.ExecContext(context.Background(), `CREATE TRIGGER refuse BEFORE INSERT ON dead_letters
BEGIN SELECT RAISE(ABORT, 'read-only'); END`); err != nil {
		t.Fatal(err)
	}
	err := runWriter(w)()
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Run = %v, want the write failure reported at shutdown", err)
	}
}
