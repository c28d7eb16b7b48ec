// Package api serves Vigil's HTTP API: event ingest (NDJSON and the
// Elasticsearch bulk API), search, alerts, sources, tokens, and the open
// health, readiness and metrics endpoints. Every /api/v1 call needs a bearer
// token; ingest endpoints also take ingest-only tokens.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-soc/vigil/internal/auth"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Sink is what the API needs of the ingest log.
type Sink interface {
	SubmitID(ctx context.Context, key string, evs []schema.Event) error
	Overloaded() bool
}

// Config tunes the API.
type Config struct {
	MaxBodyBytes  int64
	MaxEventBytes int
	// MaxConcurrentIngest bounds ingest requests in flight (and so the
	// memory their bodies take); more wait for a slot.
	MaxConcurrentIngest int
	Version             string
}

// Deps are the components the API serves from.
type Deps struct {
	Sink     Sink
	Rejects  ingest.RejectRecorder
	Inputs   *ingest.InputMetrics
	Events   *eventstore.Store
	State    *statedb.DB
	Registry *prometheus.Registry
	// Ready reports whether every stage is running (for /readyz).
	Ready func() error
	// Import runs a file import on the server (for `vigil import` through
	// the API); nil disables the endpoint.
	Import ImportFunc
	// Graph describes addresses for GET /api/v1/graph.
	Graph GraphContext
	// Auth authenticates requests (tokens and console sessions); nil
	// builds one over State that reads tokens the way shippers send them.
	Auth *auth.Authenticator
	// Console serves the web console on every path the API does not own;
	// nil answers them 404.
	Console http.Handler
	// Vulns imports scan reports and knows the SLA; nil answers 503 to
	// imports.
	Vulns VulnService
	// Rules serves the Sigma rules' list, hit counts and switches; nil
	// answers 503.
	Rules RulesService
	// Risk ranks hosts (GET /api/v1/hosts); Intel serves threat-intel
	// status and imports. Either may be nil.
	Risk  *risk.Service
	Intel IntelService
	// AssetsChanged is called after the asset inventory changed, so that
	// enrichment and context reload it; nil means nobody listens.
	AssetsChanged func()
	Log           *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	Deps
	cfg     Config
	sink    Sink
	rejects ingest.RejectRecorder
	inputs  *ingest.InputMetrics
	log     *slog.Logger
	mappers sync.Pool
	ingestQ chan struct{}
	mux     *routeMux
	authn   *auth.Authenticator
}

// New builds the API server.
func New(cfg Config, d Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = 1 << 20
	}
	if cfg.MaxConcurrentIngest <= 0 {
		cfg.MaxConcurrentIngest = 16
	}
	s := &Server{Deps: d, cfg: cfg, sink: d.Sink, rejects: d.Rejects, inputs: d.Inputs, log: d.Log,
		ingestQ: make(chan struct{}, cfg.MaxConcurrentIngest), mux: &routeMux{ServeMux: http.NewServeMux()}}
	s.mappers.New = func() any { return new(auto.Mapper) }
	s.authn = d.Auth
	if s.authn == nil {
		a, err := auth.New(d.State, d.Log, auth.Config{Credential: Credential})
		if err != nil {
			panic(fmt.Sprintf("api: %v", err)) // only with a nil state database or logger: a wiring bug
		}
		s.authn = a
	}
	s.routes()
	return s
}

