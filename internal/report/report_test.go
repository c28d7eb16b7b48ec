package report

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/vuln"
)

var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// testInput has something in every section: a source still silent, one
// that came back, coverage gaps of a critical and a high asset, two
// overdue findings (one with markup in its title), a failing, a stale, a
// never updated and a healthy feed, and a rule that failed to load.
func testInput() Input {
	cov := coverage.Compute(coverage.Input{Now: testNow,
		Assets: []statedb.Asset{
			{ID: "a1", Hostname: "dc-01", Role: "domain controller", Criticality: "critical", ExpectedSources: []string{"winlogbeat:Security"}},
			{ID: "a2", Hostname: "db-01", Role: "database server", Criticality: "critical", ExpectedSources: []string{"syslog"}},
			{ID: "a3", Hostname: "web-01", Role: "web server", Criticality: "high", ExpectedSources: []string{"syslog"}},
			{ID: "a4", Hostname: "ws-07", Criticality: "low"},
		},
		Sources: []statedb.Source{
			{Host: "db-01", Input: "syslog", LastSeen: testNow.Add(-time.Minute)},
			{Host: "web-01", Input: "syslog", LastSeen: testNow.Add(-50 * time.Hour)},
			{Host: "ws-07", Input: "winlogbeat", LastSeen: testNow.Add(-time.Minute)},
		}})
	return Input{From: testNow.Add(-7 * 24 * time.Hour), To: testNow, Now: testNow, Coverage: cov, SLA: vuln.DefaultSLA(),
		SilenceAlerts: []schema.Alert{
			{ID: "al-2", RuleID: coverage.RuleSilent, Kind: schema.KindSourceSilent, Host: "web-01", Severity: schema.SeverityHigh,
				Status: schema.StatusNew, FirstSeen: testNow.Add(-50 * time.Hour), Details: map[string]string{"source.input": "syslog", "state": "silent", "clock": "wall"}},
			{ID: "al-x", RuleID: "vigil.silence.volume_drop", Kind: schema.KindSourceSilent, Host: "fw-01", Severity: schema.SeverityHigh,
				Status: schema.StatusNew, FirstSeen: testNow.Add(-2 * time.Hour), Details: map[string]string{"source.input": "syslog", "state": "dropped"}},
			{ID: "al-1", RuleID: coverage.RuleSilent, Kind: schema.KindSourceSilent, Host: "db-01", Severity: schema.SeverityCritical,
				Status: schema.StatusResolved, FirstSeen: testNow.Add(-4 * 24 * time.Hour),
				Details: map[string]string{"source.input": "syslog", "state": "recovered", "silent_for": "7h0m0s"}},
			{ID: "al-0", RuleID: coverage.RuleSilent, Kind: schema.KindSourceSilent, Host: "db-01", Severity: schema.SeverityCritical,
				Status: schema.StatusResolved, FirstSeen: testNow.Add(-6 * 24 * time.Hour),
				Details: map[string]string{"source.input": "syslog", "state": "recovered", "silent_for": "1h0m0s"}},
		},
		Overdue: []statedb.VulnFinding{
			{Key: "k1", Status: "open", Opened: testNow.Add(-40 * 24 * time.Hour), Finding: vuln.Finding{Severity: vuln.SeverityCritical,
				VulnID: "CVE-2024-3094", Title: "xz <backdoor> | sshd", Target: "10.0.0.5", Hostname: "db-01"}},
			{Key: "k2", Status: "open", Opened: testNow.Add(-35 * 24 * time.Hour), Finding: vuln.Finding{Severity: vuln.SeverityHigh,
				VulnID: "CVE-2023-44487", Title: "HTTP/2 rapid reset", Target: "web-01"}},
		},
		Intel: []intel.SourceStatus{
			{Name: "abuse_ch", Kind: "list", LastSuccess: testNow.Add(-3 * time.Hour), Failures: 3, LastError: "dial tcp: timeout"},
			{Name: "misp", Kind: "misp", LastSuccess: testNow.Add(-5 * time.Hour)},
			{Name: "otx", Kind: "taxii", LastAttempt: testNow.Add(-time.Hour), LastError: "401 Unauthorized", Failures: 1},
			{Name: "healthy", Kind: "list", LastSuccess: testNow.Add(-30 * time.Minute)},
		},
		IntelIntervals: map[string]time.Duration{"misp": time.Hour, "healthy": time.Hour},
		RuleErrors:     []RuleError{{File: "rules/custom/bad_*.yml", Line: 12, Reason: "unknown modifier |contains2"}},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	b := Build(testInput())
	tests := []struct {
		format, file string
		want, forbid []string
	}{
		{FormatMarkdown, "blindspots.golden.md",
			[]string{"| web-01 | syslog | 2025-03-08 10:00 UTC | 2d | still silent |", `xz &lt;backdoor&gt; \| sshd`,
				"bad\\_\\*.yml", "| misp | misp |", "no update for 5h", "never updated"},
			[]string{"healthy", "al-0", "fw-01"}},
		{FormatHTML, "blindspots.golden.html",
			[]string{"xz &lt;backdoor&gt; | sshd", "<style>", "still silent", "critical assets: 50% covered (1 of 2)"},
			[]string{"<script", "<link", "src=", "healthy", "<backdoor>"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := b.Render(&out, tt.format); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", tt.file), out.Bytes())
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: %q missing", tt.format, w)
			}
		}
		for _, f := range tt.forbid {
			if strings.Contains(out.String(), f) {
				t.Errorf("%s: %q present", tt.format, f)
			}
		}
	}
	if err := b.Render(io.Discard, "pdf"); err == nil {
		t.Error("format pdf rendered")
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	b := Build(testInput())
	if len(b.Silent) != 2 || b.StillSilent != 1 || !b.Silent[0].Still || b.Silent[1].For != "7h" {
		t.Errorf("silent %+v (still %d)", b.Silent, b.StillSilent)
	}
	if b.OverdueTotal != 2 || b.Overdue[0].Due != testNow.Add(-25*24*time.Hour) || b.Overdue[0].OverdueBy != "25d" ||
		b.Overdue[0].Target != "db-01 (10.0.0.5)" {
		t.Errorf("overdue %+v", b.Overdue)
	}
	var feeds []string
	for _, f := range b.StaleFeeds {
		feeds = append(feeds, f.Name+": "+f.Why)
	}
	if got := strings.Join(feeds, "; "); got != "abuse_ch: last 3 fetches failed; misp: no update for 5h; otx: never updated" {
		t.Errorf("stale feeds %q", got)
	}
	if len(b.CriticalGaps) != 2 || b.Days != 7 {
		t.Errorf("critical gaps %+v, days %d", b.CriticalGaps, b.Days)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a|b", `a\|b`},
		{"two\nlines", "two lines"},
		{"*bold* _it_ `code` [x](y)", "\\*bold\\* \\_it\\_ \\`code\\` \\[x\\](y)"},
		{`back\slash`, `back\\slash`},
		{"<img src=x>", "&lt;img src=x&gt;"},
	}
	for _, tt := range tests {
		if got := mdCell(tt.in); got != tt.want {
			t.Errorf("mdCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestGatherFromStateDB reads every section from a real state database.
func TestGatherFromStateDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := statedb.Open(ctx, filepath.Join(t.TempDir(), "state.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC()
	if _, err := db.CreateAsset(ctx, statedb.Asset{Hostname: "dc-01", Criticality: "critical", ExpectedSources: []string{"winlogbeat"}}); err != nil {
		t.Fatal(err)
	}
	scan := vuln.Scan{Scanner: "trivy", Time: now.Add(-20 * 24 * time.Hour), Targets: []string{"dc-01"}}
	if _, err := db.ImportScan(ctx, scan, []vuln.Finding{
		{Scanner: "trivy", Kind: vuln.KindVulnerability, Target: "dc-01", VulnID: "CVE-1", Severity: vuln.SeverityCritical, Title: "old"},
		{Scanner: "trivy", Kind: vuln.KindVulnerability, Target: "dc-01", VulnID: "CVE-2", Severity: vuln.SeverityHigh, Title: "young"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordIntelFetch(ctx, intel.Fetched{Source: "feed", Kind: "list", At: now, Err: errors.New("boom")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertAlerts(ctx, []schema.Alert{{RuleID: coverage.RuleSilent, Kind: schema.KindSourceSilent, Host: "dc-01",
		Title: "silent", Severity: schema.SeverityCritical, Status: schema.StatusNew, FirstSeen: now.Add(-2 * time.Hour),
		LastSeen: now.Add(-2 * time.Hour), Details: map[string]string{"source.input": "winlogbeat", "state": "silent", "clock": "wall"}}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	b, err := Gather(ctx, db, Options{Now: now, RuleErrors: []RuleError{{File: "x.yml", Reason: "bad"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Overdue) != 1 || b.Overdue[0].VulnID != "CVE-1" {
		t.Errorf("overdue %+v", b.Overdue)
	}
	if len(b.StaleFeeds) != 1 || b.StaleFeeds[0].Name != "feed" {
		t.Errorf("feeds %+v", b.StaleFeeds)
	}
	if len(b.Silent) != 1 || b.Silent[0].For != "2h" || !b.Silent[0].Still {
		t.Errorf("silent %+v", b.Silent)
	}
	if len(b.CriticalGaps) != 1 || b.CriticalGaps[0].Kind != coverage.GapNeverOnboarded || len(b.RuleErrors) != 1 {
		t.Errorf("gaps %+v rules %+v", b.CriticalGaps, b.RuleErrors)
	}
	if _, err := Gather(ctx, db, Options{Days: MaxDays + 1}); err == nil {
		t.Error("days beyond the maximum accepted")
	}
}
