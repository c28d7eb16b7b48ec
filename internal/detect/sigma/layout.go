package sigma

import "github.com/vigil-soc/vigil/internal/schema"

// Field layouts. Events of one kind carry the same field names in the same
// order (the event data of one Windows event ID, the columns of one log),
// and which slots their fields fill depends only on those names. So each
// evaluation state remembers, per sequence of names, what indexFields
// decided for each field; an event whose names are those of a remembered
// layout (compared in full, by the words of each name) is indexed by
// replaying the decisions, without looking its names up. The decisions
// for a field depend only on the names up to it, so an event whose names
// differ from the layout's at some field is indexed by replaying the
// fields before it and looking up the rest, and its layout replaces the
// one remembered.

// fieldLayouts is the layout memo of an evaluation state: layouts in sets
// chosen by the number of fields and the first name, their fields in an
// arena (recs) and the bytes between the first and last eight of long
// names in another (mids). When an arena is full, every layout is
// forgotten at once (epoch). It allocates only when it is made.
type fieldLayouts struct {
	sets  []layoutEntry
	recs  []layoutRec
	mids  []byte
	epoch uint32
}

// layoutEntry is a remembered layout: its fields recs[lo:lo+n], valid
// while epoch is the memo's.
type layoutEntry struct {
	lo, n, epoch uint32
}

// layoutRec is one field of a layout: its name (length and words, see
// nameWords, and for names longer than 16 bytes the rest at mids[mid:])
// and the slots it fills, by its exact name (exact) and by its name
// without spaces (stripped), or -1.
type layoutRec struct {
	head, tail      uint64
	n, mid          uint32
	exact, stripped int32
}

// Layout memo sizes: sets, fields and bytes of long names.
const (
	layoutSets = 64
	layoutRecs = 2048
	layoutMids = 4096
)

func newFieldLayouts() *fieldLayouts {
	return &fieldLayouts{
		sets:  make([]layoutEntry, layoutSets),
		recs:  make([]layoutRec, 0, layoutRecs),
		mids:  make([]byte, 0, layoutMids),
		epoch: 1,
	}
}

// entry returns the set of the layout of fields f (by their number and
// their first and last names).
func (l *fieldLayouts) entry(f []schema.Field) *layoutEntry {
	first, last := f[0].Key, f[len(f)-1].Key
	h0, _ := nameWords(first)
	h1, t1 := nameWords(last)
	h := (h0 ^ uint64(len(f))<<48 ^ uint64(len(first))<<56) * 0x9e3779b97f4a7c15
	h = (h ^ h1 ^ t1<<7 ^ uint64(len(last))) * 0xbf58476d1ce4e5b9
	return &l.sets[h>>58%layoutSets]
}

// matches reports whether name (of words head and tail) is the name of
// record r.
func (l *fieldLayouts) matches(r *layoutRec, name string, head, tail uint64) bool {
	n := len(name)
	return uint32(n) == r.n && head == r.head && tail == r.tail &&
		(n <= 16 || string(l.mids[r.mid:r.mid+uint32(n-16)]) == name[8:n-8])
}

// record returns a record of a name (of words head and tail) and its slots,
// or false when the arena of long names is full.
func (l *fieldLayouts) record(name string, head, tail uint64, exact, stripped int32) (layoutRec, bool) {
	r := layoutRec{head: head, tail: tail, n: uint32(len(name)), exact: exact, stripped: stripped}
	if n := len(name); n > 16 {
		if len(l.mids)+n-16 > cap(l.mids) {
			return r, false
		}
		r.mid = uint32(len(l.mids))
		l.mids = append(l.mids, name[8:n-8]...)
	}
	return r, true
}

// forget drops every layout.
func (l *fieldLayouts) forget() {
	l.recs, l.mids = l.recs[:0], l.mids[:0]
	if l.epoch++; l.epoch == 0 {
		clear(l.sets)
		l.epoch = 1
	}
}

