package statedb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// API token roles.
const (
	RoleAdmin   = "admin"
	RoleAnalyst = "analyst"
	RoleViewer  = "viewer"
	RoleIngest  = "ingest"
)

// Token format: "vgl_" and 32 random bytes in unpadded base64url.
const (
	tokenScheme      = "vgl_"
	tokenRandomBytes = 32
	tokenLen         = len(tokenScheme) + 43 // base64.RawURLEncoding.EncodedLen(32)
	// tokenPrefixLen is how much of the token is kept in clear for display
	// and lookup: the scheme and six characters (36 random bits).
	tokenPrefixLen = len(tokenScheme) + 6
	maxTokenName   = 128
)

// lastUsedGranularity is how stale a token's LastUsed may get: VerifyToken
// writes it at most once per this interval per token.
const lastUsedGranularity = time.Minute

// Token errors. Both mean "unauthenticated" to an API client; they differ
// for the server's log.
var (
	ErrInvalidToken = errors.New("statedb: invalid API token")
	ErrTokenRevoked = errors.New("statedb: API token revoked")
	ErrInvalidRole  = errors.New("statedb: invalid role (want admin, analyst, viewer or ingest)")
)

// Token is a stored API token. The token itself is never stored, only its
// SHA-256 hash and its Prefix for display.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// Prefix is the start of the token ("vgl_" and six characters), enough
	// for a person to tell tokens apart.
	Prefix  string    `json:"prefix"`
	Created time.Time `json:"created"`
	// LastUsed is when the token last authenticated, to the minute; zero if
	// never.
	LastUsed time.Time `json:"last_used,omitzero"`
	// Revoked is when the token was revoked; zero if it is live.
	Revoked time.Time `json:"revoked,omitzero"`
}

// ValidRole reports whether role is one of the API token roles.
func ValidRole(role string) bool {
	switch role {
	case RoleAdmin, RoleAnalyst, RoleViewer, RoleIngest:
		return true
	}
	return false
}

// hashToken returns the stored hash of a token. Tokens carry 256 random
// bits, so a fast hash is right: there is nothing to brute-force that a slow
// password hash (bcrypt, argon2) would protect, and verifying stays cheap on
// every API request.
func hashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// tokenPrefix checks that plain looks like a Vigil token and returns its
// display prefix.
func tokenPrefix(plain string) (string, error) {
	if len(plain) != tokenLen || !strings.HasPrefix(plain, tokenScheme) {
		return "", ErrInvalidToken
	}
	for i := len(tokenScheme); i < len(plain); i++ {
		c := plain[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", ErrInvalidToken
		}
	}
	return plain[:tokenPrefixLen], nil
}

// CreateToken makes a new API token with the given name and role. It
// returns the token, which is shown once and cannot be recovered, and its
// stored record.
func (d *DB) CreateToken(ctx context.Context, name, role string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if !ValidRole(role) {
		return "", Token{}, fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	if name == "" || len(name) > maxTokenName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Token{}, fmt.Errorf("statedb: token name must be 1 to %d printable characters", maxTokenName)
	}
	var b [tokenRandomBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	plain := tokenScheme + base64.RawURLEncoding.EncodeToString(b[:])
	now := d.now().UTC()
	t := Token{ID: newID(now), Name: name, Role: role, Prefix: plain[:tokenPrefixLen], Created: now}
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, prefix, hash, created)
VALUES (?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Role, t.Prefix, hashToken(plain), nsOf(now))
		return err
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("statedb: create token: %w", err)
	}
	t.Created = fromNS(toNS(now))
	return plain, t, nil
}

// VerifyToken returns the token record for plain. It returns ErrInvalidToken
// for a malformed or unknown token and ErrTokenRevoked for a revoked one.
// Candidates are found by the non-secret display prefix and their hashes
// compared in constant time. LastUsed is updated at most once a minute.
func (d *DB) VerifyToken(ctx context.Context, plain string) (Token, error) {
	prefix, err := tokenPrefix(plain)
	if err != nil {
		return Token{}, err
	}
	want := hashToken(plain)
	rows, err := d.db.QueryContext(ctx, `SELECT id, name, role, prefix, created, last_used, revoked, hash
FROM api_tokens WHERE prefix = ?`, prefix)
	if err != nil {
		return Token{}, fmt.Errorf("statedb: look up token: %w", err)
	}
	var found Token
	match := 0
	for rows.Next() {
		var t Token
		var hash []byte
		if err := scanToken(rows, &t, &hash); err != nil {
			rows.Close()
			return Token{}, err
		}
		if subtle.ConstantTimeCompare(hash, want) == 1 {
			found, match = t, 1
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Token{}, fmt.Errorf("statedb: look up token: %w", err)
	}
	switch {
	case match == 0:
		return Token{}, ErrInvalidToken
	case !found.Revoked.IsZero():
		return Token{}, ErrTokenRevoked
	}
	return d.touchToken(ctx, found)
}

// touchToken sets t's LastUsed to now when it is older than a minute.
func (d *DB) touchToken(ctx context.Context, t Token) (Token, error) {
	now := d.now()
	if !t.LastUsed.IsZero() && now.Sub(t.LastUsed) < lastUsedGranularity {
		return t, nil
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used = ?
WHERE id = ? AND (last_used IS NULL OR last_used <= ?)`,
			nsOf(now), t.ID, nsOf(now.Add(-lastUsedGranularity)))
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("statedb: record token use: %w", err)
	}
	t.LastUsed = fromNS(toNS(now))
	return t, nil
}

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface{ Scan(dest ...any) error }

// scanToken reads a row of id, name, role, prefix, created, last_used,
// revoked and, when hash is not nil, hash.
func scanToken(s scanner, t *Token, hash *[]byte) error {
	var created, lastUsed, revoked sql.NullInt64
	dest := []any{&t.ID, &t.Name, &t.Role, &t.Prefix, &created, &lastUsed, &revoked}
	if hash != nil {
		dest = append(dest, hash)
	}
	if err := s.Scan(dest...); err != nil {
		return fmt.Errorf("statedb: scan token: %w", err)
	}
	t.Created, t.LastUsed, t.Revoked = fromNS(created), fromNS(lastUsed), fromNS(revoked)
	return nil
}

// ListTokens returns every token, revoked ones included, oldest first.
func (d *DB) ListTokens(ctx context.Context) ([]Token, error) {
	return d.queryTokens(ctx, `SELECT id, name, role, prefix, created, last_used, revoked
FROM api_tokens ORDER BY created, id`)
}

// queryTokens runs a token query selecting scanToken's columns.
func (d *DB) queryTokens(ctx context.Context, q string, args ...any) ([]Token, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("statedb: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		if err := scanToken(rows, &t, nil); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the token with the given ID. Revoking a revoked token
// keeps its first revocation time. It returns ErrNotFound for an unknown ID.
func (d *DB) RevokeToken(ctx context.Context, id string) error {
	now := d.now()
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = coalesce(revoked, ?) WHERE id = ?`,
			nsOf(now), id)
		if err != nil {
			return fmt.Errorf("statedb: revoke token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("statedb: revoke token: %w", err)
		} else if n == 0 {
			return fmt.Errorf("token %q: %w", id, ErrNotFound)
		}
		return nil
	})
}

// HasAdminToken reports whether a live (not revoked) admin token exists;
// without one, first-run setup may create it.
func (d *DB) HasAdminToken(ctx context.Context) (bool, error) {
	var ok bool
	err := d.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM api_tokens WHERE role = ? AND revoked IS NULL)`, RoleAdmin).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("statedb: look for admin token: %w", err)
	}
	return ok, nil
}
