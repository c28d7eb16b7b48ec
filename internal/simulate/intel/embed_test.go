package intel

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/intel/stix"
)

// TestDemoFeed loads the shipped bundle: the C2 address and domain come out
// as C2 indicators of DemoRAT, the scanners as plain ones, and the expired
// indicator is inactive now.
func TestDemoFeed(t *testing.T) {
	t.Parallel()
	res, err := stix.Load(DemoFeed())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	got := map[string]bool{}
	for _, in := range res.Indicators {
		got[in.Value] = in.C2()
		if in.Value == "198.51.100.9" && in.Active(time.Now()) {
			t.Error("the expired indicator is active")
		}
		if in.Value == "203.0.113.200" && in.Confidence != 90 {
			t.Errorf("C2 confidence %d, want 90", in.Confidence)
		}
	}
	want := map[string]bool{"203.0.113.200": true, "update-check.example.org": true, "203.0.113.97": false,
		"198.51.100.201": false, "198.51.100.9": false}
	if len(got) != len(want) {
		t.Fatalf("indicators %v, want %v", got, want)
	}
	for v, c2 := range want {
		if g, ok := got[v]; !ok || g != c2 {
			t.Errorf("%s: present %v, C2 %v; want C2 %v", v, ok, g, c2)
		}
	}
}
