package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/report"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// TestCoverageAndBlindSpots serves the coverage map and the report in
// every format from a real state database, and refuses bad parameters and
// the ingest role.
func TestCoverageAndBlindSpots(t *testing.T) {
	t.Parallel()
	s, _, _, ingestTok := newTestServer(t)
	ctx := context.Background()
	tok, _, err := s.State.CreateToken(ctx, "viewer", statedb.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []statedb.Asset{
		{Hostname: "dc-01", Criticality: "critical", Role: "domain controller", ExpectedSources: []string{"winlogbeat:Security"}},
		{Hostname: "web-01", Criticality: "high", ExpectedSources: []string{"syslog"}},
	} {
		if _, err := s.State.CreateAsset(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.State.ApplySourceDeltas(ctx, []statedb.SourceDelta{
		{Host: "dc-01", Input: "syslog", Events: 3, LastReceived: time.Now()},
		{Host: "web-01", Input: "syslog", Events: 3, LastReceived: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	w := call(t, s, "GET", "/api/v1/coverage", tok, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("coverage: %d %s", w.Code, w.Body)
	}
	var rep coverage.Report
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Gaps) != 1 || rep.Gaps[0].Asset != "dc-01" || rep.Gaps[0].Kind != coverage.GapNeverSeen ||
		rep.Overall.Covered != 1 || rep.Overall.Assets != 2 {
		t.Errorf("coverage %+v", rep)
	}
	tests := []struct {
		path, token string
		code        int
		ctype, body string
	}{
		{"/api/v1/reports/blindspots", tok, 200, "text/markdown", "## Coverage of critical assets"},
		{"/api/v1/reports/blindspots?format=html&days=30", tok, 200, "text/html", "(30 days)"},
		{"/api/v1/reports/blindspots?format=json", tok, 200, "application/json", `"critical_gaps"`},
		{"/api/v1/reports/blindspots?format=pdf", tok, 400, "application/json", "format"},
		{"/api/v1/reports/blindspots?days=0", tok, 400, "application/json", "days"},
		{"/api/v1/coverage?silent_after=soon", tok, 400, "application/json", "silent_after"},
		{"/api/v1/coverage", ingestTok, 403, "application/json", ""},
		{"/api/v1/reports/blindspots", "", 401, "application/json", ""},
	}
	for _, tt := range tests {
		w := call(t, s, "GET", tt.path, tt.token, nil)
		if w.Code != tt.code || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.ctype) ||
			!strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s: %d %s %s", tt.path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
	w = call(t, s, "GET", "/api/v1/reports/blindspots?format=json", tok, nil)
	var b report.BlindSpots
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Days != 7 || len(b.CriticalGaps) != 1 || b.CriticalGaps[0].Expected != "winlogbeat:Security" {
		t.Errorf("report %+v", b)
	}
}
