package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, user, password string
		disabled             bool
		wantErr              error
	}{
		{"right password", "ann", "ann-password", false, nil},
		{"name in another case", "ANN", "ann-password", false, nil},
		{"wrong password", "ann", "bob-password", false, ErrBadCredentials},
		{"unknown user", "zed", "zed-password", false, ErrBadCredentials},
		{"disabled user", "ann", "ann-password", true, ErrBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			env.addUser(t, "root", statedb.RoleAdmin)
			ann := env.addUser(t, "ann", statedb.RoleAnalyst)
			if tc.disabled {
				yes := true
				if _, _, err := env.db.UpdateUser(ctx, ann.ID, statedb.UserUpdate{Disabled: &yes}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := env.auth.Login(ctx, tc.user, tc.password, "192.0.2.1")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			s, u, err := env.db.SessionByToken(ctx, res.Token, env.auth.cfg.Sessions)
			if err != nil || u.ID != ann.ID || s.CSRF != res.Session.CSRF || res.User.ID != ann.ID {
				t.Errorf("session %+v user %+v: %v", s, u, err)
			}
		})
	}
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newTestEnv(t)
	env.addUser(t, "ann", statedb.RoleAnalyst)
	env.addUser(t, "bob", statedb.RoleAnalyst)
	// Per name: five failures from different addresses lock "ann" out, even
	// for the right password, while "bob" still logs in.
	for i := range 5 {
		_, err := env.auth.Login(ctx, "ann", "wrong", "198.51.100."+string(rune('1'+i)))
		var locked *LockedError
		if (i < 4 && !errors.Is(err, ErrBadCredentials)) || (i == 4 && !errors.As(err, &locked)) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := env.auth.Login(ctx, "ANN", "ann-password", "203.0.113.1")
	var locked *LockedError
	if !errors.As(err, &locked) || locked.RetryAfter != 15*time.Minute {
		t.Fatalf("locked name: %v", err)
	}
	if _, err := env.auth.Login(ctx, "bob", "bob-password", "203.0.113.1"); err != nil {
		t.Fatalf("other user: %v", err)
	}
	env.clock.Add(15 * time.Minute)
	if _, err := env.auth.Login(ctx, "ann", "ann-password", "203.0.113.1"); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
	// Per address: five failures over different names lock the address.
	for i := range 5 {
		env.auth.Login(ctx, "user"+string(rune('a'+i)), "wrong", "192.0.2.66")
	}
	if _, err := env.auth.Login(ctx, "bob", "bob-password", "192.0.2.66"); !errors.As(err, &locked) {
		t.Fatalf("locked address: %v", err)
	}
	if _, err := env.auth.Login(ctx, "bob", "bob-password", "192.0.2.67"); err != nil {
		t.Fatalf("other address: %v", err)
	}
}

func TestLoginLogoutHandlers(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.addUser(t, "ann", statedb.RoleAnalyst)
	login := env.auth.LoginHandler()
	post := func(ct, body, addr string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Content-Type", ct)
			r.Body, r.ContentLength = readCloser(body), int64(len(body))
			r.RemoteAddr = addr
		}
	}
	form := url.Values{"name": {"ann"}, "password": {"ann-password"}}.Encode()
	for _, tc := range []struct {
		name, ct, body string
		want           int
	}{
		{"json", "application/json", `{"name":"ann","password":"ann-password"}`, 200},
		{"form", "application/x-www-form-urlencoded", form, 200},
		{"wrong password", "application/json", `{"name":"ann","password":"nope"}`, 401},
		{"no password", "application/json", `{"name":"ann"}`, 400},
		{"not json", "application/json", `name=ann`, 400},
	} {
		w := do(login, "POST", "http://localhost/login", post(tc.ct, tc.body, "192.0.2.5:1234"))
		if w.Code != tc.want {
			t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		if tc.want != 200 {
			continue
		}
		var resp LoginResponse
		cs := w.Result().Cookies()
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.CSRF == "" || resp.User.Name != "ann" ||
			len(cs) != 1 || cs[0].Name != CookieName || strings.Contains(w.Body.String(), "argon2") {
			t.Errorf("%s: response %s, cookies %+v", tc.name, w.Body, cs)
		}
	}
	for range 5 {
		do(login, "POST", "/login", post("application/json", `{"name":"x","password":"y"}`, "192.0.2.9:1"))
	}
	w := do(login, "POST", "/login", post("application/json", `{"name":"ann","password":"ann-password"}`, "192.0.2.9:2"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "900" {
		t.Errorf("locked: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	testLogout(t, env)
}

// testLogout logs in, logs out through the handler and checks the session
// is gone and both actions are in the audit log.
func testLogout(t *testing.T, env *testEnv) {
	cookie, csrf := env.login(t, "ann")
	logout := env.auth.Authenticate(env.auth.LogoutHandler())
	if w := do(logout, "POST", "/logout", func(r *http.Request) { r.AddCookie(cookie) }); w.Code != 403 {
		t.Errorf("logout without CSRF: %d", w.Code)
	}
	withCSRF := func(r *http.Request) { r.AddCookie(cookie); r.Header.Set(CSRFHeader, csrf) }
	if w := do(logout, "POST", "/logout", withCSRF); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if w := do(logout, "POST", "/logout", withCSRF); w.Code != http.StatusUnauthorized {
		t.Errorf("session still live after logout: %d", w.Code)
	}
	page, err := env.db.Audit(context.Background(), statedb.AuditFilter{Actor: "ann"})
	if err != nil || len(page.Entries) != 3 || page.Entries[0].Action != "auth.logout" ||
		page.Entries[1].Action != "auth.login" || page.Entries[0].ActorRole != statedb.RoleAnalyst {
		t.Errorf("audit %+v, %v", page, err)
	}
}

func TestBootstrapAdmin(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	ctx := context.Background()
	pw, created, err := BootstrapAdmin(ctx, env.db, testLogger(t), "admin")
	if err != nil || !created || CheckPasswordPolicy(pw) != nil {
		t.Fatalf("BootstrapAdmin = %q, %v, %v", pw, created, err)
	}
	u, err := env.db.UserByName(ctx, "admin")
	if err != nil || u.Role != statedb.RoleAdmin {
		t.Fatalf("admin user %+v, %v", u, err)
	}
	if _, err := env.auth.Login(ctx, "admin", pw, "127.0.0.1"); err != nil {
		t.Errorf("login with bootstrap password: %v", err)
	}
	pw2, created, err := BootstrapAdmin(ctx, env.db, testLogger(t), "admin2")
	if err != nil || created || pw2 != "" {
		t.Errorf("second bootstrap = %q, %v, %v", pw2, created, err)
	}
	page, err := env.db.Audit(ctx, statedb.AuditFilter{Action: "user.create"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].TargetID != u.ID || page.Entries[0].Actor != "system" ||
		strings.Contains(string(page.Entries[0].After), "argon2") {
		t.Errorf("audit %+v, %v", page, err)
	}
}
