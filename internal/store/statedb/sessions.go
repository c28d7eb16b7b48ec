package statedb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// hashSession returns the stored ID of a session token.
func hashSession(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24 and later)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for a user and returns its token, for the
// cookie, and the session. Expired sessions of all users are pruned.
func (d *DB) CreateSession(ctx context.Context, userID string, p SessionPolicy) (string, Session, error) {
	if p.Idle <= 0 || p.Absolute <= 0 {
		return "", Session{}, errors.New("statedb: create session: idle and absolute lifetimes must be positive")
	}
	now := fromNS(toNS(d.now()))
	token := randomToken(32)
	s := Session{UserID: userID, Created: now, LastSeen: now, Expires: now.Add(min(p.Idle, p.Absolute)),
		CSRF: randomToken(32)}
	err := d.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, nsOf(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created, last_seen, expires, csrf)
SELECT ?, id, ?, ?, ?, ? FROM users WHERE id = ? AND disabled = 0`,
			hashSession(token), nsOf(now), nsOf(now), nsOf(s.Expires), s.CSRF, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return fmt.Errorf("user %q missing or disabled: %w", userID, ErrNotFound)
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("statedb: create session: %w", err)
	}
	return token, s, nil
}

// SessionByToken returns the live session of a cookie token and its user.
// Use slides the expiry to Idle from now, capped at Absolute after login;
// LastSeen is written at most every 30 seconds. An unknown or expired
// session, or one of a disabled user, gives ErrSessionExpired.
func (d *DB) SessionByToken(ctx context.Context, token string, p SessionPolicy) (Session, User, error) {
	id := hashSession(token)
	s := Session{}
	var created, lastSeen, expires sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT user_id, created, last_seen, expires, csrf FROM sessions WHERE id = ?`,
		id).Scan(&s.UserID, &created, &lastSeen, &expires, &s.CSRF)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, ErrSessionExpired
	} else if err != nil {
		return Session{}, User{}, fmt.Errorf("statedb: look up session: %w", err)
	}
	s.Created, s.LastSeen, s.Expires = fromNS(created), fromNS(lastSeen), fromNS(expires)
	u, err := d.User(ctx, s.UserID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Session{}, User{}, err
	}
	now := fromNS(toNS(d.now()))
	if err != nil || u.Disabled || !now.Before(s.Expires) || !now.Before(s.Created.Add(p.Absolute)) {
		if err := d.deleteSession(ctx, id); err != nil {
			return Session{}, User{}, err
		}
		return Session{}, User{}, ErrSessionExpired
	}
	if now.Sub(s.LastSeen) < sessionTouchGranularity {
		return s, u, nil
	}
	s.LastSeen, s.Expires = now, minTime(now.Add(p.Idle), s.Created.Add(p.Absolute))
	if _, err := d.execCount(ctx, `UPDATE sessions SET last_seen = ?, expires = ? WHERE id = ?`,
		nsOf(s.LastSeen), nsOf(s.Expires), id); err != nil {
		return Session{}, User{}, fmt.Errorf("statedb: touch session: %w", err)
	}
	return s, u, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// DeleteSession ends the session of a cookie token (logout). Ending an
// unknown session is not an error.
func (d *DB) DeleteSession(ctx context.Context, token string) error {
	return d.deleteSession(ctx, hashSession(token))
}

func (d *DB) deleteSession(ctx context.Context, id []byte) error {
	if _, err := d.execCount(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("statedb: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user and returns how many.
func (d *DB) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	n, err := d.execCount(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("statedb: delete user sessions: %w", err)
	}
	return n, nil
}
