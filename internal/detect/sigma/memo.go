package sigma

import (
	"hash/maphash"
	"slices"
	"unsafe"
)

// valueMemo remembers, per evaluation state, which needles a group's
// automata found in recently scanned field values, so that a value seen
// again (the same program path, user, description or command line, which
// is what most Windows events carry) costs one hash and one comparison
// instead of a pass of every automaton of its field.
//
// The memo is exact: an entry is the group, the whole value (compared in
// full, not only by hash) and the needles found, which depend on nothing
// else. It is bounded: entries are kept in sets of two by hash, the least
// recently used making room for a new one, and the values and needle lists
// live in arenas of two generations. New entries go to the current
// generation; when it is full it becomes the previous one, whose entries
// are forgotten at once and whose arenas are reused. An entry of the
// previous generation that is used again is copied into the current one,
// so the values that keep coming back are never forgotten, and those not
// seen for a whole generation make room. A value is only remembered the
// second time it is seen (a bitmap of hashes seen once decides), so values
// that never repeat (logon ids, times) do not push out those that do. A
// memo belongs to one evaluation state, so it needs no locking, and it
// allocates only when it is made.
type valueMemo struct {
	seed  maphash.Seed
	slots []memoSlot // sets of memoWays
	mask  uint64     // sets - 1
	// epoch numbers the current generation (cur); prev is generation
	// epoch-1. Slots of older generations are free.
	epoch     uint32
	tick      uint32
	cur, prev memoArena
	// seen has a bit per hash (its top bits) of the values seen once
	// since it was last cleared; nSeen counts the bits set.
	seen  []uint64
	nSeen int
}

// memoArena holds the entries of one generation: each value followed by
// its needle list (at a multiple of four bytes), so that a lookup reads one
// place.
type memoArena struct {
	buf []byte
}

// recordSize returns the bytes an entry of a value of n bytes with k
// needles takes.
func recordSize(n, k int) int { return (n+3)&^3 + 4*k }

// fits reports whether an entry of a value of n bytes with k needles fits
// in the arena.
func (a *memoArena) fits(n, k int) bool {
	return len(a.buf)+recordSize(n, k) <= cap(a.buf)
}

// value returns the value of the entry at off.
func (a *memoArena) value(off uint32, n uint16) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a.buf[off], int(n))
}

// ids returns the needle list of the entry at off.
func (a *memoArena) ids(off uint32, n, k uint16) []int32 {
	if k == 0 {
		return nil
	}
	p := (*int32)(unsafe.Pointer(&a.buf[off+uint32(n+3)&^3]))
	return unsafe.Slice(p, int(k))
}

// add appends an entry and returns its offset.
func (a *memoArena) add(v string, ids []int32) uint32 {
	off := uint32(len(a.buf))
	end := len(a.buf) + recordSize(len(v), len(ids))
	a.buf = a.buf[:end]
	copy(a.buf[off:], v)
	if len(ids) > 0 {
		dst := unsafe.Slice((*int32)(unsafe.Pointer(&a.buf[int(off)+(len(v)+3)&^3])), len(ids))
		copy(dst, ids)
	}
	return off
}

// memoSlot is one remembered value: its hash, group and generation, when
// it was last used, where its entry is in the arena of its generation,
// and the lengths of its value and needle list. Two slots fill a cache
// line.
type memoSlot struct {
	hash         uint64
	group, epoch uint32
	used         uint32
	off          uint32
	valLen, nIDs uint16
	_            uint32
}

// Memo sizes: the sets of memoWays slots, the arena of a generation
// (bytes) and the bits of the seen-once bitmap; the shortest and longest
// values remembered (shorter values are cheaper to scan than to look up;
// longer ones would fill the arena), and the most needles an entry holds.
const (
	memoSets     = 1 << 12
	memoWays     = 2
	memoBytes    = 384 << 10
	memoSeenBits = 16
	memoMinLen   = 8
	memoMaxLen   = 1024
	memoMaxIDs   = 1<<16 - 1
)

// newValueMemo returns a memo of sets sets (a power of two) with arenas of
// the given size per generation.
func newValueMemo(sets, bytes int) *valueMemo {
	return &valueMemo{
		seed:  maphash.MakeSeed(),
		slots: make([]memoSlot, sets*memoWays),
		mask:  uint64(sets - 1),
		epoch: 2, // slots of epoch 0 are free, even as the previous epoch
		cur:   memoArena{buf: make([]byte, 0, bytes)},
		prev:  memoArena{buf: make([]byte, 0, bytes)},
		seen:  make([]uint64, 1<<memoSeenBits/64),
	}
}

