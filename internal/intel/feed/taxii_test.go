package feed

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/intel"
)

// newTAXIISource builds a taxii source for srv through New.
func newTAXIISource(t *testing.T, srv *httptest.Server, c Config) intel.Source {
	t.Helper()
	c.Name, c.Kind = "taxii-test", KindTAXII
	if c.URL == "" {
		c.URL = srv.URL + "/taxii2/"
	}
	src, err := New(c, Options{Client: srv.Client(), Convert: convertTestObjects})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestTAXIIPolling(t *testing.T) {
	t.Parallel()
	for _, noNext := range []bool{false, true} {
		t.Run(map[bool]string{false: "next", true: "added_after only"}[noNext], func(t *testing.T) {
			t.Parallel()
			ts := newTAXIIFixture(t, "/api1/", "")
			ts.noNext = noNext
			srv := httptest.NewServer(ts)
			t.Cleanup(srv.Close)
			ctx := context.Background()

			anon := newTAXIISource(t, srv, Config{Collection: "Indicators"})
			if _, err := anon.Fetch(ctx, ""); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
				t.Fatalf("without credentials: %v, want HTTP 401", err)
			}

			src := newTAXIISource(t, srv, Config{Collection: "indicators", Username: "analyst", Password: "pw"})
			b1, err := src.Fetch(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"ip:192.0.2.1", "domain:evil.example", "url:http://evil.example/x"}
			if !b1.Full || !slices.Equal(values(b1.Indicators), want) || len(b1.Problems) != 1 ||
				b1.Problems[0].Where != "indicator--00000000-0000-4000-8000-000000000004" ||
				b1.Cursor != "2024-11-01T12:04:00.000Z" || b1.Indicators[0].ID != "indicator--00000000-0000-4000-8000-000000000001" {
				t.Fatalf("first poll %+v", b1)
			}
			b2, err := src.Fetch(ctx, b1.Cursor)
			if err != nil || b2.Full || len(b2.Indicators)+len(b2.Problems) != 0 || b2.Cursor != b1.Cursor {
				t.Fatalf("second poll %+v, %v", b2, err)
			}
			t1 := time.Date(2024, 11, 2, 8, 0, 0, 0, time.UTC)
			for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
				ts.add(t1.Add(time.Duration(i)*time.Second),
					indicatorObject("00000000-0000-4000-8000-00000000010"+string(rune('0'+i)), "[ipv4-addr:value = '"+ip+"']"))
			}
			b3, err := src.Fetch(ctx, b2.Cursor)
			if err != nil || b3.Full || len(b3.Indicators) != 3 || b3.Cursor != "2024-11-02T08:00:02.000Z" {
				t.Fatalf("third poll %+v, %v", b3, err)
			}
			objectPages := 0
			for _, r := range ts.log() {
				if strings.Contains(r, "/objects/") {
					objectPages++
					if !strings.Contains(r, "limit=1000") {
						t.Errorf("request without limit: %s", r)
					}
				}
			}
			// 3 pages of 2 for five objects, 1 empty page, 2 pages for three new ones.
			if objectPages != 6 {
				t.Errorf("%d objects requests, want 6: %q", objectPages, ts.log())
			}
		})
	}
}

func TestTAXIISelection(t *testing.T) {
	t.Parallel()
	ts := newTAXIIFixture(t, "/api1/", "")
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	creds := Config{Username: "analyst", Password: "pw"}
	with := func(f func(c *Config)) Config {
		c := creds
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		cfg      Config
		want     []string
		wantFull bool
		wantErr  string
	}{
		{name: "by id, explicit api root", cfg: with(func(c *Config) { c.Collection = taxiiCollection; c.APIRoot = "/api1/" }),
			want: []string{"ip:192.0.2.1", "domain:evil.example", "url:http://evil.example/x"}, wantFull: true},
		{name: "since", cfg: with(func(c *Config) { c.Collection = "Indicators"; c.Since = "2024-11-01T12:03:30Z" }),
			want: []string{"url:http://evil.example/x"}},
		{name: "types", cfg: with(func(c *Config) { c.Collection = "Indicators"; c.Types = []string{"malware"} }),
			wantFull: true},
		{name: "not readable", cfg: with(func(c *Config) { c.Collection = "Submissions" }), wantErr: "not readable"},
		{name: "unknown", cfg: with(func(c *Config) { c.Collection = "nope" }), wantErr: `"Indicators" (` + taxiiCollection},
		{name: "bad root", cfg: with(func(c *Config) { c.Collection = "Indicators"; c.APIRoot = "/other-root/" }),
			wantErr: "HTTP 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := newTAXIISource(t, srv, tc.cfg).Fetch(context.Background(), "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || b.Full != tc.wantFull || !slices.Equal(values(b.Indicators), tc.want) {
				t.Fatalf("batch %+v, %v; want %q full %v", b, err, tc.want, tc.wantFull)
			}
		})
	}
}

// TestOpenCTITAXII polls OpenCTI's TAXII layout (/taxii2/root/) with a
// bearer token.
func TestOpenCTITAXII(t *testing.T) {
	t.Parallel()
	ts := newTAXIIFixture(t, "/taxii2/root/", "opencti-token")
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	src, err := New(Config{Name: "octi", Kind: KindOpenCTI, API: OpenCTITAXII, URL: srv.URL, Token: "opencti-token",
		Collection: "Indicators", PageSize: 2}, Options{Client: srv.Client(), Convert: convertTestObjects})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Fetch(context.Background(), "")
	if err != nil || !b.Full || len(b.Indicators) != 3 {
		t.Fatalf("batch %+v, %v", b, err)
	}
	log := ts.log()
	if log[0] != "/taxii2/root/collections/" {
		t.Errorf("first request %q, want the collections of the root API root (no discovery)", log[0])
	}
	bad, err := New(Config{Name: "octi", Kind: KindOpenCTI, API: OpenCTITAXII, URL: srv.URL, Token: "wrong",
		Collection: "Indicators"}, Options{Client: srv.Client(), Convert: convertTestObjects})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Fetch(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v", err)
	}
}
