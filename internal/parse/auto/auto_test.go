package auto

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

func TestDetectFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, head string
		want       Format
	}{
		{"Security.evtx", "ElfFile\x00\x00\x00", FormatEVTX},
		{"conn.log", "#separator \\x09\n#set_separator\t,\n", FormatZeekTSV},
		{"dns.json", `{"_path":"dns","ts":"2024-01-01T00:00:00Z","uid":"C1"}` + "\n", FormatZeekJSON},
		{"conn.log", `{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1"}` + "\n", FormatZeekJSON},
		{"eve.json", `{"timestamp":"2026-01-01T00:00:00.000000+0000","event_type":"alert"}` + "\n", FormatEVE},
		{"wlb.ndjson", `{"@timestamp":"2026-01-01T00:00:00Z","winlog":{"event_id":"4624"}}` + "\n", FormatWinlogbeat},
		{"sample.json", "{\n  \"Event\": {\n    \"System\": {\n", FormatEVTXJSON},
		{"app.ndjson", `{"message":"hello","host":{"name":"a"}}` + "\n", FormatNDJSON},
		{"auth.log", "Nov 19 10:00:00 bastion sshd[99]: Accepted publickey for alice\n", FormatSyslog},
		{"syslog", "<34>1 2026-11-19T10:00:00Z host app - - - msg\n", FormatSyslog},
	}
	for _, c := range cases {
		if got := DetectFile(c.name, []byte(c.head)); got != c.want {
			t.Errorf("DetectFile(%q, %q) = %s, want %s", c.name, c.head, got, c.want)
		}
	}
}

func TestMapJSONDispatchesByShape(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		rec   string
		input string
	}{
		{`{"@timestamp":"2026-11-19T08:00:00Z","winlog":{"channel":"Security","event_id":"4625","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc","event_data":{"TargetUserName":"bob"}}}`, schema.InputWinlogbeat},
		{`{"timestamp":"2026-11-19T08:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP","dns":{"type":"query","rrname":"example.com"}}`, schema.InputSuricata},
		{`{"_path":"conn","ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp"}`, schema.InputZeek},
		{`{"@timestamp":"2026-11-19T08:00:00Z","message":"plain"}`, schema.InputBulk},
	}
	var m Mapper
	for _, c := range cases {
		var ev schema.Event
		if err := m.MapJSON([]byte(c.rec), FormatAuto, schema.InputBulk, "", now, &ev); err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		if ev.Input != c.input || ev.Timestamp.Year() < 2023 {
			t.Errorf("%s: input %q time %v, want input %q", c.rec, ev.Input, ev.Timestamp, c.input)
		}
	}
	var ev schema.Event
	for _, bad := range []string{`[1,2]`, `"x"`, `{"a":`} {
		if err := m.MapJSON([]byte(bad), FormatAuto, schema.InputNDJSON, "", now, &ev); parse.Reason(err) != parse.ReasonInvalidJSON {
			t.Errorf("%q: err %v, want invalid_json", bad, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml): want an error")
	}
}

func FuzzMapJSON(f *testing.F) {
	f.Add([]byte(`{"winlog":{"event_data":{"a":"b"}}}`))
	f.Add([]byte(`{"Event":{"System":{"EventID":1}}}`))
	f.Add([]byte(`{"event_type":"flow","timestamp":"x"}`))
	f.Add([]byte(`{"_path":"dns","ts":"bad"}`))
	var m Mapper
	now := time.Now()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev schema.Event
		_ = m.MapJSON(rec, FormatAuto, schema.InputNDJSON, "", now, &ev)
		_ = DetectFile("x.log", rec)
	})
}
