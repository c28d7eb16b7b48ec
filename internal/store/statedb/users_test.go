package statedb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustCreateUser(t *testing.T, d *DB, name, role string) User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), NewUser{Name: name, Role: role, PasswordHash: "hash-" + name})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	mustCreateUser(t, d, "Alice", RoleAdmin)
	for _, tc := range []struct {
		name    string
		in      NewUser
		wantErr error
	}{
		{"analyst", NewUser{"bob", RoleAnalyst, "h"}, nil},
		{"viewer trimmed", NewUser{"  carol ", RoleViewer, "h"}, nil},
		{"same name other case", NewUser{"ALICE", RoleViewer, "h"}, ErrUserExists},
		{"ingest is not a user role", NewUser{"dave", RoleIngest, "h"}, ErrInvalidUserRole},
		{"empty role", NewUser{"dave", "", "h"}, ErrInvalidUserRole},
		{"space in name", NewUser{"d ave", RoleViewer, "h"}, ErrInvalidUserName},
		{"control in name", NewUser{"d\x01ave", RoleViewer, "h"}, ErrInvalidUserName},
		{"empty name", NewUser{" ", RoleViewer, "h"}, ErrInvalidUserName},
		{"long name", NewUser{strings.Repeat("a", maxUserName+1), RoleViewer, "h"}, ErrInvalidUserName},
		{"no hash", NewUser{"dave", RoleViewer, ""}, nil},
	} {
		u, err := d.CreateUser(ctx, tc.in)
		wantFail := tc.wantErr != nil || tc.in.PasswordHash == ""
		if wantFail {
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got, err := d.UserByName(ctx, strings.ToUpper(strings.TrimSpace(tc.in.Name)))
		if err != nil || got != u || u.Name != strings.TrimSpace(tc.in.Name) || !u.Created.Equal(clock.Now()) ||
			u.Role != tc.in.Role || u.Disabled {
			t.Errorf("%s: created %+v, read back %+v, %v", tc.name, u, got, err)
		}
	}
	users, err := d.Users(ctx)
	if err != nil || len(users) != 3 || users[0].Name != "Alice" || users[1].Name != "bob" || users[2].Name != "carol" {
		t.Errorf("Users = %+v, %v", users, err)
	}
	if _, err := d.User(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCreateUserIfNoneOnlyOnce(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	created := make([]bool, 8)
	for i := range created {
		wg.Go(func() {
			_, ok, err := d.CreateUserIfNone(ctx, NewUser{Name: "admin" + string(rune('a'+i)), Role: RoleAdmin, PasswordHash: "h"})
			if err != nil {
				t.Error(err)
			}
			created[i] = ok
		})
	}
	wg.Wait()
	n := 0
	for _, ok := range created {
		if ok {
			n++
		}
	}
	users, err := d.Users(ctx)
	if n != 1 || err != nil || len(users) != 1 {
		t.Errorf("created %d times, users %+v, %v", n, users, err)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name         string
		target       string // "admin" or "analyst"
		up           UserUpdate
		wantErr      error
		wantSessions int
		wantLive     []string // live token roles of the target afterwards
	}{
		{"role change keeps sessions", "analyst", UserUpdate{Role: ptr(RoleAdmin)}, nil, 1, []string{RoleAnalyst, RoleIngest}},
		{"demotion revokes stronger tokens", "analyst", UserUpdate{Role: ptr(RoleViewer)}, nil, 1, nil},
		{"new password ends sessions", "analyst", UserUpdate{PasswordHash: ptr("new")}, nil, 0, []string{RoleAnalyst, RoleIngest}},
		{"disable ends sessions and tokens", "analyst", UserUpdate{Disabled: ptr(true)}, nil, 0, nil},
		{"bad role", "analyst", UserUpdate{Role: ptr("root")}, ErrInvalidUserRole, 1, []string{RoleAnalyst, RoleIngest}},
		{"last admin cannot be demoted", "admin", UserUpdate{Role: ptr(RoleViewer)}, ErrLastAdmin, 1, []string{RoleAdmin}},
		{"last admin cannot be disabled", "admin", UserUpdate{Disabled: ptr(true)}, ErrLastAdmin, 1, []string{RoleAdmin}},
		{"last admin may change password", "admin", UserUpdate{PasswordHash: ptr("x")}, nil, 0, []string{RoleAdmin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, clock := openTestClock(t)
			admin := mustCreateUser(t, d, "root", RoleAdmin)
			analyst := mustCreateUser(t, d, "ann", RoleAnalyst)
			target := map[string]User{"admin": admin, "analyst": analyst}[tc.target]
			for _, r := range tokenRolesFor(target.Role) {
				if r == RoleViewer || (target.Role == RoleAdmin && r != RoleAdmin) {
					continue
				}
				if _, _, err := d.CreateUserToken(ctx, target.ID, "t-"+r, r); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := d.CreateSession(ctx, target.ID, SessionPolicy{time.Hour, time.Hour}); err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Minute)
			before, after, err := d.UpdateUser(ctx, target.ID, tc.up)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				stored, _ := d.User(ctx, target.ID)
				if before != target || stored != after || !after.Updated.Equal(clock.Now()) {
					t.Errorf("before %+v after %+v stored %+v", before, after, stored)
				}
			}
			var sessions int
			if err := d.db.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ?`, target.ID).Scan(&sessions); err != nil || sessions != tc.wantSessions {
				t.Errorf("sessions = %d, %v; want %d", sessions, err, tc.wantSessions)
			}
			toks, err := d.UserTokens(ctx, target.ID)
			var live []string
			for _, tok := range toks {
				if tok.Revoked.IsZero() {
					live = append(live, tok.Role)
				}
			}
			slices.Sort(live)
			if err != nil || !slices.Equal(live, tc.wantLive) {
				t.Errorf("live tokens %v, %v; want %v", live, err, tc.wantLive)
			}
		})
	}
}

func TestCreateUserTokenRoles(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	users := map[string]User{}
	for _, r := range []string{RoleAdmin, RoleAnalyst, RoleViewer} {
		users[r] = mustCreateUser(t, d, "u-"+r, r)
	}
	for _, tc := range []struct {
		user, token string
		ok          bool
	}{
		{RoleAdmin, RoleAdmin, true}, {RoleAdmin, RoleIngest, true}, {RoleAdmin, RoleViewer, true},
		{RoleAnalyst, RoleAdmin, false}, {RoleAnalyst, RoleAnalyst, true}, {RoleAnalyst, RoleIngest, true},
		{RoleViewer, RoleAnalyst, false}, {RoleViewer, RoleIngest, false}, {RoleViewer, RoleViewer, true},
	} {
		plain, tok, err := d.CreateUserToken(ctx, users[tc.user].ID, "t", tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("%s user, %s token: err = %v, want ok %v", tc.user, tc.token, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		got, err := d.VerifyToken(ctx, plain)
		owner, oerr := d.TokenOwner(ctx, tok.ID)
		if err != nil || got.Role != tc.token || oerr != nil || owner.ID != users[tc.user].ID {
			t.Errorf("%s user, %s token: verify %+v %v, owner %+v %v", tc.user, tc.token, got, err, owner, oerr)
		}
	}
	if _, _, err := d.CreateUserToken(ctx, "missing", "t", RoleViewer); !errors.Is(err, ErrNotFound) {
		t.Errorf("token for unknown user: %v", err)
	}
	_, svc, _ := d.CreateToken(ctx, "svc", RoleIngest)
	if _, err := d.TokenOwner(ctx, svc.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("TokenOwner(service token) = %v, want ErrNotFound", err)
	}
}

func TestDeleteUserRevokesTokens(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	admin := mustCreateUser(t, d, "root", RoleAdmin)
	ann := mustCreateUser(t, d, "ann", RoleAnalyst)
	plain, _, err := d.CreateUserToken(ctx, ann.ID, "laptop", RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := d.CreateUserToken(ctx, admin.ID, "ops", RoleAdmin)
	sess, _, _ := d.CreateSession(ctx, ann.ID, SessionPolicy{time.Hour, time.Hour})
	if _, err := d.VerifyToken(ctx, plain); err != nil {
		t.Fatalf("token before delete: %v", err)
	}
	got, err := d.DeleteUser(ctx, ann.ID)
	if err != nil || got.ID != ann.ID {
		t.Fatalf("DeleteUser = %+v, %v", got, err)
	}
	if _, err := d.VerifyToken(ctx, plain); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("token of deleted user: err = %v, want ErrTokenRevoked", err)
	}
	if _, _, err := d.SessionByToken(ctx, sess, SessionPolicy{time.Hour, time.Hour}); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("session of deleted user: %v", err)
	}
	if _, err := d.VerifyToken(ctx, other); err != nil {
		t.Errorf("other user's token: %v", err)
	}
	if _, err := d.DeleteUser(ctx, ann.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := d.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("delete last admin: %v", err)
	}
	if n, err := d.RevokeUserTokens(ctx, admin.ID); err != nil || n != 1 {
		t.Errorf("RevokeUserTokens = %d, %v", n, err)
	}
	if _, err := d.VerifyToken(ctx, other); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked admin token: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := SessionPolicy{Idle: 30 * time.Minute, Absolute: 2 * time.Hour}
	for _, tc := range []struct {
		name  string
		steps []time.Duration // clock advances, each followed by a lookup
		live  bool            // whether the last lookup finds the session
	}{
		{"fresh", []time.Duration{0}, true},
		{"just under idle", []time.Duration{29 * time.Minute}, true},
		{"idle timeout", []time.Duration{30 * time.Minute}, false},
		{"use slides expiry", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"absolute cap", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, clock := openTestClock(t)
			u := mustCreateUser(t, d, "ann", RoleAnalyst)
			token, created, err := d.CreateSession(ctx, u.ID, p)
			if err != nil || len(created.CSRF) < 40 || !created.Expires.Equal(clock.Now().Add(p.Idle)) {
				t.Fatalf("CreateSession = %+v, %v", created, err)
			}
			var s Session
			for _, step := range tc.steps {
				clock.Add(step)
				s, _, err = d.SessionByToken(ctx, token, p)
			}
			if tc.live != (err == nil) {
				t.Fatalf("live = %v, err = %v", tc.live, err)
			}
			if !tc.live {
				if !errors.Is(err, ErrSessionExpired) {
					t.Errorf("err = %v, want ErrSessionExpired", err)
				}
				return
			}
			if s.CSRF != created.CSRF || s.UserID != u.ID || !s.LastSeen.Equal(clock.Now()) {
				t.Errorf("session %+v, created %+v", s, created)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	p := SessionPolicy{time.Hour, 8 * time.Hour}
	u := mustCreateUser(t, d, "ann", RoleAnalyst)
	t1, _, _ := d.CreateSession(ctx, u.ID, p)
	t2, _, _ := d.CreateSession(ctx, u.ID, p)
	if t1 == t2 {
		t.Fatal("two sessions share a token")
	}
	for _, tok := range []string{t1, t2} {
		if _, got, err := d.SessionByToken(ctx, tok, p); err != nil || got.ID != u.ID {
			t.Fatalf("SessionByToken = %+v, %v", got, err)
		}
	}
	if _, _, err := d.SessionByToken(ctx, t1+"x", p); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("wrong token: %v", err)
	}
	if err := d.DeleteSession(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SessionByToken(ctx, t1, p); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("after logout: %v", err)
	}
	if n, err := d.DeleteUserSessions(ctx, u.ID); err != nil || n != 1 {
		t.Errorf("DeleteUserSessions = %d, %v", n, err)
	}
	if _, _, err := d.CreateSession(ctx, "missing", p); !errors.Is(err, ErrNotFound) {
		t.Errorf("session for unknown user: %v", err)
	}
	var stored int
	if err := d.db.QueryRow(`SELECT count(*) FROM sessions WHERE id = ?`, []byte(t2)).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("session token stored in clear: %d, %v", stored, err)
	}
}
