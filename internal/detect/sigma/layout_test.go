package sigma

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFieldLayouts indexes events whose field names repeat in layouts (with
// repeated names, names with spaces, empty values, long names that differ
// only in the middle, and layouts that differ after their first fields)
// with a state that remembers layouts and with fresh states, and requires
// the same slots, values and field indexes for every slot.
func TestFieldLayouts(t *testing.T) {
	t.Parallel()
	long1, long2 := "AAAAAAAA-middle-1-ZZZZZZZZ", "AAAAAAAA-middle-2-ZZZZZZZZ"
	rule := loadOne(t, ruleYAML(fmt.Sprintf(
		"sel:\n  Image: x\n  ThreatName: y\n  CommandLine: z\n  %s: a\n  %s: b\ncondition: sel", long1, long2)), LoadOptions{})
	e, err := NewEngine([]*Rule{rule}, newTestMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	layouts := [][]string{
		{"EventID", "Image", "CommandLine"},
		{"EventID", "Image", "Image"},
		{"EventID", "Threat Name", "ThreatName"},
		{"EventID", "ThreatName", "Threat Name"},
		{"EventID", "Threat Name", "CommandLine"},
		{"EventID", long1, "Image"},
		{"EventID", long2, "Image"},
		{"EventID", "Image", "Other"},
		{"EventID", " Threat Name", "Other"},
		{"EventID", "No Slot Here", "Image"},
		{"EventID"},
		{},
	}
	r := rand.New(rand.NewPCG(1, 2))
	st := newEvalState(e)
	for round := range 3000 {
		names := layouts[r.IntN(len(layouts))]
		var kv []string
		for _, n := range names {
			v := fmt.Sprintf("v%d", r.IntN(3))
			if r.IntN(4) == 0 {
				v = "" // an empty value counts as absent
			}
			kv = append(kv, n, v)
		}
		ev := testEvent(kv...)
		// A fresh state looks every name up.
		fresh := newEvalState(e)
		fresh.begin(ev)
		st.begin(ev)
		for s := range e.slots {
			a, b := st.slot[s], fresh.slot[s]
			got := a.gen == st.gen && a.ok
			want := b.gen == fresh.gen && b.ok
			if got != want || (got && (a.val != b.val || a.fi != b.fi || a.exact != b.exact)) ||
				(st.present[s] == st.gen) != want {
				t.Fatalf("round %d, fields %v: slot %s: remembered layout gives %+v, lookups %+v",
					round, ev.Fields, e.slots[s].name, a, b)
			}
		}
		st.end()
		fresh.end()
	}
}

// TestFieldLayoutsForget fills the layout memo's arenas with many distinct
// layouts of long names and checks that indexing stays right when they are
// forgotten.
func TestFieldLayoutsForget(t *testing.T) {
	t.Parallel()
	rule := loadOne(t, ruleYAML("sel:\n  Image: x\ncondition: sel"), LoadOptions{})
	e, err := NewEngine([]*Rule{rule}, newTestMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	st := newEvalState(e)
	for i := range 2000 {
		var kv []string
		for j := range 1 + i%40 {
			kv = append(kv, fmt.Sprintf("%s-%d-%d", strings.Repeat("n", 20), i%97, j), "v")
		}
		kv = append(kv, "Image", fmt.Sprint(i))
		st.begin(testEvent(kv...))
		s := e.slotIdx["Image"]
		if v, ok := st.raw(s); !ok || v != fmt.Sprint(i) {
			t.Fatalf("event %d: Image = %q, %v", i, v, ok)
		}
		st.end()
	}
}
