package sigma

import (
	"runtime"
	"strings"
	"unsafe"

	"github.com/vigil-soc/vigil/internal/schema"
)

// evalState is the per-evaluation cache of one event: every field the
// rules read is fetched, and lower-cased, at most once per event. States are
// pooled by the engine; a generation counter invalidates the cache between
// events without clearing it.
type evalState struct {
	e   *Engine
	ev  *schema.Event
	gen uint32 // event generation, starting at 1
	// mgen is the generation of the prefilter's marks (see nextMarks).
	mgen uint8
	sink byte // what prefetch read, so that its loads are not dropped

	slot []slotState // per slot: its value for the event
	lows []lowState  // per slot: its lower-cased value, when asked for
	// present holds, per slot, gen when indexFields found it with a value
	// (a compact copy of slot[s].gen == gen && slot[s].ok for the scans).
	present []uint32
	keyBuf  []byte // a field name without its spaces
	buf     []byte // backing store of this event's lower-cased values
	// layouts remembers which slots the fields of recent events filled
	// (see fieldLayouts).
	layouts *fieldLayouts

	kwGen    uint32   // kwGen == gen: kwRaw holds the keyword texts
	kwRaw    []string // the message and field values
	kwLowGen uint32   // kwLowGen == gen: kwLow holds them lower-cased
	kwLow    []string
	kwCover  []uint32 // per field of the event: gen when covered (see cover)
	fields   [][]int32

	matched []uint16
	key     []byte
	rkey    []byte // routing values (see Engine.route)

	// The prefilter's marks for the current route's plan p (see plan):
	// generation marks of the needles hit, the DFA states reported, the
	// clauses satisfied and the rules counted (ruleMark);
	// cands are the rules whose clauses are all satisfied. base is the atom
	// run of the rule being evaluated.
	p         *plan
	base      int32
	dfaHits   []uint64 // reporting states met by a DFA scan (see acDFA.scan)
	needleGen []uint8
	repGen    []uint8
	markGen   []uint8 // clauses and big atoms marked (see effect)
	ruleMark  []ruleMark
	cands     []int32

	// memo remembers the needles found in recent field values (see
	// valueMemo); while recording, the needles hit are appended to
	// recorded.
	memo      *valueMemo
	recording bool
	recorded  []int32
}

// ruleMark counts the satisfied clauses of a rule in the event of mark
// generation gen.
type ruleMark struct {
	gen, cnt uint8
}

// slotState is a slot's value for the current event (gen), found under
// the slot's exact name or not. Its lower-cased form is kept apart (see
// low), so that a slot's state fills half a cache line.
type slotState struct {
	gen       uint32
	fi        int32 // the index of the field the value is from
	ok, exact bool
	val       string
}

// lowState is the lower-cased value of a slot for event gen.
type lowState struct {
	gen uint32
	low string
}

// maxGen bounds the generation counter; reaching it clears every mark.
const maxGen = 1<<32 - 1

func newEvalState(e *Engine) *evalState {
	n := len(e.slots)
	return &evalState{
		e:        e,
		slot:     make([]slotState, n),
		lows:     make([]lowState, n),
		present:  make([]uint32, n),
		layouts:  newFieldLayouts(),
		buf:      make([]byte, 0, 4096),
		memo:     newValueMemo(memoSets, memoBytes),
		recorded: make([]int32, 0, 256),
	}
}

// pooledState returns a new state for the engine's pool. States in a
// sync.Pool are dropped by garbage collections; their value memos are
// kept in the engine's stash when they are, and the next new state takes
// one from there, so what the memos learned survives.
func (e *Engine) pooledState() *evalState {
	st := newEvalState(e)
	select {
	case m := <-e.memos:
		st.memo = m
	default:
	}
	stash := e.memos // the cleanup must not keep the engine (or st) alive
	runtime.AddCleanup(st, func(m *valueMemo) {
		select {
		case stash <- m:
		default: // the stash is full: let it go
		}
	}, st.memo)
	return st
}

