package eve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var received = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type goldenResult struct {
	Line   int           `json:"line"`
	Event  *schema.Event `json:"event,omitempty"`
	Input  string        `json:"input,omitempty"`
	Reason string        `json:"reason,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// TestGolden maps every line of testdata/*.json and compares the events
// (or rejections) with testdata/*.golden. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			got := mapFile(t, in)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test -run TestGolden -update and review the diff", in, golden)
			}
		})
	}
}

func mapFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Mapper
	var out []goldenResult
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var ev schema.Event
		r := goldenResult{Line: i + 1}
		if err := m.Map([]byte(line), received, &ev); err != nil {
			r.Input, r.Reason, r.Error = line, parse.Reason(err), err.Error()
		} else {
			r.Event = &ev
		}
		out = append(out, r)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, reason string }{
		{"empty", "", parse.ReasonEmpty},
		{"invalid utf8", "{\"host\":\"\xc3\x28\"}", parse.ReasonInvalidUTF8},
		{"truncated", `{"event_type":"flow"`, parse.ReasonInvalidJSON},
		{"array", `[{"event_type":"alert"}]`, parse.ReasonInvalidJSON},
		{"bad timestamp", `{"timestamp":"11/20/2026","event_type":"flow"}`, parse.ReasonBadTimestamp},
		{"no event_type", `{"timestamp":"2026-11-20T00:00:00.000000+0000","src_ip":"10.0.0.1"}`, parse.ReasonMissingField},
		{"impossible date", `{"timestamp":"2026-02-30T00:00:00.000000+0000"}`, parse.ReasonBadTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := schema.Event{Message: "stale"}
			err := Map([]byte(tc.in), received, &ev)
			var pe *parse.Error
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("Map(%q) = %v, want reason %q", tc.in, err, tc.reason)
			}
			if ev.Message != "" {
				t.Errorf("stale event left behind: %+v", ev)
			}
		})
	}
}

// TestAlertMapping pins the mapping of one alert field by field.
func TestAlertMapping(t *testing.T) {
	t.Parallel()
	rec := `{"timestamp":"2021-06-06T15:59:46.457984+0200","flow_id":1374195536821504,"event_type":"alert","src_ip":"78.36.196.213","src_port":51698,"dest_ip":"192.168.1.129","dest_port":445,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2403388,"rev":66418,"signature":"ET CINS Active Threat Intelligence Poor Reputation IP group 89","category":"Misc Attack","severity":2},"flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":60,"bytes_toclient":0,"start":"2021-06-06T15:59:46.457984+0200"},"host":"stratosphere.org"}`
	var ev schema.Event
	if err := Map([]byte(rec), received, &ev); err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"@timestamp":         "2021-06-06T13:59:46.457984Z",
		"event.kind":         "alert",
		"event.category":     "network,intrusion_detection",
		"event.type":         "allowed",
		"event.action":       "ET CINS Active Threat Intelligence Poor Reputation IP group 89",
		"event.code":         "2403388",
		"event.severity":     "2",
		"event.module":       "suricata",
		"event.dataset":      "suricata.eve",
		"source.ip":          "78.36.196.213",
		"source.port":        "51698",
		"source.bytes":       "60",
		"source.packets":     "1",
		"destination.ip":     "192.168.1.129",
		"destination.port":   "445",
		"destination.bytes":  "",
		"network.transport":  "tcp",
		"network.bytes":      "60",
		"observer.name":      "stratosphere.org",
		"observer.type":      "ids",
		"input":              "suricata",
		"rule.category":      "Misc Attack",
		"alert.signature_id": "2403388",
		"flow_id":            "1374195536821504",
	}
	for name, want := range checks {
		if got, _ := ev.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// sharedTestdata finds /work/shared/testdata: $VIGIL_SHARED, or a
// shared/testdata directory above the package.
func sharedTestdata(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("VIGIL_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestSlipsEVE maps the 5,000-line Suricata EVE file of the Slips dataset
// (GPL-2.0, read in place, not copied) and checks the per-type counts its
// manifest gives and the fields every event of a type must have.
func TestSlipsEVE(t *testing.T) {
	t.Parallel()
	root := sharedTestdata(t)
	path := filepath.Join(root, "slips", "dataset", "test6-malicious.suricata.json")
	f, err := os.Open(path)
	if root == "" || errors.Is(err, os.ErrNotExist) {
		t.Skipf("shared test data absent (%s): set VIGIL_SHARED to the shared testdata directory", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	var m Mapper
	var ev schema.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if err := m.Map(sc.Bytes(), received, &ev); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		typ, _ := ev.Fields.Get("event_type")
		counts[typ]++
		checkSlipsEvent(t, lines, typ, &ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"flow": 3512, "alert": 745, "dns": 680, "http": 56, "fileinfo": 3, "anomaly": 3, "tls": 1}
	if lines != 5000 {
		t.Errorf("%d lines, want 5000", lines)
	}
	for typ, n := range want {
		if counts[typ] != n {
			t.Errorf("%d %s events, want %d", counts[typ], typ, n)
		}
	}
}

func checkSlipsEvent(t *testing.T, line int, typ string, ev *schema.Event) {
	t.Helper()
	if ev.Timestamp.Year() != 2021 || ev.Source.IP == "" || ev.Destination.IP == "" ||
		ev.Network.Transport == "" || ev.Observer.Name != "stratosphere.org" {
		t.Fatalf("line %d (%s): incomplete event %+v", line, typ, ev)
	}
	switch typ {
	case "alert":
		if ev.Event.Kind != "alert" || ev.Event.Action == "" || ev.Event.Code == "" || ev.Event.Severity == 0 {
			t.Fatalf("line %d: alert without signature, id or severity: %+v", line, ev.Event)
		}
	case "flow":
		if ev.Network.Packets == 0 || ev.Event.Type[0] != "connection" {
			t.Fatalf("line %d: flow without counters: %+v", line, ev)
		}
	case "dns":
		if ev.DNS.Question.Name == "" || ev.Network.Protocol != "dns" {
			t.Fatalf("line %d: dns without question: %+v", line, ev.DNS)
		}
	case "http":
		if ev.URL.Path == "" && ev.URL.Domain == "" {
			t.Fatalf("line %d: http without url: %+v", line, ev.URL)
		}
	case "tls":
		if ev.Destination.Domain == "" {
			t.Fatalf("line %d: tls without sni: %+v", line, ev)
		}
	}
	if len(ev.Fields) > ecsjson.MaxFields {
		t.Fatalf("line %d: %d fields", line, len(ev.Fields))
	}
}
