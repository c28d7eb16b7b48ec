package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/schema"
	demointel "github.com/vigil-soc/vigil/internal/simulate/intel"
	"github.com/vigil-soc/vigil/internal/web"
)

// consoleHandler returns the node's HTTP handler with the web console: the
// node's own when it mounts the console, else the API with a console built
// on it for every path outside /api/.
func consoleHandler(tb testing.TB, tn *testNode) http.Handler {
	tb.Helper()
	apiH := tn.API.Handler()
	if tn.API.Console != nil {
		return apiH
	}
	c, err := web.New(web.Config{API: apiH, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	ch := c.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			apiH.ServeHTTP(w, r)
			return
		}
		ch.ServeHTTP(w, r)
	})
}

// seedConsole ingests flows among two internal subnets and the outside, the
// demo intel feed and a contact with its C2, so the console has events,
// a graph, a risky host (ws-03, 10.0.0.23) and its alert.
func seedConsole(tb testing.TB, tn *testNode) {
	tb.Helper()
	now := time.Now().UTC()
	var b strings.Builder
	for i := range 40 {
		src := fmt.Sprintf("10.0.%d.%d", i%2, 10+i)
		b.WriteString(flowLine(now.Add(-time.Duration(i)*time.Minute), src, fmt.Sprintf("198.51.100.%d", i%5), 443) + "\n")
		b.WriteString(flowLine(now.Add(-time.Duration(i)*time.Minute), src, "10.0.1.5", 445) + "\n")
		fmt.Fprintf(&b, `{"@timestamp":%q,"host":{"name":"srv-%02d"},"user":{"name":"user%d"},"event":{"dataset":"app.log","action":"login"},"message":"user%d logged in"}`+"\n",
			now.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339Nano), i%4, i%3, i%3)
	}
	postEvents(tb, tn, b.String())
	code, body := tn.do(tb, "POST", "/api/v1/intel/import?name=demo-feed&format=stix", tn.token, demointel.DemoFeed(), nil)
	if code != 200 {
		tb.Fatalf("intel import: %d %s", code, body)
	}
	postEvents(tb, tn, flowLine(now, "10.0.0.23", "203.0.113.200", 443)+"\n")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := tn.do(tb, "GET", "/api/v1/alerts?limit=10", tn.token, nil, nil)
		var out struct{ Alerts []schema.Alert }
		_ = json.Unmarshal(body, &out)
		if len(out.Alerts) > 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no alert from the C2 contact: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func postEvents(tb testing.TB, tn *testNode, ndjson string) {
	tb.Helper()
	if code, body := tn.do(tb, "POST", "/api/v1/events", tn.token, []byte(ndjson), nil); code != 200 {
		tb.Fatalf("ingest: %d %s", code, body)
	}
}

// TestConsoleBrowser drives the console in headless Chromium: log in, the
// overview's counts, an alert assigned and resolved with a disposition, the
// audit entry, a graph node clicked through to its host page, and a search
// filtered by a clicked value. It saves a screenshot of each page.
func TestConsoleBrowser(t *testing.T) {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH; install Debian's chromium to run the console browser test")
	}
	tn := startNode(t, t.TempDir(), func(c *config.Config) {
		c.Network.Assets = []config.AssetConfig{{Address: "10.0.0.23", Name: "ws-03", Role: "workstation", Criticality: "high"}}
	})
	if tn.AdminPassword == "" {
		t.Fatal("the node created no admin user")
	}
	seedConsole(t, tn)
	srv := httptest.NewServer(consoleHandler(t, tn))
	defer srv.Close()
	shots, err := os.MkdirTemp("", "vigil-console-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.WindowSize(1440, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()
	b := &browser{t: t, ctx: ctx, base: srv.URL, shots: shots}

	b.run("login", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#login-name", chromedp.ByID),
		chromedp.SendKeys("#login-name", "admin", chromedp.ByID),
		chromedp.SendKeys("#login-password", tn.AdminPassword, chromedp.ByID),
		chromedp.Click("#login-submit", chromedp.ByID), chromedp.WaitVisible("#stored", chromedp.ByID))
	b.shot("overview")
	for _, id := range []string{"stored", "open-alerts", "sources-seen"} {
		if n := b.number("#" + id); n <= 0 {
			t.Errorf("overview %s = %d, want > 0", id, n)
		}
	}
	b.testGraph() // before the alert is resolved: the host's risk comes from it
	b.testAlert()
	b.testSearch()
}

// browser is one Chromium tab on the console.
type browser struct {
	t           *testing.T
	ctx         context.Context
	base, shots string
	n           int
}

