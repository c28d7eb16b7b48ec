package silence

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// fakeClock is the wall clock of a live-ingest test.
type fakeClock struct{ now time.Time }

func (c *fakeClock) advance(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

// liveEvents sends n events of a source every gap from the clock's time on,
// received as they happen, and leaves the clock at the last one.
func liveEvents(d *Detector, c *fakeClock, host string, n int, gap time.Duration) []schema.Alert {
	var out []schema.Alert
	for i := range n {
		if i > 0 {
			c.advance(gap)
		}
		d.Detect([]schema.Event{ev(host, schema.InputSyslog, c.now, c.now)},
			func(a schema.Alert) { out = append(out, a) })
	}
	return out
}

// A live source that stops alerts by the wall clock alone; the alert is
// raised once, the event path does not raise it again, and the source's
// return records the silence.
func TestWallClockSilence(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	listening := clk.now
	d := New(Options{Floor: 30 * time.Second, MinHistory: time.Minute, MinEvents: 10}, nil)
	// A source imported from last month is not live: the wall clock does
	// not judge it.
	old := steady(newRand(6), "old-01", schema.InputSyslog, t0, t0.Add(3*time.Hour), time.Minute, 0)
	if a := run(d, old, 100); len(a) != 0 {
		t.Fatalf("import raised %+v", a)
	}
	if a := liveEvents(d, clk, "app-07", 40, 5*time.Second); len(a) != 0 {
		t.Fatalf("live events raised %+v", a)
	}
	last := clk.now
	counts := []SourceCounts{{Host: "app-07", Input: schema.InputSyslog, LastSeen: last, Events: 40}}
	if a := d.CheckWall(WallCheck{Now: clk.advance(20 * time.Second), Listening: listening, Counts: counts}); len(a) != 0 {
		t.Fatalf("20 s of quiet (threshold 30 s) raised %+v", a)
	}
	alerts := d.CheckWall(WallCheck{Now: clk.advance(15 * time.Second), Listening: listening, Counts: counts})
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts after 35 s, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.Host != "app-07" || a.Details["clock"] != "wall" || a.Details["silent_for"] != "35s" ||
		!a.FirstSeen.Equal(last) || !a.LastSeen.Equal(clk.now) {
		t.Fatalf("alert %+v", a)
	}
	if a := d.CheckWall(WallCheck{Now: clk.advance(time.Minute), Listening: listening, Counts: counts}); len(a) != 0 {
		t.Fatalf("second check raised again: %+v", a)
	}
	back := liveEvents(d, clk, "app-07", 1, 0)
	if len(back) != 1 || back[0].Key() != a.Key() || back[0].Details["state"] != StateRecovered ||
		back[0].Details["silent_for"] != clk.now.Sub(last).String() {
		t.Fatalf("recovery %+v", back)
	}
	if st := d.Stats(); st.Silent != 0 || st.Alerts[RuleSilent] != 2 || st.Live != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A node that just started cannot know a source silent for longer than it
// has been listening; the sources table's receipt counts like an event; a
// detection stage behind the log judges nothing.
func TestWallClockListeningAndTable(t *testing.T) {
	tests := []struct {
		name      string
		quiet     time.Duration // since the last event
		listening time.Duration // since the node started listening
		tableSeen time.Duration // since the table last saw a record
		backlog   bool
		want      int
	}{
		{"silent", time.Minute, time.Hour, time.Minute, false, 1},
		{"node just started", time.Minute, 10 * time.Second, time.Minute, false, 0},
		{"rejected records still arrive", time.Minute, time.Hour, 5 * time.Second, false, 0},
		{"within threshold", 20 * time.Second, time.Hour, 20 * time.Second, false, 0},
		{"detection behind the log", time.Minute, time.Hour, time.Minute, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
			d := New(Options{Floor: 30 * time.Second, MinHistory: time.Minute, MinEvents: 10}, nil)
			liveEvents(d, clk, "app-08", 30, 5*time.Second)
			now := clk.advance(tc.quiet)
			counts := []SourceCounts{{Host: "app-08", Input: schema.InputSyslog, LastSeen: now.Add(-tc.tableSeen)}}
			got := d.CheckWall(WallCheck{Now: now, Listening: now.Add(-tc.listening), Counts: counts, Backlog: tc.backlog})
			if len(got) != tc.want {
				t.Fatalf("got %d alerts, want %d: %+v", len(got), tc.want, got)
			}
		})
	}
}

// Parse-error rates: a jump well above the source's usual rate alerts
// once and its end is recorded; a source that always fails somewhat does
// not alert.
func TestParseErrorJump(t *testing.T) {
	type window struct{ events, errors int64 }
	normal := window{100, 1}
	tests := []struct {
		name    string
		windows []window
		want    []string // states of the alerts, in order
	}{
		{"jump and recovery", []window{normal, normal, normal, normal, {60, 40}, {50, 50}, normal}, []string{StateErrors, StateRecovered}},
		{"steadily noisy", []window{{80, 20}, {78, 22}, {81, 19}, {79, 21}, {77, 23}}, nil},
		{"too few windows to judge", []window{normal, {60, 40}}, nil},
		{"small windows add up", []window{normal, normal, normal, {10, 0}, {20, 20}, {5, 20}}, []string{StateErrors}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := New(Options{}, nil)
			now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			var ev, x int64
			var got []string
			read := func() {
				for _, a := range d.CheckWall(WallCheck{Now: now, Listening: now, Counts: []SourceCounts{{
					Host: "fw-02", Input: "syslog", LastSeen: now, Events: ev, ParseErrors: x}}}) {
					if a.RuleID != RuleParseErrors || a.Key() != DedupKey(RuleParseErrors, "fw-02", "syslog") {
						t.Fatalf("alert %+v", a)
					}
					got = append(got, a.Details["state"])
				}
			}
			read() // the first reading only sets the starting point
			for _, w := range tc.windows {
				now = now.Add(30 * time.Second)
				ev, x = ev+w.events, x+w.errors
				read()
			}
			if len(got) != len(tc.want) {
				t.Fatalf("states %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("states %v, want %v", got, tc.want)
				}
			}
		})
	}
}
