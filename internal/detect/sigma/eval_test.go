package sigma

import (
	"fmt"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// evalCase is a detection section and events it must and must not match.
type evalCase struct {
	name      string
	detection string
	hit, miss []*schema.Event
	opts      LoadOptions
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := loadOne(t, ruleYAML(tc.detection), tc.opts)
			for i, ev := range tc.hit {
				if !matches(t, r, ev) {
					t.Errorf("event %d %v: no match, want one", i, ev.Fields)
				}
			}
			for i, ev := range tc.miss {
				if matches(t, r, ev) {
					t.Errorf("event %d %v: match, want none", i, ev.Fields)
				}
			}
		})
	}
}

// ev is testEvent, short for the tables.
func ev(kv ...string) *schema.Event { return testEvent(kv...) }

func TestEvalValues(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{name: "plain value, case-insensitive",
			detection: "sel:\n  Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: sel",
			hit:       []*schema.Event{ev("Image", `c:\windows\system32\CMD.EXE`)},
			miss:      []*schema.Event{ev("Image", `c:\windows\system32\cmd.exe2`), ev("Other", "x")}},
		{name: "list is OR",
			detection: "sel:\n  Image: [a.exe, b.exe]\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "A.exe"), ev("Image", "b.exe")},
			miss:      []*schema.Event{ev("Image", "c.exe")}},
		{name: "map is AND",
			detection: "sel:\n  Image: a.exe\n  User: bob\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "a.exe", "User", "BOB")},
			miss:      []*schema.Event{ev("Image", "a.exe", "User", "alice"), ev("Image", "a.exe")}},
		{name: "list of maps is OR",
			detection: "sel:\n  - Image: a.exe\n  - User: bob\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "a.exe"), ev("User", "bob")},
			miss:      []*schema.Event{ev("Image", "b.exe", "User", "eve")}},
		{name: "integer value",
			detection: "sel:\n  EventID: 4688\ncondition: sel",
			hit:       []*schema.Event{ev("EventID", "4688")},
			miss:      []*schema.Event{ev("EventID", "46880")}},
		{name: "many exact values use a set",
			detection: "sel:\n  Image: [a1, a2, a3, a4, a5, a6, a7, a8, a9, A10]\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "a10"), ev("Image", "A3")},
			miss:      []*schema.Event{ev("Image", "a11")}},
		{name: "backslash star is a plain star",
			detection: "sel:\n  Image: '*\\sys?em32\\*.exe'\ncondition: sel",
			hit:       []*schema.Event{ev("Image", `C:\Windows\System32*.exe`)},
			miss:      []*schema.Event{ev("Image", `C:\Windows\System32\x.exe`)}},
		{name: "wildcards",
			detection: "sel:\n  Image: '*\\sys?em32\\\\*.exe'\ncondition: sel",
			hit:       []*schema.Event{ev("Image", `C:\Windows\System32\x.exe`), ev("Image", `C:\Windows\sysXem32\y.EXE`)},
			miss:      []*schema.Event{ev("Image", `C:\Windows\system32\x.dll`), ev("Image", `C:\Windows\sysem32\x.exe`)}},
		{name: "escaped wildcard is literal",
			detection: "sel:\n  CommandLine|contains: 'a\\*b'\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", "x a*b y")},
			miss:      []*schema.Event{ev("CommandLine", "x aXb y")}},
		{name: "escaped backslash before wildcard",
			detection: "sel:\n  Path: 'C:\\\\*'\ncondition: sel",
			hit:       []*schema.Event{ev("Path", `C:\anything`)},
			miss:      []*schema.Event{ev("Path", `C:anything`)}},
		{name: "contains, startswith, endswith",
			detection: "a:\n  F|contains: mid\nb:\n  G|startswith: pre\nc:\n  H|endswith: end\ncondition: a and b and c",
			hit:       []*schema.Event{ev("F", "xMIDx", "G", "PREfix", "H", "the END")},
			miss: []*schema.Event{ev("F", "xmix", "G", "prefix", "H", "end"), ev("F", "mid", "G", "xpre", "H", "end"),
				ev("F", "mid", "G", "pre", "H", "endx")}},
		{name: "contains all",
			detection: "sel:\n  CommandLine|contains|all: [' -a ', ' -b ']\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", "x -b -a y")},
			miss:      []*schema.Event{ev("CommandLine", "x -a y")}},
		{name: "cased",
			detection: "sel:\n  F|cased: CamelCase\ncondition: sel",
			hit:       []*schema.Event{ev("F", "CamelCase")},
			miss:      []*schema.Event{ev("F", "camelcase")}},
		{name: "cased contains",
			detection: "sel:\n  F|contains|cased: Bad\ncondition: sel",
			hit:       []*schema.Event{ev("F", "xBadx")},
			miss:      []*schema.Event{ev("F", "xbadx")}},
	})
}

