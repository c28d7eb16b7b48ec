package auth

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	s := statedb.Session{Created: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		name, url  string
		tls        bool
		wantSecure bool
	}{
		{"https", "https://vigil.example.com/login", true, true},
		{"https on localhost", "https://localhost:8443/login", true, true},
		{"plain http, public host (TLS proxy)", "http://vigil.example.com/login", false, true},
		{"plain http, localhost", "http://localhost:8080/login", false, false},
		{"plain http, sub.localhost", "http://vigil.localhost/login", false, false},
		{"plain http, 127.0.0.1", "http://127.0.0.1:8080/login", false, false},
		{"plain http, ::1", "http://[::1]:8080/login", false, false},
		{"plain http, LAN address", "http://10.0.0.5:8080/login", false, true},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.url, nil)
		if !tc.tls {
			r.TLS = nil
		} else if r.TLS == nil {
			r.TLS = &tls.ConnectionState{}
		}
		for _, clear := range []bool{false, true} {
			w := httptest.NewRecorder()
			if clear {
				ClearSessionCookie(w, r)
			} else {
				env.auth.SetSessionCookie(w, r, "tok", s)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%s: %d cookies", tc.name, len(cs))
			}
			c := cs[0]
			if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" ||
				c.Secure != tc.wantSecure || c.Domain != "" {
				t.Errorf("%s (clear %v): cookie %+v", tc.name, clear, c)
			}
			if !clear && (c.Value != "tok" || !c.Expires.Equal(s.Created.Add(12*time.Hour))) {
				t.Errorf("%s: value %q expires %v", tc.name, c.Value, c.Expires)
			}
			if clear && c.MaxAge >= 0 {
				t.Errorf("%s: clearing cookie has MaxAge %d", tc.name, c.MaxAge)
			}
		}
	}
}

// okHandler answers 200 with the principal's name and how it came.
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		w.Write([]byte(p.Name + "/" + p.Via + "/" + p.Role))
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.addUser(t, "ann", statedb.RoleAnalyst)
	cookie, csrf := env.login(t, "ann")
	other, _ := env.login(t, "ann")
	bearer, _, err := env.db.CreateToken(context.Background(), "svc", statedb.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	h := env.auth.Authenticate(okHandler())
	form := func(v string) func(*http.Request) {
		return func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Body = http.NoBody
			if v != "" {
				body := url.Values{CSRFField: {v}}.Encode()
				r.Body, r.ContentLength = readCloser(body), int64(len(body))
			}
		}
	}
	for _, tc := range []struct {
		name   string
		method string
		setup  func(*http.Request)
		want   int
	}{
		{"GET needs no token", http.MethodGet, func(r *http.Request) { r.AddCookie(cookie) }, 200},
		{"HEAD needs no token", http.MethodHead, func(r *http.Request) { r.AddCookie(cookie) }, 200},
		{"OPTIONS needs no token", http.MethodOptions, func(r *http.Request) { r.AddCookie(cookie) }, 200},
		{"POST missing", http.MethodPost, func(r *http.Request) { r.AddCookie(cookie) }, 403},
		{"PATCH missing", http.MethodPatch, func(r *http.Request) { r.AddCookie(cookie) }, 403},
		{"DELETE missing", http.MethodDelete, func(r *http.Request) { r.AddCookie(cookie) }, 403},
		{"POST wrong header", http.MethodPost, func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set(CSRFHeader, csrf[:len(csrf)-1]+"x")
		}, 403},
		{"POST another session's cookie", http.MethodPost, func(r *http.Request) {
			r.AddCookie(other)
			r.Header.Set(CSRFHeader, csrf)
		}, 403},
		{"POST header", http.MethodPost, func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set(CSRFHeader, csrf)
		}, 200},
		{"POST form field", http.MethodPost, form(csrf), 200},
		{"POST wrong form field", http.MethodPost, form("nope"), 403},
		{"POST empty form", http.MethodPost, form(""), 403},
		{"bearer token is exempt", http.MethodPost, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}, 200},
		{"bearer wins over cookie", http.MethodDelete, func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set("Authorization", "Bearer "+bearer)
		}, 200},
	} {
		w := do(h, tc.method, "/api/v1/alerts/A1", tc.setup)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, w.Code, tc.want, w.Body)
		}
	}
}

func readCloser(s string) *nopCloser { return &nopCloser{strings.NewReader(s)} }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// exampleRoutes is a sample of the API's routes with the roles that may
// call each.
func exampleRoutes() []struct {
	method, pattern, path string
	roles                 []string
} {
	read := []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer}
	write := []string{statedb.RoleAdmin, statedb.RoleAnalyst}
	admin := []string{statedb.RoleAdmin}
	return []struct {
		method, pattern, path string
		roles                 []string
	}{
		{"GET", "GET /api/v1/alerts", "/api/v1/alerts", read},
		{"GET", "GET /api/v1/alerts/{id}", "/api/v1/alerts/A1", read},
		{"PATCH", "PATCH /api/v1/alerts/{id}", "/api/v1/alerts/A1", write},
		{"POST", "POST /api/v1/alerts/{id}/comments", "/api/v1/alerts/A1/comments", write},
		{"POST", "POST /api/v1/import", "/api/v1/import", write},
		{"GET", "GET /api/v1/users", "/api/v1/users", admin},
		{"POST", "POST /api/v1/users", "/api/v1/users", admin},
		{"DELETE", "DELETE /api/v1/tokens/{id}", "/api/v1/tokens/T1", admin},
		{"GET", "GET /api/v1/audit", "/api/v1/audit", admin},
	}
}

