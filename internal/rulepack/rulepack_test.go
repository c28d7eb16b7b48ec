package rulepack

import (
	"io/fs"
	"strings"
	"testing"
)

func TestPackHoldsStableAndTestRules(t *testing.T) {
	t.Parallel()
	n := 0
	err := fs.WalkDir(SigmaHQ(), "rules", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		b, err := fs.ReadFile(SigmaHQ(), path)
		if err != nil {
			return err
		}
		s := string(b)
		if !strings.Contains(s, "\nstatus: stable") && !strings.Contains(s, "\nstatus: test") {
			t.Errorf("%s: not a stable or test rule", path)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2500 {
		t.Fatalf("pack holds %d rules, want the ~2,900 stable/test rules", n)
	}
	if _, err := fs.Stat(SigmaHQ(), "LICENSE"); err != nil {
		t.Fatal("the DRL licence file must ship with the rules")
	}
}
