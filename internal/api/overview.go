package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/rules"
	"github.com/vigil-soc/vigil/internal/detect/sigma"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// RulesService is what the API needs of the Sigma rules manager.
type RulesService interface {
	Status() rules.Status
	Rules() []*sigma.Rule
	// SetEnabled turns a rule on or off and remembers it across restarts.
	SetEnabled(id string, enabled bool) error
	DisabledIDs() []string
}

// flowQuery selects the events that are network flows.
const flowQuery = `input:netflow OR event.dataset:"zeek.conn" OR event.dataset:"suricata.flow" OR event.dataset:"suricata.netflow"`

// Overview is GET /api/v1/overview: is everything working and what needs
// attention.
type Overview struct {
	EventsPerSec float64              `json:"events_per_sec"`
	FlowsPerSec  float64              `json:"flows_per_sec"`
	Series       OverviewSeries       `json:"series"`
	Alerts       statedb.AlertStats   `json:"alerts"`
	TopHosts     []risk.HostRisk      `json:"top_hosts"`
	Intel        []intel.SourceStatus `json:"intel"`
	Sources      []statedb.Source     `json:"sources"`
	SourcesSeen  int                  `json:"sources_seen"`
}

// OverviewSeries are per-minute counts over the last 24 hours.
type OverviewSeries struct {
	Minutes []int64 `json:"minutes"`
	Events  []int64 `json:"events"`
	Flows   []int64 `json:"flows"`
}

func (s *Server) overviewRoutes(read, write []string) {
	m := s.mux
	m.Handle("GET /api/v1/overview", s.auth(s.handleOverview, read...))
	m.Handle("GET /api/v1/events/top", s.auth(s.handleTopValues, read...))
	m.Handle("GET /api/v1/events/export", s.auth(s.handleExport, read...))
	m.Handle("GET /api/v1/rules", s.auth(s.handleRules, read...))
	m.Handle("PATCH /api/v1/rules/{id}", s.auth(s.handleRuleEnabled, write...))
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	from := now.Add(-24 * time.Hour)
	var o Overview
	var err error
	if o.Series, err = s.series(r, from, now); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if n := len(o.Series.Events); n >= 6 {
		o.EventsPerSec = float64(sum(o.Series.Events[n-6:n-1])) / 300
		o.FlowsPerSec = float64(sum(o.Series.Flows[n-6:n-1])) / 300
	}
	if o.Alerts, err = s.State.AlertStats(ctx, from, now); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if s.Risk != nil {
		if o.TopHosts, err = s.Risk.Hosts(ctx); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		o.TopHosts = o.TopHosts[:min(10, len(o.TopHosts))]
	}
	if s.Intel != nil {
		if o.Intel, err = s.Intel.Status(ctx); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
	}
	if o.Sources, err = s.State.Sources(ctx); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	o.SourcesSeen = len(o.Sources)
	writeJSON(w, http.StatusOK, o)
}

func sum(l []int64) int64 {
	var n int64
	for _, v := range l {
		n += v
	}
	return n
}

// series counts events and flows per minute in [from, to).
func (s *Server) series(r *http.Request, from, to time.Time) (OverviewSeries, error) {
	var out OverviewSeries
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		out.Minutes = append(out.Minutes, t.Unix())
	}
	out.Events, out.Flows = make([]int64, len(out.Minutes)), make([]int64, len(out.Minutes))
	if s.Events == nil {
		return out, nil
	}
	for _, x := range []struct {
		q   string
		dst []int64
	}{{"", out.Events}, {flowQuery, out.Flows}} {
		h, err := s.Events.Histogram(r.Context(), from, to, time.Minute, x.q)
		if err != nil {
			return out, err
		}
		for _, b := range h {
			if i := int(b.Start.Sub(from) / time.Minute); i >= 0 && i < len(x.dst) {
				x.dst[i] = b.Count
			}
		}
	}
	return out, nil
}

// lastDay is timeRange with a default window of the last 24 hours (a
// histogram or top values over all time would read every partition).
func lastDay(r *http.Request) (time.Time, time.Time, error) {
	from, to, err := timeRange(r)
	if err == nil && from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	return from, to, err
}

func (s *Server) handleTopValues(w http.ResponseWriter, r *http.Request) {
	from, to, err := lastDay(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	field := q.Get("field")
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 10
	}
	vals, err := s.Events.TopValues(r.Context(), from, to, q.Get("q"), field, limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if vals == nil {
		vals = []eventstore.Value{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"field": field, "values": vals})
}

// exportColumns are the CSV export's columns.
var exportColumns = []string{"@timestamp", "host.name", "event.dataset", "event.action", "event.outcome", "source.ip",
	"source.port", "destination.ip", "destination.port", "user.name", "process.command_line", "message"}

// handleExport streams the matching events as CSV or NDJSON (at most
// maxExport events, newest first).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	from, to, err := timeRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "ndjson" {
		writeError(w, http.StatusBadRequest, errors.New("format: want csv or ndjson"))
		return
	}
	req := eventstore.SearchRequest{From: from, To: to, Query: r.URL.Query().Get("q"), Limit: eventstore.MaxLimit}
	res, err := s.Events.Search(r.Context(), req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-events.`+format+`"`)
	if format == "ndjson" {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for i := range res.Events {
			_ = enc.Encode(&res.Events[i])
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	cw := csv.NewWriter(w)
	_ = cw.Write(exportColumns)
	for i := range res.Events {
		row := make([]string, len(exportColumns))
		for j, c := range exportColumns {
			row[j], _ = res.Events[i].Get(c)
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// RuleInfo is one rule in GET /api/v1/rules.
type RuleInfo struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Level   string   `json:"level"`
	Path    string   `json:"path"`
	Tags    []string `json:"tags,omitempty"`
	Enabled bool     `json:"enabled"`
	Hits    int64    `json:"hits"`
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	if s.Rules == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("rules are not available"))
		return
	}
	st := s.Rules.Status()
	out := []RuleInfo{}
	for _, ru := range s.Rules.Rules() {
		out = append(out, RuleInfo{ID: ru.ID, Title: ru.Title, Level: ru.Level, Path: ru.Path, Tags: ru.Tags,
			Enabled: true, Hits: st.Hits[ru.ID]})
	}
	for _, id := range s.Rules.DisabledIDs() {
		out = append(out, RuleInfo{ID: id, Enabled: false, Hits: st.Hits[id]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out, "errors": st.Errors, "loaded": st.Loaded,
		"disabled": st.Disabled, "loaded_at": st.LoadedAt})
}

func (s *Server) handleRuleEnabled(w http.ResponseWriter, r *http.Request) {
	if s.Rules == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("rules are not available"))
		return
	}
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Enabled == nil {
		writeError(w, http.StatusBadRequest, errors.New(`want {"enabled": true|false}`))
		return
	}
	id := r.PathValue("id")
	if err := s.Rules.SetEnabled(id, *req.Enabled); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	s.audit(r, "rule.enable", "rule", id, nil, map[string]bool{"enabled": *req.Enabled})
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "enabled": *req.Enabled})
}
