package dnsanomaly

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vigil-soc/vigil/internal/flow"
)

const stateVersion = 1

type snapshot struct {
	Version     int
	ClosedUntil int64
	Windows     []winSnap
	DGAStarted  bool
	DGANext     int64
	PrevDay     int64
	Hosts       []hostSnap
	Prevalence  []byte
	Counts      Counts
}

type winSnap struct {
	Start   int64
	Dropped int
	Doms    []domSnap
}

type domSnap struct {
	Reg                string
	Queries            uint32
	Exact              []uint64
	HLL                []byte
	NewBytes, SubBytes uint64
	NewCount, WithSub  uint32
	StatN              uint32
	LabelChars         uint64
	Labels             uint32
	MaxLabel           int
	LongestSum         uint64
	EntropySum         float64
	Types              [nTypes]uint32
	Hosts              []hostCount
	HostsOver          bool
	IDs                ring
	First, Last        int64
}

type hostSnap struct {
	Host netip.Addr
	Ents []nxEntry
	IDs  ring
}

// MarshalBinary implements flow.Analyzer: it saves the open tunnel windows,
// the hosts' recent NXDOMAIN names, the per-domain prevalence and the
// schedule (encoding/gob, in sorted order).
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	prev, err := a.dom.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("dnsanomaly: save state: %w", err)
	}
	s := snapshot{Version: stateVersion, ClosedUntil: a.closedUntil, DGAStarted: a.dgaStarted, DGANext: a.dgaNext,
		PrevDay: a.prevDay, Prevalence: prev, Counts: a.counts}
	for start, w := range a.wins {
		ws := winSnap{Start: start, Dropped: w.dropped}
		for reg, d := range w.doms {
			ws.Doms = append(ws.Doms, domSnap{Reg: reg, Queries: d.queries, Exact: d.sub.exact, HLL: d.sub.hll,
				NewBytes: d.newBytes, SubBytes: d.subBytes, NewCount: d.newCount, WithSub: d.withSub, StatN: d.statN,
				LabelChars: d.labelChars, Labels: d.labels, MaxLabel: d.maxLabel, LongestSum: d.longestSum, EntropySum: d.entropySum,
				Types: d.types, Hosts: d.hosts, HostsOver: d.hostsOver, IDs: d.ids, First: d.first, Last: d.last})
		}
		slices.SortFunc(ws.Doms, func(x, y domSnap) int { return strings.Compare(x.Reg, y.Reg) })
		s.Windows = append(s.Windows, ws)
	}
	slices.SortFunc(s.Windows, func(x, y winSnap) int { return int(x.Start - y.Start) })
	for host, h := range a.hosts {
		s.Hosts = append(s.Hosts, hostSnap{Host: host, Ents: h.ents, IDs: h.ids})
	}
	slices.SortFunc(s.Hosts, func(x, y hostSnap) int { return x.Host.Compare(y.Host) })
	return flow.EncodeState("dnsanomaly", &s)
}

// UnmarshalBinary implements flow.Analyzer: it replaces the state with one
// saved by MarshalBinary. The configuration stays the analyzer's own.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	var s snapshot
	if err := flow.DecodeState("dnsanomaly", data, &s); err != nil {
		return err
	}
	if s.Version != stateVersion {
		return fmt.Errorf("dnsanomaly: restore state: version %d, want %d", s.Version, stateVersion)
	}
	wins := make(map[int64]*tunnelWindow, len(s.Windows))
	for _, ws := range s.Windows {
		w := &tunnelWindow{start: ws.Start, dropped: ws.Dropped, doms: make(map[string]*domStats, len(ws.Doms))}
		for i := range ws.Doms {
			ds := &ws.Doms[i]
			if err := ds.check(); err != nil {
				return fmt.Errorf("dnsanomaly: restore state: domain %q: %w", ds.Reg, err)
			}
			w.doms[ds.Reg] = &domStats{queries: ds.Queries, sub: distinct{exact: ds.Exact, hll: ds.HLL},
				newBytes: ds.NewBytes, subBytes: ds.SubBytes, newCount: ds.NewCount, withSub: ds.WithSub, statN: ds.StatN,
				labelChars: ds.LabelChars, labels: ds.Labels, maxLabel: ds.MaxLabel, longestSum: ds.LongestSum, entropySum: ds.EntropySum,
				types: ds.Types, hosts: ds.Hosts, hostsOver: ds.HostsOver, ids: ds.IDs, first: ds.First, last: ds.Last}
		}
		wins[ws.Start] = w
	}
	hosts := make(map[netip.Addr]*nxHost, len(s.Hosts))
	for _, hs := range s.Hosts {
		if !hs.IDs.valid() {
			return fmt.Errorf("dnsanomaly: restore state: host %v: evidence position out of range", hs.Host)
		}
		hosts[hs.Host] = &nxHost{ents: hs.Ents, ids: hs.IDs}
	}
	if err := a.dom.UnmarshalBinary(s.Prevalence); err != nil {
		return fmt.Errorf("dnsanomaly: restore state: %w", err)
	}
	a.wins, a.hosts, a.closedUntil, a.counts = wins, hosts, s.ClosedUntil, s.Counts
	a.dgaStarted, a.dgaNext, a.prevDay = s.DGAStarted, s.DGANext, s.PrevDay
	if a.dgaStarted {
		step := int64(a.cfg.DGA.Step.Seconds())
		a.dgaNext = boundaryAfter(s.DGANext-1, step) // re-align if the step changed
	}
	return nil
}

func (d *domSnap) check() error {
	switch {
	case d.HLL != nil && (len(d.HLL) != 1<<hllBits || len(d.Exact) > 0):
		return fmt.Errorf("sketch of %d registers", len(d.HLL))
	case len(d.Exact) > exactLimit:
		return fmt.Errorf("%d exact hashes, limit %d", len(d.Exact), exactLimit)
	case len(d.Hosts) > maxHosts || !d.IDs.valid():
		return fmt.Errorf("host list or evidence out of range")
	case d.Queries == 0 || len(d.Hosts) == 0:
		return fmt.Errorf("no queries")
	}
	return nil
}

func (r *ring) valid() bool {
	return r.Next >= 0 && (r.Next < len(r.IDs) || (r.Next == 0 && len(r.IDs) == 0))
}
