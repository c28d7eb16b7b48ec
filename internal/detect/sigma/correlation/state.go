package correlation

import (
	"math"
	"math/bits"
	"sort"
	"strings"
	"unsafe"

	"github.com/vigil-soc/vigil/internal/schema"
)

// corr is a correlation rule with its state.
type corr struct {
	rule         *Rule
	span         int64 // timespan in nanoseconds
	monotone     bool  // decided when a match arrives, not when the window closes
	groupFields  [][]string
	valueFields  [][]string
	down         []edge // correlations that reference this one
	intermediate bool   // results only feed other correlations
	groups       map[string]*group
	head, tail   *group // least and most recently used
	lastSweep    int64
	swept        bool
}

func (c *corr) init() {
	c.monotone = c.rule.Condition.Monotone()
}

// group is the state of one group of a correlation: its matches, sorted
// by time.
type group struct {
	key        string
	values     []string
	entries    []entry
	prev, next *group
}

// entry is one match held in a group.
type entry struct {
	at   int64     // event time, UnixNano
	id   uint64    // event id, 0 when unknown
	mask uint64    // positions in the rules list the match fills
	val  string    // value_count: the counted value(s)
	sub  *[]uint64 // a chained result's event ids
}

// input is a match on its way into a correlation: a base-rule match, or a
// result of a referenced correlation (up set).
type input struct {
	at int64
	id uint64
	ev *schema.Event
	up *Result
}

// value reads a group-by or value field for an input: from the upstream
// result's group when chained, else from the event.
func (e *Engine) value(in input, field string) (string, bool) {
	if in.up != nil {
		for _, g := range in.up.Group {
			if g.Field == field {
				return g.Value, true
			}
		}
	}
	if in.ev == nil {
		return "", false
	}
	v, ok := e.opts.Lookup(in.ev, field)
	return v, ok && v != ""
}

// feed adds an input to correlation c at the positions in mask, and
// decides monotone conditions at once.
func (e *Engine) feed(c *corr, mask uint64, in input) {
	// Results of referenced correlations are never late: a window with an
	// upper bound is only decided once its lateness has passed.
	if in.up == nil && in.at < e.clock-c.span {
		e.stats.Late++
		return
	}
	p := bits.TrailingZeros64(mask)
	key := e.scratch.key[:0]
	for _, f := range c.groupFields[p] {
		v, ok := e.value(in, f)
		if !ok {
			e.stats.MissingField++
			return
		}
		key = appendPart(key, v)
	}
	e.scratch.key = key
	var val string
	if c.rule.Type == ValueCount {
		var ok bool
		if val, ok = e.joinValues(in, c.valueFields[p]); !ok {
			e.stats.MissingField++
			return
		}
	}
	g := c.groups[string(key)]
	if g == nil {
		g = e.newGroup(c, in, p)
	} else {
		c.touch(g)
	}
	ent := entry{at: in.at, id: in.id, mask: mask, val: val}
	if in.up != nil {
		ids := append([]uint64(nil), in.up.EventIDs...)
		ent.sub = &ids
	}
	e.insert(c, g, ent)
	if c.monotone {
		if w, ok := e.evalEager(c, g, in.at); ok {
			e.fire(c, g, w, in.ev)
		}
	}
}

// appendPart appends a length-prefixed part to a group key.
func appendPart(b []byte, s string) []byte {
	n := len(s)
	b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, s...)
}

// joinValues reads the value_count field(s) of an input, cloned so the
// entry does not pin the event's memory.
func (e *Engine) joinValues(in input, fields []string) (string, bool) {
	if len(fields) == 1 {
		v, ok := e.value(in, fields[0])
		return strings.Clone(v), ok
	}
	b := e.scratch.val[:0]
	for _, f := range fields {
		v, ok := e.value(in, f)
		if !ok {
			return "", false
		}
		b = appendPart(b, v)
	}
	e.scratch.val = b
	return string(b), true
}

// newGroup creates the group of the current key, evicting the least
// recently used group when the rule holds MaxGroups.
func (e *Engine) newGroup(c *corr, in input, p int) *group {
	if len(c.groups) >= e.opts.MaxGroups && c.head != nil {
		e.stats.EvictedGroups++
		c.remove(c.head)
	}
	g := &group{key: string(e.scratch.key)}
	for _, f := range c.groupFields[p] {
		v, _ := e.value(in, f)
		g.values = append(g.values, strings.Clone(v))
	}
	c.groups[g.key] = g
	c.pushBack(g)
	return g
}

// insert adds an entry in time order (equal times keep arrival order),
// compacts redundant entries, drops entries too old to matter and applies
// the MaxEntries cap.
func (e *Engine) insert(c *corr, g *group, ent entry) {
	n := len(g.entries)
	if n == 0 || g.entries[n-1].at <= ent.at {
		g.entries = append(g.entries, ent)
		c.compact(g, e.clock)
	} else {
		i := sort.Search(n, func(i int) bool { return g.entries[i].at > ent.at })
		g.entries = append(g.entries, entry{})
		copy(g.entries[i+1:], g.entries[i:])
		g.entries[i] = ent
	}
	if c.monotone {
		g.dropBefore(e.clock - 2*c.span)
	}
	if over := len(g.entries) - e.opts.MaxEntries; over > 0 {
		e.stats.DroppedEntries += uint64(over)
		g.dropFirst(over)
	}
}