// indexFields records the value of every field of the event that fills a
// slot: the first field of the slot's exact name, or else the first whose
// name without spaces is the slot's ("Threat Name" for ThreatName, as the
// Sigma specification writes such fields). The fields of a remembered
// layout are replayed (see fieldLayouts); the others are looked up, and
// their layout is remembered.
func (st *evalState) indexFields() {
	f, l := st.ev.Fields, st.layouts
	if len(f) == 0 {
		return
	}
	e := l.entry(f)
	i := 0
	if e.epoch == l.epoch && int(e.n) == len(f) {
		recs := l.recs[e.lo : e.lo+e.n]
		for ; i < len(f); i++ {
			r := &recs[i]
			head, tail := nameWords(f[i].Key)
			if !l.matches(r, f[i].Key, head, tail) {
				break
			}
			switch {
			case r.stripped >= 0:
				st.fill(i, r.exact, r.stripped)
			case r.exact >= 0: // fill's usual case, inline
				if sl := &st.slot[r.exact]; sl.gen != st.gen || !sl.exact {
					v := f[i].Value
					sl.gen, sl.val, sl.ok, sl.exact, sl.fi = st.gen, v, v != "", true, int32(i)
					st.markPresent(r.exact, sl.ok)
				}
			}
		}
		if i == len(f) {
			return
		}
	}
	st.lookupFields(e, i)
}

// lookupFields indexes the event's fields from field first on by looking
// their names up (the fields before it were replayed from layout e), and
// remembers the event's layout in e.
func (st *evalState) lookupFields(e *layoutEntry, first int) {
	f, l, slots := st.ev.Fields, st.layouts, st.e.fieldTable
	if len(l.recs)+len(f) > cap(l.recs) {
		l.forget()
		first = 0 // the replayed records are gone: look every name up
	}
	lo := uint32(len(l.recs))
	if first > 0 {
		l.recs = append(l.recs, l.recs[e.lo:e.lo+uint32(first)]...)
	}
	keep := true
	for i := first; i < len(f); i++ {
		k := f[i].Key
		head, tail := nameWords(k)
		exact, ok, spaced := slots.find(k)
		if !ok {
			exact = -1
		}
		stripped := int32(-1)
		if (!ok || st.e.spacedSlots) && spaced && k[0] != ' ' {
			stripped = st.strippedSlot(k)
		}
		st.fill(i, exact, stripped)
		r, fits := l.record(k, head, tail, exact, stripped)
		keep = keep && fits
		l.recs = append(l.recs, r)
	}
	if keep {
		*e = layoutEntry{lo: lo, n: uint32(len(f)), epoch: l.epoch}
	} else {
		l.forget() // the arena of long names is full
	}
}

// strippedSlot returns the slot of name k without its spaces, or -1.
func (st *evalState) strippedSlot(k string) int32 {
	st.keyBuf = st.keyBuf[:0]
	for j := 0; j < len(k); j++ {
		if k[j] != ' ' {
			st.keyBuf = append(st.keyBuf, k[j])
		}
	}
	if s, ok := st.e.fieldTable.get(string(st.keyBuf)); ok {
		return s
	}
	return -1
}

// fill records field i of the event in the slot of its exact name (exact)
// unless a field of that exact name came first, and in the slot of its name
// without spaces (stripped) unless another field filled that slot first.
func (st *evalState) fill(i int, exact, stripped int32) {
	v := st.ev.Fields[i].Value
	if exact >= 0 {
		if sl := &st.slot[exact]; sl.gen != st.gen || !sl.exact {
			sl.gen, sl.val, sl.ok, sl.exact, sl.fi = st.gen, v, v != "", true, int32(i)
			st.markPresent(exact, sl.ok)
		}
	}
	if stripped >= 0 {
		if sl := &st.slot[stripped]; sl.gen != st.gen {
			sl.gen, sl.val, sl.ok, sl.exact, sl.fi = st.gen, v, v != "", false, int32(i)
			st.markPresent(stripped, sl.ok)
		}
	}
}
