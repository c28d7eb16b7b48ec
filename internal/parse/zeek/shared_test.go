package zeek

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/schema"
)

// sharedTestdata returns the shared test data directory (…/shared/testdata)
// joined with sub, found through $VIGIL_SHARED or by walking up from the
// package directory. It skips the test when the data is absent.
func sharedTestdata(t testing.TB, sub string) string {
	t.Helper()
	var cands []string
	if env := os.Getenv("VIGIL_SHARED"); env != "" {
		cands = append(cands, filepath.Join(env, "testdata"), env)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			cands = append(cands, filepath.Join(d, "shared", "testdata"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range cands {
		p := filepath.Join(c, sub)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared test data %q not found (set VIGIL_SHARED or provide ../shared/testdata); skipping", sub)
	return ""
}

// eventDiff lists the differences between two events in every ECS field and
// every original field, ignoring Original.
func eventDiff(a, b *schema.Event) []string {
	var d []string
	for _, name := range schema.ECSFieldNames() {
		if name == "input" {
			continue
		}
		va, _ := a.Get(name)
		vb, _ := b.Get(name)
		if va != vb {
			d = append(d, fmt.Sprintf("%s: %q != %q", name, va, vb))
		}
	}
	if a.Input != b.Input {
		d = append(d, fmt.Sprintf("input: %q != %q", a.Input, b.Input))
	}
	if !a.Timestamp.Equal(b.Timestamp) || !a.Received.Equal(b.Received) {
		d = append(d, fmt.Sprintf("times: %v/%v != %v/%v", a.Timestamp, a.Received, b.Timestamp, b.Received))
	}
	if !reflect.DeepEqual(a.DNS.Answers, b.DNS.Answers) {
		d = append(d, fmt.Sprintf("dns.answers: %q != %q", a.DNS.Answers, b.DNS.Answers))
	}
	if a.Event.Duration != b.Event.Duration {
		d = append(d, fmt.Sprintf("event.duration: %d != %d", a.Event.Duration, b.Event.Duration))
	}
	n := max(len(a.Fields), len(b.Fields))
	for i := 0; i < n; i++ {
		var fa, fb schema.Field
		if i < len(a.Fields) {
			fa = a.Fields[i]
		}
		if i < len(b.Fields) {
			fb = b.Fields[i]
		}
		if fa != fb {
			d = append(d, fmt.Sprintf("fields[%d]: %s=%q != %s=%q", i, fa.Key, fa.Value, fb.Key, fb.Value))
		}
	}
	// Catch anything the listing above misses.
	ca, cb := *a, *b
	ca.Original, cb.Original = "", ""
	if len(d) == 0 && !reflect.DeepEqual(ca, cb) {
		d = append(d, fmt.Sprintf("events differ: %+v != %+v", ca, cb))
	}
	return d
}

func joinDiff(d []string) string { return strings.Join(d, "\n  ") }