// nextMarks starts a new mark generation for the prefilter's marks. They
// are bytes, so that the marks of the largest routes stay in the first-level
// cache; every 255 events the generation wraps and the marks are cleared.
func (st *evalState) nextMarks() {
	if st.mgen++; st.mgen == 0 {
		clear(st.needleGen)
		clear(st.repGen)
		clear(st.markGen)
		clear(st.ruleMark)
		st.mgen = 1
	}
}

// begin prepares the state for ev and finds the slots of its fields.
func (st *evalState) begin(ev *schema.Event) {
	st.ev = ev
	st.nextMarks()
	st.gen++
	if st.gen == maxGen { // wrapped: forget every generation mark
		clear(st.slot)
		clear(st.lows)
		clear(st.present)
		clear(st.kwCover)
		st.kwGen, st.kwLowGen = 0, 0
		st.gen = 1
	}
	st.buf = st.buf[:0]
	if n := len(ev.Fields); len(st.kwCover) < n {
		st.kwCover = make([]uint32, n+n/2)
	}
	st.prefetch()
	st.indexFields()
}

// prefetch reads one byte of every cache line of the event's texts (field
// names and values, and the message), up to prefetchLines lines, in a loop
// of independent loads, so that the processor fetches them all at once
// rather than one at a time as the evaluation first reads each.
func (st *evalState) prefetch() {
	var x byte
	lines := prefetchLines
	f := st.ev.Fields
	for i := 0; i < len(f) && lines > 0; i++ {
		k, v := f[i].Key, f[i].Value
		if len(k) > 0 {
			x ^= k[0]
		}
		for j := 0; j < len(v) && lines > 0; j += 64 {
			x ^= v[j]
			lines--
		}
	}
	m := st.ev.Message
	for j := 0; j < len(m) && lines > 0; j += 64 {
		x ^= m[j]
		lines--
	}
	st.sink = x
}

// prefetchLines bounds the cache lines prefetch reads (16 KiB): the texts
// of most events, and no more of an outsized one than the cache holds.
const prefetchLines = 256

// markPresent records whether slot s, just indexed, has a value.
func (st *evalState) markPresent(s int32, ok bool) {
	if ok {
		st.present[s] = st.gen
	} else {
		st.present[s] = 0
	}
}

// end drops the references to the event before the state is pooled.
func (st *evalState) end() {
	st.ev = nil
	st.fields = nil
	st.p = nil
	clear(st.kwRaw)
	clear(st.kwLow)
	st.kwRaw = st.kwRaw[:0]
	st.kwLow = st.kwLow[:0]
	if cap(st.buf) > maxPooledBuf {
		// An outsized event grew the buffer; do not keep it pooled.
		st.buf = make([]byte, 0, 4096)
	}
}

// maxPooledBuf is the largest lower-case buffer a pooled state keeps.
const maxPooledBuf = 256 << 10

// raw returns the value of slot s. Empty values count as absent, so an
// event that omits a field (as Winlogbeat does for empty Windows event data)
// and one that carries it empty behave the same.
func (st *evalState) raw(s int32) (string, bool) {
	sl := &st.slot[s]
	if sl.gen == st.gen {
		return sl.val, sl.ok
	}
	// Original fields were indexed by begin: a slot not found there is
	// absent. ECS fields are read on demand.
	var v string
	if sl := &st.e.slots[s]; sl.ecs {
		v, _ = st.ev.Get(sl.name)
	}
	sl.gen, sl.val, sl.ok = st.gen, v, v != ""
	return v, v != ""
}

// low returns the lower-cased value of slot s, which must be present.
func (st *evalState) low(s int32) string {
	ls := &st.lows[s]
	if ls.gen == st.gen {
		return ls.low
	}
	v := st.lowerText(st.slot[s].val)
	ls.gen, ls.low = st.gen, v
	return v
}

