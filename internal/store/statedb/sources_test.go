package statedb

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
)

func TestApplySourceDeltas(t *testing.T) {
	t.Parallel()
	base := baseTime()
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	for _, tc := range []struct {
		name    string
		batches [][]SourceDelta
		want    []Source // compared on the fields set here; Rate not checked
	}{
		{
			name: "new source",
			batches: [][]SourceDelta{{{Host: "web1", Input: "syslog", Events: 3, Bytes: 300,
				FirstEvent: at(-10), LastEvent: at(-5), LastReceived: at(0)}}},
			want: []Source{{Host: "web1", Input: "syslog", Events: 3, Bytes: 300,
				FirstSeen: at(0), LastSeen: at(0), FirstEventTime: at(-10), LastEventTime: at(-5)}},
		},
		{
			name: "accumulates and widens",
			batches: [][]SourceDelta{
				{{Host: "web1", Input: "syslog", Events: 3, Bytes: 300, FirstEvent: at(-10), LastEvent: at(-5), LastReceived: at(0)}},
				{{Host: "web1", Input: "syslog", Events: 2, Bytes: 50, FirstEvent: at(-20), LastEvent: at(-15), LastReceived: at(30)}},
				{{Host: "web1", Input: "syslog", Events: 1, Bytes: 10, FirstEvent: at(40), LastEvent: at(40), LastReceived: at(20)}},
			},
			want: []Source{{Host: "web1", Input: "syslog", Events: 6, Bytes: 360,
				FirstSeen: at(0), LastSeen: at(30), FirstEventTime: at(-20), LastEventTime: at(40)}},
		},
		{
			name: "host × input are separate sources, sorted",
			batches: [][]SourceDelta{{
				{Host: "web1", Input: "zeek", Events: 1, LastReceived: at(0)},
				{Host: "db1", Input: "syslog", Events: 2, LastReceived: at(1)},
				{Host: "web1", Input: "syslog", Events: 4, LastReceived: at(2)},
			}},
			want: []Source{
				{Host: "db1", Input: "syslog", Events: 2, FirstSeen: at(1), LastSeen: at(1)},
				{Host: "web1", Input: "syslog", Events: 4, FirstSeen: at(2), LastSeen: at(2)},
				{Host: "web1", Input: "zeek", Events: 1, FirstSeen: at(0), LastSeen: at(0)},
			},
		},
		{
			name: "missing event times stay unknown until one arrives",
			batches: [][]SourceDelta{
				{{Host: "h", Input: "ndjson", Events: 1, LastReceived: at(0)}},
				{{Host: "h", Input: "ndjson", Events: 1, LastEvent: at(-3), LastReceived: at(1)}},
				{{Host: "h", Input: "ndjson", Events: 1, LastReceived: at(2)}},
			},
			want: []Source{{Host: "h", Input: "ndjson", Events: 3, FirstSeen: at(0), LastSeen: at(2),
				FirstEventTime: at(-3), LastEventTime: at(-3)}},
		},
		{
			name:    "empty names and receipt time take defaults",
			batches: [][]SourceDelta{{{Events: 1}}},
			want:    []Source{{Host: "unknown", Input: "unknown", Events: 1, FirstSeen: at(0), LastSeen: at(0)}},
		},
		{
			name:    "swapped event times are put in order",
			batches: [][]SourceDelta{{{Host: "h", Input: "bulk", Events: 2, FirstEvent: at(9), LastEvent: at(1), LastReceived: at(0)}}},
			want: []Source{{Host: "h", Input: "bulk", Events: 2, FirstSeen: at(0), LastSeen: at(0),
				FirstEventTime: at(1), LastEventTime: at(9)}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := openTestClock(t)
			ctx := context.Background()
			for _, b := range tc.batches {
				if err := d.ApplySourceDeltas(ctx, b); err != nil {
					t.Fatalf("ApplySourceDeltas: %v", err)
				}
			}
			got, err := d.Sources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d sources, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				g.Rate, g.ParseErrorsByReason = 0, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("source %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestApplySourceDeltasSkipsBadDelta(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	err := d.ApplySourceDeltas(ctx, []SourceDelta{
		{Host: "good1", Input: "syslog", Events: 1},
		{Host: "bad", Input: "syslog", Events: -1},
		{Host: "good2", Input: "syslog", Events: 2, Bytes: 5},
	})
	if err == nil || !strings.Contains(err.Error(), "bad/syslog") {
		t.Fatalf("err = %v, want one naming the bad delta", err)
	}
	got, err := d.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Host != "good1" || got[1].Host != "good2" || got[1].Events != 2 {
		t.Errorf("sources = %+v, want good1 and good2 only", got)
	}
	if err := d.ApplySourceDeltas(ctx, nil); err != nil {
		t.Errorf("empty deltas: %v", err)
	}
}

func TestSourceRate(t *testing.T) {
	t.Parallel()
	// Minute boundaries: baseTime is 09:26:53; m0 is 09:26:00.
	m0 := baseTime().Truncate(time.Minute)
	for _, tc := range []struct {
		name     string
		received map[time.Duration]int64 // offset from m0 → events
		now      time.Duration           // offset from m0
		want     float64
	}{
		{"nothing recent", map[time.Duration]int64{-10 * time.Minute: 600}, 30 * time.Second, 0},
		{"five full buckets", map[time.Duration]int64{
			-4 * time.Minute: 60, -3 * time.Minute: 60, -2 * time.Minute: 60, -time.Minute: 60, 0: 60,
		}, 59 * time.Second, 300.0 / (240 + 59)},
		{"oldest bucket start counts", map[time.Duration]int64{-4*time.Minute + time.Second: 240}, 0, 1},
		{"bucket before the window is left out", map[time.Duration]int64{
			-5*time.Minute + 59*time.Second: 1000, 10 * time.Second: 30,
		}, 30 * time.Second, 30.0 / 270},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, clock := openTestClock(t)
			ctx := context.Background()
			for off, n := range tc.received {
				clock.Set(m0.Add(off))
				err := d.ApplySourceDeltas(ctx, []SourceDelta{{Host: "h", Input: "syslog", Events: n, LastReceived: m0.Add(off)}})
				if err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(m0.Add(tc.now))
			got, err := d.Sources(ctx)
			if err != nil || len(got) != 1 {
				t.Fatalf("Sources = %+v, %v", got, err)
			}
			if math.Abs(got[0].Rate-tc.want) > 1e-9 {
				t.Errorf("Rate = %v, want %v", got[0].Rate, tc.want)
			}
		})
	}
}

func TestSourceMinutesPruned(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	for i := range 90 {
		delta := SourceDelta{Host: "h", Input: "zeek", Events: 1, LastReceived: clock.Now()}
		if err := d.ApplySourceDeltas(ctx, []SourceDelta{delta}); err != nil {
			t.Fatal(err)
		}
		if i < 89 {
			clock.Add(time.Minute)
		}
	}
	var n int
	var oldest int64
	if err := d.db.QueryRowContext(ctx, `SELECT count(*), min(minute) FROM source_minutes`).Scan(&n, &oldest); err != nil {
		t.Fatal(err)
	}
	if n != minuteRetention+1 || oldest != unixMinute(clock.Now())-minuteRetention {
		t.Errorf("source_minutes has %d rows from minute %d, want %d from %d", n, oldest,
			minuteRetention+1, unixMinute(clock.Now())-minuteRetention)
	}
	src, err := d.Sources(ctx)
	if err != nil || src[0].Events != 90 {
		t.Errorf("pruning counters changed the total: %+v, %v", src, err)
	}
}

func TestAddParseErrors(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	steps := []struct {
		host, input, reason string
		n                   int64
	}{
		{"fw1", "syslog", "bad_syslog", 2},
		{"fw1", "syslog", "oversized", 1},
		{"fw1", "syslog", "bad_syslog", 5},
		{"fw1", "syslog", "", 1}, // empty reason → invalid
		{"fw1", "syslog", "empty", 0},
		{"fw2", "syslog", "empty", -3}, // ignored: no source made
	}
	for _, s := range steps {
		clock.Add(time.Second)
		if err := d.AddParseErrors(ctx, s.host, s.input, s.reason, s.n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("sources = %+v, want fw1/syslog only", got)
	}
	s := got[0]
	want := map[string]int64{"bad_syslog": 7, "oversized": 1, "invalid": 1}
	if s.ParseErrors != 9 || len(s.ParseErrorsByReason) != len(want) {
		t.Errorf("parse errors = %d %v, want 9 %v", s.ParseErrors, s.ParseErrorsByReason, want)
	}
	for k, v := range want {
		if s.ParseErrorsByReason[k] != v {
			t.Errorf("reason %s = %d, want %d", k, s.ParseErrorsByReason[k], v)
		}
	}
	if s.Events != 0 || !s.FirstSeen.Equal(baseTime().Add(time.Second)) || !s.LastSeen.Equal(baseTime().Add(4*time.Second)) {
		t.Errorf("source = %+v", s)
	}
}

func TestSourcesGolden(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	base := baseTime()
	for i := range 6 {
		clock.Set(base.Add(time.Duration(i) * 40 * time.Second))
		recv := clock.Now()
		err := d.ApplySourceDeltas(ctx, []SourceDelta{
			{Host: "dc01.corp.example", Input: "winlogbeat", Events: int64(100 + i), Bytes: int64(50_000 + i),
				FirstEvent: recv.Add(-2 * time.Second), LastEvent: recv.Add(-time.Second), LastReceived: recv},
			{Host: "sensor-1", Input: "zeek", Events: 1000, Bytes: 250_000,
				FirstEvent: recv.Add(-time.Minute), LastEvent: recv, LastReceived: recv},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddParseErrors(ctx, "sensor-1", "zeek", "bad_zeek", 4); err != nil {
		t.Fatal(err)
	}
	if err := d.AddParseErrors(ctx, "10.0.0.9", "syslog", "bad_syslog", 1); err != nil {
		t.Fatal(err)
	}
	got, err := d.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "sources.golden.json"), append(b, '\n'))
}
