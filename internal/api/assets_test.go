package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// assetServer is a test server with the asset routes, a counter of
// AssetsChanged calls, and tokens by role.
type assetServer struct {
	s       *Server
	changed *atomic.Int64
	tok     map[string]string
}

// newAssetServer builds a server over a real state database (and event
// store when es is given).
func newAssetServer(t *testing.T, st *statedb.DB, es *eventstore.Store, graph GraphContext) *assetServer {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	changed := &atomic.Int64{}
	s := New(Config{MaxBodyBytes: 1 << 20}, Deps{Sink: &memSink{}, Rejects: &rejects{}, Inputs: ingest.NewInputMetrics(reg),
		State: st, Events: es, Registry: reg, Log: quiet, Graph: graph, AssetsChanged: func() { changed.Add(1) }})
	if _, pattern := s.mux.Handler(httptest.NewRequest("GET", "/api/v1/assets", nil)); pattern == "" {
		s.assetRoutes() // until routes() registers them
	}
	as := &assetServer{s: s, changed: changed, tok: map[string]string{}}
	for _, role := range []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer, statedb.RoleIngest} {
		tok, _, err := st.CreateToken(context.Background(), role, role)
		if err != nil {
			t.Fatal(err)
		}
		as.tok[role] = tok
	}
	return as
}

func openTestState(t *testing.T) *statedb.DB {
	t.Helper()
	st, err := statedb.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// do calls the server and decodes a JSON answer into out (when not nil).
func (as *assetServer) do(t *testing.T, role, method, path, body string, out any) int {
	t.Helper()
	w := call(t, as.s, method, path, as.tok[role], []byte(body))
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	if out != nil && w.Code/100 == 2 {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, w.Body)
		}
	}
	if w.Code/100 != 2 {
		var eb errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" {
			t.Fatalf("%s %s: %d without a JSON error: %s", method, path, w.Code, w.Body)
		}
	}
	return w.Code
}

func TestAssetsAPICRUD(t *testing.T) {
	t.Parallel()
	as := newAssetServer(t, openTestState(t), nil, GraphContext{})
	var created statedb.Asset
	if code := as.do(t, "analyst", "POST", "/api/v1/assets", `{"hostname":"dc01","addresses":["10.0.0.10"],
		"criticality":"critical","role":"dc","tags":["tier0"],"expected_sources":["winlogbeat:Security"]}`, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if created.ID == "" || created.Criticality != "critical" || as.changed.Load() != 1 {
		t.Fatalf("created %+v, changed %d", created, as.changed.Load())
	}
	var got statedb.Asset
	if code := as.do(t, "viewer", "GET", "/api/v1/assets/"+created.ID, "", &got); code != 200 || got.Hostname != "dc01" {
		t.Fatalf("get: %d %+v", code, got)
	}
	var upd struct {
		Asset, Before statedb.Asset
		Changed       bool
	}
	if code := as.do(t, "analyst", "PATCH", "/api/v1/assets/"+created.ID, `{"owner":"it-ops","tags":["tier0","ad"]}`, &upd); code != 200 ||
		!upd.Changed || upd.Before.Owner != "" || upd.Asset.Owner != "it-ops" || len(upd.Asset.Tags) != 2 || upd.Asset.Role != "dc" {
		t.Fatalf("patch: %d %+v", code, upd)
	}
	if code := as.do(t, "analyst", "PATCH", "/api/v1/assets/"+created.ID, `{"owner":"it-ops"}`, &upd); code != 200 || upd.Changed {
		t.Fatalf("no-op patch: %d %+v", code, upd)
	}
	if n := as.changed.Load(); n != 2 {
		t.Fatalf("changes announced %d, want 2 (create, one real patch)", n)
	}
	as.do(t, "admin", "POST", "/api/v1/assets", `{"addresses":["10.1.0.0/16"],"role":"lab","criticality":"low","tags":["lab"]}`, nil)
	var list struct {
		Assets  []statedb.Asset
		Count   int
		Version int64
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"dc01", ""}},
		{"?tag=AD", []string{"dc01"}},
		{"?criticality=low", []string{""}},
		{"?q=10.1.", []string{""}},
		{"?role=printer", nil},
	} {
		if code := as.do(t, "viewer", "GET", "/api/v1/assets"+tc.query, "", &list); code != 200 || list.Count != len(tc.want) {
			t.Fatalf("list %q: %d %+v", tc.query, code, list)
		}
		for i, h := range tc.want {
			if list.Assets[i].Hostname != h {
				t.Errorf("list %q: %d is %q, want %q", tc.query, i, list.Assets[i].Hostname, h)
			}
		}
	}
	if list.Version < 3 {
		t.Fatalf("version %d after three writes", list.Version)
	}
	var del struct{ Deleted statedb.Asset }
	if code := as.do(t, "admin", "DELETE", "/api/v1/assets/"+created.ID, "", &del); code != 200 || del.Deleted.Owner != "it-ops" {
		t.Fatalf("delete: %d %+v", code, del)
	}
	if code := as.do(t, "viewer", "GET", "/api/v1/assets/"+created.ID, "", nil); code != 404 {
		t.Fatalf("deleted asset: %d", code)
	}
	if n := as.changed.Load(); n != 4 {
		t.Fatalf("changes announced %d, want 4", n)
	}
}