func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		var loc string
		_ = chromedp.Run(b.ctx, chromedp.Location(&loc))
		b.shot("failed-" + step)
		b.t.Fatalf("%s (at %s): %v", step, loc, err)
	}
}

func (b *browser) shot(name string) {
	b.t.Helper()
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot %s: %s", name, p)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

func (b *browser) number(sel string) int {
	b.t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(b.text(sel), ",", ""))
	if err != nil {
		b.t.Errorf("%s is not a number: %v", sel, err)
	}
	return n
}

// testAlert opens the first alert from the queue with the keyboard, assigns
// and resolves it and finds both changes in the audit log.
func (b *browser) testAlert() {
	b.run("queue", chromedp.Navigate(b.base+"/alerts"), chromedp.WaitVisible("tr.alert-row", chromedp.ByQuery))
	b.shot("alert-queue")
	var id string
	b.run("open alert", chromedp.AttributeValue("tr.alert-row", "data-id", &id, nil, chromedp.ByQuery),
		chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#resolve-form", chromedp.ByID))
	b.shot("alert-detail")
	b.run("assign", chromedp.SetValue("#assignee-select", "admin", chromedp.ByID),
		chromedp.Click("#assign-submit", chromedp.ByID), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	if got := b.text("#assignee"); got != "admin" {
		b.t.Errorf("assignee after assigning = %q (flash %q)", got, b.text(".flash"))
	}
	b.run("resolve", chromedp.SetValue("#disposition-select", "true_positive", chromedp.ByID),
		chromedp.SendKeys("#resolve-reason", "confirmed C2 beacon", chromedp.ByID),
		chromedp.Click("#resolve-submit", chromedp.ByID), chromedp.WaitVisible(".s-resolved", chromedp.ByQuery))
	b.shot("alert-resolved")
	if tl := b.text("#timeline"); !strings.Contains(tl, "resolved") {
		b.t.Errorf("timeline without the resolution: %q", tl)
	}
	b.run("audit", chromedp.Navigate(b.base+"/audit"), chromedp.WaitVisible("#audit", chromedp.ByID))
	b.shot("audit")
	audit := b.text("#audit")
	if !strings.Contains(audit, id) || !strings.Contains(audit, "true_positive") || !strings.Contains(audit, "admin") {
		b.t.Errorf("audit log lacks the resolution of %s: %q", id, audit)
	}
}

// testGraph expands the subnet of ws-03 with a click and clicks its node
// through to the host page.
func (b *browser) testGraph() {
	b.run("graph", chromedp.Navigate(b.base+"/graph"), chromedp.WaitVisible(`#graph[data-ready="true"]`, chromedp.ByQuery))
	b.shot("graph")
	b.clickNode("10.0.0.0/24")
	b.run("expanded", chromedp.Poll(`window.vigilGraph.$id("10.0.0.23").nonempty()`, nil, chromedp.WithPollingTimeout(20*time.Second)))
	b.shot("graph-expanded")
	b.clickNode("10.0.0.23")
	b.run("host page", chromedp.WaitVisible("#risk-score", chromedp.ByID))
	b.shot("host")
	if why := b.text("#risk-why"); why == "" {
		b.t.Error("host page shows no reasons for the risk")
	}
}

// clickNode clicks the graph node id with the mouse where it is drawn.
func (b *browser) clickNode(id string) {
	b.t.Helper()
	var xy []float64
	js := fmt.Sprintf(`(function(){var cy=window.vigilGraph, n=cy.$id(%q); cy.center(n); cy.zoom({level:2, renderedPosition:n.renderedPosition()});
		var p=n.renderedPosition(), r=document.getElementById("graph").getBoundingClientRect(); return [r.left+p.x, r.top+p.y];})()`, id)
	b.run("locate "+id, chromedp.Evaluate(js, &xy))
	if len(xy) != 2 {
		b.t.Fatalf("node %s not found in the graph", id)
	}
	b.run("click "+id, chromedp.MouseClickXY(xy[0], xy[1]))
}

// testSearch runs a search and narrows it with a value of the sidebar.
func (b *browser) testSearch() {
	q := url.Values{"q": {"event.dataset:app.log"}, "from": {"now-24h"}}
	b.run("search", chromedp.Navigate(b.base+"/search?"+q.Encode()),
		chromedp.WaitVisible("#fields a.value", chromedp.ByQuery))
	b.shot("search")
	before := b.rows()
	b.run("open user.name", chromedp.Evaluate(`document.querySelector('#fields details[data-field="user.name"]').open = true`, nil),
		chromedp.WaitVisible(`#fields details[data-field="user.name"] a.value`, chromedp.ByQuery))
	var value string
	b.run("pick value", chromedp.Evaluate(`(function(){var a=[...document.querySelectorAll("#fields a.value")].find(function(x){return x.href.indexOf("user.name")>=0}); return a ? a.textContent : ""})()`, &value))
	if value == "" {
		b.t.Fatal("no user.name value in the field sidebar")
	}
	b.run("click value", chromedp.Click(fmt.Sprintf(`#fields a.value[title="add user.name:%s"]`, value), chromedp.ByQuery),
		chromedp.WaitVisible("#search-q", chromedp.ByID))
	var got string
	b.run("query", chromedp.Value("#search-q", &got, chromedp.ByID))
	if !strings.Contains(got, "user.name:"+value) {
		b.t.Errorf("query after clicking %q = %q", value, got)
	}
	b.shot("search-filtered")
	if after := b.rows(); after == 0 || after >= before {
		b.t.Errorf("filtering by %s: %d rows before, %d after", value, before, after)
	}
}

func (b *browser) rows() int {
	var n int
	b.run("count rows", chromedp.Evaluate(`document.querySelectorAll("table.events tr.ev").length`, &n))
	return n
}

// consoleSession logs in as the admin and returns the session cookie.
func consoleSession(tb testing.TB, tn *testNode, h http.Handler) *http.Cookie {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"name": "admin", "password": tn.AdminPassword})
	r := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == "vigil_session" {
			return c
		}
	}
	tb.Fatalf("login: %d %s", w.Code, w.Body)
	return nil
}

