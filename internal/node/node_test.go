package node

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/schema"
)

// testNode runs a node with every listener on a free loopback port.
type testNode struct {
	*Node
	url, token string
	cancel     context.CancelFunc
	done       chan error
}

func startNode(t testing.TB, dir string, mutate func(*config.Config)) *testNode {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Syslog.UDP, cfg.Syslog.TCP, cfg.Syslog.TLS = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Flows = config.FlowsConfig{NetFlow: "127.0.0.1:0"}
	cfg.Ingest.SyncAlways = false
	cfg.Storage.MemoryLimit = "1GB"
	if mutate != nil {
		mutate(cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	n, err := Open(context.Background(), cfg, Options{DataDir: dir, Listen: true, Version: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{Node: n, url: "http://" + n.HTTPAddr(), cancel: cancel, done: make(chan error, 1)}
	tn.token = n.AdminToken
	go func() { tn.done <- n.Run(ctx) }()
	<-n.Syslog.Ready()
	t.Cleanup(tn.stop)
	return tn
}

func (tn *testNode) stop() {
	if tn.cancel == nil {
		return
	}
	tn.cancel()
	<-tn.done
	tn.Close()
	tn.cancel = nil
}

func (tn *testNode) do(t testing.TB, method, path, token string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, tn.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// search returns all events matching q, waiting until at least want exist.
func (tn *testNode) search(t testing.TB, q string, want int) []schema.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := tn.do(t, "GET", "/api/v1/events?limit=10000&q="+url.QueryEscape(q), tn.token, nil, nil)
		if code != 200 {
			t.Fatalf("search %q: %d %s", q, code, body)
		}
		var res struct {
			Events []schema.Event `json:"events"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Events) >= want || time.Now().After(deadline) {
			return res.Events
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func TestAuth(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	if code, _ := tn.do(t, "GET", "/api/v1/events", "", nil, nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _ := tn.do(t, "GET", "/api/v1/events", "vgl_wrong", nil, nil); code != 401 {
		t.Fatalf("bad token: %d, want 401", code)
	}
	code, body := tn.do(t, "POST", "/api/v1/tokens", tn.token, []byte(`{"name":"fb","role":"ingest"}`), nil)
	if code != 201 {
		t.Fatalf("create token: %d %s", code, body)
	}
	var created struct{ Token string }
	_ = json.Unmarshal(body, &created)
	if code, _ := tn.do(t, "GET", "/api/v1/events", created.Token, nil, nil); code != 403 {
		t.Fatalf("ingest token searching: %d, want 403", code)
	}
	if code, b := tn.do(t, "POST", "/api/v1/events", created.Token, []byte(`{"message":"x"}`), nil); code != 200 {
		t.Fatalf("ingest token ingesting: %d %s", code, b)
	}
	for _, open := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := tn.do(t, "GET", open, "", nil, nil); code != 200 {
			t.Fatalf("%s: %d, want 200 without a token", open, code)
		}
	}
	if fi, err := os.Stat(tn.Opts.DataDir + "/admin-token"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token file: %v %v", fi, err)
	}
}

func TestNDJSONIngestAndSearch(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	var body bytes.Buffer
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&body, `{"@timestamp":"2026-11-19T10:%02d:00Z","host":{"name":"web-%02d"},"source":{"ip":"10.1.%d.5"},"event":{"category":["authentication"],"outcome":"failure"},"message":"login failed %d"}`+"\n", i, i%5, i%3, i)
	}
	body.WriteString("this is not json\n")
	code, resp := tn.do(t, "POST", "/api/v1/events", tn.token, gz(t, body.Bytes()), map[string]string{"Content-Encoding": "gzip"})
	if code != 200 || !strings.Contains(string(resp), `"accepted":50`) || !strings.Contains(string(resp), `"rejected":1`) {
		t.Fatalf("ingest: %d %s", code, resp)
	}
	evs := tn.search(t, "source.ip:10.1.0.0/24 AND event.outcome:failure", 17)
	if len(evs) != 17 {
		t.Fatalf("CIDR search found %d events, want 17", len(evs))
	}
	for _, ev := range evs {
		if ev.Source.IP != "10.1.0.5" || ev.Timestamp.Year() != 2026 || ev.Received.IsZero() {
			t.Fatalf("bad event %+v", ev)
		}
	}
	if got := tn.search(t, `host.name:web-03 AND "login failed"`, 10); len(got) != 10 {
		t.Fatalf("host+keyword search found %d, want 10", len(got))
	}
	// A body that is not gzip although it says so is rejected whole and counted.
	code, _ = tn.do(t, "POST", "/api/v1/events", tn.token, []byte("plain"), map[string]string{"Content-Encoding": "gzip"})
	if code != 400 {
		t.Fatalf("bad gzip: %d, want 400", code)
	}
	code, _ = tn.do(t, "POST", "/api/v1/events", tn.token, bytes.Repeat([]byte("x"), 2<<20), nil)
	if code != 200 {
		t.Fatalf("oversized line: %d, want 200 with the line rejected", code)
	}
	waitFor(t, func() bool {
		code, b := tn.do(t, "GET", "/api/v1/deadletters?limit=10", tn.token, nil, nil)
		return code == 200 && strings.Contains(string(b), "invalid_json") && strings.Contains(string(b), "bad_gzip") &&
			strings.Contains(string(b), "oversized")
	})
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBulkFromWinlogbeatAndFilebeat(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	body := strings.Join([]string{
		`{"create":{"_index":"winlogbeat-8.11.0"}}`,
		`{"@timestamp":"2026-11-19T08:00:00.000Z","host":{"name":"dc-01"},"event":{"code":"4625","provider":"Microsoft-Windows-Security-Auditing"},"winlog":{"channel":"Security","event_id":"4625","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc-01.corp.local","record_id":"1001","event_data":{"TargetUserName":"bob","TargetDomainName":"CORP","IpAddress":"198.51.100.23","IpPort":"50123","LogonType":"3"}},"message":"An account failed to log on."}`,
		`{"index":{"_index":"filebeat-8.11.0"}}`,
		`{"@timestamp":"2026-11-19T08:00:01.000Z","message":"GET /index.html 200","log":{"file":{"path":"/var/log/nginx/access.log"}},"host":{"name":"web-01"},"input":{"type":"filestream"},"agent":{"type":"filebeat","version":"8.11.0"},"ecs":{"version":"8.0.0"}}`,
		`{"index":{}}`,
		`{not json`,
		`{"delete":{"_index":"x","_id":"1"}}`,
		``,
	}, "\n")
	code, resp := tn.do(t, "POST", "/_bulk", tn.token, []byte(body), map[string]string{"Content-Type": "application/x-ndjson"})
	if code != 200 {
		t.Fatalf("bulk: %d %s", code, resp)
	}
	var br struct {
		Errors bool
		Items  []map[string]struct {
			Status int
			Error  *struct{ Type, Reason string }
		}
	}
	if err := json.Unmarshal(resp, &br); err != nil {
		t.Fatal(err)
	}
	if !br.Errors || len(br.Items) != 4 || br.Items[0]["create"].Status != 201 || br.Items[1]["index"].Status != 201 ||
		br.Items[2]["index"].Status != 400 || br.Items[3]["delete"].Status != 400 {
		t.Fatalf("bulk response %s", resp)
	}
	evs := tn.search(t, "host.name:dc-01.corp.local AND user.name:bob", 1)
	if len(evs) != 1 || evs[0].Source.IP != "198.51.100.23" || evs[0].Event.Outcome != "failure" || evs[0].Input != schema.InputWinlogbeat {
		t.Fatalf("winlogbeat event: %+v", evs)
	}
	if v, _ := evs[0].Fields.Get("TargetUserName"); v != "bob" {
		t.Fatalf("original field TargetUserName = %q", v)
	}
	evs = tn.search(t, `log.file.path:"/var/log/nginx/access.log"`, 1)
	if len(evs) != 1 || evs[0].Host.Name != "web-01" {
		t.Fatalf("filebeat event: %+v", evs)
	}
	if code, b := tn.do(t, "GET", "/", tn.token, nil, nil); code != 200 || !strings.Contains(string(b), `"number":"8.`) {
		t.Fatalf("GET / for shippers: %d %s", code, b)
	}
}

func TestSyslogBruteForceRaisesGroupedAlert(t *testing.T) {
	t.Parallel()
	tn := startNode(t, t.TempDir(), nil)
	_, tcp, _ := tn.Syslog.Addrs()
	conn, err := net.Dial("tcp", tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t0 := time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)
	for i := 0; i < 25; i++ {
		msg := fmt.Sprintf("<38>1 %s bastion-01 sshd 4242 - - Failed password for root from 203.0.113.50 port %d ssh2",
			t0.Add(time.Duration(i)*5*time.Second).Format(time.RFC3339), 40000+i)
		fmt.Fprintf(conn, "%d %s", len(msg), msg)
	}
	evs := tn.search(t, "host.name:bastion-01 AND source.ip:203.0.113.50", 25)
	if len(evs) != 25 || evs[0].User.Name != "root" || evs[0].Event.Outcome != "failure" {
		t.Fatalf("syslog events: %d %+v", len(evs), evs[0])
	}
	var alerts []schema.Alert
	waitFor(t, func() bool {
		_, b := tn.do(t, "GET", "/api/v1/alerts?kind=builtin", tn.token, nil, nil)
		var out struct{ Alerts []schema.Alert }
		_ = json.Unmarshal(b, &out)
		alerts = out.Alerts
		return len(alerts) == 1 && alerts[0].Count == 2
	})
	a := alerts[0]
	if a.Host != "bastion-01" || a.SourceIP != "203.0.113.50" || !a.FirstSeen.Equal(t0) || a.Status != "new" {
		t.Fatalf("alert %+v", a)
	}
	_, b := tn.do(t, "GET", "/api/v1/sources", tn.token, nil, nil)
	if !strings.Contains(string(b), `"bastion-01"`) {
		t.Fatalf("sources lack bastion-01: %s", b)
	}
}
