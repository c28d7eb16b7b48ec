package zeek

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// importResult counts what importing one file gave.
type importResult struct {
	format  Format
	good    int
	bad     map[string]int // reject reason -> count
	path    string         // TSV #path of the last block
	lastErr string
}

func (r importResult) badTotal() int {
	n := 0
	for _, c := range r.bad {
		n += c
	}
	return n
}

// importFile imports a Zeek log the way an importer would: sniff the format,
// then read every record, counting rejects by reason and going on.
func importFile(t *testing.T, path string) importResult {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	res := importResult{format: Sniff(data), bad: map[string]int{}}
	received := time.Unix(1700000000, 0).UTC()
	var ev schema.Event
	note := func(err error) {
		res.bad[parse.Reason(err)]++
		res.lastErr = err.Error()
	}
	switch res.format {
	case FormatJSON:
		importJSON(t, data, LogTypeFromFilename(path), &res, note)
	default:
		tr := NewTSVReader(bytes.NewReader(data), Options{Received: received})
		for {
			err := tr.Next(&ev)
			if errors.Is(err, io.EOF) {
				break
			}
			var pe *parse.Error
			if errors.As(err, &pe) {
				note(err)
				continue
			}
			if err != nil {
				t.Fatalf("%s: I/O error %v", path, err)
			}
			res.good++
		}
		res.path = tr.Path()
	}
	return res
}

// importJSON maps the lines of a JSON log into res.
func importJSON(t *testing.T, data []byte, logType string, res *importResult, note func(error)) {
	t.Helper()
	m := NewMapper()
	var ev schema.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), parse.MaxRecordBytes)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := m.Map(sc.Bytes(), logType, time.Unix(1700000000, 0).UTC(), &ev); err != nil {
			note(err)
			continue
		}
		res.good++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestEdgeCasesRITA imports RITA's parser edge-case logs (GPL data, read in
// place, never copied): everything valid is imported, the rest rejected
// with a reason, and nothing panics.
func TestEdgeCasesRITA(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "zeek/edgecases/test_data")
	tests := []struct {
		file   string
		format Format
		good   int
		bad    map[string]int
	}{
		// JSON logs named .log, one object per line, with every field.
		{"json_with_all_fields/dns.log", FormatJSON, 34, nil},
		{"json_with_all_fields/conn.log", FormatJSON, 29, nil},
		{"json_with_all_fields/ssl.log", FormatJSON, 10, nil},
		// A TSV http.log whose header names a field Zeek does not have
		// (i_dont_exist, imported like any other); its line 9 has 29 of the
		// 30 columns.
		{"has_unknown_field/http.log", FormatTSV, 4, map[string]int{parse.ReasonBadZeek: 1}},
		// A text file named conn.log: its five lines are rejected.
		{"text_file/conn.log", FormatUnknown, 0, map[string]int{parse.ReasonBadZeek: 5}},
		// TSV cut off in the middle of its 59th record, and TSV data lines
		// without any header.
		{"truncated/conn.log", FormatTSV, 58, map[string]int{parse.ReasonBadZeek: 1}},
		{"truncated/conn_top.log", FormatUnknown, 0, map[string]int{parse.ReasonBadZeek: 59}},
		// JSON cut off in the middle of its fourth record.
		{"truncated/conn_json.log", FormatJSON, 3, map[string]int{parse.ReasonInvalidJSON: 1}},
		// Zeek's "open connection" logs and a rotated, gzipped log.
		{"open_conns/open/open_conn.log", FormatTSV, 59, nil},
		{"open_sni/open_ssl.18_00_00-19_00_00.log.gz", FormatTSV, 2, nil},
		{"proxy/dns.log", FormatTSV, 942, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			res := importFile(t, filepath.Join(root, tc.file))
			if res.format != tc.format {
				t.Errorf("format %v, want %v", res.format, tc.format)
			}
			if res.good != tc.good || !equalCounts(res.bad, tc.bad) {
				t.Errorf("imported %d, rejected %v (last: %s); want %d, %v", res.good, res.bad, res.lastErr, tc.good, tc.bad)
			}
		})
	}
}

// TestEdgeCasesRITAAll imports every file of the edge-case set and checks
// that each is either imported or rejected with a reason, never silently
// dropped.
func TestEdgeCasesRITAAll(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "zeek/edgecases/test_data")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		res := importFile(t, p)
		rel, _ := filepath.Rel(root, p)
		t.Logf("%-48s format=%d imported=%d rejected=%v", rel, res.format, res.good, res.bad)
		if res.good+res.badTotal() == 0 {
			t.Errorf("%s: nothing imported or rejected", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUnknownFieldKept checks that a field Zeek does not define is imported
// under its header name like any other.
func TestUnknownFieldKept(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "zeek/edgecases/test_data")
	f, err := os.Open(filepath.Join(root, "has_unknown_field/http.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := NewTSVReader(f, Options{})
	var ev schema.Event
	// Line 9, the first record, is one column short.
	if err := tr.Next(&ev); parse.Reason(err) != parse.ReasonBadZeek || tr.Line() != 9 {
		t.Fatalf("line %d: %v", tr.Line(), err)
	}
	if err := tr.Next(&ev); err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.Fields.Get("i_dont_exist"); !ok {
		t.Errorf("i_dont_exist missing from %v", ev.Fields)
	}
	if ev.URL.Domain != "ocsp.digicert.com" || !strings.HasPrefix(ev.URL.Full, "http://ocsp.digicert.com/MFEw") || ev.Event.Dataset != "zeek.http" {
		t.Errorf("url %+v, dataset %q", ev.URL, ev.Event.Dataset)
	}
}
