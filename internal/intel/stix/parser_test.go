package stix

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseValid covers every form of the grammar; want is the canonical
// form, which shows how the parser grouped the expression.
func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"simple", "[ipv4-addr:value = '198.51.100.1']", "[ipv4-addr:value = '198.51.100.1']"},
		{"double equals", "[a:b == 1]", "[a:b = 1]"},
		{"not equal", "[a:b != 1]", "[a:b != 1]"},
		{"not equal sql", "[a:b <> 1]", "[a:b != 1]"},
		{"less", "[file:size < 1024]", "[file:size < 1024]"},
		{"less equal", "[file:size <= 1024]", "[file:size <= 1024]"},
		{"greater", "[file:size > 1024]", "[file:size > 1024]"},
		{"greater equal", "[file:size >= 1024]", "[file:size >= 1024]"},
		{"in", "[file:size IN (1024, 2048,4096)]", "[file:size IN (1024, 2048, 4096)]"},
		{"in no space", "[a:b IN(443,6443)]", "[a:b IN (443, 6443)]"},
		{"in empty", "[a:b IN ()]", "[a:b IN ()]"},
		{"in mixed", "[a:b IN ('x', 1, true, -2.5)]", "[a:b IN ('x', 1, true, -2.5)]"},
		{"like", "[file:name LIKE 'name%']", "[file:name LIKE 'name%']"},
		{"matches", `[file:name MATCHES '^Final Report.+\\.exe$']`, `[file:name MATCHES '^Final Report.+\\.exe$']`},
		{"issubset", "[ipv4-addr:value ISSUBSET '192.168.0.1/24']", "[ipv4-addr:value ISSUBSET '192.168.0.1/24']"},
		{"issuperset", "[ipv4-addr:value ISSUPERSET '192.168.0.1']", "[ipv4-addr:value ISSUPERSET '192.168.0.1']"},
		{"not issubset", "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']", "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']"},
		{"not equal via NOT", "[a:b NOT = 'x']", "[a:b NOT = 'x']"},
		{"not in", "[a:b NOT IN (1)]", "[a:b NOT IN (1)]"},
		{"not like", "[a:b NOT LIKE 'x%']", "[a:b NOT LIKE 'x%']"},
		{"not matches", "[a:b NOT MATCHES 'x']", "[a:b NOT MATCHES 'x']"},
		{"not less", "[a:b NOT < 3]", "[a:b NOT < 3]"},
		{"exists", "[EXISTS file:name]", "[EXISTS file:name]"},
		{"not exists", "[NOT EXISTS file:name]", "[NOT EXISTS file:name]"},
		{"and before or", "[a:b = 1 OR a:c = 2 AND a:d = 3]", "[a:b = 1 OR (a:c = 2 AND a:d = 3)]"},
		{"and chain left assoc", "[a:b = 1 AND a:c = 2 AND a:d = 3]", "[a:b = 1 AND a:c = 2 AND a:d = 3]"},
		{"parens inside", "[(a:b = 1 OR a:c = 2) AND a:d = 3]", "[(a:b = 1 OR a:c = 2) AND a:d = 3]"},
		{"right nested parens kept", "[a:b = 1 OR (a:c = 2 OR a:d = 3)]", "[a:b = 1 OR (a:c = 2 OR a:d = 3)]"},
		{"redundant parens dropped", "[((a:b = 1))]", "[a:b = 1]"},
		{"observation or", "[a:b = 1] OR [c:d = 2]", "[a:b = 1] OR [c:d = 2]"},
		{"observation and over or", "[a:b = 1] OR [c:d = 2] AND [e:f = 3]", "[a:b = 1] OR ([c:d = 2] AND [e:f = 3])"},
		{"followedby lowest", "[a:b = 1] OR [c:d = 2] FOLLOWEDBY [e:f = 3]",
			"([a:b = 1] OR [c:d = 2]) FOLLOWEDBY [e:f = 3]"},
		{"compound", "([a:b = 1] FOLLOWEDBY [c:d = 2])", "[a:b = 1] FOLLOWEDBY [c:d = 2]"},
		{"within int", "[a:b = 1] WITHIN 5 SECONDS", "[a:b = 1] WITHIN 5 SECONDS"},
		{"within float", "[a:b = 1] WITHIN 0.5 SECONDS", "[a:b = 1] WITHIN 0.5 SECONDS"},
		{"within plus", "[a:b = 1] WITHIN +5 SECONDS", "[a:b = 1] WITHIN 5 SECONDS"},
		{"repeats", "[foo:bar=1] REPEATS 9 TIMES", "[foo:bar = 1] REPEATS 9 TIMES"},
		{"start stop", "[a:b = 1] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z'",
			"[a:b = 1] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z'"},
		{"qualifier binds tighter than and", "[a:b = 1] AND [c:d = 2] WITHIN 5 SECONDS",
			"[a:b = 1] AND [c:d = 2] WITHIN 5 SECONDS"},
		{"qualifier on group", "([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS",
			"([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS"},
		{"distinct qualifiers", "[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS",
			"[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS"},
		{"same qualifier at two levels", "([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES",
			"([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES"},
		{"different qualifiers at two levels", "([a:b = 1] REPEATS 2 TIMES) WITHIN 2 SECONDS",
			"[a:b = 1] REPEATS 2 TIMES WITHIN 2 SECONDS"},
		{"quoted key", "[file:hashes.'SHA-256' = 'ab']", "[file:hashes.'SHA-256' = 'ab']"},
		{"quoted first key", "[file:'name' = 'a']", "[file:name = 'a']"},
		{"hyphen key lenient", "[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]",
			"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]"},
		{"index", "[a:b[0].c = 1]", "[a:b[0].c = 1]"},
		{"negative index", "[a:b[-1] = 1]", "[a:b[-1] = 1]"},
		{"any index", "[email-message:body_multipart[*].body_raw_ref.name = 'x']",
			"[email-message:body_multipart[*].body_raw_ref.name = 'x']"},
		{"keyword key quoted", "[a:'AND' = 1]", "[a:'AND' = 1]"},
		{"escapes", `[a:b = 'it\'s a \\ back']`, `[a:b = 'it\'s a \\ back']`},
		{"unicode string", "[a:b = 'café ☕']", "[a:b = 'café ☕']"},
		{"negative int", "[a:b = -42]", "[a:b = -42]"},
		{"float forms", "[a:b = .5 OR a:c = -0.25 OR a:d = 007.5]", "[a:b = 0.5 OR a:c = -0.25 OR a:d = 7.5]"},
		{"booleans", "[a:b = true OR a:c = false]", "[a:b = true OR a:c = false]"},
		{"timestamp", "[a:b = t'2014-01-13T07:03:17Z']", "[a:b = t'2014-01-13T07:03:17Z']"},
		{"timestamp fraction", "[a:b == t'2018-03-22T12:11:14.1Z']", "[a:b = t'2018-03-22T12:11:14.1Z']"},
		{"leap second", "[a:b = t'2016-12-31T23:59:60Z']", "[a:b = t'2017-01-01T00:00:00Z']"},
		{"hex", "[file:magic_number_hex = h'FFd8']", "[file:magic_number_hex = h'ffd8']"},
		{"hex empty", "[a:b = h'']", "[a:b = h'']"},
		{"binary", "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']"},
		{"binary double pad", "[a:b = b'YQ==']", "[a:b = b'YQ==']"},
		{"comments", "/* c */ [a:b = 1] // trailing", "[a:b = 1]"},
		{"whitespace", "\t[ a:b\u00a0=\u20031 ]\n", "[a:b = 1]"},
		{"ident with t h b", "[t:h = 1 AND b:bb = 2]", "[t:h = 1 AND b:bb = 2]"},
		{"keyword prefix is ident", "[ANDroid:ORx = 1]", "[ANDroid:ORx = 1]"},
		{"misplaced whitespace", "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
			"[network-traffic:dst_port IN (443, 6443, 8443) AND network-traffic:src_packets != 0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ast, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := ast.String(); got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Parse(ast.String())
			if err != nil || again.String() != ast.String() {
				t.Errorf("canonical form %q does not re-parse to itself: %v", ast.String(), err)
			}
		})
	}
}

