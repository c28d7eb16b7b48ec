package statedb

import (
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	base := baseTime()
	seen := make(map[string]bool)
	prev := ""
	for i := range 2000 {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		id := newID(ts)
		if len(id) != idLen {
			t.Fatalf("ID %q has length %d", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("ID %q of a later millisecond sorts before %q", id, prev)
		}
		prev = id
		got, ok := idTime(id)
		if !ok || !got.Equal(ts) {
			t.Fatalf("idTime(%q) = %v, %v; want %v", id, got, ok, ts)
		}
	}
	// Many in the same millisecond are still unique.
	for range 2000 {
		id := newID(base)
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}

func TestIDTimeRejects(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		"", "short", "01ARZ3NDEKTSV4RRFFQ69G5FA", // 25 characters
		"01ARZ3NDEKTSV4RRFFQ69G5FAVX", // 27
		"81ARZ3NDEKTSV4RRFFQ69G5FAV",  // first character over 7: more than 128 bits
		"01ARZ3NDEKTSV4RRFFQ69G5FAU",  // U is not in the alphabet
		"01arz3ndektsv4rrffq69g5fav",  // lower case
	} {
		if _, ok := idTime(id); ok {
			t.Errorf("idTime(%q) accepted", id)
		}
	}
	if _, ok := idTime("01ARZ3NDEKTSV4RRFFQ69G5FAV"); !ok {
		t.Error("idTime rejected a valid ULID")
	}
}
