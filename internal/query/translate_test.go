package query

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
)

// TestTranslateGolden compares translations with testdata/translate.golden.
// Run with -update or VIGIL_UPDATE_GOLDEN=1 to rewrite the file.
func TestTranslateGolden(t *testing.T) {
	t.Parallel()
	queries := []string{
		"",
		"error",
		`"Failed password"`,
		"fail*ed",
		`100%_done`,
		"user.name:admin",
		"user.name:Adm*",
		"user.name:*",
		`-user.name:root`,
		"a OR b c",
		"message:timeout",
		"event.original:\"GET /\"",
		"event.category:authentication",
		"event.type:st?rt",
		"event.category:*",
		"event.type:[a TO m}",
		"destination.port:443",
		"destination.port:>1024",
		"destination.port:[1 TO 1023]",
		"destination.bytes:<=1.5",
		"process.pid:12*",
		"source.ip:10.0.0.0/8",
		"source.ip:192.168.1.7",
		"source.ip:2001:db8::/32",
		"source.ip:2001:db8::/96",
		"source.ip:::ffff:10.0.0.1",
		"source.ip:10.0.*",
		"source.ip:not-an-ip",
		`source.ip:"10.0.0.0/8"`,
		"source.ip:[10.0.0.1 TO 10.0.0.9}",
		"source.ip:>=10.0.0.1",
		"@timestamp:2024-01-02",
		"@timestamp:2024-01-02T03:04:05.123456Z",
		"@timestamp:[2024-01-01 TO 2024-01-02}",
		"event.ingested:>2024-01-01T00:00:00+02:00",
		"EventID:4624",
		"EventID:46*",
		"EventID:*",
		"EventID:[4600 TO 4700]",
		"CreationTime:>2024-01-01",
		"Path:[a TO b]",
		"a/b~c:x",
		"NOT (a OR b)",
	}
	var b strings.Builder
	m := ECSMapping()
	for _, q := range queries {
		sql, err := Compile(q, m)
		if err != nil {
			t.Fatalf("Compile(%q): %v", q, err)
		}
		fmt.Fprintf(&b, "query: %s\nwhere: %s\nargs:  %s\n\n", q, sql.Where, formatArgs(sql.Args))
	}
	golden.Check(t, filepath.Join("testdata", "translate.golden"), []byte(b.String()))
}

func formatArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			parts[i] = v.Format(time.RFC3339Nano)
		case string:
			parts[i] = fmt.Sprintf("%q", v)
		default:
			parts[i] = fmt.Sprintf("%T(%v)", v, v)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestTranslateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"destination.port:https", `query: col 18: destination.port takes a number, not "https"`},
		{"destination.port:[1 TO x]", `query: col 24: destination.port takes a number, not "x"`},
		{"a destination.port:>x", `query: col 21: destination.port takes a number, not "x"`},
		{"@timestamp:yesterday", `query: col 12: @timestamp takes a time`},
		{"@timestamp:2024*", "query: col 12: wildcards do not apply to the time field @timestamp"},
		{"source.ip:10.0.0.0/33", `query: col 11: source.ip: "10.0.0.0/33" is not a CIDR block`},
		{"source.ip:[10.0.0.1 TO x]", `query: col 24: source.ip: "x" is not an IP address`},
	}
	m := ECSMapping()
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.in, m)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("Compile(%q) error = %v, want *Error", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Compile(%q) error = %q, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestTranslateUnknownFieldWithoutFieldsColumn(t *testing.T) {
	t.Parallel()
	m := ECSMapping()
	m.FieldsColumn = ""
	_, err := Compile("user.name:x EventID:4624", m)
	if err == nil || err.Error() != `query: col 13: unknown field "EventID"` {
		t.Fatalf("error = %v", err)
	}
	m.TextColumns = nil
	if _, err := Compile("word", m); err == nil {
		t.Fatal("bare word without text columns: no error")
	}
}

func TestECSMappingCoversSchema(t *testing.T) {
	t.Parallel()
	m := ECSMapping()
	seen := map[string]string{}
	for name, c := range m.Columns {
		if c.Name == "" || c.Kind < Keyword || c.Kind > IP {
			t.Errorf("%s: bad column %+v", name, c)
		}
		if c.Kind == IP && (c.Hi == "" || c.Lo == "") {
			t.Errorf("%s: IP column without Hi/Lo", name)
		}
		if other, dup := seen[c.Name]; dup {
			t.Errorf("%s and %s share column %s", name, other, c.Name)
		}
		seen[c.Name] = name
	}
	for _, want := range []string{"@timestamp", "source.ip", "event.category", "log.syslog.severity.code", "input"} {
		if _, ok := m.Columns[want]; !ok {
			t.Errorf("no column for %s", want)
		}
	}
}

func TestIPKeyOrder(t *testing.T) {
	t.Parallel()
	addrs := []string{"::", "::1", "0.0.0.0", "10.0.0.1", "10.0.0.2", "255.255.255.255", "2001:db8::1", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	var prevHi, prevLo int64
	for i, a := range addrs {
		hi, lo, ok := IPKey(a)
		if !ok {
			t.Fatalf("IPKey(%q) not ok", a)
		}
		if i > 0 && (hi < prevHi || hi == prevHi && lo <= prevLo) {
			t.Fatalf("IPKey(%q) = (%d, %d) not after (%d, %d)", a, hi, lo, prevHi, prevLo)
		}
		prevHi, prevLo = hi, lo
	}
	if _, _, ok := IPKey("10.0.0"); ok {
		t.Fatal("IPKey accepted 10.0.0")
	}
	h1, l1, _ := IPKey("10.0.0.1")
	h2, l2, _ := IPKey("::ffff:10.0.0.1")
	if h1 != h2 || l1 != l2 {
		t.Fatal("IPv4 and IPv4-mapped IPv6 keys differ")
	}
}
