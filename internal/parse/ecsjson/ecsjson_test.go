package ecsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

var received = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// TestGolden maps every line of testdata/*.ndjson and compares the events
// (or rejections) with testdata/*.golden. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, filepath.Join("testdata", "*.ndjson"), func(t *testing.T, path string) []byte {
		var m Mapper
		var ev schema.Event // reused across lines, as inputs do
		return golden.MapLines(t, path, func(line []byte) (*schema.Event, error) {
			if err := m.Map(line, schema.InputNDJSON, received, &ev); err != nil {
				return nil, err
			}
			cp := ev
			cp.Fields = append(schema.Fields(nil), ev.Fields...)
			return &cp, nil
		})
	})
}

func TestRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", parse.ReasonEmpty},
		{"invalid utf8", "{\"a\":\"\xff\"}", parse.ReasonInvalidUTF8},
		{"truncated", `{"a":`, parse.ReasonInvalidJSON},
		{"trailing garbage", `{"a":1} x`, parse.ReasonInvalidJSON},
		{"array", `[1]`, parse.ReasonInvalidJSON},
		{"string", `"s"`, parse.ReasonInvalidJSON},
		{"null", `null`, parse.ReasonInvalidJSON},
		{"bad @timestamp", `{"@timestamp":"20/Nov/2026"}`, parse.ReasonBadTimestamp},
		{"negative epoch", `{"@timestamp":-5}`, parse.ReasonBadTimestamp},
		{"array @timestamp", `{"@timestamp":["2026-11-20T10:00:00Z"]}`, parse.ReasonBadTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := schema.Event{Message: "stale", Fields: schema.Fields{{Key: "k", Value: "v"}}}
			err := Map([]byte(tc.in), schema.InputBulk, received, &ev)
			var pe *parse.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Map(%q) = %v, want a *parse.Error", tc.in, err)
			}
			if pe.Reason != tc.reason {
				t.Errorf("Map(%q) reason %q (%v), want %q", tc.in, pe.Reason, err, tc.reason)
			}
			if ev.Message != "" || len(ev.Fields) != 0 {
				t.Errorf("Map(%q) left a stale event: %+v", tc.in, ev)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rec  string
		want time.Time
	}{
		{`{"@timestamp":"2026-11-20T10:00:00Z"}`, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{`{"@timestamp":"2026-11-20T10:00:00.123456789+02:00"}`, time.Date(2026, 11, 20, 8, 0, 0, 123456789, time.UTC)},
		{`{"@timestamp":"2026-11-20T10:00:00.5-0130"}`, time.Date(2026, 11, 20, 11, 30, 0, 5e8, time.UTC)},
		{`{"@timestamp":1763632800123}`, time.Date(2025, 11, 20, 10, 0, 0, 123e6, time.UTC)},
		{`{"@timestamp":1763632800}`, time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)},
		{`{"@timestamp":1763632800123456}`, time.Date(2025, 11, 20, 10, 0, 0, 123456e3, time.UTC)},
		{`{"@timestamp":1763632800123456789}`, time.Date(2025, 11, 20, 10, 0, 0, 123456789, time.UTC)},
		{`{"@timestamp":1.7636328001e12}`, time.Date(2025, 11, 20, 10, 0, 0, 100e6, time.UTC)},
		{`{"ts":1763632800.000001}`, time.Date(2025, 11, 20, 10, 0, 0, 1000, time.UTC)},
		{`{"time":"bogus","date":1763632800}`, time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)},
		{`{"date":1763632800,"timestamp":"2026-01-02T03:04:05Z"}`, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`{"timestamp":"2026-02-30T00:00:00Z"}`, received},
		{`{"message":"none"}`, received},
		{`{"@timestamp":{"a":1}}`, received}, // an object flattens to @timestamp.a: no time key
	}
	for _, tc := range tests {
		var ev schema.Event
		if err := Map([]byte(tc.rec), schema.InputNDJSON, received, &ev); err != nil {
			t.Errorf("Map(%s): %v", tc.rec, err)
			continue
		}
		if !ev.Timestamp.Equal(tc.want) {
			t.Errorf("Map(%s) time %v, want %v", tc.rec, ev.Timestamp, tc.want)
		}
	}
}

func TestFieldsCapped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"message":"wide","nested":{`)
	for i := 0; i < 700; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	b.WriteString(`},"source":{"ip":"192.0.2.77"}}`)
	var ev schema.Event
	if err := Map([]byte(b.String()), schema.InputNDJSON, received, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Fields) != MaxFields {
		t.Fatalf("%d fields, want %d", len(ev.Fields), MaxFields)
	}
	if v, _ := ev.Fields.Get(FieldsDroppedKey); v != strconv.Itoa(702-(MaxFields-1)) {
		t.Errorf("%s = %q, want %d", FieldsDroppedKey, v, 702-(MaxFields-1))
	}
	if ev.Source.IP != "192.0.2.77" {
		t.Errorf("ECS field past the cap was lost: source.ip %q", ev.Source.IP)
	}
	if v, _ := ev.Fields.Get("nested.k0"); v != "0" {
		t.Errorf("nested.k0 = %q", v)
	}
}

// TestMapperMatchesMap checks that a reused Mapper gives the same events as
// fresh ones, so no state leaks from record to record.
func TestMapperMatchesMap(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.ndjson"))
	var m Mapper
	var reused schema.Event
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var fresh schema.Event
			err1 := Map([]byte(line), schema.InputBulk, received, &fresh)
			err2 := m.Map([]byte(line), schema.InputBulk, received, &reused)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s: Map %v, Mapper.Map %v", line, err1, err2)
			}
			a, _ := json.Marshal(fresh)
			b, _ := json.Marshal(reused)
			if !bytes.Equal(a, b) {
				t.Errorf("reused Mapper differs on %s:\n%s\n%s", line, a, b)
			}
		}
	}
}
