package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// coverageAPI answers /api/v1/me and /api/v1/coverage the way the API
// does, the coverage computed by the coverage package from an inventory
// with one gap of each kind.
func coverageAPI(t *testing.T) http.Handler {
	now := time.Now().UTC()
	rep := coverage.Compute(coverage.Input{Now: now,
		Assets: []statedb.Asset{
			{ID: "1", Hostname: "dc-01", Role: "domain controller", Criticality: "critical", ExpectedSources: []string{"winlogbeat:Security", "syslog"}},
			{ID: "2", Hostname: "db-<01>", Role: "database", Criticality: "critical", ExpectedSources: []string{"syslog"}},
			{ID: "3", Hostname: "fs-01", Criticality: "medium"},
			{ID: "4", Hostname: "web-01", Criticality: "high", ExpectedSources: []string{"syslog"}},
		},
		Sources: []statedb.Source{
			{Host: "dc-01", Input: "syslog", LastSeen: now},
			{Host: "db-<01>", Input: "syslog", LastSeen: now.Add(-72 * time.Hour)},
			{Host: "web-01", Input: "syslog", LastSeen: now},
			{Host: "stray", Input: "syslog", LastSeen: now},
		}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/me":
			_, _ = w.Write([]byte(`{"user":{"name":"ann","role":"viewer"},"csrf_token":"tok"}`))
		case "/api/v1/coverage":
			if r.URL.Query().Get("silent_after") == "bad" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"silent_after: want a positive duration"}`))
				return
			}
			if err := json.NewEncoder(w).Encode(rep); err != nil {
				t.Error(err)
			}
		default:
			http.NotFound(w, r)
		}
	})
}

func TestCoveragePage(t *testing.T) {
	t.Parallel()
	c := newTestConsole(t, coverageAPI(t))
	tests := []struct {
		path  string
		order []string // must appear in this order
		not   []string
	}{
		{"/coverage", []string{`id="report-html"`, "critical assets: 0% covered (0 of 2)", `id="never-onboarded"`, "fs-01",
			`id="silent"`, "db-&lt;01&gt;", "3d", `id="never-seen"`, "winlogbeat:Security", `id="unknown-hosts"`, "stray",
			`id="by-criticality"`, `id="coverage-assets"`, "web-01"}, []string{"db-<01>"}},
		{"/coverage?silent_after=bad", []string{"Not available.", "silent_after: want a positive duration"}, nil},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "s"})
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, r)
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.path, w.Code, body)
		}
		at := 0
		for _, want := range tt.order {
			i := strings.Index(body[at:], want)
			if i < 0 {
				t.Errorf("%s: %q missing or out of order", tt.path, want)
				continue
			}
			at += i
		}
		for _, f := range tt.not {
			if strings.Contains(body, f) {
				t.Errorf("%s: %q present", tt.path, f)
			}
		}
		if !strings.Contains(body, `href="/coverage" aria-current="page"`) {
			t.Errorf("%s: nav link not current", tt.path)
		}
	}
}
