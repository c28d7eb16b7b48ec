package baseline

import "net/netip"

// Per host-hour bounds of what is kept for evidence and heavy hitters.
const (
	numPeers    = 8 // external peers tracked per host-hour (Space-Saving)
	peerIDs     = 4 // largest flows remembered per tracked peer
	numTop      = 8 // largest flows of the hour
	numFresh    = 8 // flows that added a new destination or port
	maxEvidence = 20
)

// acc accumulates one entity's traffic in one open hour.
type acc struct {
	hour     int32
	bytesOut uint64
	bytesIn  uint64
	packets  uint64
	conns    uint64
	extOut   uint64 // bytes sent to external peers
	dstIPs   distinct
	dstPorts distinct
	extDsts  distinct
	ext      *peerTable // a host's external peers
	intl     *peerTable // a host's internal peers
	// routine is, for a subnet, the bytes out, bytes in and packets its
	// hosts' pair histories explained in the hour (filled as they close).
	routine [3]float64
	top     [numTop]flowRef
	nTop    uint8
	topMin  uint8 // index of the smallest of top once it is full
	fresh   [numFresh]uint64
	nFresh  uint8
}

// flowRef is an event ID and the bytes its flow carried.
type flowRef struct {
	ID    uint64
	Bytes uint64
}

// peerTable is a Space-Saving summary of the bytes a host exchanged with
// its peers in an hour, by bytes both ways: with numPeers counters, every
// peer that carried more than 1/numPeers of the host's bytes is present.
// Sent, Recv and Pkts count exactly what the peer carried since its entry
// was made, so they are guaranteed lower bounds. keys and count are kept
// apart from the entries so the per-record scan reads one cache line.
type peerTable struct {
	n     uint8
	keys  [numPeers]uint32 // hashAddr of each entry's peer
	count [numPeers]uint64 // Space-Saving counts: Err + Sent + Recv
	peers [numPeers]peerCount
}

type peerCount struct {
	Addr netip.Addr
	Err  uint64
	Sent uint64
	Recv uint64
	Pkts uint64
	// Opened is set when the host opened a flow to the peer (so the
	// engine's prevalence tracker counted it among the peer's hosts).
	Opened bool
	N      uint8
	Flows  [peerIDs]flowRef
}

func (p *peerCount) note(id, b uint64) {
	if id == 0 {
		return
	}
	if int(p.N) < peerIDs {
		p.Flows[p.N] = flowRef{id, b}
		p.N++
		return
	}
	mi := 0
	for i := 1; i < peerIDs; i++ {
		if p.Flows[i].Bytes < p.Flows[mi].Bytes {
			mi = i
		}
	}
	if b > p.Flows[mi].Bytes {
		p.Flows[mi] = flowRef{id, b}
	}
}

// add counts a flow with peer a (whose hashAddr is k); opened says the
// host opened it.
func (t *peerTable) add(a netip.Addr, k uint32, opened bool, sent, recv, pkts, id uint64) {
	for i, x := range t.keys[:t.n] {
		if x == k && t.peers[i].Addr == a {
			p := &t.peers[i]
			t.count[i] += sent + recv
			p.Sent += sent
			p.Recv += recv
			p.Pkts += pkts
			p.Opened = p.Opened || opened
			p.note(id, sent)
			return
		}
	}
	i, m := int(t.n), uint64(0)
	if i < numPeers {
		t.n++
	} else {
		i = 0
		for j := 1; j < numPeers; j++ {
			if t.count[j] < t.count[i] {
				i = j
			}
		}
		m = t.count[i]
	}
	t.keys[i], t.count[i] = k, m+sent+recv
	t.peers[i] = peerCount{Addr: a, Err: m, Sent: sent, Recv: recv, Pkts: pkts, Opened: opened}
	t.peers[i].note(id, sent)
}

// noteTop remembers id among the hour's numTop largest flows.
func (c *acc) noteTop(id, b uint64) {
	if id == 0 || int(c.nTop) == numTop && b <= c.top[c.topMin].Bytes {
		return
	}
	if int(c.nTop) < numTop {
		c.top[c.nTop] = flowRef{id, b}
		c.nTop++
	} else {
		c.top[c.topMin] = flowRef{id, b}
	}
	c.fixTopMin()
}

// fixTopMin finds the smallest of the top flows once there are numTop.
func (c *acc) fixTopMin() {
	if int(c.nTop) < numTop {
		return
	}
	mi := 0
	for i := 1; i < numTop; i++ {
		if c.top[i].Bytes < c.top[mi].Bytes {
			mi = i
		}
	}
	c.topMin = uint8(mi)
}

// noteFresh remembers id as a flow that added a new destination or port.
func (c *acc) noteFresh(id uint64) {
	if id != 0 && int(c.nFresh) < numFresh {
		c.fresh[c.nFresh] = id
		c.nFresh++
	}
}

// values returns the hour's metrics.
func (c *acc) values() [numMetrics]float64 {
	var v [numMetrics]float64
	v[mBytesOut] = float64(c.bytesOut)
	v[mBytesIn] = float64(c.bytesIn)
	v[mPackets] = float64(c.packets)
	v[mConns] = float64(c.conns)
	v[mDstIPs] = c.dstIPs.count()
	v[mDstPorts] = c.dstPorts.count()
	v[mExtDsts] = c.extDsts.count()
	v[mUnexplained] = float64(c.extOut)
	return v
}

// pool recycles accumulators, peer tables and sketches so that the steady
// state allocates nothing.
type pool struct {
	accs     []*acc
	tables   []*peerTable
	sketches []*hll
	live     [3]int // accumulators, peer tables, sketches handed out
}

func (p *pool) getAcc(h int32) *acc {
	p.live[0]++
	if n := len(p.accs); n > 0 {
		c := p.accs[n-1]
		p.accs = p.accs[:n-1]
		c.hour = h
		return c
	}
	return &acc{hour: h}
}

func (p *pool) putAcc(c *acc) {
	p.live[0]--
	c.dstIPs.reset(p)
	c.dstPorts.reset(p)
	c.extDsts.reset(p)
	for _, t := range []*peerTable{c.ext, c.intl} {
		if t != nil {
			p.live[1]--
			*t = peerTable{}
			p.tables = append(p.tables, t)
		}
	}
	*c = acc{}
	p.accs = append(p.accs, c)
}

func (p *pool) getTable() *peerTable {
	p.live[1]++
	if n := len(p.tables); n > 0 {
		t := p.tables[n-1]
		p.tables = p.tables[:n-1]
		return t
	}
	return &peerTable{}
}

func (p *pool) getSketch() *hll {
	p.live[2]++
	if n := len(p.sketches); n > 0 {
		s := p.sketches[n-1]
		p.sketches = p.sketches[:n-1]
		return s
	}
	return &hll{}
}

func (p *pool) putSketch(s *hll) {
	p.live[2]--
	*s = hll{}
	p.sketches = append(p.sketches, s)
}

// trim lets the pool keep at most as many spare objects as are in use, so
// a burst does not pin its memory forever.
func (p *pool) trim() {
	p.accs = trimFree(p.accs, p.live[0])
	p.tables = trimFree(p.tables, p.live[1])
	p.sketches = trimFree(p.sketches, p.live[2])
}

func trimFree[T any](s []*T, keep int) []*T {
	keep = max(keep, 16)
	if len(s) <= keep {
		return s
	}
	clear(s[keep:])
	return s[:keep:keep]
}
