package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
)

// GraphContext is what the graph API knows about addresses besides the
// traffic: the internal networks and the assets' names, roles and
// criticality.
type GraphContext struct {
	Internal *flow.Set
	Assets   map[netip.Addr]GraphAsset
}

// GraphAsset is an asset's display data in the graph.
type GraphAsset struct {
	Name        string `json:"name,omitempty"`
	Role        string `json:"role,omitempty"`
	Criticality string `json:"criticality,omitempty"`
}

// GraphNode is one host (or grouped subnet) of the graph.
type GraphNode struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Internal bool   `json:"internal"`
	GraphAsset
	// Hosts counts the addresses a grouped node stands for.
	Hosts    int   `json:"hosts"`
	BytesOut int64 `json:"bytes_out"`
	BytesIn  int64 `json:"bytes_in"`
	Conns    int64 `json:"connections"`
	Peers    int   `json:"peers"`
	peerSet  map[string]bool
}

// handleGraph serves GET /api/v1/graph: nodes and edges of who talks to
// whom in [from, to) from the hourly rollup, with filters subnet, port,
// min_bytes, limit and group=host|subnet (prefix= bits, default 24).
func (s *Server) handleGraph(w http.ResponseWriter, r *http.Request) {
	req, prefix, err := graphRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	edges, err := s.Events.Graph(r.Context(), req)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if prefix > 0 {
		edges = groupEdges(edges, prefix)
	}
	nodes := s.graphNodes(edges, prefix > 0)
	writeJSON(w, http.StatusOK, map[string]any{"from": req.From, "to": req.To, "nodes": nodes, "edges": edges,
		"node_count": len(nodes), "edge_count": len(edges)})
}

func graphRequest(r *http.Request) (eventstore.GraphRequest, int, error) {
	from, to, err := timeRange(r)
	if err != nil {
		return eventstore.GraphRequest{}, 0, err
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour) // the last day by default
	}
	req := eventstore.GraphRequest{From: from, To: to}
	q := r.URL.Query()
	var errs []error
	if v := q.Get("subnet"); v != "" {
		if req.Subnet, err = flow.ParsePrefix(v); err != nil {
			errs = append(errs, fmt.Errorf("subnet: %w", err))
		}
	}
	if v := q.Get("port"); v != "" {
		p, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			errs = append(errs, fmt.Errorf("port %q is not a port number", v))
		}
		req.Port = uint16(p)
	}
	if v := q.Get("min_bytes"); v != "" {
		if req.MinBytes, err = strconv.ParseInt(v, 10, 64); err != nil || req.MinBytes < 0 {
			errs = append(errs, fmt.Errorf("min_bytes %q is not a non-negative integer", v))
		}
	}
	if req.Limit, err = intParam(r, "limit", 5000); err != nil {
		errs = append(errs, err)
	}
	prefix := 0
	switch q.Get("group") {
	case "", "host":
	case "subnet":
		prefix = 24
		if v := q.Get("prefix"); v != "" {
			if prefix, err = strconv.Atoi(v); err != nil || prefix < 8 || prefix > 128 {
				errs = append(errs, fmt.Errorf("prefix %q must be 8..128 bits", v))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("group %q must be host or subnet", q.Get("group")))
	}
	return req, prefix, errors.Join(errs...)
}

// groupEdges merges edges whose ends fall into the same prefixes.
func groupEdges(edges []eventstore.Edge, bits int) []eventstore.Edge {
	type key struct{ src, dst string }
	idx := map[key]int{}
	var out []eventstore.Edge
	for _, e := range edges {
		k := key{groupID(e.Src, bits), groupID(e.Dst, bits)}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			g := e
			g.Src, g.Dst, g.Ports = k.src, k.dst, slices.Clone(e.Ports)
			out = append(out, g)
			continue
		}
		g := &out[i]
		g.BytesOut += e.BytesOut
		g.BytesIn += e.BytesIn
		g.Packets += e.Packets
		g.Conns += e.Conns
		g.Failed += e.Failed
		for _, p := range e.Ports {
			if !slices.Contains(g.Ports, p) && len(g.Ports) < 20 {
				g.Ports = append(g.Ports, p)
			}
		}
		slices.Sort(g.Ports)
		if e.FirstSeen.Before(g.FirstSeen) {
			g.FirstSeen = e.FirstSeen
		}
		if e.LastSeen.After(g.LastSeen) {
			g.LastSeen = e.LastSeen
		}
	}
	slices.SortFunc(out, func(a, b eventstore.Edge) int {
		return cmp.Compare(b.BytesOut+b.BytesIn, a.BytesOut+a.BytesIn)
	})
	return out
}

// groupID returns the prefix of addr with bits (IPv4) or bits+40 (IPv6,
// capped at 128) as a CIDR string.
func groupID(addr string, bits int) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a.Is6() {
		bits = min(bits+40, 128)
	}
	p, err := a.Prefix(min(bits, a.BitLen()))
	if err != nil {
		return addr
	}
	return p.String()
}

// graphNodes builds the nodes of the edges with their totals and context.
func (s *Server) graphNodes(edges []eventstore.Edge, grouped bool) []*GraphNode {
	nodes := map[string]*GraphNode{}
	node := func(id string) *GraphNode {
		n := nodes[id]
		if n == nil {
			n = &GraphNode{ID: id, Label: id, peerSet: map[string]bool{}}
			s.describeNode(n, grouped)
			nodes[id] = n
		}
		return n
	}
	for _, e := range edges {
		src, dst := node(e.Src), node(e.Dst)
		src.BytesOut += e.BytesOut
		src.BytesIn += e.BytesIn
		src.Conns += e.Conns
		dst.BytesIn += e.BytesOut
		dst.BytesOut += e.BytesIn
		dst.Conns += e.Conns
		src.peerSet[e.Dst] = true
		dst.peerSet[e.Src] = true
	}
	out := make([]*GraphNode, 0, len(nodes))
	for _, n := range nodes {
		n.Peers = len(n.peerSet)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *GraphNode) int {
		return cmp.Or(cmp.Compare(b.BytesOut+b.BytesIn, a.BytesOut+a.BytesIn), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// describeNode sets whether a node is internal and its asset data.
func (s *Server) describeNode(n *GraphNode, grouped bool) {
	n.Hosts = 1
	if grouped {
		p, err := netip.ParsePrefix(n.ID)
		if err != nil {
			return
		}
		n.Internal = s.Graph.Internal.Contains(p.Addr())
		n.Hosts = 0
		for a := range s.Graph.Assets {
			if p.Contains(a) {
				n.Hosts++
			}
		}
		return
	}
	a, err := netip.ParseAddr(n.ID)
	if err != nil {
		return
	}
	n.Internal = s.Graph.Internal.Contains(a)
	if as, ok := s.Graph.Assets[a]; ok {
		n.GraphAsset = as
		if as.Name != "" {
			n.Label = as.Name
		}
	}
}

// handleGraphFlows serves GET /api/v1/graph/flows?src=&dst=: the stored
// flows of one edge (addresses or, for grouped graphs, CIDRs) in the
// window, newest first, paged like the event search.
func (s *Server) handleGraphFlows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	src, dst := q.Get("src"), q.Get("dst")
	for _, v := range []string{src, dst} {
		if _, err := flow.ParsePrefix(v); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("src and dst must be addresses or CIDRs: %w", err))
			return
		}
	}
	r2 := r.Clone(r.Context())
	vals := r2.URL.Query()
	vals.Set("q", "source.ip:"+src+" AND destination.ip:"+dst+" AND event.category:network")
	r2.URL.RawQuery = vals.Encode()
	s.handleSearch(w, r2)
}