// lowerText returns the lower-case form of v, copying into the event's
// buffer only when v has upper-case letters. The returned string aliases
// the buffer, which is only appended to during one event and reused for the
// next: such strings must not outlive the evaluation.
func (st *evalState) lowerText(v string) string {
	if isLower(v) {
		return v
	}
	start := len(st.buf)
	st.buf = lowerInto(st.buf, v)
	b := st.buf[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// field returns the slot holding detection field fi of the current rule:
// the first of its candidate slots that is present.
func (st *evalState) field(fi int) (int32, bool) {
	for _, s := range st.fields[fi] {
		if _, ok := st.raw(s); ok {
			return s, true
		}
	}
	return -1, false
}

// rule evaluates a rule's condition.
func (st *evalState) rule(d *detection) bool {
	return st.cond(d.cond, d)
}

func (st *evalState) cond(n *condNode, d *detection) bool {
	switch n.kind {
	case condSearch:
		return st.search(d.searches[n.search])
	case condAnd:
		for _, k := range n.kids {
			if !st.cond(k, d) {
				return false
			}
		}
		return true
	case condOr:
		for _, k := range n.kids {
			if st.cond(k, d) {
				return true
			}
		}
		return false
	case condNot:
		return !st.cond(n.kids[0], d)
	case condOf:
		hits := 0
		for i, k := range n.kids {
			if st.cond(k, d) {
				hits++
				if hits >= n.n {
					return true
				}
			}
			if hits+len(n.kids)-i-1 < n.n {
				return false
			}
		}
		return false
	}
	return false
}

// search evaluates a search identifier: any alternative whose items all
// match.
func (st *evalState) search(s *search) bool {
	for _, alt := range s.alts {
		ok := true
		for _, it := range alt {
			if !st.item(it) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// item evaluates one detection item.
func (st *evalState) item(it *item) bool {
	if it.field < 0 {
		return st.keywordItem(it)
	}
	s, ok := st.field(it.field)
	switch it.typ {
	case typeExists:
		return ok == it.exists
	case typeFieldref:
		return ok && st.fieldref(it, s)
	}
	for _, vs := range it.sets {
		if !st.set(vs, s, ok) {
			return false
		}
	}
	return true
}

// set reports whether slot s (present when ok) matches a value set. The
// set's literals were decided by the prefilter's scan of the field (its
// atom is flagged def when one matched); the rest of its patterns are
// checked here, unless the prefilter found none of their required
// literals.
func (st *evalState) set(vs *valueSet, s int32, ok bool) bool {
	if !ok {
		return vs.null
	}
	a := st.base + vs.idx
	if st.p == nil || !st.p.scanned[a] {
		return st.setNaive(vs, s)
	}
	f := st.atomFlags(a)
	if f&flagDef != 0 {
		return true
	}
	if !vs.slow || (vs.pre && f&flagMaybe == 0) {
		return false
	}
	raw := st.slot[s].val
	text := raw
	if !vs.cased && len(vs.globs) > 0 {
		text = st.low(s)
	}
	return vs.matchSlow(text, raw)
}

// setNaive matches a present slot against every pattern of a set, without
// the prefilter (the reference evaluation the prefilter must agree with).
func (st *evalState) setNaive(vs *valueSet, s int32) bool {
	raw := st.slot[s].val
	if vs.text {
		v := raw
		if !vs.cased {
			v = st.low(s)
		}
		if vs.matchText(v) {
			return true
		}
	}
	return vs.rawPats && vs.matchRaw(raw)
}

// fieldref compares the value of slot s with the referenced fields.
func (st *evalState) fieldref(it *item, s int32) bool {
	for _, ref := range it.refs {
		rs, ok := st.field(ref)
		hit := ok && st.refMatch(it, s, rs)
		if hit && !it.refAll {
			return true
		}
		if !hit && it.refAll {
			return false
		}
	}
	return it.refAll
}

// refMatch compares the values of slots s and rs as a fieldref item says.
// Equality of ASCII values is decided without lower-casing copies.
func (st *evalState) refMatch(it *item, s, rs int32) bool {
	a, b := st.slot[s].val, st.slot[rs].val
	if !it.cased {
		if it.refWild == "" && firstHigh(a) < 0 && firstHigh(b) < 0 {
			return equalFoldASCII(a, b)
		}
		a, b = st.low(s), st.low(rs)
	}
	switch it.refWild {
	case "contains":
		return strings.Contains(a, b)
	case "startswith":
		return strings.HasPrefix(a, b)
	case "endswith":
		return strings.HasSuffix(a, b)
	}
	return a == b
}

// equalFoldASCII reports whether ASCII strings a and b are equal with
// letters folded.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldByte(a[i]) != foldByte(b[i]) {
			return false
		}
	}
	return true
}
