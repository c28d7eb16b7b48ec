package winlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// fixtureEVTX returns the bytes of testdata/tasksched.evtx.gz: a file with
// one chunk holding one TaskScheduler event 142.
func fixtureEVTX(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open("testdata/tasksched.evtx.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type evtxResult struct {
	evs []schema.Event
	bad []error
	err error
}

func readEVTXBytes(ctx context.Context, data []byte) evtxResult {
	var res evtxResult
	res.err = ReadEVTX(ctx, bytes.NewReader(data), goldenReceived, func(ev *schema.Event) error {
		res.evs = append(res.evs, *ev)
		return nil
	}, func(err error) { res.bad = append(res.bad, err) })
	return res
}

// TestReadEVTXFixture reads the copied fixture and compares it with its JSON twin.
func TestReadEVTXFixture(t *testing.T) {
	t.Parallel()
	res := readEVTXBytes(context.Background(), fixtureEVTX(t))
	if res.err != nil || len(res.bad) != 0 || len(res.evs) != 1 {
		t.Fatalf("err %v, bad %v, %d events", res.err, res.bad, len(res.evs))
	}
	ev := res.evs[0]
	want := mapEvtxJSONFile(t, "testdata/tasksched.json")
	ev.Input, want.Input, want.Original = "", "", ""
	ev.Received = want.Received
	if d := schema.Diff(&ev, &want); len(d) > 0 {
		t.Errorf("EVTX and JSON differ:\n  %s", strings.Join(d, "\n  "))
	}
	checks := map[string]string{
		"EventID": "142", "Channel": "Microsoft-Windows-TaskScheduler/Operational",
		"TaskName": `\Microsoft\Windows\SystemRestore\SR`, "UserName": "System",
		"event.dataset": "windows.taskscheduler_operational", "event.module": "windows",
		"input": "", "log.logger": "Microsoft-Windows-TaskScheduler/Operational",
	}
	for k, v := range checks {
		if got, _ := ev.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// corrupt returns a copy of data with f applied.
func corrupt(data []byte, f func(b []byte) []byte) []byte {
	return f(append([]byte(nil), data...))
}

// TestReadEVTXDamage checks that damaged files and records are reported, never panic, and that good chunks beside bad ones are read.
func TestReadEVTXDamage(t *testing.T) {
	t.Parallel()
	good := fixtureEVTX(t)
	const chunk = 4096
	rec := chunk + chunkHeaderLen
	tests := []struct {
		name      string
		data      []byte
		fileErr   bool // a *parse.Error for the whole file
		evs, bads int
	}{
		{"empty", nil, true, 0, 0},
		{"not evtx", []byte(strings.Repeat("not an event log ", 300)), true, 0, 0},
		{"bad version", corrupt(good, func(b []byte) []byte { b[0x26] = 9; return b }), true, 0, 0},
		{"header only", good[:chunk], false, 0, 0},
		{"chunk cut in its record", good[:rec+100], false, 0, 1},
		{"no chunk signature", corrupt(good, func(b []byte) []byte { b[chunk] = 'X'; return b }), false, 0, 1},
		{"record signature gone", corrupt(good, func(b []byte) []byte { b[rec] = 0; return b }), false, 0, 1},
		{"record size too big", corrupt(good, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[rec+4:], 1<<20)
			return b
		}), false, 0, 1},
		{"unknown token", corrupt(good, func(b []byte) []byte { b[rec+recordHeader] = 0x3f; return b }), false, 0, 1},
		{"template id zero", corrupt(good, func(b []byte) []byte {
			i := bytes.IndexByte(b[rec+recordHeader:], 0x0c) + rec + recordHeader
			binary.LittleEndian.PutUint32(b[i+2:], 0)
			return b
		}), false, 0, 1},
		{"garbage chunk before a good one", append(append(append([]byte(nil), good[:chunk]...),
			bytes.Repeat([]byte{0xAB}, chunkSize)...), good[chunk:]...), false, 1, 1},
		{"zero chunk before a good one", append(append(append([]byte(nil), good[:chunk]...),
			make([]byte, chunkSize)...), good[chunk:]...), false, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := readEVTXBytes(context.Background(), tc.data)
			var pe *parse.Error
			if gotFileErr := errors.As(res.err, &pe); gotFileErr != tc.fileErr || (res.err != nil && !gotFileErr) {
				t.Fatalf("error %v, want a file error: %v", res.err, tc.fileErr)
			}
			if tc.fileErr && pe.Reason != parse.ReasonBadEVTX {
				t.Errorf("reason %q", pe.Reason)
			}
			if len(res.evs) != tc.evs || len(res.bad) != tc.bads {
				t.Errorf("%d events, %d rejects %v; want %d, %d", len(res.evs), len(res.bad), res.bad, tc.evs, tc.bads)
			}
			for _, b := range res.bad {
				if parse.Reason(b) != parse.ReasonBadEVTX {
					t.Errorf("reject reason %q: %v", parse.Reason(b), b)
				}
			}
		})
	}
}