func TestEvalEmptyAndNames(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{name: "null is absent or empty",
			detection: "sel:\n  Image: a.exe\n  User: null\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "a.exe"), ev("Image", "a.exe", "User", "")},
			miss:      []*schema.Event{ev("Image", "a.exe", "User", "bob")}},
		{name: "empty value is the same as null",
			detection: "sel:\n  User: ''\ncondition: sel",
			hit:       []*schema.Event{ev("User", ""), ev("Image", "x")},
			miss:      []*schema.Event{ev("User", "bob")}},
		{name: "not null",
			detection: "sel:\n  Image: a.exe\nfilter:\n  User: null\ncondition: sel and not filter",
			hit:       []*schema.Event{ev("Image", "a.exe", "User", "bob")},
			miss:      []*schema.Event{ev("Image", "a.exe")}},
		{name: "lone star needs a value",
			detection: "sel:\n  User: '*'\ncondition: sel",
			hit:       []*schema.Event{ev("User", "x")},
			miss:      []*schema.Event{ev("User", ""), ev("Other", "x")}},
		{name: "field name without spaces finds a spaced field",
			detection: "sel:\n  ThreatName|endswith: EICAR_Test_File\ncondition: sel",
			hit:       []*schema.Event{ev("Threat Name", "Virus:DOS/EICAR_Test_File")},
			miss:      []*schema.Event{ev("Threat Name", "other")}},
		{name: "exact field name beats the spaced one",
			detection: "sel:\n  ThreatName: a\ncondition: sel",
			hit:       []*schema.Event{ev("Threat Name", "b", "ThreatName", "a")},
			miss:      []*schema.Event{ev("Threat Name", "a", "ThreatName", "b")}},
	})
}

