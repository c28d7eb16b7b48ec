package query

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// testTable creates table t with a column for every column of m, typed by
// its kind, plus the id, fields, message and original columns.
func testTable(t *testing.T, m Mapping) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cols := []string{"id INTEGER", m.FieldsColumn + " VARCHAR"}
	names := make([]string, 0, len(m.Columns))
	for name := range m.Columns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := m.Columns[name]
		if c.Name == "id" {
			continue // the test table's own row id, an integer like the event id
		}
		switch c.Kind {
		case List:
			cols = append(cols, c.Name+" VARCHAR[]")
		case Number:
			cols = append(cols, c.Name+" BIGINT")
		case Time:
			cols = append(cols, c.Name+" TIMESTAMP")
		case IP:
			cols = append(cols, c.Name+" VARCHAR", c.Hi+" BIGINT", c.Lo+" BIGINT")
		default:
			cols = append(cols, c.Name+" VARCHAR")
		}
	}
	if _, err := db.Exec("CREATE TABLE t (" + strings.Join(cols, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	return db
}

type testRow struct {
	id       int
	msg      string
	user     string
	srcIP    string
	port     any
	ts       time.Time
	category []string
	fields   string
}

func insertRows(t *testing.T, db *sql.DB, rows []testRow) {
	t.Helper()
	for _, r := range rows {
		var hi, lo any
		if h, l, ok := IPKey(r.srcIP); ok {
			hi, lo = h, l
		}
		var user, ip, fields, cat any
		if r.user != "" {
			user = r.user
		}
		if r.srcIP != "" {
			ip = r.srcIP
		}
		if r.fields != "" {
			fields = r.fields
		}
		if r.category != nil {
			cat = r.category
		}
		_, err := db.Exec(`INSERT INTO t (id, message, original, user_name, source_ip, source_ip_hi, source_ip_lo,
			destination_port, ts, event_category, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, r.msg, "raw: "+r.msg, user, ip, hi, lo, r.port, r.ts, cat, fields)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTranslateMatchesInDuckDB runs translated queries over a small table
// and checks which rows match.
func TestTranslateMatchesInDuckDB(t *testing.T) {
	t.Parallel()
	m := ECSMapping()
	db := testTable(t, m)
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	insertRows(t, db, []testRow{
		{id: 1, msg: "Failed password for root", user: "root", srcIP: "10.1.2.3", port: 22, ts: day.Add(time.Hour),
			category: []string{"authentication"}, fields: `{"EventID":"4625","Path":"C:\\x","a.b":"dotted"}`},
		{id: 2, msg: "Accepted password for Admin", user: "Admin", srcIP: "192.168.1.7", port: 22, ts: day.Add(2 * time.Hour),
			category: []string{"authentication", "session"}, fields: `{"EventID":"4624"}`},
		{id: 3, msg: "GET /index.html 100% done", user: "", srcIP: "2001:db8::5", port: 443, ts: day.Add(26 * time.Hour),
			category: []string{"web"}},
		{id: 4, msg: "connection from fe80::1", srcIP: "::ffff:10.9.9.9", port: 8080, ts: day.Add(-time.Hour)},
		{id: 5, msg: "no ip", port: nil, ts: day.Add(3 * time.Hour), srcIP: "garbage"},
	})
	tests := []struct {
		q    string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5}},
		{"password", []int{1, 2}},
		{"PASSWORD", []int{1, 2}},
		{`"password for root"`, []int{1}},
		{"pass*for", []int{1, 2}},
		{"100%", []int{3}},
		{"100_", nil},
		{"raw", []int{1, 2, 3, 4, 5}},
		{"user.name:root", []int{1}},
		{"user.name:admin", nil},
		{"user.name:adm*", []int{2}},
		{"user.name:*", []int{1, 2}},
		{"-user.name:root", []int{2, 3, 4, 5}},
		{"NOT user.name:*", []int{3, 4, 5}},
		{"source.ip:10.0.0.0/8", []int{1, 4}},
		{"source.ip:192.168.0.0/16", []int{2}},
		{"source.ip:2001:db8::/32", []int{3}},
		{"source.ip:2001:db8:0:0:0:0:0:5", []int{3}},
		{"source.ip:10.9.9.9", []int{4}},
		{"source.ip:garbage", []int{5}},
		{"source.ip:[10.0.0.0 TO 10.255.255.255]", []int{1, 4}},
		{"source.ip:>192.168.1.7", []int{3}},
		{"source.ip:>=192.168.1.7", []int{2, 3}},
		{"-source.ip:10.0.0.0/8", []int{2, 3, 5}},
		{"destination.port:22", []int{1, 2}},
		{"destination.port:>1024", []int{4}},
		{"destination.port:[1 TO 1023]", []int{1, 2, 3}},
		{"destination.port:{22 TO 443]", []int{3}},
		{"destination.port:44*", []int{3}},
		{"destination.port:*", []int{1, 2, 3, 4}},
		{"event.category:authentication", []int{1, 2}},
		{"event.category:session", []int{2}},
		{"event.category:SESS*", []int{2}},
		{"event.category:*", []int{1, 2, 3}},
		{"-event.category:authentication", []int{3, 4, 5}},
		{"@timestamp:2024-03-01", []int{1, 2, 5}},
		{"@timestamp:<2024-03-01", []int{4}},
		{"@timestamp:[2024-03-01T01:00:00Z TO 2024-03-01T02:00:00Z]", []int{1, 2}},
		{"@timestamp:[2024-03-01T01:00:00Z TO 2024-03-01T02:00:00Z}", []int{1}},
		{"EventID:4625", []int{1}},
		{"EventID:462*", []int{1, 2}},
		{"EventID:[4624 TO 4624]", []int{2}},
		{"EventID:>4624", []int{1}},
		{"EventID:*", []int{1, 2}},
		{"-EventID:4625", []int{2, 3, 4, 5}},
		{`Path:"C:\\x"`, []int{1}},
		{`a.b:dotted`, []int{1}},
		{"password OR destination.port:443", []int{1, 2, 3}},
		{"password -user.name:root", []int{2}},
		{"(password OR GET) AND destination.port:>100", []int{3}},
		{"user.name:(root OR Admin)", []int{1, 2}},
		{"message:FAILED", []int{1}},
		{"event.original:raw*Accepted", []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			got := matchIDs(t, db, tt.q, m)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%q matched %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func matchIDs(t *testing.T, db *sql.DB, q string, m Mapping) []int {
	t.Helper()
	s, err := Compile(q, m)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(context.Background(), "SELECT id FROM t WHERE "+s.Where+" ORDER BY id", s.Args...)
	if err != nil {
		t.Fatalf("%q → %s: %v", q, s.Where, err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestCorpusRunsInDuckDB checks that every fuzz seed and test query that
// translates is SQL DuckDB accepts.
func TestCorpusRunsInDuckDB(t *testing.T) {
	t.Parallel()
	m := ECSMapping()
	db := testTable(t, m)
	corpus := fuzzSeeds()
	for name := range m.Columns {
		for _, v := range []string{"x", "x*", "*", "[a TO b]", ">5", "10.0.0.0/8", "2024-01-01", `"a b"`, "(a OR b)"} {
			corpus = append(corpus, name+":"+v)
		}
	}
	n := 0
	for _, q := range corpus {
		s, err := Compile(q, m)
		if err != nil {
			continue
		}
		n++
		sqlText := "SELECT count(*) FROM t WHERE " + s.Where
		var c int
		if err := db.QueryRow(sqlText, s.Args...).Scan(&c); err != nil {
			t.Errorf("%q → %s %v: %v", q, s.Where, s.Args, err)
		}
	}
	if n < len(corpus)/2 {
		t.Fatalf("only %d of %d corpus queries translated", n, len(corpus))
	}
	t.Logf("%d queries ran", n)
}

// TestDocExamples runs the example queries of docs/query.md.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "query.md"))
	if err != nil {
		t.Skipf("docs/query.md not found: %v", err)
	}
	var examples []string
	inBlock, wanted := false, true
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			wanted = line == "## Examples"
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock
		case inBlock && wanted && line != "" && !strings.HasPrefix(line, "#"):
			examples = append(examples, line)
		}
	}
	if len(examples) < 5 {
		t.Fatalf("found only %d examples", len(examples))
	}
	m := ECSMapping()
	db := testTable(t, m)
	for _, q := range examples {
		s, err := Compile(q, m)
		if err != nil {
			t.Errorf("example %q: %v", q, err)
			continue
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM t WHERE "+s.Where, s.Args...).Scan(&n); err != nil {
			t.Errorf("example %q: %v", q, err)
		}
	}
}
