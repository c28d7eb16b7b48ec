package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/auth"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// spec is the part of docs/openapi.yaml the tests read.
type spec struct {
	Paths map[string]map[string]struct {
		Roles []string `yaml:"x-roles"`
	} `yaml:"paths"`
}

func loadSpec(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sp spec
	if err := yaml.Unmarshal(data, &sp); err != nil {
		t.Fatal(err)
	}
	ops := map[string][]string{}
	for p, methods := range sp.Paths {
		for m, op := range methods {
			ops[strings.ToUpper(m)+" "+p] = op.Roles
		}
	}
	return ops
}

// TestRoutesMatchOpenAPI holds the served routes against docs/openapi.yaml:
// every route is documented and every documented operation is served.
func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newTestServer(t)
	ops := loadSpec(t)
	served := map[string]bool{}
	for _, r := range s.Routes() {
		r = strings.Replace(r, " /{$}", " /", 1)
		served[r] = true
		if _, ok := ops[r]; !ok {
			t.Errorf("served but not in docs/openapi.yaml: %s", r)
		}
	}
	for op := range ops {
		if !served[op] {
			t.Errorf("in docs/openapi.yaml but not served: %s", op)
		}
	}
}

// TestRolesPerRoute calls every documented operation with no credentials
// and with a token of each role: open operations never answer 401/403, a
// role listed in x-roles is let through, any other is refused with 403
// (with 401 without credentials). So a viewer can change nothing.
func TestRolesPerRoute(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newTestServer(t)
	es, err := eventstore.Open(context.Background(), filepath.Join(t.TempDir(), "events.duckdb"), eventstore.Options{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	s.Events = es
	tokens := map[string]string{}
	for _, role := range []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer, statedb.RoleIngest} {
		plain, _, err := s.State.CreateToken(context.Background(), "t-"+role, role)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = plain
	}
	ops := loadSpec(t)
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r := strings.NewReplacer("{id}", "nonexistent", "{index}", "logs", "{name}", "vigil")
	for _, op := range keys {
		method, path, _ := strings.Cut(op, " ")
		path = r.Replace(path)
		allowed := ops[op]
		for _, role := range []string{"", statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer, statedb.RoleIngest} {
			code := call(t, s, method, path, tokens[role], []byte("{}")).Code
			denied := code == http.StatusUnauthorized || code == http.StatusForbidden
			switch {
			case len(allowed) == 0:
				if denied {
					t.Errorf("%s as %q: %d, want an open operation", op, role, code)
				}
			case role == "":
				if code != http.StatusUnauthorized {
					t.Errorf("%s without credentials: %d, want 401", op, code)
				}
			case slices.Contains(allowed, role):
				if denied {
					t.Errorf("%s as %s: %d, want allowed", op, role, code)
				}
			default:
				if code != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403", op, role, code)
				}
			}
		}
	}
}

// TestSessionCSRFAndDeletedUser logs in through the API: a change without
// the CSRF token is refused, with it it goes through and is audited; the
// token of a user who is then deleted stops working.
func TestSessionCSRFAndDeletedUser(t *testing.T) {
	t.Parallel()
	s, _, _, _ := newTestServer(t)
	ctx := context.Background()
	admin, _, err := s.State.CreateToken(ctx, "root", statedb.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	w := call(t, s, "POST", "/api/v1/users", admin, []byte(`{"name":"alice","role":"analyst","password":"correct horse battery"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("create user: %d %s", w.Code, w.Body)
	}
	var u statedb.User
	_ = json.Unmarshal(w.Body.Bytes(), &u)

	login := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"name":"alice","password":"correct horse battery"}`))
	login.Header.Set("Content-Type", "application/json")
	lw := httptest.NewRecorder()
	s.Handler().ServeHTTP(lw, login)
	if lw.Code != 200 {
		t.Fatalf("login: %d %s", lw.Code, lw.Body)
	}
	var lr struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(lw.Body.Bytes(), &lr)
	cookies := lw.Result().Cookies()
	session := func(method, path, csrf string, body string) int {
		req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
		for _, c := range cookies {
			req.AddCookie(c)
		}
		if csrf != "" {
			req.Header.Set(auth.CSRFHeader, csrf)
		}
		rw := httptest.NewRecorder()
		s.Handler().ServeHTTP(rw, req)
		return rw.Code
	}
	body := `{"hostname":"web-9","addresses":["10.9.9.9"],"criticality":"high"}`
	if code := session("POST", "/api/v1/assets", "", body); code != http.StatusForbidden {
		t.Errorf("change without CSRF token: %d, want 403", code)
	}
	if code := session("POST", "/api/v1/assets", "wrong", body); code != http.StatusForbidden {
		t.Errorf("change with a wrong CSRF token: %d, want 403", code)
	}
	if code := session("POST", "/api/v1/assets", lr.CSRF, body); code != http.StatusCreated {
		t.Errorf("change with the CSRF token: %d, want 201", code)
	}
	if code := session("GET", "/api/v1/assets", "", ""); code != http.StatusOK {
		t.Errorf("read on a session: %d", code)
	}
	page, err := s.State.Audit(ctx, statedb.AuditFilter{Action: "asset.create"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != "alice" {
		t.Fatalf("audit after asset.create: %+v, %v", page, err)
	}

	w = call(t, s, "POST", "/api/v1/users/"+u.ID+"/tokens", admin, []byte(`{"name":"alice-cli","role":"analyst"}`))
	var tok struct {
		Token string `json:"token"`
	}
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
		t.Fatalf("user token: %d %s", w.Code, w.Body)
	}
	if code := call(t, s, "GET", "/api/v1/alerts", tok.Token, nil).Code; code != 200 {
		t.Fatalf("user token before deletion: %d", code)
	}
	if code := call(t, s, "DELETE", "/api/v1/users/"+u.ID, admin, nil).Code; code != http.StatusNoContent {
		t.Fatalf("delete user: %d", code)
	}
	if code := call(t, s, "GET", "/api/v1/alerts", tok.Token, nil).Code; code != http.StatusUnauthorized {
		t.Errorf("token of a deleted user: %d, want 401", code)
	}
	if code := session("GET", "/api/v1/alerts", "", ""); code != http.StatusUnauthorized {
		t.Errorf("session of a deleted user: %d, want 401", code)
	}
}
