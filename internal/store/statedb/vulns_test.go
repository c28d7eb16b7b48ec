package statedb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/vuln"
)

// nessusScan renders a minimal .nessus report of one host scanned at at
// with the given plugins (id → severity 0-4), to import through the real
// parser.
func nessusScan(host string, at time.Time, plugins map[string]int) []byte {
	items := ""
	for id, sev := range plugins {
		items += fmt.Sprintf(`<ReportItem port="443" svc_name="www" protocol="tcp" severity="%d" pluginID="%s" pluginName="Plugin %s"><synopsis>s</synopsis></ReportItem>`, sev, id, id)
	}
	ts := at.Format("Mon Jan _2 15:04:05 2006")
	return fmt.Appendf(nil, `<?xml version="1.0" ?><NessusClientData_v2><Report name="r"><ReportHost name="%s"><HostProperties>`+
		`<tag name="HOST_START">%s</tag><tag name="HOST_END">%s</tag></HostProperties>%s</ReportHost></Report></NessusClientData_v2>`,
		host, ts, ts, items)
}

func importNessus(t *testing.T, d *DB, name string, data []byte, assetOf func(string) string) VulnImportCounts {
	t.Helper()
	rep, err := vuln.Parse(name, data, vuln.FormatUnknown)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("parse %s: %v %v", name, err, rep.Problems)
	}
	c, err := d.ImportScan(context.Background(), rep.Scan, rep.Findings, assetOf)
	if err != nil {
		t.Fatalf("ImportScan %s: %v", name, err)
	}
	return c
}

