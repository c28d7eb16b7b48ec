package silence

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// An import where one of three sources stops: one alert, for that source,
// with its last event, severity from the asset and the floor as threshold.
func TestImportSourceStops(t *testing.T) {
	rng := newRand(1)
	end := t0.Add(6 * time.Hour)
	stop := t0.Add(3 * time.Hour)
	db := steady(rng, "db-01", schema.InputSyslog, t0, stop, time.Minute, 20*time.Second)
	lastDB := db[len(db)-1].Timestamp
	evs := merge(db,
		steady(rng, "web-01", schema.InputSyslog, t0, end, time.Minute, 20*time.Second),
		steady(rng, "dc-01", schema.InputWinlogbeat, t0, end, 30*time.Second, 10*time.Second))
	d := New(Options{}, assets{"db-01": {Name: "db-01", Criticality: "critical"}})
	alerts := run(d, evs, 500)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.RuleID != RuleSilent || a.Kind != schema.KindSourceSilent || a.Host != "db-01" ||
		a.Severity != schema.SeverityCritical || a.Details["source.input"] != schema.InputSyslog {
		t.Fatalf("alert %+v", a)
	}
	if !a.FirstSeen.Equal(lastDB) || a.Details["last_event"] != lastDB.Format(time.RFC3339Nano) {
		t.Fatalf("last event %v / %s, want %v", a.FirstSeen, a.Details["last_event"], lastDB)
	}
	if a.Details["threshold"] != "10m0s" || a.Details["state"] != StateSilent {
		t.Fatalf("details %v", a.Details)
	}
	// Judged within a sweep step (floor/4) of the threshold.
	if sf := mustDur(t, a.Details["silent_for"]); sf <= DefaultFloor || sf > DefaultFloor+DefaultFloor/4+time.Minute {
		t.Fatalf("silent_for %v", sf)
	}
	if p99 := mustDur(t, a.Details["p99_gap"]); p99 < time.Minute || p99 > 2*time.Minute {
		t.Fatalf("p99 gap %v of a 60±20 s source", p99)
	}
	if a.DedupKey != DedupKey(RuleSilent, "db-01", schema.InputSyslog) {
		t.Fatalf("dedup key %q", a.DedupKey)
	}
}

// A source that pauses for 40 minutes and resumes: the silence alert, then
// the same alert again recording the gap; stored, they are one alert that
// shows the recovery.
func TestPauseAndResume(t *testing.T) {
	rng := newRand(2)
	pause, resume := t0.Add(2*time.Hour), t0.Add(2*time.Hour+40*time.Minute)
	fw := steady(rng, "fw-01", "syslog", t0, pause, 15*time.Second, 0)
	last := fw[len(fw)-1].Timestamp
	fw = append(fw, steady(rng, "fw-01", "syslog", resume, t0.Add(4*time.Hour), 15*time.Second, 0)...)
	evs := merge(fw, steady(rng, "sw-01", "syslog", t0, t0.Add(4*time.Hour), 20*time.Second, 5*time.Second))
	d := New(Options{}, nil)
	alerts := run(d, evs, 300)
	if len(alerts) != 2 {
		t.Fatalf("got %d alerts, want silence + recovery: %+v", len(alerts), alerts)
	}
	sil, rec := alerts[0], alerts[1]
	if sil.Details["state"] != StateSilent || rec.Details["state"] != StateRecovered || sil.Key() != rec.Key() ||
		sil.Severity != schema.SeverityMedium {
		t.Fatalf("alerts %+v", alerts)
	}
	gap := resume.Sub(last)
	if rec.Details["silent_for"] != gap.String() || rec.Details["recovered_at"] != resume.Format(time.RFC3339Nano) ||
		!rec.FirstSeen.Equal(last) || !rec.LastSeen.Equal(resume) {
		t.Fatalf("recovery %+v, want silent_for %v", rec, gap)
	}

	db, err := statedb.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, a := range alerts { // stored one at a time, as two detection batches would
		if _, err := db.UpsertAlerts(context.Background(), []schema.Alert{a}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	stored, _, err := db.Alerts(context.Background(), statedb.AlertFilter{Kind: schema.KindSourceSilent})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].Count != 2 || stored[0].Details["silent_for"] != gap.String() ||
		stored[0].Details["recovered_at"] == "" || stored[0].Details["state"] != StateRecovered {
		t.Fatalf("stored %+v", stored)
	}
}

// Irregular but normal sources raise nothing.
func TestNoisyButNormal(t *testing.T) {
	rng := newRand(3)
	days := 3 * 24 * time.Hour
	tests := []struct {
		name string
		evs  func() []schema.Event
	}{
		{"exponential gaps with lulls", func() []schema.Event {
			var out []schema.Event
			for ts := t0; ts.Before(t0.Add(days)); {
				out = append(out, ev("app-01", "syslog", ts, importedAt))
				g := time.Duration(rng.ExpFloat64() * float64(30*time.Second))
				if rng.IntN(50) == 0 { // now and then a quiet spell of 4 to 9 minutes
					g = 4*time.Minute + time.Duration(rng.Int64N(int64(5*time.Minute)))
				}
				ts = ts.Add(g)
			}
			return out
		}},
		{"hourly bursts", func() []schema.Event {
			var out []schema.Event
			for h := t0; h.Before(t0.Add(days)); h = h.Add(time.Hour + time.Duration(rng.Int64N(int64(10*time.Minute)))) {
				for i := range 100 {
					out = append(out, ev("batch-01", "ndjson", h.Add(time.Duration(i)*200*time.Millisecond), importedAt))
				}
			}
			return out
		}},
		{"busy days, quiet nights", func() []schema.Event {
			var out []schema.Event
			for ts := t0; ts.Before(t0.Add(days)); {
				out = append(out, ev("web-02", "syslog", ts, importedAt))
				mean := 10 * time.Second
				if h := ts.Hour(); h < 6 || h >= 22 {
					mean = 90 * time.Second
				}
				ts = ts.Add(time.Duration(rng.ExpFloat64() * float64(mean)))
			}
			return out
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A steady companion keeps the watermark moving.
			evs := merge(tc.evs(), steady(rng, "clock-01", "syslog", t0, t0.Add(days), 10*time.Second, 0))
			d := New(Options{}, nil)
			if alerts := run(d, evs, 1000); len(alerts) != 0 {
				t.Fatalf("%d alerts: %+v", len(alerts), alerts[0])
			}
		})
	}
}

// Two imports running at once, of two weeks ago and of last week:
// the older source is far behind the watermark all along, which is not
// silence; when it stops, the watermark's progress since reveals it.
func TestLateSourceIsJudgedByProgress(t *testing.T) {
	tests := []struct {
		name  string
		bStop time.Duration // how long b-01 runs of the 6 hours
		want  int
	}{
		{"both run", 6 * time.Hour, 0},
		{"the late one stops", 3 * time.Hour, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := newRand(4)
			week := t0.Add(7 * 24 * time.Hour)
			a := steady(rng, "a-01", "syslog", week, week.Add(6*time.Hour), time.Minute, 0)
			b := steady(rng, "b-01", "syslog", t0, t0.Add(tc.bStop), time.Minute, 0)
			var evs []schema.Event // interleaved as two concurrent uploads deliver them
			for i := range a {
				evs = append(evs, a[i])
				if i < len(b) {
					evs = append(evs, b[i])
				}
			}
			alerts := run(New(Options{}, nil), evs, 200)
			if len(alerts) != tc.want {
				t.Fatalf("%d alerts, want %d", len(alerts), tc.want)
			}
			if tc.want == 1 && (alerts[0].Host != "b-01" || !alerts[0].FirstSeen.Equal(b[len(b)-1].Timestamp)) {
				t.Fatalf("alert %+v", alerts[0])
			}
		})
	}
}