// TestParseInvalid checks that malformed patterns fail with the right
// column and a message saying what was expected.
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		column   int
		want     string
	}{
		{"empty", "", 1, "expected '[' or '(' starting an observation expression, found end of pattern"},
		{"no brackets", "file:size = 1280", 1, "expected '[' or '('"},
		{"missing value", "[file:size = ]", 14, "expected a literal after =, found ']'"},
		{"unquoted string", "[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", 20, "expected a literal after =, found 'cead3f77"},
		{"period for colon", "[file.size = 1280]", 6, "expected ':' after the object type 'file', found '.'"},
		{"regex slashes", `[file:name MATCHES /.*\\.dll/]`, 20, "expected a string literal after MATCHES, found '/'"},
		{"within missing value", "[a:b = 'x'] WITHIN ]", 20, "expected a positive number of seconds, found ']'"},
		{"within hours", "[a:b = 'x'] WITHIN 5 HOURS", 22, "expected SECONDS, found 'HOURS'"},
		{"within negative", "[a:b = 'x'] WITHIN -5 SECONDS", 20, "expected a positive number of seconds, found '-5'"},
		{"repeats float", "[a:b = 'x'] REPEATS 1.5 TIMES", 21, "expected a positive integer, found '1.5'"},
		{"repeats no times", "[a:b = 'x'] REPEATS 2", 22, "expected TIMES, found end of pattern"},
		{"start without stop", "[a:b = 1] START t'2016-06-01T01:30:00Z'", 40, "expected STOP, found end of pattern"},
		{"start not timestamp", "[a:b = 1] START '2016-06-01T01:30:00Z' STOP t'2016-06-01T01:30:00Z'", 17, "expected a timestamp t'...' after START"},
		{"issubset missing operand", "[network-traffic:dst_ref.value ISSUBSET ]", 41, "expected a string literal after ISSUBSET, found ']'"},
		{"bad operator", "[file:hashes.MD5 =? 'cead']", 19, "unexpected character '?'"},
		{"invalid date", "[x_whatever:detected == t'2457-73-22T32:81:84.1Z']", 25, "invalid timestamp literal"},
		{"calendar date", "[a:b = t'2021-02-30T00:00:00Z']", 8, "invalid timestamp literal"},
		{"lower z", "[a:b = t'2021-02-03T00:00:00z']", 8, "invalid timestamp literal"},
		{"bad base64", "[artifact:payload_bin = b'====']", 25, "invalid binary literal"},
		{"empty base64", "[a:b = b'']", 8, "invalid binary literal"},
		{"odd hex", "[a:b = h'abc']", 8, "invalid hex literal"},
		{"lowercase keyword", "[foo:bar=1] within 2 seconds", 13, "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern, found 'within'"},
		{"duplicate within", "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", 28, "duplicate WITHIN qualifier"},
		{"duplicate repeats in group", "([a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", 28, "duplicate REPEATS qualifier"},
		{"duplicate start stop", "[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:30:00Z' START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:30:00Z'",
			70, "duplicate START/STOP qualifier"},
		{"unterminated string", "[a:b = 'abc]", 8, "unterminated string literal"},
		{"bad escape", `[a:b = 'a\nb']`, 10, "invalid escape in string"},
		{"unterminated comment", "[a:b = 1] /* open", 11, "unterminated comment"},
		{"unclosed bracket", "[a:b = 1", 9, "expected ']', AND or OR, found end of pattern"},
		{"unclosed paren", "([a:b = 1]", 11, "expected ')'"},
		{"unclosed inner paren", "[(a:b = 1]", 10, "expected ')', AND or OR, found ']'"},
		{"trailing and", "[a:b = 1] AND", 14, "expected '[' or '('"},
		{"empty observation", "[]", 2, "expected an object path"},
		{"no property", "[file: = 1]", 8, "expected a property name after ':'"},
		{"bool ordered", "[a:b < true]", 8, "expected an orderable literal"},
		{"bad index", "[a:b[x] = 1]", 6, "expected a list index"},
		{"in without parens", "[a:b IN 1]", 9, "expected '(' starting the IN set"},
		{"in trailing comma", "[a:b IN (1,)]", 12, "expected a literal in the IN set"},
		{"in missing comma", "[a:b IN (1 2)]", 12, "expected ',' or ')' in the IN set"},
		{"not before exists missing", "[NOT a:b = 1]", 6, "expected EXISTS after a leading NOT"},
		{"leading zero int", "[a:b = 007]", 9, "expected ']', AND or OR, found '0'"},
		{"huge int", "[a:b = 99999999999999999999]", 8, "integer literal out of range"},
		{"last keyword", "[a:b = 1] LAST 5", 11, "expected AND, OR, FOLLOWEDBY"},
		{"invalid character", "[a:b = 1] ; [c:d = 2]", 11, "unexpected character ';'"},
		{"column counts characters", "[a:b = 'é'] ?", 13, "unexpected character '?'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
			}
			if se.Column != tt.column || !strings.Contains(se.Error(), tt.want) {
				t.Errorf("Parse(%q) = %q (column %d), want column %d and %q", tt.in, se.Error(), se.Column, tt.column, tt.want)
			}
		})
	}
}

