package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"empty", "", false},
		{"eleven", "abcdefghijk", false},
		{"twelve", "abcdefghijkl", true},
		{"twelve runes, more bytes", "ääääääääääää", true},
		{"eleven runes of many bytes", "äääääääääää", false},
		{"longest", strings.Repeat("x", MaxPasswordLength), true},
		{"too long", strings.Repeat("x", MaxPasswordLength+1), false},
	} {
		err := CheckPasswordPolicy(tc.pw)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPasswordPolicy)) {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
	if _, err := HashPassword("short"); !errors.Is(err, ErrPasswordPolicy) {
		t.Errorf("HashPassword(short) = %v", err)
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	h1, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(pw)
	if h1 == h2 || strings.Contains(h1, pw) || !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hashes %q and %q", h1, h2)
	}
	for _, tc := range []struct {
		name, pw string
		want     bool
	}{
		{"right", pw, true},
		{"wrong", "correct horse battery stapler", false},
		{"case", strings.ToUpper(pw), false},
		{"empty", "", false},
		{"over the limit", strings.Repeat("x", MaxPasswordLength+1), false},
	} {
		for _, h := range []string{h1, h2} {
			if ok, err := VerifyPassword(h, tc.pw); ok != tc.want || err != nil {
				t.Errorf("%s: Verify = %v, %v; want %v", tc.name, ok, err, tc.want)
			}
		}
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	t.Parallel()
	good := hashWith("some password", cheapParams())
	parts := strings.Split(good, "$")
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Replace(good, "m=64", "m=4194304", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$")},
		{"short key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$")},
		{"extra field", good + "$x"},
	} {
		if ok, err := VerifyPassword(tc.hash, "some password"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify = %v, %v; want ErrMalformedHash", tc.name, ok, err)
		}
	}
	if ok, err := VerifyPassword(good, "some password"); !ok || err != nil {
		t.Errorf("good hash: %v, %v", ok, err)
	}
}
