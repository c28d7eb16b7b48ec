package beacon

import (
	"net/netip"
	"slices"
	"strings"
)

// Pair kinds.
const (
	kindAddr uint8 = iota + 1 // (source, destination address[, port]) from flows
	kindApp                   // (source, server name) from TLS SNI / HTTP Host
	kindDNS                   // (source, query name) from DNS queries
)

// pairKey identifies a tracked pair.
type pairKey struct {
	src, dst netip.Addr
	name     string
	port     uint16
	kind     uint8
}

// pair holds one pair's connection samples over the window. Each sample
// packs the connection's start (Unix seconds) in the high 32 bits and its
// bytes (both ways, saturated) in the low 32 bits, so sorting the samples
// sorts them by time.
type pair struct {
	conns    []uint64
	ids      []uint64 // ring of the most recent event IDs
	idNext   int
	stride   uint32 // each sample stands for stride connections
	seq      uint32 // connections seen since the stride last changed
	lastSeen uint32 // latest connection start
	lastEnd  uint32 // end of the latest flow record (continuation merge)
	lastPort uint16 // source port of the latest flow record
	unsorted bool
}

func pack(t int64, size int64) uint64 {
	return uint64(t)<<32 | uint64(min(max(size, 0), 1<<32-1))
}

func unpackTime(c uint64) int64  { return int64(c >> 32) }
func unpackSize(c uint64) uint32 { return uint32(c) }

// add stores a connection, sampling by the pair's stride. It reports
// whether the buffer is now full.
func (p *pair) add(t, size int64, limit int) bool {
	p.seq++
	if (p.seq-1)%p.stride != 0 {
		return false
	}
	c := pack(t, size)
	if n := len(p.conns); n > 0 && c < p.conns[n-1] {
		p.unsorted = true
	}
	p.conns = append(p.conns, c)
	return len(p.conns) >= limit
}

// addEvidence remembers an event ID, keeping the most recent max.
func (p *pair) addEvidence(id uint64, limit int) {
	if id == 0 || limit == 0 {
		return
	}
	if len(p.ids) < limit {
		p.ids = append(p.ids, id)
		return
	}
	p.ids[p.idNext%len(p.ids)] = id
	p.idNext = (p.idNext + 1) % len(p.ids)
}

// evidence returns the remembered event IDs, oldest first.
func (p *pair) evidence() []uint64 {
	out := make([]uint64, 0, len(p.ids))
	out = append(out, p.ids[p.idNext:]...)
	return append(out, p.ids[:p.idNext]...)
}

func (p *pair) sort() {
	if p.unsorted {
		slices.Sort(p.conns)
		p.unsorted = false
	}
}

// expire drops samples that start before floor and reports how many remain.
func (p *pair) expire(floor int64) int {
	if len(p.conns) == 0 {
		return 0
	}
	if !p.unsorted {
		i, _ := slices.BinarySearch(p.conns, uint64(floor)<<32)
		if i > 0 {
			p.conns = append(p.conns[:0], p.conns[i:]...)
		}
		return len(p.conns)
	}
	p.conns = slices.DeleteFunc(p.conns, func(c uint64) bool { return unpackTime(c) < floor })
	return len(p.conns)
}

// oldest returns the earliest sample's start; the pair must hold one.
func (p *pair) oldest() int64 {
	if !p.unsorted {
		return unpackTime(p.conns[0])
	}
	return unpackTime(slices.Min(p.conns))
}

// compact makes room in a full buffer: it drops samples before floor and,
// when at least half the buffer is still in use, keeps every second sample
// and doubles the stride.
func (p *pair) compact(floor int64, limit int) {
	if p.expire(floor) < limit/2 {
		return
	}
	p.sort()
	j := 0
	for i := 0; i < len(p.conns); i += 2 {
		p.conns[j] = p.conns[i]
		j++
	}
	p.conns = p.conns[:j]
	p.stride *= 2
	p.seq = 0
}

// window returns the sorted samples inside [from, to).
func (p *pair) window(from, to int64) []uint64 {
	if from >= to {
		return nil
	}
	p.sort()
	i, _ := slices.BinarySearch(p.conns, uint64(from)<<32)
	j, _ := slices.BinarySearch(p.conns, uint64(to)<<32)
	return p.conns[i:j]
}

// bytes estimates the memory a pair and its map entry hold.
func (p *pair) bytes(k *pairKey) int64 {
	const fixed = 96 + 80 + 16 // struct, key, map slot overhead
	return fixed + int64(len(k.name)) + int64(cap(p.conns))*8 + int64(cap(p.ids))*8
}

// nameAllowed reports whether name or one of its parent domains is in set.
func nameAllowed(set map[string]struct{}, name string) bool {
	if len(set) == 0 || name == "" {
		return false
	}
	for {
		if _, ok := set[name]; ok {
			return true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}
