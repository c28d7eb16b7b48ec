package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// LineResult is the outcome of one input line in a golden file: the event
// it mapped to, or the rejected line with its reason code and error.
type LineResult struct {
	Line   int           `json:"line"`
	Event  *schema.Event `json:"event,omitempty"`
	Input  string        `json:"input,omitempty"`
	Reason string        `json:"reason,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// MapLines calls mapLine on every line of the file at path (the final
// newline does not start another line) and returns the outcomes as an
// indented JSON array of LineResult followed by a newline, ready for Check.
// mapLine returns the line's event or its error; the event must stay as
// returned until MapLines returns.
func MapLines(t testing.TB, path string, mapLine func(line []byte) (*schema.Event, error)) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []LineResult
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		r := LineResult{Line: i + 1}
		if ev, err := mapLine([]byte(line)); err != nil {
			r.Input, r.Reason, r.Error = line, parse.Reason(err), err.Error()
		} else {
			r.Event = ev
		}
		out = append(out, r)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// SeedLines adds every line of every file matching pattern to the fuzz
// corpus of f, the empty line after a final newline included.
func SeedLines(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add([]byte(line))
		}
	}
}