func TestRolesByRoute(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	mux := http.NewServeMux()
	for _, rt := range exampleRoutes() {
		mux.Handle(rt.pattern, env.auth.Authenticate(Require(rt.roles...)(okHandler())))
	}
	type cred struct {
		role, via string
		apply     func(*http.Request)
	}
	var creds []cred
	for _, role := range []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer} {
		u := env.addUser(t, "u-"+role, role)
		cookie, csrf := env.login(t, u.Name)
		tok, _, err := env.db.CreateUserToken(ctx, u.ID, "cli", role)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds,
			cred{role, ViaSession, func(r *http.Request) { r.AddCookie(cookie); r.Header.Set(CSRFHeader, csrf) }},
			cred{role, ViaToken, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }})
	}
	ingest, _, _ := env.db.CreateToken(ctx, "relay", statedb.RoleIngest)
	creds = append(creds, cred{statedb.RoleIngest, ViaToken, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+ingest)
	}})
	for _, rt := range exampleRoutes() {
		if w := do(mux, rt.method, rt.path, nil); w.Code != http.StatusUnauthorized ||
			w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s anonymous: %d", rt.method, rt.path, w.Code)
		}
		for _, c := range creds {
			want := http.StatusForbidden
			for _, r := range rt.roles {
				if r == c.role {
					want = http.StatusOK
				}
			}
			if c.role == statedb.RoleViewer && rt.method != "GET" && want != http.StatusForbidden {
				t.Fatalf("route table lets a viewer %s %s", rt.method, rt.path)
			}
			w := do(mux, rt.method, rt.path, c.apply)
			if w.Code != want {
				t.Errorf("%s %s as %s via %s: %d, want %d", rt.method, rt.path, c.role, c.via, w.Code, want)
			}
			if want == http.StatusOK && !strings.HasSuffix(w.Body.String(), "/"+c.via+"/"+c.role) {
				t.Errorf("%s %s as %s via %s: principal %q", rt.method, rt.path, c.role, c.via, w.Body)
			}
		}
	}
}

func TestDeletedOrDisabledUserLosesAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		remove func(*testEnv, statedb.User) error
	}{
		{"deleted", func(e *testEnv, u statedb.User) error { _, err := e.db.DeleteUser(ctx, u.ID); return err }},
		{"disabled", func(e *testEnv, u statedb.User) error {
			yes := true
			_, _, err := e.db.UpdateUser(ctx, u.ID, statedb.UserUpdate{Disabled: &yes})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.addUser(t, "root", statedb.RoleAdmin)
			ann := env.addUser(t, "ann", statedb.RoleAnalyst)
			tok, _, err := env.db.CreateUserToken(ctx, ann.ID, "cli", statedb.RoleAnalyst)
			if err != nil {
				t.Fatal(err)
			}
			cookie, _ := env.login(t, "ann")
			h := env.auth.Authenticate(okHandler())
			ways := map[string]func(*http.Request){
				ViaToken:   func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) },
				ViaSession: func(r *http.Request) { r.AddCookie(cookie) },
			}
			for via, apply := range ways {
				if w := do(h, "GET", "/api/v1/alerts", apply); w.Code != 200 || w.Body.String() != "ann/"+via+"/analyst" {
					t.Fatalf("before, via %s: %d %s", via, w.Code, w.Body)
				}
			}
			if err := tc.remove(env, ann); err != nil {
				t.Fatal(err)
			}
			for via, apply := range ways {
				if w := do(h, "GET", "/api/v1/alerts", apply); w.Code != http.StatusUnauthorized {
					t.Errorf("after, via %s: %d %s", via, w.Code, w.Body)
				}
			}
			if _, err := env.auth.Login(ctx, "ann", "ann-password", "192.0.2.9"); err == nil {
				t.Error("removed user can log in")
			}
		})
	}
}

func TestExpiredSessionCookieCleared(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.addUser(t, "ann", statedb.RoleViewer)
	cookie, _ := env.login(t, "ann")
	if err := env.db.DeleteSession(context.Background(), cookie.Value); err != nil {
		t.Fatal(err)
	}
	w := do(env.auth.Authenticate(okHandler()), "GET", "http://localhost/", func(r *http.Request) { r.AddCookie(cookie) })
	cs := w.Result().Cookies()
	if w.Code != http.StatusUnauthorized || len(cs) != 1 || cs[0].Name != CookieName || cs[0].MaxAge >= 0 {
		t.Errorf("status %d, cookies %+v", w.Code, cs)
	}
}
