package enrich

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/shareddata"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openTestGeoIP opens the shared MaxMind test databases (City + ASN).
func openTestGeoIP(t testing.TB) *GeoIP {
	t.Helper()
	dir := shareddata.Path(t, "geoip")
	g, err := OpenGeoIP(filepath.Join(dir, "GeoIP2-City-Test.mmdb"), filepath.Join(dir, "GeoLite2-ASN-Test.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestGeoIPLookup(t *testing.T) {
	t.Parallel()
	g := openTestGeoIP(t)
	dir := shareddata.Path(t, "geoip")
	country, err := OpenGeoIP(filepath.Join(dir, "GeoLite2-Country-Test.mmdb"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer country.Close()
	for _, tc := range []struct {
		db   *GeoIP
		addr string
		want GeoResult
	}{
		{g, "81.2.69.142", GeoResult{Geo: schema.Geo{CountryISOCode: "GB", CountryName: "United Kingdom", CityName: "London"}}},
		{g, "::ffff:81.2.69.142", GeoResult{Geo: schema.Geo{CountryISOCode: "GB", CountryName: "United Kingdom", CityName: "London"}}},
		{g, "89.160.20.112", GeoResult{Geo: schema.Geo{CountryISOCode: "SE", CountryName: "Sweden", CityName: "Linköping"},
			AS: schema.AS{Number: 29518, Organization: schema.ASOrg{Name: "Bredband2 AB"}}}},
		{g, "1.128.0.1", GeoResult{AS: schema.AS{Number: 1221, Organization: schema.ASOrg{Name: "Telstra Pty Ltd"}}}},
		{g, "2001:2b8::1", GeoResult{Geo: schema.Geo{CountryISOCode: "KR", CountryName: "South Korea"}}},
		{g, "192.0.2.1", GeoResult{}},
		{country, "89.160.20.112", GeoResult{Geo: schema.Geo{CountryISOCode: "SE", CountryName: "Sweden"}}},
	} {
		got, err := tc.db.Lookup(netip.MustParseAddr(tc.addr))
		if err != nil || got != tc.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", tc.addr, got, err, tc.want)
		}
	}
	if geo, asn := g.DatabaseTypes(); geo != "GeoIP2-City" || asn != "GeoLite2-ASN" {
		t.Errorf("database types %q, %q", geo, asn)
	}
}

func TestOpenGeoIPRefusesWrongFiles(t *testing.T) {
	t.Parallel()
	dir := shareddata.Path(t, "geoip")
	city, asnDB := filepath.Join(dir, "GeoIP2-City-Test.mmdb"), filepath.Join(dir, "GeoLite2-ASN-Test.mmdb")
	for _, tc := range []struct{ geo, asn, err string }{
		{"", "", "needs a City/Country database"},
		{asnDB, "", `is a "GeoLite2-ASN" database, not a location database`},
		{"", city, `is a "GeoIP2-City" database, not a ASN database`},
		{filepath.Join(dir, "missing.mmdb"), "", "open location database"},
		{filepath.Join(dir, "README.md"), "", "open location database"},
	} {
		g, err := OpenGeoIP(tc.geo, tc.asn)
		if err == nil {
			g.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("OpenGeoIP(%q, %q) error %v, want %q", tc.geo, tc.asn, err, tc.err)
		}
	}
}

func testIndex(t testing.TB) *asset.Index {
	t.Helper()
	idx, err := asset.NewIndex([]statedb.Asset{
		{ID: "DC", Hostname: "dc01.corp.example", Addresses: []string{"10.0.0.10"}, Role: "dc", Criticality: "critical"},
		{ID: "WEB", Hostname: "web01", Addresses: []string{"10.0.1.1"}, Role: "web", Criticality: "high"},
		{ID: "NET", Addresses: []string{"10.0.0.0/16"}, Role: "office", Criticality: "low"},
	}, []asset.Static{{Address: "172.16.0.5", Name: "nas", Criticality: "high"}})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestEnrich(t *testing.T) {
	t.Parallel()
	internal, err := flow.NewSet(append(flow.DefaultInternal(), "89.160.20.0/24")) // a "public" range the org owns
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Assets: testIndex(t), GeoIP: openTestGeoIP(t), Internal: internal, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	dc := schema.Asset{ID: "DC", Name: "dc01.corp.example", Role: "dc", Criticality: "critical"}
	web := schema.Asset{ID: "WEB", Name: "web01", Role: "web", Criticality: "high"}
	office := schema.Asset{ID: "NET", Name: "10.0.0.0/16", Role: "office", Criticality: "low"}
	london := schema.Geo{CountryISOCode: "GB", CountryName: "United Kingdom", CityName: "London"}
	telstra := schema.AS{Number: 1221, Organization: schema.ASOrg{Name: "Telstra Pty Ltd"}}
	preset := schema.Geo{CountryISOCode: "FR"}
	evs := []schema.Event{
		{Host: schema.Host{Name: "DC01"}, Source: schema.Endpoint{IP: "10.0.0.99"}, Destination: schema.Endpoint{IP: "81.2.69.142"}},
		{Host: schema.Host{IP: "10.0.1.1"}, Source: schema.Endpoint{IP: "1.128.0.1"}, Destination: schema.Endpoint{IP: "10.0.0.10"}},
		{Host: schema.Host{Name: "10.0.0.10"}, Source: schema.Endpoint{IP: "89.160.20.112"}, Destination: schema.Endpoint{IP: "81.2.69.142", Geo: preset}},
		{Host: schema.Host{Name: "unknown-host", IP: "192.168.9.9"}, Source: schema.Endpoint{IP: "not an ip"}},
		{Host: schema.Host{Hostname: "web01.corp.example"}, Source: schema.Endpoint{IP: "127.0.0.1"}, Destination: schema.Endpoint{IP: "192.0.2.1"}},
	}
	e.Enrich(evs)
	want := []schema.Event{
		{Host: schema.Host{Name: "DC01", Asset: dc}, Source: schema.Endpoint{IP: "10.0.0.99", Asset: office},
			Destination: schema.Endpoint{IP: "81.2.69.142", Geo: london}},
		{Host: schema.Host{IP: "10.0.1.1", Asset: web}, Source: schema.Endpoint{IP: "1.128.0.1", AS: telstra},
			Destination: schema.Endpoint{IP: "10.0.0.10", Asset: dc}},
		{Host: schema.Host{Name: "10.0.0.10", Asset: dc}, Source: schema.Endpoint{IP: "89.160.20.112"},
			Destination: schema.Endpoint{IP: "81.2.69.142", Geo: preset}},
		{Host: schema.Host{Name: "unknown-host", IP: "192.168.9.9"}, Source: schema.Endpoint{IP: "not an ip"}},
		{Host: schema.Host{Hostname: "web01.corp.example", Asset: web}, Source: schema.Endpoint{IP: "127.0.0.1"},
			Destination: schema.Endpoint{IP: "192.0.2.1"}},
	}
	for i := range want {
		g, w := evs[i], want[i]
		if g.Host != w.Host || g.Source != w.Source || g.Destination != w.Destination {
			t.Errorf("event %d:\n got %+v %+v %+v\nwant %+v %+v %+v", i, g.Host, g.Source, g.Destination, w.Host, w.Source, w.Destination)
		}
	}
	// Lookups: 81.2.69.142 and 1.128.0.1 (the preset one is skipped, 192.0.2.1
	// is documentation space but global unicast: looked up, found nothing).
	e.Enrich([]schema.Event{{Destination: schema.Endpoint{IP: "81.2.69.142"}}})
	c := e.Counters()
	if c.Events != 6 || c.Enriched != 5 || c.GeoLookups != 4 || c.CacheHits != 1 || c.GeoErrors != 0 {
		t.Fatalf("counters %+v", c)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	for name, v := range map[string]float64{"vigil_enrich_events_total": 6, "vigil_enrich_enriched_events_total": 5,
		"vigil_enrich_geoip_lookups_total": 4, "vigil_enrich_geoip_cache_hits_total": 1, "vigil_enrich_geoip_cache_entries": 3,
		"vigil_enrich_assets": 4} {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}

func TestEnrichWithoutGeoIPOrAssets(t *testing.T) {
	t.Parallel()
	e, err := New(Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	evs := []schema.Event{{Host: schema.Host{Name: "dc01"}, Destination: schema.Endpoint{IP: "81.2.69.142"}}}
	e.Enrich(evs)
	if evs[0].Host.Asset != (schema.Asset{}) || evs[0].Destination.Geo != (schema.Geo{}) || e.Counters().Enriched != 0 {
		t.Fatalf("enriched without data: %+v", evs[0])
	}
	e.SetAssets(testIndex(t))
	e.Enrich(evs)
	if evs[0].Host.Asset.ID != "DC" {
		t.Fatalf("swapped index not used: %+v", evs[0].Host)
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a logger succeeded")
	}
}

func TestReloadFollowsTheInventoryVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := statedb.Open(ctx, filepath.Join(t.TempDir(), "state.db"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := New(Options{Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	static := []asset.Static{{Address: "10.5.0.0/16", Name: "lab"}}
	for i, step := range []struct {
		write  func() error
		reload bool
		want   string
	}{
		{nil, true, "lab"},
		{nil, false, "lab"},
		{func() error {
			_, err := db.CreateAsset(ctx, statedb.Asset{Hostname: "probe", Addresses: []string{"10.5.0.7"}})
			return err
		}, true, "probe"},
		{nil, false, "probe"},
	} {
		if step.write != nil {
			if err := step.write(); err != nil {
				t.Fatal(err)
			}
		}
		did, err := e.Reload(ctx, db, static)
		if err != nil || did != step.reload {
			t.Fatalf("step %d: reload %v, %v; want %v", i, did, err, step.reload)
		}
		ent, ok := e.Assets().LookupAddr(netip.MustParseAddr("10.5.0.7"))
		if !ok || ent.Name != step.want {
			t.Fatalf("step %d: 10.5.0.7 is %+v, want %s", i, ent, step.want)
		}
	}
}

func TestGeoCacheIsBounded(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 7, 64} {
		c := newGeoCache(size)
		hot := netip.MustParseAddr("203.0.113.1")
		c.put(hot, GeoResult{Geo: schema.Geo{CountryISOCode: "XX"}})
		for i := range 1000 {
			c.put(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), GeoResult{})
			if _, ok := c.get(hot); !ok && size >= 2 {
				t.Fatalf("size %d: recently used entry evicted after %d puts", size, i)
			}
			if n := c.len(); n > max(size, 2) {
				t.Fatalf("size %d: cache holds %d", size, n)
			}
		}
	}
}

// TestEnrichConcurrentWithSwaps runs Enrich on several goroutines while
// the index is swapped, for the race detector.
func TestEnrichConcurrentWithSwaps(t *testing.T) {
	t.Parallel()
	e, err := New(Options{Assets: testIndex(t), GeoIP: openTestGeoIP(t), CacheSize: 8, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				evs := []schema.Event{{Host: schema.Host{Name: "web01"},
					Destination: schema.Endpoint{IP: fmt.Sprintf("81.2.69.%d", 140+(i+g)%20)}}}
				e.Enrich(evs)
				if evs[0].Host.Asset.ID != "WEB" {
					t.Errorf("host asset %+v", evs[0].Host.Asset)
					return
				}
			}
		}()
	}
	for range 50 {
		e.SetAssets(testIndex(t))
	}
	wg.Wait()
	if c := e.Counters(); c.Events != 800 || c.GeoLookups != 800 {
		t.Fatalf("counters %+v", c)
	}
}
