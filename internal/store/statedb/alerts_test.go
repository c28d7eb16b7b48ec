package statedb

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// alertAt returns an alert of rule on host seen at event time t.
func alertAt(rule, host string, t time.Time) schema.Alert {
	return schema.Alert{
		RuleID: rule, RuleName: "Rule " + rule, Kind: schema.KindSigma, Title: rule + " on " + host,
		Severity: schema.SeverityMedium, FirstSeen: t, LastSeen: t, Host: host, SourceIP: "10.0.0.1",
	}
}

// sampleAlerts returns n alerts with distinct keys.
func sampleAlerts(n int) []schema.Alert {
	out := make([]schema.Alert, n)
	for i := range out {
		out[i] = alertAt(fmt.Sprintf("r%d", i), "host", baseTime())
	}
	return out
}

func TestUpsertAlertsGrouping(t *testing.T) {
	t.Parallel()
	base := baseTime()
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	with := func(a schema.Alert, f func(*schema.Alert)) schema.Alert { f(&a); return a }
	type want struct {
		count       int64
		first, last time.Time
	}
	for _, tc := range []struct {
		name    string
		window  time.Duration
		batches [][]schema.Alert
		resolve bool // resolve every alert after the first batch
		want    []want
	}{
		{"repeat within window groups", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(9))}},
			false, []want{{2, at(0), at(9)}}},
		{"repeat just at the window edge groups", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(10))}},
			false, []want{{2, at(0), at(10)}}},
		{"repeat after the window opens a new alert", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(11))}},
			false, []want{{1, at(11), at(11)}, {1, at(0), at(0)}}},
		{"window is measured from last seen", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(8))}, {alertAt("r", "h", at(16))}},
			false, []want{{3, at(0), at(16)}}},
		{"repeats in one batch group", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h", at(0)), alertAt("r", "h", at(1)), alertAt("r", "h", at(2))}},
			false, []want{{3, at(0), at(2)}}},
		{"different host is a different alert", 10 * time.Minute,
			[][]schema.Alert{{alertAt("r", "h1", at(0)), alertAt("r", "h2", at(1))}},
			false, []want{{1, at(1), at(1)}, {1, at(0), at(0)}}},
		{"explicit dedup key groups across hosts", 10 * time.Minute,
			[][]schema.Alert{{
				with(alertAt("r", "h1", at(0)), func(a *schema.Alert) { a.DedupKey = "scan" }),
				with(alertAt("r", "h2", at(1)), func(a *schema.Alert) { a.DedupKey = "scan" }),
			}},
			false, []want{{2, at(0), at(1)}}},
		{"counts add up", 10 * time.Minute,
			[][]schema.Alert{{
				with(alertAt("r", "h", at(0)), func(a *schema.Alert) { a.Count = 5 }),
				with(alertAt("r", "h", at(1)), func(a *schema.Alert) { a.Count = 7 }),
			}},
			false, []want{{12, at(0), at(1)}}},
		{"late alert inside the span groups and widens", 10 * time.Minute,
			[][]schema.Alert{{with(alertAt("r", "h", at(0)), func(a *schema.Alert) { a.LastSeen = at(30) })},
				{alertAt("r", "h", at(-5))}},
			false, []want{{2, at(-5), at(30)}}},
		{"resolved alert does not group", time.Hour,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(1))}},
			true, []want{{1, at(1), at(1)}, {1, at(0), at(0)}}},
		{"zero window groups only overlapping spans", 0,
			[][]schema.Alert{{alertAt("r", "h", at(0))}, {alertAt("r", "h", at(0))}, {alertAt("r", "h", at(1))}},
			false, []want{{1, at(1), at(1)}, {2, at(0), at(0)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, clock := openTestClock(t)
			ctx := context.Background()
			for i, b := range tc.batches {
				clock.Add(time.Second)
				if _, err := d.UpsertAlerts(ctx, b, tc.window); err != nil {
					t.Fatal(err)
				}
				if i == 0 && tc.resolve {
					got, _, _ := d.Alerts(ctx, AlertFilter{})
					for _, a := range got {
						if err := d.SetAlertStatus(ctx, a.ID, schema.StatusResolved); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			got, _, err := d.Alerts(ctx, AlertFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d alerts, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Count != w.count || !g.FirstSeen.Equal(w.first) || !g.LastSeen.Equal(w.last) {
					t.Errorf("alert %d: count %d %v..%v, want %d %v..%v", i, g.Count, g.FirstSeen, g.LastSeen,
						w.count, w.first, w.last)
				}
			}
		})
	}
}

func TestUpsertAlertsMerge(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	a := alertAt("r", "h", baseTime())
	a.Tags = []string{"attack.t1110", "attack.credential_access"}
	a.EvidenceIDs = []uint64{1, 2, 3}
	a.Details = map[string]string{"threshold": "5", "failures": "6"}
	first, err := d.UpsertAlerts(ctx, []schema.Alert{a}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	created := clock.Now()
	clock.Add(time.Minute)

	b := alertAt("r", "h", baseTime().Add(time.Minute))
	b.Severity = schema.SeverityHigh
	b.Tags = []string{"attack.t1110", "attack.t1078"}
	b.EvidenceIDs = []uint64{3, 4}
	b.Details = map[string]string{"failures": "9"}
	b.Title = "ignored: the first title stays"
	got, err := d.UpsertAlerts(ctx, []schema.Alert{b}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if g.ID != first[0].ID {
		t.Fatalf("grouped alert has ID %s, want %s", g.ID, first[0].ID)
	}
	want := schema.Alert{
		ID: first[0].ID, RuleID: "r", RuleName: "Rule r", Kind: schema.KindSigma, Title: "r on h",
		Severity: schema.SeverityHigh, Priority: 2,
		FirstSeen: baseTime(), LastSeen: baseTime().Add(time.Minute),
		Created: created, Updated: clock.Now(), Host: "h", SourceIP: "10.0.0.1",
		Tags:        []string{"attack.t1110", "attack.credential_access", "attack.t1078"},
		EvidenceIDs: []uint64{1, 2, 3, 4}, Status: schema.StatusNew, Count: 2,
		DedupKey: "sigma|r|h|10.0.0.1", Details: map[string]string{"threshold": "5", "failures": "9"},
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("returned alert:\n got %+v\nwant %+v", g, want)
	}
	stored, err := d.Alert(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, want) {
		t.Errorf("stored alert:\n got %+v\nwant %+v", stored, want)
	}
}

func TestUpsertAlertsEvidenceCap(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	var last schema.Alert
	for batch := range 3 {
		a := alertAt("r", "h", baseTime())
		for i := range 60 {
			a.EvidenceIDs = append(a.EvidenceIDs, uint64(batch*60+i)<<16)
		}
		got, err := d.UpsertAlerts(ctx, []schema.Alert{a}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		last = got[0]
	}
	if len(last.EvidenceIDs) != MaxEvidenceIDs || last.EvidenceIDs[99] != 99<<16 || last.Count != 3 {
		t.Errorf("evidence %d ids ending %d, count %d; want the first %d", len(last.EvidenceIDs),
			last.EvidenceIDs[len(last.EvidenceIDs)-1], last.Count, MaxEvidenceIDs)
	}
}

func TestUpsertAlertsInvalid(t *testing.T) {
	t.Parallel()
	good := alertAt("good", "h", baseTime())
	for _, tc := range []struct {
		name string
		mod  func(*schema.Alert)
		want string
	}{
		{"no kind", func(a *schema.Alert) { a.Kind = "" }, "no kind"},
		{"no severity", func(a *schema.Alert) { a.Severity = 0 }, "severity 0"},
		{"severity too high", func(a *schema.Alert) { a.Severity = 9 }, "severity 9"},
		{"priority", func(a *schema.Alert) { a.Priority = 6 }, "priority 6"},
		{"negative count", func(a *schema.Alert) { a.Count = -1 }, "negative count"},
		{"status", func(a *schema.Alert) { a.Status = "closed" }, `status "closed"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := openTestClock(t)
			bad := alertAt("bad", "h", baseTime())
			tc.mod(&bad)
			got, err := d.UpsertAlerts(context.Background(), []schema.Alert{good, bad, good}, time.Hour)
			if err == nil || !errors.Is(err, errBadAlert) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if len(got) != 2 || got[1].Count != 2 {
				t.Errorf("the good alerts were not stored: %+v", got)
			}
		})
	}
}

func TestUpsertAlertsDefaults(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	noTimes := alertAt("a", "h", time.Time{})
	onlyLast := alertAt("b", "h", time.Time{})
	onlyLast.LastSeen = baseTime().Add(-time.Hour)
	swapped := alertAt("c", "h", baseTime())
	swapped.FirstSeen = baseTime().Add(time.Minute)
	got, err := d.UpsertAlerts(ctx, []schema.Alert{noTimes, onlyLast, swapped}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		i           int
		first, last time.Time
	}{
		{0, clock.Now(), clock.Now()},
		{1, baseTime().Add(-time.Hour), baseTime().Add(-time.Hour)},
		{2, baseTime(), baseTime().Add(time.Minute)},
	} {
		g := got[tc.i]
		if !g.FirstSeen.Equal(tc.first) || !g.LastSeen.Equal(tc.last) {
			t.Errorf("alert %d: %v..%v, want %v..%v", tc.i, g.FirstSeen, g.LastSeen, tc.first, tc.last)
		}
		if g.Status != schema.StatusNew || g.Count != 1 || g.Priority != 3 || len(g.ID) != idLen {
			t.Errorf("alert %d defaults: %+v", tc.i, g)
		}
	}
}

func TestUpsertAlertsConcurrent(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	const workers, per = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				a := alertAt("r", "h", baseTime().Add(time.Duration(w*per+i)*time.Second))
				if _, err := d.UpsertAlerts(ctx, []schema.Alert{a}, time.Hour); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() { // readers beside the writers
		for range 20 {
			if _, _, err := d.Alerts(ctx, AlertFilter{}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, _, err := d.Alerts(ctx, AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Count != workers*per {
		t.Errorf("got %d alerts, first count %d; want 1 with %d", len(got), got[0].Count, workers*per)
	}
}

func TestApplyDetections(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	if cp, err := d.ConsumerCheckpoint(ctx, "sigma"); err != nil || cp != 0 {
		t.Fatalf("initial checkpoint = %d, %v", cp, err)
	}
	steps := []struct {
		seq       uint64
		n         int
		wantCP    uint64
		wantCount int64
	}{
		{5, 1, 5, 1},
		{5, 1, 5, 1}, // replay of 5: ignored
		{3, 1, 5, 1}, // older: ignored
		{6, 2, 6, 3},
		{7, 0, 7, 3}, // no alerts still moves the checkpoint
	}
	for i, s := range steps {
		alerts := make([]schema.Alert, s.n)
		for j := range alerts {
			alerts[j] = alertAt("r", "h", baseTime())
		}
		if err := d.ApplyDetections(ctx, "sigma", s.seq, alerts, time.Hour); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		cp, err := d.ConsumerCheckpoint(ctx, "sigma")
		if err != nil || cp != s.wantCP {
			t.Errorf("step %d: checkpoint %d, %v; want %d", i, cp, err, s.wantCP)
		}
		got, _, _ := d.Alerts(ctx, AlertFilter{})
		if len(got) != 1 || got[0].Count != s.wantCount {
			t.Errorf("step %d: alerts %+v, want one with count %d", i, got, s.wantCount)
		}
	}
	if cp, _ := d.ConsumerCheckpoint(ctx, "beacon"); cp != 0 {
		t.Errorf("other consumer's checkpoint = %d", cp)
	}
	if err := d.ApplyDetections(ctx, "", 1, nil, time.Hour); err == nil {
		t.Error("empty consumer accepted")
	}
	if err := d.ApplyDetections(ctx, "x", 1<<63, nil, time.Hour); err == nil {
		t.Error("sequence beyond int64 accepted")
	}
}

func TestApplyDetectionsIsAtomic(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	// A real failure inside the transaction: the database refuses one alert.
	if _, err := d.db.ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE INSERT ON alerts
WHEN NEW.rule_id = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	if err := d.ApplyDetections(ctx, "sigma", 1, []schema.Alert{alertAt("ok", "h", baseTime())}, time.Hour); err != nil {
		t.Fatal(err)
	}
	batch := []schema.Alert{alertAt("ok", "h", baseTime()), alertAt("boom", "h", baseTime())}
	if err := d.ApplyDetections(ctx, "sigma", 2, batch, time.Hour); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want the trigger's refusal", err)
	}
	if cp, _ := d.ConsumerCheckpoint(ctx, "sigma"); cp != 1 {
		t.Errorf("checkpoint moved to %d after a failed batch", cp)
	}
	got, _, _ := d.Alerts(ctx, AlertFilter{})
	if len(got) != 1 || got[0].Count != 1 {
		t.Errorf("failed batch left changes: %+v", got)
	}
}
