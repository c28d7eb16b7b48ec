package beacon

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Name is the analyzer's name in logs, metrics and signals.
const Name = "beacon"

// Analyzer finds beacons: pairs whose connections recur at a regular
// interval with consistent sizes over the window. It is not safe for
// concurrent use; the engine drives it from one goroutine.
type Analyzer struct {
	cfg      Config
	internal *flow.Set
	prev     flow.PrevalenceReader
	allowNet *flow.Set
	allowNam map[string]struct{}
	limit    int // MaxTimestamps, rounded up to even

	pairs   map[pairKey]*pair
	started bool
	first   int64 // earliest connection start seen (Unix seconds)
	newest  int64 // latest connection start seen
	next    int64 // next scoring boundary (Unix seconds)
	counts  Counts

	sc  scorer
	out []scored
}

// Counts are the analyzer's running counters.
type Counts struct {
	// Records is how many records were taken into a pair.
	Records uint64
	// Merged is how many flow records continued a previous one.
	Merged uint64
	// Late is how many records were too old for any future window.
	Late uint64
	// Evicted is how many pairs were dropped because MaxPairs was reached.
	Evicted uint64
	// Compactions is how many times a pair's buffer was sampled down.
	Compactions uint64
	// Scored is how many pair windows were scored.
	Scored uint64
}

type scored struct {
	key *pairKey
	p   *pair
	r   result
}

var _ flow.Analyzer = (*Analyzer)(nil)

// New returns an analyzer. internal holds the internal networks (required:
// only connections from internal sources are tracked); prev, when not nil,
// answers how many internal hosts contact a destination.
func New(cfg Config, internal *flow.Set, prev flow.PrevalenceReader) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if internal == nil {
		return nil, errors.New("beacon: the internal networks are required")
	}
	allow, err := flow.NewSet(cfg.AllowCIDRs)
	if err != nil {
		return nil, fmt.Errorf("beacon: allow_cidrs: %w", err)
	}
	a := &Analyzer{cfg: cfg, internal: internal, prev: prev, allowNet: allow,
		allowNam: map[string]struct{}{}, limit: cfg.MaxTimestamps + cfg.MaxTimestamps%2,
		pairs: map[pairKey]*pair{}}
	for _, n := range cfg.AllowNames {
		a.allowNam[strings.ToLower(strings.Trim(n, ". "))] = struct{}{}
	}
	a.sc.cfg = &a.cfg
	return a, nil
}

// Name implements flow.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Counts returns the running counters.
func (a *Analyzer) Counts() Counts { return a.counts }

// key builds the pair key of r and reports whether r is tracked at all.
func (a *Analyzer) key(r *flow.Record) (pairKey, bool) {
	if !a.internal.Contains(r.Src) {
		return pairKey{}, false
	}
	switch r.Kind {
	case flow.KindFlow:
		if (a.cfg.SkipInternal && a.internal.Contains(r.Dst)) || a.allowNet.Contains(r.Dst) {
			return pairKey{}, false
		}
		k := pairKey{kind: kindAddr, src: r.Src, dst: r.Dst}
		if a.cfg.PerPort {
			k.port = r.DstPort
		}
		return k, true
	case flow.KindApp:
		if !a.cfg.Names || r.Name == "" || (a.cfg.SkipInternal && a.internal.Contains(r.Dst)) ||
			a.allowNet.Contains(r.Dst) || nameAllowed(a.allowNam, r.Name) {
			return pairKey{}, false
		}
		return pairKey{kind: kindApp, src: r.Src, name: r.Name}, true
	case flow.KindDNS:
		if !a.cfg.DNS || r.Answer || r.Name == "" || nameAllowed(a.allowNam, r.Name) {
			return pairKey{}, false
		}
		return pairKey{kind: kindDNS, src: r.Src, name: r.Name}, true
	}
	return pairKey{}, false
}

