package silence

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Maintenance windows suppress silences they explain, and only those.
func TestMaintenanceWindows(t *testing.T) {
	pause := t0.Add(3 * time.Hour) // Monday 03:00 UTC
	tests := []struct {
		name       string
		window     Window
		resume     time.Duration // after the pause; 0: never
		wantAlerts int
		suppressed int64
	}{
		{"one-off window covers the pause", Window{Hosts: []string{"db-*"}, Start: pause.Add(-time.Minute),
			End: pause.Add(time.Hour)}, time.Hour, 0, 1},
		{"weekly window covers the pause", Window{Inputs: []string{"syslog"}, Weekly: []Weekly{{
			Days: []time.Weekday{time.Monday}, From: 2*time.Hour + 30*time.Minute, To: 4 * time.Hour}}},
			50 * time.Minute, 0, 1},
		{"silence outlasting the window alerts", Window{Hosts: []string{"db-*"}, Start: pause,
			End: pause.Add(30 * time.Minute)}, 0, 1, 1},
		{"other hosts' window", Window{Hosts: []string{"web-*"}, Start: pause, End: pause.Add(time.Hour)},
			time.Hour, 2, 0},
		{"other input's window", Window{Inputs: []string{"zeek"}, Start: pause, End: pause.Add(time.Hour)},
			time.Hour, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.window.Validate(); err != nil {
				t.Fatal(err)
			}
			rng := newRand(7)
			db := steady(rng, "db-02", "syslog", t0, pause, time.Minute, 0)
			if tc.resume > 0 {
				db = append(db, steady(rng, "db-02", "syslog", pause.Add(tc.resume), t0.Add(8*time.Hour), time.Minute, 0)...)
			}
			evs := merge(db, steady(rng, "clock-01", "syslog", t0, t0.Add(8*time.Hour), 20*time.Second, 0))
			d := New(Options{Maintenance: []Window{tc.window}}, nil)
			alerts := run(d, evs, 250)
			if len(alerts) != tc.wantAlerts || d.Stats().Suppressed != tc.suppressed {
				t.Fatalf("%d alerts (want %d), %d suppressed (want %d): %+v", len(alerts), tc.wantAlerts,
					d.Stats().Suppressed, tc.suppressed, alerts)
			}
			if tc.wantAlerts == 1 { // alerts threshold-long after the window, silent since the pause
				if sf := mustDur(t, alerts[0].Details["silent_for"]); sf < 40*time.Minute || sf > 45*time.Minute {
					t.Fatalf("silent_for %v", sf)
				}
			}
		})
	}
}

// A detector saved mid-stream and restored raises exactly what an
// uninterrupted one does.
func TestStateRoundTrip(t *testing.T) {
	rng := newRand(8)
	stop := t0.Add(5 * time.Hour)
	evs := merge(steady(rng, "db-03", "syslog", t0, stop, time.Minute, 10*time.Second),
		steady(rng, "db-03", "syslog", stop.Add(time.Hour), t0.Add(9*time.Hour), time.Minute, 10*time.Second),
		steady(rng, "web-03", "syslog", t0, t0.Add(9*time.Hour), 30*time.Second, 5*time.Second))
	whole := run(New(Options{}, nil), evs, 400)
	if len(whole) != 2 {
		t.Fatalf("uninterrupted run: %d alerts, want 2", len(whole))
	}
	half := len(evs) / 2
	first := New(Options{}, nil)
	got := run(first, evs[:half], 400)
	data, err := first.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	second := New(Options{}, nil)
	if err := second.LoadState(data); err != nil {
		t.Fatal(err)
	}
	got = append(got, run(second, evs[half:], 400)...)
	if !reflect.DeepEqual(got, whole) {
		t.Fatalf("restored run:\n%+v\nuninterrupted:\n%+v", got, whole)
	}
	if err := second.LoadState([]byte("garbage")); err == nil {
		t.Fatal("garbage state loaded")
	}
}

// The number of sources is capped, and sources silent for long are
// forgotten.
func TestBoundedSources(t *testing.T) {
	d := New(Options{MaxSources: 2, EvictAfter: 2 * time.Hour}, nil)
	var evs []schema.Event
	for i, h := range []string{"a", "b", "c"} {
		evs = append(evs, ev(h, "syslog", t0.Add(time.Duration(i)*time.Second), importedAt))
	}
	run(d, evs, 10)
	if st := d.Stats(); st.Sources != 2 || st.Untracked != 1 {
		t.Fatalf("after three sources: %+v", st)
	}
	run(d, steady(newRand(9), "b", "syslog", t0, t0.Add(3*time.Hour), time.Minute, 0), 100)
	if st := d.Stats(); st.Sources != 1 || st.Evicted != 1 {
		t.Fatalf("after a's silence: %+v", st)
	}
	run(d, []schema.Event{ev("c", "syslog", t0.Add(3*time.Hour), importedAt)}, 1)
	if st := d.Stats(); st.Sources != 2 {
		t.Fatalf("c not tracked once room was made: %+v", st)
	}
}

func TestWindowValidate(t *testing.T) {
	tests := []struct {
		name string
		w    Window
		ok   bool
	}{
		{"one-off", Window{Start: t0, End: t0.Add(time.Hour)}, true},
		{"end before start", Window{Start: t0, End: t0.Add(-time.Hour)}, false},
		{"start alone", Window{Start: t0}, false},
		{"nothing", Window{Hosts: []string{"x"}}, false},
		{"bad glob", Window{Hosts: []string{"["}, Start: t0, End: t0.Add(time.Hour)}, false},
		{"weekly overnight", Window{Weekly: []Weekly{{Days: []time.Weekday{time.Sunday}, From: 22 * time.Hour,
			To: 2 * time.Hour}}}, true},
		{"weekly without days", Window{Weekly: []Weekly{{From: time.Hour, To: 2 * time.Hour}}}, false},
	}
	for _, tc := range tests {
		if err := tc.w.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
