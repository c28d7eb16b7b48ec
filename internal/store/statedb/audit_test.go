package statedb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAppendAuditValidation(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	ok := AuditEntry{Actor: "ann", ActorRole: RoleAnalyst, Action: "alert.update", TargetType: "alert",
		TargetID: "A1", Before: json.RawMessage(`{"status":"new"}`), After: json.RawMessage(`{"status":"resolved"}`),
		RemoteAddr: "192.0.2.7"}
	for _, tc := range []struct {
		name   string
		mutate func(*AuditEntry)
		ok     bool
	}{
		{"complete", func(*AuditEntry) {}, true},
		{"no before or after", func(e *AuditEntry) { e.Before, e.After = nil, nil }, true},
		{"no actor", func(e *AuditEntry) { e.Actor = "" }, false},
		{"no action", func(e *AuditEntry) { e.Action = " " }, false},
		{"bad JSON", func(e *AuditEntry) { e.After = json.RawMessage(`{"x":`) }, false},
		{"long field", func(e *AuditEntry) { e.TargetID = strings.Repeat("x", maxAuditField+1) }, false},
	} {
		e := ok
		tc.mutate(&e)
		got, err := d.AppendAudit(ctx, e)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if tc.ok && (got.ID == 0 || !got.Time.Equal(clock.Now()) || got.Action != e.Action) {
			t.Errorf("%s: appended %+v", tc.name, got)
		}
	}
	page, err := d.Audit(ctx, AuditFilter{})
	if err != nil || len(page.Entries) != 2 || page.Next != 0 {
		t.Fatalf("Audit = %+v, %v", page, err)
	}
	first := page.Entries[1]
	if first.Actor != "ann" || string(first.Before) != `{"status":"new"}` || string(first.After) != `{"status":"resolved"}` ||
		first.RemoteAddr != "192.0.2.7" || first.TargetID != "A1" || first.ActorRole != RoleAnalyst {
		t.Errorf("stored entry %+v", first)
	}
	if page.Entries[0].Before != nil || page.Entries[0].After != nil {
		t.Errorf("empty before/after read back as %q %q", page.Entries[0].Before, page.Entries[0].After)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	if _, err := d.AppendAudit(ctx, AuditEntry{Actor: "root", Action: "user.create"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
		if _, err := d.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
	page, err := d.Audit(ctx, AuditFilter{})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != "root" {
		t.Errorf("after tampering: %+v, %v", page, err)
	}
}

func TestAuditFilterAndPaging(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	start := clock.Now()
	for i := range 30 {
		actor := []string{"ann", "bob", "root"}[i%3]
		action := []string{"alert.update", "user.create"}[i%2]
		e := AuditEntry{Actor: actor, ActorRole: RoleAnalyst, Action: action, TargetType: "alert",
			TargetID: fmt.Sprint("A", i%5), RemoteAddr: "::1"}
		if _, err := d.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
	}
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want int
	}{
		{"all", AuditFilter{}, 30},
		{"actor, any case", AuditFilter{Actor: "ANN"}, 10},
		{"action", AuditFilter{Action: "user.create"}, 15},
		{"actor and action", AuditFilter{Actor: "ann", Action: "alert.update"}, 5},
		{"target", AuditFilter{TargetType: "alert", TargetID: "A0"}, 6},
		{"since", AuditFilter{Since: start.Add(20 * time.Minute)}, 10},
		{"until", AuditFilter{Until: start.Add(5 * time.Minute)}, 5},
		{"window", AuditFilter{Since: start.Add(5 * time.Minute), Until: start.Add(10 * time.Minute)}, 5},
		{"none", AuditFilter{Actor: "mallory"}, 0},
	} {
		for _, limit := range []int{0, 1, 4, 7} {
			var got []AuditEntry
			f := tc.f
			f.Limit = limit
			for pages := 0; ; pages++ {
				page, err := d.Audit(ctx, f)
				if err != nil || pages > 40 {
					t.Fatalf("%s limit %d: %v after %d pages", tc.name, limit, err, pages)
				}
				if limit > 0 && len(page.Entries) > limit {
					t.Errorf("%s: page of %d over limit %d", tc.name, len(page.Entries), limit)
				}
				got = append(got, page.Entries...)
				if page.Next == 0 {
					break
				}
				f.BeforeID = page.Next
			}
			if len(got) != tc.want {
				t.Errorf("%s limit %d: %d entries, want %d", tc.name, limit, len(got), tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].ID >= got[i-1].ID {
					t.Errorf("%s limit %d: not newest first at %d", tc.name, limit, i)
				}
			}
		}
	}
}
