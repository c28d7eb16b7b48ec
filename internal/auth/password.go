package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy.
const (
	// MinPasswordLength is the fewest characters a password may have.
	MinPasswordLength = 12
	// MaxPasswordLength is the most bytes a password may have; it bounds the
	// work an attacker can make a login do.
	MaxPasswordLength = 1024
)

// Password errors.
var (
	// ErrPasswordPolicy is returned for a password that is too short or too
	// long.
	ErrPasswordPolicy = fmt.Errorf("auth: password must be %d to %d characters", MinPasswordLength, MaxPasswordLength)
	// ErrMalformedHash is returned for a stored hash that is not an argon2id
	// hash this package can check.
	ErrMalformedHash = errors.New("auth: malformed password hash")
)

// hashParams are argon2id's cost parameters.
type hashParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  uint32
}

// defaultParams follow OWASP's argon2id recommendation: 19 MiB, two passes,
// one lane.
func defaultParams() hashParams {
	return hashParams{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}
}

// Bounds on parameters read from a stored hash, so a tampered row cannot
// make a login allocate gigabytes or spin for minutes.
const (
	maxHashMemory  = 256 * 1024
	maxHashTime    = 16
	maxHashThreads = 16
)

// CheckPasswordPolicy reports whether pw is acceptable as a new password.
func CheckPasswordPolicy(pw string) error {
	if len(pw) > MaxPasswordLength || utf8.RuneCountInString(pw) < MinPasswordLength {
		return ErrPasswordPolicy
	}
	return nil
}

// HashPassword checks pw against the policy and returns its argon2id hash
// in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$key).
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	return hashWith(pw, defaultParams()), nil
}

// hashWith hashes pw with p and a fresh random salt.
func hashWith(pw string, p hashParams) string {
	salt := make([]byte, p.saltLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24 and later)
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// VerifyPassword reports whether pw matches the stored hash, comparing in
// constant time. It returns ErrMalformedHash for a hash it cannot read.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLength {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseHash reads a PHC-format argon2id hash.
func parseHash(encoded string) (hashParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return hashParams{}, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return hashParams{}, nil, nil, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	var p hashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return hashParams{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	if p.memory < 8*uint32(p.threads) || p.memory > maxHashMemory || p.time < 1 || p.time > maxHashTime ||
		p.threads < 1 || p.threads > maxHashThreads {
		return hashParams{}, nil, nil, fmt.Errorf("%w: parameters out of range %q", ErrMalformedHash, parts[3])
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return hashParams{}, nil, nil, fmt.Errorf("%w: salt or key", ErrMalformedHash)
	}
	return p, salt, key, nil
}

// randomPassword returns a password of 24 URL-safe characters (144 bits).
func randomPassword() string {
	b := make([]byte, 18)
	rand.Read(b) // never fails (crypto/rand, Go 1.24 and later)
	return base64.RawURLEncoding.EncodeToString(b)
}
