package node

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestVulnsEndToEnd imports a Nessus report for an inventoried critical
// server: its critical finding, opened long ago, is past the 15-day SLA and
// raises one alert on the asset, whose host risk counts it; a later scan of
// the same host without the finding marks it fixed with its remediation
// time.
func TestVulnsEndToEnd(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	if code, body := tn.do(t, "POST", "/api/v1/assets", tn.token,
		[]byte(`{"hostname":"db-07","addresses":["10.0.8.21"],"criticality":"critical","role":"database"}`), nil); code != 201 {
		t.Fatalf("create asset: %d %s", code, body)
	}
	report, err := os.ReadFile(filepath.Join("..", "vuln", "testdata", "reports", "nessus-hosts.nessus"))
	if err != nil {
		t.Fatal(err)
	}
	code, body := tn.do(t, "POST", "/api/v1/vulns/import?name=scan1.nessus", tn.token, report, nil)
	var imp api.VulnImport
	if code != 200 || json.Unmarshal(body, &imp) != nil || imp.Counts.New == 0 {
		t.Fatalf("import: %d %s", code, body)
	}
	code, body = tn.do(t, "GET", "/api/v1/alerts?kind=vuln_overdue", tn.token, nil, nil)
	var al struct {
		Alerts []schema.Alert `json:"alerts"`
	}
	if code != 200 || json.Unmarshal(body, &al) != nil {
		t.Fatalf("alerts: %d %s", code, body)
	}
	var onDB *schema.Alert
	for i := range al.Alerts {
		if al.Alerts[i].Host == "db-07" {
			onDB = &al.Alerts[i]
		}
	}
	if onDB == nil || onDB.Details["vuln.severity"] != "critical" || onDB.Priority > 2 {
		t.Fatalf("no overdue alert on db-07 with a high priority: %s", body)
	}
	hosts := waitHosts(t, tn, 1)
	found := false
	for _, h := range hosts {
		if h.Host == "db-07" {
			found = h.Vulns[0] == 1 && strings.Contains(strings.Join(h.Why, ";"), "1 critical")
		}
	}
	if !found {
		t.Fatalf("host risk does not count db-07's vulnerability: %+v", hosts)
	}

	// A later scan of both hosts without the RDP finding fixes it.
	later := strings.ReplaceAll(string(report), "1740907800", "1741771800")
	later = strings.ReplaceAll(later, "Sun Mar  2 09:30:00 2025", "Wed Mar 12 09:30:00 2025")
	start := strings.Index(later, `<ReportItem port="3389"`)
	end := strings.Index(later[start:], "</ReportItem>") + start + len("</ReportItem>")
	later = later[:start] + later[end:]
	code, body = tn.do(t, "POST", "/api/v1/vulns/import?name=scan2.nessus", tn.token, []byte(later), nil)
	if code != 200 || json.Unmarshal(body, &imp) != nil || imp.Counts.Fixed != 1 {
		t.Fatalf("second import: %d %s", code, body)
	}
	// The overdue alert of the fixed finding is resolved as a true positive.
	code, body = tn.do(t, "GET", "/api/v1/alerts/"+onDB.ID, tn.token, nil, nil)
	var resolved schema.Alert
	if code != 200 || json.Unmarshal(body, &resolved) != nil || resolved.Status != schema.StatusResolved ||
		resolved.Disposition != schema.DispositionTruePositive {
		t.Fatalf("overdue alert after the fix: %d %s", code, body)
	}
	code, body = tn.do(t, "GET", "/api/v1/vulns?status=fixed", tn.token, nil, nil)
	var vs struct {
		Findings []api.FindingView `json:"findings"`
	}
	if code != 200 || json.Unmarshal(body, &vs) != nil || len(vs.Findings) != 1 {
		t.Fatalf("fixed findings: %d %s", code, body)
	}
	code, body = tn.do(t, "GET", "/api/v1/vulns/history?key="+url.QueryEscape(vs.Findings[0].Key), tn.token, nil, nil)
	var hist struct {
		TTR float64 `json:"time_to_remediate_hours"`
	}
	if code != 200 || json.Unmarshal(body, &hist) != nil || hist.TTR != 240 {
		t.Fatalf("history: %d %s", code, body)
	}
}
