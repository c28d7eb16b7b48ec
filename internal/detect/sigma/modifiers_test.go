package sigma

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

// expandAll applies a modifier chain to a value and returns the
// alternatives in Sigma's escaped form.
func expandAll(t *testing.T, mods, value string, ph map[string][]string) ([]string, error) {
	t.Helper()
	var list []string
	if mods != "" {
		list = strings.Split(mods, "|")
	}
	spec, err := parseModifiers(list)
	if err != nil {
		return nil, err
	}
	alts, err := spec.expandString(value, ph)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(alts))
	for i, a := range alts {
		out[i] = a.String()
	}
	return out, nil
}

func TestModifierExpansion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, mods, value string
		want              []string
	}{
		{"contains", "contains", "abc", []string{"*abc*"}},
		{"startswith", "startswith", "abc", []string{"abc*"}},
		{"endswith", "endswith", `\cmd.exe`, []string{`*\\cmd.exe`}},
		{"contains keeps inner wildcards", "contains", "a*b", []string{"*a*b*"}},
		{"base64", "base64", "cmd", []string{"Y21k"}},
		{"base64 then contains", "base64|contains", "cmd", []string{"*Y21k*"}},
		// Expected values computed with pySigma's algorithm.
		{"base64offset", "base64offset|contains", "sigma rules!",
			[]string{"*c2lnbWEgcnVsZXMh*", "*NpZ21hIHJ1bGVzI*", "*zaWdtYSBydWxlcy*"}},
		{"base64offset FromBase64String", "base64offset|contains", "::FromBase64String",
			[]string{"*OjpGcm9tQmFzZTY0U3RyaW5n*", "*o6RnJvbUJhc2U2NFN0cmluZ*", "*6OkZyb21CYXNlNjRTdHJpbm*"}},
		{"wide base64offset", "wide|base64offset|contains", "ping",
			[]string{"*cABpAG4AZw*", "*AAaQBuAGcA*", "*wAGkAbgBnA*"}},
		{"base64offset drops an empty variant", "base64offset", "a", []string{"Y", "h"}},
		{"utf16le base64", "utf16le|base64", "cmd", []string{"YwBtAGQA"}},
		{"utf16be base64", "utf16be|base64", "cmd", []string{"AGMAbQBk"}},
		{"utf16 with byte order mark", "utf16|base64", "cmd", []string{"//5jAG0AZAA="}},
		{"windash one option", "windash", "-enc",
			[]string{"-enc", "/enc", "\u2013enc", "\u2014enc", "\u2015enc"}},
		{"windash slash option", "contains|windash", " /c ",
			[]string{"* -c *", "* /c *", "* \u2013c *", "* \u2014c *", "* \u2015c *"}},
		{"windash leaves inner dashes", "windash", "a-b", []string{"a-b"}},
		{"windash double dash only the second", "windash", "--e",
			[]string{"--e", "-/e", "-\u2013e", "-\u2014e", "-\u2015e"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expandAll(t, tc.mods, tc.value, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s %q = %q, want %q", tc.mods, tc.value, got, tc.want)
			}
		})
	}
}

func TestWindashCombinations(t *testing.T) {
	t.Parallel()
	got, err := expandAll(t, "windash", "-a -b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 {
		t.Fatalf("got %d variants, want 5*5", len(got))
	}
	sort.Strings(got)
	for _, want := range []string{"-a -b", "-a /b", "/a -b", "/a /b", "\u2015a \u2013b"} {
		if i := sort.SearchStrings(got, want); i == len(got) || got[i] != want {
			t.Errorf("variant %q missing from %q", want, got)
		}
	}
}

func TestExpandPlaceholders(t *testing.T) {
	t.Parallel()
	ph := map[string][]string{"dcs": {"dc1", "dc2*"}, "domain": {"corp"}}
	got, err := expandAll(t, "expand", `%dcs%.%domain%`, ph)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dc1.corp", "dc2*.corp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("expand = %q, want %q", got, want)
	}
	if _, err := expandAll(t, "expand", "%missing%", ph); err == nil || !strings.Contains(err.Error(), "%missing%") {
		t.Errorf("missing placeholder: err = %v", err)
	}
	// Without expand, placeholders are plain text.
	if got, _ := expandAll(t, "", "%dcs%", ph); !reflect.DeepEqual(got, []string{"%dcs%"}) {
		t.Errorf("no expand = %q", got)
	}
}

func TestModifierErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ mods, value, want string }{
		{"bogus", "x", `unknown modifier "bogus"`},
		{"contains|endswith", "x", "exclude each other"},
		{"contains|contains", "x", "given twice"},
		{"i", "x", "must follow the re modifier"},
		{"re|cidr", "x", "cannot be combined"},
		{"cidr|contains", "x", "cannot be combined"},
		{"exists|cased", "x", "cannot be combined"},
		{"fieldref|base64", "x", "cannot be applied to a field reference"},
		{"contains|base64", "x", "cannot encode a value with wildcards"},
		{"contains||all", "x", "empty modifier"},
	}
	for _, tc := range tests {
		_, err := expandAll(t, tc.mods, tc.value, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.mods, err, tc.want)
		}
	}
}

func TestCompileRegex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, flags, value string
		want               bool
		err                string
	}{
		{`^cmd\.exe$`, "", "cmd.exe", true, ""},
		{`^cmd\.exe$`, "", "CMD.EXE", false, ""}, // case-sensitive by default
		{`^cmd\.exe$`, "i", "CMD.EXE", true, ""},
		{`^b$`, "", "a\nb", false, ""},
		{`^b$`, "m", "a\nb", true, ""},
		{`a.b`, "", "a\nb", false, ""},
		{`a.b`, "s", "a\nb", true, ""},
		{`(?>ab|a)c`, "", "abc", true, ""}, // atomic group, translated
		{`a++b`, "", "aab", true, ""},      // possessive, translated
		{`end\Z`, "", "the end\n", true, ""},
		{`(?=x)`, "", "", false, "lookaround"},
		{`(a)\1`, "", "", false, "backreference"},
		{`[`, "", "", false, "missing closing ]"},
	}
	for _, tc := range tests {
		re, err := compileRegex(tc.expr, tc.flags)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("compileRegex(%q) err = %v, want %q", tc.expr, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("compileRegex(%q): %v", tc.expr, err)
			continue
		}
		if got := re.MatchString(tc.value); got != tc.want {
			t.Errorf("%q (flags %q) on %q = %v, want %v", tc.expr, tc.flags, tc.value, got, tc.want)
		}
	}
}
