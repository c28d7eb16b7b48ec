// Package web is Vigil's browser console: server-rendered pages built with
// html/template and htmx, uPlot charts and a cytoscape network graph.
//
// The console keeps no data of its own and never reads the stores: every
// page is rendered from the documented REST API, which the console calls
// in-process with the incoming request's session cookie and context. What
// the console shows can therefore always be scripted against /api/v1.
package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// Config is what the console needs.
type Config struct {
	// API serves /api/v1/...; the console calls it in-process.
	API http.Handler
	// Log receives the console's errors.
	Log *slog.Logger
	// Version is shown in the footer.
	Version string
}

// Console serves the web console.
type Console struct {
	api     http.Handler
	log     *slog.Logger
	version string
	pages   map[string]*template.Template
	static  *staticFiles
	mux     *http.ServeMux
}

// contentSecurityPolicy allows only the console's own scripts and styles:
// no inline script, no eval, no inline style attributes.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// New builds the console: it parses the templates and fingerprints the
// static files, so a broken template fails here and not on a page view.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil {
		return nil, errors.New("web: Config.API is required")
	}
	if cfg.Log == nil {
		return nil, errors.New("web: Config.Log is required")
	}
	st, err := newStaticFiles()
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	c := &Console{api: cfg.API, log: cfg.Log, version: cfg.Version, static: st, mux: http.NewServeMux()}
	if c.pages, err = parsePages(c.funcs()); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	c.routes()
	return c, nil
}

// Handler returns the console's handler, which serves the login page at
// /login, the pages at /, /alerts, /alerts/{id}, /hosts/{id}, /graph,
// /search, /rules, /sources and /audit, and static files under /static/.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		c.mux.ServeHTTP(w, r)
	})
}

func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /static/{hash}/{name...}", c.static)
	m.HandleFunc("GET /login", c.handleLoginPage)
	m.HandleFunc("POST /login", c.handleLogin)
	m.HandleFunc("POST /logout", c.handleLogout)
	m.HandleFunc("GET /{$}", c.page("overview", c.overviewData))
	m.HandleFunc("GET /alerts", c.handleAlerts)
	m.HandleFunc("POST /alerts/bulk", c.handleBulk)
	m.HandleFunc("GET /alerts/{id}", c.page("alert", c.alertData))
	m.HandleFunc("POST /alerts/{id}", c.handleAlertUpdate)
	m.HandleFunc("POST /alerts/{id}/comments", c.handleComment)
	m.HandleFunc("GET /hosts/{id}", c.page("host", c.hostData))
	m.HandleFunc("GET /graph", c.page("graph", c.graphPageData))
	m.HandleFunc("GET /graph/data", c.handleGraphData)
	m.HandleFunc("GET /graph/flows", c.handleGraphFlows)
	m.HandleFunc("GET /search", c.page("search", c.searchData))
	m.HandleFunc("GET /search/top", c.handleTop)
	m.HandleFunc("GET /rules", c.page("rules", c.rulesData))
	m.HandleFunc("POST /rules/{id}", c.handleRuleToggle)
	m.HandleFunc("GET /sources", c.page("sources", c.sourcesData))
	m.HandleFunc("GET /coverage", c.coveragePage())
	m.HandleFunc("GET /audit", c.page("audit", c.auditData))
	m.HandleFunc("GET /vulns", c.page("vulns", c.vulnsData))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

// dataFunc loads one page's data from the API.
type dataFunc func(r *http.Request, s *session) (any, error)

// page returns a handler that checks the session, loads the data and
// renders the named page, or redirects to the login page.
func (c *Console) page(name string, load dataFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.requireSession(w, r)
		if !ok {
			return
		}
		data, err := load(r, s)
		if c.authFailed(w, r, err) {
			return
		}
		p := c.newView(r, s, name)
		p.Data = data
		if err != nil {
			p.Error = c.userError(r, err)
		}
		c.render(w, r, name, http.StatusOK, p)
	}
}

// localPath returns next when it is a path on this site and "/" otherwise,
// so the login redirect cannot send the user elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}
