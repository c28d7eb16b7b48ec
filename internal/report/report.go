// Package report builds Vigil's weekly blind-spot report, in Markdown and
// in self-contained HTML: the log sources that went silent in the period
// and for how long, the coverage of critical assets, the vulnerability
// findings past their remediation deadline, the threat-intel feeds that
// failed to update, and the detection rules that failed to load.
package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/vuln"
)

// DefaultDays is the period of the report when Options.Days is zero.
const DefaultDays = 7

// MaxDays bounds the period.
const MaxDays = 366

// maxOverdueListed is how many overdue findings the report lists; the
// rest are counted.
const maxOverdueListed = 50

// defaultFeedAge is how old an intel feed's last success may be when its
// poll interval is unknown.
const defaultFeedAge = 24 * time.Hour

// RuleError is a rule that failed to load.
type RuleError struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

// Input is what Build works from.
type Input struct {
	// From and To bound the period; Now is when the report is made.
	From, To, Now time.Time
	Coverage      coverage.Report
	// SilenceAlerts are the silence detector's alerts seen in the period
	// and those still open.
	SilenceAlerts []schema.Alert
	// Overdue are the open findings past their deadline under SLA.
	Overdue []statedb.VulnFinding
	SLA     vuln.SLA
	// Intel is every feed's status; IntelIntervals their poll intervals
	// by name (a feed without one may be a day old).
	Intel          []intel.SourceStatus
	IntelIntervals map[string]time.Duration
	RuleErrors     []RuleError
}

// BlindSpots is the report's content.
type BlindSpots struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	Days        int       `json:"days"`
	// Silent are the sources that went silent, those still silent first,
	// then the longest silence first.
	Silent []SilentSource `json:"silent"`
	// StillSilent counts the sources in Silent that have not come back.
	StillSilent int             `json:"still_silent"`
	Coverage    coverage.Report `json:"coverage"`
	// CriticalGaps are the coverage gaps of critical and high assets.
	CriticalGaps []coverage.Gap `json:"critical_gaps"`
	// Overdue lists at most 50 overdue findings; OverdueTotal counts all
	// and OverdueBySeverity per severity.
	Overdue           []OverdueFinding `json:"overdue"`
	OverdueTotal      int              `json:"overdue_total"`
	OverdueBySeverity map[string]int   `json:"overdue_by_severity"`
	StaleFeeds        []StaleFeed      `json:"stale_feeds"`
	RuleErrors        []RuleError      `json:"rule_errors"`
}

// SilentSource is one source that went silent.
type SilentSource struct {
	Host     string    `json:"host"`
	Input    string    `json:"input"`
	Since    time.Time `json:"since"`
	For      string    `json:"for"`
	Still    bool      `json:"still_silent"`
	Severity string    `json:"severity"`
	RuleID   string    `json:"rule_id"`
	AlertID  string    `json:"alert_id"`
	age      time.Duration
}

// OverdueFinding is one finding past its deadline.
type OverdueFinding struct {
	Key       string    `json:"key"`
	Severity  string    `json:"severity"`
	VulnID    string    `json:"vuln_id"`
	Title     string    `json:"title"`
	Target    string    `json:"target"`
	Opened    time.Time `json:"opened"`
	Due       time.Time `json:"due"`
	OverdueBy string    `json:"overdue_by"`
}

// StaleFeed is an intel feed that failed to update.
type StaleFeed struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Failures    int       `json:"failures"`
	// Why says what is wrong, LastError the feed's last error.
	Why       string `json:"why"`
	LastError string `json:"last_error,omitempty"`
}

// Build assembles the report from in.
func Build(in Input) BlindSpots {
	b := BlindSpots{From: in.From.UTC(), To: in.To.UTC(), GeneratedAt: in.Now.UTC(),
		Days: int(in.To.Sub(in.From).Round(time.Hour) / (24 * time.Hour)), Coverage: in.Coverage,
		CriticalGaps: []coverage.Gap{}, OverdueBySeverity: map[string]int{}, RuleErrors: slices.Clip(in.RuleErrors)}
	if b.RuleErrors == nil {
		b.RuleErrors = []RuleError{}
	}
	b.Silent, b.StillSilent = silentSources(in.SilenceAlerts, in.Now)
	for _, g := range in.Coverage.Gaps {
		if statedb.CriticalityRank(g.Criticality) >= statedb.CriticalityRank(statedb.CriticalityHigh) {
			b.CriticalGaps = append(b.CriticalGaps, g)
		}
	}
	b.Overdue, b.OverdueTotal = overdue(in.Overdue, in.SLA, in.Now, b.OverdueBySeverity)
	b.StaleFeeds = staleFeeds(in.Intel, in.IntelIntervals, in.Now)
	return b
}