func TestEvalTypeModifiers(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{name: "re is case-sensitive",
			detection: "sel:\n  CommandLine|re: 'powershell.*-enc'\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", "powershell.exe -enc AAA")},
			miss:      []*schema.Event{ev("CommandLine", "POWERSHELL.exe -enc AAA")}},
		{name: "re i flag",
			detection: "sel:\n  CommandLine|re|i: '^powershell'\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", "PowerShell -nop")}},
		{name: "re m flag",
			detection: "sel:\n  Data|re|m: '^HostApplication=.*-enc'\ncondition: sel",
			hit:       []*schema.Event{ev("Data", "Engine=x\nHostApplication=powershell -enc x")},
			miss:      []*schema.Event{ev("Data", "Engine=x HostApplication=powershell -enc x")}},
		{name: "re s flag",
			detection: "sel:\n  Data|re|s: 'begin.end'\ncondition: sel",
			hit:       []*schema.Event{ev("Data", "begin\nend")}},
		{name: "cidr IPv4 and IPv6",
			detection: "sel:\n  DestinationIp|cidr: [10.0.0.0/8, 'fe80::/10', 192.168.1.0/24]\ncondition: sel",
			hit: []*schema.Event{ev("DestinationIp", "10.1.2.3"), ev("DestinationIp", "fe80::1%eth0"),
				ev("DestinationIp", "::ffff:192.168.1.7")},
			miss: []*schema.Event{ev("DestinationIp", "11.0.0.1"), ev("DestinationIp", "not an ip"), ev("Other", "10.0.0.1")}},
		{name: "gt gte lt lte",
			detection: "a:\n  N|gt: 10\nb:\n  N|lte: 20\ncondition: a and b",
			hit:       []*schema.Event{ev("N", "11"), ev("N", "20"), ev("N", "0x10")},
			miss:      []*schema.Event{ev("N", "10"), ev("N", "21"), ev("N", "abc"), ev("Other", "15")}},
		{name: "gte lt with decimals",
			detection: "a:\n  N|gte: 1.5\nb:\n  N|lt: 2\ncondition: a and b",
			hit:       []*schema.Event{ev("N", "1.5"), ev("N", "1.99")},
			miss:      []*schema.Event{ev("N", "2"), ev("N", "1.49")}},
		{name: "exists true",
			detection: "sel:\n  Image|exists: true\ncondition: sel",
			hit:       []*schema.Event{ev("Image", "x")},
			miss:      []*schema.Event{ev("Other", "x"), ev("Image", "")}},
		{name: "exists false",
			detection: "sel:\n  Image|exists: false\ncondition: sel",
			hit:       []*schema.Event{ev("Other", "x")},
			miss:      []*schema.Event{ev("Image", "x")}},
		{name: "fieldref equality",
			detection: "sel:\n  TargetFilename|fieldref: Image\ncondition: sel",
			hit:       []*schema.Event{ev("TargetFilename", `C:\a.exe`, "Image", `c:\A.EXE`)},
			miss:      []*schema.Event{ev("TargetFilename", `C:\a.exe`, "Image", `C:\b.exe`), ev("TargetFilename", `C:\a.exe`)}},
		{name: "fieldref contains",
			detection: "sel:\n  CommandLine|fieldref|contains: Image\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", `"C:\a.exe" -x`, "Image", `C:\a.exe`)},
			miss:      []*schema.Event{ev("CommandLine", `b.exe -x`, "Image", `C:\a.exe`)}},
		{name: "fieldref negated (cross user spawn)",
			detection: "sel:\n  Image: x\nfilter:\n  User|fieldref: ParentUser\ncondition: sel and not filter",
			hit:       []*schema.Event{ev("Image", "x", "User", "a", "ParentUser", "b")},
			miss:      []*schema.Event{ev("Image", "x", "User", "a", "ParentUser", "A")}},
	})
}

func TestEvalEncodings(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{name: "windash",
			detection: "sel:\n  CommandLine|contains|windash: ' -encodedcommand '\ncondition: sel",
			hit: []*schema.Event{ev("CommandLine", "ps /EncodedCommand x"), ev("CommandLine", "ps -encodedcommand x"),
				ev("CommandLine", "ps \u2013encodedcommand x")},
			miss: []*schema.Event{ev("CommandLine", "ps encodedcommand x")}},
		{name: "base64offset contains",
			detection: "sel:\n  CommandLine|base64offset|contains: 'Invoke-Mimikatz'\ncondition: sel",
			hit: []*schema.Event{
				ev("CommandLine", "powershell -e "+b64("Invoke-Mimikatz -DumpCreds")),
				ev("CommandLine", "powershell -e "+b64("x Invoke-Mimikatz")),
				ev("CommandLine", "powershell -e "+b64("xy Invoke-Mimikatz"))},
			miss: []*schema.Event{ev("CommandLine", "powershell -e "+b64("Invoke-Something"))}},
		{name: "wide base64offset contains",
			detection: "sel:\n  CommandLine|wide|base64offset|contains: 'IEX'\ncondition: sel",
			hit:       []*schema.Event{ev("CommandLine", "powershell -enc "+b64(utf16Bytes("foo; IEX(x)", false, false)))},
			miss:      []*schema.Event{ev("CommandLine", "powershell -enc "+b64("foo; IEX(x)"))}},
		{name: "base64",
			detection: "sel:\n  Payload|base64: 'cmd'\ncondition: sel",
			hit:       []*schema.Event{ev("Payload", "Y21k")}},
		{name: "expand",
			opts:      LoadOptions{Placeholders: map[string][]string{"admins": {"root", "adm-*"}}},
			detection: "sel:\n  User|expand: '%admins%'\ncondition: sel",
			hit:       []*schema.Event{ev("User", "root"), ev("User", "ADM-bob")},
			miss:      []*schema.Event{ev("User", "bob")}},
	})
}

