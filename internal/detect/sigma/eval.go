package sigma

import (
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
	gen uint32

	rawGen []uint32 // rawGen[s] == gen: rawVal/rawOK hold slot s
	rawVal []string
	rawOK  []bool
	lowGen []uint32 // lowGen[s] == gen: lowVal holds slot s lower-cased
	lowVal []string
	buf    []byte // backing store of this event's lower-cased values

	kwGen  uint32   // kwGen == gen: kwLow holds the keyword texts
	kwLow  []string // lower-cased message and field values
	kwRaw  []string // the same, as written
	fields [][]int32

	matched []uint16
	key     []byte
}

func newEvalState(e *Engine) *evalState {
	n := len(e.slots)
	return &evalState{
		e:      e,
		rawGen: make([]uint32, n),
		rawVal: make([]string, n),
		rawOK:  make([]bool, n),
		lowGen: make([]uint32, n),
		lowVal: make([]string, n),
		buf:    make([]byte, 0, 4096),
	}
}

// begin prepares the state for ev.
func (st *evalState) begin(ev *schema.Event) {
	st.ev = ev
	st.gen++
	if st.gen == 0 { // wrapped: forget every generation mark
		clear(st.rawGen)
		clear(st.lowGen)
		st.kwGen = 0
		st.gen = 1
	}
	st.buf = st.buf[:0]
}

// end drops the references to the event before the state is pooled.
func (st *evalState) end() {
	st.ev = nil
	st.fields = nil
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
	if st.rawGen[s] == st.gen {
		return st.rawVal[s], st.rawOK[s]
	}
	sl := &st.e.slots[s]
	var v string
	if sl.ecs {
		v, _ = st.ev.Get(sl.name)
	} else {
		v = fieldValue(st.ev.Fields, sl.name)
	}
	st.rawGen[s], st.rawVal[s], st.rawOK[s] = st.gen, v, v != ""
	return v, v != ""
}

// fieldValue returns the value of the original field name. A field whose
// name has spaces is also found under the name without them, as the Sigma
// specification writes such fields ("Threat Name" is ThreatName); an exact
// name wins.
func fieldValue(f schema.Fields, name string) string {
	spaced := -1
	for i := range f {
		k := f[i].Key
		if k == name {
			return f[i].Value
		}
		if spaced < 0 && len(k) > len(name) && len(name) > 0 && k[0] == name[0] && equalWithoutSpaces(k, name) {
			spaced = i
		}
	}
	if spaced >= 0 {
		return f[spaced].Value
	}
	return ""
}

// equalWithoutSpaces reports whether k with its spaces removed is name.
func equalWithoutSpaces(k, name string) bool {
	j := 0
	for i := 0; i < len(k); i++ {
		if k[i] == ' ' {
			continue
		}
		if j >= len(name) || k[i] != name[j] {
			return false
		}
		j++
	}
	return j == len(name)
}

// low returns the lower-cased value of slot s, which must be present.
func (st *evalState) low(s int32) string {
	if st.lowGen[s] == st.gen {
		return st.lowVal[s]
	}
	v := st.lowerText(st.rawVal[s])
	st.lowGen[s], st.lowVal[s] = st.gen, v
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

// set reports whether slot s (present when ok) matches a value set.
func (st *evalState) set(vs *valueSet, s int32, ok bool) bool {
	if !ok {
		return vs.null
	}
	raw := st.rawVal[s]
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
	a := st.rawVal[s]
	if !it.cased {
		a = st.low(s)
	}
	for _, ref := range it.refs {
		rs, ok := st.field(ref)
		hit := false
		if ok {
			b := st.rawVal[rs]
			if !it.cased {
				b = st.low(rs)
			}
			switch it.refWild {
			case "contains":
				hit = strings.Contains(a, b)
			case "startswith":
				hit = strings.HasPrefix(a, b)
			case "endswith":
				hit = strings.HasSuffix(a, b)
			default:
				hit = a == b
			}
		}
		if hit && !it.refAll {
			return true
		}
		if !hit && it.refAll {
			return false
		}
	}
	return it.refAll
}

// keywordItem matches a keyword item against the event's message and every
// original field value: each set must match one of them.
func (st *evalState) keywordItem(it *item) bool {
	st.keywords()
	for _, vs := range it.sets {
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
	st.kwRaw, st.kwLow = st.kwRaw[:0], st.kwLow[:0]
	add := func(v string) {
		if v != "" {
			st.kwRaw = append(st.kwRaw, v)
			st.kwLow = append(st.kwLow, st.lowerText(v))
		}
	}
	add(st.ev.Message)
	for i := range st.ev.Fields {
		add(st.ev.Fields[i].Value)
	}
}
