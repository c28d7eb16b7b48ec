package baseline

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Name is the analyzer's name in logs, metrics and signals.
const Name = "baseline"

// Hours outside [minHour, maxHour) (1970 to 2200) are not plausible flow
// times; such records are ignored and counted.
const (
	minHour = 0       // 1970-01-01T00:00:00Z
	maxHour = 2024904 // 2201-01-01T00:00:00Z
)

// maxPending bounds the signals held between two calls of Advance.
const maxPending = 10_000

// Analyzer keeps per-host and per-subnet hourly baselines and raises
// deviation and exfiltration signals. Observe and Advance run on the engine
// goroutine; Baseline, SubnetBaseline, Stats and Counts may be called from
// any goroutine.
type Analyzer struct {
	cfg      Config
	internal *flow.Set
	prev     flow.PrevalenceReader
	log      *slog.Logger
	loc      *time.Location
	days     uint8
	floor    [numAlert]float64
	minCur   [numAlert]float64
	ringLen  int32
	learn    int32
	idle     int32

	mu      sync.Mutex
	started bool
	open    int32 // oldest open hour; every earlier hour is closed
	hosts   map[addrKey]*entity
	subnets map[addrKey]*entity // by the subnet's first address
	active  [2][]*entity        // entities with traffic in the open hours, by hour parity
	pending []flow.Signal
	pool    pool
	cnt     Counts
}

var _ flow.Analyzer = (*Analyzer)(nil)

// entity is a host or a subnet.
type entity struct {
	addr   netip.Addr   // the host; the subnet's first address
	prefix netip.Prefix // valid for subnets only
	subnet *entity      // a host's subnet, nil when subnets are off
	hist   history
	active int32 // last hour with traffic
	acc    [2]*acc
	pairs  []*pair
	dead   bool
}

func (e *entity) isSubnet() bool { return e.prefix.IsValid() }

// addrKey is an address as a map key: the 16-byte form, which hashes
// faster than netip.Addr (that carries a zone pointer). IPv6 zones are
// ignored.
type addrKey struct{ hi, lo uint64 }

