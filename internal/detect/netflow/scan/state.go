package scan

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-soc/vigil/internal/flow"
)

const stateVersion = 1

type snapshot struct {
	Version         int
	HopNs, SlowHops int64
	Started         bool
	PassHop         int64
	Dropped, Late   uint64
	Sources         []srcSnap
	Pending         []flow.Signal
}

type srcSnap struct {
	Addr                 [16]byte
	ActTop               int64
	Act                  uint64
	Seen, Failed         []byte
	Done, LastEval, GCAt int64
	Dropped              uint64
	Contacts             []contactSnap
	Reports              []reportSnap
}

type contactSnap struct {
	Dst              [16]byte
	Port             uint16
	Proto            uint8
	Top              int64
	Seen, OK, Failed uint64
	First, Last      int64
	Event            uint64
	Attempts         uint32
}

type reportSnap struct {
	Kind, Proto     uint8
	Port            uint16
	Dst             [16]byte
	Since, LastFire int64
	Total, Emitted  int32
}

// MarshalBinary implements flow.Analyzer: it saves the open windows, the
// reports of running scans and signals not yet emitted.
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	snap := snapshot{Version: stateVersion, HopNs: a.hopNs, SlowHops: a.slowHops, Started: a.started,
		PassHop: a.passHop, Dropped: a.dropped, Late: a.late, Pending: a.pending}
	for key, s := range a.sources {
		ss := srcSnap{Addr: key, ActTop: s.act.top, Act: s.act.bits, Seen: s.act.seen[:], Failed: s.act.failed[:],
			Done: s.done, LastEval: s.lastEval,
			GCAt: s.gcAt, Dropped: s.dropped, Contacts: make([]contactSnap, len(s.list))}
		for j, i := range s.list {
			c := &a.cs[i]
			ss.Contacts[j] = contactSnap{Dst: c.k.t.dst, Port: c.k.t.port, Proto: c.k.t.proto, Top: c.top,
				Seen: c.seen, OK: c.ok, Failed: c.failed, First: c.first, Last: c.last,
				Event: c.event, Attempts: c.attempts}
		}
		for k, r := range s.reports {
			ss.Reports = append(ss.Reports, reportSnap{Kind: uint8(k.kind), Proto: k.proto, Port: k.port,
				Dst: k.dst, Since: r.since, LastFire: r.lastFire, Total: r.total, Emitted: r.emitted})
		}
		slices.SortFunc(ss.Reports, func(x, y reportSnap) int {
			return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Proto, y.Proto),
				cmp.Compare(x.Port, y.Port), bytes.Compare(x.Dst[:], y.Dst[:]))
		})
		snap.Sources = append(snap.Sources, ss)
	}
	slices.SortFunc(snap.Sources, func(x, y srcSnap) int { return bytes.Compare(x.Addr[:], y.Addr[:]) })
	return flow.EncodeState("scan", &snap)
}

// UnmarshalBinary implements flow.Analyzer: it replaces the analyzer's
// state with one saved by MarshalBinary under the same window settings.
// Which hosts are internal is taken from the analyzer's configuration.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	var snap snapshot
	if err := flow.DecodeState("scan", data, &snap); err != nil {
		return err
	}
	if snap.Version != stateVersion {
		return fmt.Errorf("scan: restore state: version %d, want %d", snap.Version, stateVersion)
	}
	if snap.HopNs != a.hopNs || snap.SlowHops != a.slowHops {
		return fmt.Errorf("scan: restore state: saved with a hop of %d ns and %d slow hops, configured %d ns and %d",
			snap.HopNs, snap.SlowHops, a.hopNs, a.slowHops)
	}
	n := 0
	for i := range snap.Sources {
		n += len(snap.Sources[i].Contacts)
	}
	a.sources, a.srcs, a.srcFree = make(map[[16]byte]*source, len(snap.Sources)), nil, nil
	a.index, a.cs, a.free = newTable(n), make([]contact, 0, n), nil
	for i := range snap.Sources {
		a.restoreSource(&snap.Sources[i])
	}
	a.started, a.passHop, a.dropped, a.late = snap.Started, snap.PassHop, snap.Dropped, snap.Late
	a.pending = snap.Pending
	return nil
}

func (a *Analyzer) restoreSource(ss *srcSnap) {
	if _, dup := a.sources[ss.Addr]; dup {
		return
	}
	s := a.newSource(addrOf(ss.Addr), ss.Addr, ss.ActTop)
	s.list = make([]int32, 0, len(ss.Contacts))
	s.act.bits, s.done, s.lastEval, s.gcAt, s.dropped = ss.Act, ss.Done, ss.LastEval, ss.GCAt, ss.Dropped
	copy(s.act.seen[:], ss.Seen)
	copy(s.act.failed[:], ss.Failed)
	for _, c := range ss.Contacts {
		k := ckey{src: ss.Addr, t: target{dst: c.Dst, port: c.Port, proto: c.Proto}}
		h := hashKey(&k)
		if _, _, dup := a.index.find(a.cs, &k, h); dup {
			continue
		}
		i := int32(len(a.cs))
		a.cs = append(a.cs, contact{k: k, hist: hist{top: c.Top, seen: c.Seen, ok: c.OK, failed: c.Failed},
			first: c.First, last: c.Last, event: c.Event, src: s.id, attempts: c.Attempts,
			internal: a.internal.Contains(addrOf(c.Dst))})
		a.index.insert(h, i)
		s.list = append(s.list, i)
	}
	if len(ss.Reports) > 0 {
		s.reports = make(map[groupKey]*report, len(ss.Reports))
		for _, r := range ss.Reports {
			s.reports[groupKey{kind: kind(r.Kind), proto: r.Proto, port: r.Port, dst: r.Dst}] =
				&report{since: r.Since, lastFire: r.LastFire, total: r.Total, emitted: r.Emitted}
		}
	}
}