// TestVulnFixedAfterSecondScan imports two real Nessus reports of one host
// ten days apart; the plugin missing from the second is fixed with a time
// to remediate of ten days, and comes back reopened in a third.
func TestVulnFixedAfterSecondScan(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	assetOf := func(target string) string {
		if target == "10.0.8.20" {
			return "asset-web01"
		}
		return ""
	}
	c1 := importNessus(t, d, "w1.nessus", nessusScan("10.0.8.20", t0, map[string]int{"42873": 3, "187315": 4}), assetOf)
	c2 := importNessus(t, d, "w2.nessus", nessusScan("10.0.8.20", t0.AddDate(0, 0, 10), map[string]int{"187315": 4}), assetOf)
	want := []VulnImportCounts{{New: 2}, {StillOpen: 1, Fixed: 1}}
	for i, c := range []VulnImportCounts{c1, c2} {
		c.ScanID = ""
		if c != want[i] {
			t.Errorf("scan %d counts = %+v, want %+v", i+1, c, want[i])
		}
	}
	fixed, err := d.Findings(ctx, VulnFilter{Status: VulnFixed})
	if err != nil || len(fixed) != 1 {
		t.Fatalf("fixed findings = %v, %v", fixed, err)
	}
	f := fixed[0]
	if f.VulnID != "42873" || f.AssetID != "asset-web01" || f.TimeToRemediate() != 10*24*time.Hour ||
		!f.FixedAt.Equal(t0.AddDate(0, 0, 10)) || !f.LastSeen.Equal(t0) {
		t.Errorf("fixed finding = %s asset %s ttr %v fixed %v last seen %v", f.VulnID, f.AssetID, f.TimeToRemediate(), f.FixedAt, f.LastSeen)
	}
	c3 := importNessus(t, d, "w3.nessus", nessusScan("10.0.8.20", t0.AddDate(0, 0, 20), map[string]int{"42873": 3, "187315": 4}), assetOf)
	if c3.Reopened != 1 || c3.StillOpen != 1 || c3.New != 0 || c3.Fixed != 0 {
		t.Errorf("scan 3 counts = %+v, want 1 reopened, 1 still open", c3)
	}
	got, hist, err := d.FindingHistory(ctx, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != VulnOpen || got.Reopened != 1 || !got.Opened.Equal(t0.AddDate(0, 0, 20)) || !got.FirstSeen.Equal(t0) {
		t.Errorf("reopened finding = status %s reopened %d opened %v first %v", got.Status, got.Reopened, got.Opened, got.FirstSeen)
	}
	var events []string
	for _, e := range hist {
		events = append(events, e.Event+"@"+e.At.Format("01-02"))
	}
	if fmt.Sprint(events) != "[new@03-01 fixed@03-11 reopened@03-21]" {
		t.Errorf("history = %v", events)
	}
}

// vf builds a finding for the state tests.
func vf(target, id string, sev vuln.Severity) vuln.Finding {
	return vuln.Finding{Scanner: "trivy", Target: target, VulnID: id, Package: "pkg", Severity: sev}
}

func importScan(t *testing.T, d *DB, scanner string, at time.Time, targets []string, fs ...vuln.Finding) VulnImportCounts {
	t.Helper()
	c, err := d.ImportScan(context.Background(), vuln.Scan{Scanner: scanner, Time: at, Targets: targets}, fs, nil)
	if err != nil {
		t.Fatalf("ImportScan: %v", err)
	}
	c.ScanID = ""
	return c
}

// TestVulnFixRules checks which later scans fix a finding: only one that
// covers its target, by a scanner that reported it, newer than its last
// sighting.
func TestVulnFixRules(t *testing.T) {
	t0 := baseTime()
	a := vf("img:1", "CVE-1", vuln.SeverityHigh)
	tests := []struct {
		name    string
		scanner string
		at      time.Time
		targets []string
		want    VulnImportCounts
	}{
		{"same scanner covers target", "trivy", t0.Add(time.Hour), []string{"img:1"}, VulnImportCounts{Fixed: 1}},
		{"target in other case", "trivy", t0.Add(time.Hour), []string{"IMG:1"}, VulnImportCounts{Fixed: 1}},
		{"other target", "trivy", t0.Add(time.Hour), []string{"img:2"}, VulnImportCounts{}},
		{"other scanner", "grype", t0.Add(time.Hour), []string{"img:1"}, VulnImportCounts{}},
		{"older scan", "trivy", t0.Add(-time.Hour), []string{"img:1"}, VulnImportCounts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openTest(t)
			importScan(t, d, "trivy", t0, []string{"img:1"}, a)
			if got := importScan(t, d, tt.scanner, tt.at, tt.targets); got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestVulnLateScan checks that a scan older than a fix does not reopen it.
func TestVulnLateScan(t *testing.T) {
	d := openTest(t)
	t0 := baseTime()
	a := vf("img:1", "CVE-1", vuln.SeverityHigh)
	importScan(t, d, "trivy", t0, []string{"img:1"}, a)
	importScan(t, d, "trivy", t0.Add(48*time.Hour), []string{"img:1"})
	if got := importScan(t, d, "trivy", t0.Add(24*time.Hour), []string{"img:1"}, a); got != (VulnImportCounts{Late: 1}) {
		t.Errorf("late scan counts = %+v", got)
	}
	fs, err := d.Findings(context.Background(), VulnFilter{Status: VulnOpen})
	if err != nil || len(fs) != 0 {
		t.Errorf("open findings after a late scan = %v, %v", fs, err)
	}
}

func TestVulnFindingsFilters(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := baseTime()
	assetOf := func(s string) string { return map[string]string{"db01": "asset-db"}[s] }
	_, err := d.ImportScan(ctx, vuln.Scan{Scanner: "trivy", Time: t0}, []vuln.Finding{
		vf("web01", "CVE-C", vuln.SeverityCritical), vf("web01", "CVE-L", vuln.SeverityLow),
		{Scanner: "trivy", Target: "10.0.0.9", Hostname: "db01", VulnID: "CVE-H", Severity: vuln.SeverityHigh},
	}, assetOf)
	if err != nil {
		t.Fatal(err)
	}
	importScan(t, d, "trivy", t0.Add(20*24*time.Hour), nil, vf("web01", "CVE-M", vuln.SeverityMedium))
	sla := vuln.SLA{vuln.SeverityCritical: 15, vuln.SeverityHigh: 30, vuln.SeverityMedium: 10}
	now := t0.Add(25 * 24 * time.Hour)
	tests := []struct {
		name string
		f    VulnFilter
		want string
	}{
		{"all, most severe first", VulnFilter{}, "[CVE-C CVE-H CVE-M CVE-L]"},
		{"severity", VulnFilter{Severities: []vuln.Severity{vuln.SeverityHigh, vuln.SeverityLow}}, "[CVE-H CVE-L]"},
		{"asset by host name", VulnFilter{AssetID: "asset-db"}, "[CVE-H]"},
		{"target", VulnFilter{Target: "WEB01"}, "[CVE-C CVE-M CVE-L]"},
		{"overdue", VulnFilter{Overdue: true, SLA: sla, Now: now}, "[CVE-C]"},
		{"overdue later", VulnFilter{Overdue: true, SLA: sla, Now: now.Add(10 * 24 * time.Hour)}, "[CVE-C CVE-H CVE-M]"},
		{"no SLA", VulnFilter{Overdue: true, Now: now}, "[]"},
		{"limit", VulnFilter{Limit: 1}, "[CVE-C]"},
		{"fixed", VulnFilter{Status: VulnFixed}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := d.Findings(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, f := range fs {
				ids = append(ids, f.VulnID)
			}
			if got := fmt.Sprint(ids); got != tt.want {
				t.Errorf("findings = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestVulnOpenTrend(t *testing.T) {
	d := openTest(t)
	day := 24 * time.Hour
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := vf("h", "CVE-A", vuln.SeverityHigh), vf("h", "CVE-B", vuln.SeverityLow)
	importScan(t, d, "trivy", t0, []string{"h"}, a, b)
	importScan(t, d, "trivy", t0.Add(2*day), []string{"h"}, a)
	importScan(t, d, "trivy", t0.Add(4*day), []string{"h"})
	pts, err := d.OpenTrend(context.Background(), t0.Add(-day), t0.Add(5*day))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range pts {
		got = append(got, p.Open)
	}
	if fmt.Sprint(got) != "[0 2 2 1 1 0 0]" || !pts[0].Day.Equal(time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("trend = %v from %v", got, pts[0].Day)
	}
	if _, err := d.OpenTrend(context.Background(), t0, t0.Add(-2*day)); err == nil {
		t.Error("OpenTrend accepted a reversed range")
	}
}

func TestVulnImportRejectsBadFinding(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		scan vuln.Scan
		f    vuln.Finding
	}{
		{"no scanner", vuln.Scan{}, vf("h", "CVE-1", vuln.SeverityLow)},
		{"bad severity", vuln.Scan{Scanner: "trivy"}, vf("h", "CVE-1", "severe")},
		{"no target", vuln.Scan{Scanner: "trivy"}, vf("", "CVE-1", vuln.SeverityLow)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := vf("h", "CVE-2", vuln.SeverityLow)
			_, err := d.ImportScan(ctx, tt.scan, []vuln.Finding{good, tt.f}, nil)
			if !errors.Is(err, ErrInvalidFinding) {
				t.Fatalf("err = %v, want ErrInvalidFinding", err)
			}
			if fs, _ := d.Findings(ctx, VulnFilter{}); len(fs) != 0 {
				t.Errorf("a rejected scan stored %d findings", len(fs))
			}
		})
	}
	if _, _, err := d.FindingHistory(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindingHistory of a missing key: %v", err)
	}
}
