package scan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Name is the scan analyzer's name and the Detector of its signals.
const Name = "scan"

// Analyzer finds horizontal and vertical port scans and host sweeps, fast
// and slow. It is not safe for concurrent use.
type Analyzer struct {
	cfg                  Config
	internal             *flow.Set
	ignoreSrc, ignoreDst *flow.Set
	hopNs                int64
	fastHops, slowHops   int64
	slowEvery            int64 // the slow rule is judged at every slowEvery-th boundary
	quietHops            int64

	sources map[[16]byte]*source
	srcs    []*source // by source id; nil when free
	srcFree []int32
	index   table     // contact key → its slot in cs
	cs      []contact // the contacts, in slots reused through free
	free    []int32
	dropped uint64 // contacts refused by a cap
	late    uint64 // records older than the history holds
	passHop int64  // the last boundary Advance processed
	started bool
	pending []flow.Signal // from evaluations forced by records far ahead
	sc      scratch
}

var _ flow.Analyzer = (*Analyzer)(nil)

// target is what a source probed: a host, and a port for TCP, UDP and SCTP
// (0 for ICMP).
type target struct {
	dst   [16]byte
	port  uint16
	proto uint8
}

// ckey names a contact: a source and a target.
type ckey struct {
	src [16]byte
	t   target
}

// contact is one source's attempts on one target. It holds no pointers,
// so the garbage collector need not scan the slab.
type contact struct {
	k ckey
	hist
	first, last int64 // unix nanoseconds
	event       uint64
	attempts    uint32
	src         int32 // the source's id
	internal    bool  // the target is internal
}

// source is the state of one probing address.
type source struct {
	addr     netip.Addr
	key      [16]byte
	id       int32
	internal bool
	list     []int32 // slots of its contacts
	act      activity
	done     int64 // windows ending at boundaries <= done are evaluated
	lastEval int64 // the boundary last evaluated
	gcAt     int64
	dropped  uint64
	reports  map[groupKey]*report
}

// New returns a scan analyzer. internal says which addresses are internal
// hosts; it may be nil (then none are).
func New(cfg Config, internal *flow.Set) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ignSrc, err := flow.NewSet(cfg.IgnoreSources)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	ignDst, err := flow.NewSet(cfg.IgnoreTargets)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return &Analyzer{cfg: cfg, internal: internal, ignoreSrc: ignSrc, ignoreDst: ignDst,
		hopNs: int64(cfg.hop()), fastHops: 2, slowHops: cfg.slowHops(), quietHops: cfg.quietHops(),
		slowEvery: max(cfg.slowHops()/8, 1),
		sources:   map[[16]byte]*source{}, index: newTable(0)}, nil
}

// Name implements flow.Analyzer.
func (a *Analyzer) Name() string { return Name }

// slowBoundary reports whether the slow rule is judged at boundary e: every
// slowEvery-th boundary (every 7m30s with the defaults), which bounds the
// cost of evaluating busy sources and delays a slow scan by at most that.
func (a *Analyzer) slowBoundary(e int64) bool {
	return a.slowHops > 0 && (e%a.slowEvery+a.slowEvery)%a.slowEvery == 0
}

// span returns how many hops back the longest window reaches.
func (a *Analyzer) span() int64 { return max(a.fastHops, a.slowHops) }

// Observe implements flow.Analyzer.
func (a *Analyzer) Observe(r *flow.Record) {
	if r.Kind != flow.KindFlow {
		return
	}
	t, ok := a.probe(r)
	if !ok {
		return
	}
	hop := floorDiv(r.Start.UnixNano(), a.hopNs)
	k := ckey{src: r.Src.As16(), t: t}
	h := hashKey(&k)
	if _, i, ok := a.index.find(a.cs, &k, h); ok {
		c := &a.cs[i]
		// In the hop the contact was last seen in, its source's activity
		// is marked already and no earlier window needs evaluating.
		var s *source
		if hop != c.top {
			if s = a.srcs[c.src]; !a.enter(s, hop) {
				return
			}
		}
		a.update(c, s, r, hop)
		return
	}
	s := a.sources[k.src]
	if s == nil {
		if a.index.n >= a.cfg.MaxContacts {
			a.dropped++
			return
		}
		s = a.newSource(r.Src, k.src, hop)
	}
	if !a.enter(s, hop) {
		return
	}
	if c := a.add(s, k, h, r, hop); c != nil {
		a.update(c, s, r, hop)
	}
}

