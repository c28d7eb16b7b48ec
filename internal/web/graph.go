package web

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
)

// graphView is the graph page's controls.
type graphView struct {
	From, To, Subnet, Port, MinBytes, Group string
	// DataURL is where the page's script loads the graph.
	DataURL string
}

// graphParams are the graph filters the page and its data share.
func graphParams(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"from", "to", "subnet", "port", "min_bytes", "group", "prefix", "limit"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	if out.Get("from") == "" {
		out.Set("from", "now-24h")
	}
	if out.Get("group") == "" {
		out.Set("group", "subnet")
	}
	return out
}

func (c *Console) graphPageData(r *http.Request, _ *session) (any, error) {
	p := graphParams(r.URL.Query())
	return graphView{From: p.Get("from"), To: p.Get("to"), Subnet: p.Get("subnet"), Port: p.Get("port"),
		MinBytes: p.Get("min_bytes"), Group: p.Get("group"), DataURL: "/graph/data?" + p.Encode()}, nil
}

// cyNode and cyEdge are the graph as the page's cytoscape script wants it.
type cyNode struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Bytes    int64  `json:"bytes"`
	Conns    int64  `json:"conns"`
	Peers    int    `json:"peers"`
	Hosts    int    `json:"hosts"`
	Internal bool   `json:"internal"`
	Grouped  bool   `json:"grouped"`
	Role     string `json:"role,omitempty"`
	// Risk is the highest host risk level inside the node ("" for none).
	Risk  string  `json:"risk,omitempty"`
	Score float64 `json:"score,omitempty"`
}

type cyEdge struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Target string `json:"target"`
	Bytes  int64  `json:"bytes"`
	Conns  int64  `json:"conns"`
	Failed int64  `json:"failed"`
	Ports  []int  `json:"ports"`
}

// cyGraph is GET /graph/data.
type cyGraph struct {
	Nodes []cyNode `json:"nodes"`
	Edges []cyEdge `json:"edges"`
	Error string   `json:"error,omitempty"`
}

// riskOf is a host risk by address.
type riskOf struct {
	addr  netip.Addr
	level string
	score float64
}