// benchPage measures rendering path with the session, server time only.
func benchPage(b *testing.B, h http.Handler, ck *http.Cookie, path, mustContain string) {
	b.Helper()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(ck)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || !strings.Contains(w.Body.String(), mustContain) {
			b.Fatalf("%s: %d %.300s", path, w.Code, w.Body)
		}
	}
}

// BenchmarkConsoleQueue renders the alert queue's first page (200 alerts)
// with 10,000 open alerts stored, server time only.
func BenchmarkConsoleQueue(b *testing.B) {
	tn := startNode(b, b.TempDir(), nil)
	now := time.Now().UTC()
	alerts := make([]schema.Alert, 10000)
	for i := range alerts {
		t := now.Add(-time.Duration(i) * time.Second)
		alerts[i] = schema.Alert{RuleID: fmt.Sprintf("rule-%d", i%50), RuleName: "Rule", Kind: schema.KindBuiltin,
			Title: fmt.Sprintf("Suspicious thing %d", i), Severity: schema.SeverityMedium, Priority: 1 + i%5,
			FirstSeen: t, LastSeen: t, Host: fmt.Sprintf("host-%03d", i%300), SourceIP: "10.0.0.1",
			DedupKey: "bench-" + strconv.Itoa(i), Count: 1, Tags: []string{"attack.t1110"}}
	}
	for i := 0; i < len(alerts); i += 1000 {
		if _, err := tn.State.UpsertAlerts(context.Background(), alerts[i:i+1000], time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	h := consoleHandler(b, tn)
	ck := consoleSession(b, tn, h)
	for _, bc := range []struct{ name, path string }{
		{"open", "/alerts"},
		{"priority1", "/alerts?priority=1"},
		{"status-new", "/alerts?status=new"},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPage(b, h, ck, bc.path, "alert-row") })
	}
}

// BenchmarkConsoleGraph renders the graph data of 1,000+ hosts (grouped by
// subnet and per host) and the graph page, server time only.
func BenchmarkConsoleGraph(b *testing.B) {
	tn := startNode(b, b.TempDir(), nil)
	now := time.Now().UTC()
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString(flowLine(now.Add(-time.Duration(i)*time.Second), fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250),
			fmt.Sprintf("10.2.0.%d", i%20), 443) + "\n")
	}
	postEvents(b, tn, sb.String())
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body := tn.do(b, "GET", "/api/v1/graph?group=host", tn.token, nil, nil)
		var g struct {
			NodeCount int `json:"node_count"`
		}
		_ = json.Unmarshal(body, &g)
		if g.NodeCount >= 1000 {
			b.Logf("graph of %d nodes", g.NodeCount)
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("graph has %d nodes, want 1000+", g.NodeCount)
		}
		time.Sleep(200 * time.Millisecond)
	}
	h := consoleHandler(b, tn)
	ck := consoleSession(b, tn, h)
	for _, bc := range []struct{ name, path, want string }{
		{"data-hosts", "/graph/data?group=host", `"10.2.0.1"`},
		{"data-subnets", "/graph/data", `"10.1.0.0/24"`},
		{"page", "/graph", `id="graph"`},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPage(b, h, ck, bc.path, bc.want) })
	}
}