// Handler returns the server's HTTP handler. Unknown paths and methods get
// JSON errors like every other answer.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.console(r) {
			s.Console.ServeHTTP(w, r)
			return
		}
		if _, pattern := s.mux.Handler(r); pattern == "" {
			writeError(w, http.StatusNotFound, errors.New("no such endpoint: "+r.Method+" "+r.URL.Path))
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// routeMux is a ServeMux that remembers the patterns registered on it, so
// that tests can hold the served routes against docs/openapi.yaml.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers f for pattern.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// Routes returns the patterns the API serves ("METHOD /path/{param}").
func (s *Server) Routes() []string { return append([]string(nil), s.mux.patterns...) }

// console reports whether r is for the web console: a path the API does
// not own, or "GET /" from a browser (Elasticsearch clients asking "GET /"
// send no text/html Accept header).
func (s *Server) console(r *http.Request) bool {
	if s.Console == nil {
		return false
	}
	p := r.URL.Path
	if p == "/" {
		return strings.Contains(r.Header.Get("Accept"), "text/html") && r.Header.Get("Authorization") == ""
	}
	switch {
	case strings.HasPrefix(p, "/api/"), strings.HasPrefix(p, "/_"), p == "/metrics", p == "/healthz", p == "/readyz":
		return false
	}
	_, pattern := s.mux.Handler(r)
	return pattern == ""
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	m.HandleFunc("GET /readyz", s.handleReady)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))

	ingestRoles := []string{statedb.RoleIngest, statedb.RoleAdmin, statedb.RoleAnalyst}
	m.Handle("POST /api/v1/events", s.auth(s.limitIngest(s.handleEvents), ingestRoles...))
	m.Handle("POST /_bulk", s.auth(s.limitIngest(s.handleBulk), ingestRoles...))
	m.Handle("POST /{index}/_bulk", s.auth(s.limitIngest(s.handleBulk), ingestRoles...))
	m.Handle("GET /{$}", s.auth(s.handleESInfo, ingestRoles...))
	m.Handle("HEAD /{$}", s.auth(s.handleESInfo, ingestRoles...))
	m.Handle("GET /_license", s.auth(s.handleESLicense, ingestRoles...))
	m.Handle("GET /_xpack", s.auth(s.handleESLicense, ingestRoles...))
	for _, p := range []string{"/_index_template/{name}", "/_template/{name}", "/_ilm/policy/{name}",
		"/_ingest/pipeline/{name}", "/_data_stream/{name}"} {
		m.Handle("PUT "+p, s.auth(s.handleESAccept, ingestRoles...))
		m.Handle("GET "+p, s.auth(s.handleESAccept, ingestRoles...))
		m.Handle("HEAD "+p, s.auth(s.handleESAccept, ingestRoles...))
	}

	read := []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer}
	m.Handle("GET /api/v1/events", s.auth(s.handleSearch, read...))
	m.Handle("GET /api/v1/alerts", s.auth(s.handleAlerts, read...))
	m.Handle("GET /api/v1/alerts/{id}", s.auth(s.handleAlert, read...))
	m.Handle("GET /api/v1/sources", s.auth(s.handleSources, read...))
	m.Handle("GET /api/v1/deadletters", s.auth(s.handleDeadLetters, read...))
	m.Handle("GET /api/v1/status", s.auth(s.handleStatus, read...))
	m.Handle("GET /api/v1/graph", s.auth(s.handleGraph, read...))
	m.Handle("GET /api/v1/graph/flows", s.auth(s.handleGraphFlows, read...))
	m.Handle("POST /api/v1/import", s.auth(s.handleImport, statedb.RoleAdmin, statedb.RoleAnalyst))
	m.Handle("GET /api/v1/tokens", s.auth(s.handleListTokens, statedb.RoleAdmin))
	m.Handle("POST /api/v1/tokens", s.auth(s.handleCreateToken, statedb.RoleAdmin))
	m.Handle("DELETE /api/v1/tokens/{id}", s.auth(s.handleRevokeToken, statedb.RoleAdmin))
	s.hostRoutes(read, []string{statedb.RoleAdmin, statedb.RoleAnalyst})
	s.assetRoutes()
	s.triageRoutes(read, []string{statedb.RoleAdmin, statedb.RoleAnalyst})
	s.overviewRoutes(read, []string{statedb.RoleAdmin, statedb.RoleAnalyst})
	s.coverageRoutes(read)
	s.vulnRoutes(read, []string{statedb.RoleAdmin, statedb.RoleAnalyst})
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// limitIngest bounds concurrent ingest requests.
func (s *Server) limitIngest(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.ingestQ <- struct{}{}:
			defer func() { <-s.ingestQ }()
			h(w, r)
		case <-r.Context().Done():
		}
	}
}

// Credential extracts a token from Authorization: Bearer, ApiKey (as
// Beats send it: base64 of id:key, key being the token) or Basic (the
// password being the token).
func Credential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return strings.TrimSpace(rest)
	case "apikey":
		if dec, err := decodeBase64(strings.TrimSpace(rest)); err == nil {
			if _, key, ok := strings.Cut(dec, ":"); ok {
				return key
			}
			return dec
		}
		return strings.TrimSpace(rest)
	case "basic":
		if _, pw, ok := r.BasicAuth(); ok {
			return pw
		}
	}
	return ""
}

// auth admits requests authenticated by an API token (Bearer, or as
// Beats and Elastic shippers send it) or a console session, whose role is
// one of roles. State-changing requests on a session need the CSRF token.
func (s *Server) auth(h http.HandlerFunc, roles ...string) http.Handler {
	return s.authn.Authenticate(auth.Require(roles...)(h))
}

// actor names who made a request (user or token name).
func actor(ctx context.Context) string {
	if p, ok := auth.PrincipalFrom(ctx); ok {
		return p.Name
	}
	return "unknown"
}

// audit records a state-changing action; a failure to record is logged.
func (s *Server) audit(r *http.Request, action, targetType, targetID string, before, after any) {
	if err := s.authn.Audit(r.Context(), r, action, targetType, targetID, before, after); err != nil {
		s.log.Error("audit entry not written", "action", action, "target", targetID, "err", err)
	}
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