// TestAssetsAPIErrors checks roles and refusals; none of them may announce
// a change.
func TestAssetsAPIErrors(t *testing.T) {
	t.Parallel()
	as := newAssetServer(t, openTestState(t), nil, GraphContext{})
	var created statedb.Asset
	if code := as.do(t, "admin", "POST", "/api/v1/assets", `{"hostname":"dc01","addresses":["10.0.0.10"]}`, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	for _, tc := range []struct {
		name, role, method, path, body string
		status                         int
	}{
		{"viewer may read", "viewer", "GET", "/api/v1/assets", "", 200},
		{"viewer may not write", "viewer", "POST", "/api/v1/assets", `{"hostname":"x"}`, 403},
		{"ingest may not read", "ingest", "GET", "/api/v1/assets", "", 403},
		{"bad criticality", "admin", "POST", "/api/v1/assets", `{"hostname":"x","criticality":"urgent"}`, 400},
		{"unknown field", "admin", "POST", "/api/v1/assets", `{"hostname":"x","crit":"high"}`, 400},
		{"not JSON", "admin", "POST", "/api/v1/assets", `hostname=x`, 400},
		{"two values", "admin", "POST", "/api/v1/assets", `{"hostname":"x"} {}`, 400},
		{"taken host name", "admin", "POST", "/api/v1/assets", `{"hostname":"DC01"}`, 409},
		{"missing", "viewer", "GET", "/api/v1/assets/NOPE", "", 404},
		{"patch missing", "admin", "PATCH", "/api/v1/assets/NOPE", `{"owner":"x"}`, 404},
		{"delete missing", "admin", "DELETE", "/api/v1/assets/NOPE", "", 404},
		{"bad filter", "viewer", "GET", "/api/v1/assets?criticality=urgent", "", 400},
		{"bad limit", "viewer", "GET", "/api/v1/assets?limit=x", "", 400},
		{"patch bad address", "admin", "PATCH", "/api/v1/assets/" + created.ID, `{"addresses":["10.0.0.10/8"]}`, 400},
	} {
		if code := as.do(t, tc.role, tc.method, tc.path, tc.body, nil); code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.status)
		}
	}
	if n := as.changed.Load(); n != 1 {
		t.Fatalf("failed writes announced changes: %d", n)
	}
}

