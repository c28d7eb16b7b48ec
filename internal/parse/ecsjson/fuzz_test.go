package ecsjson

import (
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// FuzzMap checks that no input panics, that rejections carry a reason, and
// that accepted events keep the record, bounded valid-UTF-8 fields.
func FuzzMap(f *testing.F) {
	golden.SeedLines(f, filepath.Join("testdata", "*.ndjson"))
	var m Mapper
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev schema.Event
		err := m.Map(rec, schema.InputNDJSON, received, &ev)
		if err != nil {
			switch parse.Reason(err) {
			case parse.ReasonInvalidJSON, parse.ReasonEmpty, parse.ReasonInvalidUTF8, parse.ReasonBadTimestamp:
			default:
				t.Fatalf("Map(%q): reason %q: %v", rec, parse.Reason(err), err)
			}
			return
		}
		if ev.Original != string(rec) {
			t.Fatalf("Original %q, want %q", ev.Original, rec)
		}
		if len(ev.Fields) > MaxFields {
			t.Fatalf("%d fields", len(ev.Fields))
		}
		if ev.Timestamp.IsZero() {
			t.Fatalf("no time stamp")
		}
		for _, fl := range ev.Fields {
			if !utf8.ValidString(fl.Key) || !utf8.ValidString(fl.Value) {
				t.Fatalf("invalid UTF-8 field %q=%q from %q", fl.Key, fl.Value, rec)
			}
		}
	})
}
