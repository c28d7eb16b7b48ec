package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/timeexpr"
)

func decodeBase64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	return string(b), err
}

// timeRange reads from= and to= (RFC 3339, a date, epoch seconds, or
// relative like now-1h / -15m). Missing from means the beginning of time;
// missing to means now.
func timeRange(r *http.Request) (from, to time.Time, err error) {
	now := time.Now().UTC()
	q := r.URL.Query()
	if from, err = timeexpr.Parse(q.Get("from"), now); err != nil {
		return from, to, fmt.Errorf("from: %w", err)
	}
	if to, err = timeexpr.Parse(q.Get("to"), now); err != nil {
		return from, to, fmt.Errorf("to: %w", err)
	}
	if to.IsZero() {
		to = now.Add(time.Second)
	}
	if !from.IsZero() && !to.After(from) {
		return from, to, errors.New("to must be after from")
	}
	return from, to, nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, not %q", name, v)
	}
	return n, nil
}

func wantsNDJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") || r.URL.Query().Get("format") == "ndjson"
}

// handleSearch serves GET /api/v1/events.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	from, to, err := timeRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	res, err := s.Events.Search(r.Context(), eventstore.SearchRequest{From: from, To: to, Query: q.Get("q"),
		Limit: limit, Cursor: q.Get("cursor"), Ascending: q.Get("order") == "asc"})
	if err != nil {
		s.queryError(w, err)
		return
	}
	if wantsNDJSON(r) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		if res.Next != "" {
			w.Header().Set("X-Next-Cursor", res.Next)
		}
		enc := json.NewEncoder(w)
		for i := range res.Events {
			_ = enc.Encode(&res.Events[i])
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": res.Events, "next": res.Next,
		"took_ms": res.Took.Milliseconds(), "count": len(res.Events)})
}

// queryError answers 400 for a query the caller got wrong and 500 for a
// failure of the store.
func (s *Server) queryError(w http.ResponseWriter, err error) {
	var qe *query.Error
	switch {
	case errors.As(err, &qe), errors.Is(err, eventstore.ErrBadCursor), errors.Is(err, statedb.ErrBadCursor),
		errors.Is(err, statedb.ErrInvalidStatus):
		writeError(w, http.StatusBadRequest, err)
	default:
		s.log.Error("query failed", "err", err)
		writeError(w, http.StatusInternalServerError, errors.New("query failed; see the server log"))
	}
}

// handleAlerts serves GET /api/v1/alerts.
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	from, to, err := timeRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	f := statedb.AlertFilter{From: from, To: to, Status: q.Get("status"), Kind: q.Get("kind"),
		Host: q.Get("host"), Limit: limit, Cursor: q.Get("cursor")}
	if rid := q.Get("rule_id"); rid != "" {
		f.RuleID = rid
	}
	alerts, next, err := s.State.Alerts(r.Context(), f)
	if err != nil {
		s.queryError(w, err)
		return
	}
	if wantsNDJSON(r) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for i := range alerts {
			_ = enc.Encode(&alerts[i])
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts, "next": next, "count": len(alerts)})
}

// handleAlert serves GET /api/v1/alerts/{id}.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.State.Alert(r.Context(), r.PathValue("id"))
	if errors.Is(err, statedb.ErrNotFound) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// handleSources serves GET /api/v1/sources.
func (s *Server) handleSources(w http.ResponseWriter, r *http.Request) {
	src, err := s.State.Sources(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": src, "count": len(src)})
}

// handleDeadLetters serves GET /api/v1/deadletters.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	dl, err := s.State.DeadLetters(r.Context(), statedb.DeadLetterFilter{Source: q.Get("source"),
		Input: q.Get("input"), Reason: q.Get("reason"), Limit: limit})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": dl, "count": len(dl)})
}

// handleStatus serves GET /api/v1/status: version and store statistics.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Events.Stats(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": s.cfg.Version, "events": st})
}

// handleListTokens serves GET /api/v1/tokens.
func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	toks, err := s.State.ListTokens(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": toks})
}

// handleCreateToken serves POST /api/v1/tokens with {"name":..,"role":..}.
// The plain token is in the response once and never again.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
		return
	}
	plain, tok, err := s.State.CreateToken(r.Context(), req.Name, req.Role)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.log.Info("API token created", "id", tok.ID, "name", tok.Name, "role", tok.Role, "by", actor(r.Context()))
	s.audit(r, "token.create", "token", tok.ID, nil, tok)
	writeJSON(w, http.StatusCreated, map[string]any{"token": plain, "info": tok})
}

// handleRevokeToken serves DELETE /api/v1/tokens/{id}.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.State.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, statedb.ErrNotFound) {
			status = http.StatusNotFound
		}
		writeError(w, status, err)
		return
	}
	s.log.Info("API token revoked", "id", r.PathValue("id"), "by", actor(r.Context()))
	s.audit(r, "token.revoke", "token", r.PathValue("id"), nil, nil)
	w.WriteHeader(http.StatusNoContent)
}

// handleESLicense answers the licence checks of Elastic's shippers.
func (s *Server) handleESLicense(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"license": map[string]any{"status": "active", "type": "basic",
		"uid": "vigil", "issued_to": "vigil", "issuer": "vigil", "mode": "basic"}})
}
