package auth

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Session cookie and CSRF token names.
const (
	// CookieName is the session cookie.
	CookieName = "vigil_session"
	// CSRFHeader carries the CSRF token on scripted requests (htmx, fetch).
	CSRFHeader = "X-CSRF-Token"
	// CSRFField carries the CSRF token in url-encoded HTML forms.
	CSRFField = "csrf_token"
)

// SetSessionCookie sets the session cookie for a session made by Login. The
// cookie is HttpOnly, SameSite=Strict, Path=/, ends when the session's
// absolute lifetime does, and is Secure unless the request came over plain
// HTTP to a loopback host (a local console without TLS).
func (a *Authenticator) SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, s statedb.Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    token,
		Path:     "/",
		Expires:  s.Created.Add(a.cfg.Sessions.Absolute),
		Secure:   secureCookie(r),
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// ClearSessionCookie tells the browser to drop the session cookie.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Secure:   secureCookie(r),
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// secureCookie reports whether the session cookie must be Secure: always,
// except for plain HTTP to localhost or a loopback address, where browsers
// would otherwise drop it. Behind a TLS-terminating proxy r.TLS is nil but
// the host is not loopback, so the cookie stays Secure.
func secureCookie(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}

// safeMethod reports whether a method may not change state, so needs no
// CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfFromRequest returns the CSRF token a request echoes: the header, or
// for a url-encoded form the form field. Multipart bodies are not parsed
// here (that would consume uploads); they must send the header.
func csrfFromRequest(r *http.Request) string {
	if v := r.Header.Get(CSRFHeader); v != "" {
		return v
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		return r.PostFormValue(CSRFField)
	}
	return ""
}

// validCSRF compares the echoed token with the session's in constant time.
func validCSRF(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// authError is a failed authentication with the status to answer.
type authError struct {
	status int
	msg    string
}

func (e *authError) Error() string { return e.msg }

// Authenticate identifies the request from an API token (the Credential
// hook, by default a bearer token) or else the session cookie, and passes
// it on with its Principal in the context. Without valid credentials it
// answers through Config.Unauthenticated; a session request of an unsafe
// method without the session's CSRF token gets 403. Tokens of disabled
// users are refused.
func (a *Authenticator) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.identify(r)
		var ae *authError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusUnauthorized:
			if _, cerr := r.Cookie(CookieName); cerr == nil && BearerToken(r) == "" {
				ClearSessionCookie(w, r)
			}
			a.cfg.Unauthenticated.ServeHTTP(w, r)
		case errors.As(err, &ae):
			writeError(w, ae.status, ae.msg)
		case err != nil:
			a.log.Error("authentication failed", "err", err)
			writeError(w, http.StatusInternalServerError, "authentication unavailable")
		default:
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		}
	})
}

// identify returns the principal of a request.
func (a *Authenticator) identify(r *http.Request) (Principal, error) {
	if cred := a.cfg.Credential(r); cred != "" {
		return a.identifyToken(r, cred)
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return Principal{}, &authError{http.StatusUnauthorized, "not authenticated"}
	}
	s, u, err := a.db.SessionByToken(r.Context(), c.Value, a.cfg.Sessions)
	if errors.Is(err, statedb.ErrSessionExpired) {
		return Principal{}, &authError{http.StatusUnauthorized, "session expired"}
	} else if err != nil {
		return Principal{}, err
	}
	if !safeMethod(r.Method) && !validCSRF(csrfFromRequest(r), s.CSRF) {
		a.log.Warn("CSRF token missing or wrong", "user", u.Name, "method", r.Method, "path", r.URL.Path,
			"client", a.cfg.ClientAddr(r))
		return Principal{}, &authError{http.StatusForbidden, "missing or invalid CSRF token"}
	}
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: ViaSession, CSRF: s.CSRF}, nil
}

// identifyToken returns the principal of an API token.
func (a *Authenticator) identifyToken(r *http.Request, cred string) (Principal, error) {
	tok, err := a.db.VerifyToken(r.Context(), cred)
	if errors.Is(err, statedb.ErrInvalidToken) || errors.Is(err, statedb.ErrTokenRevoked) {
		return Principal{}, &authError{http.StatusUnauthorized, "invalid or revoked API token"}
	} else if err != nil {
		return Principal{}, err
	}
	p := Principal{Name: tok.Name, Role: tok.Role, Via: ViaToken, TokenID: tok.ID}
	owner, err := a.db.TokenOwner(r.Context(), tok.ID)
	switch {
	case errors.Is(err, statedb.ErrNotFound):
		return p, nil
	case err != nil:
		return Principal{}, err
	case owner.Disabled:
		return Principal{}, &authError{http.StatusUnauthorized, "the token's user is disabled"}
	}
	p.UserID, p.Name = owner.ID, owner.Name
	return p, nil
}
