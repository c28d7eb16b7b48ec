package zeek

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

var testReceived = time.Date(2024, 4, 12, 19, 30, 0, 0, time.UTC)

// readTSV returns the events and rejects of a TSV log.
func readTSV(t *testing.T, data []byte) ([]schema.Event, []error) {
	t.Helper()
	tr := NewTSVReader(bytes.NewReader(data), Options{Received: testReceived})
	var evs []schema.Event
	var bad []error
	for {
		var ev schema.Event
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			return evs, bad
		}
		var pe *parse.Error
		switch {
		case errors.As(err, &pe):
			bad = append(bad, err)
		case err != nil:
			t.Fatal(err)
		default:
			evs = append(evs, ev)
		}
	}
}

// readJSON returns the events and rejects of a JSON log.
func readJSON(t *testing.T, data []byte) ([]schema.Event, []error) {
	t.Helper()
	m := NewMapper()
	var evs []schema.Event
	var bad []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var ev schema.Event
		if err := m.Map(sc.Bytes(), "", testReceived, &ev); err != nil {
			bad = append(bad, err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs, bad
}

// jsonLines returns the events as JSON lines, without Original.
func jsonLines(t *testing.T, evs []schema.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, ev := range evs {
		ev.Original = ""
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// TestTSVGolden reads a two-block TSV log (conn then dns) with escapes,
// empty and unset values, a negative time, an exponent double and one
// short line.
func TestTSVGolden(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/sample.log")
	if err != nil {
		t.Fatal(err)
	}
	evs, bad := readTSV(t, data)
	if len(evs) != 5 || len(bad) != 1 {
		t.Fatalf("got %d events and %d rejects, want 5 and 1", len(evs), len(bad))
	}
	if parse.Reason(bad[0]) != parse.ReasonBadZeek || !strings.Contains(bad[0].Error(), "line 23") {
		t.Errorf("reject = %v, want bad_zeek at line 23", bad[0])
	}
	golden.Check(t, filepath.Join("testdata", "sample.golden.jsonl"), jsonLines(t, evs))
	for i, ev := range evs {
		if ev.Original == "" || strings.Contains(ev.Original, "\n") {
			t.Errorf("event %d: Original %q", i, ev.Original)
		}
	}
}

// TestJSONEqualsTSV maps the JSON twin of testdata/sample.log and requires
// the same events.
func TestJSONEqualsTSV(t *testing.T) {
	t.Parallel()
	tsv, err := os.ReadFile("testdata/sample.log")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	tevs, _ := readTSV(t, tsv)
	jevs, jbad := readJSON(t, js)
	if len(jbad) != 1 || parse.Reason(jbad[0]) != parse.ReasonInvalidJSON {
		t.Errorf("JSON rejects = %v, want one invalid_json", jbad)
	}
	if len(tevs) != len(jevs) {
		t.Fatalf("%d TSV events, %d JSON events", len(tevs), len(jevs))
	}
	for i := range tevs {
		if d := schema.Diff(&tevs[i], &jevs[i]); len(d) > 0 {
			t.Errorf("event %d differs:\n  %s", i, strings.Join(d, "\n  "))
		}
	}
}

// TestECS checks the ECS mapping of the sample records.
func TestECS(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/sample.log")
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := readTSV(t, data)
	tests := []struct {
		ev    int
		field string
		want  string
	}{
		{0, "@timestamp", "2018-03-24T17:15:20.865716Z"},
		{0, "event.dataset", "zeek.conn"},
		{0, "event.module", "zeek"},
		{0, "event.kind", "event"},
		{0, "event.category", "network"},
		{0, "event.type", "connection"},
		{0, "source.ip", "10.47.1.100"},
		{0, "source.port", "41772"},
		{0, "destination.port", "53"},
		{0, "network.transport", "udp"},
		{0, "network.protocol", "dns"},
		{0, "network.direction", "internal"},
		{0, "network.community_id", "1:Tr8jgMmSsaVLM6kIgD3ACjdXdrI="},
		{0, "source.bytes", "34"},
		{0, "network.bytes", "132"},
		{0, "network.packets", "2"},
		{0, "tunnel_parents", ""},
		{1, "network.direction", "inbound"},
		{1, "network.protocol", "ssl,http"},
		{1, "duration", "3.000158"},
		{2, "@timestamp", "1925-01-19T23:49:33.112616Z"},
		{2, "ts", "-1418429426.887384"},
		{2, "duration", "4.294967296e+09"},
		{2, "tunnel_parents", "CaV1,x,Cbb2"},
		{2, "network.direction", "external"},
		{3, "dns.question.name", "ise.wrccdc.org"},
		{3, "dns.question.type", "A"},
		{3, "dns.response_code", "NOERROR"},
		{3, "dns.answers", "ise.wrccdc.cpp.edu,134.71.3.16"},
		{3, "TTLs", "2230.000000,41830.000000"},
		{3, "AA", "F"},
		{3, "network.protocol", "dns"},
		{4, "query", "tab\tand,comma\\back\u2019q\\xff\\x01"},
		{4, "answers", ""},
	}
	for _, tc := range tests {
		got, _ := evs[tc.ev].Get(tc.field)
		if got != tc.want {
			t.Errorf("event %d %s = %q, want %q", tc.ev, tc.field, got, tc.want)
		}
	}
	if _, ok := evs[1].Fields.Get("orig_bytes"); ok {
		t.Error("unset orig_bytes was kept")
	}
	if d := evs[1].Event.Duration; d != 3000158000 {
		t.Errorf("duration = %d ns", d)
	}
}

// TestTSVRejects checks that bad lines are rejected with a reason and that reading goes on.
func TestTSVRejects(t *testing.T) {
	t.Parallel()
	hdr := "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tn\n#types\ttime\tstring\tcount\n"
	tests := []struct {
		name   string
		in     string
		good   int
		reason string
	}{
		{"no header", "1.000000\tC1\t3\n", 0, parse.ReasonBadZeek},
		{"too few columns", hdr + "1.000000\tC1\n", 0, parse.ReasonBadZeek},
		{"too many columns", hdr + "1.000000\tC1\t3\t4\n", 0, parse.ReasonBadZeek},
		{"bad time", hdr + "yesterday\tC1\t3\n", 0, parse.ReasonBadZeek},
		{"good after bad", hdr + "1.000000\tC1\n2.000000\tC2\t5\n", 1, parse.ReasonBadZeek},
		{"oversized", hdr + "1.000000\tC1\t" + strings.Repeat("9", 200) + "\n3.000000\tC3\t1\n", 1, parse.ReasonOversized},
		{"no final newline", hdr + "1.000000\tC1\t3", 1, ""},
		{"crlf", strings.ReplaceAll(hdr+"1.000000\tC1\t3\n", "\n", "\r\n"), 1, ""},
		{"blank lines", hdr + "\n\n1.000000\tC1\t3\n\n", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTSVReader(strings.NewReader(tc.in), Options{MaxLine: 100})
			good, reasons := 0, []string{}
			for {
				var ev schema.Event
				err := tr.Next(&ev)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					reasons = append(reasons, parse.Reason(err))
					continue
				}
				good++
				if v, _ := ev.Fields.Get("n"); v == "" || ev.Event.Dataset != "zeek.conn" {
					t.Errorf("event %+v", ev)
				}
			}
			if good != tc.good {
				t.Errorf("good = %d, want %d", good, tc.good)
			}
			if tc.reason == "" && len(reasons) > 0 || tc.reason != "" && (len(reasons) != 1 || reasons[0] != tc.reason) {
				t.Errorf("rejects = %v, want [%s]", reasons, tc.reason)
			}
		})
	}
}

// TestJSONRejects checks the reject reasons of bad JSON records.
func TestJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "  ", parse.ReasonEmpty},
		{"not json", "ts=1 uid=C1", parse.ReasonInvalidJSON},
		{"array", `[1,2]`, parse.ReasonInvalidJSON},
		{"truncated", `{"ts":1.0,"uid":"C`, parse.ReasonInvalidJSON},
		{"bad ts string", `{"ts":"yesterday","uid":"C1"}`, parse.ReasonBadTimestamp},
		{"bad ts value", `{"ts":true,"uid":"C1"}`, parse.ReasonBadTimestamp},
		{"invalid utf8", "{\"ts\":1.5,\"q\":\"\xff\"}", parse.ReasonInvalidUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			err := MapJSON([]byte(tc.in), "conn", testReceived, &ev)
			if got := parse.Reason(err); got != tc.reason {
				t.Errorf("reason = %q (%v), want %q", got, err, tc.reason)
			}
		})
	}
}

