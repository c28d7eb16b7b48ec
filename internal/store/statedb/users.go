package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// migrationUsers creates local user accounts, their sessions, the owner of
// API tokens and the audit log of state-changing actions.
const migrationUsers = usersDDL + auditDDL

const usersDDL = `
CREATE TABLE users (
	id            TEXT    PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
	password_hash TEXT    NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);

CREATE TABLE sessions (
	id        BLOB    PRIMARY KEY,
	user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	csrf      TEXT    NOT NULL
);
CREATE INDEX sessions_user    ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
`

// maxUserName is the longest user name accepted, in bytes.
const maxUserName = 64

// sessionTouchGranularity is how stale a session's LastSeen may get:
// SessionByToken writes it at most once per this interval.
const sessionTouchGranularity = 30 * time.Second

// User errors.
var (
	ErrUserExists      = errors.New("statedb: a user with that name exists")
	ErrInvalidUserRole = errors.New("statedb: invalid user role (want admin, analyst or viewer)")
	ErrInvalidUserName = errors.New("statedb: user name must be 1 to 64 printable characters without spaces")
	ErrLastAdmin       = errors.New("statedb: cannot remove or demote the last enabled admin")
	ErrSessionExpired  = errors.New("statedb: session expired or unknown")
	ErrUserDisabled    = errors.New("statedb: user disabled")
)

// User is a local account. The password hash is made and checked by the
// auth package; statedb only stores it.
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// NewUser is what CreateUser needs to make an account.
type NewUser struct {
	Name         string
	Role         string
	PasswordHash string
}

// UserUpdate changes an account; nil fields are left as they are.
type UserUpdate struct {
	Role         *string
	PasswordHash *string
	Disabled     *bool
}

// Session is a logged-in browser session. Its ID is the SHA-256 of the
// session token held in the cookie; the token itself is never stored.
type Session struct {
	UserID   string
	Created  time.Time
	LastSeen time.Time
	// Expires is when the session ends unless it is used again first.
	Expires time.Time
	// CSRF is the synchronizer token that state-changing requests of this
	// session must echo.
	CSRF string
}

// SessionPolicy bounds a session's life: it ends after Idle without use,
// and after Absolute since login however much it is used.
type SessionPolicy struct {
	Idle     time.Duration
	Absolute time.Duration
}

// ValidUserRole reports whether role is a role a user account may have.
func ValidUserRole(role string) bool {
	return role == RoleAdmin || role == RoleAnalyst || role == RoleViewer
}

func validUserName(name string) bool {
	return name != "" && len(name) <= maxUserName &&
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) < 0
}

const userCols = `id, name, role, password_hash, disabled, created, updated`

func scanUser(s scanner, u *User) error {
	var created, updated sql.NullInt64
	if err := s.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user: %w", ErrNotFound)
		}
		return fmt.Errorf("statedb: scan user: %w", err)
	}
	u.Created, u.Updated = fromNS(created), fromNS(updated)
	return nil
}

// CreateUser adds an account. It returns ErrUserExists when the name is
// taken, compared case-insensitively.
func (d *DB) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	u, _, err := d.createUser(ctx, nu, false)
	return u, err
}

// CreateUserIfNone adds an account only when no account exists yet, in one
// transaction, so that two processes cannot both create a first admin. It
// reports whether the account was created.
func (d *DB) CreateUserIfNone(ctx context.Context, nu NewUser) (User, bool, error) {
	return d.createUser(ctx, nu, true)
}

