package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// ErrBadCredentials is returned by Login for an unknown name, a wrong
// password or a disabled account; they are not told apart.
var ErrBadCredentials = errors.New("auth: invalid user name or password")

// LockedError is returned by Login while the user name or the client
// address is locked out after too many failures.
type LockedError struct {
	// RetryAfter is how long until a login may be tried again.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("auth: too many failed logins, retry in %s", e.RetryAfter.Round(time.Second))
}

// LoginResult is a successful login: the session token for the cookie, the
// session and its user.
type LoginResult struct {
	Token   string
	Session statedb.Session
	User    statedb.User
}

// Login checks a user name and password from client address addr and
// starts a session. Each name and each address may fail a limited number
// of times before it is locked out (LockedError); a locked login is refused
// without checking the password. Unknown names cost as much as known ones.
func (a *Authenticator) Login(ctx context.Context, name, password, addr string) (LoginResult, error) {
	userKey := "user:" + strings.ToLower(strings.TrimSpace(name))
	addrKey := "addr:" + addr
	for _, k := range []string{userKey, addrKey} {
		if wait, ok := a.limiterFor(k).Allow(k); !ok {
			return LoginResult{}, &LockedError{RetryAfter: wait}
		}
	}
	u, err := a.db.UserByName(ctx, name)
	hash := u.PasswordHash
	if errors.Is(err, statedb.ErrNotFound) {
		hash = a.dummyHash
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		a.log.Error("stored password hash unreadable", "user", u.Name, "err", verr)
	}
	if err != nil || verr != nil || !ok || u.Disabled {
		wait := max(a.users.Fail(userKey), a.addrs.Fail(addrKey))
		a.log.Warn("login failed", "user", name, "client", addr, "locked_for", wait)
		if wait > 0 {
			return LoginResult{}, &LockedError{RetryAfter: wait}
		}
		return LoginResult{}, ErrBadCredentials
	}
	a.users.Reset(userKey)
	token, s, err := a.db.CreateSession(ctx, u.ID, a.cfg.Sessions)
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login: %w", err)
	}
	a.log.Info("login", "user", u.Name, "client", addr)
	return LoginResult{Token: token, Session: s, User: u}, nil
}

func (a *Authenticator) limiterFor(key string) *Limiter {
	if strings.HasPrefix(key, "user:") {
		return a.users
	}
	return a.addrs
}

// loginRequest is the body of a login: JSON or a url-encoded form.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// LoginResponse is what LoginHandler answers on success.
type LoginResponse struct {
	User    statedb.User `json:"user"`
	CSRF    string       `json:"csrf_token"`
	Expires time.Time    `json:"expires"`
}

// LoginHandler serves POST login with a JSON body or a url-encoded form of
// name and password. On success it sets the session cookie, writes an
// auth.login audit entry and answers LoginResponse; on failure 401, and
// while locked out 429 with Retry-After in seconds.
func (a *Authenticator) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := readLogin(w, r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		addr := a.cfg.ClientAddr(r)
		res, err := a.Login(r.Context(), req.Name, req.Password, addr)
		var locked *LockedError
		switch {
		case errors.As(err, &locked):
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(locked.RetryAfter.Seconds()))))
			writeError(w, http.StatusTooManyRequests, "too many failed logins")
			return
		case errors.Is(err, ErrBadCredentials):
			writeError(w, http.StatusUnauthorized, "invalid user name or password")
			return
		case err != nil:
			a.log.Error("login failed", "err", err)
			writeError(w, http.StatusInternalServerError, "login unavailable")
			return
		}
		a.SetSessionCookie(w, r, res.Token, res.Session)
		p := Principal{UserID: res.User.ID, Name: res.User.Name, Role: res.User.Role, Via: ViaSession}
		a.audit(WithPrincipal(r.Context(), p), r, "auth.login", res.User.ID)
		writeJSON(w, http.StatusOK, LoginResponse{User: res.User, CSRF: res.Session.CSRF,
			Expires: res.Session.Created.Add(a.cfg.Sessions.Absolute)})
	})
}

// readLogin decodes a login request of at most 8 KiB.
func readLogin(w http.ResponseWriter, r *http.Request) (loginRequest, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	var req loginRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return req, fmt.Errorf("read login form: %w", err)
		}
		req.Name, req.Password = r.PostForm.Get("name"), r.PostForm.Get("password")
	} else if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return req, fmt.Errorf("read login: %w", err)
	}
	if req.Name == "" || req.Password == "" {
		return req, errors.New("name and password are required")
	}
	return req, nil
}

// LogoutHandler ends the session of the request's cookie, clears the
// cookie, writes an auth.logout audit entry and answers 204. It goes inside
// Authenticate, so the request must carry the CSRF token.
func (a *Authenticator) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		c, err := r.Cookie(CookieName)
		if !ok || p.Via != ViaSession || err != nil {
			writeError(w, http.StatusBadRequest, "not a session")
			return
		}
		if err := a.db.DeleteSession(r.Context(), c.Value); err != nil {
			a.log.Error("logout failed", "user", p.Name, "err", err)
			writeError(w, http.StatusInternalServerError, "logout failed")
			return
		}
		ClearSessionCookie(w, r)
		a.audit(r.Context(), r, "auth.logout", p.UserID)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *Authenticator) audit(ctx context.Context, r *http.Request, action, userID string) {
	if err := a.Audit(ctx, r, action, "user", userID, nil, nil); err != nil {
		a.log.Error("audit entry not written", "action", action, "err", err)
	}
}

// Audit writes an audit entry for the request's principal: action on the
// target, with before and after marshalled to JSON (nil for none) and the
// client address.
func (a *Authenticator) Audit(ctx context.Context, r *http.Request, action, targetType, targetID string,
	before, after any) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return errors.New("auth: audit: no principal in context")
	}
	e := statedb.AuditEntry{Actor: p.Name, ActorRole: p.Role, Action: action, TargetType: targetType,
		TargetID: targetID, RemoteAddr: a.cfg.ClientAddr(r)}
	var err error
	if e.Before, err = marshalOrNil(before); err != nil {
		return err
	}
	if e.After, err = marshalOrNil(after); err != nil {
		return err
	}
	if _, err := a.db.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("auth: audit %s: %w", action, err)
	}
	return nil
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("auth: audit: marshal: %w", err)
	}
	return b, nil
}

// BootstrapAdmin creates the first admin account, named name, with a random
// password when no account exists, and returns the password for printing
// once. It reports false, and no password, when accounts already exist.
func BootstrapAdmin(ctx context.Context, db *statedb.DB, log *slog.Logger, name string) (string, bool, error) {
	pw := randomPassword()
	hash, err := HashPassword(pw)
	if err != nil {
		return "", false, err
	}
	u, created, err := db.CreateUserIfNone(ctx, statedb.NewUser{Name: name, Role: statedb.RoleAdmin, PasswordHash: hash})
	if err != nil {
		return "", false, fmt.Errorf("auth: bootstrap admin: %w", err)
	}
	if !created {
		return "", false, nil
	}
	after, _ := json.Marshal(u)
	if _, err := db.AppendAudit(ctx, statedb.AuditEntry{Actor: "system", ActorRole: "system",
		Action: "user.create", TargetType: "user", TargetID: u.ID, After: after}); err != nil {
		return "", false, fmt.Errorf("auth: bootstrap admin: %w", err)
	}
	log.Info("first admin account created", "user", u.Name)
	return pw, true, nil
}
