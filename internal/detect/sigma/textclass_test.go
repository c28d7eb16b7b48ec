package sigma

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestTextClass checks the word-at-a-time byte tests against byte loops
// on random texts mixing printable ASCII, control bytes, UTF-8 and
// invalid bytes.
func TestTextClass(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	pieces := []string{"a", "Z", " ", "\t", "\n", "\x00", "\x1f", "\x7f", "é", "É", "İ", "\u212a", "ſ", "®", "\xff", "\xc3"}
	for range 20000 {
		var b []byte
		for range r.IntN(40) {
			if r.IntN(4) > 0 {
				b = append(b, byte(' '+r.IntN(95)))
			} else {
				b = append(b, pieces[r.IntN(len(pieces))]...)
			}
		}
		s := string(b)
		wantHigh, wantExotic, wantLower := -1, false, false
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf && wantHigh < 0 {
				wantHigh = i
			}
			wantExotic = wantExotic || isExoticByte(s[i])
		}
		for _, c := range s {
			wantLower = wantLower || (c >= utf8.RuneSelf && c != utf8.RuneError && unicode.ToLower(c) != c)
		}
		if got := firstHigh(s); got != wantHigh {
			t.Fatalf("firstHigh(%q) = %d, want %d", s, got, wantHigh)
		}
		if got := hasExotic(s); got != wantExotic {
			t.Fatalf("hasExotic(%q) = %v, want %v", s, got, wantExotic)
		}
		if got := needsLower(s); got != wantLower {
			t.Fatalf("needsLower(%q) = %v, want %v", s, got, wantLower)
		}
	}
}

// TestLowersToASCII checks that U+0130 and U+212A are the only non-ASCII
// runes whose lower-case forms are ASCII, which mustLowerText relies on, and
// that lowersToASCII finds them.
func TestLowersToASCII(t *testing.T) {
	t.Parallel()
	var found []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < utf8.RuneSelf {
			found = append(found, r)
		}
	}
	if !slices.Equal(found, []rune{0x130, 0x212a}) {
		t.Errorf("non-ASCII runes with ASCII lower-case forms: %U, want U+0130 and U+212A", found)
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"plain", false}, {"Äpfel ® ſ", false}, {"x\u0130y", true}, {"5 \u212a", true}, {"\xc4", false},
	} {
		if got := lowersToASCII(tc.s); got != tc.want {
			t.Errorf("lowersToASCII(%q) = %v", tc.s, got)
		}
	}
}