func (d *DB) createUser(ctx context.Context, nu NewUser, onlyFirst bool) (User, bool, error) {
	nu.Name = strings.TrimSpace(nu.Name)
	switch {
	case !validUserName(nu.Name):
		return User{}, false, ErrInvalidUserName
	case !ValidUserRole(nu.Role):
		return User{}, false, fmt.Errorf("%w: %q", ErrInvalidUserRole, nu.Role)
	case nu.PasswordHash == "":
		return User{}, false, errors.New("statedb: create user: empty password hash")
	}
	now := fromNS(toNS(d.now()))
	u := User{ID: newID(now), Name: nu.Name, Role: nu.Role, PasswordHash: nu.PasswordHash, Created: now, Updated: now}
	created := false
	err := d.write(ctx, func(tx *sql.Tx) error {
		if onlyFirst {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&exists); err != nil || exists {
				return err
			}
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)`, u.Name).
			Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("%w: %q", ErrUserExists, u.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, 0, ?, ?)`,
			u.ID, u.Name, u.Role, u.PasswordHash, nsOf(now), nsOf(now)); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return User{}, false, fmt.Errorf("statedb: create user: %w", err)
	}
	return u, created, nil
}

// User returns the account with the given ID, or ErrNotFound.
func (d *DB) User(ctx context.Context, id string) (User, error) {
	var u User
	err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), &u)
	return u, err
}

// UserByName returns the account with the given name, compared
// case-insensitively, or ErrNotFound.
func (d *DB) UserByName(ctx context.Context, name string) (User, error) {
	var u User
	err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`,
		strings.TrimSpace(name)), &u)
	return u, err
}

// Users returns every account ordered by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("statedb: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := scanUser(rows, &u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: list users: %w", err)
	}
	return out, nil
}

// UpdateUser changes an account and returns it before and after. A new
// password or disabling ends the user's sessions; disabling or demoting
// revokes the user's API tokens whose role the account no longer has. It
// refuses (ErrLastAdmin) to demote or disable the last enabled admin.
func (d *DB) UpdateUser(ctx context.Context, id string, up UserUpdate) (before, after User, err error) {
	if up.Role != nil && !ValidUserRole(*up.Role) {
		return User{}, User{}, fmt.Errorf("%w: %q", ErrInvalidUserRole, *up.Role)
	}
	if up.PasswordHash != nil && *up.PasswordHash == "" {
		return User{}, User{}, errors.New("statedb: update user: empty password hash")
	}
	now := d.now()
	err = d.write(ctx, func(tx *sql.Tx) error {
		if err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), &before); err != nil {
			return err
		}
		after = before
		after.Updated = fromNS(toNS(now))
		if up.Role != nil {
			after.Role = *up.Role
		}
		if up.PasswordHash != nil {
			after.PasswordHash = *up.PasswordHash
		}
		if up.Disabled != nil {
			after.Disabled = *up.Disabled
		}
		return applyUserUpdate(ctx, tx, before, after, now)
	})
	if err != nil {
		return User{}, User{}, fmt.Errorf("statedb: update user: %w", err)
	}
	return before, after, nil
}

// applyUserUpdate writes after over before and withdraws the sessions and
// tokens the change invalidates.
func applyUserUpdate(ctx context.Context, tx *sql.Tx, before, after User, now time.Time) error {
	losesAdmin := before.Role == RoleAdmin && !before.Disabled && (after.Role != RoleAdmin || after.Disabled)
	if losesAdmin {
		if err := checkNotLastAdmin(ctx, tx, before.ID); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ?, disabled = ?, updated = ?
WHERE id = ?`, after.Role, after.PasswordHash, after.Disabled, nsOf(after.Updated), after.ID); err != nil {
		return err
	}
	if after.PasswordHash != before.PasswordHash || after.Disabled {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, after.ID); err != nil {
			return err
		}
	}
	allowed := tokenRolesFor(after.Role)
	if after.Disabled {
		allowed = nil
	}
	q := `UPDATE api_tokens SET revoked = coalesce(revoked, ?) WHERE user_id = ?`
	args := []any{nsOf(now), after.ID}
	if len(allowed) > 0 {
		q += ` AND role NOT IN (?` + strings.Repeat(", ?", len(allowed)-1) + `)`
		for _, r := range allowed {
			args = append(args, r)
		}
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// tokenRolesFor returns the API token roles an account of role may hold:
// its own, the lesser ones, and ingest for those who may write.
func tokenRolesFor(role string) []string {
	switch role {
	case RoleAdmin:
		return []string{RoleAdmin, RoleAnalyst, RoleViewer, RoleIngest}
	case RoleAnalyst:
		return []string{RoleAnalyst, RoleViewer, RoleIngest}
	case RoleViewer:
		return []string{RoleViewer}
	}
	return nil
}

func checkNotLastAdmin(ctx context.Context, tx *sql.Tx, id string) error {
	var others bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users
WHERE role = ? AND disabled = 0 AND id <> ?)`, RoleAdmin, id).Scan(&others)
	if err != nil {
		return err
	}
	if !others {
		return ErrLastAdmin
	}
	return nil
}

// DeleteUser removes an account and returns it as it was. In the same
// transaction it revokes the user's API tokens, so they stop working, and
// ends the user's sessions. It refuses to delete the last enabled admin.
func (d *DB) DeleteUser(ctx context.Context, id string) (User, error) {
	var u User
	now := d.now()
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), &u); err != nil {
			return err
		}
		if u.Role == RoleAdmin && !u.Disabled {
			if err := checkNotLastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = coalesce(revoked, ?) WHERE user_id = ?`,
			nsOf(now), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("statedb: delete user: %w", err)
	}
	return u, nil
}