func TestAssetsAPIImport(t *testing.T) {
	t.Parallel()
	as := newAssetServer(t, openTestState(t), nil, GraphContext{})
	csv := "hostname,ip,criticality,tags\n" +
		"web01,10.0.1.1,high,\"dmz, pci\"\n" +
		"web02,10.0.1.2,severe,\n" +
		"web03,10.0.1.300,,\n" +
		"web04,10.0.1.4\n" +
		"db01,10.0.2.1,critical,pci\n"
	var rep asset.ImportReport
	if code := as.do(t, "analyst", "POST", "/api/v1/assets/import", csv, &rep); code != 200 {
		t.Fatalf("import: %d", code)
	}
	if rep.Created != 2 || rep.Skipped != 3 || len(rep.Errors) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for i, want := range []string{"line 3, column 3 (criticality)", "line 4, column 2 (ip)", "line 5: has 2 fields"} {
		if !strings.HasPrefix(rep.Errors[i].Error(), want) {
			t.Errorf("error %d %q, want %q", i, rep.Errors[i].Error(), want)
		}
	}
	if as.changed.Load() != 1 {
		t.Fatalf("changes announced %d", as.changed.Load())
	}
	if code := as.do(t, "analyst", "POST", "/api/v1/assets/import?key=address", "ip,owner\n10.0.2.1,dba\n", &rep); code != 200 ||
		rep.Updated != 1 || rep.Created != 0 {
		t.Fatalf("import by address: %d %+v", code, rep)
	}
	if code := as.do(t, "analyst", "POST", "/api/v1/assets/import", "hostname\nweb01\n", &rep); code != 200 || rep.Unchanged != 1 {
		t.Fatalf("unchanged import: %d %+v", code, rep)
	}
	if as.changed.Load() != 2 {
		t.Fatalf("an import without changes was announced: %d", as.changed.Load())
	}
	for _, tc := range []struct {
		name, role, path, body string
		status                 int
	}{
		{"viewer", "viewer", "/api/v1/assets/import", csv, 403},
		{"bad key", "admin", "/api/v1/assets/import?key=mac", csv, 400},
		{"empty", "admin", "/api/v1/assets/import", "", 400},
		{"no key column", "admin", "/api/v1/assets/import", "owner\nx\n", 400},
		{"too large", "admin", "/api/v1/assets/import", "hostname\n" + strings.Repeat("a\n", 1<<20), 413},
	} {
		if code := as.do(t, tc.role, "POST", tc.path, tc.body, nil); code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.status)
		}
	}
}

// TestAssetsAPIUnknown stores Zeek conn records and source counters, and
// lists what the inventory lacks.
func TestAssetsAPIUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openTestState(t)
	es, err := eventstore.Open(ctx, filepath.Join(t.TempDir(), "events.duckdb"), eventstore.Options{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	now := time.Now().UTC().Truncate(time.Second)
	var evs []schema.Event
	for i, r := range [][2]string{{"10.0.0.5", "203.0.113.7"}, {"10.0.0.6", "10.0.0.5"}, {"10.0.0.9", "203.0.113.7"}} {
		ts := now.Add(-time.Duration(3-i) * time.Hour)
		line := `{"ts":` + strconv.FormatInt(ts.Unix(), 10) + `,"uid":"C","id.orig_h":"` + r[0] + `","id.orig_p":40000,` +
			`"id.resp_h":"` + r[1] + `","id.resp_p":443,"proto":"tcp","orig_bytes":100,"resp_bytes":10,"conn_state":"SF"}`
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
	if err := st.ApplySourceDeltas(ctx, []statedb.SourceDelta{
		{Host: "ws17", Input: "winlogbeat", Events: 3, LastReceived: now.Add(-30 * time.Minute)},
		{Host: "dc01", Input: "winlogbeat", Events: 3, LastReceived: now.Add(-10 * time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAsset(ctx, statedb.Asset{Hostname: "dc01.corp.example", Addresses: []string{"10.0.0.5"}}); err != nil {
		t.Fatal(err)
	}
	internal, _ := flow.NewSet(flow.DefaultInternal())
	as := newAssetServer(t, st, es, GraphContext{Internal: internal,
		Assets: map[netip.Addr]GraphAsset{netip.MustParseAddr("10.0.0.9"): {Name: "printer"}}})
	var res struct {
		Unknown []asset.UnknownAsset
		Count   int
	}
	if code := as.do(t, "viewer", "GET", "/api/v1/assets/unknown", "", &res); code != 200 {
		t.Fatalf("unknown: %d", code)
	}
	// 10.0.0.5 is dc01's, 10.0.0.9 a configured asset, 203.0.113.7 external.
	if res.Count != 2 || res.Unknown[0].Host != "ws17" || res.Unknown[1].Address != "10.0.0.6" ||
		strings.Join(res.Unknown[1].SeenAs, ",") != "flow" || strings.Join(res.Unknown[0].SeenAs, ",") != "winlogbeat" {
		t.Fatalf("unknown %+v", res)
	}
	if code := as.do(t, "viewer", "GET", "/api/v1/assets/unknown?since=now-20m", "", &res); code != 200 || res.Count != 0 {
		t.Fatalf("since 20 minutes: %d %+v", code, res)
	}
	if code := as.do(t, "viewer", "GET", "/api/v1/assets/unknown?since=yesterdayish", "", nil); code != 400 {
		t.Fatalf("bad since: %d", code)
	}
}
