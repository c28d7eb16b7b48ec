package zeek

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// TestConformanceWRCCDC reads every log type of the WRCCDC sample in both
// Zeek TSV and Zeek JSON and requires the same number of records and equal
// events, field by field.
func TestConformanceWRCCDC(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "zeek/wrccdc")
	tsvFiles, err := filepath.Glob(filepath.Join(root, "zeek-default", "*.log.gz"))
	if err != nil || len(tsvFiles) == 0 {
		t.Fatalf("no TSV logs under %s: %v", root, err)
	}
	sort.Strings(tsvFiles)
	if len(tsvFiles) != 32 {
		t.Errorf("found %d log types, the manifest lists 32", len(tsvFiles))
	}
	wantCounts := map[string]int{ // from MANIFEST.md
		"dns": 53615, "ssl": 49474, "weird": 24202, "analyzer": 16461, "rdp": 4122,
		"syslog": 2378, "notice": 207, "smtp": 1188,
	}
	for _, tf := range tsvFiles {
		logType := LogTypeFromFilename(tf)
		jf := filepath.Join(root, "zeek-json", logType+".json.gz")
		t.Run(logType, func(t *testing.T) {
			t.Parallel()
			n := compareFiles(t, tf, jf, logType)
			if want, ok := wantCounts[logType]; ok && n != want {
				t.Errorf("%s: %d records, the manifest says %d", logType, n, want)
			}
			if n == 0 {
				t.Errorf("%s: no records", logType)
			}
			t.Logf("%s: %d records", logType, n)
		})
	}
}

func openGzip(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return zr
}

// compareFiles reads a TSV log and its JSON twin in lockstep and returns the
// number of records.
func compareFiles(t *testing.T, tsvPath, jsonPath, logType string) int {
	received := time.Date(2024, 4, 12, 0, 0, 0, 0, time.UTC)
	tr := NewTSVReader(openGzip(t, tsvPath), Options{Received: received})
	sc := bufio.NewScanner(openGzip(t, jsonPath))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	m := NewMapper()
	var te, je schema.Event
	n, mismatches := 0, 0
	for {
		terr := tr.Next(&te)
		if terr != nil && !errors.Is(terr, io.EOF) {
			t.Fatalf("TSV line %d: %v", tr.Line(), terr)
		}
		more := sc.Scan()
		if errors.Is(terr, io.EOF) || !more {
			if !errors.Is(terr, io.EOF) || more {
				t.Fatalf("record counts differ after %d records (TSV ended: %v, JSON ended: %v)", n, errors.Is(terr, io.EOF), !more)
			}
			break
		}
		n++
		if err := m.Map(sc.Bytes(), logType, received, &je); err != nil {
			t.Fatalf("JSON record %d: %v", n, err)
		}
		if tr.Path() != logType {
			t.Fatalf("#path %q, want %q", tr.Path(), logType)
		}
		if d := schema.Diff(&te, &je); len(d) > 0 {
			mismatches++
			if mismatches <= 3 {
				t.Errorf("record %d (TSV line %d) differs:\n  %s", n, tr.Line(), strings.Join(d, "\n  "))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if mismatches > 0 {
		t.Errorf("%d of %d records differ", mismatches, n)
	}
	if !strings.HasPrefix(te.Event.Dataset, "zeek.") {
		t.Errorf("dataset %q", te.Event.Dataset)
	}
	return n
}
