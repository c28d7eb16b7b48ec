package sigma

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// isExoticByte reports whether c is an exotic byte: one that is not
// printable ASCII, tab or a line break (bytes of UTF-8 or UTF-16 text,
// other control bytes). Needles with exotic bytes are kept apart, and only
// texts with such bytes are searched for them.
func isExoticByte(c byte) bool {
	return c >= utf8.RuneSelf || c < '\t' || (c > '\r' && c < ' ') || c == 0x7f
}

// hasExotic reports whether s has an exotic byte. Eight bytes are tested
// at a time; only words with a byte of 0x80 and above, below 0x20 or 0x7f
// are looked at byte by byte (tabs and line breaks are not exotic).
func hasExotic(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// The subtractions borrow into the high bit of a byte below 0x20
		// or equal to 0x7f (after the XOR); a borrow across bytes only
		// sends a word to the byte loop.
		if (w|(w-0x2020202020202020)|((w^0x7f7f7f7f7f7f7f7f)-0x0101010101010101))&0x8080808080808080 == 0 {
			continue
		}
		for _, c := range b[i : i+8] {
			if isExoticByte(c) {
				return true
			}
		}
	}
	for ; i < len(b); i++ {
		if isExoticByte(b[i]) {
			return true
		}
	}
	return false
}

// firstHigh returns the index of the first byte of s of 0x80 or above (the
// first non-ASCII byte), or -1, testing eight bytes at a time (unaligned
// loads, without bounds checks).
func firstHigh(s string) int {
	p := unsafe.Pointer(unsafe.StringData(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if *(*uint64)(unsafe.Add(p, i))&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}

// needsLower reports whether s has a non-ASCII rune that lower-cases to a
// different rune, so that the folding automata must read its lower-cased
// form.
func needsLower(s string) bool {
	for i := firstHigh(s); i >= 0 && i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && unicode.ToLower(r) != r {
			return true
		}
		i += n
		if j := firstHigh(s[i:]); j >= 0 {
			i += j
		} else {
			break
		}
	}
	return false
}

// lowersToASCII reports whether s has a rune that is not ASCII but whose
// lower-case form is: U+0130 (İ) and U+212A (the Kelvin sign), the only two
// (TestLowersToASCII checks the Unicode tables).
func lowersToASCII(s string) bool {
	return hasRune(s, "\u0130") || hasRune(s, "\u212a")
}

// hasRune reports whether s holds the UTF-8 form r of a rune, looking for
// its first byte with strings.IndexByte (which reads many bytes at once).
func hasRune(s, r string) bool {
	for {
		i := strings.IndexByte(s, r[0])
		if i < 0 {
			return false
		}
		if strings.HasPrefix(s[i:], r) {
			return true
		}
		s = s[i+1:]
	}
}

// mustLowerText reports whether a case-insensitive group must search the
// lower-cased form of text t rather than t with its ASCII letters folded by
// the automata: when t has a non-ASCII letter that lower-cases to something
// else. For a group of ASCII needles only a letter that lower-cases to
// ASCII matters (any other lower-cases to bytes no needle holds, so both
// forms hold the same needles at the same places), which two byte searches
// tell without reading the text rune by rune.
func (g *scanGroup) mustLowerText(t string) bool {
	if g.ascii && len(t) >= shortText {
		return lowersToASCII(t)
	}
	hi := firstHigh(t)
	if hi < 0 {
		return false
	}
	if g.ascii {
		return lowersToASCII(t[hi:])
	}
	return needsLower(t[hi:])
}

// shortText is the length below which a text is first read word by word
// for a non-ASCII byte (most texts have none) rather than searched for the
// runes that lower-case to ASCII (two byte searches, each a call).
const shortText = 64
