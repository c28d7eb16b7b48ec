package coverage

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/silence"
	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// now is the fixed time of the tests.
var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// inventory is the test inventory: critical domain controller, database
// and firewall, two high web servers, a medium file server that never
// onboarded, a low lab network known by CIDR and a low printer that sends
// nothing.
func inventory() []statedb.Asset {
	return []statedb.Asset{
		{ID: "a-dc", Hostname: "dc-01", Addresses: []string{"10.0.0.10"}, Role: "domain controller", Criticality: "critical",
			ExpectedSources: []string{"winlogbeat:Security", "syslog"}},
		{ID: "a-db", Hostname: "db-01", Role: "database server", Criticality: "critical", ExpectedSources: []string{"syslog"}},
		{ID: "a-fw", Hostname: "fw-01", Role: "firewall", Criticality: "critical", ExpectedSources: []string{"syslog"}},
		{ID: "a-web1", Hostname: "web-01.corp.example", Role: "web server", Criticality: "high",
			ExpectedSources: []string{"syslog", "zeek:conn"}},
		{ID: "a-web2", Hostname: "web-02", Role: "web server", Criticality: "high", ExpectedSources: []string{"syslog"}},
		{ID: "a-fs", Hostname: "fs-01", Role: "file server", Criticality: "medium", ExpectedSources: []string{"winlogbeat"}},
		{ID: "a-lab", Addresses: []string{"10.0.9.0/24"}, Role: "lab", Criticality: "low"},
		{ID: "a-prn", Hostname: "printer-7", Role: "printer", Criticality: "low"},
	}
}

// src is a source last seen ago before testNow.
func src(host, input string, ago time.Duration, events int64) statedb.Source {
	return statedb.Source{Host: host, Input: input, FirstSeen: testNow.Add(-30 * 24 * time.Hour),
		LastSeen: testNow.Add(-ago), Events: events}
}

// sources are what arrived: dc-01 only syslog (by address), db-01 quiet for
// three days, web-01 by its short name, web-02 also sends winlogbeat, the
// lab by an address inside its CIDR, and two hosts not in the inventory;
// the unknown host and an import's reject counter are ignored.
func sources() []statedb.Source {
	return []statedb.Source{
		src("10.0.0.10", "syslog", time.Minute, 500),
		src("db-01", "syslog", 72*time.Hour, 900),
		src("FW-01", "syslog", 5*time.Minute, 10000),
		src("web-01", "syslog", time.Minute, 40),
		src("web-01", "zeek", 2*time.Minute, 70),
		src("web-02", "syslog", time.Minute, 30),
		src("web-02", "winlogbeat", time.Minute, 30),
		src("10.0.9.7", "ndjson", time.Hour, 3),
		src("rogue-pc", "syslog", time.Hour, 8),
		src("10.0.5.5", "winlogbeat", 2*time.Hour, 9),
		src("unknown", "bulk", time.Minute, 1),
		src("dc-01.evtx", "import:evtx", time.Minute, 1),
	}
}

// gapKeys renders gaps as kind/asset/expected.
func gapKeys(gs []Gap) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.Kind+"/"+g.Asset+"/"+g.Expected)
	}
	return out
}

func TestComputeNamesExactlyTheGaps(t *testing.T) {
	t.Parallel()
	webSilence := Silence{Host: "web-01", Input: "zeek", AlertID: "al-1", RuleID: RuleSilent,
		Since: testNow.Add(-5 * time.Hour)}
	tests := []struct {
		name        string
		silences    []Silence
		silentAfter time.Duration
		gaps        []string
		overall     Tally
		unknown     int
	}{
		{name: "default threshold with an open alert", silences: []Silence{webSilence},
			gaps: []string{"never_onboarded/fs-01/", "never_onboarded/printer-7/", "silent/db-01/syslog",
				"silent/web-01.corp.example/zeek:conn", "never_seen/dc-01/winlogbeat:Security"},
			overall: Tally{Assets: 8, Covered: 3, Percent: 37.5, Expected: 8, Present: 4}, unknown: 2},
		{name: "no alerts, long threshold", silentAfter: 96 * time.Hour,
			gaps:    []string{"never_onboarded/fs-01/", "never_onboarded/printer-7/", "never_seen/dc-01/winlogbeat:Security"},
			overall: Tally{Assets: 8, Covered: 5, Percent: 62.5, Expected: 8, Present: 6}, unknown: 2},
		{name: "alert without input silences the host", silentAfter: 96 * time.Hour,
			silences: []Silence{{Host: "10.0.0.10", AlertID: "al-2"}},
			gaps: []string{"never_onboarded/fs-01/", "never_onboarded/printer-7/", "silent/dc-01/syslog",
				"never_seen/dc-01/winlogbeat:Security"},
			overall: Tally{Assets: 8, Covered: 5, Percent: 62.5, Expected: 8, Present: 5}, unknown: 2},
		{name: "alert on a host not in the inventory changes nothing", silentAfter: 96 * time.Hour,
			silences: []Silence{{Host: "rogue-pc", Input: "syslog"}},
			gaps:     []string{"never_onboarded/fs-01/", "never_onboarded/printer-7/", "never_seen/dc-01/winlogbeat:Security"},
			overall:  Tally{Assets: 8, Covered: 5, Percent: 62.5, Expected: 8, Present: 6}, unknown: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := Compute(Input{Assets: inventory(), Sources: sources(), Silences: tt.silences, Now: testNow,
				SilentAfter: tt.silentAfter})
			if got := gapKeys(rep.Gaps); !slices.Equal(got, tt.gaps) {
				t.Errorf("gaps\n got %q\nwant %q", got, tt.gaps)
			}
			if rep.Overall != tt.overall {
				t.Errorf("overall %+v, want %+v", rep.Overall, tt.overall)
			}
			if len(rep.Unknown) != tt.unknown {
				t.Errorf("unknown %+v, want %d", rep.Unknown, tt.unknown)
			}
		})
	}
}

