package baseline

import (
	"fmt"
	"net/netip"

	"github.com/vigil-soc/vigil/internal/flow"
)

// snapVersion is the layout version of MarshalBinary's output.
const snapVersion = 1

type snapshot struct {
	Version  int
	RingLen  int32
	PrefixV4 int
	PrefixV6 int
	Started  bool
	Open     int32
	Hosts    []entitySnap
	Subnets  []entitySnap
	Active   [2][]entityRef // entities with open hours, in the order they will close
	Pending  []flow.Signal
	Counts   Counts
}

type entityRef struct {
	Subnet bool
	Addr   netip.Addr
	Prefix netip.Prefix
}

type entitySnap struct {
	Addr   netip.Addr
	Prefix netip.Prefix
	First  int32
	Last   int32
	Active int32
	Chunks []chunkSnap
	Accs   []accSnap
	Pairs  []pair
}

type chunkSnap struct {
	I    int32
	Data []uint16
}

type accSnap struct {
	Hour     int32
	Sums     [5]uint64 // bytes out, bytes in, packets, connections, external bytes out
	Distinct [3]distinctSnap
	Ext      []peerSnap
	Intl     []peerSnap
	Routine  [3]float64
	Top      []flowRef
	Fresh    []uint64
}

type peerSnap struct {
	P     peerCount
	Count uint64
}

type distinctSnap struct {
	Small  []uint32
	Sketch []byte
}

// MarshalBinary saves the analyzer's baselines, pair histories, open hours
// and pending signals (encoding/gob).
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := snapshot{Version: snapVersion, RingLen: a.ringLen, PrefixV4: a.cfg.SubnetPrefixV4,
		PrefixV6: a.cfg.SubnetPrefixV6, Started: a.started, Open: a.open, Pending: a.pending, Counts: a.cnt}
	for _, e := range a.hosts {
		s.Hosts = append(s.Hosts, snapEntity(e))
	}
	for _, e := range a.subnets {
		s.Subnets = append(s.Subnets, snapEntity(e))
	}
	for i, list := range a.active {
		for _, e := range list {
			s.Active[i] = append(s.Active[i], entityRef{Subnet: e.isSubnet(), Addr: e.addr, Prefix: e.prefix})
		}
	}
	return flow.EncodeState("baseline", &s)
}

func snapEntity(e *entity) entitySnap {
	s := entitySnap{Addr: e.addr, Prefix: e.prefix, First: e.hist.First, Last: e.hist.Last, Active: e.active}
	for i, c := range e.hist.chunks {
		if c != nil {
			s.Chunks = append(s.Chunks, chunkSnap{I: int32(i), Data: append([]uint16(nil), c[:]...)})
		}
	}
	for _, c := range e.acc {
		if c != nil {
			s.Accs = append(s.Accs, snapAcc(c))
		}
	}
	for _, p := range e.pairs {
		s.Pairs = append(s.Pairs, *p)
	}
	return s
}

func snapAcc(c *acc) accSnap {
	s := accSnap{Hour: c.hour, Sums: [5]uint64{c.bytesOut, c.bytesIn, c.packets, c.conns, c.extOut},
		Top: append([]flowRef(nil), c.top[:c.nTop]...), Fresh: append([]uint64(nil), c.fresh[:c.nFresh]...)}
	for i, d := range []*distinct{&c.dstIPs, &c.dstPorts, &c.extDsts} {
		s.Distinct[i].Small = append([]uint32(nil), d.small[:d.n]...)
		if d.sk != nil {
			s.Distinct[i].Sketch = append([]byte(nil), d.sk[:]...)
		}
	}
	s.Ext, s.Intl = snapTable(c.ext), snapTable(c.intl)
	s.Routine = c.routine
	return s
}

func snapTable(t *peerTable) []peerSnap {
	if t == nil {
		return nil
	}
	out := make([]peerSnap, t.n)
	for i := range out {
		out[i] = peerSnap{P: t.peers[i], Count: t.count[i]}
	}
	return out
}

