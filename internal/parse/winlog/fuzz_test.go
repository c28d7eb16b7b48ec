package winlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// checkMapped checks what every mapper promises: a *parse.Error on bad
// input, else a Windows event with its EventID first.
func checkMapped(t *testing.T, ev *schema.Event, err error) bool {
	t.Helper()
	if err != nil {
		var pe *parse.Error
		if !errors.As(err, &pe) {
			t.Fatalf("non-parse error %v", err)
		}
		return false
	}
	if len(ev.Fields) == 0 || ev.Fields[0].Key != "EventID" || ev.Event.Code == "" || ev.Timestamp.IsZero() {
		t.Fatalf("event %+v", ev)
	}
	return true
}

// FuzzMapWinlogbeat feeds arbitrary documents to MapWinlogbeat.
func FuzzMapWinlogbeat(f *testing.F) {
	for _, n := range []string{"4624", "4625", "sysmon1"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "winlogbeat_"+n+".json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"@timestamp":"2024-01-01T00:00:00Z","winlog.event_id":4688,"winlog":{"keywords":"0x8020000000000000","event_data":{"param1":"a","param2":["b",1]}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var m Mapper
		var a, b schema.Event
		if !checkMapped(t, &a, m.MapWinlogbeat(doc, goldenReceived, &a)) {
			return
		}
		if err := m.MapWinlogbeat(doc, goldenReceived, &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("mapping is not deterministic: %v", err)
		}
	})
}

// FuzzMapEvtxJSON feeds arbitrary records to MapEvtxJSON, and streams to
// SplitJSONObjects.
func FuzzMapEvtxJSON(f *testing.F) {
	for _, n := range []string{"evtx_4624.json", "evtx_4625.json", "evtx_sysmon1.json", "tasksched.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"Event":{"System":{"EventID":{"#text":1},"TimeCreated":{"SystemTime":"2024-01-01T00:00:00Z"}},"EventData":{"Data":{"#text":["a","b"]}},"UserData":{"X":{"Y":{"Z":1}}}}}`))
	f.Add([]byte(`{"Event":{}} {"Event":{"System":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := SplitJSONObjects(data)
		if err != nil && parse.Reason(err) != parse.ReasonInvalidJSON {
			t.Fatalf("split error %v", err)
		}
		var m Mapper
		for _, o := range objs {
			if len(o) == 0 || o[0] != '{' || o[len(o)-1] != '}' {
				t.Fatalf("object %q", o)
			}
			var ev schema.Event
			checkMapped(t, &ev, m.MapEvtxJSON(o, goldenReceived, &ev))
		}
		var ev schema.Event
		checkMapped(t, &ev, m.MapEvtxJSON(data, goldenReceived, &ev))
	})
}

// FuzzReadEVTX feeds arbitrary record bytes to ReadEVTX: the input is the
// record area of the one chunk of testdata/tasksched.evtx.gz, placed
// behind that file's file and chunk headers. ReadEVTX must not panic or
// fail, and must report every record it cannot decode.
func FuzzReadEVTX(f *testing.F) {
	file := fixtureEVTX(f)
	head := file[:4096+chunkHeaderLen]
	free := int(binary.LittleEndian.Uint32(file[4096+freeSpaceOff:]))
	f.Add(file[4096+chunkHeaderLen : 4096+free])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > chunkSize-chunkHeaderLen {
			body = body[:chunkSize-chunkHeaderLen]
		}
		data := make([]byte, 4096+chunkSize)
		copy(data, head)
		binary.LittleEndian.PutUint32(data[4096+freeSpaceOff:], uint32(chunkHeaderLen+len(body)))
		copy(data[4096+chunkHeaderLen:], body)
		n := 0
		err := ReadEVTX(context.Background(), bytes.NewReader(data), goldenReceived, func(ev *schema.Event) error {
			n++
			checkMapped(t, ev, nil)
			if ev.Input != schema.InputEVTX {
				t.Fatalf("input %q", ev.Input)
			}
			return nil
		}, func(err error) {
			if parse.Reason(err) != parse.ReasonBadEVTX {
				t.Fatalf("reject %v", err)
			}
		})
		if err != nil {
			t.Fatalf("ReadEVTX: %v", err)
		}
		if n > len(body)/minRecordSize {
			t.Fatalf("%d events from %d bytes", n, len(body))
		}
	})
}
