package scan

import (
	"math/rand/v2"
	"testing"
)

// TestTable checks the contact index against a Go map under random
// inserts and deletes, through several growths.
func TestTable(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	tab := newTable(0)
	var cs []contact
	ref := map[ckey]int32{}
	var keys []ckey
	for step := range 200_000 {
		if len(keys) > 0 && rng.IntN(3) == 0 {
			j := rng.IntN(len(keys))
			k := keys[j]
			pos, i, ok := tab.find(cs, &k, hashKey(&k))
			if !ok || i != ref[k] {
				t.Fatalf("step %d: %v not found (%v, %d want %d)", step, k, ok, i, ref[k])
			}
			tab.remove(pos)
			delete(ref, k)
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			continue
		}
		var k ckey
		k.src[15], k.src[14] = byte(rng.IntN(8)), byte(rng.IntN(256))
		k.t.dst[15], k.t.dst[14] = byte(rng.IntN(256)), byte(rng.IntN(64))
		k.t.port, k.t.proto = uint16(rng.IntN(4)), 6
		h := hashKey(&k)
		_, present := ref[k]
		if _, _, ok := tab.find(cs, &k, h); ok != present {
			t.Fatalf("step %d: %v present %v, reference %v", step, k, ok, present)
		}
		if present {
			continue
		}
		i := int32(len(cs))
		cs = append(cs, contact{k: k})
		tab.insert(h, i)
		ref[k] = i
		keys = append(keys, k)
	}
	if tab.n != len(ref) || len(tab.slots) < 2*minTableSlots {
		t.Fatalf("%d entries in %d slots, reference %d", tab.n, len(tab.slots), len(ref))
	}
	for k, i := range ref {
		if _, j, ok := tab.find(cs, &k, hashKey(&k)); !ok || j != i {
			t.Fatalf("%v: %d %v, want %d", k, j, ok, i)
		}
	}
}