// TestComputeGolden holds the whole report, summary lines included,
// against the golden file.
func TestComputeGolden(t *testing.T) {
	t.Parallel()
	rep := Compute(Input{Assets: inventory(), Sources: sources(), Now: testNow, Silences: []Silence{
		{Host: "web-01", Input: "zeek", AlertID: "al-1", RuleID: RuleSilent, Since: testNow.Add(-5 * time.Hour)}}})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "coverage.golden.json"), b.Bytes())
	want := []string{
		"critical assets: 33% covered (1 of 3), 1 database server (db-01) silent on syslog for 3d, " +
			"1 domain controller (dc-01) never sent winlogbeat:Security events",
		"high assets: 50% covered (1 of 2), 1 web server (web-01.corp.example) silent on zeek:conn for 5h",
		"medium assets: 0% covered (0 of 1), 1 file server (fs-01) never sent any logs",
		"low assets: 50% covered (1 of 2), 1 printer (printer-7) never sent any logs",
		"2 hosts send logs but are not in the inventory: rogue-pc (syslog), 10.0.5.5 (winlogbeat)",
		"overall: 38% of 8 assets covered, 4 of 8 expected sources present",
	}
	if !slices.Equal(rep.Summary, want) {
		t.Errorf("summary\n got %q\nwant %q", rep.Summary, want)
	}
	if rep.Assets[0].Status != StatusNeverOnboarded || rep.Assets[len(rep.Assets)-1].Status != StatusCovered {
		t.Errorf("assets not gaps first: %s … %s", rep.Assets[0].Status, rep.Assets[len(rep.Assets)-1].Status)
	}
}

