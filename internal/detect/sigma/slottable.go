package sigma

import (
	"math/bits"
	"strings"
	"unsafe"
)

// slotTable maps field names to slots: an open-addressing hash table looked
// up once per field of every event. An entry holds its name's length and
// first and last eight bytes, which decide names of up to 16 bytes (most
// field names) without reading the name itself; only longer names compare
// the bytes between.
type slotTable struct {
	entries []slotEntry
	names   []string // per entry, its name
	mask    uint32
}

// slotEntry is a name of the table (n == 0 for a free entry): its length,
// its words (see nameWords) and its slot.
type slotEntry struct {
	head, tail uint64
	n          uint32
	slot       int32
}

// newSlotTable builds the table of names (name -> slot).
func newSlotTable(names map[string]int32) *slotTable {
	size := 1 << bits.Len(uint(2*len(names)+1))
	t := &slotTable{entries: make([]slotEntry, size), names: make([]string, size), mask: uint32(size - 1)}
	for name, s := range names {
		if name == "" {
			continue
		}
		head, tail := nameWords(name)
		i := nameHash(len(name), head, tail) & t.mask
		for t.entries[i].n != 0 {
			i = (i + 1) & t.mask
		}
		t.entries[i] = slotEntry{head: head, tail: tail, n: uint32(len(name)), slot: s}
		t.names[i] = name
	}
	return t
}

// nameWords returns the first and the last eight bytes of s, overlapping
// when s is shorter than 16 bytes; a name of four to seven bytes is read as
// its first and last four (overlapping), a shorter one byte by byte, into
// head, and tail is zero. With the length, the words tell names of up to
// 16 bytes apart.
func nameWords(s string) (head, tail uint64) {
	n := len(s)
	// Unaligned loads, without bounds checks.
	p := unsafe.Pointer(unsafe.StringData(s))
	switch {
	case n >= 8:
		return *(*uint64)(p), *(*uint64)(unsafe.Add(p, n-8))
	case n >= 4:
		return uint64(*(*uint32)(p)) | uint64(*(*uint32)(unsafe.Add(p, n-4)))<<32, 0
	}
	for i := n - 1; i >= 0; i-- {
		head = head<<8 | uint64(s[i])
	}
	return head, 0
}

// nameHash hashes a name by its length and words.
func nameHash(n int, head, tail uint64) uint32 {
	h := (head ^ uint64(n)<<56) * 0x9e3779b97f4a7c15
	h = (h ^ tail ^ h>>29) * 0xbf58476d1ce4e5b9
	return uint32(h >> 32)
}

// get returns the slot of name.
func (t *slotTable) get(name string) (int32, bool) {
	s, ok, _ := t.find(name)
	return s, ok
}

// find returns the slot of name, and whether the name has a space (for
// looking the name up without its spaces). The empty name has no slot: a
// free entry (n == 0) ends its probe.
func (t *slotTable) find(name string) (slot int32, ok, spaced bool) {
	n := len(name)
	head, tail := nameWords(name)
	spaced = hasSpace(head) || hasSpace(tail) || (n > 16 && strings.IndexByte(name[8:n-8], ' ') >= 0)
	for i := nameHash(n, head, tail) & t.mask; ; i = (i + 1) & t.mask {
		e := &t.entries[i]
		if e.n == 0 {
			return 0, false, spaced
		}
		if e.n == uint32(n) && e.head == head && e.tail == tail && (n <= 16 || t.names[i][8:n-8] == name[8:n-8]) {
			return e.slot, true, spaced
		}
	}
}

// hasSpace reports whether a word of a name (see nameWords, whose unused
// bytes are zero) holds a space: whether w XOR spaces has a zero byte.
func hasSpace(w uint64) bool {
	v := w ^ 0x2020202020202020
	return (v-0x0101010101010101)&^v&0x8080808080808080 != 0
}