func keyOf(a netip.Addr) addrKey {
	b := a.As16()
	return addrKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func compareKeys(x, y addrKey) int {
	if c := cmp.Compare(x.hi, y.hi); c != 0 {
		return c
	}
	return cmp.Compare(x.lo, y.lo)
}

// Counts are the analyzer's running counters.
type Counts struct {
	// Records counts flow records with an internal side.
	Records uint64
	// Late counts records older than the oldest open hour, counted in it.
	Late uint64
	// BadTime counts records with a time before 1970 or after 2200, ignored.
	BadTime uint64
	// ForcedCloses counts hours closed by a record two hours or more ahead
	// of the oldest open hour, before the watermark reached them.
	ForcedCloses uint64
	// Evicted counts hosts and subnets dropped as idle or over the cap.
	Evicted uint64
	// Untracked counts record sides whose host or subnet could not be
	// tracked because the table was full of active entities.
	Untracked uint64
	// DroppedSignals counts signals dropped because more than 10,000 were
	// waiting for Advance.
	DroppedSignals uint64
}

// New returns an analyzer. internal says which addresses are internal
// hosts; prev (may be nil) tells how many internal hosts contact a
// destination, for the exfiltration weights; log may be nil.
func New(cfg Config, internal *flow.Set, prev flow.PrevalenceReader, log *slog.Logger) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if internal == nil || internal.Len() == 0 {
		return nil, fmt.Errorf("baseline: no internal networks")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ringHours := int32(cfg.Weeks*7*24 + 2)
	a := &Analyzer{
		cfg: cfg, internal: internal, prev: prev, log: log.With("analyzer", Name),
		loc: cfg.location(), days: cfg.BusinessHours.businessDays(),
		floor: cfg.Floor.array(), minCur: cfg.MinCurrent.array(),
		ringLen: (ringHours + chunkHours - 1) / chunkHours * chunkHours,
		learn:   int32(cfg.LearningDays * 24), idle: int32(cfg.IdleDays * 24),
		hosts: map[addrKey]*entity{}, subnets: map[addrKey]*entity{},
	}
	return a, nil
}

// Name returns "baseline".
func (a *Analyzer) Name() string { return Name }

// Observe counts a flow record in the hour of its start for its internal
// side or sides and their subnets. DNS and application records are
// ignored: the flows they ride on are counted already.
func (a *Analyzer) Observe(r *flow.Record) {
	if r.Kind != flow.KindFlow {
		return
	}
	srcIn, dstIn := a.internal.Contains(r.Src), a.internal.Contains(r.Dst)
	if !srcIn && !dstIn {
		return
	}
	h := floorHour(r.Start)
	a.mu.Lock()
	if h < minHour || h >= maxHour {
		a.cnt.BadTime++
		a.mu.Unlock()
		return
	}
	a.cnt.Records++
	hr := a.place(int32(h))
	f := side{id: r.EventID, pkts: nonNeg(r.PktsOut) + nonNeg(r.PktsIn)}
	if srcIn {
		f.out, f.sent, f.recv, f.peer, f.peerIn = true, nonNeg(r.BytesOut), nonNeg(r.BytesIn), r.Dst, dstIn || localScope(r.Dst)
		f.port, f.hPeer, f.hPort = r.DstPort, hashAddr(r.Dst), hashPort(r.DstPort)
		a.count(r.Src, hr, &f)
	}
	if dstIn {
		f.out, f.sent, f.recv, f.peer, f.peerIn = false, nonNeg(r.BytesIn), nonNeg(r.BytesOut), r.Src, srcIn || localScope(r.Src)
		f.hPeer = hashAddr(r.Src)
		a.count(r.Dst, hr, &f)
	}
	a.mu.Unlock()
}

// side is one internal end's view of a flow.
type side struct {
	id           uint64
	out          bool // the host originated the flow
	sent, recv   uint64
	pkts         uint64
	peer         netip.Addr
	peerIn       bool // the peer is internal (or multicast, broadcast, link-local)
	port         uint16
	hPeer, hPort uint32
}

func nonNeg(v int64) uint64 { return uint64(max(v, 0)) }

// localScope reports whether a is not a remote host even when outside the
// internal networks: multicast, limited broadcast, link-local, loopback or
// unspecified. Such peers are never external destinations.
func localScope(a netip.Addr) bool {
	return a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsLoopback() || a.IsUnspecified() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func (a *Analyzer) count(host netip.Addr, h int32, f *side) {
	e := a.host(host)
	if e == nil {
		a.cnt.Untracked++
		return
	}
	a.add(e, h, f)
	if e.subnet != nil {
		a.add(e.subnet, h, f)
	}
}

// add counts f in e's accumulator for hour h.
func (a *Analyzer) add(e *entity, h int32, f *side) {
	c := a.accOf(e, h)
	c.bytesOut += f.sent
	c.bytesIn += f.recv
	c.packets += f.pkts
	fresh := false
	if f.out {
		c.conns++
		fresh = c.dstIPs.add(f.hPeer, &a.pool)
		fresh = c.dstPorts.add(f.hPort, &a.pool) || fresh
	}
	if !f.peerIn {
		c.extOut += f.sent
		if f.out {
			fresh = c.extDsts.add(f.hPeer, &a.pool) || fresh
		}
	}
	if !e.isSubnet() && f.sent+f.recv > 0 {
		t := &c.intl
		if !f.peerIn {
			t = &c.ext
		}
		if *t == nil {
			*t = a.pool.getTable()
		}
		(*t).add(f.peer, f.hPeer, f.out, f.sent, f.recv, f.pkts, f.id)
	}
	if fresh {
		c.noteFresh(f.id)
	}
	c.noteTop(f.id, f.sent+f.recv)
}

// place returns the open hour a record of hour h is counted in, closing
// hours early when h is two or more hours ahead of the oldest open hour.
func (a *Analyzer) place(h int32) int32 {
	if !a.started {
		a.started, a.open = true, h
	}
	if h < a.open {
		a.cnt.Late++
		return a.open
	}
	if h > a.open+1 {
		a.log.Debug("closing hours before the watermark", "from", hourStart(a.open), "to", hourStart(h-1))
		a.cnt.ForcedCloses += uint64(h - 1 - a.open)
		a.advanceTo(h - 1)
	}
	return h
}

func (a *Analyzer) accOf(e *entity, h int32) *acc {
	i := h & 1
	if c := e.acc[i]; c != nil {
		if c.hour == h {
			return c
		}
		a.pool.putAcc(c) // cannot happen: closing an hour releases its accumulators
	}
	c := a.pool.getAcc(h)
	e.acc[i] = c
	a.active[i] = append(a.active[i], e)
	if e.hist.First == noHour || h < e.hist.First {
		e.hist.First = h
	}
	if e.active == noHour || h > e.active {
		e.active = h
	}
	return c
}

// host returns the entity of an internal host, creating it (and its
// subnet) on first sight; nil when the table is full of active hosts.
func (a *Analyzer) host(addr netip.Addr) *entity {
	k := keyOf(addr)
	if e := a.hosts[k]; e != nil {
		if e.subnet != nil && e.subnet.dead {
			e.subnet = a.subnetOf(addr)
		}
		return e
	}
	if len(a.hosts) >= a.cfg.MaxHosts && !evictOldest(a, a.hosts) {
		return nil
	}
	e := &entity{addr: addr.WithZone(""), hist: newHistory(a.ringLen), active: noHour}
	e.subnet = a.subnetOf(addr)
	a.hosts[k] = e
	return e
}

func (a *Analyzer) subnetOf(addr netip.Addr) *entity {
	bits := a.cfg.SubnetPrefixV6
	if addr.Is4() {
		bits = a.cfg.SubnetPrefixV4
	}
	if bits == 0 {
		return nil
	}
	p, err := addr.WithZone("").Prefix(bits)
	if err != nil {
		return nil
	}
	k := keyOf(p.Addr())
	if e := a.subnets[k]; e != nil {
		return e
	}
	if len(a.subnets) >= a.cfg.MaxSubnets && !evictOldest(a, a.subnets) {
		return nil
	}
	e := &entity{addr: p.Addr(), prefix: p, hist: newHistory(a.ringLen), active: noHour}
	a.subnets[k] = e
	return e
}

// evictOldest drops the longest idle sixteenth of the entities that have
// no open hour, and reports whether it dropped any.
func evictOldest(a *Analyzer, m map[addrKey]*entity) bool {
	type cand struct {
		k      addrKey
		active int32
	}
	var cs []cand
	for k, e := range m {
		if e.active < a.open {
			cs = append(cs, cand{k, e.active})
		}
	}
	if len(cs) == 0 {
		return false
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if c := cmp.Compare(x.active, y.active); c != 0 {
			return c
		}
		return compareKeys(x.k, y.k)
	})
	n := max(1, len(m)/16)
	for _, c := range cs[:min(n, len(cs))] {
		m[c.k].dead = true
		delete(m, c.k)
		a.cnt.Evicted++
	}
	return true
}

// Advance closes every hour that ends at or before watermark and emits the
// signals they raise, with any raised by hours that records closed early.
func (a *Analyzer) Advance(watermark time.Time, emit func(flow.Signal)) {
	a.mu.Lock()
	if a.started {
		if t := floorHour(watermark); t > int64(a.open) && t < maxHour {
			a.advanceTo(int32(t))
		}
	}
	out := a.pending
	a.pending = nil
	a.mu.Unlock()
	for _, s := range out {
		emit(s)
	}
}

// advanceTo closes the hours before target.
func (a *Analyzer) advanceTo(target int32) {
	for a.open < target {
		if len(a.active[0]) == 0 && len(a.active[1]) == 0 && target-a.open > 48 {
			// Nothing open: skip the empty hours, keeping one sweep.
			a.sweep(target - 1)
			a.open = target
			return
		}
		a.closeHour(a.open)
		a.open++
	}
}

// closeHour finishes hour h for every entity with traffic in it.
func (a *Analyzer) closeHour(h int32) {
	i := h & 1
	if list := a.active[i]; len(list) > 0 {
		x := a.newHourCtx(h)
		// Hosts first: they pass what their pairs explain to their subnets.
		for _, e := range list {
			if !e.isSubnet() {
				a.finish(e, h, &x)
			}
		}
		for _, e := range list {
			if e.isSubnet() {
				a.finish(e, h, &x)
			}
		}
		clear(list)
		a.active[i] = list[:0]
	}
	if ringSlot(h+1, 24) == 0 {
		a.sweep(h)
	}
}

func (a *Analyzer) emit(s flow.Signal) {
	if len(a.pending) >= maxPending {
		if a.cnt.DroppedSignals == 0 {
			a.log.Warn("too many signals waiting for Advance; dropping", "limit", maxPending)
		}
		a.cnt.DroppedSignals++
		return
	}
	a.pending = append(a.pending, s)
}

// sweep evicts entities idle for IdleDays as of hour h and pairs that left
// their ring, and trims the pools.
func (a *Analyzer) sweep(h int32) {
	evicted := a.cnt.Evicted
	defer func() {
		if n := a.cnt.Evicted - evicted; n > 0 {
			a.log.Debug("evicted idle entities", "count", n, "hosts", len(a.hosts), "subnets", len(a.subnets))
		}
	}()
	before := h - a.idle
	for k, e := range a.hosts {
		if e.active < before && e.active < a.open {
			e.dead = true
			delete(a.hosts, k)
			a.cnt.Evicted++
			continue
		}
		e.pairs = slices.DeleteFunc(e.pairs, func(p *pair) bool { return p.Last <= h-pairRing })
	}
	for k, e := range a.subnets {
		if e.active < before && e.active < a.open {
			e.dead = true
			delete(a.subnets, k)
			a.cnt.Evicted++
		}
	}
	a.pool.trim()
}

// Counts returns the analyzer's running counters.
func (a *Analyzer) Counts() Counts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cnt
}

