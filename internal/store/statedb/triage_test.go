package statedb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

func strp(s string) *string { return &s }

func TestUpdateAlertWorkflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t)
	ts := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	stored, err := db.UpsertAlerts(ctx, []schema.Alert{{RuleID: "r1", Kind: schema.KindSigma, Title: "t", Severity: schema.SeverityHigh,
		FirstSeen: ts, LastSeen: ts, Host: "ws1", Status: schema.StatusNew}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := stored[0].ID
	steps := []struct {
		name    string
		p       AlertPatch
		wantErr bool
		status  string
	}{
		{"assign", AlertPatch{Assignee: strp("alice")}, false, schema.StatusNew},
		{"acknowledge", AlertPatch{Status: strp(schema.StatusAcknowledged)}, false, schema.StatusAcknowledged},
		{"disposition without resolving", AlertPatch{Disposition: strp(schema.DispositionFalsePositive)}, true, ""},
		{"resolve without disposition", AlertPatch{Status: strp(schema.StatusResolved)}, true, ""},
		{"unknown status", AlertPatch{Status: strp("closed")}, true, ""},
		{"resolve", AlertPatch{Status: strp(schema.StatusResolved), Disposition: strp(schema.DispositionTruePositive),
			Reason: strp("confirmed with the user")}, false, schema.StatusResolved},
	}
	for _, st := range steps {
		_, after, err := db.UpdateAlert(ctx, id, "alice", st.p)
		if (err != nil) != st.wantErr || (err != nil && !errors.Is(err, ErrInvalidPatch)) {
			t.Fatalf("%s: err %v, want error %v", st.name, err, st.wantErr)
		}
		if err == nil && after.Status != st.status {
			t.Fatalf("%s: status %s, want %s", st.name, after.Status, st.status)
		}
	}
	if _, err := db.CommentAlert(ctx, id, "bob", "looks like the backup job"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CommentAlert(ctx, "nope", "bob", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("comment on a missing alert: %v", err)
	}
	a, err := db.Alert(ctx, id)
	if err != nil || a.Assignee != "alice" || a.Disposition != schema.DispositionTruePositive || a.Reason != "confirmed with the user" {
		t.Fatalf("alert = %+v, %v", a, err)
	}
	tl, err := db.Timeline(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind+":"+e.Actor+":"+e.To)
	}
	want := []string{"created:vigil:", "assign:alice:alice", "status:alice:acknowledged",
		"status:alice:resolved (true_positive)", "comment:bob:"}
	if len(kinds) != len(want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("timeline %v, want %v", kinds, want)
		}
	}
	// Reopening clears the verdict.
	_, after, err := db.UpdateAlert(ctx, id, "alice", AlertPatch{Status: strp(schema.StatusInvestigating)})
	if err != nil || after.Disposition != "" || after.Reason != "" {
		t.Fatalf("reopen: %+v, %v", after, err)
	}
}

func TestAlertStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t)
	h0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var as []schema.Alert
	for i := range 5 {
		as = append(as, schema.Alert{RuleID: "r" + string(rune('a'+i)), Kind: schema.KindSigma, Title: "t", Host: "h",
			Severity: schema.SeverityHigh, Priority: 1 + i%2, FirstSeen: h0.Add(time.Duration(i) * 30 * time.Minute),
			LastSeen: h0.Add(time.Duration(i) * 30 * time.Minute), Status: schema.StatusNew})
	}
	stored, err := db.UpsertAlerts(ctx, as, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UpdateAlert(ctx, stored[0].ID, "a", AlertPatch{Status: strp(schema.StatusAcknowledged)}); err != nil {
		t.Fatal(err)
	}
	st, err := db.AlertStats(ctx, h0, h0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Alerts at 10:00 (p1), 10:30 (p2), 11:00 (p1), 11:30 (p2), 12:00 (p1).
	if len(st.Hours) != 4 || st.ByPriority[0][0] != 1 || st.ByPriority[1][0] != 1 || st.ByPriority[0][2] != 1 ||
		st.ByPriority[1][1] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if st.OpenByStatus[schema.StatusNew] != 4 || st.OpenByStatus[schema.StatusAcknowledged] != 1 {
		t.Fatalf("open by status %v", st.OpenByStatus)
	}
}
