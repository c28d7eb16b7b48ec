package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/detect/rules"
	"github.com/vigil-soc/vigil/internal/report"
)

// coverageRoutes registers the coverage and blind-spot report endpoints.
func (s *Server) coverageRoutes(read []string) {
	m := s.mux
	m.Handle("GET /api/v1/coverage", s.auth(s.handleCoverage, read...))
	m.Handle("GET /api/v1/reports/blindspots", s.auth(s.handleBlindSpots, read...))
}

// handleCoverage answers the coverage map; ?silent_after= (a Go duration,
// default 24h) is how long a source may be quiet before it counts as
// silent.
func (s *Server) handleCoverage(w http.ResponseWriter, r *http.Request) {
	after, err := silentAfter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	rep, err := coverage.Load(r.Context(), s.State, time.Now().UTC(), after)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// silentAfter reads ?silent_after=.
func silentAfter(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("silent_after")
	if v == "" {
		return coverage.DefaultSilentAfter, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("silent_after: want a positive duration such as 24h, got %q", v)
	}
	return d, nil
}

// handleBlindSpots renders the blind-spot report of the last ?days= days
// (default 7) as ?format= md (default), html or json.
func (s *Server) handleBlindSpots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = report.FormatMarkdown
	}
	if format != report.FormatMarkdown && format != report.FormatHTML && format != "json" {
		writeError(w, http.StatusBadRequest, errors.New("format: want md, html or json"))
		return
	}
	days := report.DefaultDays
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > report.MaxDays {
			writeError(w, http.StatusBadRequest, fmt.Errorf("days: want 1 to %d", report.MaxDays))
			return
		}
		days = n
	}
	opts := report.Options{Days: days, SLA: s.vulnSLA(), RuleErrors: []report.RuleError{}}
	if s.Intel != nil {
		opts.IntelStatus = s.Intel.Status
	}
	if s.Rules != nil {
		opts.RuleErrors = RuleErrors(s.Rules.Status())
	}
	b, err := report.Gather(r.Context(), s.State, opts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if format == "json" {
		writeJSON(w, http.StatusOK, b)
		return
	}
	var buf bytes.Buffer
	if err := b.Render(&buf, format); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	h := w.Header()
	name := "vigil-blindspots-" + b.To.Format("2006-01-02") + "." + format
	if format == report.FormatHTML {
		h.Set("Content-Type", "text/html; charset=utf-8")
		// The report is self-contained: inline styles, nothing else.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("Content-Disposition", `inline; filename="`+name+`"`)
	} else {
		h.Set("Content-Type", "text/markdown; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// RuleErrors converts the rules manager's load errors for the report.
func RuleErrors(st rules.Status) []report.RuleError {
	out := make([]report.RuleError, 0, len(st.Errors))
	for _, e := range st.Errors {
		out = append(out, report.RuleError{File: e.File, Line: e.Line, Reason: e.Reason})
	}
	return out
}
