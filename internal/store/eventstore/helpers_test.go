package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// openTest opens a file-backed store in a temporary directory.
func openTest(t testing.TB, o Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(context.Background(), path, o, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// fullEvent returns an event with every field set.
func fullEvent(seq uint64, idx int, ts time.Time) schema.Event {
	return schema.Event{
		ID:        schema.MakeID(seq, idx),
		Timestamp: ts,
		Received:  ts.Add(1500*time.Millisecond + 7),
		Input:     schema.InputWinlogbeat,
		Event: schema.EventMeta{
			Kind: "event", Category: []string{"authentication", "process"}, Type: []string{"start", ""},
			Action: "logon", Outcome: "failure", Dataset: "windows.security", Module: "windows",
			Provider: "Microsoft-Windows-Security-Auditing", Code: "4625", Severity: 3, Duration: 1234567,
		},
		Host: schema.Host{Name: "dc01", Hostname: "dc01.corp", IP: "10.0.0.5", OS: "windows",
			Asset: schema.Asset{ID: "a1", Name: "dc01", Role: "domain controller", Criticality: "critical"}},
		Source: schema.Endpoint{IP: "2001:db8::7", Port: 51515, Domain: "ws.corp", MAC: "00:11:22:33:44:55", Bytes: 1 << 40, Packets: 12,
			Geo: schema.Geo{CountryISOCode: "SE", CountryName: "Sweden", CityName: "Linköping"},
			AS:  schema.AS{Number: 29518, Organization: schema.ASOrg{Name: "Bredband2 AB"}}, Asset: schema.Asset{ID: "a2", Name: "ws", Role: "workstation", Criticality: "low"}},
		Destination: schema.Endpoint{IP: "192.168.7.1", Port: 445, Domain: "fs.corp", MAC: "66:77:88:99:aa:bb", Bytes: 99, Packets: 3,
			Geo: schema.Geo{CountryISOCode: "GB", CountryName: "United Kingdom", CityName: "Boxford"},
			AS:  schema.AS{Number: 1221, Organization: schema.ASOrg{Name: "Telstra"}}, Asset: schema.Asset{ID: "a3", Name: "fs", Role: "file server", Criticality: "high"}},
		Network: schema.Network{Transport: "tcp", Protocol: "smb", Direction: "internal", Bytes: 1<<40 + 99, Packets: 15, CommunityID: "1:abc="},
		User:    schema.User{Name: "Administrator", Domain: "CORP", ID: "S-1-5-21-1"},
		Process: schema.Process{PID: 4242, Name: "cmd.exe", Executable: `C:\Windows\System32\cmd.exe`, CommandLine: `cmd.exe /c "echo ünïcode"`,
			Parent: schema.ParentProcess{PID: 1, Name: "explorer.exe", Executable: `C:\Windows\explorer.exe`, CommandLine: "explorer.exe"}},
		File:     schema.File{Path: `C:\tmp\a.txt`, Name: "a.txt", Hash: schema.Hashes{MD5: "d41d8cd98f00b204e9800998ecf8427e", SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		DNS:      schema.DNS{Question: schema.DNSQuestion{Name: "example.com", Type: "A"}, ResponseCode: "NOERROR", Answers: []string{"93.184.216.34", "2606:2800::1"}},
		URL:      schema.URL{Full: "https://example.com/a?b=c", Domain: "example.com", Path: "/a"},
		Observer: schema.Observer{Name: "sensor1", Type: "ids", IP: "10.0.0.254"},
		Log:      schema.Log{Level: "warning", Logger: "Security", File: schema.LogFile{Path: "/var/log/x.evtx"}, Syslog: schema.LogSyslog{Facility: 4, Severity: 0, Present: true}},
		Message:  fmt.Sprintf("An account failed to log on (%d)\x00 tab\t\"quote\" ✓", idx),
		Fields: schema.Fields{
			{Key: "EventID", Value: "4625"}, {Key: "Event.System.Provider", Value: "Microsoft-Windows-Security-Auditing"},
			{Key: "dup", Value: "1"}, {Key: "dup", Value: "2"}, {Key: "weird \"key\"\n/~", Value: "\x01\u2028ü"}, {Key: "empty", Value: ""},
		},
		Original: `{"EventID":4625,"msg":"An account failed"}`,
	}
}

// smallEvent returns a realistic Zeek connection event of about 500 bytes
// (as JSON).
func smallEvent(seq uint64, idx int, ts time.Time) schema.Event {
	return schema.Event{
		ID: schema.MakeID(seq, idx), Timestamp: ts, Received: ts.Add(time.Second), Input: schema.InputZeek,
		Event:       schema.EventMeta{Kind: "event", Category: []string{"network"}, Type: []string{"connection"}, Dataset: "zeek.conn", Module: "zeek"},
		Source:      schema.Endpoint{IP: fmt.Sprintf("10.0.%d.%d", idx%256, (idx/256)%256), Port: 40000 + idx%20000, Bytes: int64(idx)},
		Destination: schema.Endpoint{IP: "192.168.1.10", Port: []int{22, 53, 80, 443, 3389}[idx%5], Bytes: 512},
		Network:     schema.Network{Transport: "tcp", Protocol: "http"},
		Fields:      schema.Fields{{Key: "uid", Value: fmt.Sprintf("C%016x", idx)}, {Key: "conn_state", Value: "SF"}},
		Message:     "",
		Original:    fmt.Sprintf(`{"ts":%d.123456,"uid":"C%016x","id.resp_p":443,"orig_bytes":%d,"conn_state":"SF"}`, ts.Unix(), idx, idx),
	}
}

// assertAllFieldsSet fails when any leaf field of v is its zero value, so
// the round-trip test covers fields added to schema.Event later.
func assertAllFieldsSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if _, ok := v.Interface().(time.Time); ok {
			if v.Interface().(time.Time).IsZero() {
				t.Errorf("%s is zero", path)
			}
			return
		}
		for i := range v.NumField() {
			assertAllFieldsSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		if v.IsZero() && !strings.HasSuffix(path, ".Syslog.Severity") {
			t.Errorf("%s is zero", path)
		}
	}
}

func day(d int) time.Time { return time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC) }

func mustWrite(t testing.TB, s *Store, evs []schema.Event, cp uint64) {
	t.Helper()
	if err := s.Write(context.Background(), evs, cp); err != nil {
		t.Fatal(err)
	}
}

func mustCount(t testing.TB, s *Store, from, to time.Time, q string) int64 {
	t.Helper()
	n, err := s.Count(context.Background(), from, to, q)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
