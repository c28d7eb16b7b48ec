package winlog

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestSplitJSONObjects checks splitting of concatenated JSON objects.
func TestSplitJSONObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
		bad  bool
	}{
		{"one", `{"a":1}`, []string{`{"a":1}`}, false},
		{"pretty back to back", "{\n  \"a\": {\"b\": 1}\n}\n{\n  \"c\": \"}{\"\n}\n", []string{"{\n  \"a\": {\"b\": 1}\n}", "{\n  \"c\": \"}{\"\n}"}, false},
		{"escaped quote", `{"a":"x\"}"}{"b":[1,{"c":2}]}`, []string{`{"a":"x\"}"}`, `{"b":[1,{"c":2}]}`}, false},
		{"comma separated", `{"a":1},{"b":2}`, []string{`{"a":1}`, `{"b":2}`}, false},
		{"stray bytes", `junk {"a":1} more {"b":2}`, []string{`{"a":1}`, `{"b":2}`}, true},
		{"cut off", `{"a":1}{"b":`, []string{`{"a":1}`}, true},
		{"mismatched bracket", `{]{"a":[1]}`, []string{`{"a":[1]}`}, true},
		{"empty", " \n ", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SplitJSONObjects([]byte(tc.in))
			if (err != nil) != tc.bad || (err != nil && parse.Reason(err) != parse.ReasonInvalidJSON) {
				t.Errorf("error %v, want bad=%v", err, tc.bad)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Errorf("object %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestMapEvtxJSONForms checks the evtx_dump JSON forms: qualifiers, unnamed and nested data, UserData.
func TestMapEvtxJSONForms(t *testing.T) {
	t.Parallel()
	const sys = `"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},` +
		`"Level":4,"Keywords":"0x8080000000000000","TimeCreated":{"#attributes":{"SystemTime":"2024-02-03T04:05:06.1234567Z"}},"Channel":"System","Computer":"h1"}`
	tests := []struct {
		name, data string
		want       map[string]string
	}{
		{"qualifiers and named data", `{"Event":{` + sys + `,"EventData":{"ServiceName":"evil","ImagePath":"C:\\evil.exe\r\n","StartType":"auto start","Id":"5770385F-C22A-43E0-BF4C-06F5698FFBD9"}}}`,
			map[string]string{"EventID": "7045", "ServiceName": "evil", "ImagePath": `C:\evil.exe`, "Id": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
				"@timestamp": "2024-02-03T04:05:06.123456Z", "event.dataset": "windows.system", "log.level": "information", "Provider_Name": "Service Control Manager"}},
		{"unnamed data", `{"Event":{` + sys + `,"EventData":{"Data":{"#text":["Available","None","\tNewEngineState=Available\r\n\tHostName=ConsoleHost"]}}}}`,
			map[string]string{"param1": "Available", "param3": "\tNewEngineState=Available\n\tHostName=ConsoleHost",
				"Data": "Available\nNone\n\tNewEngineState=Available\n\tHostName=ConsoleHost"}},
		{"single unnamed", `{"Event":{` + sys + `,"EventData":{"Data":"only"}}}`, map[string]string{"param1": "only", "Data": "only"}},
		{"null and nested data", `{"Event":{` + sys + `,"EventData":{"A":null,"B":{"C":1},"Binary":"0A0B"}}}`,
			map[string]string{"A": "", "B.C": "1", "Binary": "0A0B"}},
		{"user data", `{"Event":{` + sys + `,"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"x"},"SubjectUserName":"bob","Deep":{"X":"y"}}}}}`,
			map[string]string{"SubjectUserName": "bob", "Deep.X": "y", "xmlns": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			if err := MapEvtxJSON([]byte(tc.data), goldenReceived, &ev); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got, _ := ev.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestMapRejects checks the reject reasons of bad JSON records of both mappers.
func TestMapRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, reason string
		winlogbeat         bool
	}{
		{"empty", "", parse.ReasonEmpty, false},
		{"not json", "<Event/>", parse.ReasonInvalidJSON, false},
		{"array", "[]", parse.ReasonInvalidJSON, false},
		{"no event", `{"System":{}}`, parse.ReasonMissingField, false},
		{"no system", `{"Event":{"EventData":{}}}`, parse.ReasonMissingField, false},
		{"no event id", `{"Event":{"System":{"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}}}}}`, parse.ReasonMissingField, false},
		{"no time", `{"Event":{"System":{"EventID":1}}}`, parse.ReasonBadTimestamp, false},
		{"bad time", `{"Event":{"System":{"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"yesterday"}}}}}`, parse.ReasonBadTimestamp, false},
		{"invalid utf8", "{\"Event\":\"\xff\"}", parse.ReasonInvalidUTF8, false},
		{"wb no timestamp", `{"winlog":{"event_id":"4624"}}`, parse.ReasonMissingField, true},
		{"wb bad timestamp", `{"@timestamp":"now","winlog":{"event_id":"4624"}}`, parse.ReasonBadTimestamp, true},
		{"wb no event id", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{}}`, parse.ReasonMissingField, true},
		{"wb truncated", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{`, parse.ReasonInvalidJSON, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			var err error
			if tc.winlogbeat {
				err = MapWinlogbeat([]byte(tc.data), goldenReceived, &ev)
			} else {
				err = MapEvtxJSON([]byte(tc.data), goldenReceived, &ev)
			}
			if got := parse.Reason(err); got != tc.reason {
				t.Errorf("reason %q (%v), want %q", got, err, tc.reason)
			}
		})
	}
}

// TestMapWinlogbeatForms checks Winlogbeat document forms and the ECS mapping table.
func TestMapWinlogbeatForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       map[string]string
	}{
		{"dotted keys and numbers", `{"@timestamp":"2024-01-01T00:00:00.5Z","winlog.event_id":4688,"winlog.channel":"Security",` +
			`"winlog.provider_name":"Microsoft-Windows-Security-Auditing","winlog.record_id":77,"winlog.process.pid":4,` +
			`"winlog.task":"Process Creation","winlog.opcode":"Info","log.level":"information","winlog.keywords":["Audit Success"],` +
			`"winlog.event_data":{"NewProcessName":"C:\\x\\a.exe","NewProcessId":"0x1f4","ProcessId":"0x10","CommandLine":"a.exe -x","ParentProcessName":"C:\\p.exe"}}`,
			map[string]string{"EventID": "4688", "EventRecordID": "77", "ProcessID": "4", "Task": "13312", "Opcode": "0", "Level": "0",
				"Keywords": "0x8020000000000000", "process.pid": "500", "process.name": "a.exe", "process.parent.pid": "16",
				"process.command_line": "a.exe -x", "event.outcome": "success", "event.category": "process", "@timestamp": "2024-01-01T00:00:00.5Z"}},
		{"time_created wins", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"time_created":"2024-01-01T00:00:00.1234567Z","event_id":"1"}}`,
			map[string]string{"@timestamp": "2024-01-01T00:00:00.123456Z"}},
		{"unknown names kept", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"9","provider_name":"P","task":"Odd Task","opcode":"Odd","keywords":["Mystery"]},"log":{"level":"Odd"}}`,
			map[string]string{"Task": "Odd Task", "Opcode": "Odd", "Keywords": "Mystery", "Level": "Odd", "log.level": "odd"}},
		{"params give Data", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"400","channel":"Windows PowerShell","event_data":{"param1":"Available","param2":"None"}}}`,
			map[string]string{"Data": "Available\nNone", "event.dataset": "windows.powershell"}},
		{"user data", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"1102","provider_name":"Microsoft-Windows-Eventlog","channel":"Security","user_data":{"SubjectUserName":"bob","SubjectDomainName":"CORP","xml_name":"LogFileCleared"}}}`,
			map[string]string{"SubjectUserName": "bob", "xml_name": "", "user.name": "bob", "user.domain": "CORP", "event.action": "audit-log-cleared"}},
		{"sysmon network", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"3","provider_name":"Microsoft-Windows-Sysmon","channel":"Microsoft-Windows-Sysmon/Operational","task":"Network connection detected (rule: NetworkConnect)",` +
			`"event_data":{"Image":"C:\\a.exe","ProcessId":"12","User":"CORP\\alice","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","SourcePort":"50000","DestinationIp":"198.51.100.7","DestinationPort":"443","DestinationHostname":"x.example"}}}`,
			map[string]string{"Task": "3", "source.ip": "10.0.0.5", "source.port": "50000", "destination.ip": "198.51.100.7", "destination.port": "443",
				"destination.domain": "x.example", "network.transport": "tcp", "network.direction": "egress", "user.name": "alice", "process.pid": "12", "Keywords": "0x8000000000000000"}},
		{"sysmon dns", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"22","provider_name":"Microsoft-Windows-Sysmon",` +
			`"event_data":{"QueryName":"x.example","QueryStatus":"0","QueryResults":"type:  5 edge.example;::ffff:192.0.2.1;192.0.2.2;"}}}`,
			map[string]string{"dns.question.name": "x.example", "dns.response_code": "NOERROR", "dns.answers": "edge.example,192.0.2.1,192.0.2.2", "network.protocol": "dns"}},
		{"kerberos", `{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"4768","provider_name":"Microsoft-Windows-Security-Auditing",` +
			`"event_data":{"TargetUserName":"bob","TargetDomainName":"CORP","Status":"0x6","IpAddress":"::ffff:10.1.2.3","IpPort":"50123"}}}`,
			map[string]string{"event.outcome": "failure", "source.ip": "10.1.2.3", "source.port": "50123", "user.name": "bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev schema.Event
			if err := MapWinlogbeat([]byte(tc.data), goldenReceived, &ev); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got, _ := ev.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestDecodeTyped checks the rendering of binary XML value types.
func TestDecodeTyped(t *testing.T) {
	t.Parallel()
	le32 := func(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
	le64 := func(v uint64) []byte { b := make([]byte, 8); binary.LittleEndian.PutUint64(b, v); return b }
	ft := uint64(time.Date(2025, 11, 27, 7, 40, 10, 165324000, time.UTC).UnixNano()/100) + filetimeEpoch + 7
	tests := []struct {
		name string
		typ  byte
		in   []byte
		want string
	}{
		{"uint8", typeUint8, []byte{200}, "200"},
		{"int8", typeInt8, []byte{0xff}, "-1"},
		{"int16", typeInt16, []byte{0xfe, 0xff}, "-2"},
		{"int32", typeInt32, le32(0xfffffffd), "-3"},
		{"uint32", typeUint32, le32(4460), "4460"},
		{"uint64", typeUint64, le64(2251799813691708), "2251799813691708"},
		{"hex32", typeHex32, le32(0x80041003), "0x80041003"},
		{"hex64", typeHex64, le64(0x8000000000000000), "0x8000000000000000"},
		{"size_t", typeSizeT, le64(0x3e7), "0x3e7"},
		{"bool", typeBool, le32(1), "true"},
		{"real64", typeReal64, le64(0x3ff8000000000000), "1.5"},
		{"guid", typeGUID, []byte{0x5F, 0x38, 0x70, 0x57, 0x2A, 0xC2, 0xE0, 0x43, 0xBF, 0x4C, 0x06, 0xF5, 0x69, 0x8F, 0xFB, 0xD9}, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"},
		{"sid", typeSID, []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}, "S-1-5-18"},
		{"filetime", typeFile, le64(ft), "2025-11-27T07:40:10.165324Z"},
		{"systemtime", typeSysTime, []byte{0xe9, 7, 11, 0, 4, 0, 27, 0, 7, 0, 40, 0, 10, 0, 132, 0}, "2025-11-27T07:40:10.132000Z"},
		{"binary", typeBinary, []byte{0x0a, 0xbc}, "0ABC"},
		{"ansi", typeAnsi, []byte("abc\x00"), "abc"},
		{"string array", typeString | typeArrayBit, []byte("a\x00b\x00\x00\x00c\x00\x00\x00"), "ab,c"},
		{"uint16 array", typeUint16 | typeArrayBit, []byte{1, 0, 2, 0}, "1,2"},
		{"wrong size", typeUint32, []byte{1, 2}, "0102"},
	}
	for _, tc := range tests {
		if got := decodeTyped(tc.typ, tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCanonValue checks value canonicalisation.
func TestCanonValue(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Advapi  ":                               "Advapi",
		"a\r\nb\r\n":                             "a\nb",
		"0197231E-005A-6928-A50B-000000000D00":   "{0197231E-005A-6928-A50B-000000000D00}",
		"{0197231E-005A-6928-A50B-000000000D00}": "{0197231E-005A-6928-A50B-000000000D00}",
		"0197231E-005A-6928-A50B-000000000D0":    "0197231E-005A-6928-A50B-000000000D0",
		"  leading kept":                         "  leading kept",
	}
	for in, want := range tests {
		if got := canonValue(in); got != want {
			t.Errorf("canonValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNames checks the reverse mapping of Winlogbeat's rendered names and channel datasets.
func TestNames(t *testing.T) {
	t.Parallel()
	kw := func(s string) string {
		var p fastjson.Parser
		v, err := p.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return keywordsNumber(v, "Security")
	}
	tests := []struct{ got, want string }{
		{levelNumber("Information", provSecurity), "0"},
		{levelNumber("information", "Microsoft-Windows-Sysmon"), "4"},
		{levelNumber("Warning", ""), "3"},
		{levelNumber("4", ""), "4"},
		{opcodeNumber("Info"), "0"},
		{opcodeNumber("Stop"), "2"},
		{taskNumber("Logon", provSecurity, "4625"), "12544"},
		{taskNumber("Special Logon", provSecurity, "4672"), "12548"},
		{taskNumber("Whatever", provSysmon, "13"), "13"},
		{taskNumber("12544", provSecurity, "4624"), "12544"},
		{kw(`["Audit Failure"]`), "0x8010000000000000"},
		{kw(`["Audit Success","Classic"]`), "0x80a0000000000000"},
		{kw(`"0x8020000000000000"`), "0x8020000000000000"},
		{kw(`null`), "0x8000000000000000"},
		{channelOf("Microsoft-Windows-TaskScheduler/Operational").dataset, "windows.taskscheduler_operational"},
		{channelOf("Microsoft-Windows-Windows Defender/Operational").dataset, "windows.windows_defender_operational"},
		{channelOf("Security").module, "windows"},
		{channelOf("///").dataset, "windows"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: %q, want %q", i, tc.got, tc.want)
		}
	}
	if s := strings.Join([]string{itoa(0), itoa(7), itoa(12), itoa(-34)}, ","); s != "0,7,12,-34" {
		t.Errorf("itoa: %s", s)
	}
}