// Observe implements flow.Analyzer.
func (a *Analyzer) Observe(r *flow.Record) {
	k, ok := a.key(r)
	if !ok {
		return
	}
	t := r.Start.Unix()
	if t < 0 || t > math.MaxUint32 {
		return
	}
	if !a.started {
		a.started, a.first, a.newest = true, t, t
		a.next = a.boundaryAfter(t)
	}
	if t < a.floor() {
		a.counts.Late++
		return
	}
	a.first, a.newest = min(a.first, t), max(a.newest, t)
	p := a.pairs[k]
	if p == nil {
		if len(a.pairs) >= a.cfg.MaxPairs {
			a.evictIdle()
		}
		k.name = strings.Clone(k.name)
		p = &pair{stride: 1}
		a.pairs[k] = p
	}
	a.counts.Records++
	p.addEvidence(r.EventID, a.cfg.MaxEvidence)
	end := r.End.Unix()
	if k.kind == kindAddr && a.continues(p, r, t) {
		a.counts.Merged++
		p.lastEnd = uint32(min(max(int64(p.lastEnd), end), math.MaxUint32))
		if p.stride == 1 && len(p.conns) > 0 && !p.unsorted {
			c := &p.conns[len(p.conns)-1]
			*c = pack(unpackTime(*c), int64(unpackSize(*c))+r.Bytes())
		}
		return
	}
	p.lastPort = r.SrcPort
	p.lastEnd = uint32(min(max(end, t), math.MaxUint32))
	p.lastSeen = max(p.lastSeen, uint32(t))
	if p.add(t, r.Bytes(), a.limit) {
		p.compact(a.floor(), a.limit)
		a.counts.Compactions++
	}
}

// continues reports whether a flow record continues the pair's previous
// record: same source port, starting within ContinuationGap of its end.
func (a *Analyzer) continues(p *pair, r *flow.Record, t int64) bool {
	if a.cfg.ContinuationGap <= 0 || r.SrcPort == 0 || p.lastEnd == 0 || r.SrcPort != p.lastPort {
		return false
	}
	gap := t - int64(p.lastEnd)
	return gap <= int64(a.cfg.ContinuationGap.Seconds()) && t >= int64(p.lastSeen)
}

// floor is the oldest connection start any future window can include.
func (a *Analyzer) floor() int64 { return a.next - int64(a.cfg.Window.Seconds()) }

func (a *Analyzer) boundaryAfter(t int64) int64 {
	iv := int64(a.cfg.Interval.Seconds())
	return (t/iv)*iv + iv
}

// Advance implements flow.Analyzer: it scores every scoring boundary at or
// before watermark, in order, and emits the signals of each.
func (a *Analyzer) Advance(watermark time.Time, emit func(flow.Signal)) {
	if !a.started {
		return
	}
	w := watermark.Unix()
	win := int64(a.cfg.Window.Seconds())
	iv := int64(a.cfg.Interval.Seconds())
	for a.next <= w {
		if a.next-win > a.newest {
			// Nothing left in any window: skip the idle stretch.
			clear(a.pairs)
			a.next = a.boundaryAfter(w)
			return
		}
		a.scoreAt(a.next, emit)
		a.next += iv
		if oldest, ok := a.expire(a.floor()); ok && oldest >= a.next {
			// The windows up to the oldest sample are empty: skip them
			// (a gap in the data, or a bogus far-future timestamp).
			a.next = a.boundaryAfter(oldest)
		}
	}
}

// expire drops samples no future window needs and pairs left empty, and
// returns the oldest sample left.
func (a *Analyzer) expire(floor int64) (oldest int64, ok bool) {
	oldest = math.MaxInt64
	for k, p := range a.pairs {
		if p.expire(floor) == 0 {
			if int64(p.lastSeen) < floor {
				delete(a.pairs, k)
			}
			continue
		}
		oldest, ok = min(oldest, p.oldest()), true
	}
	return oldest, ok
}

// evictIdle makes room for new pairs by dropping the tenth of MaxPairs
// that has been idle longest.
func (a *Analyzer) evictIdle() {
	seen := make([]uint32, 0, len(a.pairs))
	for _, p := range a.pairs {
		seen = append(seen, p.lastSeen)
	}
	slices.Sort(seen)
	n := max(1, a.cfg.MaxPairs/10)
	cut := seen[min(n, len(seen))-1]
	for k, p := range a.pairs {
		if n == 0 {
			break
		}
		if p.lastSeen <= cut {
			delete(a.pairs, k)
			a.counts.Evicted++
			n--
		}
	}
}

// Stats implements flow.Analyzer.
func (a *Analyzer) Stats() flow.Stats {
	ents := map[string]int{"pairs_addr": 0, "pairs_app": 0, "pairs_dns": 0, "samples": 0}
	var b int64
	for k, p := range a.pairs {
		switch k.kind {
		case kindAddr:
			ents["pairs_addr"]++
		case kindApp:
			ents["pairs_app"]++
		case kindDNS:
			ents["pairs_dns"]++
		}
		ents["samples"] += len(p.conns)
		b += p.bytes(&k)
	}
	return flow.Stats{Entities: ents, Bytes: b}
}
