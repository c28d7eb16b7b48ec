package beacon

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/vigil-soc/vigil/internal/flow"
)

// stateVersion is written with the state so that a later format can be
// told apart.
const stateVersion = 1

type snapshot struct {
	Version             int
	Started             bool
	First, Newest, Next int64
	Pairs               []pairSnap
	Counts              Counts
}

type pairSnap struct {
	Kind     uint8
	Src, Dst []byte // netip.Addr binary form
	Port     uint16
	Name     string
	Conns    []uint64
	IDs      []uint64
	IDNext   int
	Stride   uint32
	Seq      uint32
	LastSeen uint32
	LastEnd  uint32
	LastPort uint16
}

// MarshalBinary implements flow.Analyzer: it saves the pairs, their
// samples and the scoring schedule (encoding/gob, pairs in key order).
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	s := snapshot{Version: stateVersion, Started: a.started, First: a.first, Newest: a.newest,
		Next: a.next, Counts: a.counts, Pairs: make([]pairSnap, 0, len(a.pairs))}
	keys := make([]*pairKey, 0, len(a.pairs))
	for k := range a.pairs {
		keys = append(keys, &k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		p := a.pairs[*k]
		src, _ := k.src.MarshalBinary()
		dst, _ := k.dst.MarshalBinary()
		s.Pairs = append(s.Pairs, pairSnap{Kind: k.kind, Src: src, Dst: dst, Port: k.port, Name: k.name,
			Conns: p.conns, IDs: p.ids, IDNext: p.idNext, Stride: p.stride, Seq: p.seq,
			LastSeen: p.lastSeen, LastEnd: p.lastEnd, LastPort: p.lastPort})
	}
	return flow.EncodeState("beacon", &s)
}

// UnmarshalBinary implements flow.Analyzer: it replaces the state with one
// saved by MarshalBinary. The configuration stays the analyzer's own.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	var s snapshot
	if err := flow.DecodeState("beacon", data, &s); err != nil {
		return err
	}
	if s.Version != stateVersion {
		return fmt.Errorf("beacon: restore state: version %d, want %d", s.Version, stateVersion)
	}
	if err := s.check(); err != nil {
		return fmt.Errorf("beacon: restore state: %w", err)
	}
	pairs := make(map[pairKey]*pair, len(s.Pairs))
	for i := range s.Pairs {
		ps := &s.Pairs[i]
		k := pairKey{kind: ps.Kind, port: ps.Port, name: ps.Name}
		if err := k.src.UnmarshalBinary(ps.Src); err != nil {
			return fmt.Errorf("beacon: restore state: pair %d source: %w", i, err)
		}
		if err := k.dst.UnmarshalBinary(ps.Dst); err != nil {
			return fmt.Errorf("beacon: restore state: pair %d destination: %w", i, err)
		}
		if err := ps.check(); err != nil {
			return fmt.Errorf("beacon: restore state: pair %d: %w", i, err)
		}
		p := &pair{conns: ps.Conns, ids: ps.IDs, idNext: ps.IDNext, stride: ps.Stride, seq: ps.Seq,
			lastSeen: ps.LastSeen, lastEnd: ps.LastEnd, lastPort: ps.LastPort,
			unsorted: !slices.IsSorted(ps.Conns)}
		if len(p.ids) > a.cfg.MaxEvidence {
			p.ids, p.idNext = p.evidence()[len(p.ids)-a.cfg.MaxEvidence:], 0
		}
		if len(p.conns) >= a.limit {
			p.compact(s.Next-int64(a.cfg.Window.Seconds()), a.limit)
		}
		pairs[k] = p
	}
	a.started, a.first, a.newest, a.next = s.Started, s.First, s.Newest, s.Next
	if a.started {
		// Re-align the schedule in case the interval was reconfigured.
		a.next = a.boundaryAfter(s.Next - 1)
	}
	a.counts, a.pairs = s.Counts, pairs
	return nil
}

func (s *snapshot) check() error {
	switch {
	case !s.Started && len(s.Pairs) > 0:
		return fmt.Errorf("%d pairs but no schedule", len(s.Pairs))
	case s.Started && !(0 <= s.First && s.First <= s.Newest && s.Newest <= math.MaxUint32 && s.First < s.Next &&
		s.Next <= math.MaxUint32+int64(maxInterval.Seconds())):
		return fmt.Errorf("schedule out of range (first %d, newest %d, next %d)", s.First, s.Newest, s.Next)
	}
	return nil
}

func (ps *pairSnap) check() error {
	switch {
	case ps.Kind < kindAddr || ps.Kind > kindDNS:
		return fmt.Errorf("unknown kind %d", ps.Kind)
	case ps.Stride == 0 || bits.OnesCount32(ps.Stride) != 1:
		return fmt.Errorf("stride %d is not a power of two", ps.Stride)
	case ps.IDNext < 0 || (len(ps.IDs) > 0 && ps.IDNext >= len(ps.IDs)) || (len(ps.IDs) == 0 && ps.IDNext != 0):
		return fmt.Errorf("evidence position %d out of range", ps.IDNext)
	}
	return nil
}
