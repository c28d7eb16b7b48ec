package baseline

import (
	"math"
	"net/netip"
)

// noHour marks "no hour yet" in First and Last.
const noHour = math.MinInt32

// chunkHours is the allocation unit of an entity's history: one day, so a
// host seen for a day costs one chunk, not a month of slots.
const chunkHours = 24

// chunk holds numMetrics 16-bit codes for each of chunkHours hours.
type chunk [chunkHours * numMetrics]uint16

// history is a ring of an entity's closed hourly values, indexed by
// absolute UTC hour modulo the ring length (a multiple of chunkHours).
// Hours from First to Last are known; hours after Last (up to the hour
// being closed) had no traffic and read as zero.
type history struct {
	First  int32
	Last   int32
	chunks []*chunk
}

func newHistory(ringLen int32) history {
	return history{First: noHour, Last: noHour, chunks: make([]*chunk, ringLen/chunkHours)}
}

func ringSlot(h, n int32) int32 {
	s := h % n
	if s < 0 {
		s += n
	}
	return s
}

func (h *history) ringLen() int32 { return int32(len(h.chunks)) * chunkHours }

// write stores the values of closed hour hr, zeroing the hours since the
// last write (no traffic) first.
func (h *history) write(hr int32, v *[numMetrics]uint16) {
	n := h.ringLen()
	if h.Last != noHour && hr > h.Last+1 {
		for x := max(h.Last+1, hr-n+1); x < hr; x++ {
			h.set(x, &[numMetrics]uint16{})
		}
	}
	h.set(hr, v)
	if h.Last == noHour || hr > h.Last {
		h.Last = hr
	}
}

func (h *history) set(hr int32, v *[numMetrics]uint16) {
	s := ringSlot(hr, h.ringLen())
	c := h.chunks[s/chunkHours]
	if c == nil {
		if *v == ([numMetrics]uint16{}) {
			return // an unallocated day reads as zeros already
		}
		c = new(chunk)
		h.chunks[s/chunkHours] = c
	}
	off := (s % chunkHours) * numMetrics
	copy(c[off:off+numMetrics], v[:])
}

// value returns metric m at hour hr, and false when that hour is unknown:
// before the entity's first traffic, at or after bound (not closed yet), or
// already overwritten by the ring.
func (h *history) value(hr int32, m int, bound int32) (float64, bool) {
	if h.First == noHour || hr < h.First || hr >= bound {
		return 0, false
	}
	if h.Last == noHour || hr > h.Last {
		return 0, true
	}
	if hr <= h.Last-h.ringLen() {
		return 0, false
	}
	s := ringSlot(hr, h.ringLen())
	c := h.chunks[s/chunkHours]
	if c == nil {
		return 0, true
	}
	return decode(c[(s%chunkHours)*numMetrics+int32(m)]), true
}

// allocated returns how many day chunks the history holds.
func (h *history) allocated() int {
	n := 0
	for _, c := range h.chunks {
		if c != nil {
			n++
		}
	}
	return n
}

// pairRing is the hours of history kept per (host, external peer) pair: a
// week and one hour either side, enough to see the same hour on each of
// the last seven days and a week ago.
const pairRing = 7*24 + 2

// Directions of a pair's volume.
const (
	dirSent = 0
	dirRecv = 1
)

// pair is the recent hourly volume a host exchanged with one peer: bytes
// it sent to the peer and bytes it received from it.
type pair struct {
	Peer     netip.Addr
	Internal bool
	First    int32
	Last     int32
	Ring     [2][pairRing]uint16
}

func (p *pair) write(hr int32, sent, recv uint64) {
	if p.First == noHour {
		p.First = hr
	}
	if p.Last != noHour && hr > p.Last+1 {
		for x := max(p.Last+1, hr-pairRing+1); x < hr; x++ {
			p.Ring[dirSent][ringSlot(x, pairRing)] = 0
			p.Ring[dirRecv][ringSlot(x, pairRing)] = 0
		}
	}
	s := ringSlot(hr, pairRing)
	p.Ring[dirSent][s], p.Ring[dirRecv][s] = encode(sent), encode(recv)
	if p.Last == noHour || hr > p.Last {
		p.Last = hr
	}
}

func (p *pair) value(dir int, hr int32) float64 {
	if p.First == noHour || hr < p.First || hr > p.Last || hr <= p.Last-pairRing {
		return 0
	}
	return decode(p.Ring[dir][ringSlot(hr, pairRing)])
}

// usualMax returns the most the pair carried in direction dir at the same
// hour of day (one hour either side) on each of the previous seven days:
// the volume its own history explains. Hours at or after bound are not
// used.
func (p *pair) usualMax(dir int, hr, bound int32) float64 {
	m := 0.0
	for d := int32(1); d <= 7; d++ {
		for dx := int32(-1); dx <= 1; dx++ {
			if x := hr - 24*d + dx; x < bound {
				m = max(m, p.value(dir, x))
			}
		}
	}
	return m
}

// weight is the largest hourly volume, either way, still in the pair's
// ring as of hour now: how much the pair matters when the table is full.
func (p *pair) weight(now int32) float64 {
	m := 0.0
	for x := max(p.First, now-pairRing+1); x <= p.Last && x <= now; x++ {
		m = max(m, p.value(dirSent, x), p.value(dirRecv, x))
	}
	return m
}
