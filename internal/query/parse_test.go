package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"", "*"},
		{"   ", "*"},
		{"*", "*"},
		{"error", "error"},
		{"Error", "Error"},
		{`"failed password"`, `"failed password"`},
		{"user.name:admin", "user.name:admin"},
		{`user.name:"John Smith"`, `user.name:"John Smith"`},
		{"user.name:adm*", "user.name:adm*"},
		{"user.name:a?min", "user.name:a?min"},
		{`user.name:adm\*`, `user.name:adm\*`},
		{"user.name:*", "user.name:*"},
		{"a b", "(a AND b)"},
		{"a AND b", "(a AND b)"},
		{"a OR b", "(a OR b)"},
		{"a b OR c", "((a AND b) OR c)"},
		{"a OR b c", "(a OR (b AND c))"},
		{"a AND (b OR c)", "(a AND (b OR c))"},
		{"NOT a", "NOT a"},
		{"-a", "NOT a"},
		{"-user.name:root", "NOT user.name:root"},
		{"NOT NOT a", "NOT NOT a"},
		{"a -b", "(a AND NOT b)"},
		{"a NOT b", "(a AND NOT b)"},
		{"NOT (a OR b)", "NOT (a OR b)"},
		{"NOT(a)", "NOT a"},
		{"(a)", "a"},
		{"((a))", "a"},
		{"source.ip:10.0.0.0/8", "source.ip:10.0.0.0/8"},
		{"source.ip:fe80::1", "source.ip:fe80::1"},
		{"source.ip:2001:db8::/32", "source.ip:2001:db8::/32"},
		{"destination.port:>1024", `destination.port:{"1024" TO *]`},
		{"destination.port:>=1024", `destination.port:["1024" TO *]`},
		{"destination.port:<1024", `destination.port:[* TO "1024"}`},
		{"destination.port:<=1024", `destination.port:[* TO "1024"]`},
		{"destination.port:[1 TO 1023]", `destination.port:["1" TO "1023"]`},
		{"destination.port:{1 TO 1023}", `destination.port:{"1" TO "1023"}`},
		{"destination.port:[1 TO 1023}", `destination.port:["1" TO "1023"}`},
		{"destination.port:[ 1   TO  * ]", `destination.port:["1" TO *]`},
		{`@timestamp:["2024-01-01 10:00" TO *]`, `@timestamp:["2024-01-01 10:00" TO *]`},
		{"@timestamp:>2024-01-01T10:00:00Z", `@timestamp:{"2024-01-01T10:00:00Z" TO *]`},
		{`user.name:(alice OR bob)`, `(user.name:alice OR user.name:bob)`},
		{`user.name:(alice -"bob x")`, `(user.name:alice AND NOT user.name:"bob x")`},
		{`user.name:(alice host.name:x)`, `(user.name:alice AND host.name:x)`},
		{`EventID:4624`, `EventID:4624`},
		{`Event.System.Provider:Microsoft-Windows-Security-Auditing`, `Event.System.Provider:Microsoft-Windows-Security-Auditing`},
		{`url.full:http://example.com/a?b=c`, `url.full:http://example.com/a?b=c`},
		{`http\://x`, `http\://x`},
		{`foo\(bar\)`, `foo\(bar\)`},
		{`\AND`, `\AND`},
		{`and or not`, `(and AND or AND not)`},
		{`-`, `\-`},
		{`a - b`, `(a AND \- AND b)`},
		{`fail*`, `fail*`},
		{`"a \"quoted\" word"`, `"a \"quoted\" word"`},
		{`process.command_line:"C:\\Windows\\cmd.exe /c"`, `process.command_line:"C:\\Windows\\cmd.exe /c"`},
		{"a\tOR\nb", "(a OR b)"},
		{"user.name:é*", "user.name:é*"},
		{`user.name:""`, `user.name:""`},
		{"a OR b OR c", "(a OR b OR c)"},
		{"a AND b AND c", "(a AND b AND c)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := n.String(); got != tt.want {
				t.Fatalf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
			again, err := Parse(n.String())
			if err != nil {
				t.Fatalf("reparse of %q: %v", n.String(), err)
			}
			if again.String() != n.String() {
				t.Fatalf("reparse of %q = %q", n.String(), again.String())
			}
		})
	}
}

