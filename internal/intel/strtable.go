package intel

import "hash/maphash"

// strTable maps string keys to entry chains without holding a pointer per
// key: keys are hashed to 64 bits and kept once in the matcher's arena, and
// each entry records where its key is, so a lookup checks the key and skips
// entries of other keys that share the hash. A table of millions of
// domains then costs the garbage collector nothing to scan, where a
// map[string] would cost it tens of milliseconds per cycle.
type strTable struct {
	heads map[uint64]int32
}

func newStrTable() strTable { return strTable{heads: map[uint64]int32{}} }

// len returns the number of distinct hashes (about the number of keys).
func (t strTable) len() int { return len(t.heads) }

// keyOf returns the key stored for entry e.
func (m *Matcher) keyOf(e *entry) string {
	return unsafeString(m.arena[e.keyOff : e.keyOff+uint32(e.keyLen)])
}

// hash hashes a key with the matcher's seed.
func (m *Matcher) hash(k string) uint64 { return maphash.String(m.seed, k) }

// lookupStr returns the head of the chain of k in t; the chain may hold
// entries of other keys with the same hash, which report skips.
func (m *Matcher) lookupStr(t strTable, k string) (int32, bool) {
	if len(t.heads) == 0 {
		return -1, false
	}
	i, ok := t.heads[m.hash(k)]
	return i, ok
}

// insertStr links entry e (not yet appended) under key k in t.
func (b *Builder) insertStr(t strTable, k string, e entry) {
	m := b.m
	e.keyOff, e.keyLen = uint32(len(m.arena)), uint16(min(len(k), 65535))
	m.arena = append(m.arena, k[:e.keyLen]...)
	h := m.hash(k)
	if head, ok := t.heads[h]; ok {
		e.next = head
	}
	t.heads[h] = int32(len(m.entries))
	m.entries = append(m.entries, e)
}
