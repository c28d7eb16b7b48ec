package asset

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// importInput starts the input of the reject counters of file imports,
// which are named by file, not host.
const importInput = "import:"

// SeenFlow is what traffic shows of one flow peer ("flow" in SeenAs).
const SeenFlow = "flow"

// Peer is one internal address seen in traffic.
type Peer struct {
	Addr      netip.Addr
	FirstSeen time.Time
	LastSeen  time.Time
	// Connections counts the flows it took part in; Peers the addresses
	// it talked with.
	Connections int64
	Peers       int
}

// PeersFunc returns the distinct internal addresses seen in traffic since
// a time.
type PeersFunc func(ctx context.Context, since time.Time) ([]Peer, error)

// UnknownAsset is a host or address seen but not in the inventory.
type UnknownAsset struct {
	// Host is the host name a log source reported; Address is set for an
	// address (a traffic peer, or a log source known only by its address).
	Host      string    `json:"host,omitempty"`
	Address   string    `json:"address,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// SeenAs lists the log inputs it sent events through, sorted, then
	// "flow" when it was seen in traffic.
	SeenAs      []string `json:"seen_as"`
	Events      int64    `json:"events,omitempty"`
	Connections int64    `json:"connections,omitempty"`
	Peers       int      `json:"peers,omitempty"`
	// inFlows is set when traffic showed it.
	inFlows bool
}

// Unknown returns what was seen since the time since but is not in the
// index: log sources (host × input, from the state database) whose host
// matches no asset by name or address, and the internal addresses peers
// returns that no asset holds. Sources named "unknown" (no host known)
// and the reject counters of file imports (input "import:FORMAT", named
// by file) are left out. The result is sorted by last seen, most recent first.
func Unknown(ctx context.Context, idx *Index, sources []statedb.Source, peers PeersFunc,
	since time.Time) ([]UnknownAsset, error) {
	byKey := map[string]*UnknownAsset{}
	for _, s := range sources {
		if s.LastSeen.Before(since) || s.Host == "" || s.Host == "unknown" || strings.HasPrefix(s.Input, importInput) {
			continue
		}
		u := unknownSource(idx, byKey, s.Host)
		if u == nil {
			continue
		}
		widen(u, s.FirstSeen, s.LastSeen)
		u.Events += s.Events
		if !slices.Contains(u.SeenAs, s.Input) {
			u.SeenAs = append(u.SeenAs, s.Input)
		}
	}
	if peers != nil {
		ps, err := peers(ctx, since)
		if err != nil {
			return nil, fmt.Errorf("asset: addresses seen in traffic: %w", err)
		}
		for _, p := range ps {
			addr := p.Addr.Unmap()
			if p.LastSeen.Before(since) {
				continue // the rollup's hours reach before since
			}
			if _, known := idx.LookupAddr(addr); known || !addr.IsValid() {
				continue
			}
			key := "addr:" + addr.String()
			u := byKey[key]
			if u == nil {
				u = &UnknownAsset{Address: addr.String()}
				byKey[key] = u
			}
			widen(u, p.FirstSeen, p.LastSeen)
			u.Connections += p.Connections
			u.Peers += p.Peers
			u.inFlows = true
		}
	}
	return sortUnknown(byKey), nil
}

// unknownSource returns the entry of a log source's host, or nil when the
// index knows the host.
func unknownSource(idx *Index, byKey map[string]*UnknownAsset, host string) *UnknownAsset {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if _, known := idx.LookupAddr(a); known {
			return nil
		}
		key := "addr:" + a.String()
		if byKey[key] == nil {
			byKey[key] = &UnknownAsset{Address: a.String()}
		}
		return byKey[key]
	}
	if _, known := idx.LookupHost(host); known {
		return nil
	}
	key := "host:" + strings.ToLower(host)
	if byKey[key] == nil {
		byKey[key] = &UnknownAsset{Host: host}
	}
	return byKey[key]
}

// widen stretches u's first and last seen to cover first..last.
func widen(u *UnknownAsset, first, last time.Time) {
	if !first.IsZero() && (u.FirstSeen.IsZero() || first.Before(u.FirstSeen)) {
		u.FirstSeen = first
	}
	if last.After(u.LastSeen) {
		u.LastSeen = last
	}
}

// sortUnknown finishes the entries' SeenAs and returns them most recently
// seen first.
func sortUnknown(byKey map[string]*UnknownAsset) []UnknownAsset {
	out := make([]UnknownAsset, 0, len(byKey))
	for _, u := range byKey {
		slices.Sort(u.SeenAs)
		if u.inFlows {
			u.SeenAs = append(u.SeenAs, SeenFlow)
		}
		if u.SeenAs == nil {
			u.SeenAs = []string{}
		}
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b UnknownAsset) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.Host, b.Host), cmp.Compare(a.Address, b.Address))
	})
	return out
}

// PeerCollector gathers the internal addresses of traffic edges into
// Peers, for a PeersFunc over the flow rollup. It is not safe for
// concurrent use.
type PeerCollector struct {
	internal *flow.Set
	peers    map[netip.Addr]*Peer
}

// NewPeerCollector returns a collector keeping the addresses inside
// internal (flow.DefaultInternal when nil).
func NewPeerCollector(internal *flow.Set) *PeerCollector {
	if internal == nil {
		internal, _ = flow.NewSet(flow.DefaultInternal()) // the defaults always parse
	}
	return &PeerCollector{internal: internal, peers: map[netip.Addr]*Peer{}}
}

// Add counts one edge: src talked with dst in conns flows between first
// and last. Ends that are not internal addresses are ignored.
func (c *PeerCollector) Add(src, dst string, first, last time.Time, conns int64) {
	for _, s := range [2]string{src, dst} {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		a = a.Unmap()
		if !c.internal.Contains(a) {
			continue
		}
		p := c.peers[a]
		if p == nil {
			p = &Peer{Addr: a, FirstSeen: first, LastSeen: last}
			c.peers[a] = p
		}
		if first.Before(p.FirstSeen) {
			p.FirstSeen = first
		}
		if last.After(p.LastSeen) {
			p.LastSeen = last
		}
		p.Connections += conns
		p.Peers++
	}
}

// Peers returns the addresses collected, in address order.
func (c *PeerCollector) Peers() []Peer {
	out := make([]Peer, 0, len(c.peers))
	for _, p := range c.peers {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Peer) int { return a.Addr.Compare(b.Addr) })
	return out
}