// An hour far below its baseline raises a volume drop, and the next
// normal hour its recovery.
func TestVolumeDrop(t *testing.T) {
	rng := newRand(5)
	dropAt := t0.Add(48 * time.Hour)
	evs := steady(rng, "proxy-01", "syslog", t0, dropAt, 30*time.Second, 0)
	evs = append(evs, steady(rng, "proxy-01", "syslog", dropAt, dropAt.Add(time.Hour), 6*time.Minute, 0)...)
	evs = append(evs, steady(rng, "proxy-01", "syslog", dropAt.Add(time.Hour), dropAt.Add(4*time.Hour),
		30*time.Second, 0)...)
	d := New(Options{}, assets{"proxy-01": {Criticality: "high"}})
	alerts := run(d, evs, 500)
	if len(alerts) != 2 {
		t.Fatalf("got %d alerts, want drop + recovery: %+v", len(alerts), alerts)
	}
	drop, rec := alerts[0], alerts[1]
	if drop.RuleID != RuleVolumeDrop || drop.Details["current"] != "10" || drop.Details["baseline"] != "120.0" ||
		!drop.FirstSeen.Equal(dropAt) || drop.Severity != schema.SeverityHigh {
		t.Fatalf("drop %+v", drop)
	}
	if rec.Key() != drop.Key() || rec.Details["state"] != StateRecovered || rec.Details["low_hours"] != "1" {
		t.Fatalf("recovery %+v", rec)
	}
}

// A fast replay of another input (ten days of a Zeek sensor's history sent
// at once, as the demo's network feed does) does not make the syslog
// sources look silent: each is judged against the sources of its own input,
// and a syslog source that really stops is still caught although the
// replay ran far ahead.
func TestReplayOfAnotherInputIsNotSilence(t *testing.T) {
	t.Parallel()
	rng := newRand(11)
	syslog := merge(steady(rng, "web-01", "syslog", t0, t0.Add(6*time.Hour), time.Minute, 20*time.Second),
		steady(rng, "web-02", "syslog", t0, t0.Add(3*time.Hour), time.Minute, 20*time.Second),
		steady(rng, "db-01", "syslog", t0, t0.Add(6*time.Hour), time.Minute, 20*time.Second))
	var evs []schema.Event
	zeek := steady(rng, "sensor", "zeek", t0.Add(-10*24*time.Hour), t0.Add(6*time.Hour), 30*time.Second, 0)
	// The sensor's history arrives in big chunks that run ahead of the
	// syslog hosts' clock, interleaved with their stream.
	for len(syslog) > 0 || len(zeek) > 0 {
		n := min(6000, len(zeek))
		evs, zeek = append(evs, zeek[:n]...), zeek[n:]
		m := min(60, len(syslog))
		evs, syslog = append(evs, syslog[:m]...), syslog[m:]
	}
	alerts := run(New(Options{}, nil), evs, 500)
	if len(alerts) != 1 || alerts[0].Host != "web-02" || alerts[0].RuleID != RuleSilent {
		t.Fatalf("%d alerts, want web-02's silence only: %+v", len(alerts), alerts)
	}
}