// TestJSONForms checks how JSON value forms are canonicalised.
func TestJSONForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, logType, field, want string
	}{
		{"epoch ts", `{"ts":1517422336.04539,"uid":"C"}`, "ssl", "ts", "1517422336.045390"},
		{"integer ts", `{"ts":1517422336}`, "ssl", "ts", "1517422336.000000"},
		{"iso rounded up", `{"ts":"2018-03-24T17:15:20.1000000Z"}`, "x", "ts", "1521911721.000000"},
		{"path wins", `{"_path":"dns","ts":1.0}`, "conn", "event.dataset", "zeek.dns"},
		{"file type", `{"ts":1.0}`, "weird", "event.dataset", "zeek.weird"},
		{"null omitted", `{"ts":1.0,"x":null}`, "x", "x", ""},
		{"nested object", `{"ts":1.0,"id":{"orig_h":"10.0.0.1","orig_p":5}}`, "conn", "source.ip", "10.0.0.1"},
		{"exponent double", `{"ts":1.0,"rtt":1e-05}`, "dns", "rtt", "0.000010"},
		{"big double", `{"ts":1.0,"p":4294967296.0}`, "ntp", "p", "4.294967296e+09"},
		{"bools", `{"ts":1.0,"a":[true,false]}`, "x", "a", "T,F"},
		{"no ts", `{"name":"base/init-bare.zeek"}`, "loaded_scripts", "@timestamp", "2024-04-12T19:30:00Z"},
		{"control char", "{\"ts\":1.0,\"s\":\"a\\u0001b\\u007f\"}", "x", "s", `a\x01b\x7f`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			if err := MapJSON([]byte(tc.in), tc.logType, testReceived, &ev); err != nil {
				t.Fatal(err)
			}
			if got, _ := ev.Get(tc.field); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.field, got, tc.want)
			}
		})
	}
}