func TestEvalKeywords(t *testing.T) {
	t.Parallel()
	runEvalCases(t, []evalCase{
		{name: "keyword list is OR and matches anywhere",
			detection: "keywords:\n  - 'event::clear'\n  - 'event::drop'\ncondition: keywords",
			hit:       []*schema.Event{ev("message", "mimikatz # EVENT::Clear now"), ev("Data", "x event::drop")},
			miss:      []*schema.Event{ev("message", "event:: clear")}},
		{name: "keyword all",
			detection: "keywords:\n  '|all':\n    - grep\n    - password\ncondition: keywords",
			hit:       []*schema.Event{ev("message", "grep -r password /etc"), ev("a", "grep", "b", "password")},
			miss:      []*schema.Event{ev("message", "grep -r secret")}},
		{name: "single keyword",
			detection: "keywords: 'OabVirtualDirectory'\ncondition: keywords",
			hit:       []*schema.Event{ev("message", "Set-OabVirtualDirectory -x")}},
		{name: "keyword with wildcard",
			detection: "keywords:\n  - 'rm *-rf'\ncondition: keywords",
			hit:       []*schema.Event{ev("message", "sudo rm /x -rf")},
			miss:      []*schema.Event{ev("message", "rm /x")}},
		{name: "keyword regex",
			detection: "keywords:\n  '|re': 'AAA[0-9]+'\ncondition: keywords",
			hit:       []*schema.Event{ev("message", "x AAA12")},
			miss:      []*schema.Event{ev("message", "x aaa12")}},
		{name: "keywords and fields",
			detection: "sel:\n  type: EXECVE\nkeywords:\n  - passwd\ncondition: sel and keywords",
			hit:       []*schema.Event{ev("type", "EXECVE", "a1", "/etc/passwd")},
			miss:      []*schema.Event{ev("type", "SYSCALL", "a1", "/etc/passwd")}},
	})
}

func TestEvalConditions(t *testing.T) {
	t.Parallel()
	sel := "selection_a:\n  A: 1\nselection_b:\n  B: 1\nfilter_x:\n  X: 1\n_hidden:\n  H: 1\n"
	a, b, x, h := ev("A", "1"), ev("B", "1"), ev("X", "1"), ev("H", "1")
	ab, ax, abx := ev("A", "1", "B", "1"), ev("A", "1", "X", "1"), ev("A", "1", "B", "1", "X", "1")
	none := ev("Z", "1")
	runEvalCases(t, []evalCase{
		{name: "and", detection: sel + "condition: selection_a and selection_b",
			hit: []*schema.Event{ab}, miss: []*schema.Event{a, b}},
		{name: "or", detection: sel + "condition: selection_a or selection_b",
			hit: []*schema.Event{a, b}, miss: []*schema.Event{none}},
		{name: "not", detection: sel + "condition: selection_a and not filter_x",
			hit: []*schema.Event{a}, miss: []*schema.Event{ax}},
		{name: "precedence: and binds tighter than or",
			detection: sel + "condition: selection_a or selection_b and filter_x",
			hit:       []*schema.Event{a, ev("B", "1", "X", "1")}, miss: []*schema.Event{b}},
		{name: "parentheses", detection: sel + "condition: (selection_a or selection_b) and filter_x",
			hit: []*schema.Event{ax}, miss: []*schema.Event{a, x}},
		{name: "not binds tighter than and",
			detection: sel + "condition: not selection_a and selection_b",
			hit:       []*schema.Event{b}, miss: []*schema.Event{ab}},
		{name: "double not", detection: sel + "condition: not not selection_a",
			hit: []*schema.Event{a}, miss: []*schema.Event{b}},
		{name: "1 of pattern", detection: sel + "condition: 1 of selection_*",
			hit: []*schema.Event{a, b}, miss: []*schema.Event{x}},
		{name: "all of pattern", detection: sel + "condition: all of selection_*",
			hit: []*schema.Event{ab}, miss: []*schema.Event{a}},
		{name: "all of pattern and not 1 of filter",
			detection: sel + "condition: all of selection_* and not 1 of filter_*",
			hit:       []*schema.Event{ab}, miss: []*schema.Event{abx}},
		{name: "1 of them skips identifiers starting with _",
			detection: sel + "condition: 1 of them",
			hit:       []*schema.Event{a, x}, miss: []*schema.Event{h}},
		{name: "all of them", detection: sel + "condition: all of them",
			hit: []*schema.Event{abx}, miss: []*schema.Event{ab}},
		{name: "2 of pattern", detection: sel + "condition: 2 of *_*",
			hit: []*schema.Event{ab, ax}, miss: []*schema.Event{a}},
		{name: "keywords are case-insensitive", detection: sel + "condition: selection_a AND NOT filter_x",
			hit: []*schema.Event{a}, miss: []*schema.Event{ax}},
		{name: "condition list is OR", detection: sel + "condition:\n  - selection_a\n  - selection_b",
			hit: []*schema.Event{a, b}, miss: []*schema.Event{x}},
	})
}