// Per-object memory estimates for Stats (64-bit platform).
const (
	entityBytes = 200 // entity, map entry, chunk slice header
	chunkBytes  = int64(chunkHours*numMetrics*2) + 16
	pairBytes   = int64(pairRing*2+48) + 8
	accBytes    = 520
	tableBytes  = numPeers*112 + 8
	sketchBytes = hllM + 16
)

// Stats reports the tracked hosts, subnets, (host, peer) pairs and open
// accumulators and an estimate of the memory they hold.
func (a *Analyzer) Stats() flow.Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	var pairs, chunks int
	for _, e := range a.hosts {
		pairs += len(e.pairs)
		chunks += e.hist.allocated()
	}
	for _, e := range a.subnets {
		chunks += e.hist.allocated()
	}
	n := len(a.hosts) + len(a.subnets)
	b := int64(n)*(entityBytes+int64(a.ringLen/chunkHours)*8) + int64(chunks)*chunkBytes +
		int64(pairs)*pairBytes
	accs := a.pool.live[0] + len(a.pool.accs)
	tables := a.pool.live[1] + len(a.pool.tables)
	sketches := a.pool.live[2] + len(a.pool.sketches)
	b += int64(accs)*accBytes + int64(tables)*tableBytes + int64(sketches)*sketchBytes
	return flow.Stats{Entities: map[string]int{
		"hosts": len(a.hosts), "subnets": len(a.subnets), "pairs": pairs,
		"accumulators": a.pool.live[0], "sketches": a.pool.live[2],
	}, Bytes: b}
}