// newSource adds the state of a source first seen in hop h.
func (a *Analyzer) newSource(addr netip.Addr, key [16]byte, h int64) *source {
	s := &source{addr: addr, key: key, internal: a.internal.Contains(addr),
		act: activity{top: h}, done: h, lastEval: h, gcAt: h}
	if n := len(a.srcFree); n > 0 {
		s.id, a.srcFree = a.srcFree[n-1], a.srcFree[:n-1]
		a.srcs[s.id] = s
	} else {
		s.id = int32(len(a.srcs))
		a.srcs = append(a.srcs, s)
	}
	a.sources[key] = s
	return s
}

// dropSource forgets s.
func (a *Analyzer) dropSource(s *source) {
	delete(a.sources, s.key)
	a.srcs[s.id] = nil
	a.srcFree = append(a.srcFree, s.id)
}

// enter accounts a record of s in hop h: it evaluates the windows h would
// push out of the history and marks s active in h. It reports false for a
// record older than the history holds.
func (a *Analyzer) enter(s *source, h int64) bool {
	if h > s.act.top {
		a.catchUp(s, h)
	} else if h <= s.act.top-ringHops {
		a.late++
		return false
	}
	s.act.mark(h)
	return true
}

// update adds record r, in hop h, to contact c of source s (nil when not
// at hand: it is looked up only when the source's counts change).
func (a *Analyzer) update(c *contact, s *source, r *flow.Record, h int64) {
	failed := Failed(r)
	newSeen := h > c.top || !c.in(c.seen, h, h)
	newFailed := failed && (h > c.top || !c.in(c.failed, h, h))
	if c.mark(h, !failed && Answered(r), failed) && (newSeen || newFailed) {
		if s == nil {
			s = a.srcs[c.src]
		}
		s.act.count(h, newSeen, newFailed)
	}
	c.first = min(c.first, r.Start.UnixNano())
	c.last = max(c.last, r.End.UnixNano(), r.Start.UnixNano())
	c.attempts++
}

// probe returns the target r probes, or false when r is no probe: not TCP,
// UDP, SCTP or an ICMP request, a reply-like flow, an unscannable or
// ignored address.
func (a *Analyzer) probe(r *flow.Record) (target, bool) {
	if !r.Src.IsValid() || !scannable(r.Dst) || r.Src == r.Dst {
		return target{}, false
	}
	switch {
	case isICMP(r.Proto):
		if !icmpProbe(r) {
			return target{}, false
		}
	case r.Proto == flow.ProtoTCP || r.Proto == flow.ProtoUDP || r.Proto == protoSCTP:
		if ReplyLike(r) && !knownOpener(r) {
			return target{}, false
		}
	default:
		return target{}, false
	}
	if a.ignoreSrc.Contains(r.Src) || a.ignoreDst.Contains(r.Dst) {
		return target{}, false
	}
	t := target{dst: r.Dst.As16(), proto: r.Proto}
	if !isICMP(r.Proto) {
		t.port = r.DstPort
	}
	return t, true
}

const protoSCTP = 132

// add adds the contact k, of hash h, of s; nil when a cap refuses it.
func (a *Analyzer) add(s *source, k ckey, h uint64, r *flow.Record, hop int64) *contact {
	if len(s.list) >= a.cfg.MaxContactsPerSource || a.index.n >= a.cfg.MaxContacts {
		s.dropped++
		a.dropped++
		return nil
	}
	var i int32
	if n := len(a.free); n > 0 {
		i, a.free = a.free[n-1], a.free[:n-1]
	} else {
		i = int32(len(a.cs))
		a.cs = append(a.cs, contact{})
	}
	a.cs[i] = contact{k: k, hist: hist{top: hop}, first: r.Start.UnixNano(), last: r.Start.UnixNano(),
		event: r.EventID, src: s.id, internal: a.internal.Contains(r.Dst)}
	a.index.insert(h, i)
	s.list = append(s.list, i)
	return &a.cs[i]
}

