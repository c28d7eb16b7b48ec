package enrich

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// benchInventory makes n assets: hosts host00000.corp.example with one
// address each in 10.0.0.0/8, and every 100th a /24 network instead.
func benchInventory(n int) []statedb.Asset {
	crit := []string{"low", "medium", "high", "critical"}
	out := make([]statedb.Asset, n)
	for i := range out {
		a := statedb.Asset{ID: fmt.Sprintf("A%05d", i), Hostname: fmt.Sprintf("host%05d.corp.example", i),
			Role: "server", Criticality: crit[i%4]}
		if i%100 == 0 {
			a.Addresses = []string{fmt.Sprintf("10.%d.%d.0/24", 100+i/65536, (i/256)%256)}
		} else {
			a.Addresses = []string{netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()}
		}
		out[i] = a
	}
	return out
}

// benchBatch makes a batch of events like a mixed feed: half flows between
// an internal host and an external address (from a pool of 2,000, some in
// the test GeoIP databases), a quarter internal-to-internal, a quarter
// Windows-style events naming only a host.
func benchBatch(n, assets int) []schema.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	external := make([]string, 2000)
	known := []string{"81.2.69.142", "89.160.20.112", "1.128.0.1", "216.160.83.56", "2.125.160.216"}
	for i := range external {
		if i < len(known) {
			external[i] = known[i]
			continue
		}
		external[i] = netip.AddrFrom4([4]byte{byte(20 + rng.IntN(180)), byte(rng.IntN(256)), byte(rng.IntN(256)),
			byte(1 + rng.IntN(254))}).String()
	}
	internal := func() string {
		i := rng.IntN(assets * 2) // half of them not inventoried
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
	}
	evs := make([]schema.Event, n)
	for i := range evs {
		switch i % 4 {
		case 0, 1:
			evs[i].Source.IP, evs[i].Destination.IP = internal(), external[rng.IntN(len(external))]
		case 2:
			evs[i].Source.IP, evs[i].Destination.IP = internal(), internal()
		default:
			evs[i].Host.Name = fmt.Sprintf("HOST%05d", rng.IntN(assets*2))
		}
	}
	return evs
}

// BenchmarkEnrich enriches 1,000-event batches against 10,000 assets,
// without and with the City and ASN test databases; it reports ns/event.
func BenchmarkEnrich(b *testing.B) {
	const nAssets, batch = 10000, 1000
	idx, err := asset.NewIndex(benchInventory(nAssets), nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, withGeo := range []bool{false, true} {
		name := "assets"
		o := Options{Assets: idx, Log: quiet()}
		if withGeo {
			name, o.GeoIP = "assets+geoip", openTestGeoIP(b)
		}
		b.Run(name, func(b *testing.B) {
			e, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			evs := benchBatch(batch, nAssets)
			b.ReportAllocs()
			for b.Loop() {
				for i := range evs { // undo the last round, so that every round looks everything up again
					ev := &evs[i]
					ev.Host.Asset, ev.Source.Asset, ev.Destination.Asset = schema.Asset{}, schema.Asset{}, schema.Asset{}
					ev.Source.Geo, ev.Source.AS, ev.Destination.Geo, ev.Destination.AS = schema.Geo{}, schema.AS{}, schema.Geo{}, schema.AS{}
				}
				e.Enrich(evs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
			c := e.Counters()
			b.ReportMetric(float64(c.Enriched)/float64(c.Events), "enriched/event")
			b.ReportMetric(float64(c.CacheHits)/float64(max(c.GeoLookups, 1)), "cache-hit-ratio")
		})
	}
}

// BenchmarkGeoIPLookup is the cost of a cache miss: one lookup in both
// test databases.
func BenchmarkGeoIPLookup(b *testing.B) {
	g := openTestGeoIP(b)
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("89.160.20.112"),
		netip.MustParseAddr("1.128.0.1"), netip.MustParseAddr("198.51.100.7")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := g.Lookup(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkIndexBuild builds the index of 10,000 assets.
func BenchmarkIndexBuild(b *testing.B) {
	inv := benchInventory(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := asset.NewIndex(inv, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzEnrich(f *testing.F) {
	f.Add("DC01", "10.0.0.10", "81.2.69.142", "::ffff:10.0.1.1")
	f.Add("web01.corp.example.", "", "fe80::1%eth0", "89.160.20.112")
	f.Add("10.0.0.10", "x", "", "2001:2b8::1")
	idx := testIndex(f)
	e, err := New(Options{Assets: idx, GeoIP: openTestGeoIP(f), CacheSize: 16, Log: quiet()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, hostIP, src, dst string) {
		evs := []schema.Event{{Host: schema.Host{Name: host, IP: hostIP}, Source: schema.Endpoint{IP: src},
			Destination: schema.Endpoint{IP: dst}}}
		e.Enrich(evs)
		for _, ep := range []schema.Endpoint{evs[0].Source, evs[0].Destination} {
			a, err := netip.ParseAddr(ep.IP)
			if err != nil {
				if ep.Asset != (schema.Asset{}) || ep.Geo != (schema.Geo{}) || ep.AS != (schema.AS{}) {
					t.Fatalf("unparsable %q enriched: %+v", ep.IP, ep)
				}
				continue
			}
			if e.internal.Contains(a.Unmap()) && (ep.Geo != (schema.Geo{}) || ep.AS != (schema.AS{})) {
				t.Fatalf("internal %s got GeoIP data", ep.IP)
			}
			if ent, ok := idx.LookupAddr(a); ok && ep.Asset != ent.Asset {
				t.Fatalf("%s: asset %+v, index says %+v", ep.IP, ep.Asset, ent.Asset)
			}
		}
	})
}