// TestReadEVTXCallbacks checks that fn's error and ctx's end stop the read.
func TestReadEVTXCallbacks(t *testing.T) {
	t.Parallel()
	data := fixtureEVTX(t)
	stop := errors.New("stop")
	err := ReadEVTX(context.Background(), bytes.NewReader(data), goldenReceived,
		func(*schema.Event) error { return stop }, nil)
	if !errors.Is(err, stop) {
		t.Errorf("fn error not returned: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := readEVTXBytes(ctx, data); !errors.Is(res.err, context.Canceled) || len(res.evs) != 0 {
		t.Errorf("cancelled read: %v, %d events", res.err, len(res.evs))
	}
}

// TestReadEVTXDamagedShared damages the first record of a three-record
// chunk from Sigma's data: every record is either decoded or reported.
func TestReadEVTXDamagedShared(t *testing.T) {
	t.Parallel()
	dir := shareddata.Path(t, "sigma/regression_data/rules/windows/process_creation/proc_creation_win_findstr_recon_everyone")
	files, _ := filepath.Glob(filepath.Join(dir, "*.evtx"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if res := readEVTXBytes(context.Background(), data); len(res.evs) != 3 || len(res.bad) != 0 {
		t.Fatalf("intact file: %d events, %v", len(res.evs), res.bad)
	}
	rec := 4096 + chunkHeaderLen
	size := int(binary.LittleEndian.Uint32(data[rec+4:]))
	// Overwrite the second half of the first record's body.
	bad := corrupt(data, func(b []byte) []byte {
		copy(b[rec+size/2:rec+size-4], bytes.Repeat([]byte{0xff}, size/2-4))
		return b
	})
	res := readEVTXBytes(context.Background(), bad)
	if res.err != nil || len(res.evs)+len(res.bad) < 3 || len(res.bad) == 0 {
		t.Errorf("damaged file: err %v, %d events, %d rejects %v", res.err, len(res.evs), len(res.bad), res.bad)
	}
	t.Logf("damaged first record: %d events decoded, %d rejects: %v", len(res.evs), len(res.bad), res.bad)

	// A bad token in the second record: the first and third still decode.
	second := rec + size
	bad = corrupt(data, func(b []byte) []byte { b[second+recordHeader] = 0x3f; return b })
	res = readEVTXBytes(context.Background(), bad)
	if res.err != nil || len(res.evs) != 2 || len(res.bad) != 1 {
		t.Fatalf("damaged second record: err %v, %d events, rejects %v", res.err, len(res.evs), res.bad)
	}
	want := readEvtxJSONFile(t, strings.TrimSuffix(files[0], ".evtx")+".json", erratum{})
	for i, j := range []int{0, 2} {
		a, b := res.evs[i], want[j]
		a.Input, b.Input, b.Original, b.Received = "", "", "", a.Received
		if d := schema.Diff(&a, &b); len(d) > 0 {
			t.Errorf("record %d differs from the JSON:\n  %s", j, strings.Join(d, "\n  "))
		}
	}
}
