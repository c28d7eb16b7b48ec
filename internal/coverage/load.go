package coverage

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// SilenceRulePrefix starts the rule ids of the silence detector's alerts
// (see RuleSilent).
const SilenceRulePrefix = "vigil.silence."

// openStatuses are the alert statuses that count as open.
const openStatuses = schema.StatusNew + "," + schema.StatusAcknowledged + "," + schema.StatusInvestigating

// maxAlertPages bounds how many pages of alerts SilenceAlerts reads.
const maxAlertPages = 100

// Store is what Load reads; *statedb.DB is one.
type Store interface {
	Assets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error)
	Sources(ctx context.Context) ([]statedb.Source, error)
	Alerts(ctx context.Context, f statedb.AlertFilter) ([]schema.Alert, string, error)
}

// Load reads the inventory, the sources and the open silence alerts from
// db and computes the coverage map at now.
func Load(ctx context.Context, db Store, now time.Time, silentAfter time.Duration) (Report, error) {
	assets, err := db.Assets(ctx, statedb.AssetFilter{})
	if err != nil {
		return Report{}, fmt.Errorf("coverage: read the inventory: %w", err)
	}
	sources, err := db.Sources(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("coverage: read the sources: %w", err)
	}
	open, err := SilenceAlerts(ctx, db, statedb.AlertFilter{Status: openStatuses})
	if err != nil {
		return Report{}, err
	}
	ss := make([]Silence, 0, len(open))
	for _, a := range open {
		if IsSilent(a) {
			ss = append(ss, SilenceOf(a))
		}
	}
	return Compute(Input{Assets: assets, Sources: sources, Silences: ss, Now: now, SilentAfter: silentAfter}), nil
}

// SilenceAlerts returns the silence detector's alerts that f selects (its
// Kind is set to source_silent), every page of them, newest first. Alerts of
// that kind whose rule id does not start with SilenceRulePrefix are left
// out.
func SilenceAlerts(ctx context.Context, db Store, f statedb.AlertFilter) ([]schema.Alert, error) {
	f.Kind, f.Limit, f.Cursor = schema.KindSourceSilent, 1000, ""
	var out []schema.Alert
	for range maxAlertPages {
		page, next, err := db.Alerts(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("coverage: read silence alerts: %w", err)
		}
		for _, a := range page {
			if strings.HasPrefix(a.RuleID, SilenceRulePrefix) {
				out = append(out, a)
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	return out, nil
}

// RuleSilent is the rule id of the silence detector's alerts for a source
// that stopped sending (silence.RuleSilent); its other rules (volume drops,
// parse errors) do not make a source silent.
const RuleSilent = "vigil.silence.silent"

// Detail keys of silence alerts that coverage and the reports read, as the
// silence detector writes them.
const (
	// DetailInput names the silent source's input.
	DetailInput = "source.input"
	// DetailState is the episode's state: silent, or recovered once the
	// source spoke again.
	DetailState = "state"
	// DetailLastEvent is the source's last event before it went quiet
	// (RFC 3339).
	DetailLastEvent = "last_event"
	// DetailSilentFor is how long the source was quiet when the alert was
	// judged or when it came back (a Go duration).
	DetailSilentFor = "silent_for"
	// DetailClock is "wall" for a live source judged on the wall clock.
	DetailClock = "clock"
)

// stateRecovered is DetailState of an episode that ended.
const stateRecovered = "recovered"

// IsSilent reports whether a is a silence alert whose source has not come
// back: rule RuleSilent, not resolved, its state not recovered.
func IsSilent(a schema.Alert) bool {
	return a.RuleID == RuleSilent && a.Status != schema.StatusResolved && a.Details[DetailState] != stateRecovered
}

// SilenceOf reads the source an alert of the silence detector names: the
// alert's host and its details' source.input ("input" also accepted); it
// went quiet after the details' last_event, else the alert's first
// evidence.
func SilenceOf(a schema.Alert) Silence {
	s := Silence{Host: a.Host, AlertID: a.ID, RuleID: a.RuleID, Since: a.FirstSeen,
		Input: cmp.Or(a.Details[DetailInput], a.Details["input"])}
	if t, err := time.Parse(time.RFC3339Nano, a.Details[DetailLastEvent]); err == nil {
		s.Since = t
	}
	return s
}

// SilentFor returns how long the source of a silence alert was quiet, and
// whether it came back (or the alert was resolved). A live source still
// silent (clock wall) has been quiet since it went silent until now; for
// the others the details' silent_for, as judged in event time or at the
// recovery, is the answer. ok is false when neither says.
func SilentFor(a schema.Alert, now time.Time) (d time.Duration, recovered bool, ok bool) {
	recovered = a.Status == schema.StatusResolved || a.Details[DetailState] == stateRecovered
	since := SilenceOf(a).Since
	if !recovered && a.Details[DetailClock] == "wall" && !since.IsZero() {
		return now.Sub(since), false, true
	}
	if d, err := time.ParseDuration(a.Details[DetailSilentFor]); err == nil {
		return d, recovered, true
	}
	if since.IsZero() {
		return 0, recovered, false
	}
	if recovered {
		return a.LastSeen.Sub(since), true, !a.LastSeen.IsZero()
	}
	return now.Sub(since), false, true
}
