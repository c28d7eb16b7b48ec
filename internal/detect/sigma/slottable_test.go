package sigma

import (
	"strings"
	"testing"
)

// TestSlotTable checks name lookups around the lengths where the table
// changes how it compares names (8 and 16 bytes), for names sharing their
// first or last eight bytes, and for names that differ only in the middle,
// and that it tells the names with a space.
func TestSlotTable(t *testing.T) {
	t.Parallel()
	names := map[string]int32{}
	for i, n := range []string{
		"a", "ab", "Image", "EventID", "Channel1", "CommandLine", "ParentImage",
		"OriginalFileName", "ParentCommandLine", "Provider_Name", "Hashes",
		strings.Repeat("x", 16), strings.Repeat("x", 17), strings.Repeat("x", 40),
		"AAAAAAAA-middle-1-ZZZZZZZZ", "AAAAAAAA-middle-2-ZZZZZZZZ", "Threat Name",
	} {
		names[n] = int32(i)
	}
	tab := newSlotTable(names)
	for name, want := range names {
		if got, ok := tab.get(name); !ok || got != want {
			t.Errorf("get(%q) = %d, %v, want %d", name, got, ok, want)
		}
		// The same name built afresh (another backing array) is found too.
		if got, ok := tab.get(string([]byte(name))); !ok || got != want {
			t.Errorf("get(copy of %q) = %d, %v", name, got, ok)
		}
	}
	// Whether a name has a space, for every length and position.
	for n := 1; n <= 40; n++ {
		for at := -1; at < n; at++ {
			b := []byte(strings.Repeat("k", n))
			if at >= 0 {
				b[at] = ' '
			}
			if _, _, spaced := tab.find(string(b)); spaced != (at >= 0) {
				t.Errorf("find(%q): spaced %v", b, spaced)
			}
		}
	}
	for _, miss := range []string{
		"", "A", "image", "EventId", "Channel", "Channel12", "CommandLin", "CommandLine ",
		strings.Repeat("x", 15), strings.Repeat("x", 18), strings.Repeat("x", 39),
		"AAAAAAAA-middle-3-ZZZZZZZZ", "AAAAAAAA-middleX1-ZZZZZZZZ", "ThreatName",
	} {
		if got, ok := tab.get(miss); ok {
			t.Errorf("get(%q) = %d, want no slot", miss, got)
		}
	}
}
