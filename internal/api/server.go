// Package api serves Vigil's HTTP API: event ingest (NDJSON and the
// Elasticsearch bulk API), search, alerts, sources, tokens, and the open
// health, readiness and metrics endpoints. Every /api/v1 call needs a bearer
// token; ingest endpoints also take ingest-only tokens.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	mux     *http.ServeMux
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
		ingestQ: make(chan struct{}, cfg.MaxConcurrentIngest), mux: http.NewServeMux()}
	s.mappers.New = func() any { return new(auto.Mapper) }
	s.routes()
	return s
}

// Handler returns the server's HTTP handler. Unknown paths and methods get
// JSON errors like every other answer.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern == "" {
			writeError(w, http.StatusNotFound, errors.New("no such endpoint: "+r.Method+" "+r.URL.Path))
			return
		}
		s.mux.ServeHTTP(w, r)
	})
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

type ctxKey struct{}

// tokenFrom returns the authenticated token of a request.
func tokenFrom(ctx context.Context) statedb.Token {
	t, _ := ctx.Value(ctxKey{}).(statedb.Token)
	return t
}

// credential extracts a token from Authorization: Bearer, ApiKey (as
// Beats send it: base64 of id:key, key being the token) or Basic (the
// password being the token).
func credential(r *http.Request) string {
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

// auth admits requests whose token has one of roles.
func (s *Server) auth(h http.HandlerFunc, roles ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred := credential(r)
		if cred == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing API token: send Authorization: Bearer <token>"))
			return
		}
		tok, err := s.State.VerifyToken(r.Context(), cred)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, errors.New("invalid or revoked API token"))
			return
		}
		for _, role := range roles {
			if tok.Role == role {
				h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, tok)))
				return
			}
		}
		writeError(w, http.StatusForbidden, errors.New("token role "+tok.Role+" may not call this endpoint"))
	})
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
