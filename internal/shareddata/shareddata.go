// Package shareddata locates Vigil's shared conformance data (real public
// logs kept outside the repository, in a shared/testdata directory) for
// tests that read it in place.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that points at the shared data: the
// shared directory or its testdata directory.
const EnvVar = "VIGIL_SHARED"

// Path returns the path of sub (slash-separated, relative to the shared
// testdata directory) when it exists. It looks under $VIGIL_SHARED/testdata
// and $VIGIL_SHARED, then in a shared/testdata directory in the working
// directory or any directory above it. When sub is found nowhere it skips
// the test with a message that says how to provide the data.
func Path(t testing.TB, sub string) string {
	t.Helper()
	rel := filepath.FromSlash(sub)
	for _, dir := range candidates() {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared test data %q not found: set %s to the shared testdata directory "+
		"or provide shared/testdata in a directory above the package; skipping", sub, EnvVar)
	return ""
}

// candidates lists the directories that may hold the shared test data, in
// the order Path tries them.
func candidates() []string {
	var dirs []string
	if env := os.Getenv(EnvVar); env != "" {
		dirs = append(dirs, filepath.Join(env, "testdata"), env)
	}
	wd, err := os.Getwd()
	if err != nil {
		return dirs
	}
	for d := wd; ; d = filepath.Dir(d) {
		dirs = append(dirs, filepath.Join(d, "shared", "testdata"))
		if filepath.Dir(d) == d {
			return dirs
		}
	}
}
