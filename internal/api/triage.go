package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/auth"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// maxBulk bounds the alerts one bulk request changes.
const maxBulk = 1000

// triageRoutes registers the workflow, account and audit endpoints.
func (s *Server) triageRoutes(read, write []string) {
	m := s.mux
	m.Handle("PATCH /api/v1/alerts/{id}", s.auth(s.handlePatchAlert, write...))
	m.Handle("POST /api/v1/alerts/bulk", s.auth(s.handleBulkAlerts, write...))
	m.Handle("POST /api/v1/alerts/{id}/comments", s.auth(s.handleComment, write...))
	m.Handle("GET /api/v1/alerts/{id}/timeline", s.auth(s.handleTimeline, read...))
	m.Handle("POST /api/v1/login", s.authn.LoginHandler())
	m.Handle("POST /api/v1/logout", s.authn.Authenticate(s.authn.LogoutHandler()))
	m.Handle("GET /api/v1/me", s.auth(s.handleMe, append(read, statedb.RoleIngest)...))
	admin := statedb.RoleAdmin
	m.Handle("GET /api/v1/users", s.auth(s.handleUsers, admin, statedb.RoleAnalyst))
	m.Handle("POST /api/v1/users", s.auth(s.handleCreateUser, admin))
	m.Handle("PATCH /api/v1/users/{id}", s.auth(s.handleUpdateUser, admin))
	m.Handle("DELETE /api/v1/users/{id}", s.auth(s.handleDeleteUser, admin))
	m.Handle("POST /api/v1/users/{id}/tokens", s.auth(s.handleUserToken, admin))
	m.Handle("GET /api/v1/audit", s.auth(s.handleAudit, admin))
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err))
		return false
	}
	return true
}

// statusOf maps store errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, statedb.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, statedb.ErrInvalidPatch), errors.Is(err, statedb.ErrInvalidUserRole),
		errors.Is(err, statedb.ErrInvalidUserName), errors.Is(err, statedb.ErrInvalidRole):
		return http.StatusBadRequest
	case errors.Is(err, statedb.ErrUserExists), errors.Is(err, statedb.ErrLastAdmin):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (s *Server) handlePatchAlert(w http.ResponseWriter, r *http.Request) {
	var p statedb.AlertPatch
	if !decodeBody(w, r, &p) {
		return
	}
	before, after, err := s.State.UpdateAlert(r.Context(), r.PathValue("id"), actor(r.Context()), p)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "alert.update", "alert", after.ID, triageView(before), triageView(after))
	writeJSON(w, http.StatusOK, after)
}

// triageView is what the audit log keeps of an alert change.
func triageView(a schema.Alert) map[string]string {
	return map[string]string{"status": a.Status, "disposition": a.Disposition, "reason": a.Reason, "assignee": a.Assignee}
}

type bulkRequest struct {
	IDs []string `json:"ids"`
	statedb.AlertPatch
}

type bulkError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

func (s *Server) handleBulkAlerts(w http.ResponseWriter, r *http.Request) {
	var req bulkRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > maxBulk {
		writeError(w, http.StatusBadRequest, fmt.Errorf("ids: want 1 to %d alert ids", maxBulk))
		return
	}
	updated, errs := 0, []bulkError{}
	for _, id := range req.IDs {
		before, after, err := s.State.UpdateAlert(r.Context(), id, actor(r.Context()), req.AlertPatch)
		if err != nil {
			errs = append(errs, bulkError{ID: id, Error: err.Error()})
			continue
		}
		updated++
		s.audit(r, "alert.update", "alert", id, triageView(before), triageView(after))
	}
	writeJSON(w, http.StatusOK, map[string]any{"updated": updated, "errors": errs})
}

func (s *Server) handleComment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	ev, err := s.State.CommentAlert(r.Context(), r.PathValue("id"), actor(r.Context()), req.Text)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "alert.comment", "alert", r.PathValue("id"), nil, map[string]string{"text": req.Text})
	writeJSON(w, http.StatusCreated, ev)
}

func (s *Server) handleTimeline(w http.ResponseWriter, r *http.Request) {
	evs, err := s.State.Timeline(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"user": map[string]string{"id": p.UserID, "name": p.Name,
		"role": p.Role}, "via": p.Via, "csrf_token": p.CSRF})
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.State.Users(r.Context())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if us == nil {
		us = []statedb.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

type userRequest struct {
	Name     string  `json:"name"`
	Role     *string `json:"role"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Role == nil || req.Password == nil {
		writeError(w, http.StatusBadRequest, errors.New("name, role and password are required"))
		return
	}
	hash, err := auth.HashPassword(*req.Password)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	u, err := s.State.CreateUser(r.Context(), statedb.NewUser{Name: req.Name, Role: *req.Role, PasswordHash: hash})
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "user.create", "user", u.ID, nil, u)
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !decodeBody(w, r, &req) {
		return
	}
	up := statedb.UserUpdate{Role: req.Role, Disabled: req.Disabled}
	if req.Password != nil {
		hash, err := auth.HashPassword(*req.Password)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		up.PasswordHash = &hash
	}
	before, after, err := s.State.UpdateUser(r.Context(), r.PathValue("id"), up)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "user.update", "user", after.ID, before, after)
	writeJSON(w, http.StatusOK, after)
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.State.DeleteUser(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "user.delete", "user", u.ID, u, nil)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleUserToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	plain, tok, err := s.State.CreateUserToken(r.Context(), r.PathValue("id"), req.Name, req.Role)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	s.audit(r, "token.create", "token", tok.ID, nil, tok)
	writeJSON(w, http.StatusCreated, map[string]any{"token": plain, "info": tok})
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := statedb.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), TargetType: q.Get("target_type"),
		TargetID: q.Get("target_id")}
	for key, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("%s: want an RFC 3339 time", key))
				return
			}
			*dst = t
		}
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, errors.New("cursor: invalid"))
			return
		}
		f.BeforeID = n
	}
	if l := q.Get("limit"); l != "" {
		f.Limit, _ = strconv.Atoi(l)
	}
	page, err := s.State.Audit(r.Context(), f)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if page.Entries == nil {
		page.Entries = []statedb.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, page)
}