// compact removes an entry made redundant by the one just appended. For
// value_count and temporal, of three entries with the same value (or
// rule) within one timespan the middle one adds nothing: every window
// holding it holds one of the other two. For temporal_ordered, an entry
// directly followed by one of the same single rule adds nothing: the later
// one fills the same place in any sequence with a later start.
func (c *corr) compact(g *group, clock int64) {
	es := g.entries
	n := len(es)
	last := es[n-1]
	switch c.rule.Type {
	case ValueCount, Temporal:
		p1, p2 := -1, -1
		for i := n - 2; i >= 0 && es[i].at >= last.at-c.span; i-- {
			if es[i].mask == last.mask && es[i].val == last.val {
				if p1 < 0 {
					p1 = i
				} else {
					p2 = i
					break
				}
			}
		}
		if p2 >= 0 {
			g.removeAt(p1)
		}
	case TemporalOrdered:
		// A late match may still land between two entries newer than the
		// lateness bound, so only older pairs are merged.
		settled := clock - c.span
		w := 0
		for i := range es {
			if i+1 < n && es[i+1].at < settled && es[i].mask == es[i+1].mask && bits.OnesCount64(es[i].mask) == 1 {
				continue
			}
			es[w] = es[i]
			w++
		}
		clear(es[w:])
		g.entries = es[:w]
	}
}

func (g *group) removeAt(i int) {
	copy(g.entries[i:], g.entries[i+1:])
	g.entries[len(g.entries)-1] = entry{}
	g.entries = g.entries[:len(g.entries)-1]
}

// dropBefore drops the entries older than t.
func (g *group) dropBefore(t int64) {
	k := 0
	for k < len(g.entries) && g.entries[k].at < t {
		k++
	}
	g.dropFirst(k)
}

// dropFirst drops the k oldest entries, moving the rest down so the
// backing array does not grow without bound, and shrinks it when mostly
// empty.
func (g *group) dropFirst(k int) {
	if k <= 0 {
		return
	}
	n := copy(g.entries, g.entries[k:])
	clear(g.entries[n:])
	g.entries = g.entries[:n]
	if cap(g.entries) > 64 && n < cap(g.entries)/4 {
		g.entries = append([]entry(nil), g.entries...)
	}
}

// LRU list operations.

func (c *corr) pushBack(g *group) {
	g.prev, g.next = c.tail, nil
	if c.tail != nil {
		c.tail.next = g
	} else {
		c.head = g
	}
	c.tail = g
}

func (c *corr) unlink(g *group) {
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		c.head = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		c.tail = g.prev
	}
	g.prev, g.next = nil, nil
}

func (c *corr) touch(g *group) {
	if c.tail != g {
		c.unlink(g)
		c.pushBack(g)
	}
}

func (c *corr) remove(g *group) {
	c.unlink(g)
	delete(c.groups, g.key)
}

// size returns the groups and entries held and an estimate of their bytes.
func (c *corr) size() (groups, entries int, bytes int64) {
	const mapEntry = 48 // key header, pointer, bucket overhead
	for g := c.head; g != nil; g = g.next {
		groups++
		entries += len(g.entries)
		bytes += int64(unsafe.Sizeof(*g)) + mapEntry + int64(2*len(g.key))
		bytes += int64(cap(g.values)) * int64(unsafe.Sizeof(""))
		bytes += int64(cap(g.entries)) * int64(unsafe.Sizeof(entry{}))
		for i := range g.entries {
			bytes += int64(len(g.entries[i].val))
			if g.entries[i].sub != nil {
				bytes += 24 + 8*int64(cap(*g.entries[i].sub))
			}
		}
	}
	return groups, entries, bytes
}

// sweep runs, for every correlation whose clock moved a quarter of its
// timespan since the last sweep (or for all when final), the closing of
// windows whose lateness has passed and the removal of expired state.
func (e *Engine) sweep(final bool) {
	if !final && e.swept && e.clock < e.nextSweep {
		return
	}
	e.swept = true
	e.nextSweep = math.MaxInt64
	for _, c := range e.corrs {
		step := max(c.span/4, int64(1e9))
		if !final && c.swept && e.clock-c.lastSweep < step {
			e.nextSweep = min(e.nextSweep, c.lastSweep+step)
			continue
		}
		c.lastSweep, c.swept = e.clock, true
		e.nextSweep = min(e.nextSweep, e.clock+step)
		for g := c.head; g != nil; {
			next := g.next
			if !c.monotone {
				e.closeWindows(c, g, final)
			} else {
				g.dropBefore(e.clock - 2*c.span)
			}
			if len(g.entries) == 0 {
				e.stats.ExpiredGroups++
				c.remove(g)
			}
			g = next
		}
	}
}
