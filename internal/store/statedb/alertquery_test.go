package statedb

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// seedAlerts stores a fixed set of alerts and returns them by rule ID.
func seedAlerts(t *testing.T, d *DB) map[string]schema.Alert {
	t.Helper()
	base := baseTime()
	mk := func(rule, kind, host string, sev schema.Severity, minute int) schema.Alert {
		a := alertAt(rule, host, base.Add(time.Duration(minute)*time.Minute))
		a.Kind, a.Severity = kind, sev
		return a
	}
	in := []schema.Alert{
		mk("brute", schema.KindBuiltin, "web1", schema.SeverityHigh, 0),
		mk("sigma-1", schema.KindSigma, "web1", schema.SeverityMedium, 10),
		mk("sigma-2", schema.KindSigma, "db1", schema.SeverityCritical, 20),
		mk("beacon", schema.KindBeacon, "db1", schema.SeverityLow, 30),
		mk("ioc", schema.KindIOC, "web2", schema.SeverityInformational, 40),
		mk("silent", schema.KindSourceSilent, "fw1", schema.SeverityMedium, 50),
		mk("tie-a", schema.KindSigma, "web1", schema.SeverityLow, 60),
		mk("tie-b", schema.KindSigma, "web2", schema.SeverityLow, 60),
	}
	got, err := d.UpsertAlerts(context.Background(), in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	byRule := make(map[string]schema.Alert, len(got))
	for _, a := range got {
		byRule[a.RuleID] = a
	}
	if err := d.SetAlertStatus(context.Background(), byRule["sigma-1"].ID, schema.StatusAcknowledged); err != nil {
		t.Fatal(err)
	}
	if err := d.SetAlertStatus(context.Background(), byRule["beacon"].ID, schema.StatusResolved); err != nil {
		t.Fatal(err)
	}
	return byRule
}

func rules(as []schema.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.RuleID
	}
	return out
}