// TestFormatDouble checks the emulation of Zeek's TSV double formatting.
func TestFormatDouble(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.000000"},
		{1, "1.000000"},
		{0.0008699893951416016, "0.000870"},
		{2230.0, "2230.000000"},
		{-0.5, "-0.500000"},
		{0.9999999, "1.000000"},
		{4294967296.0, "4.294967296e+09"},
		{2150431849.6896954, "2.1504318496896954e+09"},
		{2147483647, "2147483647.000000"},
	}
	for _, tc := range tests {
		if got := formatDouble(tc.in); got != tc.want {
			t.Errorf("formatDouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCanonTime checks the canonical time form and ISO 8601 parsing.
func TestCanonTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1521911720.865716", "1521911720.865716", true},
		{"-1418429426.887384", "-1418429426.887384", true},
		{"2.1504318496896954e+09", "2150431849.689695", true},
		{"1517336042.09", "1517336042.090000", true},
		{"0", "0.000000", true},
		{"soon", "", false},
		{"1e400", "", false},
	}
	for _, tc := range tests {
		got, _, err := canonTime(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("canonTime(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	us, ok := parseISOMicros("1925-01-19T23:49:33.112616Z")
	if !ok || formatMicros(us) != "-1418429426.887384" {
		t.Errorf("parseISOMicros = %d, %v", us, ok)
	}
	for _, bad := range []string{"2018-03-24 17:15:20Z", "2018-13-24T17:15:20Z", "2018-03-24T17:15:20.Z", "x"} {
		if _, ok := parseISOMicros(bad); ok {
			t.Errorf("parseISOMicros(%q) accepted", bad)
		}
	}
}

// TestStrings checks TSV unescaping and the canonical string form.
func TestStrings(t *testing.T) {
	t.Parallel()
	tests := []struct{ tsv, want string }{
		{`plain`, "plain"},
		{`a\x09b`, "a\tb"},
		{`back\\slash`, `back\slash`},
		{`\x00\x01`, `\x00\x01`},
		{`\xe2\x80\x99`, "\u2019"},
		{`bad\xff`, `bad\xff`},
		{`\x7f`, `\x7f`},
		{`not\escape`, `not\escape`},
		{`trailing\`, `trailing\`},
	}
	for _, tc := range tests {
		if got := canonString(string(unescapeTSV(nil, tc.tsv))); got != tc.want {
			t.Errorf("%q -> %q, want %q", tc.tsv, got, tc.want)
		}
	}
}

// TestLogTypeFromFilename checks log types taken from file names.
func TestLogTypeFromFilename(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"dns.log":                            "dns",
		"dns.json":                           "dns",
		"/var/zeek/dns.2024-01-01.log.gz":    "dns",
		`C:\logs\conn.log`:                   "conn",
		"open_http.17_37_03-18_00_00.log.gz": "open_http",
		"conn":                               "conn",
	}
	for in, want := range tests {
		if got := LogTypeFromFilename(in); got != want {
			t.Errorf("LogTypeFromFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSniff checks format detection.
func TestSniff(t *testing.T) {
	t.Parallel()
	tests := map[string]Format{
		"#separator \\x09\n": FormatTSV,
		"  {\"ts\":1}":       FormatJSON,
		"\ufeff{}":           FormatJSON,
		"Lorem ipsum":        FormatUnknown,
		"":                   FormatUnknown,
	}
	for in, want := range tests {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
}