// RevokeUserTokens revokes every API token of a user and returns how many
// were live.
func (d *DB) RevokeUserTokens(ctx context.Context, userID string) (int64, error) {
	n, err := d.execCount(ctx, `UPDATE api_tokens SET revoked = ? WHERE user_id = ? AND revoked IS NULL`,
		nsOf(d.now()), userID)
	if err != nil {
		return 0, fmt.Errorf("statedb: revoke user tokens: %w", err)
	}
	return n, nil
}

// execCount runs one statement in a write transaction and returns the rows
// it changed.
func (d *DB) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// CreateUserToken makes an API token owned by a user. The role must be one
// the user may hold: the user's own, a lesser one, or ingest for admins and
// analysts; a disabled user may hold none. The token is returned once, as
// with CreateToken.
func (d *DB) CreateUserToken(ctx context.Context, userID, name, role string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if !ValidRole(role) {
		return "", Token{}, fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	if name == "" || len(name) > maxTokenName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Token{}, fmt.Errorf("statedb: token name must be 1 to %d printable characters", maxTokenName)
	}
	plain := tokenScheme + randomToken(tokenRandomBytes)
	now := fromNS(toNS(d.now()))
	t := Token{ID: newID(now), Name: name, Role: role, Prefix: plain[:tokenPrefixLen], Created: now}
	err := d.write(ctx, func(tx *sql.Tx) error {
		var u User
		if err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, userID), &u); err != nil {
			return err
		}
		if u.Disabled {
			return ErrUserDisabled
		}
		ok := false
		for _, r := range tokenRolesFor(u.Role) {
			ok = ok || r == role
		}
		if !ok {
			return fmt.Errorf("%w: user %s (%s) may not hold a %q token", ErrInvalidRole, u.Name, u.Role, role)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, prefix, hash, created, user_id)
VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Role, t.Prefix, hashToken(plain), nsOf(now), userID)
		return err
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("statedb: create user token: %w", err)
	}
	return plain, t, nil
}

// UserTokens returns the API tokens of a user, revoked ones included,
// oldest first.
func (d *DB) UserTokens(ctx context.Context, userID string) ([]Token, error) {
	return d.queryTokens(ctx, `SELECT id, name, role, prefix, created, last_used, revoked
FROM api_tokens WHERE user_id = ? ORDER BY created, id`, userID)
}

// TokenOwner returns the user owning an API token, or ErrNotFound when the
// token belongs to no user (a service token).
func (d *DB) TokenOwner(ctx context.Context, tokenID string) (User, error) {
	var u User
	err := scanUser(d.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.password_hash, u.disabled,
u.created, u.updated FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, tokenID), &u)
	return u, err
}