// catchUp evaluates, before s's history moves on to hop h, the windows
// whose hops would fall out of it: records that run far ahead of the
// watermark must not lose what earlier windows held. Their signals wait
// for the next Advance.
func (a *Analyzer) catchUp(s *source, h int64) {
	limit := h - ringHops + a.span()
	if limit > s.done {
		a.evaluateRange(s, limit, &a.pending)
	}
}

// evaluateRange evaluates s at every boundary in (s.done, to] that ends a
// hop s was active in, and marks them done.
func (a *Analyzer) evaluateRange(s *source, to int64, out *[]flow.Signal) {
	from := max(s.done, s.act.top-ringHops+1)
	for h := from; h < to && h <= s.act.top; h++ {
		e := h + 1
		slow := a.slowBoundary(e)
		if s.act.has(h) || (slow && s.act.any(e-a.slowEvery, h)) {
			a.evaluate(s, e, slow, out)
		}
	}
	s.done = max(s.done, to)
}

// Advance implements flow.Analyzer: it closes the windows that end at or
// before watermark, emits their scans in time order and drops contacts no
// later window can use.
func (a *Analyzer) Advance(watermark time.Time, emit func(flow.Signal)) {
	wh := floorDiv(watermark.UnixNano(), a.hopNs)
	out := a.pending
	if !a.started || wh > a.passHop {
		a.started, a.passHop = true, wh
		for _, s := range a.sources {
			if wh > s.done {
				a.evaluateRange(s, wh, &out)
			}
			if wh-s.gcAt >= a.fastHops {
				a.gc(s, wh)
			}
			if len(s.list) == 0 && len(s.reports) == 0 {
				a.dropSource(s)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y flow.Signal) int {
		if c := x.End.Compare(y.End); c != 0 {
			return c
		}
		return cmp.Compare(x.Key, y.Key)
	})
	for i := range out {
		emit(out[i])
	}
	clear(out)
	a.pending = out[:0]
}

// gc drops the contacts of s that no window ending after boundary wh can
// count, and the reports of scans that went quiet.
func (a *Analyzer) gc(s *source, wh int64) {
	s.gcAt = wh
	fastFrom, slowFrom := wh+1-a.fastHops, wh+1-a.slowHops
	for j := 0; j < len(s.list); {
		i := s.list[j]
		c := &a.cs[i]
		if c.top >= fastFrom || (a.slowHops > 0 && c.in(c.failed, slowFrom, c.top)) {
			j++
			continue
		}
		if pos, _, ok := a.index.find(a.cs, &c.k, hashKey(&c.k)); ok {
			a.index.remove(pos)
		}
		*c = contact{}
		a.free = append(a.free, i)
		last := len(s.list) - 1
		s.list[j] = s.list[last]
		s.list = s.list[:last]
	}
	for k, rep := range s.reports {
		if wh-rep.lastFire > a.episodeHops() {
			delete(s.reports, k)
		}
	}
}

// episodeHops is how long a scan must stay quiet before it counts as over.
func (a *Analyzer) episodeHops() int64 { return a.quietHops }

// Stats implements flow.Analyzer.
func (a *Analyzer) Stats() flow.Stats {
	reports := 0
	for _, s := range a.sources {
		reports += len(s.reports)
	}
	return flow.Stats{
		Entities: map[string]int{"sources": len(a.sources), "contacts": a.index.n, "reports": reports},
		Bytes: int64(len(a.sources))*sourceBytes + int64(a.index.n)*contactBytes +
			int64(reports)*reportBytes,
	}
}

// Dropped returns how many contacts the caps refused and how many records
// came later than the history holds.
func (a *Analyzer) Dropped() (capped, late uint64) { return a.dropped, a.late }

// Estimated sizes, measured by the memory benchmark: a contact in its slice
// and its index entry; a source's own structures; a report.
const (
	contactBytes = 170
	sourceBytes  = 250
	reportBytes  = 120
)
