package importer

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// collectSink keeps what the importer submits; rejectLog what it rejects.
type collectSink struct {
	mu  sync.Mutex
	evs []schema.Event
}

func (c *collectSink) Submit(_ context.Context, evs []schema.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, evs...)
	return nil
}

type rejectLog struct {
	mu sync.Mutex
	rs []ingest.Reject
}

func (r *rejectLog) Record(x ingest.Reject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rs = append(r.rs, x)
}

func runImport(t *testing.T, format auto.Format, paths ...string) (Summary, *collectSink, *rejectLog) {
	t.Helper()
	sink, rej := &collectSink{}, &rejectLog{}
	im := New(sink, rej, Options{Format: format, BatchSize: 100,
		Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	sum, err := im.Run(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	return sum, sink, rej
}

func write(t *testing.T, path, content string, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	if gz {
		zw := gzip.NewWriter(f)
		defer zw.Close()
		w = zw
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
}

const zeekConn = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n" +
	"1700000000.000000\tC1\t10.0.0.1\t5000\t10.0.0.2\t443\ttcp\tssl\t1.5\t100\t200\tSF\n" +
	"1700000001.000000\tC2\t10.0.0.1\t5001\t10.0.0.3\t53\tudp\tdns\t0.1\t40\t80\tSF\n"

func TestImportMixedFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.ndjson"), `{"@timestamp":"2026-11-19T10:00:00Z","message":"one","host":{"name":"a"}}`+"\n"+
		"not json at all\n\n"+`{"@timestamp":"2026-11-19T10:00:01Z","message":"two"}`+"\n"+`[1,2]`+"\n", false)
	write(t, filepath.Join(dir, "zeek", "conn.log.gz"), zeekConn, true)
	write(t, filepath.Join(dir, "auth.log"), "Nov 19 10:00:00 bastion sshd[99]: Failed password for root from 203.0.113.5 port 4242 ssh2\n"+
		"Nov 19 10:00:05 bastion sshd[99]: Accepted publickey for alice from 10.0.0.7 port 5050 ssh2: ED25519 SHA256:abc\n", false)
	write(t, filepath.Join(dir, "eve.json"), `{"timestamp":"2026-11-19T10:00:00.000000+0000","event_type":"alert","src_ip":"10.0.0.9","src_port":1234,"dest_ip":"8.8.8.8","dest_port":53,"proto":"UDP","alert":{"signature":"ET TEST","signature_id":1,"severity":2}}`+"\n", false)
	write(t, filepath.Join(dir, ".hidden"), "skipped", false)
	sum, sink, rej := runImport(t, auto.FormatAuto, dir)
	if sum.Files != 4 || sum.Read != 9 || sum.Stored != 7 || sum.Rejected != 2 || sum.ByReason["invalid_json"] != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	want := map[string]int64{"ndjson": 2, "zeek-tsv": 2, "syslog": 2, "eve": 1}
	if !reflect.DeepEqual(sum.ByFormat, want) {
		t.Fatalf("by format = %v, want %v", sum.ByFormat, want)
	}
	if len(rej.rs) != 2 || !strings.Contains(rej.rs[0].Detail, "app.ndjson:") {
		t.Fatalf("rejects = %+v", rej.rs)
	}
	byInput := map[string]int{}
	for _, ev := range sink.evs {
		byInput[ev.Input]++
		if ev.Log.File.Path == "" {
			t.Fatalf("event without log.file.path: %+v", ev)
		}
	}
	if byInput[schema.InputZeek] != 2 || byInput[schema.InputSyslog] != 2 || byInput[schema.InputSuricata] != 1 {
		t.Fatalf("events by input = %v", byInput)
	}
}

func TestImportOversizedLineKeepsNeighbours(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := `{"message":"` + strings.Repeat("x", 3<<20) + `"}`
	write(t, filepath.Join(dir, "big.ndjson"), `{"message":"before"}`+"\n"+big+"\n"+`{"message":"after"}`+"\n", false)
	sum, sink, _ := runImport(t, auto.FormatNDJSON, dir)
	if sum.Stored != 2 || sum.Rejected != 1 || sum.ByReason["oversized"] != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if sink.evs[0].Message != "before" || sink.evs[1].Message != "after" {
		t.Fatalf("neighbours = %q, %q", sink.evs[0].Message, sink.evs[1].Message)
	}
}

func TestImportBadGzipIsAFileError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "broken.log.gz"), "\x1f\x8bnot really gzip", false)
	write(t, filepath.Join(dir, "good.ndjson"), `{"message":"ok"}`+"\n", false)
	sum, _, _ := runImport(t, auto.FormatAuto, dir)
	if sum.Stored != 1 || len(sum.FileErrors) != 1 || !strings.Contains(sum.FileErrors[0], "broken.log.gz") {
		t.Fatalf("summary = %+v", sum)
	}
}

