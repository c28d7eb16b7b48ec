package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Options configure an Enricher.
type Options struct {
	// Assets is the initial asset index (nil: none until SetAssets).
	Assets *asset.Index
	// GeoIP adds location and AS data to external addresses (nil: none).
	GeoIP *GeoIP
	// Internal are the organisation's networks; addresses inside get no
	// GeoIP lookup (nil: flow.DefaultInternal).
	Internal *flow.Set
	// CacheSize bounds the GeoIP results cached by address (0:
	// DefaultCacheSize).
	CacheSize int
	// Log receives GeoIP lookup failures at debug level.
	Log *slog.Logger
}

// Enricher adds asset, location and AS data to events. It is safe for
// concurrent use; the asset index can be swapped while it runs.
type Enricher struct {
	assets   atomic.Pointer[asset.Index]
	geo      *GeoIP
	internal *flow.Set
	cache    *geoCache
	log      *slog.Logger
	descs    descs

	// reloadMu serialises Reload; version is the inventory version of the
	// loaded index (-1: none loaded by Reload).
	reloadMu sync.Mutex
	version  atomic.Int64

	events, enriched, geoLookups, cacheHits, geoErrors atomic.Uint64
}

// New returns an Enricher.
func New(o Options) (*Enricher, error) {
	if o.Log == nil {
		return nil, errors.New("enrich: nil logger")
	}
	if o.Internal == nil {
		var err error
		if o.Internal, err = flow.NewSet(flow.DefaultInternal()); err != nil {
			return nil, fmt.Errorf("enrich: default internal networks: %w", err)
		}
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	e := &Enricher{geo: o.GeoIP, internal: o.Internal, cache: newGeoCache(o.CacheSize), log: o.Log,
		descs: newDescs()}
	e.assets.Store(o.Assets)
	e.version.Store(-1)
	return e, nil
}

// SetAssets swaps in a new asset index; events enriched afterwards use it.
func (e *Enricher) SetAssets(x *asset.Index) { e.assets.Store(x) }

// Assets returns the asset index in use (nil when none).
func (e *Enricher) Assets() *asset.Index { return e.assets.Load() }

// AssetStore is where Reload reads the inventory; *statedb.DB is one.
type AssetStore interface {
	Assets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error)
	AssetsVersion(ctx context.Context) (int64, error)
}

// Reload rebuilds the asset index from the inventory and the static
// entries when the inventory's version changed since the last Reload, and
// reports whether it did. Bad static entries are reported in the error
// while the index of the rest is swapped in; on a database error the index
// in use is kept.
func (e *Enricher) Reload(ctx context.Context, st AssetStore, static []asset.Static) (bool, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	v, err := st.AssetsVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("enrich: reload assets: %w", err)
	}
	if v == e.version.Load() {
		return false, nil
	}
	x, err := asset.Load(ctx, st, static)
	if x == nil {
		return false, fmt.Errorf("enrich: reload assets: %w", err)
	}
	e.assets.Store(x)
	e.version.Store(v)
	return true, err
}

// Enrich fills, for each event, host.asset.* (by host.name or
// host.hostname, else host.ip), source.asset.* and destination.asset.* (by
// address), and for source and destination addresses outside the internal
// networks that are public unicast addresses, *.geo.* and *.as.* from
// GeoIP unless the event has them already. Asset fields are replaced when
// the index knows the host or address and left alone otherwise.
func (e *Enricher) Enrich(evs []schema.Event) {
	idx := e.assets.Load()
	var b batchCounts
	for i := range evs {
		ev := &evs[i]
		hit := false
		if ent, ok := hostAsset(idx, &ev.Host); ok {
			ev.Host.Asset = ent.Asset
			hit = true
		}
		hit = e.endpoint(idx, &ev.Source, &b) || hit
		hit = e.endpoint(idx, &ev.Destination, &b) || hit
		if hit {
			b.enriched++
		}
	}
	e.events.Add(uint64(len(evs)))
	e.enriched.Add(b.enriched)
	e.geoLookups.Add(b.lookups)
	e.cacheHits.Add(b.hits)
	e.geoErrors.Add(b.errors)
}

// batchCounts are one Enrich call's counters, added to the totals once.
type batchCounts struct {
	enriched, lookups, hits, errors uint64
}

