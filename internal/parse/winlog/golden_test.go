package winlog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/schema"
)

var goldenReceived = time.Date(2024, 5, 1, 10, 0, 6, 0, time.UTC)

func mapFile(t *testing.T, path string, f func(*Mapper, []byte, *schema.Event) error) schema.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Mapper
	var ev schema.Event
	if err := f(&m, data, &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

func mapWinlogbeatFile(t *testing.T, path string) schema.Event {
	return mapFile(t, path, func(m *Mapper, b []byte, ev *schema.Event) error {
		return m.MapWinlogbeat(b, goldenReceived, ev)
	})
}

func mapEvtxJSONFile(t *testing.T, path string) schema.Event {
	return mapFile(t, path, func(m *Mapper, b []byte, ev *schema.Event) error {
		return m.MapEvtxJSON(b, goldenReceived, ev)
	})
}

// TestGoldenWinlogbeat maps Winlogbeat 8.x documents of a 4624, a 4625 and
// a Sysmon 1 and requires (a) the golden event and (b) the same event as the
// evtx_dump form of the same Windows event. Input, Original and Message are
// left out of (b): Winlogbeat ships the rendered message, which the event
// log file does not hold.
func TestGoldenWinlogbeat(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"4624", "4625", "sysmon1"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wb := mapWinlogbeatFile(t, filepath.Join("testdata", "winlogbeat_"+name+".json"))
			ej := mapEvtxJSONFile(t, filepath.Join("testdata", "evtx_"+name+".json"))
			if wb.Input != schema.InputWinlogbeat || ej.Input != schema.InputEVTX {
				t.Errorf("inputs %q, %q", wb.Input, ej.Input)
			}
			if wb.Message == "" || ej.Message != "" {
				t.Errorf("messages %q, %q", wb.Message, ej.Message)
			}
			a, b := wb, ej
			a.Input, b.Input, a.Original, b.Original, a.Message = "", "", "", "", ""
			if d := schema.Diff(&a, &b); len(d) > 0 {
				t.Errorf("Winlogbeat and EVTX JSON events differ:\n  %s", strings.Join(d, "\n  "))
			}
			wb.Original = ""
			got, err := json.MarshalIndent(wb, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".golden.json"), append(got, '\n'))
		})
	}
}

// TestECSMapping checks the ECS fields of the golden events.
func TestECSMapping(t *testing.T) {
	t.Parallel()
	evs := map[string]schema.Event{}
	for _, name := range []string{"4624", "4625", "sysmon1"} {
		evs[name] = mapEvtxJSONFile(t, filepath.Join("testdata", "evtx_"+name+".json"))
	}
	tests := []struct{ ev, field, want string }{
		{"4624", "@timestamp", "2019-03-29T21:10:40.380542Z"},
		{"4624", "event.code", "4624"},
		{"4624", "event.provider", "Microsoft-Windows-Security-Auditing"},
		{"4624", "event.module", "windows"},
		{"4624", "event.dataset", "windows.security"},
		{"4624", "event.action", "logged-in"},
		{"4624", "event.category", "authentication"},
		{"4624", "event.type", "start"},
		{"4624", "event.outcome", "success"},
		{"4624", "log.logger", "Security"},
		{"4624", "log.level", "information"},
		{"4624", "host.name", "vagrant-2012-r2"},
		{"4624", "user.name", "vagrant"},
		{"4624", "user.domain", "VAGRANT-2012-R2"},
		{"4624", "user.id", "S-1-5-21-3541430928-2051711210-1391384369-1001"},
		{"4624", "source.ip", "192.168.56.20"},
		{"4624", "source.port", "49723"},
		{"4624", "source.domain", "WIN10-CLIENT"},
		{"4624", "process.executable", ""},
		{"4624", "Keywords", "0x8020000000000000"},
		{"4624", "Level", "0"},
		{"4624", "Task", "12544"},
		{"4624", "LogonType", "3"},
		{"4624", "LogonProcessName", "NtLmSsp"},
		{"4624", "LogonGuid", "{00000000-0000-0000-0000-000000000000}"},
		{"4624", "TargetLogonId", "0x1008e"},
		{"4624", "SecurityUserID", ""},
		{"4625", "event.outcome", "failure"},
		{"4625", "event.action", "logon-failed"},
		{"4625", "user.name", "administrator"},
		{"4625", "source.ip", "203.0.113.50"},
		{"4625", "Status", "0xc000006d"},
		{"sysmon1", "event.module", "sysmon"},
		{"sysmon1", "event.dataset", "windows.sysmon_operational"},
		{"sysmon1", "event.category", "process"},
		{"sysmon1", "event.type", "start"},
		{"sysmon1", "event.outcome", ""},
		{"sysmon1", "process.executable", `C:\Windows\System32\notepad.exe`},
		{"sysmon1", "process.name", "notepad.exe"},
		{"sysmon1", "process.pid", "3616"},
		{"sysmon1", "process.command_line", `"C:\Windows\system32\notepad.exe" C:\Users\vagrant\Desktop\notes.txt`},
		{"sysmon1", "process.parent.executable", `C:\Windows\explorer.exe`},
		{"sysmon1", "process.parent.pid", "4212"},
		{"sysmon1", "process.parent.command_line", `C:\Windows\Explorer.EXE`},
		{"sysmon1", "user.name", "vagrant"},
		{"sysmon1", "user.domain", "VAGRANT"},
		{"sysmon1", "file.hash.sha1", "b6d237154f2e528f0b503b58b025862d66b02b73"},
		{"sysmon1", "file.hash.md5", "0e61079d3283687d2e279272966ae99d"},
		{"sysmon1", "Hashes", "SHA1=B6D237154F2E528F0B503B58B025862D66B02B73,MD5=0E61079D3283687D2E279272966AE99D,SHA256=B0CE3DE31E3B3C3CF4E2D0D1A9D3F4C3E2E1D0C9B8A7F6E5D4C3B2A190807060,IMPHASH=C2F4C0D0B2E3A4F5061728394A5B6C7D"},
		{"sysmon1", "ProcessGuid", "{9F32B55F-7C4E-5F98-5803-000000000500}"},
		{"sysmon1", "SecurityUserID", "S-1-5-18"},
		{"sysmon1", "Keywords", "0x8000000000000000"},
		{"sysmon1", "Task", "1"},
		{"sysmon1", "ProcessID", "7144"},
		{"sysmon1", "ThreadID", "6876"},
		{"sysmon1", "EventRecordID", "20"},
		{"sysmon1", "Provider_Name", "Microsoft-Windows-Sysmon"},
	}
	for _, tc := range tests {
		ev := evs[tc.ev]
		if got, _ := ev.Get(tc.field); got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.ev, tc.field, got, tc.want)
		}
	}
}
