package node

import (
	"cmp"
	"context"
	"time"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/enrich"
	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/schema"
)

// buildEnricher opens the GeoIP databases, loads the asset inventory and
// the configuration's static assets, and builds the enricher every input
// passes its events through before they enter the ingest log.
func (n *Node) buildEnricher(ctx context.Context) error {
	internal, err := flow.NewSet(n.Cfg.Network.InternalNetworks)
	if err != nil {
		return err
	}
	var geo *enrich.GeoIP
	g := n.Cfg.Enrich.GeoIP
	if loc := cmp.Or(g.City, g.Country); loc != "" || g.ASN != "" {
		if geo, err = enrich.OpenGeoIP(loc, g.ASN); err != nil {
			return err
		}
		n.geo = geo
	}
	if n.Enricher, err = enrich.New(enrich.Options{GeoIP: geo, Internal: internal, CacheSize: g.CacheSize,
		Log: n.Log}); err != nil {
		return err
	}
	n.Reg.MustRegister(n.Enricher)
	if _, err := n.Enricher.Reload(ctx, n.State, n.staticAssets()); err != nil {
		n.Log.Warn("some assets could not be indexed", "err", err)
	}
	return nil
}

// staticAssets are the network section's assets.
func (n *Node) staticAssets() []asset.Static {
	var out []asset.Static
	for _, a := range n.Cfg.Network.Assets {
		out = append(out, asset.Static{Address: a.Address, Name: a.Name, Role: a.Role, Criticality: a.Criticality,
			Sensitive: a.Sensitive})
	}
	return out
}

// ReloadAssets rebuilds the asset index after the inventory changed.
func (n *Node) ReloadAssets() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.Enricher.Reload(ctx, n.State, n.staticAssets()); err != nil {
		n.Log.Warn("asset index reload", "err", err)
	}
}

// assetLookup returns the current asset index as risk's lookup.
func (n *Node) assetLookup() risk.AssetLookup {
	if n.Enricher == nil {
		return nil
	}
	return indexLookup{n.Enricher.Assets()}
}

// indexLookup finds assets by host name or address.
type indexLookup struct{ x *asset.Index }

// AssetFor implements risk.AssetLookup.
func (l indexLookup) AssetFor(host string) (schema.Asset, bool) {
	if e, ok := lookupAsset(l.x, host); ok {
		return e.Asset, true
	}
	return schema.Asset{}, false
}

// enrichingSink enriches events before they enter the ingest log, so the
// stored events and the detectors (also on a replay) see the same context.
type enrichingSink struct {
	log *ingest.Log
	e   *enrich.Enricher
}

// Submit implements ingest.Sink.
func (s enrichingSink) Submit(ctx context.Context, evs []schema.Event) error {
	s.e.Enrich(evs)
	return s.log.Submit(ctx, evs)
}

// SubmitID implements the API's sink.
func (s enrichingSink) SubmitID(ctx context.Context, key string, evs []schema.Event) error {
	s.e.Enrich(evs)
	return s.log.SubmitID(ctx, key, evs)
}

// Overloaded reports the ingest log's backpressure.
func (s enrichingSink) Overloaded() bool { return s.log.Overloaded() }

// indexLookupFunc is an asset lookup that always reads the current index.
func indexLookupFunc(n *Node) risk.AssetLookup { return currentIndex{n} }

type currentIndex struct{ n *Node }

// AssetFor implements risk.AssetLookup over the index in use now.
func (c currentIndex) AssetFor(host string) (schema.Asset, bool) {
	return indexLookup{c.n.Enricher.Assets()}.AssetFor(host)
}