// hostAsset finds the asset of an event's host.
func hostAsset(idx *asset.Index, h *schema.Host) (*asset.Entry, bool) {
	if idx == nil {
		return nil, false
	}
	for _, name := range [2]string{h.Name, h.Hostname} {
		if name == "" {
			continue
		}
		if a, ok := asset.ParseAddr(name); ok {
			if ent, ok := idx.LookupAddr(a); ok {
				return ent, true
			}
			continue
		}
		if ent, ok := idx.LookupHost(name); ok {
			return ent, true
		}
	}
	if a, ok := asset.ParseAddr(h.IP); ok {
		return idx.LookupAddr(a)
	}
	return nil, false
}

// endpoint enriches a source or destination and reports whether it added
// anything.
func (e *Enricher) endpoint(idx *asset.Index, ep *schema.Endpoint, b *batchCounts) bool {
	a, ok := asset.ParseAddr(ep.IP)
	if !ok {
		return false
	}
	hit := false
	if ent, ok := idx.LookupAddr(a); ok {
		ep.Asset = ent.Asset
		hit = true
	}
	if e.geo == nil || !external(a) || e.internal.Contains(a) || ep.Geo != (schema.Geo{}) || ep.AS != (schema.AS{}) {
		return hit
	}
	res, ok := e.geoLookup(a, b)
	if !ok {
		return hit
	}
	ep.Geo, ep.AS = res.Geo, res.AS
	return hit || res != (GeoResult{})
}

// external reports whether a is a public unicast address worth a GeoIP
// lookup.
func external(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate()
}

// geoLookup returns a's GeoIP result from the cache or the databases.
func (e *Enricher) geoLookup(a netip.Addr, b *batchCounts) (GeoResult, bool) {
	b.lookups++
	if r, ok := e.cache.get(a); ok {
		b.hits++
		return r, true
	}
	r, err := e.geo.Lookup(a)
	if err != nil {
		b.errors++
		e.log.Debug("GeoIP lookup failed", "addr", a, "err", err)
		return GeoResult{}, false
	}
	e.cache.put(a, r)
	return r, true
}

// Counters are the Enricher's totals since it was made.
type Counters struct {
	// Events counts the events passed to Enrich; Enriched those that got
	// at least one field.
	Events, Enriched uint64
	// GeoLookups counts the GeoIP lookups asked for, CacheHits those the
	// cache answered, GeoErrors those that failed.
	GeoLookups, CacheHits, GeoErrors uint64
}

// Counters returns the totals.
func (e *Enricher) Counters() Counters {
	return Counters{Events: e.events.Load(), Enriched: e.enriched.Load(), GeoLookups: e.geoLookups.Load(),
		CacheHits: e.cacheHits.Load(), GeoErrors: e.geoErrors.Load()}
}

// descs are the metric descriptions of the Enricher's collector.
type descs struct {
	events, enriched, lookups, hits, errors, cached, assets *prometheus.Desc
}

// newDescs describes the Enricher's metrics.
func newDescs() descs {
	return descs{
		events:   prometheus.NewDesc("vigil_enrich_events_total", "Events passed through enrichment.", nil, nil),
		enriched: prometheus.NewDesc("vigil_enrich_enriched_events_total", "Events that got asset, location or AS fields.", nil, nil),
		lookups:  prometheus.NewDesc("vigil_enrich_geoip_lookups_total", "GeoIP lookups of external addresses (cached or not).", nil, nil),
		hits:     prometheus.NewDesc("vigil_enrich_geoip_cache_hits_total", "GeoIP lookups answered by the cache.", nil, nil),
		errors:   prometheus.NewDesc("vigil_enrich_geoip_errors_total", "GeoIP lookups that failed.", nil, nil),
		cached:   prometheus.NewDesc("vigil_enrich_geoip_cache_entries", "Addresses in the GeoIP cache.", nil, nil),
		assets:   prometheus.NewDesc("vigil_enrich_assets", "Assets in the enrichment index (inventory and configuration).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (e *Enricher) Describe(ch chan<- *prometheus.Desc) {
	d := &e.descs
	for _, d := range []*prometheus.Desc{d.events, d.enriched, d.lookups, d.hits, d.errors, d.cached, d.assets} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Enricher) Collect(ch chan<- prometheus.Metric) {
	c, d := e.Counters(), &e.descs
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{{d.events, c.Events}, {d.enriched, c.Enriched}, {d.lookups, c.GeoLookups}, {d.hits, c.CacheHits},
		{d.errors, c.GeoErrors}} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
	ch <- prometheus.MustNewConstMetric(d.cached, prometheus.GaugeValue, float64(e.cache.len()))
	ch <- prometheus.MustNewConstMetric(d.assets, prometheus.GaugeValue, float64(e.Assets().Len()))
}
