package zeek

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// FuzzTSV feeds arbitrary logs to the TSV reader: it must never panic or
// loop, must report bad records as *parse.Error and go on, and every event
// it returns must be a Zeek event.
func FuzzTSV(f *testing.F) {
	if b, err := os.ReadFile("testdata/sample.log"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("#separator \\x09\n#fields\tts\tq\n#types\ttime\tset[string]\n1.5\ta,b\\x2c\n"))
	f.Add([]byte("#separator \\x2c\n#set_separator,|\n#fields,ts,x\n#types,time,vector[double]\n1e10,1|2\n"))
	f.Add([]byte("#fields\tts\n#types\ttime\n-\n(empty)\n\\x2d\n"))
	f.Add([]byte("no header\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTSVReader(bytes.NewReader(data), Options{MaxLine: 4096})
		limit := bytes.Count(data, []byte{'\n'}) + 2
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("more than %d results from %d lines", i, limit-2)
			}
			var ev schema.Event
			err := tr.Next(&ev)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var pe *parse.Error
				if !errors.As(err, &pe) {
					t.Fatalf("non-parse error %v", err)
				}
				continue
			}
			if ev.Input != schema.InputZeek || !strings.HasPrefix(ev.Event.Dataset, "zeek") {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}

// FuzzJSON feeds arbitrary lines to the JSON mapper: it must never panic,
// must reject with a *parse.Error, and must map the same line the same way
// twice.
func FuzzJSON(f *testing.F) {
	golden.SeedLines(f, filepath.Join("testdata", "sample.json"))
	f.Add([]byte(`{"ts":"1925-01-19T23:49:33.112616Z","a":{"b":[1,null,{"c":2}]},"d":1e308}`))
	f.Add([]byte(`{"ts":-1.5e300}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m := NewMapper()
		var a, b schema.Event
		err := m.Map(line, "conn", testReceived, &a)
		if err != nil {
			var pe *parse.Error
			if !errors.As(err, &pe) {
				t.Fatalf("non-parse error %v", err)
			}
			return
		}
		if a.Input != schema.InputZeek || !strings.HasPrefix(a.Event.Dataset, "zeek") {
			t.Fatalf("event %+v", a)
		}
		if err := m.Map(line, "conn", testReceived, &b); err != nil {
			t.Fatalf("second map failed: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("mapping is not deterministic:\n%+v\n%+v", a, b)
		}
	})
}
