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
// live in two arenas; when an arena is full, every entry is forgotten at
// once (a new epoch) and the arenas are reused. A value is only remembered
// the second time it is seen (a bitmap of hashes seen once decides), so
// values that never repeat (logon ids, times) do not push out those that
// do. A memo belongs to one evaluation state, so it needs no locking, and
// it allocates only when it is made.
type valueMemo struct {
	seed  maphash.Seed
	slots []memoSlot // sets of memoWays
	mask  uint64     // sets - 1
	epoch uint32
	tick  uint32
	vals  []byte  // arena of the values
	ids   []int32 // arena of the needle lists
	// seen has a bit per hash (its top bits) of the values seen once
	// since it was last cleared; nSeen counts the bits set.
	seen  []uint64
	nSeen int
}

// memoSlot is one remembered value: its hash, group and epoch, when it
// was last used, and where its value and needles are in the arenas.
type memoSlot struct {
	hash           uint64
	group, epoch   uint32
	used           uint32
	valOff, valLen uint32
	idOff, idLen   uint32
}

// Memo sizes: the sets of memoWays slots, the value arena (bytes), the
// needle arena (ids) and the bits of the seen-once bitmap; the shortest and
// longest values remembered (shorter values are cheaper to scan than to
// look up; longer ones would fill the arena).
const (
	memoSets     = 1 << 12
	memoWays     = 2
	memoBytes    = 256 << 10
	memoIDs      = 32 << 10
	memoSeenBits = 16
	memoMinLen   = 8
	memoMaxLen   = 1024
)

// newValueMemo returns a memo of sets sets (a power of two) with arenas of
// the given sizes.
func newValueMemo(sets, bytes, ids int) *valueMemo {
	return &valueMemo{
		seed:  maphash.MakeSeed(),
		slots: make([]memoSlot, sets*memoWays),
		mask:  uint64(sets - 1),
		epoch: 1,
		vals:  make([]byte, 0, bytes),
		ids:   make([]int32, 0, ids),
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

// lookup returns the needles remembered for group g's value v (with its
// hash h), and whether it is remembered.
func (m *valueMemo) lookup(g uint32, v string, h uint64) ([]int32, bool) {
	set := m.set(h)
	for i := range set {
		s := &set[i]
		if s.hash != h || s.group != g || s.epoch != m.epoch || int(s.valLen) != len(v) {
			continue
		}
		b := m.vals[s.valOff : s.valOff+s.valLen]
		if unsafe.String(unsafe.SliceData(b), len(b)) != v {
			continue
		}
		m.tick++
		s.used = m.tick
		return m.ids[s.idOff : s.idOff+s.idLen], true
	}
	return nil, false
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
// in the least recently used slot of its set.
func (m *valueMemo) store(g uint32, v string, h uint64, ids []int32) {
	if len(v) > cap(m.vals) || len(ids) > cap(m.ids) {
		return
	}
	if len(m.vals)+len(v) > cap(m.vals) || len(m.ids)+len(ids) > cap(m.ids) {
		m.forget()
	}
	set := m.set(h)
	s := &set[0]
	for i := 1; i < len(set); i++ {
		if set[i].epoch != m.epoch || (s.epoch == m.epoch && set[i].used < s.used) {
			s = &set[i]
		}
	}
	m.tick++
	*s = memoSlot{hash: h, group: g, epoch: m.epoch, used: m.tick,
		valOff: uint32(len(m.vals)), valLen: uint32(len(v)),
		idOff: uint32(len(m.ids)), idLen: uint32(len(ids))}
	m.vals = append(m.vals, v...)
	m.ids = append(m.ids, ids...)
}

// forget drops every entry and empties the arenas.
func (m *valueMemo) forget() {
	m.vals, m.ids = m.vals[:0], m.ids[:0]
	if m.epoch++; m.epoch == 0 { // wrapped: old epochs could match again
		clear(m.slots)
		m.epoch = 1
	}
}

// scanValue scans value v of slot s with group g's automata, through the
// memo (when the state has one): a remembered value has its needles
// reported again, another is scanned, recording the needles found.
func (st *evalState) scanValue(g *scanGroup, v string, s int32) {
	if st.memo == nil || len(v) < memoMinLen || len(v) > memoMaxLen || len(v) < g.minLen {
		st.scanText(g, v, s)
		return
	}
	m := st.memo
	h := m.key(g.memoID, v)
	if ids, ok := m.lookup(g.memoID, v, h); ok {
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
	m.store(g.memoID, v, h, slices.Compact(st.recorded))
}
