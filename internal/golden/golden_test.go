package golden

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// recorder records the failures a check reports instead of failing the
// test that runs it.
type recorder struct {
	testing.TB
	errors, fatals []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Logf(string, ...any) {}

// record runs fn with a recorder on its own goroutine, as Fatalf ends it.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestFirstDiff(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 200)
	tests := []struct {
		name, got, want, diff string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"second line", "a\nb\nc\n", "a\nB\nc\n", "first difference at line 2, column 1:\n  got:  `b`\n  want: `B`"},
		{"column", "key: value\n", "key: valve\n", "first difference at line 1, column 9:\n  got:  `key: value`\n  want: `key: valve`"},
		{"control characters are escaped", "a\r\n", "a\n", "first difference at line 1, column 2:\n  got:  \"a\\r\"\n  want: `a`"},
		{"got shorter", "a\n", "a\nb\nc", "first difference at line 2, column 1:\n  got:  ``\n  want: `b`"},
		{"no final newline", "a", "a\n", "got ends at line 2; want goes on with ``"},
		{"got longer", "a\nb", "a", "want ends at line 2; got goes on with `b`"},
		{"long line cut around the difference", long + "x" + long, long + "y" + long,
			"first difference at line 1, column 201:\n  got:  …`" + strings.Repeat("a", 60) + "x" + strings.Repeat("a", 59) + "`…\n" +
				"  want: …`" + strings.Repeat("a", 60) + "y" + strings.Repeat("a", 59) + "`…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := FirstDiff([]byte(tc.got), []byte(tc.want)); got != tc.diff {
				t.Errorf("FirstDiff(%q, %q) =\n%s\nwant\n%s", tc.got, tc.want, got, tc.diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, got string
		rewrite         bool
		errors, fatals  int
		mention         string
	}{
		{"match", path, "one\ntwo\n", false, 0, 0, ""},
		{"mismatch", path, "one\nthree\n", false, 1, 0, "line 2"},
		{"missing file", filepath.Join(dir, "none.golden"), "x", false, 0, 1, "-update"},
		{"rewrite", filepath.Join(dir, "sub", "new.golden"), "new\n", true, 0, 0, ""},
	}
	for _, tc := range tests {
		r := record(t, func(tb testing.TB) { check(tb, tc.path, []byte(tc.got), tc.rewrite) })
		if len(r.errors) != tc.errors || len(r.fatals) != tc.fatals {
			t.Errorf("%s: errors %q, fatals %q; want %d and %d", tc.name, r.errors, r.fatals, tc.errors, tc.fatals)
		}
		if msg := strings.Join(append(r.errors, r.fatals...), "\n"); !strings.Contains(msg, tc.mention) {
			t.Errorf("%s: message %q does not mention %q", tc.name, msg, tc.mention)
		}
		if tc.rewrite {
			if b, err := os.ReadFile(tc.path); err != nil || string(b) != tc.got {
				t.Errorf("%s: file holds %q (%v), want %q", tc.name, b, err, tc.got)
			}
		}
	}
}

func TestCheckFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string]string{"a.in": "a", "a.golden": "A", "b.in": "b", "b.golden": "B"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	t.Run("files", func(t *testing.T) {
		CheckFiles(t, filepath.Join(dir, "*.in"), func(t *testing.T, path string) []byte {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, filepath.Base(path))
			return []byte(strings.ToUpper(string(b)))
		})
	})
	if strings.Join(seen, ",") != "a.in,b.in" && strings.Join(seen, ",") != "b.in,a.in" {
		t.Errorf("produce saw %v, want a.in and b.in", seen)
	}
}

func TestMapLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in.log")
	if err := os.WriteFile(path, []byte("ok one\n\nok two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := MapLines(t, path, func(line []byte) (*schema.Event, error) {
		if len(line) == 0 {
			return nil, parse.Errorf(parse.ReasonEmpty, "empty record")
		}
		if !strings.HasPrefix(string(line), "ok ") {
			return nil, errors.New("unexpected line")
		}
		return &schema.Event{Message: string(line[3:])}, nil
	})
	want := `[
  {
    "line": 1,
    "event": {
      "@timestamp": "0001-01-01T00:00:00Z",
      "received": "0001-01-01T00:00:00Z",
      "message": "one"
    }
  },
  {
    "line": 2,
    "reason": "empty",
    "error": "empty: empty record"
  },
  {
    "line": 3,
    "event": {
      "@timestamp": "0001-01-01T00:00:00Z",
      "received": "0001-01-01T00:00:00Z",
      "message": "two"
    }
  }
]
`
	if d := FirstDiff(got, []byte(want)); d != "" {
		t.Errorf("MapLines: %s\n%s", d, got)
	}
}