func TestAlertsFilter(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	seeded := seedAlerts(t, d)
	ties := []string{"tie-a", "tie-b"}
	if seeded["tie-a"].ID < seeded["tie-b"].ID {
		ties = []string{"tie-b", "tie-a"} // same LastSeen: higher ID first
	}
	base := baseTime()
	all := append(slices.Clone(ties), "silent", "ioc", "beacon", "sigma-2", "sigma-1", "brute")
	for _, tc := range []struct {
		name string
		f    AlertFilter
		want []string
	}{
		{"all, newest first", AlertFilter{}, all},
		{"from is inclusive", AlertFilter{From: base.Add(40 * time.Minute)}, append(slices.Clone(ties), "silent", "ioc")},
		{"to is exclusive", AlertFilter{To: base.Add(20 * time.Minute)}, []string{"sigma-1", "brute"}},
		{"range", AlertFilter{From: base.Add(10 * time.Minute), To: base.Add(31 * time.Minute)},
			[]string{"beacon", "sigma-2", "sigma-1"}},
		{"status", AlertFilter{Status: schema.StatusAcknowledged + "," + schema.StatusResolved},
			[]string{"beacon", "sigma-1"}},
		{"kind", AlertFilter{Kind: schema.KindSigma}, append(slices.Clone(ties), "sigma-2", "sigma-1")},
		{"host", AlertFilter{Host: "db1"}, []string{"beacon", "sigma-2"}},
		{"rule", AlertFilter{RuleID: "ioc, brute,,nope"}, []string{"ioc", "brute"}},
		{"min severity", AlertFilter{MinSeverity: schema.SeverityHigh}, []string{"sigma-2", "brute"}},
		{"combined", AlertFilter{Kind: schema.KindSigma, Host: "web1", MinSeverity: schema.SeverityMedium},
			[]string{"sigma-1"}},
		{"limit", AlertFilter{Limit: 2}, ties},
		{"nothing", AlertFilter{Host: "nobody"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := d.Alerts(context.Background(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rules(got), tc.want) {
				t.Errorf("got %v, want %v", rules(got), tc.want)
			}
		})
	}
}

func TestAlertsPaging(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	seedAlerts(t, d)
	ctx := context.Background()
	full, next, err := d.Alerts(ctx, AlertFilter{})
	if err != nil || next != "" {
		t.Fatalf("full listing: next %q, %v", next, err)
	}
	for _, size := range []int{1, 2, 3, 7, 8} {
		var paged []schema.Alert
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > len(full) {
				t.Fatalf("page size %d: paging does not end", size)
			}
			page, next, err := d.Alerts(ctx, AlertFilter{Limit: size, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(rules(paged), rules(full)) {
			t.Errorf("page size %d: paged %v, want %v", size, rules(paged), rules(full))
		}
	}
	// Paging combines with filters.
	page, next, err := d.Alerts(ctx, AlertFilter{Kind: schema.KindSigma, Limit: 3})
	if err != nil || len(page) != 3 || next == "" {
		t.Fatalf("filtered page: %d alerts, next %q, %v", len(page), next, err)
	}
	rest, next, err := d.Alerts(ctx, AlertFilter{Kind: schema.KindSigma, Limit: 3, Cursor: next})
	if err != nil || len(rest) != 1 || rest[0].RuleID != "sigma-1" || next != "" {
		t.Errorf("filtered second page: %v, next %q, %v", rules(rest), next, err)
	}
}

func TestAlertsBadCursor(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	for _, c := range []string{"!!!", "bm9zZXBhcmF0b3I", encodeCursor(1, "not-an-id"), "eDox"} {
		if _, _, err := d.Alerts(context.Background(), AlertFilter{Cursor: c}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
}

func TestAlertAndStatus(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	seeded := seedAlerts(t, d)
	id := seeded["brute"].ID
	if _, err := d.Alert(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alert: err = %v", err)
	}
	for _, tc := range []struct {
		id, status string
		wantErr    error
	}{
		{id, schema.StatusInvestigating, nil},
		{id, schema.StatusResolved, nil},
		{id, schema.StatusNew, nil}, // reopen
		{id, "closed", ErrInvalidStatus},
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", schema.StatusResolved, ErrNotFound},
	} {
		clock.Add(time.Minute)
		err := d.SetAlertStatus(ctx, tc.id, tc.status)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("SetAlertStatus(%s, %s) = %v, want %v", tc.id, tc.status, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		a, err := d.Alert(ctx, tc.id)
		if err != nil || a.Status != tc.status || !a.Updated.Equal(clock.Now()) {
			t.Errorf("after SetAlertStatus(%s): status %s updated %v, %v", tc.status, a.Status, a.Updated, err)
		}
	}
}

func TestAlertRoundTrip(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	in := schema.Alert{
		RuleID: "win-4625", RuleName: "Failed logons", Kind: schema.KindBuiltin, Title: "Brute force on dc01",
		Severity: schema.SeverityCritical, Priority: 1,
		FirstSeen: time.Date(2025, 1, 1, 0, 0, 0, 123456789, time.UTC), LastSeen: time.Date(2025, 1, 1, 0, 5, 0, 1, time.UTC),
		Host: "dc01", SourceIP: "192.0.2.7", DestinationIP: "198.51.100.1", DestinationDomain: "dc01.corp.example",
		User: "administrator", Tags: []string{"attack.t1110"}, EvidenceIDs: []uint64{1<<40 | 7, 1 << 62},
		Status: schema.StatusInvestigating, Count: 42, DedupKey: "custom-key",
		Details: map[string]string{"threshold": "10", "note": "ünïcode \"quoted\""},
	}
	got, err := d.UpsertAlerts(ctx, []schema.Alert{in}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.Created, want.Updated = got[0].ID, clock.Now(), clock.Now()
	stored, err := d.Alert(ctx, got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]schema.Alert{"returned": got[0], "stored": stored} {
		if !alertsEqual(a, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, a, want)
		}
	}
	if ts, ok := idTime(stored.ID); !ok || !ts.Equal(clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("ID %s encodes %v, want the creation time", stored.ID, ts)
	}
}

func alertsEqual(a, b schema.Alert) bool {
	return a.ID == b.ID && a.RuleID == b.RuleID && a.RuleName == b.RuleName && a.Kind == b.Kind &&
		a.Title == b.Title && a.Severity == b.Severity && a.Priority == b.Priority &&
		a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) && a.Created.Equal(b.Created) &&
		a.Updated.Equal(b.Updated) && a.Host == b.Host && a.SourceIP == b.SourceIP &&
		a.DestinationIP == b.DestinationIP && a.DestinationDomain == b.DestinationDomain && a.User == b.User &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.EvidenceIDs, b.EvidenceIDs) && a.Status == b.Status &&
		a.Count == b.Count && a.DedupKey == b.DedupKey && mapsEqual(a.Details, b.Details)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAlertsUseIndexes(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	for _, tc := range []struct {
		name string
		f    AlertFilter
	}{
		{"time range", AlertFilter{From: baseTime()}},
		{"status", AlertFilter{Status: "new"}},
		{"host", AlertFilter{Host: "h"}},
		{"rule", AlertFilter{RuleID: "r"}},
	} {
		where, args, err := alertWhere(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		q := `EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE ` + where[0] + ` ORDER BY last_seen DESC, id DESC LIMIT 10`
		rows, err := d.db.QueryContext(context.Background(), q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + "; "
		}
		rows.Close()
		if !strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "USING COVERING INDEX") {
			t.Errorf("%s: plan %q uses no index", tc.name, plan)
		}
	}
}

func TestEvidenceIDsJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    []uint64
		wantErr bool
	}{
		{"[]", nil, false},
		{"[1]", []uint64{1}, false},
		{"[1,2,18446744073709551615]", []uint64{1, 2, 1<<64 - 1}, false},
		{"[ 1, 2 ]", []uint64{1, 2}, false}, // not compact: encoding/json reads it
		{"[1,,2]", nil, true},
		{"[-1]", nil, true},
		{"[18446744073709551616]", nil, true},
		{"null", nil, false},
		{"", nil, true},
		{"[1", nil, true},
	} {
		got, err := decodeIDs(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("decodeIDs(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	for _, ids := range [][]uint64{nil, {0}, {1 << 62, 7, 1<<64 - 1}} {
		enc := encodeIDs(ids)
		var viaJSON []uint64
		if err := json.Unmarshal([]byte(enc), &viaJSON); err != nil {
			t.Errorf("encodeIDs(%v) = %q is not JSON: %v", ids, enc, err)
		}
		if got, err := decodeIDs(enc); err != nil || !slices.Equal(got, ids) || !slices.Equal(viaJSON, ids) && len(ids) > 0 {
			t.Errorf("round trip of %v via %q = %v, %v", ids, enc, got, err)
		}
	}
}