// UnmarshalBinary restores state saved by MarshalBinary, replacing the
// analyzer's state. History saved with another number of weeks is carried
// over hour by hour; subnets saved with other prefix lengths are dropped.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	var s snapshot
	if err := flow.DecodeState("baseline", data, &s); err != nil {
		return err
	}
	if s.Version != snapVersion {
		return fmt.Errorf("baseline: restore state: unknown version %d", s.Version)
	}
	if s.RingLen <= 0 || s.RingLen%chunkHours != 0 || s.RingLen > 24*(7*maxWeeks+2) {
		return fmt.Errorf("baseline: restore state: bad history length %d", s.RingLen)
	}
	if s.Started && (s.Open < minHour || s.Open >= maxHour) {
		return fmt.Errorf("baseline: restore state: bad open hour %d", s.Open)
	}
	r := restorer{a: a, s: &s, hosts: map[addrKey]*entity{}, subnets: map[addrKey]*entity{}}
	if err := r.run(); err != nil {
		return fmt.Errorf("baseline: restore state: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started, a.open, a.cnt = s.Started, s.Open, s.Counts
	a.hosts, a.subnets, a.active, a.pool = r.hosts, r.subnets, r.active, r.pool
	a.pending = s.Pending[:min(len(s.Pending), maxPending)]
	return nil
}

// restorer rebuilds the analyzer's state from a snapshot, checking it.
type restorer struct {
	a       *Analyzer
	s       *snapshot
	hosts   map[addrKey]*entity
	subnets map[addrKey]*entity
	active  [2][]*entity
	pool    pool
}

func (r *restorer) run() error {
	keepSubnets := r.s.PrefixV4 == r.a.cfg.SubnetPrefixV4 && r.s.PrefixV6 == r.a.cfg.SubnetPrefixV6
	if keepSubnets {
		for i := range r.s.Subnets {
			e, err := r.entity(&r.s.Subnets[i], true)
			if err != nil {
				return err
			}
			k := keyOf(e.addr)
			if _, dup := r.subnets[k]; dup || e.prefix.Masked() != e.prefix || e.addr != e.prefix.Addr() {
				return fmt.Errorf("subnet %s twice or not masked", e.prefix)
			}
			r.subnets[k] = e
		}
	}
	for i := range r.s.Hosts {
		e, err := r.entity(&r.s.Hosts[i], false)
		if err != nil {
			return err
		}
		if _, dup := r.hosts[keyOf(e.addr)]; dup {
			return fmt.Errorf("host %s twice", e.addr)
		}
		r.hosts[keyOf(e.addr)] = e
		e.subnet = r.subnetOf(e.addr)
	}
	return r.activeLists(keepSubnets)
}

// subnetOf links a host to its subnet, creating an empty one when the
// snapshot has none (other prefix lengths).
func (r *restorer) subnetOf(addr netip.Addr) *entity {
	bits := r.a.cfg.SubnetPrefixV6
	if addr.Is4() {
		bits = r.a.cfg.SubnetPrefixV4
	}
	if bits == 0 {
		return nil
	}
	p, err := addr.WithZone("").Prefix(bits)
	if err != nil {
		return nil
	}
	if e := r.subnets[keyOf(p.Addr())]; e != nil && e.prefix == p {
		return e
	}
	e := &entity{addr: p.Addr(), prefix: p, hist: newHistory(r.a.ringLen), active: noHour}
	r.subnets[keyOf(p.Addr())] = e
	return e
}

func (r *restorer) activeLists(keepSubnets bool) error {
	for i, refs := range r.s.Active {
		for _, ref := range refs {
			var e *entity
			if ref.Subnet {
				if !keepSubnets {
					continue
				}
				e = r.subnets[keyOf(ref.Prefix.Addr())]
			} else {
				e = r.hosts[keyOf(ref.Addr)]
			}
			if e == nil || e.acc[i] == nil {
				return fmt.Errorf("open hour of unknown entity %v", ref)
			}
			r.active[i] = append(r.active[i], e)
		}
	}
	n := 0
	for _, e := range r.hosts {
		n += countAccs(e)
	}
	if keepSubnets {
		for _, e := range r.subnets {
			n += countAccs(e)
		}
	}
	if n != len(r.active[0])+len(r.active[1]) {
		return fmt.Errorf("%d open accumulators but %d listed", n, len(r.active[0])+len(r.active[1]))
	}
	return nil
}

func countAccs(e *entity) int {
	n := 0
	for _, c := range e.acc {
		if c != nil {
			n++
		}
	}
	return n
}

func validHour(h int32) bool {
	return h == noHour || h >= minHour-24*(7*maxWeeks+2) && h < maxHour
}

func (r *restorer) entity(s *entitySnap, subnet bool) (*entity, error) {
	if subnet != s.Prefix.IsValid() || !s.Addr.IsValid() {
		return nil, fmt.Errorf("bad entity %v %v", s.Addr, s.Prefix)
	}
	if !validHour(s.First) || !validHour(s.Last) || !validHour(s.Active) {
		return nil, fmt.Errorf("entity %v: bad hours", s.Addr)
	}
	old := history{First: s.First, Last: s.Last, chunks: make([]*chunk, r.s.RingLen/chunkHours)}
	for _, c := range s.Chunks {
		if c.I < 0 || int(c.I) >= len(old.chunks) || len(c.Data) != chunkHours*numMetrics || old.chunks[c.I] != nil {
			return nil, fmt.Errorf("entity %v: bad history chunk %d", s.Addr, c.I)
		}
		old.chunks[c.I] = (*chunk)(c.Data)
	}
	e := &entity{addr: s.Addr, prefix: s.Prefix, active: s.Active, hist: r.carry(&old)}
	if !subnet && len(s.Pairs) > 0 {
		for i := range s.Pairs[:min(len(s.Pairs), r.a.cfg.Exfil.PairsPerHost)] {
			p := s.Pairs[i]
			if !p.Peer.IsValid() || !validHour(p.First) || !validHour(p.Last) {
				return nil, fmt.Errorf("entity %v: bad pair", s.Addr)
			}
			e.pairs = append(e.pairs, &p)
		}
	}
	for _, as := range s.Accs {
		c, err := r.acc(&as, subnet)
		if err != nil {
			return nil, fmt.Errorf("entity %v: %w", s.Addr, err)
		}
		if e.acc[c.hour&1] != nil {
			return nil, fmt.Errorf("entity %v: two open accumulators for one hour", s.Addr)
		}
		e.acc[c.hour&1] = c
	}
	return e, nil
}

// carry returns old as a history of the analyzer's ring length, copying
// hour by hour when the lengths differ.
func (r *restorer) carry(old *history) history {
	if old.ringLen() == r.a.ringLen {
		return *old
	}
	h := newHistory(r.a.ringLen)
	h.First, h.Last = old.First, old.Last
	if old.Last == noHour {
		return h
	}
	n := min(old.ringLen(), r.a.ringLen)
	for hr := max(old.Last-n+1, old.First); hr <= old.Last; hr++ {
		var v [numMetrics]uint16
		s := ringSlot(hr, old.ringLen())
		if c := old.chunks[s/chunkHours]; c != nil {
			copy(v[:], c[(s%chunkHours)*numMetrics:])
		}
		h.set(hr, &v)
	}
	return h
}

func (r *restorer) acc(s *accSnap, subnet bool) (*acc, error) {
	if !r.s.Started || s.Hour < r.s.Open || s.Hour > r.s.Open+1 {
		return nil, fmt.Errorf("accumulator for hour %d outside the open hours", s.Hour)
	}
	if len(s.Top) > numTop || len(s.Fresh) > numFresh || len(s.Ext) > numPeers || len(s.Intl) > numPeers ||
		subnet && len(s.Ext)+len(s.Intl) > 0 {
		return nil, fmt.Errorf("accumulator for hour %d: too many entries", s.Hour)
	}
	c := r.pool.getAcc(s.Hour)
	c.bytesOut, c.bytesIn, c.packets, c.conns, c.extOut = s.Sums[0], s.Sums[1], s.Sums[2], s.Sums[3], s.Sums[4]
	c.nTop, c.nFresh = uint8(copy(c.top[:], s.Top)), uint8(copy(c.fresh[:], s.Fresh))
	c.fixTopMin()
	for i, d := range []*distinct{&c.dstIPs, &c.dstPorts, &c.extDsts} {
		ds := s.Distinct[i]
		if len(ds.Small) > exactLimit || len(ds.Sketch) != 0 && len(ds.Sketch) != hllM {
			return nil, fmt.Errorf("accumulator for hour %d: bad distinct counter", s.Hour)
		}
		d.n = uint8(copy(d.small[:], ds.Small))
		if len(ds.Sketch) == hllM {
			d.sk = r.pool.getSketch()
			copy(d.sk[:], ds.Sketch)
		}
	}
	c.routine = s.Routine
	var err error
	if c.ext, err = r.table(s.Ext); err == nil {
		c.intl, err = r.table(s.Intl)
	}
	if err != nil {
		return nil, fmt.Errorf("accumulator for hour %d: %w", s.Hour, err)
	}
	return c, nil
}

func (r *restorer) table(peers []peerSnap) (*peerTable, error) {
	if len(peers) == 0 {
		return nil, nil
	}
	for _, p := range peers {
		if p.P.N > peerIDs || !p.P.Addr.IsValid() {
			return nil, fmt.Errorf("bad peer %v", p.P.Addr)
		}
	}
	t := r.pool.getTable()
	for i, p := range peers {
		t.keys[i], t.count[i], t.peers[i] = hashAddr(p.P.Addr), p.Count, p.P
	}
	t.n = uint8(len(peers))
	return t, nil
}
