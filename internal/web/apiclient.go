package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// sessionCookie is the API's session cookie.
const sessionCookie = "vigil_session"

// APIError is a non-2xx answer of the API.
type APIError struct {
	Method, Path string
	Status       int
	// Message is the API's {"error": ...} text, or the body.
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// notAvailable reports whether err means the endpoint does not exist (yet)
// or the feature is switched off on this node.
func notAvailable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound && strings.Contains(ae.Message, "404 page not found") ||
		ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusMethodNotAllowed)
}

// statusOf returns the API status of err, or 0.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// recorder is the in-process ResponseWriter of an API call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// apiRequest is one in-process call of the API.
type apiRequest struct {
	method, path string
	query        url.Values
	// body is marshalled to JSON when not nil.
	body any
	// csrf is sent as X-CSRF-Token on state-changing calls.
	csrf string
}

// call serves req with the API handler, carrying r's session cookie,
// context, client address and host, and returns the recorded answer.
func (c *Console) call(r *http.Request, req apiRequest) (*recorder, error) {
	target := req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader = http.NoBody
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", req.method, req.path, err)
		}
		body = bytes.NewReader(b)
	}
	in, err := http.NewRequestWithContext(r.Context(), req.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", req.method, req.path, err)
	}
	in.RemoteAddr, in.Host, in.TLS = r.RemoteAddr, r.Host, r.TLS
	// The API must see the same client address and scheme as the browser's.
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip", "User-Agent"} {
		if v := r.Header.Values(h); len(v) > 0 {
			in.Header[h] = v
		}
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		in.AddCookie(ck)
	}
	in.Header.Set("Accept", "application/json")
	if req.body != nil {
		in.Header.Set("Content-Type", "application/json")
	}
	if req.csrf != "" {
		in.Header.Set("X-CSRF-Token", req.csrf)
	}
	rec := &recorder{header: http.Header{}}
	c.api.ServeHTTP(rec, in)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 300 {
		return rec, &APIError{Method: req.method, Path: req.path, Status: rec.status, Message: errorText(rec.body.Bytes())}
	}
	return rec, nil
}

// errorText extracts the message of an API error body.
func errorText(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// get calls GET path?q and decodes the JSON answer into out.
func (c *Console) get(r *http.Request, path string, q url.Values, out any) error {
	rec, err := c.call(r, apiRequest{method: http.MethodGet, path: path, query: q})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode GET %s: %w", path, err)
	}
	return nil
}

// send calls a state-changing endpoint with a JSON body and the session's
// CSRF token and decodes the answer into out (when not nil).
func (c *Console) send(r *http.Request, s *session, method, path string, body, out any) error {
	rec, err := c.call(r, apiRequest{method: method, path: path, body: body, csrf: s.CSRF})
	if err != nil {
		return err
	}
	if out == nil || rec.body.Len() == 0 {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// session is the signed-in user as GET /api/v1/me answers.
type session struct {
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"user"`
	CSRF string `json:"csrf_token"`
}

// canWrite reports whether the user's role may change alerts and rules.
func (s *session) canWrite() bool { return s.User.Role == "admin" || s.User.Role == "analyst" }

// requireSession loads the session of r; without one it redirects to the
// login page (htmx requests get HX-Redirect) and returns false.
func (c *Console) requireSession(w http.ResponseWriter, r *http.Request) (*session, bool) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		c.toLogin(w, r)
		return nil, false
	}
	var s session
	err := c.get(r, "/api/v1/me", nil, &s)
	switch {
	case err == nil:
		return &s, true
	case statusOf(err) == http.StatusUnauthorized || statusOf(err) == http.StatusForbidden:
		c.toLogin(w, r)
	default:
		c.log.Error("console: GET /api/v1/me failed", "err", err)
		http.Error(w, "the console cannot reach the API: "+err.Error(), http.StatusBadGateway)
	}
	return nil, false
}

// authFailed handles an API answer of 401 (session ended meanwhile) by
// redirecting to the login page.
func (c *Console) authFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	if statusOf(err) != http.StatusUnauthorized {
		return false
	}
	c.toLogin(w, r)
	return true
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// userError is what a page shows for a failed API call.
func (c *Console) userError(r *http.Request, err error) string {
	if notAvailable(err) {
		return "Not available on this server: " + err.Error()
	}
	if s := statusOf(err); s >= 400 && s < 500 {
		return err.Error()
	}
	c.log.Error("console page failed", "path", r.URL.Path, "err", err)
	return "The API failed: " + err.Error()
}
