package newtalker

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-soc/vigil/internal/flow"
)

const stateVersion = 1

type snapshot struct {
	Version          int
	Evicted, Refused uint64
	Assets           []assetSnap
	Pending          []flow.Signal
}

type assetSnap struct {
	Addr     [16]byte
	First    int64
	Evicted  uint64
	Pairs    []pairSnap
	Services []serviceSnap
}

type pairSnap struct {
	H   uint64
	Day int32
}

type serviceSnap struct {
	K     uint32
	First int64
	Day   int32
}

// MarshalBinary implements flow.Analyzer: it saves what each sensitive
// asset was seen doing and the signals not yet emitted.
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	snap := snapshot{Version: stateVersion, Evicted: a.evicted, Refused: a.refused, Pending: a.pending}
	for k, as := range a.state {
		s := assetSnap{Addr: k, First: as.first, Evicted: as.evicted,
			Pairs: make([]pairSnap, 0, len(as.pairs)), Services: make([]serviceSnap, 0, len(as.services))}
		for h, d := range as.pairs {
			s.Pairs = append(s.Pairs, pairSnap{H: h, Day: d})
		}
		for sk, sv := range as.services {
			s.Services = append(s.Services, serviceSnap{K: sk, First: sv.first, Day: sv.day})
		}
		slices.SortFunc(s.Pairs, func(x, y pairSnap) int { return cmp.Compare(x.H, y.H) })
		slices.SortFunc(s.Services, func(x, y serviceSnap) int { return cmp.Compare(x.K, y.K) })
		snap.Assets = append(snap.Assets, s)
	}
	slices.SortFunc(snap.Assets, func(x, y assetSnap) int { return bytes.Compare(x.Addr[:], y.Addr[:]) })
	return flow.EncodeState("new talker", &snap)
}

// UnmarshalBinary implements flow.Analyzer: it replaces the analyzer's
// state with one saved by MarshalBinary. Assets no longer listed as
// sensitive are dropped; names and roles come from the configuration.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	var snap snapshot
	if err := flow.DecodeState("new talker", data, &snap); err != nil {
		return err
	}
	if snap.Version != stateVersion {
		return fmt.Errorf("new talker: restore state: version %d, want %d", snap.Version, stateVersion)
	}
	state := make(map[[16]byte]*asset, len(snap.Assets))
	for _, s := range snap.Assets {
		addr := addrOf(s.Addr)
		idx, ok := a.assets.Lookup(addr)
		if !ok || len(state) >= a.cfg.MaxAssets {
			continue
		}
		as := &asset{addr: addr, cfg: idx, first: s.First, evicted: s.Evicted,
			pairs: make(map[uint64]int32, len(s.Pairs)), services: make(map[uint32]service, len(s.Services))}
		for _, p := range s.Pairs {
			as.pairs[p.H] = p.Day
		}
		for _, sv := range s.Services {
			as.services[sv.K] = service{first: sv.First, day: sv.Day}
		}
		state[s.Addr] = as
	}
	a.state, a.pending, a.evicted, a.refused = state, snap.Pending, snap.Evicted, snap.Refused
	return nil
}
