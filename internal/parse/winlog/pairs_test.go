package winlog

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
)

// readEVTXFile returns the events and rejects of an .evtx file.
func readEVTXFile(t *testing.T, path string) ([]schema.Event, []error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []schema.Event
	var bad []error
	err = ReadEVTX(context.Background(), f, pairReceived, func(ev *schema.Event) error {
		evs = append(evs, *ev)
		return nil
	}, func(err error) { bad = append(bad, err) })
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs, bad
}

// readEvtxJSONFile returns the events of an evtx_dump-style .json file,
// after replacing the text old by new in it.
func readEvtxJSONFile(t *testing.T, path string, fix erratum) []schema.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fix.jsonText != "" {
		if !strings.Contains(string(data), fix.jsonText) {
			t.Fatalf("%s: the known erratum %q is not in the file any more", path, fix.jsonText)
		}
		data = []byte(strings.Replace(string(data), fix.jsonText, fix.evtxText, 1))
	}
	objs, err := SplitJSONObjects(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var m Mapper
	evs := make([]schema.Event, len(objs))
	for i, o := range objs {
		if err := m.MapEvtxJSON(o, pairReceived, &evs[i]); err != nil {
			t.Fatalf("%s object %d: %v", path, i, err)
		}
	}
	return evs
}

var pairReceived = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// erratum is a difference between an .evtx file and its .json twin that is
// in Sigma's data itself: the JSON text jsonText stands where the binary
// file holds evtxText (the binary was checked byte for byte). field names
// the event field that shows it.
type erratum struct {
	field, jsonText, evtxText, value string
}

// evtxFiles lists the .evtx files under root.
func evtxFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no .evtx files")
	}
	return files
}

// TestEVTXMatchesJSON reads every .evtx of Sigma's regression data and
// requires the same events as its evtx_dump .json twin, field by field.
func TestEVTXMatchesJSON(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "sigma/regression_data")
	files := evtxFiles(t, root)
	errata := map[string]erratum{
		// The JSON was edited: the EVTX record says Explorer.EXE.
		"rules/windows/process_creation/proc_creation_win_susp_right_to_left_override/ad691d92-15f2-4181-9aa4-723c74f9ddc3": {
			field:    "ParentCommandLine",
			jsonText: `"ParentCommandLine": "C:\\Windows\\Explorer.exe"`,
			evtxText: `"ParentCommandLine": "C:\\Windows\\Explorer.EXE"`,
			value:    `C:\Windows\Explorer.EXE`,
		},
	}
	matched, corrected, events := 0, 0, 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		evs, bad := readEVTXFile(t, f)
		for _, b := range bad {
			t.Errorf("%s: rejected: %v", rel, b)
		}
		fix, hasFix := errata[strings.TrimSuffix(rel, ".evtx")]
		if hasFix {
			if len(evs) == 0 || func() bool { v, _ := evs[0].Fields.Get(fix.field); return v != fix.value }() {
				t.Errorf("%s: the EVTX file does not hold %s=%q", rel, fix.field, fix.value)
			}
			corrected++
		}
		jevs := readEvtxJSONFile(t, strings.TrimSuffix(f, ".evtx")+".json", fix)
		if len(evs) != len(jevs) {
			t.Errorf("%s: %d EVTX events, %d JSON events", rel, len(evs), len(jevs))
			continue
		}
		ok := true
		for i := range evs {
			a, b := evs[i], jevs[i]
			a.Input, b.Input = "", ""
			if d := schema.Diff(&a, &b); len(d) > 0 {
				ok = false
				t.Errorf("%s event %d differs:\n  %s", rel, i, strings.Join(d, "\n  "))
			}
		}
		events += len(evs)
		if ok {
			matched++
		}
	}
	t.Logf("%d of %d EVTX/JSON pairs match (%d events); %d after correcting a known erratum of the JSON",
		matched, len(files), events, corrected)
	if len(files) != 202 || events != 238 {
		t.Errorf("%d files, %d events; the manifest lists 202 and 238", len(files), events)
	}
	if matched != len(files) {
		t.Errorf("%d pairs differ", len(files)-matched)
	}
}
