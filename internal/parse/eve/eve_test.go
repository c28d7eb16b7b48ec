package eve

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

var received = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// TestGolden maps every line of testdata/*.json and compares the events
// (or rejections) with testdata/*.golden. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, filepath.Join("testdata", "*.json"), func(t *testing.T, path string) []byte {
		var m Mapper
		return golden.MapLines(t, path, func(line []byte) (*schema.Event, error) {
			var ev schema.Event
			err := m.Map(line, received, &ev)
			return &ev, err
		})
	})
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

// TestSlipsEVE maps the 5,000-line Suricata EVE file of the Slips dataset
// (GPL-2.0, read in place, not copied) and checks the per-type counts its
// manifest gives and the fields every event of a type must have.
func TestSlipsEVE(t *testing.T) {
	t.Parallel()
	f, err := os.Open(shareddata.Path(t, "slips/dataset/test6-malicious.suricata.json"))
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
