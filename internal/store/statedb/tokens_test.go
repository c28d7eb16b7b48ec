package statedb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCreateToken(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, tokName, role string
		wantErr             error
	}{
		{"admin", "ops admin", RoleAdmin, nil},
		{"analyst", "alice", RoleAnalyst, nil},
		{"viewer", "wallboard", RoleViewer, nil},
		{"ingest", "  fw relay  ", RoleIngest, nil},
		{"unknown role", "x", "root", ErrInvalidRole},
		{"empty role", "x", "", ErrInvalidRole},
		{"role case matters", "x", "Admin", ErrInvalidRole},
		{"empty name", "   ", RoleViewer, nil},
		{"control character in name", "a\nb", RoleViewer, nil},
		{"long name", strings.Repeat("n", maxTokenName+1), RoleViewer, nil},
	} {
		plain, tok, err := d.CreateToken(ctx, tc.tokName, tc.role)
		wantFail := tc.wantErr != nil || strings.TrimSpace(tc.tokName) == "" ||
			strings.ContainsRune(tc.tokName, '\n') || len(tc.tokName) > maxTokenName
		if wantFail {
			if err == nil {
				t.Errorf("%s: CreateToken succeeded", tc.name)
			} else if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(plain) != tokenLen || !strings.HasPrefix(plain, "vgl_") || tok.Prefix != plain[:10] {
			t.Errorf("%s: token %q prefix %q", tc.name, plain, tok.Prefix)
		}
		if tok.Name != strings.TrimSpace(tc.tokName) || tok.Role != tc.role || !tok.Created.Equal(clock.Now()) ||
			!tok.LastUsed.IsZero() || !tok.Revoked.IsZero() || len(tok.ID) != idLen {
			t.Errorf("%s: token record %+v", tc.name, tok)
		}
	}
}

func TestTokenStoredAsHashOnly(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	plain, tok, err := d.CreateToken(ctx, "svc", RoleIngest)
	if err != nil {
		t.Fatal(err)
	}
	var hash []byte
	var dump strings.Builder
	rows, err := d.db.QueryContext(ctx, `SELECT id, name, role, prefix, hash FROM api_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, role, prefix string
		if err := rows.Scan(&id, &name, &role, &prefix, &hash); err != nil {
			t.Fatal(err)
		}
		dump.WriteString(id + name + role + prefix + string(hash))
	}
	want := sha256.Sum256([]byte(plain))
	if !bytes.Equal(hash, want[:]) {
		t.Errorf("stored hash %x, want SHA-256 of the token", hash)
	}
	if strings.Contains(dump.String(), plain[tokenPrefixLen:]) {
		t.Error("the secret part of the token is stored")
	}
	if tok.Prefix != plain[:tokenPrefixLen] {
		t.Errorf("prefix %q", tok.Prefix)
	}
}

func TestVerifyToken(t *testing.T) {
	t.Parallel()
	d, _ := openTestClock(t)
	ctx := context.Background()
	plain, tok, err := d.CreateToken(ctx, "alice", RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	revokedPlain, revoked, err := d.CreateToken(ctx, "old", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	flipLast := plain[:len(plain)-1] + string("AB"[boolInt(plain[len(plain)-1] == 'A')])
	for _, tc := range []struct {
		name, plain string
		wantErr     error
	}{
		{"valid", plain, nil},
		{"same prefix, wrong secret", flipLast, ErrInvalidToken},
		{"revoked", revokedPlain, ErrTokenRevoked},
		{"empty", "", ErrInvalidToken},
		{"scheme only", "vgl_", ErrInvalidToken},
		{"wrong scheme", "xyz_" + plain[4:], ErrInvalidToken},
		{"too short", plain[:len(plain)-1], ErrInvalidToken},
		{"too long", plain + "A", ErrInvalidToken},
		{"bad character", plain[:20] + "+" + plain[21:], ErrInvalidToken},
		{"unknown well-formed", "vgl_" + strings.Repeat("A", 43), ErrInvalidToken},
	} {
		got, err := d.VerifyToken(ctx, tc.plain)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err == nil && (got.ID != tok.ID || got.Role != RoleAnalyst) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tok)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestVerifyTokenLastUsed(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	plain, tok, err := d.CreateToken(ctx, "alice", RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0},
		{30 * time.Second, 0}, // within a minute: not rewritten
		{59 * time.Second, 0},
		{61 * time.Second, 61 * time.Second},
		{90 * time.Second, 61 * time.Second},
		{5 * time.Minute, 5 * time.Minute},
	} {
		clock.Set(start.Add(tc.at))
		got, err := d.VerifyToken(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		list, err := d.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := start.Add(tc.want)
		if !got.LastUsed.Equal(want) || !list[0].LastUsed.Equal(want) || list[0].ID != tok.ID {
			t.Errorf("at +%v: last used %v (stored %v), want %v", tc.at, got.LastUsed, list[0].LastUsed, want)
		}
	}
}

func TestRevokeAndAdminTokens(t *testing.T) {
	t.Parallel()
	d, clock := openTestClock(t)
	ctx := context.Background()
	hasAdmin := func(want bool) {
		t.Helper()
		if got, err := d.HasAdminToken(ctx); err != nil || got != want {
			t.Errorf("HasAdminToken = %v, %v; want %v", got, err, want)
		}
	}
	hasAdmin(false)
	_, viewer, err := d.CreateToken(ctx, "v", RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	hasAdmin(false)
	clock.Add(time.Second)
	_, admin, err := d.CreateToken(ctx, "a", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	hasAdmin(true)
	clock.Add(time.Second)
	revokedAt := clock.Now()
	if err := d.RevokeToken(ctx, admin.ID); err != nil {
		t.Fatal(err)
	}
	hasAdmin(false)
	clock.Add(time.Second)
	if err := d.RevokeToken(ctx, admin.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := d.RevokeToken(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking unknown: err = %v", err)
	}
	list, err := d.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != viewer.ID || list[1].ID != admin.ID {
		t.Fatalf("ListTokens = %+v", list)
	}
	if !list[1].Revoked.Equal(revokedAt) || !list[0].Revoked.IsZero() {
		t.Errorf("revoked times: %v and %v, want zero and %v", list[0].Revoked, list[1].Revoked, revokedAt)
	}
}
