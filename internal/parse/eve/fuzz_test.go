package eve

import (
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/ecsjson"
	"github.com/vigil-soc/vigil/internal/schema"
)

// FuzzMap checks that no input panics, that rejections carry a reason and
// that accepted events are well formed.
func FuzzMap(f *testing.F) {
	golden.SeedLines(f, filepath.Join("testdata", "*.json"))
	var m Mapper
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev schema.Event
		err := m.Map(rec, received, &ev)
		if err != nil {
			switch parse.Reason(err) {
			case parse.ReasonInvalidJSON, parse.ReasonEmpty, parse.ReasonInvalidUTF8, parse.ReasonBadTimestamp,
				parse.ReasonMissingField:
			default:
				t.Fatalf("Map(%q): reason %q: %v", rec, parse.Reason(err), err)
			}
			return
		}
		if ev.Original != string(rec) || ev.Input != schema.InputSuricata || ev.Timestamp.IsZero() {
			t.Fatalf("bad event %+v from %q", ev, rec)
		}
		if len(ev.Fields) > ecsjson.MaxFields {
			t.Fatalf("%d fields", len(ev.Fields))
		}
		for _, s := range append([]string{ev.URL.Full, ev.DNS.Question.Name, ev.Message}, ev.DNS.Answers...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q from %q", s, rec)
			}
		}
	})
}