// TestParseDepth checks that deep nesting is an error, not a stack
// exhaustion.
func TestParseDepth(t *testing.T) {
	t.Parallel()
	ok := strings.Repeat("(", maxDepth) + "[a:b = 1]" + strings.Repeat(")", maxDepth)
	if _, err := Parse(ok); err != nil {
		t.Fatalf("nesting %d: %v", maxDepth, err)
	}
	deep := strings.Repeat("(", 100_000) + "[a:b = 1]" + strings.Repeat(")", 100_000)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("nesting 100000: err = %v", err)
	}
	deepCmp := "[" + strings.Repeat("(", 100_000) + "a:b = 1" + strings.Repeat(")", 100_000) + "]"
	if _, err := Parse(deepCmp); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("comparison nesting 100000: err = %v", err)
	}
}

// TestParseAST checks the decoded AST fields, not only the printed form.
func TestParseAST(t *testing.T) {
	t.Parallel()
	ast, err := Parse(`[file:hashes.'SHA-256' NOT IN ('a\'b', -3, 2.5, t'2020-01-02T03:04:05.5Z', h'00ff', b'AAE=')] ` +
		`START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'`)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := ast.Root.(*Qualified)
	if !ok || q.Qualifier.Kind != QualifierStartStop ||
		!q.Qualifier.Until.Equal(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("root = %#v, want a START/STOP qualifier", ast.Root)
	}
	obs := q.Expr.(*Observation)
	c := obs.Expr.(*Comparison)
	if c.Path.ObjectType != "file" || len(c.Path.Steps) != 2 || c.Path.Steps[1].Key != "SHA-256" || !c.Negated ||
		c.Op != OpIn || c.Start != 1 {
		t.Fatalf("comparison = %#v", c)
	}
	want := []Literal{
		{Kind: LitString, Str: "a'b"}, {Kind: LitInt, Int: -3}, {Kind: LitFloat, Float: 2.5},
		{Kind: LitTimestamp, Time: time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		{Kind: LitHex, Bytes: []byte{0, 0xff}}, {Kind: LitBinary, Bytes: []byte{0, 1}},
	}
	if len(c.Set) != len(want) {
		t.Fatalf("set = %v", c.Set)
	}
	for i, w := range want {
		g := c.Set[i]
		if g.Kind != w.Kind || g.Str != w.Str || g.Int != w.Int || g.Float != w.Float || !g.Time.Equal(w.Time) ||
			string(g.Bytes) != string(w.Bytes) {
			t.Errorf("set[%d] = %#v, want %#v", i, g, w)
		}
	}
}