func TestSummaryWording(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{plural(2, "web server"), "web servers"},
		{plural(1, "proxy"), "proxy"},
		{plural(3, "proxy"), "proxies"},
		{plural(2, "gateway"), "gateways"},
		{plural(2, "box"), "boxes"},
		{pctText(11, 12), "92%"},
		{pctText(199, 200), "99%"},
		{pctText(0, 0), "100%"},
		{formatAge(3*24*time.Hour + time.Hour), "3d"},
		{formatAge(47 * time.Hour), "47h"},
		{formatAge(90 * time.Minute), "90m"},
		{formatAge(-time.Second), "0m"},
		{listNames([]string{"a", "b", "c", "d", "e", "f", "g"}), "a, b, c, d, e and 2 more"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	rep := Compute(Input{Now: testNow})
	if len(rep.Summary) != 1 || rep.Summary[0] != "overall: 100% of 0 assets covered, 0 of 0 expected sources present" {
		t.Errorf("empty inventory summary %q", rep.Summary)
	}
}

func TestSilenceOf(t *testing.T) {
	t.Parallel()
	since := testNow.Add(-6 * time.Hour)
	tests := []struct {
		name      string
		a         schema.Alert
		input     string
		since     time.Time
		silentFor time.Duration
		recovered bool
		silent    bool
	}{
		{"live source still silent", schema.Alert{RuleID: RuleSilent, Host: "h", FirstSeen: testNow, Status: schema.StatusNew,
			Details: map[string]string{"source.input": "syslog", "last_event": since.Format(time.RFC3339Nano), "state": "silent",
				"silent_for": "10m0s", "clock": "wall"}}, "syslog", since, 6 * time.Hour, false, true},
		{"import judged in event time", schema.Alert{RuleID: RuleSilent, Host: "h", FirstSeen: since, Status: schema.StatusNew,
			Details: map[string]string{"source.input": "evtx", "state": "silent", "silent_for": "3h0m0s"}},
			"evtx", since, 3 * time.Hour, false, true},
		{"recovered", schema.Alert{RuleID: RuleSilent, Host: "h", FirstSeen: since, Status: schema.StatusNew,
			Details: map[string]string{"input": "syslog", "state": "recovered", "silent_for": "2h30m0s"}},
			"syslog", since, 150 * time.Minute, true, false},
		{"resolved without figures", schema.Alert{RuleID: RuleSilent, Host: "h", FirstSeen: since, LastSeen: since.Add(time.Hour),
			Status: schema.StatusResolved}, "", since, time.Hour, true, false},
		{"volume drop is no silence", schema.Alert{RuleID: "vigil.silence.volume_drop", Host: "h", FirstSeen: since,
			Status: schema.StatusNew, Details: map[string]string{"source.input": "zeek", "state": "dropped"}},
			"zeek", since, 6 * time.Hour, false, false},
	}
	for _, tt := range tests {
		s := SilenceOf(tt.a)
		if s.Input != tt.input || !s.Since.Equal(tt.since) {
			t.Errorf("%s: silence %+v", tt.name, s)
		}
		d, rec, ok := SilentFor(tt.a, testNow)
		if !ok || d != tt.silentFor || rec != tt.recovered {
			t.Errorf("%s: silent for %v recovered %v ok %v", tt.name, d, rec, ok)
		}
		if IsSilent(tt.a) != tt.silent {
			t.Errorf("%s: IsSilent = %v", tt.name, !tt.silent)
		}
	}
	if RuleSilent != silence.RuleSilent || DetailInput != "source.input" {
		t.Errorf("rule %q differs from the silence detector's %q", RuleSilent, silence.RuleSilent)
	}
}

// TestLoadFromStateDB computes the coverage from a real state database:
// assets, sources through ApplySourceDeltas, and an open silence alert
// beside a resolved one and an alert of another rule.
func TestLoadFromStateDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := statedb.Open(ctx, filepath.Join(t.TempDir(), "state.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, a := range []statedb.Asset{
		{Hostname: "dc-01", Criticality: "critical", Role: "domain controller", ExpectedSources: []string{"winlogbeat:Security"}},
		{Hostname: "web-01", Criticality: "high", ExpectedSources: []string{"syslog"}},
		{Hostname: "db-01", Criticality: "high", ExpectedSources: []string{"syslog"}},
	} {
		if _, err := db.CreateAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	if err := db.ApplySourceDeltas(ctx, []statedb.SourceDelta{
		{Host: "web-01", Input: "syslog", Events: 5, LastReceived: now},
		{Host: "db-01", Input: "syslog", Events: 5, LastReceived: now},
		{Host: "ghost", Input: "syslog", Events: 1, LastReceived: now},
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []schema.Alert{
		{RuleID: RuleSilent, Kind: schema.KindSourceSilent, Host: "db-01", Status: schema.StatusNew,
			Details: map[string]string{"source.input": "syslog", "state": "silent"}},
		{RuleID: RuleSilent, Kind: schema.KindSourceSilent, Host: "web-01", Status: schema.StatusResolved,
			Details: map[string]string{"source.input": "syslog", "state": "silent"}},
		{RuleID: RuleSilent, Kind: schema.KindSourceSilent, Host: "dc-01", Status: schema.StatusNew,
			Details: map[string]string{"source.input": "winlogbeat", "state": "recovered"}},
		{RuleID: "vigil.silence.volume_drop", Kind: schema.KindSourceSilent, Host: "web-01", Status: schema.StatusNew,
			Details: map[string]string{"source.input": "syslog", "state": "dropped"}},
		{RuleID: "other.rule", Kind: schema.KindSourceSilent, Host: "web-01", Status: schema.StatusNew,
			Details: map[string]string{"source.input": "syslog", "state": "silent"}},
	} {
		a.Title, a.Severity, a.FirstSeen, a.LastSeen, a.Count = "silent", schema.SeverityHigh, now.Add(-time.Hour), now, 1
		a.DedupKey = a.RuleID + a.Host + a.Status
		if err := storeAlert(ctx, db, a); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Load(ctx, db, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"never_onboarded/dc-01/", "silent/db-01/syslog"}
	if got := gapKeys(rep.Gaps); !slices.Equal(got, want) {
		t.Errorf("gaps %q, want %q", got, want)
	}
	if len(rep.Unknown) != 1 || rep.Unknown[0].Host != "ghost" {
		t.Errorf("unknown %+v", rep.Unknown)
	}
	if !strings.HasPrefix(rep.Summary[0], "critical assets: 0% covered (0 of 1), 1 domain controller (dc-01) never sent any logs") {
		t.Errorf("summary %q", rep.Summary)
	}
}

// storeAlert stores one alert with its own status.
func storeAlert(ctx context.Context, db *statedb.DB, a schema.Alert) error {
	_, err := db.UpsertAlerts(ctx, []schema.Alert{a}, time.Hour)
	return err
}