// TestConformanceZeekTSVvsJSON imports the same WRCCDC traffic as Zeek TSV
// and as Zeek JSON and requires identical counts per log type.
func TestConformanceZeekTSVvsJSON(t *testing.T) {
	t.Parallel()
	base := shareddata.Path(t, "zeek/wrccdc")
	tsv, tsvEvs, _ := runImport(t, auto.FormatAuto, filepath.Join(base, "zeek-default"))
	js, jsonEvs, _ := runImport(t, auto.FormatAuto, filepath.Join(base, "zeek-json"))
	if tsv.Rejected != 0 || js.Rejected != 0 {
		t.Fatalf("rejects: tsv %v, json %v", tsv.ByReason, js.ByReason)
	}
	count := func(evs []schema.Event) map[string]int {
		m := map[string]int{}
		for _, ev := range evs {
			m[ev.Event.Dataset]++
		}
		return m
	}
	a, b := count(tsvEvs.evs), count(jsonEvs.evs)
	if len(a) != 32 {
		t.Errorf("TSV gave %d log types, want 32", len(a))
	}
	types := make([]string, 0, len(a))
	for k := range a {
		types = append(types, k)
	}
	sort.Strings(types)
	for _, k := range types {
		if a[k] != b[k] {
			t.Errorf("%s: TSV %d records, JSON %d", k, a[k], b[k])
		}
	}
	if a["zeek.dns"] != 53615 || a["zeek.ssl"] != 49474 || a["zeek.syslog"] != 2378 {
		t.Errorf("counts differ from the manifest: dns %d ssl %d syslog %d", a["zeek.dns"], a["zeek.ssl"], a["zeek.syslog"])
	}
	t.Logf("%d log types, %d records, identical counts in TSV and JSON", len(a), tsv.Stored)
}

// TestConformanceZeekEdgeCases imports Zeek logs that importers get wrong:
// every file is read, valid records are kept, the rest reported.
func TestConformanceZeekEdgeCases(t *testing.T) {
	t.Parallel()
	base := shareddata.Path(t, "zeek/edgecases/test_data")
	sum, _, rej := runImport(t, auto.FormatAuto, base)
	if sum.Files == 0 || sum.Stored == 0 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, r := range rej.rs {
		if r.Reason == "" || r.Detail == "" {
			t.Fatalf("reject without reason: %+v", r)
		}
	}
	t.Logf("edge cases: %d files, %d stored, %d rejected %v, file errors %v", sum.Files, sum.Stored, sum.Rejected,
		sum.ByReason, sum.FileErrors)
}

// TestConformanceEVTXTwins imports every regression .evtx and its .json twin
// and requires the same events.
func TestConformanceEVTXTwins(t *testing.T) {
	t.Parallel()
	base := shareddata.Path(t, "sigma/regression_data")
	evtx, _ := filepath.Glob(filepath.Join(base, "*", "*", "*", "*", "*.evtx"))
	more, _ := filepath.Glob(filepath.Join(base, "*", "*", "*", "*", "*", "*.evtx"))
	evtx = append(evtx, more...)
	more, _ = filepath.Glob(filepath.Join(base, "*", "*", "*", "*", "*", "*", "*.evtx"))
	evtx = append(evtx, more...)
	if len(evtx) < 150 {
		t.Fatalf("found only %d .evtx samples", len(evtx))
	}
	// Samples whose .json twin does not say what the .evtx says.
	knownDiffer := map[string]string{
		"ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx": "the twin has ParentCommandLine Explorer.exe; the .evtx has Explorer.EXE",
	}
	total := 0
	for _, p := range evtx {
		if why, ok := knownDiffer[filepath.Base(p)]; ok {
			t.Logf("%s: not compared: %s", filepath.Base(p), why)
			continue
		}
		_, a, _ := runImport(t, auto.FormatAuto, p)
		_, b, _ := runImport(t, auto.FormatAuto, strings.TrimSuffix(p, ".evtx")+".json")
		if len(a.evs) != len(b.evs) || len(a.evs) == 0 {
			t.Errorf("%s: %d events from .evtx, %d from .json", p, len(a.evs), len(b.evs))
			continue
		}
		for i := range a.evs {
			x, y := a.evs[i], b.evs[i]
			x.Input, y.Input = "", ""
			x.Original, y.Original = "", ""
			x.Log.File, y.Log.File = schema.LogFile{}, schema.LogFile{}
			if d := schema.Diff(&x, &y); len(d) > 0 {
				t.Errorf("%s event %d differs (evtx != json):\n  %s", p, i, strings.Join(d, "\n  "))
				break
			}
		}
		total += len(a.evs)
	}
	t.Logf("%d .evtx samples, %d events, equal to their .json twins", len(evtx), total)
}
