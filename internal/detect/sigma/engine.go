package sigma

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Engine evaluates compiled Sigma rules on events. Rules are evaluated only
// on events of their logsource: per event, the engine finds the mapping's
// logsources the event belongs to (through an index on the first condition
// of each definition) and evaluates only the rules indexed under them, with
// those logsources' field mappings. An Engine is safe for concurrent use.
type Engine struct {
	rules   []*Rule
	slots   []slot
	slotIdx map[string]int32
	// fieldSlot maps the names of the slots read from the original fields
	// (not ECS names) to their slots; fieldTable is its lookup table.
	fieldSlot  map[string]int32
	fieldTable *slotTable
	// spacedSlots says some slot name has a space, so a field found under
	// one slot's name may also fill another's (see indexFields).
	spacedSlots bool
	// routeSlots are the slots routing conditions read; routeCache maps
	// their values (see routeKey) to the route of events with them.
	routeSlots []int32
	routeCache atomic.Pointer[map[string]*route]
	sources    []engSource
	// primary indexes the sources by the value of their first condition's
	// field, one index per distinct field.
	primary []primaryIndex
	// sourceRules lists, per source, the indexes of the rules it routes to.
	sourceRules [][]int32
	unrouted    []*Rule

	routes  atomic.Pointer[map[string]*route]
	routeMu sync.Mutex
	// memos keeps the value memos of pooled states the garbage collector
	// dropped, for new states (see pooledState).
	memos chan *valueMemo
	// nGroups counts the scan groups of the routes built (under routeMu),
	// numbering them for the value memo.
	nGroups uint32
	pool    sync.Pool
	// naive evaluates every routed rule on every pattern, without the
	// prefilter: the reference the tests compare the prefilter with.
	naive bool
}

// slot is an event field the engine reads: by ECS name through
// schema.Event.Get, or by original name from Event.Fields.
type slot struct {
	name string
	ecs  bool
}

// engSource is a mapping source with its conditions resolved to slots.
type engSource struct {
	src   *Source
	conds []engCond
}

type engCond struct {
	slot   int32
	values map[string]struct{}
}

type primaryIndex struct {
	slot    int32
	byValue map[string][]uint16
}

// route is what applies to events of one combination of sources: the rules
// to evaluate, each with its fields resolved to slots, and the prefilter
// that decides which of them can match an event.
type route struct {
	rules []routedRule
	plan  *plan
}

type routedRule struct {
	rule *Rule
	// fields holds, per detection field, the slots to try in order.
	fields [][]int32
	// atomBase is the first of the rule's atoms in the route's plan.
	atomBase int32
}

// maxSources bounds the number of source definitions (route keys hold
// source indexes in two bytes).
const maxSources = 1 << 16

// NewEngine compiles an engine for rules under mapping. Rules must come from
// LoadFile or LoadDir and be detection rules; a rule whose logsource no
// mapping source provides is kept aside (see Unrouted) and never
// evaluated.
func NewEngine(rules []*Rule, mapping *Mapping) (*Engine, error) {
	if mapping == nil {
		return nil, errors.New("sigma: NewEngine needs a mapping")
	}
	if len(mapping.sources) > maxSources {
		return nil, fmt.Errorf("sigma: %d logsource definitions exceed the limit of %d", len(mapping.sources), maxSources)
	}
	if len(rules) > maxEffectRules {
		return nil, fmt.Errorf("sigma: %d rules exceed the limit of %d", len(rules), maxEffectRules)
	}
	e := &Engine{slotIdx: map[string]int32{}, fieldSlot: map[string]int32{}}
	for _, r := range rules {
		if r == nil || r.det == nil {
			return nil, fmt.Errorf("sigma: rule %q (%s) is not a loaded detection rule", ruleName(r), rulePath(r))
		}
	}
	e.rules = rules
	e.indexSources(mapping)
	e.sourceRules = make([][]int32, len(e.sources))
	for i, r := range rules {
		routed := false
		for si := range e.sources {
			if r.Logsource.appliesTo(e.sources[si].src) {
				e.sourceRules[si] = append(e.sourceRules[si], int32(i))
				routed = true
			}
		}
		if !routed {
			e.unrouted = append(e.unrouted, r)
		}
		for _, f := range r.det.fields {
			e.slotFor(f)
		}
	}
	e.fieldTable = newSlotTable(e.fieldSlot)
	empty, none := map[string]*route{}, map[string]*route{}
	e.routes.Store(&empty)
	e.routeCache.Store(&none)
	e.memos = make(chan *valueMemo, 2*runtime.GOMAXPROCS(0))
	e.pool.New = func() any { return e.pooledState() }
	return e, nil
}

func ruleName(r *Rule) string {
	if r == nil {
		return "<nil>"
	}
	if r.ID != "" {
		return r.ID
	}
	return r.Title
}

func rulePath(r *Rule) string {
	if r == nil {
		return ""
	}
	return r.Path
}

