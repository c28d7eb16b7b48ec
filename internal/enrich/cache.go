package enrich

import (
	"net/netip"
	"sync"
)

// DefaultCacheSize is how many addresses' GeoIP results are cached unless
// Options.CacheSize says otherwise.
const DefaultCacheSize = 65536

// geoCache is a bounded cache of GeoIP results by address, safe for
// concurrent use. It keeps two generations: lookups hit either, a hit in
// the old one moves the entry to the current one, and when the current
// generation fills up it becomes the old one and the previous old one is
// dropped. Recently used addresses therefore stay, and it never holds more
// than its size.
type geoCache struct {
	mu       sync.Mutex
	cur, old map[netip.Addr]GeoResult
	half     int
}

// newGeoCache returns a cache of at most size entries (at least 2).
func newGeoCache(size int) *geoCache {
	half := max(size/2, 1)
	return &geoCache{cur: make(map[netip.Addr]GeoResult, half), half: half}
}

// get returns the cached result of a.
func (c *geoCache) get(a netip.Addr) (GeoResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.cur[a]; ok {
		return r, true
	}
	r, ok := c.old[a]
	if ok {
		delete(c.old, a)
		c.putLocked(a, r)
	}
	return r, ok
}

// put caches the result of a.
func (c *geoCache) put(a netip.Addr, r GeoResult) {
	c.mu.Lock()
	c.putLocked(a, r)
	c.mu.Unlock()
}

// putLocked is put with c.mu held.
func (c *geoCache) putLocked(a netip.Addr, r GeoResult) {
	if _, ok := c.cur[a]; !ok && len(c.cur) >= c.half {
		c.old = c.cur
		c.cur = make(map[netip.Addr]GeoResult, c.half)
	}
	c.cur[a] = r
}

// len returns how many results are cached.
func (c *geoCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
