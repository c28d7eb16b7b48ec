package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newTestConsole(t *testing.T, api http.Handler) *Console {
	t.Helper()
	c, err := New(Config{API: api, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHelpers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"bytes small", formatBytes(999), "999 B"},
		{"bytes kB", formatBytes(1500), "1.5 kB"},
		{"bytes GB", formatBytes(2_500_000_000), "2.5 GB"},
		{"num", formatNum(1234567), "1,234,567"},
		{"num negative", formatNum(-1000), "-1,000"},
		{"rate small", formatRate(1.234), "1.23"},
		{"rate large", formatRate(12345.6), "12,346"},
		{"term plain", addTerm("", "host.name", "dc-01"), "host.name:dc-01"},
		{"term appended", addTerm("a:b", "user.name", "bob smith"), `a:b user.name:"bob smith"`},
		{"term star query", addTerm("*", "x", "1.2.3.4"), "x:1.2.3.4"},
		{"term operator word", addTerm("", "x", "OR"), `x:"OR"`},
		{"term empty", addTerm("", "x", ""), `x:""`},
		{"evidence one", evidenceQuery([]uint64{7}), "id:7"},
		{"evidence many", evidenceQuery([]uint64{7, 9}), "id:(7 OR 9)"},
		{"attack", attackTag("attack.t1059.001"), "https://attack.mitre.org/techniques/T1059/001/"},
		{"attack tactic", attackTag("attack.execution"), ""},
		{"local path", localPath("/alerts?x=1"), "/alerts?x=1"},
		{"local path other site", localPath("//evil.example/"), "/"},
		{"local path absolute", localPath("https://evil.example/"), "/"},
		{"local path login loop", localPath("/login?next=/"), "/"},
		{"query field original", queryField("fields.CommandLine"), "CommandLine"},
		{"host query", hostEventsQuery("ws-03", []string{"10.0.0.23", "ws-03"}),
			"host.name:ws-03 OR source.ip:10.0.0.23 OR destination.ip:10.0.0.23"},
		{"qurl drops cursor", withParam("/alerts", url.Values{"cursor": {"c"}, "kind": {"a"}}, "host", "h"), "/alerts?host=h&kind=a"},
		{"qurl sets cursor", withParam("/alerts", url.Values{"kind": {"a"}}, "cursor", "c"), "/alerts?cursor=c&kind=a"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestPriorities(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"", nil},
		{"1", []int{1}},
		{"1,3", []int{1, 3}},
		{"2-4", []int{2, 3, 4}},
		{"0-9", []int{1, 2, 3, 4, 5}},
		{"x", []int{}},
	}
	for _, tt := range tests {
		got := priorities(tt.in)
		if tt.want == nil {
			if got != nil {
				t.Errorf("%q: got %v, want nil", tt.in, got)
			}
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
		for _, p := range tt.want {
			if !got[p] {
				t.Errorf("%q: %d missing from %v", tt.in, p, got)
			}
		}
	}
}

func TestBaselinesAndGraph(t *testing.T) {
	t0 := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	as := []alert{
		{FirstSeen: t0.Add(time.Hour), Details: map[string]string{"phase1.metric": "bytes_out", "phase1.baseline": "10",
			"phase1.current": "400", "phase1.window": t0.Add(time.Hour).Format(time.RFC3339) + " – x"}},
		{FirstSeen: t0, Details: map[string]string{"phase1.metric": "bytes_out", "phase1.baseline": "12", "phase1.current": "90"}},
		{FirstSeen: t0, Details: map[string]string{"rule": "no figures"}},
	}
	bs := baselinesOf(as)
	if len(bs) != 1 || bs[0].Metric != "bytes_out" || len(bs[0].Times) != 2 ||
		bs[0].Times[0] != t0.Unix() || bs[0].Current[1] != 400 {
		t.Fatalf("baselines = %+v", bs)
	}
	g := buildGraph(graphAnswer{
		Nodes: []graphNode{{ID: "10.0.0.0/24", BytesOut: 5, BytesIn: 5}, {ID: "10.0.1.7"}, {ID: "8.8.8.8"}, {ID: "10.0.2.2", Label: "db-1"}},
		Edges: []edge{{Src: "10.0.0.0/24", Dst: "8.8.8.8", BytesOut: 3}},
		// ws-03 is known by name only; the inventory gives its address.
	}, hostRisks([]hostRisk{{Host: "ws-03", Level: "high", Aliases: []string{"ws-03"}}, {Level: "low", Aliases: []string{"10.0.1.7", "pc"}}},
		map[string][]string{"ws-03": {"10.0.0.9"}}), map[string]hostRisk{"db-1": {Level: "medium"}})
	want := map[string]struct {
		risk    string
		grouped bool
	}{"10.0.0.0/24": {"high", true}, "10.0.1.7": {"low", false}, "8.8.8.8": {"", false}, "10.0.2.2": {"medium", false}}
	for _, n := range g.Nodes {
		if w := want[n.ID]; n.Risk != w.risk || n.Grouped != w.grouped {
			t.Errorf("node %s: risk %q grouped %v, want %+v", n.ID, n.Risk, n.Grouped, w)
		}
	}
	if len(g.Edges) != 1 || g.Edges[0].Bytes != 3 || g.Nodes[0].Bytes != 10 {
		t.Errorf("graph = %+v", g)
	}
}

// TestTemplatesRender renders every page with representative data, so a
// template that fails at execution time fails here.
func TestTemplatesRender(t *testing.T) {
	c := newTestConsole(t, http.NotFoundHandler())
	now := time.Now()
	a := alert{ID: "a1", Title: "Brute <force>", Priority: 2, Status: "new", Host: "bastion-01", Count: 3,
		LastSeen: now, Tags: []string{"attack.t1110"}, EvidenceIDs: []uint64{1, 2},
		Details: map[string]string{"phase1.metric": "bytes_out", "phase1.baseline": "1", "phase1.current": "9",
			"phase1.factor": "9", "intel.source": "feed", "rule": "x"}}
	bf, matched, intel := splitDetails(a.Details)
	ev := flattenEvents([]map[string]any{{"id": 5.0, "@timestamp": "2025-01-01T00:00:00Z", "host": map[string]any{"name": "h"},
		"event": map[string]any{"category": []any{"network"}}, "fields": map[string]any{"CommandLine": "cmd /c"}}})
	hr := hostRisk{Host: "bastion-01", Level: "high", Score: 7.5, Why: []string{"brute force"}, Aliases: []string{"10.0.0.5"}}
	var ov overviewView
	ov.Series.Minutes, ov.Series.Events = []int64{1, 2}, []float64{3, 4}
	ov.TopHosts, ov.OpenByStatus = []hostRisk{hr}, map[string]int{"new": 4}
	ov.Intel = []intelSource{{Name: "feed", Indicators: 5, LastError: "boom"}}
	data := map[string]any{
		"login":    loginView{Next: "/"},
		"overview": ov,
		"alerts":   queueView{Alerts: []alert{a}, Next: "cur", Status: openStatuses, Users: []string{"ann"}},
		"alert": alertView{Alert: a, Baseline: bf, Matched: matched, Intel: intel, Evidence: ev, Host: &hr,
			Timeline: []timelineEvent{{Kind: "comment", Actor: "ann", Text: "looks bad"}, {Kind: "status", From: "new", To: "acknowledged"}}},
		"host": hostView{ID: "bastion-01", Detail: &hostDetail{hostRisk: hr, Open: []alert{a}, Peers: []edge{{Src: "a", Dst: "b", Ports: []int{22}}},
			Asset: map[string]any{"role": "server"}}, Baselines: baselinesOf([]alert{a}), Events: ev},
		"graph":   graphView{From: "now-24h", Group: "subnet", DataURL: "/graph/data?group=subnet"},
		"search":  searchView{Q: "a:b", From: "now-1h", Events: ev, Fields: commonFields(ev, 10), Ranges: []string{"now-1h"}},
		"rules":   rulesView{Rules: []rule{{ID: "r1", Title: "R", Enabled: true, Tags: []string{"t"}}}, Errors: []ruleError{{Path: "x.yml", Line: 3, Reason: "bad"}}},
		"sources": []source{{Host: "h", Input: "syslog", Events: 10, ParseErrors: 1, ParseErrorsByReason: map[string]int64{"x": 1}}},
		"audit":   auditView{Entries: []auditEntry{{Actor: "ann", Action: "alert.update", TargetType: "alert", TargetID: "a1", After: []byte(`{"status":"resolved"}`)}}},
		"vulns": func() vulnsView {
			f := finding{Key: "k1", Target: "10.0.8.21", VulnID: "CVE-2023-48795", Title: "Brute <force>", Severity: "critical",
				Status: "open", Opened: now.Add(-40 * 24 * time.Hour), Due: now.Add(-25 * 24 * time.Hour), Overdue: true, AgeDays: 40}
			return vulnsView{Overdue: []finding{f}, Open: []finding{f}, BySev: map[string]int{"critical": 1}, Key: "k1",
				Finding: &f, History: []vulnEvent{{At: f.Opened, Event: "new", ScanID: "s1"}}, Trend: []trendPoint{{Day: now, Open: 1}}}
		}(),
	}
	for _, name := range pageNames() {
		r := httptest.NewRequest("GET", "/x?status=new", nil)
		w := httptest.NewRecorder()
		v := c.newView(r, &session{CSRF: "tok"}, name)
		v.User, v.Role, v.CanWrite, v.Data = "ann", "analyst", true, data[name]
		c.render(w, r, name, 200, v)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, "</html>") {
			t.Errorf("%s: %d %s", name, w.Code, body)
			continue
		}
		if strings.Contains(body, "Brute <force>") {
			t.Errorf("%s: title not escaped", name)
		}
	}
	// JSON blocks stay JSON inside script elements.
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	v := c.newView(r, &session{}, "overview")
	v.User, v.Data = "ann", data["overview"]
	c.render(w, r, "overview", 200, v)
	if !strings.Contains(w.Body.String(), `"minutes":[1,2]`) {
		t.Errorf("overview series not embedded as JSON: %s", w.Body.String())
	}
}

func TestStaticAndRedirect(t *testing.T) {
	c := newTestConsole(t, http.NotFoundHandler())
	h := c.Handler()
	u, err := c.static.url("console.js")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, cache string
		code        int
		body        []byte
	}{
		{u, "public, max-age=31536000, immutable", 200, c.static.files["console.js"].data},
		{"/static/000000/console.js", "no-cache", 200, c.static.files["console.js"].data},
		{"/static/x/nothing.js", "", 404, nil},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.code || w.Header().Get("Cache-Control") != tt.cache || (tt.body != nil && !bytes.Equal(w.Body.Bytes(), tt.body)) {
			t.Errorf("%s: %d %q", tt.path, w.Code, w.Header().Get("Cache-Control"))
		}
	}
	for _, p := range []string{"/", "/alerts", "/graph/data"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Errorf("%s without session: %d %q", p, w.Code, w.Header().Get("Location"))
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP", p)
		}
	}
}

func TestAuditChanges(t *testing.T) {
	tests := []struct {
		name          string
		before, after string
		want          []kv
	}{
		{"status and disposition", `{"status":"new","assignee":"","updated":"1","count":2}`,
			`{"status":"resolved","assignee":"ann","disposition":"true_positive","updated":"2","count":2}`,
			[]kv{{"assignee", " → ann"}, {"disposition", " → true_positive"}, {"status", "new → resolved"}}},
		{"created", ``, `{"name":"bob"}`, []kv{{"name", " → bob"}}},
		{"nothing", ``, ``, nil},
		{"scalar", `true`, `false`, []kv{{"", "true → false"}}},
	}
	for _, tt := range tests {
		got := auditEntry{Before: []byte(tt.before), After: []byte(tt.after)}.Changes()
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}
