package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The tests below set the environment and the working directory, so they
// cannot run in parallel.

func mkfile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// skipRecorder records Skipf instead of ending the test, so the test can
// check what Path does when the data is absent.
type skipRecorder struct {
	testing.TB
	skipped string
}

func (r *skipRecorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }

func TestPath(t *testing.T) {
	root := t.TempDir()
	mkfile(t, filepath.Join(root, "env", "testdata", "zeek", "conn.log"))
	mkfile(t, filepath.Join(root, "direct", "zeek", "dns.log"))
	mkfile(t, filepath.Join(root, "tree", "shared", "testdata", "sigma", "a.json"))
	deep := filepath.Join(root, "tree", "repo", "internal", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	tests := []struct {
		name, env, sub, want string
	}{
		{"env names the shared directory", filepath.Join(root, "env"), "zeek/conn.log",
			filepath.Join(root, "env", "testdata", "zeek", "conn.log")},
		{"env names the testdata directory", filepath.Join(root, "direct"), "zeek/dns.log",
			filepath.Join(root, "direct", "zeek", "dns.log")},
		{"walk up without env", "", "sigma/a.json", filepath.Join(root, "tree", "shared", "testdata", "sigma", "a.json")},
		{"env without the data falls back to walking up", filepath.Join(root, "env"), "sigma",
			filepath.Join(root, "tree", "shared", "testdata", "sigma")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvVar, tc.env)
			if got := Path(t, tc.sub); got != tc.want {
				t.Errorf("Path(%q) = %q, want %q", tc.sub, got, tc.want)
			}
		})
	}
}

func TestPathSkipsWhenAbsent(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(EnvVar, t.TempDir())
	r := &skipRecorder{TB: t}
	if got := Path(r, "zeek/missing"); got != "" {
		t.Errorf("Path = %q for absent data", got)
	}
	if r.skipped == "" {
		t.Fatal("Path did not skip the test")
	}
	t.Logf("skip message: %s", r.skipped)
}
