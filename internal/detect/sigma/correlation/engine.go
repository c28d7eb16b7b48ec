package correlation

import (
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Defaults of Options.
const (
	DefaultMaxGroups   = 10000
	DefaultMaxEntries  = 1000
	DefaultMaxEvidence = 32
)

// Options configure an Engine.
type Options struct {
	// BaseRules are the detection rules that correlations may reference.
	// References that name neither one of them nor a correlation are
	// reported and their correlation skipped. When BaseRules is nil,
	// references are not checked: any reference that is not a correlation
	// is taken to be a detection rule's id or name.
	BaseRules []RuleRef
	// MaxGroups caps the groups held per correlation rule; when a new
	// group would exceed it, the least recently used group is evicted.
	// Zero means DefaultMaxGroups.
	MaxGroups int
	// MaxEntries caps the matches held per group; the oldest are dropped
	// beyond it. Zero means DefaultMaxEntries.
	MaxEntries int
	// MaxEvidence caps the event ids (and values) a Result carries. Zero
	// means DefaultMaxEvidence.
	MaxEvidence int
	// Lookup reads a field of an event for group-by and value_count
	// fields. Nil means schema.Event.Get (ECS or original field names).
	Lookup func(ev *schema.Event, field string) (string, bool)
}

// Match is one match of a detection rule (or of a correlation rule
// evaluated elsewhere), in event time.
type Match struct {
	// RuleID and RuleName identify the rule that matched; references are
	// matched against both.
	RuleID, RuleName string
	// Time is the event time of the match; zero means Event.Timestamp.
	Time time.Time
	// Event is the matched event. Its group-by and value fields are read
	// during Observe; the engine keeps no reference to it afterwards.
	Event *schema.Event
}

// Engine evaluates correlation rules over a stream of matches in event
// time. It is safe for concurrent use; matches should arrive in roughly
// event-time order (see the package documentation for the lateness
// allowed).
type Engine struct {
	mu      sync.Mutex
	opts    Options
	corrs   []*corr // each after the correlations it references
	byRef   map[string][]edge
	nogen   map[string]bool // base rule ids and names without alerts of their own
	clock   int64           // watermark: the largest event time seen (UnixNano)
	started bool
	// nextSweep is the clock at which some correlation is next due a
	// sweep; swept is false until the first sweep.
	nextSweep int64
	swept     bool
	stats     Stats
	scratch   scratch
	out       []Result
	hit       []edge
}

// NewEngine builds an engine for rules. Every rule that cannot be used —
// invalid, a duplicate id or name, an unknown reference, a reference cycle,
// an alias naming a rule it does not reference, or a reference to a rule
// skipped for any of these reasons — is reported and left out; the engine
// runs the others.
func NewEngine(rules []*Rule, opts Options) (*Engine, []LoadError) {
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = DefaultMaxGroups
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxEvidence <= 0 {
		opts.MaxEvidence = DefaultMaxEvidence
	}
	if opts.Lookup == nil {
		opts.Lookup = (*schema.Event).Get
	}
	b := newBuilder(rules, opts)
	for _, c := range b.corrs {
		if reason := b.fields(c); reason != "" {
			b.skip(c, reason)
		}
	}
	b.checkRefs()
	b.propagate()
	e := &Engine{opts: opts, corrs: b.order(), byRef: map[string][]edge{}, nogen: map[string]bool{}}
	for _, c := range e.corrs {
		c.init()
		e.link(b, c)
	}
	e.scratch.values = map[string]int32{}
	return e, b.errs
}

// link indexes the references of c: base rules in byRef, correlations by
// a downstream edge.
func (e *Engine) link(b *builder, c *corr) {
	for p, ref := range c.rule.Rules {
		bit := uint64(1) << p
		t := b.resolve(ref)
		if t.c != nil {
			t.c.down = addEdge(t.c.down, c, bit)
			if !c.rule.Generate {
				t.c.intermediate = true
			}
			continue
		}
		for _, k := range uniqueKeys(ref, t.base.ID, t.base.Name) {
			e.byRef[k] = addEdge(e.byRef[k], c, bit)
			if !c.rule.Generate {
				e.nogen[k] = true
			}
		}
	}
}

func uniqueKeys(keys ...string) []string {
	out := keys[:0:0]
	for _, k := range keys {
		dup := k == ""
		for _, o := range out {
			dup = dup || o == k
		}
		if !dup {
			out = append(out, k)
		}
	}
	return out
}

func addEdge(edges []edge, c *corr, bit uint64) []edge {
	for i := range edges {
		if edges[i].c == c {
			edges[i].mask |= bit
			return edges
		}
	}
	return append(edges, edge{c: c, mask: bit})
}

// Rules returns the correlation rules the engine runs, each after the
// correlations it references.
func (e *Engine) Rules() []*Rule {
	out := make([]*Rule, len(e.corrs))
	for i, c := range e.corrs {
		out[i] = c.rule
	}
	return out
}

// Generates reports whether a detection rule should raise alerts of its
// own: false when a correlation without generate: true references it (as
// pySigma decides).
func (e *Engine) Generates(ref RuleRef) bool {
	return !e.nogen[ref.ID] && !e.nogen[ref.Name]
}

// Observe feeds one match into the engine and calls emit for every
// correlation that fires because of it (including chained correlations),
// after the engine's lock is released. Matches of rules no correlation
// references cost a map lookup.
func (e *Engine) Observe(m Match, emit func(Result)) {
	at := m.Time
	if at.IsZero() && m.Event != nil {
		at = m.Event.Timestamp
	}
	// byRef is read-only after NewEngine: matches of rules no correlation
	// references are turned away without taking the lock.
	if _, ok := e.byRef[m.RuleID]; !ok {
		if _, ok := e.byRef[m.RuleName]; !ok {
			return
		}
	}
	e.mu.Lock()
	e.hit = e.collect(e.hit[:0], m)
	if len(e.hit) == 0 {
		e.mu.Unlock()
		return
	}
	e.stats.Observed++
	if at.IsZero() {
		e.stats.NoTime++
		e.mu.Unlock()
		return
	}
	t := at.UnixNano()
	if !e.started || t > e.clock {
		e.clock, e.started = t, true
	}
	in := input{at: t, ev: m.Event}
	if m.Event != nil {
		in.id = m.Event.ID
	}
	for _, h := range e.hit {
		e.feed(h.c, h.mask, in)
	}
	e.sweep(false)
	out := e.out
	e.out = nil
	e.mu.Unlock()
	for _, r := range out {
		emit(r)
	}
}

// collect finds the correlations a match concerns, merging the positions
// its id and its name fill.
func (e *Engine) collect(hit []edge, m Match) []edge {
	for _, ed := range e.byRef[m.RuleID] {
		hit = addEdge(hit, ed.c, ed.mask)
	}
	if m.RuleName != m.RuleID {
		for _, ed := range e.byRef[m.RuleName] {
			hit = addEdge(hit, ed.c, ed.mask)
		}
	}
	return hit
}

// Flush closes every window still open, as at the end of an import:
// conditions with an upper bound (lt, lte, eq, neq) are decided on what
// was seen, and emit is called for each correlation that fires.
func (e *Engine) Flush(emit func(Result)) {
	e.mu.Lock()
	e.sweep(true)
	out := e.out
	e.out = nil
	e.mu.Unlock()
	for _, r := range out {
		emit(r)
	}
}

// Stats holds the engine's state size and counters, for metrics.
type Stats struct {
	// Rules is the number of correlation rules running.
	Rules int
	// Groups and Entries are the groups and the matches (timestamps) held;
	// Bytes estimates the memory they take.
	Groups, Entries int
	Bytes           int64
	// Watermark is the largest event time seen: the engine's clock.
	Watermark time.Time
	// Observed counts matches of referenced rules; Fired counts results.
	Observed, Fired uint64
	// Late counts matches dropped for arriving more than a timespan behind
	// the watermark; NoTime those without an event time; MissingField
	// those without a group-by or value_count field.
	Late, NoTime, MissingField uint64
	// EvictedGroups counts groups dropped by the MaxGroups cap,
	// ExpiredGroups groups aged out, and DroppedEntries matches dropped by
	// the MaxEntries cap.
	EvictedGroups, ExpiredGroups, DroppedEntries uint64
}

// Stats returns the current state size and counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Rules = len(e.corrs)
	if e.started {
		s.Watermark = time.Unix(0, e.clock).UTC()
	}
	for _, c := range e.corrs {
		g, n, b := c.size()
		s.Groups += g
		s.Entries += n
		s.Bytes += b
	}
	return s
}