// silentSources lists the sources of silence alerts, one per host × input
// (the newest alert), still silent first, then the longest silence first.
func silentSources(alerts []schema.Alert, now time.Time) ([]SilentSource, int) {
	out := []SilentSource{}
	seen := map[[2]string]bool{}
	still := 0
	for _, a := range alerts {
		if a.RuleID != coverage.RuleSilent {
			continue // volume drops and parse errors are not silences
		}
		s := coverage.SilenceOf(a)
		key := [2]string{s.Host, s.Input}
		if seen[key] {
			continue
		}
		seen[key] = true
		d, recovered, ok := coverage.SilentFor(a, now)
		ss := SilentSource{Host: a.Host, Input: cmp.Or(s.Input, "any"), Since: s.Since.UTC(), Still: !recovered,
			Severity: a.Severity.String(), RuleID: a.RuleID, AlertID: a.ID, For: "unknown", age: d}
		if ok {
			ss.For = coverage.FormatAge(d)
		}
		if ss.Still {
			still++
		}
		out = append(out, ss)
	}
	slices.SortStableFunc(out, func(a, b SilentSource) int {
		return cmp.Or(boolRank(b.Still)-boolRank(a.Still), cmp.Compare(b.age, a.age), cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Input, b.Input))
	})
	return out, still
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// overdue lists the first maxOverdueListed findings and counts all of
// them per severity into by.
func overdue(fs []statedb.VulnFinding, sla vuln.SLA, now time.Time, by map[string]int) ([]OverdueFinding, int) {
	out := []OverdueFinding{}
	for _, f := range fs {
		by[string(f.Severity)]++
		if len(out) == maxOverdueListed {
			continue
		}
		due, ok := sla.Deadline(f.Severity, f.Opened)
		o := OverdueFinding{Key: f.Key, Severity: string(f.Severity), VulnID: f.VulnID, Title: f.Title,
			Target: cmp.Or(f.Hostname, f.Target), Opened: f.Opened.UTC()}
		if f.Hostname != "" && f.Target != "" && f.Hostname != f.Target {
			o.Target = f.Hostname + " (" + f.Target + ")"
		}
		if ok {
			o.Due, o.OverdueBy = due.UTC(), coverage.FormatAge(now.Sub(due))
		}
		out = append(out, o)
	}
	return out, len(fs)
}

// staleFeeds lists the feeds whose last fetch failed, that never
// succeeded, or whose last success is older than twice their interval (a
// day when unknown).
func staleFeeds(st []intel.SourceStatus, intervals map[string]time.Duration, now time.Time) []StaleFeed {
	out := []StaleFeed{}
	for _, s := range st {
		limit := defaultFeedAge
		if iv := intervals[s.Name]; iv > 0 {
			limit = 2 * iv
		}
		f := StaleFeed{Name: s.Name, Kind: s.Kind, LastSuccess: s.LastSuccess.UTC(), Failures: s.Failures, LastError: s.LastError}
		if s.LastSuccess.IsZero() {
			f.LastSuccess = time.Time{}
		}
		switch {
		case s.LastSuccess.IsZero():
			f.Why = "never updated"
		case s.Failures > 0:
			f.Why = fmt.Sprintf("last %d %s failed", s.Failures, plural(s.Failures, "fetch", "fetches"))
		case now.Sub(s.LastSuccess) > limit:
			f.Why = "no update for " + coverage.FormatAge(now.Sub(s.LastSuccess))
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

// Store is what Gather reads; *statedb.DB is one.
type Store interface {
	coverage.Store
	Findings(ctx context.Context, f statedb.VulnFilter) ([]statedb.VulnFinding, error)
	IntelSources(ctx context.Context) ([]intel.SourceStatus, error)
}

// Options tune Gather.
type Options struct {
	// Now is the end of the period (the current time when zero); Days its
	// length (DefaultDays when zero).
	Now  time.Time
	Days int
	// SLA are the remediation deadlines (vuln.DefaultSLA when nil).
	SLA vuln.SLA
	// SilentAfter is coverage's silence threshold.
	SilentAfter time.Duration
	// IntelStatus returns the feeds' status (the store's IntelSources when
	// nil); IntelIntervals are their poll intervals by name.
	IntelStatus    func(ctx context.Context) ([]intel.SourceStatus, error)
	IntelIntervals map[string]time.Duration
	RuleErrors     []RuleError
}

// Gather reads what the report needs from db and builds it.
func Gather(ctx context.Context, db Store, o Options) (BlindSpots, error) {
	now := cmp.Or(o.Now, time.Now()).UTC()
	days := cmp.Or(o.Days, DefaultDays)
	if days < 1 || days > MaxDays {
		return BlindSpots{}, fmt.Errorf("report: days %d: want 1 to %d", days, MaxDays)
	}
	sla := o.SLA
	if sla == nil {
		sla = vuln.DefaultSLA()
	}
	in := Input{From: now.Add(-time.Duration(days) * 24 * time.Hour), To: now, Now: now, SLA: sla,
		IntelIntervals: o.IntelIntervals, RuleErrors: o.RuleErrors}
	var err error
	if in.Coverage, err = coverage.Load(ctx, db, now, o.SilentAfter); err != nil {
		return BlindSpots{}, err
	}
	if in.SilenceAlerts, err = periodSilences(ctx, db, in.From); err != nil {
		return BlindSpots{}, err
	}
	if in.Overdue, err = db.Findings(ctx, statedb.VulnFilter{Status: statedb.VulnOpen, Overdue: true, SLA: sla, Now: now}); err != nil {
		return BlindSpots{}, fmt.Errorf("report: overdue findings: %w", err)
	}
	status := o.IntelStatus
	if status == nil {
		status = db.IntelSources
	}
	if in.Intel, err = status(ctx); err != nil {
		return BlindSpots{}, fmt.Errorf("report: intel feeds: %w", err)
	}
	return Build(in), nil
}

// periodSilences returns the silence alerts still open and those seen
// since from, newest first.
func periodSilences(ctx context.Context, db coverage.Store, from time.Time) ([]schema.Alert, error) {
	open, err := coverage.SilenceAlerts(ctx, db, statedb.AlertFilter{Status: "new,acknowledged,investigating"})
	if err != nil {
		return nil, err
	}
	recent, err := coverage.SilenceAlerts(ctx, db, statedb.AlertFilter{From: from})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	out := make([]schema.Alert, 0, len(open)+len(recent))
	for _, a := range append(open, recent...) {
		if !ids[a.ID] {
			ids[a.ID] = true
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b schema.Alert) int { return b.LastSeen.Compare(a.LastSeen) })
	return out, nil
}