// levelRank orders risk levels.
func levelRank(l string) int {
	switch l {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

// hostRisks lists the addresses of the risky hosts: their aliases that are
// addresses, and the inventory addresses of hosts known by name (addrs,
// host name to addresses).
func hostRisks(hosts []hostRisk, addrs map[string][]string) []riskOf {
	var out []riskOf
	for _, h := range hosts {
		for _, a := range append(slices.Clone(h.Aliases), addrs[h.Host]...) {
			if ip, err := netip.ParseAddr(a); err == nil {
				out = append(out, riskOf{ip.Unmap(), h.Level, h.Score})
			}
		}
	}
	return out
}

// assetAddresses maps the inventory's host names to their addresses
// (GET /api/v1/assets); empty when the inventory is not readable.
func (c *Console) assetAddresses(r *http.Request) map[string][]string {
	var out struct {
		Assets []struct {
			Hostname  string   `json:"hostname"`
			Addresses []string `json:"addresses"`
		} `json:"assets"`
	}
	m := map[string][]string{}
	if err := c.get(r, "/api/v1/assets", url.Values{"limit": {"10000"}}, &out); err != nil {
		return m
	}
	for _, a := range out.Assets {
		m[a.Hostname] = append(m[a.Hostname], a.Addresses...)
	}
	return m
}

// buildGraph turns the API's graph into cytoscape elements coloured by the
// highest host risk inside each node; host nodes also match a risky host
// by their asset name (byName).
func buildGraph(g graphAnswer, risks []riskOf, byName map[string]hostRisk) cyGraph {
	exact := map[netip.Addr]riskOf{}
	for _, r := range risks {
		if levelRank(r.level) > levelRank(exact[r.addr].level) {
			exact[r.addr] = r
		}
	}
	out := cyGraph{Nodes: make([]cyNode, 0, len(g.Nodes)), Edges: make([]cyEdge, 0, len(g.Edges))}
	for _, n := range g.Nodes {
		cn := cyNode{ID: n.ID, Label: n.Label, Bytes: n.BytesOut + n.BytesIn, Conns: n.Conns, Peers: n.Peers,
			Hosts: n.Hosts, Internal: n.Internal, Role: n.Role}
		if p, err := netip.ParsePrefix(n.ID); err == nil && p.Bits() < p.Addr().BitLen() {
			cn.Grouped = true
			for _, r := range risks {
				if p.Contains(r.addr) && levelRank(r.level) > levelRank(cn.Risk) {
					cn.Risk, cn.Score = r.level, r.score
				}
			}
		} else if a, err := netip.ParseAddr(n.ID); err == nil {
			r := exact[a.Unmap()]
			cn.Risk, cn.Score = r.level, r.score
			if h, ok := byName[cmpOr(n.Name, n.Label)]; ok && levelRank(h.Level) > levelRank(cn.Risk) {
				cn.Risk, cn.Score = h.Level, h.Score
			}
		}
		out.Nodes = append(out.Nodes, cn)
	}
	for i, e := range g.Edges {
		out.Edges = append(out.Edges, cyEdge{ID: "e" + strconv.Itoa(i), Source: e.Src, Target: e.Dst,
			Bytes: e.BytesOut + e.BytesIn, Conns: e.Conns, Failed: e.Failed, Ports: e.Ports})
	}
	return out
}

// handleGraphData answers the page's script with the graph of the filters
// (GET /api/v1/graph) coloured by host risk (GET /api/v1/hosts).
func (c *Console) handleGraphData(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.requireSession(w, r); !ok {
		return
	}
	var g graphAnswer
	var out cyGraph
	status := http.StatusOK
	if err := c.get(r, "/api/v1/graph", graphParams(r.URL.Query()), &g); err != nil {
		out.Error, status = c.userError(r, err), http.StatusBadGateway
		if s := statusOf(err); s >= 400 && s < 500 {
			status = s
		}
	} else {
		var hosts struct {
			Hosts []hostRisk `json:"hosts"`
		}
		_ = c.get(r, "/api/v1/hosts", nil, &hosts) // no risk colours without it
		byName := map[string]hostRisk{}
		for _, h := range hosts.Hosts {
			for _, a := range append([]string{h.Host}, h.Aliases...) {
				byName[a] = h
			}
		}
		out = buildGraph(g, hostRisks(hosts.Hosts, c.assetAddresses(r)), byName)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(out); err != nil {
		c.log.Debug("graph data not sent", "err", err)
	}
}

// flowsView is the flows of one edge.
type flowsView struct {
	Src, Dst string
	Flows    []flatEvent
	Error    string
	SearchQ  string
}

// handleGraphFlows renders the flows of one edge (an htmx fragment) from
// GET /api/v1/graph/flows.
func (c *Console) handleGraphFlows(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.requireSession(w, r); !ok {
		return
	}
	q := r.URL.Query()
	v := flowsView{Src: q.Get("src"), Dst: q.Get("dst")}
	aq := url.Values{"src": {v.Src}, "dst": {v.Dst}, "limit": {"50"}}
	for _, k := range []string{"from", "to"} {
		if q.Get(k) != "" {
			aq.Set(k, q.Get(k))
		}
	}
	var ev eventList
	if err := c.get(r, "/api/v1/graph/flows", aq, &ev); err != nil {
		v.Error = c.userError(r, err)
	}
	v.Flows = flattenEvents(ev.Events)
	v.SearchQ = searchURL("source.ip:"+v.Src+" AND destination.ip:"+v.Dst, cmpOr(q.Get("from"), "now-24h"), q.Get("to"))
	c.renderTemplate(w, r, "graph", "flows", http.StatusOK, v)
}
