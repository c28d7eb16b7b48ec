package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/vuln"
)

// VulnService is what the API needs of vulnerability tracking.
type VulnService interface {
	// Import parses a scan report (format "" recognises it), maps its
	// targets to assets and records it.
	Import(ctx context.Context, name, format string, data []byte) (VulnImport, error)
	// SLA returns the remediation deadlines per severity.
	SLA() vuln.SLA
}

// VulnImport is the outcome of a scan import.
type VulnImport struct {
	Scan     vuln.Scan                `json:"scan"`
	Findings int                      `json:"findings"`
	Counts   statedb.VulnImportCounts `json:"counts"`
	Problems []vuln.Problem           `json:"problems"`
}

// FindingView is a finding with its deadline as the API shows it.
type FindingView struct {
	statedb.VulnFinding
	Due     time.Time `json:"due,omitzero"`
	Overdue bool      `json:"overdue"`
	AgeDays int       `json:"age_days"`
}

func (s *Server) vulnRoutes(read, write []string) {
	m := s.mux
	m.Handle("GET /api/v1/vulns", s.auth(s.handleVulns, read...))
	m.Handle("POST /api/v1/vulns/import", s.auth(s.handleVulnImport, write...))
	m.Handle("GET /api/v1/vulns/history", s.auth(s.handleVulnHistory, read...))
	m.Handle("GET /api/v1/vulns/trend", s.auth(s.handleVulnTrend, read...))
}

func (s *Server) vulnSLA() vuln.SLA {
	if s.Vulns == nil {
		return vuln.DefaultSLA()
	}
	return s.Vulns.SLA()
}

// VulnFilterFrom reads GET /api/v1/vulns' parameters: status (open,
// fixed), severity (comma list), asset, target, overdue=true, limit.
func VulnFilterFrom(q url.Values, sla vuln.SLA, now time.Time) (statedb.VulnFilter, error) {
	f := statedb.VulnFilter{Status: q.Get("status"), AssetID: q.Get("asset"), Target: q.Get("target"),
		Overdue: q.Get("overdue") == "true", SLA: sla, Now: now}
	if f.Overdue && f.Status == "" {
		f.Status = statedb.VulnOpen
	}
	for _, x := range strings.FieldsFunc(q.Get("severity"), func(r rune) bool { return r == ',' }) {
		sev, ok := vuln.ParseSeverity(x)
		if !ok {
			return f, fmt.Errorf("severity %q: want critical, high, medium, low or info", x)
		}
		f.Severities = append(f.Severities, sev)
	}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 1000
	}
	return f, nil
}

// ViewFindings adds due dates, overdue flags and ages to findings.
func ViewFindings(fs []statedb.VulnFinding, sla vuln.SLA, now time.Time) []FindingView {
	out := make([]FindingView, 0, len(fs))
	for _, x := range fs {
		out = append(out, viewFinding(x, sla, now))
	}
	return out
}

// handleVulns lists findings (see VulnFilterFrom for the parameters).
func (s *Server) handleVulns(w http.ResponseWriter, r *http.Request) {
	sla, now := s.vulnSLA(), time.Now().UTC()
	f, err := VulnFilterFrom(r.URL.Query(), sla, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	fs, err := s.State.Findings(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": ViewFindings(fs, sla, now), "sla_days": sla})
}

func viewFinding(f statedb.VulnFinding, sla vuln.SLA, now time.Time) FindingView {
	v := FindingView{VulnFinding: f}
	end := now
	if f.Status == statedb.VulnFixed && !f.FixedAt.IsZero() {
		end = f.FixedAt
	}
	v.AgeDays = int(end.Sub(f.Opened).Hours() / 24)
	if due, ok := sla.Deadline(f.Severity, f.Opened); ok {
		v.Due = due
		v.Overdue = f.Status == statedb.VulnOpen && now.After(due)
	}
	return v
}

func (s *Server) handleVulnImport(w http.ResponseWriter, r *http.Request) {
	if s.Vulns == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("vulnerability tracking is not available"))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "upload"
	}
	res, err := s.Vulns.Import(r.Context(), name, r.URL.Query().Get("format"), data)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.audit(r, "vulns.import", "scan", name, nil, map[string]any{"scanner": res.Scan.Scanner, "findings": res.Findings,
		"counts": res.Counts})
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleVulnHistory(w http.ResponseWriter, r *http.Request) {
	f, evs, err := s.State.FindingHistory(r.Context(), r.URL.Query().Get("key"))
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"finding": viewFinding(f, s.vulnSLA(), time.Now().UTC()),
		"events": evs, "time_to_remediate_hours": f.TimeToRemediate().Hours()})
}

func (s *Server) handleVulnTrend(w http.ResponseWriter, r *http.Request) {
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	if days <= 0 || days > 365 {
		days = 30
	}
	to := time.Now().UTC()
	pts, err := s.State.OpenTrend(r.Context(), to.AddDate(0, 0, -days), to)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"points": pts})
}
