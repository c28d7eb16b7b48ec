package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// memSink keeps submitted events; overloaded makes it refuse like a lagging
// ingest log.
type memSink struct {
	mu         sync.Mutex
	evs        []schema.Event
	overloaded bool
}

func (m *memSink) SubmitID(_ context.Context, _ string, evs []schema.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.overloaded {
		return ingest.ErrBackpressure
	}
	m.evs = append(m.evs, evs...)
	return nil
}

func (m *memSink) Overloaded() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.overloaded
}

type rejects struct {
	mu sync.Mutex
	rs []ingest.Reject
}

func (r *rejects) Record(x ingest.Reject) { r.mu.Lock(); r.rs = append(r.rs, x); r.mu.Unlock() }

func newTestServer(t testing.TB) (*Server, *memSink, *rejects, string) {
	t.Helper()
	st, err := statedb.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tok, _, err := st.CreateToken(context.Background(), "ingest", statedb.RoleIngest)
	if err != nil {
		t.Fatal(err)
	}
	sink, rej := &memSink{}, &rejects{}
	reg := prometheus.NewRegistry()
	s := New(Config{MaxBodyBytes: 1 << 20, MaxEventBytes: 4096}, Deps{Sink: sink, Rejects: rej,
		Inputs: ingest.NewInputMetrics(reg), State: st, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return s, sink, rej, tok
}

func call(t testing.TB, s *Server, method, path, token string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func TestBackpressureAnswers429(t *testing.T) {
	t.Parallel()
	s, sink, _, tok := newTestServer(t)
	sink.overloaded = true
	for _, path := range []string{"/api/v1/events", "/_bulk"} {
		body := []byte(`{"message":"x"}` + "\n")
		if path == "/_bulk" {
			body = []byte(`{"index":{}}` + "\n" + `{"message":"x"}` + "\n")
		}
		w := call(t, s, "POST", path, tok, body)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s: %d (Retry-After %q), want 429 with Retry-After", path, w.Code, w.Header().Get("Retry-After"))
		}
	}
	if len(sink.evs) != 0 {
		t.Fatalf("%d events accepted while overloaded", len(sink.evs))
	}
}

func TestBadInputIsCountedAndNeighboursKept(t *testing.T) {
	t.Parallel()
	s, sink, rej, tok := newTestServer(t)
	body := strings.Join([]string{
		`{"message":"good 1"}`,
		"{\"message\":\"bad utf8 \xff\xfe\"}",
		`{"message":"` + strings.Repeat("y", 5000) + `"}`,
		`not json`,
		`{"message":"good 2"}`,
	}, "\n")
	w := call(t, s, "POST", "/api/v1/events", tok, []byte(body))
	var resp ingestResponse
	_ = json.Unmarshal(w.Body.Bytes(), &resp)
	if w.Code != 200 || resp.Accepted != 2 || resp.Rejected != 3 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	reasons := map[string]int{}
	for _, r := range rej.rs {
		reasons[r.Reason]++
	}
	if reasons["invalid_utf8"] != 1 || reasons["oversized"] != 1 || reasons["invalid_json"] != 1 {
		t.Fatalf("reasons = %v", reasons)
	}
	if sink.evs[0].Message != "good 1" || sink.evs[1].Message != "good 2" {
		t.Fatalf("kept %+v", sink.evs)
	}
	w = call(t, s, "POST", "/api/v1/events", tok, bytes.Repeat([]byte("z"), 2<<20))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d, want 413", w.Code)
	}
}

func TestBulkCredentialsAsShippersSendThem(t *testing.T) {
	t.Parallel()
	s, _, _, tok := newTestServer(t)
	for _, set := range []func(*http.Request){
		func(r *http.Request) { r.SetBasicAuth("elastic", tok) },
		func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+b64("id1:"+tok)) },
	} {
		req := httptest.NewRequest("POST", "/_bulk", strings.NewReader(`{"index":{}}`+"\n"+`{"message":"x"}`+"\n"))
		set(req)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

func TestUnknownEndpointIsJSON404(t *testing.T) {
	t.Parallel()
	s, _, _, tok := newTestServer(t)
	w := call(t, s, "GET", "/api/v1/nothing", tok, nil)
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"error"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func FuzzBulk(f *testing.F) {
	f.Add([]byte(`{"index":{"_index":"x"}}` + "\n" + `{"message":"m"}` + "\n"))
	f.Add([]byte(`{"delete":{}}` + "\n" + `{"update":{}}` + "\n{}\n"))
	f.Add([]byte("{\n}\n[]\n\"x\"\n"))
	s, _, _, tok := newTestServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := call(t, s, "POST", "/_bulk", tok, body)
		if w.Code != 200 && w.Code != 400 && w.Code != 413 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Code == 200 {
			var r bulkResponse
			if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
				t.Fatalf("response is not JSON: %v", err)
			}
		}
	})
}

func FuzzNDJSON(f *testing.F) {
	f.Add([]byte(`{"message":"m","host":{"name":"h"}}` + "\n" + `{"winlog":{"event_id":4625}}`))
	f.Add([]byte(`{"event_type":"alert","timestamp":"x"}` + "\n" + `{"_path":"conn","ts":1.5}`))
	s, _, _, tok := newTestServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := call(t, s, "POST", "/api/v1/events", tok, body)
		if w.Code != 200 && w.Code != 400 && w.Code != 413 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
