package feed

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/intel"
)

// listServer serves one list document with an ETag and Last-Modified and
// answers conditional requests with 304, like a static file server.
type listServer struct {
	mu       sync.Mutex
	body     string
	etag     string
	modified time.Time
	// validators, when false, sends no ETag or Last-Modified.
	validators bool
	hits       int
	full       int
}

func (s *listServer) set(body string, modified time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.modified = body, modified
	s.etag = `"` + strings.ReplaceAll(modified.Format(time.RFC3339Nano), ":", "") + `"`
}

func (s *listServer) counts() (hits, full int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits, s.full
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if user, pass, ok := r.BasicAuth(); !ok || user != "vigil" || pass != "s3cret" || r.Header.Get("X-Api-Key") != "k" {
		w.Header().Set("WWW-Authenticate", `Basic realm="feed"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if s.validators {
		w.Header().Set("ETag", s.etag)
		w.Header().Set("Last-Modified", s.modified.UTC().Format(http.TimeFormat))
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == s.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && r.Header.Get("If-None-Match") == "" &&
			!s.modified.Truncate(time.Second).After(ims) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	s.full++
	_, _ = w.Write([]byte(s.body))
}

func TestDocumentSourceHTTP(t *testing.T) {
	t.Parallel()
	for _, validators := range []bool{true, false} {
		t.Run(map[bool]string{true: "etag", false: "content hash"}[validators], func(t *testing.T) {
			t.Parallel()
			ls := &listServer{validators: validators}
			t0 := time.Date(2024, 11, 1, 10, 0, 0, 0, time.UTC)
			ls.set("192.0.2.1\nevil.example\n", t0)
			srv := httptest.NewServer(ls)
			t.Cleanup(srv.Close)
			cfg := Config{Name: "l", Kind: KindList, URL: srv.URL + "/list.txt", Username: "vigil", Password: "s3cret",
				Headers: map[string]string{"X-Api-Key": "k"}, Tags: []string{"from-test"}}
			src, err := New(cfg, Options{Client: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			b1, err := src.Fetch(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if !b1.Full || !slices.Equal(values(b1.Indicators), []string{"ip:192.0.2.1", "domain:evil.example"}) ||
				!slices.Equal(b1.Indicators[0].Tags, []string{"from-test"}) || b1.Cursor == "" {
				t.Fatalf("first fetch %+v", b1)
			}
			b2, err := src.Fetch(ctx, b1.Cursor)
			if err != nil || b2.Full || len(b2.Indicators) != 0 || b2.Cursor != b1.Cursor {
				t.Fatalf("unchanged fetch %+v, %v", b2, err)
			}
			if _, full := ls.counts(); validators && full != 1 {
				t.Errorf("the server sent the body %d times, want once (then 304)", full)
			}
			ls.set("192.0.2.1\n198.51.100.1\n", t0.Add(time.Hour))
			b3, err := src.Fetch(ctx, b2.Cursor)
			if err != nil || !b3.Full || !slices.Equal(values(b3.Indicators), []string{"ip:192.0.2.1", "ip:198.51.100.1"}) ||
				b3.Cursor == b2.Cursor {
				t.Fatalf("changed fetch %+v, %v", b3, err)
			}
		})
	}
}

func TestDocumentSourceErrors(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>\n<body>Maintenance</body>\n</html>\n"))
	}))
	t.Cleanup(html.Close)
	auth := httptest.NewServer(&listServer{body: "192.0.2.1\n"})
	t.Cleanup(auth.Close)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("192.0.2.1\n", 1000)))
	}))
	t.Cleanup(big.Close)
	tests := []struct {
		name    string
		cfg     Config
		client  *http.Client
		wantErr string
	}{
		{name: "timeout", cfg: Config{URL: slow.URL, Timeout: Duration{50 * time.Millisecond}}, client: slow.Client(),
			wantErr: "deadline exceeded"},
		{name: "error page", cfg: Config{URL: html.URL}, client: html.Client(), wantErr: "no valid indicator, 3 problems"},
		{name: "no credentials", cfg: Config{URL: auth.URL}, client: auth.Client(), wantErr: "HTTP 401"},
		{name: "too big", cfg: Config{URL: big.URL, MaxBytes: 100}, client: big.Client(), wantErr: "larger than max_bytes"},
		{name: "missing file", cfg: Config{Path: filepath.Join(t.TempDir(), "none.txt")}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.Name, tc.cfg.Kind = tc.name, KindList
			src, err := New(tc.cfg, Options{Client: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Fetch(context.Background(), "")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDocumentSourceCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	src, err := New(Config{Name: "c", Kind: KindList, URL: srv.URL}, Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := src.Fetch(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestDocumentSourceFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "feed.csv")
	write := func(body string, mtime time.Time) {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write("192.0.2.1,high\n", t0)
	conf := 10
	src, err := New(Config{Name: "f", Kind: KindCSV, Path: path, Confidence: &conf, Threat: "test",
		CSV: CSVConfig{Columns: Columns{Value: "1", Confidence: "2"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		body     string
		mtime    time.Time
		wantFull bool
		want     []string
	}{
		{wantFull: true, want: []string{"ip:192.0.2.1"}},
		{wantFull: false}, // untouched
		{body: "192.0.2.1,high\n", mtime: t0.Add(time.Hour)}, // touched, same content
		{body: "192.0.2.2,\n", mtime: t0.Add(2 * time.Hour), wantFull: true, want: []string{"ip:192.0.2.2"}},
	}
	cursor := ""
	for i, st := range steps {
		if st.body != "" {
			write(st.body, st.mtime)
		}
		b, err := src.Fetch(ctx, cursor)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if b.Full != st.wantFull || !slices.Equal(values(b.Indicators), st.want) || b.Cursor == "" {
			t.Fatalf("step %d: %+v", i, b)
		}
		if i == 0 && (b.Indicators[0].Confidence != 80 || b.Indicators[0].Threat != "test") {
			t.Errorf("row confidence and default threat: %+v", b.Indicators[0])
		}
		if i == 3 && b.Indicators[0].Confidence != 10 {
			t.Errorf("default confidence: %+v", b.Indicators[0])
		}
		cursor = b.Cursor
	}
	if _, err := src.Fetch(ctx, "{not json"); err != nil {
		t.Errorf("an unreadable cursor should mean a full fetch, got %v", err)
	}
}

func TestCAFile(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("evil.example\n"))
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, withCA := range []bool{true, false} {
		cfg := Config{Name: "tls", Kind: KindList, URL: srv.URL}
		if withCA {
			cfg.CAFile = ca
		}
		src, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := src.Fetch(context.Background(), "")
		if withCA && (err != nil || len(b.Indicators) != 1) {
			t.Errorf("with ca_file: %+v, %v", b, err)
		}
		if !withCA && (err == nil || !strings.Contains(err.Error(), "certificate")) {
			t.Errorf("without ca_file: %v, want a certificate error", err)
		}
	}
	if _, err := New(Config{Name: "bad", Kind: KindList, URL: srv.URL, CAFile: filepath.Join(t.TempDir(), "x")},
		Options{}); err == nil {
		t.Error("a missing ca_file was accepted")
	}
}

func TestWithDefaultsKeepsSharedTags(t *testing.T) {
	t.Parallel()
	shared := make([]string, 1, 4)
	shared[0] = "a"
	src := WithDefaults(staticSource{intel.Batch{Indicators: []intel.Indicator{
		{Type: intel.TypeIP, Value: "192.0.2.1", Confidence: -1, Tags: shared},
		{Type: intel.TypeIP, Value: "192.0.2.2", Confidence: 50, Threat: "x", Tags: shared},
	}}}, Defaults{Confidence: 30, Threat: "t", Tags: []string{"b"}})
	b, err := src.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	first, second := b.Indicators[0], b.Indicators[1]
	if first.Confidence != 30 || first.Threat != "t" || second.Confidence != 50 || second.Threat != "x" ||
		!slices.Equal(first.Tags, []string{"a", "b"}) || !slices.Equal(second.Tags, []string{"a", "b"}) ||
		!slices.Equal(shared, []string{"a"}) {
		t.Errorf("got %+v, shared %v", b.Indicators, shared)
	}
}

// staticSource is an intel.Source holding one batch, to test wrappers.
type staticSource struct{ b intel.Batch }

func (s staticSource) Fetch(context.Context, string) (intel.Batch, error) {
	b := s.b
	b.Indicators = slices.Clone(s.b.Indicators)
	return b, nil
}