func TestParseTerm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Term
	}{
		{"user.name:admin", Term{Col: 1, ValueCol: 11, Field: "user.name", Op: OpMatch, Value: "admin"}},
		{`  x:"a b"`, Term{Col: 3, ValueCol: 5, Field: "x", Op: OpMatch, Value: "a b", Quoted: true}},
		{`x:a\*b*`, Term{Col: 1, ValueCol: 3, Field: "x", Op: OpWildcard, Value: `a\*b*`}},
		{`x:*`, Term{Col: 1, ValueCol: 3, Field: "x", Op: OpExists}},
		{`x:\*`, Term{Col: 1, ValueCol: 3, Field: "x", Op: OpMatch, Value: "*"}},
		{`word`, Term{Col: 1, ValueCol: 1, Op: OpMatch, Value: "word"}},
		{`x:>=5`, Term{Col: 1, ValueCol: 5, Field: "x", Op: OpRange,
			Lo: Bound{Value: "5", Inclusive: true, Col: 5}, Hi: Bound{Open: true, Inclusive: true, Col: 5}}},
		{`x:{a TO "b c"]`, Term{Col: 1, ValueCol: 3, Field: "x", Op: OpRange,
			Lo: Bound{Value: "a", Col: 4}, Hi: Bound{Value: "b c", Inclusive: true, Col: 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := n.(*Term)
			if !ok {
				t.Fatalf("got %T, want *Term", n)
			}
			if *got != tt.want {
				t.Fatalf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"user.name:", "query: col 11: expected value after ':'"},
		{"host.name:x user.name: ", "query: col 23: expected value after ':'"},
		{":x", "query: col 1: expected a field name before ':'"},
		{"(a", "query: col 3: missing ')' to close the '(' at col 1"},
		{"a)", "query: col 2: unexpected ')' without a matching '('"},
		{"()", "query: col 2: expected a term after '('"},
		{"a AND", "query: col 6: expected a term after AND"},
		{"a OR", "query: col 5: expected a term after OR"},
		{"NOT", "query: col 4: expected a term after NOT"},
		{"AND a", "query: col 1: expected a term before AND"},
		{"a OR OR b", "query: col 6: expected a term before OR"},
		{`"open`, "query: col 1: unterminated quoted phrase"},
		{`x:"open`, "query: col 3: unterminated quoted phrase"},
		{`a\`, `query: col 2: dangling '\' at the end of the query`},
		{"x:[1 TO 5", "query: col 10: expected ']' or '}' to close the range at col 3"},
		{"x:[1 5]", "query: col 6: expected ' TO ' between the bounds of the range at col 3"},
		{"x:[1 TO ]", "query: col 9: expected a range bound"},
		{"x:>", "query: col 4: expected value after '>'"},
		{"x:>=*", "query: col 5: '*' cannot be compared; use x:* to test that the field exists"},
		{"us*r:x", "query: col 1: wildcards are not allowed in field names"},
		{"é:é)", "query: col 4: unexpected ')' without a matching '('"},
		{"a\xffb", "query: col 2: query is not valid UTF-8"},
		{strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1), "nests more than"},
		{strings.Repeat("NOT ", MaxDepth+1) + "a", "nests more than"},
		{strings.Repeat("a ", MaxTerms+1), "more than 512 terms"},
		{strings.Repeat("a", MaxQueryBytes+1), "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error %q", tt.in, n, tt.want)
			}
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) error = %q, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	m := ECSMapping()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Col < 1 {
				t.Fatalf("Parse(%q): error %v is not an *Error with a column", s, err)
			}
			return
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, n, err)
		}
		if again.String() != n.String() {
			t.Fatalf("Parse(%q) = %s, reparsed as %s", s, n, again)
		}
		q, err := Translate(n, m)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("Translate(%q): error %v is not an *Error", s, err)
			}
			return
		}
		if got := strings.Count(q.Where, "?"); got != len(q.Args) {
			t.Fatalf("Translate(%q) = %q: %d placeholders for %d args", s, q.Where, got, len(q.Args))
		}
	})
}

// fuzzSeeds are the fuzz corpus seeds; the DuckDB test runs every one of
// them that translates.
func fuzzSeeds() []string {
	return []string{
		"", "*", "error", `"failed password"`, "user.name:admin", "user.name:adm*", "user.name:*",
		"a OR b c", "NOT (a OR -b)", "source.ip:10.0.0.0/8", "source.ip:2001:db8::/32",
		"source.ip:10.1.2.3", "source.ip:[10.0.0.1 TO 10.0.0.9}", "destination.port:>1024",
		"destination.port:[1 TO 1023]", "@timestamp:[2024-01-01 TO 2024-01-02}", "@timestamp:2024-01-01",
		"event.category:authentication", "event.category:auth*", "event.type:[a TO m]", "dns.answers:*",
		"EventID:4624", "EventID:[4600 TO 4700]", "Foo/Bar~baz:x*", "CreationTime:>2024-01-01",
		"message:fail*", "event.original:\"a b\"", "process.pid:1?3", "log.syslog.severity.code:<=3",
		`user.name:(alice OR bob)`, `x:"\"\\"`, "a\\ b", "host.ip:fe80::1%eth0", "event.ingested:>2020-01-01T00:00:00Z",
		"source.port:[* TO *]", "destination.bytes:>1.5", "100%_done", "ip:10.0.0.0/8",
	}
}