func TestConditionErrors(t *testing.T) {
	t.Parallel()
	names := []string{"sel", "filter_a", "filter_b"}
	tests := []struct{ cond, want string }{
		{"", "empty"},
		{"sel and", "expression expected"},
		{"(sel", "missing )"},
		{"sel)", `unexpected ")"`},
		{"nope", `unknown search identifier "nope"`},
		{"1 of x*", "matches no search identifier"},
		{"filter_*", `needs "1 of" or "all of"`},
		{"sel | count() > 5", "aggregations"},
		{"3 of filter_*", "can never match"},
		{"sel and or filter_a", `unexpected "or"`},
		{"sel $", "unexpected character"},
		{"x of filter_*", "not a quantifier"},
	}
	for _, tc := range tests {
		_, err := parseCondition(tc.cond, names)
		if err == nil || !containsFold(err.Error(), tc.want) {
			t.Errorf("parseCondition(%q) err = %v, want %q", tc.cond, err, tc.want)
		}
	}
}

func containsFold(s, sub string) bool {
	return len(sub) == 0 || indexFold(s, sub) >= 0
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if lower(s[i:i+len(sub)]) == lower(sub) {
			return i
		}
	}
	return -1
}

// TestConditionShape checks the tree a condition compiles into.
func TestConditionShape(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c"}
	tests := []struct{ cond, want string }{
		{"a", "a"},
		{"a or b and c", "or(a,and(b,c))"},
		{"not a and b", "and(not(a),b)"},
		{"1 of *", "of1(a,b,c)"},
		{"all of *", "of3(a,b,c)"},
		{"1 of a*", "a"},
		{"(a or b) and not c", "and(or(a,b),not(c))"},
	}
	for _, tc := range tests {
		n, err := parseCondition(tc.cond, names)
		if err != nil {
			t.Fatalf("%q: %v", tc.cond, err)
		}
		if got := condString(n, names); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.cond, got, tc.want)
		}
	}
}

func condString(n *condNode, names []string) string {
	kids := func() string {
		s := ""
		for i, k := range n.kids {
			if i > 0 {
				s += ","
			}
			s += condString(k, names)
		}
		return s
	}
	switch n.kind {
	case condSearch:
		return names[n.search]
	case condAnd:
		return "and(" + kids() + ")"
	case condOr:
		return "or(" + kids() + ")"
	case condNot:
		return "not(" + kids() + ")"
	case condOf:
		return fmt.Sprintf("of%d(%s)", n.n, kids())
	}
	return "?"
}
