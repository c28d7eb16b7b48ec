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

	slot   []slotState // per slot: its value for the event
	keyBuf []byte      // a field name without its spaces
	buf    []byte      // backing store of this event's lower-cased values

	kwGen    uint32   // kwGen == gen: kwRaw holds the keyword texts
	kwRaw    []string // the message and field values
	kwLowGen uint32   // kwLowGen == gen: kwLow holds them lower-cased
	kwLow    []string
	kwCatGen uint32 // kwCatGen == gen: kwCat and kwLong hold them (see kwJoined)
	kwCat    []byte
	kwLong   []string
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
	needleGen []uint32
	repGen    []uint32
	clauseGen []uint32
	bigGen    []uint32 // marks of big atoms (see indexBigAtoms)
	ruleMark  []ruleMark
	cands     []int32

	// memo remembers the needles found in recent field values (see
	// valueMemo); while recording, the needles hit are appended to
	// recorded.
	memo      *valueMemo
	recording bool
	recorded  []int32
}

// ruleMark counts the satisfied clauses of a rule in event gen.
type ruleMark struct {
	gen uint32
	cnt int32
}

// slotState is a slot's value for the current event (gen), found under
// the slot's exact name or not, and its lower-cased form (lowGen).
type slotState struct {
	gen, lowGen uint32
	ok, exact   bool
	val, low    string
}

// maxGen bounds the generation counter; reaching it clears every mark.
const maxGen = 1<<32 - 1

func newEvalState(e *Engine) *evalState {
	n := len(e.slots)
	return &evalState{
		e:        e,
		slot:     make([]slotState, n),
		buf:      make([]byte, 0, 4096),
		memo:     newValueMemo(memoSets, memoBytes, memoIDs),
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

// begin prepares the state for ev and finds the slots of its fields.
func (st *evalState) begin(ev *schema.Event) {
	st.ev = ev
	st.gen++
	if st.gen == maxGen { // wrapped: forget every generation mark
		for _, m := range [][]uint32{st.needleGen, st.repGen, st.clauseGen, st.bigGen} {
			clear(m)
		}
		clear(st.ruleMark)
		clear(st.slot)
		st.kwGen, st.kwLowGen, st.kwCatGen = 0, 0, 0
		st.gen = 1
	}
	st.buf = st.buf[:0]
	st.indexFields()
}

// indexFields records the value of every field of the event that fills a
// slot: the first field of the slot's exact name, or else the first whose
// name without spaces is the slot's ("Threat Name" for ThreatName, as the
// Sigma specification writes such fields).
func (st *evalState) indexFields() {
	slots, f := st.e.fieldTable, st.ev.Fields
	for i := range f {
		k := f[i].Key
		if s, ok := slots.get(k); ok {
			if sl := &st.slot[s]; sl.gen != st.gen || !sl.exact {
				sl.gen, sl.val, sl.ok, sl.exact = st.gen, f[i].Value, f[i].Value != "", true
			}
			if !st.e.spacedSlots {
				continue // no other slot can take a name with spaces
			}
		}
		if len(k) == 0 || k[0] == ' ' || strings.IndexByte(k, ' ') < 0 {
			continue
		}
		st.keyBuf = st.keyBuf[:0]
		for j := 0; j < len(k); j++ {
			if k[j] != ' ' {
				st.keyBuf = append(st.keyBuf, k[j])
			}
		}
		if s, ok := slots.get(string(st.keyBuf)); ok && st.slot[s].gen != st.gen {
			sl := &st.slot[s]
			sl.gen, sl.val, sl.ok, sl.exact = st.gen, f[i].Value, f[i].Value != "", false
		}
	}
}

// end drops the references to the event before the state is pooled.
func (st *evalState) end() {
	st.ev = nil
	st.fields = nil
	st.p = nil
	clear(st.kwRaw)
	clear(st.kwLow)
	clear(st.kwLong)
	st.kwRaw = st.kwRaw[:0]
	st.kwLow = st.kwLow[:0]
	if cap(st.buf) > maxPooledBuf {
		// An outsized event grew the buffer; do not keep it pooled.
		st.buf = make([]byte, 0, 4096)
	}
	if cap(st.kwCat) > maxPooledBuf {
		st.kwCat = nil
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
	sl := &st.slot[s]
	if sl.lowGen == st.gen {
		return sl.low
	}
	v := st.lowerText(sl.val)
	sl.lowGen, sl.low = st.gen, v
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

// keywordItem matches a keyword item against the event's message and every
// original field value: each set must match one of them.
func (st *evalState) keywordItem(it *item) bool {
	for _, vs := range it.sets {
		if a := st.base + vs.idx; st.p != nil && st.p.scanned[a] {
			f := st.atomFlags(a)
			if f&flagDef != 0 {
				continue
			}
			if !vs.slow || (vs.pre && f&flagMaybe == 0) {
				return false
			}
		}
		st.kwLower()
		hit := false
		for i, raw := range st.kwRaw {
			if vs.text {
				v := raw
				if !vs.cased {
					v = st.kwLow[i]
				}
				if vs.matchText(v) {
					hit = true
					break
				}
			}
			if vs.rawPats && vs.matchRaw(raw) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// keywords collects the texts keyword items search, once per event.
func (st *evalState) keywords() {
	if st.kwGen == st.gen {
		return
	}
	st.kwGen = st.gen
	st.kwRaw = st.kwRaw[:0]
	if st.ev.Message != "" {
		st.kwRaw = append(st.kwRaw, st.ev.Message)
	}
	for i := range st.ev.Fields {
		if v := st.ev.Fields[i].Value; v != "" {
			st.kwRaw = append(st.kwRaw, v)
		}
	}
}

// kwLower lower-cases the keyword texts, once per event.
func (st *evalState) kwLower() {
	st.keywords()
	if st.kwLowGen == st.gen {
		return
	}
	st.kwLowGen = st.gen
	st.kwLow = st.kwLow[:0]
	for _, v := range st.kwRaw {
		st.kwLow = append(st.kwLow, st.lowerText(v))
	}
}
