package eventstore

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

// connEvent maps a Zeek conn record with the real parser.
func connEvent(t *testing.T, seq uint64, idx int, ts time.Time, src, dst string, dport, out, in int, state string) schema.Event {
	t.Helper()
	rec := `{"ts":` + formatTS(ts) + `,"uid":"C","id.orig_h":"` + src + `","id.orig_p":40000,"id.resp_h":"` + dst +
		`","id.resp_p":` + itoa(dport) + `,"proto":"tcp","duration":1.5,"orig_bytes":` + itoa(out) + `,"resp_bytes":` + itoa(in) +
		`,"conn_state":"` + state + `","orig_pkts":3,"resp_pkts":2}`
	var ev schema.Event
	if err := zeek.MapJSON([]byte(rec), "conn", ts, &ev); err != nil {
		t.Fatal(err)
	}
	ev.ID = schema.MakeID(seq, idx)
	return ev
}

func formatTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func itoa(n int) string { return strconv.Itoa(n) }

// TestGraphRollup writes flows over two hours in two batches (the second
// adds to the same hour's rows) and reads the graph for several windows
// and filters.
func TestGraphRollup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	h0 := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	mustWrite(t, s, []schema.Event{
		connEvent(t, 1, 0, h0.Add(5*time.Minute), "10.0.0.5", "203.0.113.7", 443, 1000, 5000, "SF"),
		connEvent(t, 1, 1, h0.Add(6*time.Minute), "10.0.0.5", "203.0.113.7", 443, 500, 100, "SF"),
		connEvent(t, 1, 2, h0.Add(7*time.Minute), "10.0.0.5", "10.0.1.9", 445, 0, 0, "S0"),
		{ID: schema.MakeID(1, 3), Timestamp: h0, Received: h0, Message: "not a flow"},
	}, 1)
	mustWrite(t, s, []schema.Event{
		connEvent(t, 2, 0, h0.Add(30*time.Minute), "10.0.0.5", "203.0.113.7", 8443, 10, 20, "SF"),
		connEvent(t, 2, 1, h0.Add(70*time.Minute), "10.0.0.6", "203.0.113.7", 443, 7, 0, "SF"),
	}, 2)
	// A replayed batch must not count twice.
	mustWrite(t, s, []schema.Event{connEvent(t, 2, 0, h0.Add(30*time.Minute), "10.0.0.5", "203.0.113.7", 8443, 10, 20, "SF")}, 2)

	edges, err := s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) != 3 {
		t.Fatalf("edges = %+v", edges)
	}
	top := edges[0]
	if top.Src != "10.0.0.5" || top.Dst != "203.0.113.7" || top.BytesOut != 1510 || top.BytesIn != 5120 ||
		top.Conns != 3 || top.Packets != 15 || len(top.Ports) != 2 || top.Ports[0] != 443 || top.Ports[1] != 8443 {
		t.Errorf("top edge = %+v", top)
	}
	scan := edges[2]
	if scan.Dst != "10.0.1.9" || scan.Failed != 1 || scan.Conns != 1 {
		t.Errorf("failed edge = %+v", scan)
	}
	// The first hour only.
	edges, _ = s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(time.Hour)})
	if len(edges) != 2 {
		t.Errorf("first hour: %+v", edges)
	}
	// Filters.
	edges, _ = s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(2 * time.Hour), Port: 445})
	if len(edges) != 1 || edges[0].Dst != "10.0.1.9" {
		t.Errorf("port filter: %+v", edges)
	}
	edges, _ = s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(2 * time.Hour), MinBytes: 100})
	if len(edges) != 1 {
		t.Errorf("min bytes: %+v", edges)
	}
	edges, _ = s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(2 * time.Hour), Subnet: netip.MustParsePrefix("10.0.0.6/32")})
	if len(edges) != 1 || edges[0].Src != "10.0.0.6" {
		t.Errorf("subnet: %+v", edges)
	}
	// Retention drops the rollup with the events.
	s.opts.Retention = time.Hour
	if _, err := s.EnforceRetention(ctx, h0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if edges, _ = s.Graph(ctx, GraphRequest{From: h0, To: h0.Add(2 * time.Hour)}); len(edges) != 0 {
		t.Errorf("after retention: %+v", edges)
	}
}
