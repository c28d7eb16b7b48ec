package sigma

import (
	"math/bits"
)

// slotTable maps field names to slots: an open-addressing hash table with
// a cheap hash of a name's length and first and last bytes, looked up once
// per field of every event.
type slotTable struct {
	keys  []string
	slots []int32
	mask  uint32
}

// newSlotTable builds the table of names (name -> slot).
func newSlotTable(names map[string]int32) *slotTable {
	size := 1 << bits.Len(uint(4*len(names)+1))
	t := &slotTable{keys: make([]string, size), slots: make([]int32, size), mask: uint32(size - 1)}
	for name, s := range names {
		i := nameHash(name) & t.mask
		for t.keys[i] != "" {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.slots[i] = name, s
	}
	return t
}

// nameHash hashes a field name by its length and up to four bytes from
// each end.
func nameHash(s string) uint32 {
	n := len(s)
	h := uint32(n) * 0x9e3779b1
	switch {
	case n >= 4:
		h ^= uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		h *= 0x85ebca6b
		h ^= uint32(s[n-4]) | uint32(s[n-3])<<8 | uint32(s[n-2])<<16 | uint32(s[n-1])<<24
	case n > 0:
		h ^= uint32(s[0]) | uint32(s[n-1])<<8 | uint32(s[n/2])<<16
	}
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return h
}

// get returns the slot of name.
func (t *slotTable) get(name string) (int32, bool) {
	if name == "" {
		return 0, false
	}
	for i := nameHash(name) & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case name:
			return t.slots[i], true
		case "":
			return 0, false
		}
	}
}
