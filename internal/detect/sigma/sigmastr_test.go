package sigma

import (
	"reflect"
	"testing"
)

func lit(s string) strPart { return strPart{lit: s} }

func wStar() strPart { return strPart{kind: partStar} }
func wOne() strPart  { return strPart{kind: partOne} }

// TestParseSigmaString covers the escaping rules of the Sigma
// specification's "Escaping" section case by case.
func TestParseSigmaString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     sigmaString
	}{
		{"plain", `cmd.exe`, sigmaString{lit("cmd.exe")}},
		{"empty", ``, nil},
		{"star wildcard", `*\cmd.exe`, sigmaString{wStar(), lit(`\cmd.exe`)}},
		{"question wildcard", `prog?.exe`, sigmaString{lit("prog"), wOne(), lit(".exe")}},
		{"single backslash before text is plain", `C:\Windows\System32`, sigmaString{lit(`C:\Windows\System32`)}},
		{"double backslash before text is one backslash", `C:\\Windows`, sigmaString{lit(`C:\Windows`)}},
		{"escaped star is plain", `a\*b`, sigmaString{lit("a*b")}},
		{"escaped question is plain", `what\?`, sigmaString{lit("what?")}},
		{"escaped backslash then wildcard", `a\\*`, sigmaString{lit(`a\`), wStar()}},
		{"three backslashes then star: backslash and plain star", `a\\\*`, sigmaString{lit(`a\*`)}},
		{"three backslashes before text: two backslashes", `\\\a`, sigmaString{lit(`\\a`)}},
		{"four backslashes: two backslashes", `\\\\a`, sigmaString{lit(`\\a`)}},
		{"trailing backslash is plain", `dir\`, sigmaString{lit(`dir\`)}},
		{"UNC path with four backslashes", `\\\\server\share`, sigmaString{lit(`\\server\share`)}},
		{"stars around", `*mimikatz*`, sigmaString{wStar(), lit("mimikatz"), wStar()}},
		{"percent is plain without expand", `%APPDATA%\x`, sigmaString{lit(`%APPDATA%\x`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := parseSigmaString(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseSigmaString(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			// Writing the string back and reading it again gives the same
			// parts.
			if again := parseSigmaString(got.String()); !reflect.DeepEqual(again, got) {
				t.Errorf("round trip of %q via %q = %#v", tc.in, got.String(), again)
			}
		})
	}
}

func TestParsePlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want sigmaString
	}{
		{`%servers%`, sigmaString{{kind: partPlaceholder, lit: "servers"}}},
		{`srv-%dc%*`, sigmaString{lit("srv-"), {kind: partPlaceholder, lit: "dc"}, wStar()}},
		{`\%plain%name%`, sigmaString{lit("%plain"), {kind: partPlaceholder, lit: "name"}}},
		{`100%`, sigmaString{lit("100%")}},
		{`%%`, sigmaString{lit("%%")}},
	}
	for _, tc := range tests {
		if got := parseSigma(tc.in, true); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseSigma(%q, true) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{`a*b`, "ab", true},
		{`a*b`, "axxb", true},
		{`a*b`, "axxbc", false},
		{`*a*b*`, "xxaxxbxx", true},
		{`a?c`, "abc", true},
		{`a?c`, "ac", false},
		{`a?c`, "aéc", true}, // ? is one character, not one byte
		{`*\\system32\\*.exe`, `c:\windows\system32\cmd.exe`, true},
		{`*\\system32\\*.exe`, `c:\windows\system32\cmd.dll`, false},
		{`*aab`, "aaab", true},
		{`a*a*a*a*b`, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false},
		{`x*`, "", false},
		{`*`, "", true},
		{`??`, "ab", true},
		{`??`, "abc", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
	}
	for _, tc := range tests {
		if got := globMatch(parseSigmaString(tc.pattern).normalize(), tc.value); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestLower(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"CMD.EXE", "cmd.exe"},
		{"already", "already"},
		{"ÄÖÜ", "äöü"},
		{"c\x00m\x00D\x00\xff", "c\x00m\x00d\x00\xff"}, // invalid UTF-8 bytes stay
	}
	for _, tc := range tests {
		if got := lower(tc.in); got != tc.want {
			t.Errorf("lower(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
