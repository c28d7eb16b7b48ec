package correlation

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vigil-soc/vigil/internal/shareddata"
)

// TestSigmaHQ parses every SigmaHQ rule folder of the shared test data: the
// documents with a correlation section must all parse and build an engine,
// and the detection rules beside them must come back as references with no
// error (they are not this package's to judge).
func TestSigmaHQ(t *testing.T) {
	t.Parallel()
	root := shareddata.Path(t, "sigma")
	topLevel := regexp.MustCompile(`(?m)^correlation:`)
	var files, withCorrelation int
	var rules []*Rule
	var refs []RuleRef
	for _, dir := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance",
		"rules-dfir", "rules-placeholder", "deprecated", "unsupported"} {
		fsys := os.DirFS(filepath.Join(root, dir))
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".yml" {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			files++
			if topLevel.Match(data) || bytes.Contains(data, []byte("\ncorrelation:")) {
				withCorrelation++
			}
			r, f, errs := ParseWithRefs(filepath.Join(dir, p), data)
			for _, e := range errs {
				t.Errorf("%v", e)
			}
			rules, refs = append(rules, r...), append(refs, f...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(rules) != withCorrelation {
		t.Errorf("%d correlation rules parsed from %d files with a correlation section", len(rules), withCorrelation)
	}
	if files < 3000 || len(refs) < files {
		t.Errorf("%d files, %d detection rule references; expected every detection rule", files, len(refs))
	}
	_, errs := NewEngine(rules, Options{BaseRules: refs})
	for _, e := range errs {
		t.Errorf("%v", e)
	}
	t.Logf("SigmaHQ: %d rule files, %d with a correlation section, %d correlation rules parsed, %d detection rule references",
		files, withCorrelation, len(rules), len(refs))
}
