package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/schema"
)

func openTestLog(t *testing.T, dir string, o Options) *Log {
	t.Helper()
	o.Dir = dir
	if len(o.Consumers) == 0 {
		o.Consumers = []string{"store"}
	}
	l, err := Open(context.Background(), o, NewMetrics(prometheus.NewRegistry()),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func events(n, from int) []schema.Event {
	evs := make([]schema.Event, n)
	for i := range evs {
		evs[i] = schema.Event{Message: "m" + strconv.Itoa(from+i), Timestamp: time.Unix(int64(from+i), 0).UTC()}
	}
	return evs
}

// collect consumes until it has seen want events, then stops.
func collect(t *testing.T, l *Log, name string, want int, fail func(b []Batch) bool) []schema.Event {
	t.Helper()
	return collectFrom(t, l, name, 0, want, fail)
}

func collectFrom(t *testing.T, l *Log, name string, from uint64, want int, fail func(b []Batch) bool) []schema.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []schema.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Consume(ctx, name, from, ConsumeOptions{MaxWait: 20 * time.Millisecond}, func(_ context.Context, bs []Batch) error {
			if fail != nil && fail(bs) {
				return errors.New("injected failure")
			}
			mu.Lock()
			defer mu.Unlock()
			for _, b := range bs {
				got = append(got, b.Events...)
			}
			if len(got) >= want {
				cancel()
			}
			return nil
		})
	}()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(got) < want {
		t.Fatalf("consumer %s saw %d events, want %d", name, len(got), want)
	}
	return got
}

func TestSubmitConsumeInOrderWithIDs(t *testing.T) {
	t.Parallel()
	l := openTestLog(t, t.TempDir(), Options{Consumers: []string{"store", "detect"}})
	defer l.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := l.Submit(ctx, events(1000, i*1000)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"store", "detect"} {
		got := collect(t, l, name, 5000, nil)
		seen := map[uint64]bool{}
		for i, ev := range got {
			if ev.Message != "m"+strconv.Itoa(i) {
				t.Fatalf("%s: event %d is %q: out of order", name, i, ev.Message)
			}
			if seen[ev.ID] || ev.ID == 0 {
				t.Fatalf("%s: event %d has duplicate or zero id %d", name, i, ev.ID)
			}
			seen[ev.ID] = true
		}
	}
}

func TestConsumerRetriesFailedBatch(t *testing.T) {
	t.Parallel()
	l := openTestLog(t, t.TempDir(), Options{})
	defer l.Close()
	if err := l.Submit(context.Background(), events(10, 0)); err != nil {
		t.Fatal(err)
	}
	failures := 2
	got := collect(t, l, "store", 10, func([]Batch) bool { failures--; return failures >= 0 })
	if len(got) != 10 || failures >= 0 {
		t.Fatalf("got %d events after %d failures left", len(got), failures)
	}
}

func TestUnackedBatchesReplayAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{})
	if err := l.Submit(context.Background(), events(100, 0)); err != nil {
		t.Fatal(err)
	}
	l.Close() // nothing consumed: a crash before any consumer work
	l = openTestLog(t, dir, Options{})
	defer l.Close()
	got := collect(t, l, "store", 100, nil)
	if got[99].Message != "m99" {
		t.Fatalf("last replayed event is %q", got[99].Message)
	}
}

func TestRestartResumesAfterCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{})
	for i := 0; i < 10; i++ {
		if err := l.Submit(context.Background(), events(10, i*10)); err != nil {
			t.Fatal(err)
		}
	}
	first := collect(t, l, "store", 100, nil)
	l.Close()
	// The consumer committed only the first 4 batches before "crashing".
	ckpt, _ := schema.SplitID(first[39].ID)
	l = openTestLog(t, dir, Options{})
	defer l.Close()
	got := collectFrom(t, l, "store", ckpt, 60, nil)
	if len(got) != 60 || got[0].Message != "m40" || got[59].Message != "m99" {
		t.Fatalf("resumed with %d events, first %q", len(got), got[0].Message)
	}
}

func TestPurgeWaitsForEveryConsumer(t *testing.T) {
	t.Parallel()
	l := openTestLog(t, t.TempDir(), Options{Consumers: []string{"store", "detect"}})
	defer l.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := l.Submit(ctx, events(10, i*10)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := func() uint64 {
		st, err := l.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Msgs
	}
	collect(t, l, "store", 50, nil)
	time.Sleep(300 * time.Millisecond)
	if n := msgs(); n != 5 {
		t.Fatalf("%d messages left after one of two consumers finished, want all 5 kept", n)
	}
	collect(t, l, "detect", 50, nil)
	deadline := time.Now().Add(5 * time.Second)
	for msgs() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left after every consumer finished", msgs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIdempotencyKeyStoresOnce(t *testing.T) {
	t.Parallel()
	l := openTestLog(t, t.TempDir(), Options{})
	defer l.Close()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := l.SubmitID(ctx, "client-batch-1", events(10, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Submit(ctx, events(1, 10)); err != nil {
		t.Fatal(err)
	}
	got := collect(t, l, "store", 11, nil)
	if len(got) != 11 {
		t.Fatalf("got %d events, want 11 (the repeated batch once)", len(got))
	}
}

func TestBackpressure(t *testing.T) {
	t.Parallel()
	l := openTestLog(t, t.TempDir(), Options{MaxPendingBytes: 10 << 10})
	defer l.Close()
	ctx := context.Background()
	big := events(200, 0)
	for i := range big {
		big[i].Original = string(make([]byte, 200))
	}
	if err := l.Submit(ctx, big); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !errors.Is(l.Submit(ctx, events(1, 0)), ErrBackpressure) {
		if time.Now().After(deadline) {
			t.Fatal("no backpressure although nothing consumes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	collect(t, l, "store", 200, nil)
	deadline = time.Now().Add(5 * time.Second)
	for l.Submit(ctx, events(1, 0)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("backpressure did not clear after consumption")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
