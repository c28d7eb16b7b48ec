// Package golden compares test output with golden files kept under a
// package's testdata directory, and rewrites them on request: run the tests
// with -update, or with VIGIL_UPDATE_GOLDEN=1 set (for runs over several
// packages, where a flag would reach packages that do not know it). It also
// holds what the line-oriented parser tests share: mapping every line of an
// input file into a golden result, and seeding a fuzz corpus from the same
// inputs.
//
// It is meant for tests only. Importing it registers the -update flag, so a
// test binary that imports it must not define its own.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// UpdateEnv names the environment variable that, set to 1, rewrites the
// golden files like -update does.
const UpdateEnv = "VIGIL_UPDATE_GOLDEN"

// update is the -update flag; the flag package owns its value.
var update = flag.Bool("update", false, "rewrite the golden files in testdata with the output of the tests")

// Updating reports whether golden files are being rewritten.
func Updating() bool { return *update || os.Getenv(UpdateEnv) == "1" }

// Check compares got with the golden file at path and reports a mismatch
// with the first line that differs. When golden files are being rewritten
// it writes got to path (creating its directory) instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	check(t, path, got, Updating())
}

func check(t testing.TB, path string, got []byte, rewrite bool) {
	t.Helper()
	if rewrite {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		t.Logf("golden: rewrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run the test with -update or %s=1 to create it)", err, UpdateEnv)
	}
	if d := FirstDiff(got, want); d != "" {
		t.Errorf("output differs from golden file %s: %s\n"+
			"(run the test with -update or %s=1 to rewrite it, then review the change)", path, d, UpdateEnv)
	}
}

// CheckFiles runs one parallel subtest per file matching pattern, named
// after the file: it compares produce(path) with the golden file beside it,
// whose name is the input's with its extension replaced by ".golden". It
// fails when no file matches.
func CheckFiles(t *testing.T, pattern string, produce func(t *testing.T, path string) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(pattern)
	if err != nil || len(inputs) == 0 {
		t.Fatalf("golden: no inputs match %s (%v)", pattern, err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			Check(t, strings.TrimSuffix(in, filepath.Ext(in))+".golden", produce(t, in))
		})
	}
}

// FirstDiff describes the first line where got and want differ: its number,
// the column of the first byte that differs, and both versions, quoted and
// cut around that byte. It returns
// "" when they are equal.
func FirstDiff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; ; i++ {
		switch {
		case i >= len(g):
			return fmt.Sprintf("got ends at line %d; want goes on with %s", i+1, excerpt(w[i], 0))
		case i >= len(w):
			return fmt.Sprintf("want ends at line %d; got goes on with %s", i+1, excerpt(g[i], 0))
		case !bytes.Equal(g[i], w[i]):
			col := commonPrefix(g[i], w[i])
			return fmt.Sprintf("first difference at line %d, column %d:\n  got:  %s\n  want: %s",
				i+1, col+1, excerpt(g[i], col), excerpt(w[i], col))
		}
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// excerptContext is how many bytes excerpt shows before and after col.
const excerptContext = 60

// excerpt quotes line, cut to the bytes around col when it is long: in
// backquotes when it holds no control characters, else Go-escaped.
func excerpt(line []byte, col int) string {
	start, end := max(col-excerptContext, 0), min(col+excerptContext, len(line))
	part := string(line[start:end])
	s := strconv.Quote(part)
	if strconv.CanBackquote(part) {
		s = "`" + part + "`"
	}
	if start > 0 {
		s = "…" + s
	}
	if end < len(line) {
		s += "…"
	}
	return s
}
