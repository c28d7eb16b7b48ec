package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// TestGraphAPI stores Zeek conn records and reads the graph by host and
// by subnet, then drills into one edge's flows.
func TestGraphAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	st, err := statedb.Open(ctx, filepath.Join(dir, "state.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := eventstore.Open(ctx, filepath.Join(dir, "events.duckdb"), eventstore.Options{}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	tok, _, err := st.CreateToken(ctx, "viewer", statedb.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	h0 := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	recs := []struct {
		src, dst   string
		port, out  int
		minuteFrom int
	}{
		{"10.0.0.5", "203.0.113.7", 443, 1000, 1},
		{"10.0.0.6", "203.0.113.7", 443, 3000, 2},
		{"10.0.0.5", "10.0.1.20", 445, 50, 3},
	}
	var evs []schema.Event
	for i, r := range recs {
		ts := h0.Add(time.Duration(r.minuteFrom) * time.Minute)
		line := `{"ts":` + strconv.FormatInt(ts.Unix(), 10) + `,"uid":"C","id.orig_h":"` + r.src + `","id.orig_p":40000,"id.resp_h":"` +
			r.dst + `","id.resp_p":` + strconv.Itoa(r.port) + `,"proto":"tcp","orig_bytes":` + strconv.Itoa(r.out) +
			`,"resp_bytes":10,"conn_state":"SF","orig_pkts":2,"resp_pkts":1}`
		var ev schema.Event
		if err := zeek.MapJSON([]byte(line), "conn", ts, &ev); err != nil {
			t.Fatal(err)
		}
		ev.ID = schema.MakeID(1, i)
		evs = append(evs, ev)
	}
	if err := es.Write(ctx, evs, 1); err != nil {
		t.Fatal(err)
	}
	internal, _ := flow.NewSet(flow.DefaultInternal())
	reg := prometheus.NewRegistry()
	s := New(Config{}, Deps{Sink: &memSink{}, Rejects: &rejects{}, Inputs: ingest.NewInputMetrics(reg), State: st,
		Events: es, Registry: reg, Log: quiet, Graph: GraphContext{Internal: internal,
			Assets: map[netip.Addr]GraphAsset{netip.MustParseAddr("10.0.1.20"): {Name: "fs01", Role: "fileserver", Criticality: "high"}}}})
	window := "from=2026-11-18T10:00:00Z&to=2026-11-18T11:00:00Z"

	var g struct {
		Nodes []GraphNode       `json:"nodes"`
		Edges []eventstore.Edge `json:"edges"`
	}
	w := call(t, s, "GET", "/api/v1/graph?"+window, tok, nil)
	if w.Code != 200 {
		t.Fatalf("graph: %d %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 4 || len(g.Edges) != 3 {
		t.Fatalf("graph = %s", w.Body)
	}
	byID := map[string]GraphNode{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	if n := byID["203.0.113.7"]; n.Internal || n.Peers != 2 || n.BytesIn != 4000 {
		t.Errorf("external node = %+v", n)
	}
	if n := byID["10.0.1.20"]; !n.Internal || n.Label != "fs01" || n.Criticality != "high" {
		t.Errorf("asset node = %+v", n)
	}

	w = call(t, s, "GET", "/api/v1/graph?group=subnet&"+window, tok, nil)
	g.Nodes, g.Edges = nil, nil
	if err := json.Unmarshal(w.Body.Bytes(), &g); err != nil || w.Code != 200 {
		t.Fatalf("grouped: %d %s", w.Code, w.Body)
	}
	if len(g.Edges) != 2 || g.Edges[0].Src != "10.0.0.0/24" || g.Edges[0].BytesOut != 4000 || g.Edges[0].Conns != 2 {
		t.Errorf("grouped edges = %+v", g.Edges)
	}

	w = call(t, s, "GET", "/api/v1/graph/flows?src=10.0.0.0/24&dst=203.0.113.7&"+window, tok, nil)
	var fl struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &fl); err != nil || w.Code != 200 || fl.Count != 2 {
		t.Errorf("edge flows: %d %s", w.Code, w.Body)
	}
	for _, bad := range []string{"group=ring", "port=99999", "min_bytes=-1", "subnet=nope", "group=subnet&prefix=3"} {
		if w := call(t, s, "GET", "/api/v1/graph?"+bad, tok, nil); w.Code != 400 {
			t.Errorf("%s: status %d", bad, w.Code)
		}
	}
	if w := call(t, s, "GET", "/api/v1/graph/flows?src=x&dst=y", tok, nil); w.Code != 400 {
		t.Errorf("bad edge: %d", w.Code)
	}
}