// indexSources resolves the mapping's conditions and field targets to
// slots and builds the primary index.
func (e *Engine) indexSources(m *Mapping) {
	byField := map[int32]int{}
	for si, s := range m.sources {
		es := engSource{src: s}
		for _, c := range s.When {
			ec := engCond{slot: e.slotFor(c.Field), values: map[string]struct{}{}}
			for _, v := range c.Values {
				ec.values[v] = struct{}{}
			}
			es.conds = append(es.conds, ec)
		}
		for _, targets := range s.Fields {
			for _, t := range targets {
				e.slotFor(t)
			}
		}
		for _, c := range es.conds {
			if !slices.Contains(e.routeSlots, c.slot) {
				e.routeSlots = append(e.routeSlots, c.slot)
			}
		}
		e.sources = append(e.sources, es)
		first := es.conds[0]
		pi, ok := byField[first.slot]
		if !ok {
			pi = len(e.primary)
			byField[first.slot] = pi
			e.primary = append(e.primary, primaryIndex{slot: first.slot, byValue: map[string][]uint16{}})
		}
		for v := range first.values {
			e.primary[pi].byValue[v] = append(e.primary[pi].byValue[v], uint16(si))
		}
	}
}

// slotFor returns the slot of an event field name, adding it when new.
func (e *Engine) slotFor(name string) int32 {
	if i, ok := e.slotIdx[name]; ok {
		return i
	}
	i := int32(len(e.slots))
	e.slots = append(e.slots, slot{name: name, ecs: isECSName(name)})
	e.slotIdx[name] = i
	if !e.slots[i].ecs {
		e.fieldSlot[name] = i
		e.spacedSlots = e.spacedSlots || strings.Contains(name, " ")
	}
	return i
}

// isECSName reports whether schema.Event.Get reads name from the ECS fields.
func isECSName(name string) bool {
	return slices.Contains(schema.ECSFieldNames(), name)
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []*Rule { return e.rules }

// Unrouted returns the rules whose logsource no mapping source provides;
// the engine never evaluates them.
func (e *Engine) Unrouted() []*Rule { return e.unrouted }

// Match evaluates the rules of ev's logsources on ev and calls fn for each
// rule that matches, in rule order. fn must not keep ev.
//
// One pass of the route's automata over each field the rules read decides
// which literals occur; only the rules that can still match are then
// evaluated, reading those results instead of comparing strings (see
// plan).
func (e *Engine) Match(ev *schema.Event, fn func(r *Rule)) {
	st := e.pool.Get().(*evalState)
	st.begin(ev)
	if rt := e.route(st); rt != nil {
		if e.naive {
			for i := range rt.rules {
				rr := &rt.rules[i]
				st.fields = rr.fields
				if st.rule(rr.rule.det) {
					fn(rr.rule)
				}
			}
		} else {
			st.evalRoute(rt, fn)
		}
	}
	st.end()
	e.pool.Put(st)
}

// routeOf finds the sources ev belongs to and returns their route, or nil
// when it belongs to none.
func (e *Engine) routeOf(st *evalState) *route {
	matched := st.matched[:0]
	for pi := range e.primary {
		p := &e.primary[pi]
		v, ok := st.raw(p.slot)
		if !ok {
			continue
		}
		for _, si := range p.byValue[v] {
			if e.sources[si].matchRest(st) {
				matched = append(matched, si)
			}
		}
	}
	st.matched = matched
	if len(matched) == 0 {
		return nil
	}
	slices.Sort(matched)
	key := st.key[:0]
	for _, si := range matched {
		key = append(key, byte(si>>8), byte(si))
	}
	st.key = key
	if rt, ok := (*e.routes.Load())[string(key)]; ok {
		return rt
	}
	return e.addRoute(string(key), matched)
}

// matchRest checks a source's conditions after the first.
func (s *engSource) matchRest(st *evalState) bool {
	for _, c := range s.conds[1:] {
		v, ok := st.raw(c.slot)
		if !ok {
			return false
		}
		if _, ok := c.values[v]; !ok {
			return false
		}
	}
	return true
}

// addRoute builds the route of a source combination and publishes it with
// copy-on-write, so readers never lock.
func (e *Engine) addRoute(key string, sources []uint16) *route {
	e.routeMu.Lock()
	defer e.routeMu.Unlock()
	old := *e.routes.Load()
	if rt, ok := old[key]; ok {
		return rt
	}
	rt := e.buildRoute(sources)
	next := make(map[string]*route, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = rt
	e.routes.Store(&next)
	return rt
}

// buildRoute merges the rules of sources (each once, in rule order) and
// resolves every rule field through the field mappings of the sources that
// route the rule, in source order, falling back to the field's own name.
func (e *Engine) buildRoute(sources []uint16) *route {
	via := map[int32][]uint16{}
	var order []int32
	for _, si := range sources {
		for _, ri := range e.sourceRules[si] {
			if _, ok := via[ri]; !ok {
				order = append(order, ri)
			}
			via[ri] = append(via[ri], si)
		}
	}
	slices.Sort(order)
	rt := &route{rules: make([]routedRule, 0, len(order))}
	for _, ri := range order {
		r := e.rules[ri]
		rr := routedRule{rule: r, fields: make([][]int32, len(r.det.fields))}
		for fi, name := range r.det.fields {
			var slots []int32
			for _, si := range via[ri] {
				for _, t := range e.sources[si].src.Fields[name] {
					// NewEngine registered every mapping target and rule
					// field, so the slot table is only read here.
					if s, ok := e.slotIdx[t]; ok && !slices.Contains(slots, s) {
						slots = append(slots, s)
					}
				}
			}
			if len(slots) == 0 {
				slots = []int32{e.slotIdx[name]}
			}
			rr.fields[fi] = slots
		}
		rt.rules = append(rt.rules, rr)
	}
	rt.plan = buildPlan(rt, func(s int32) bool { return e.slots[s].ecs })
	e.nGroups = rt.plan.numberGroups(e.nGroups)
	return rt
}