// key returns the hash of group g's value v.
func (m *valueMemo) key(g uint32, v string) uint64 {
	return maphash.String(m.seed, v) ^ (uint64(g)+1)*0x9e3779b97f4a7c15
}

// set returns the slots of hash h.
func (m *valueMemo) set(h uint64) []memoSlot {
	i := (h & m.mask) * memoWays
	return m.slots[i : i+memoWays]
}

// arena returns the arena of generation epoch, or nil when its entries are
// forgotten.
func (m *valueMemo) arena(epoch uint32) *memoArena {
	switch epoch {
	case m.epoch:
		return &m.cur
	case m.epoch - 1:
		return &m.prev
	}
	return nil
}

// lookup returns the needles remembered for group g's value v (with its
// hash h), and whether it is remembered. An entry of the previous
// generation moves to the current one when there is room.
func (m *valueMemo) lookup(g uint32, v string, h uint64) ([]int32, bool) {
	set := m.set(h)
	for i := range set {
		s := &set[i]
		if s.hash != h || s.group != g || int(s.valLen) != len(v) {
			continue
		}
		a := m.arena(s.epoch)
		if a == nil || a.value(s.off, s.valLen) != v {
			continue
		}
		m.tick++
		s.used = m.tick
		ids := a.ids(s.off, s.valLen, s.nIDs)
		if a == &m.prev && m.cur.fits(len(v), len(ids)) {
			ids = m.place(s, v, ids)
		}
		return ids, true
	}
	return nil, false
}

// place copies value v and its needles into the current generation for
// slot s, and returns the copy of the needles.
func (m *valueMemo) place(s *memoSlot, v string, ids []int32) []int32 {
	s.epoch, s.valLen, s.nIDs = m.epoch, uint16(len(v)), uint16(len(ids))
	s.off = m.cur.add(v, ids)
	return m.cur.ids(s.off, s.valLen, s.nIDs)
}

// admit reports whether a value of hash h that is not remembered should
// be: whether it was seen once already. It marks it seen.
func (m *valueMemo) admit(h uint64) bool {
	bit := h >> (64 - memoSeenBits)
	w, b := &m.seen[bit/64], uint64(1)<<(bit%64)
	if *w&b != 0 {
		return true
	}
	*w |= b
	if m.nSeen++; m.nSeen > 1<<memoSeenBits/4 {
		clear(m.seen)
		m.nSeen = 0
	}
	return false
}

// store remembers the needles found in group g's value v (with hash h),
// in a free slot of its set or else the least recently used one.
func (m *valueMemo) store(g uint32, v string, h uint64, ids []int32) {
	if len(v) > memoMaxLen || len(ids) > memoMaxIDs || recordSize(len(v), len(ids)) > cap(m.cur.buf) {
		return
	}
	if !m.cur.fits(len(v), len(ids)) {
		m.turn()
	}
	set := m.set(h)
	s := &set[0]
	for i := 1; i < len(set); i++ {
		if m.arena(set[i].epoch) == nil || (m.arena(s.epoch) != nil && set[i].used < s.used) {
			s = &set[i]
		}
	}
	m.tick++
	*s = memoSlot{hash: h, group: g, used: m.tick}
	m.place(s, v, ids)
}

// turn starts a new generation: the current one becomes the previous one,
// whose entries are forgotten and whose arenas are reused.
func (m *valueMemo) turn() {
	m.prev, m.cur = m.cur, m.prev
	m.cur.buf = m.cur.buf[:0]
	if m.epoch++; m.epoch == 0 { // wrapped: old epochs could match again
		clear(m.slots)
		m.epoch = 2
	}
}

// scanValue scans value v of slot s with the automata of group g (of head
// gh), through the memo (when the state has one): a remembered value has
// its needles reported again, another is scanned, recording the needles
// found.
func (st *evalState) scanValue(g *scanGroup, gh *groupHead, v string, s int32) {
	if st.memo == nil || len(v) < memoMinLen || len(v) > memoMaxLen || len(v) < int(gh.minLen) {
		st.scanText(g, v, s)
		return
	}
	m := st.memo
	h := m.key(gh.memoID, v)
	if ids, ok := m.lookup(gh.memoID, v, h); ok {
		st.hitNeedles(ids)
		return
	}
	if !m.admit(h) {
		st.scanText(g, v, s)
		return
	}
	// While recording, the automata report every needle they find, even
	// one already hit in the event, so the memo gets them all.
	st.recording, st.recorded = true, st.recorded[:0]
	st.scanText(g, v, s)
	st.recording = false
	slices.Sort(st.recorded)
	m.store(gh.memoID, v, h, slices.Compact(st.recorded))
}
