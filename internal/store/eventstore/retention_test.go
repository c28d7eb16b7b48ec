package eventstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

func TestRetention(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{Retention: 48 * time.Hour})
	ctx := context.Background()
	// Five days, ten events each, 10:00 to 19:00.
	for d := 1; d <= 5; d++ {
		evs := make([]schema.Event, 10)
		for i := range evs {
			evs[i] = smallEvent(uint64(d), i, day(d).Add(10*time.Hour+time.Duration(i)*time.Hour))
		}
		mustWrite(t, s, evs, uint64(d))
	}
	// Now is May 5 15:00: the cutoff is May 3 15:00. Days 1 and 2 go
	// whole; day 3 loses 10:00..14:00.
	now := day(5).Add(15 * time.Hour)
	n, err := s.EnforceRetention(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Fatalf("retention deleted %d events, want 25", n)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 25 || st.Partitions != 3 || !st.Oldest.Equal(day(3).Add(15*time.Hour)) || !st.Newest.Equal(day(5).Add(19*time.Hour)) {
		t.Fatalf("stats after retention = %+v", st)
	}
	if c := mustCount(t, s, time.Time{}, time.Time{}, ""); c != 25 {
		t.Fatalf("count after retention = %d", c)
	}
	var tables []string
	rows, err := s.db.Query(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'events_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if !slices.Equal(tables, []string{"events_20240503", "events_20240504", "events_20240505"}) {
		t.Fatalf("tables after retention: %v", tables)
	}
	// Running again deletes nothing; a late event for a dropped day
	// recreates its table (and the next run removes it).
	if n, err := s.EnforceRetention(ctx, now); err != nil || n != 0 {
		t.Fatalf("second run deleted %d, %v", n, err)
	}
	mustWrite(t, s, []schema.Event{smallEvent(6, 0, day(1).Add(time.Hour))}, 6)
	if c := mustCount(t, s, day(1), day(2), ""); c != 1 {
		t.Fatalf("late event count = %d", c)
	}
	if n, err := s.EnforceRetention(ctx, now); err != nil || n != 1 {
		t.Fatalf("third run deleted %d, %v", n, err)
	}
}

func TestRetentionDisabled(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	mustWrite(t, s, []schema.Event{smallEvent(1, 0, day(1))}, 1)
	n, err := s.EnforceRetention(context.Background(), day(1).AddDate(10, 0, 0))
	if err != nil || n != 0 {
		t.Fatalf("retention without a period deleted %d, %v", n, err)
	}
}

// TestConcurrentWriteSearchRetention runs writes, searches, counts, stats
// and retention at once; run it with -race.
func TestConcurrentWriteSearchRetention(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{Retention: 72 * time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const batches = 40
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		for seq := uint64(1); seq <= batches; seq++ {
			evs := make([]schema.Event, 200)
			for i := range evs {
				// Spread over eight days so retention has work to do.
				evs[i] = smallEvent(seq, i, day(1).Add(time.Duration(seq)*4*time.Hour+time.Duration(i)*time.Second))
			}
			if err := s.Write(context.Background(), evs, seq); err != nil {
				errs <- err
				return
			}
		}
	}()
	reader := func(f func() error) {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := f(); err != nil && ctx.Err() == nil {
				errs <- err
				return
			}
		}
	}
	wg.Add(4)
	go reader(func() error {
		_, err := s.Search(ctx, SearchRequest{Query: "destination.port:443", Limit: 50})
		return err
	})
	go reader(func() error {
		_, err := s.Search(ctx, SearchRequest{From: day(2), To: day(4), Ascending: true, Limit: 500})
		return err
	})
	go reader(func() error {
		if _, err := s.Count(ctx, time.Time{}, time.Time{}, "source.ip:10.0.0.0/8"); err != nil {
			return err
		}
		_, err := s.Stats(ctx)
		return err
	})
	go reader(func() error {
		_, err := s.EnforceRetention(ctx, day(6))
		time.Sleep(5 * time.Millisecond)
		return err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cp, err := s.Checkpoint(context.Background()); err != nil || cp != batches {
		t.Fatalf("checkpoint = %d, %v", cp, err)
	}
}
