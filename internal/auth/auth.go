// Package auth authenticates people and programs to Vigil's API and
// console: local accounts with argon2id password hashes, login with rate
// limiting, session cookies with CSRF protection, bearer API tokens, role
// checks, and the first-admin bootstrap.
//
// Authenticate identifies a request from either a session cookie or an API
// token and stores a Principal in its context; Require then admits only
// some roles. Requests carrying a session cookie must echo the session's
// CSRF token on every method other than GET, HEAD and OPTIONS; requests
// authenticated by a bearer token are exempt, since a browser never attaches
// one on its own.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// How a request was authenticated.
const (
	ViaSession = "session"
	ViaToken   = "token"
)

// Principal is who a request acts for.
type Principal struct {
	// UserID is the account's ID; empty for a service token owned by no
	// user.
	UserID string `json:"user_id,omitempty"`
	// Name is the account name, or the token name of a service token.
	Name string `json:"name"`
	// Role is the account's role for a session and the token's role for a
	// token (which may be lower than its owner's).
	Role string `json:"role"`
	// Via is ViaSession or ViaToken.
	Via string `json:"via"`
	// TokenID is the API token's ID when Via is ViaToken.
	TokenID string `json:"token_id,omitempty"`
	// CSRF is the session's CSRF token, for forms and the X-CSRF-Token
	// header; empty when Via is ViaToken.
	CSRF string `json:"-"`
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal Authenticate stored in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Config adjusts an Authenticator. Zero fields take defaults.
type Config struct {
	// Sessions bounds session lifetimes; 2 hours idle and 12 hours in all
	// by default.
	Sessions statedb.SessionPolicy
	// Limits sets the login rate limits, per user name and per client
	// address alike.
	Limits LimitConfig
	// Now is the limiter's clock; time.Now by default.
	Now func() time.Time
	// Credential extracts an API token from a request; BearerToken by
	// default.
	Credential func(*http.Request) string
	// ClientAddr returns the client address used for rate limiting and the
	// audit log; the host part of RemoteAddr by default. Set it to read a
	// trusted proxy's header.
	ClientAddr func(*http.Request) string
	// Unauthenticated answers requests without valid credentials; a 401
	// JSON error by default. The console may redirect to its login page.
	Unauthenticated http.Handler
}

// Authenticator logs users in and authenticates requests. It is safe for
// concurrent use.
type Authenticator struct {
	db        *statedb.DB
	log       *slog.Logger
	cfg       Config
	users     *Limiter
	addrs     *Limiter
	dummyHash string
}

// New returns an Authenticator over the state database.
func New(db *statedb.DB, log *slog.Logger, cfg Config) (*Authenticator, error) {
	if db == nil || log == nil {
		return nil, errors.New("auth: nil database or logger")
	}
	if cfg.Sessions.Idle <= 0 {
		cfg.Sessions.Idle = 2 * time.Hour
	}
	if cfg.Sessions.Absolute <= 0 {
		cfg.Sessions.Absolute = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Credential == nil {
		cfg.Credential = BearerToken
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = RemoteHost
	}
	if cfg.Unauthenticated == nil {
		cfg.Unauthenticated = http.HandlerFunc(unauthenticated)
	}
	return &Authenticator{
		db: db, log: log, cfg: cfg,
		users: NewLimiter(cfg.Limits, cfg.Now),
		addrs: NewLimiter(cfg.Limits, cfg.Now),
		// Unknown names are checked against this hash so that a login takes
		// as long whether or not the name exists.
		dummyHash: hashWith(randomPassword(), defaultParams()),
	}, nil
}

// BearerToken returns the token of an "Authorization: Bearer" header, or
// "".
func BearerToken(r *http.Request) string {
	scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// RemoteHost returns the host part of r.RemoteAddr.
func RemoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// Require admits requests whose principal has one of roles: 401 without a
// principal, 403 with another role. It goes inside Authenticate.
func Require(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			switch {
			case !ok:
				writeError(w, http.StatusUnauthorized, "not authenticated")
			case !slices.Contains(roles, p.Role):
				writeError(w, http.StatusForbidden, "role "+p.Role+" may not do this")
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

func unauthenticated(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	writeError(w, http.StatusUnauthorized, "log in or send Authorization: Bearer <token>")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
