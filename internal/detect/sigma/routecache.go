package sigma

// maxRouteCache bounds the number of distinct routing values remembered.
const maxRouteCache = 1 << 14

// route returns the route of the state's event (nil when it belongs to no
// source). The route depends only on the values of the routing fields, so
// it is remembered by those values: most events cost one lookup.
func (e *Engine) route(st *evalState) *route {
	key := st.rkey[:0]
	for _, s := range e.routeSlots {
		v, _ := st.raw(s)
		if len(v) > 0xffff {
			return e.routeOf(st)
		}
		key = append(key, byte(len(v)>>8), byte(len(v)))
		key = append(key, v...)
	}
	st.rkey = key
	if rt, ok := (*e.routeCache.Load())[string(key)]; ok {
		return rt
	}
	rt := e.routeOf(st)
	e.cacheRoute(string(st.rkey), rt)
	return rt
}

// cacheRoute remembers the route of routing values key, with copy on
// write, until the cache is full.
func (e *Engine) cacheRoute(key string, rt *route) {
	e.routeMu.Lock()
	defer e.routeMu.Unlock()
	old := *e.routeCache.Load()
	if _, ok := old[key]; ok || len(old) >= maxRouteCache {
		return
	}
	next := make(map[string]*route, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = rt
	e.routeCache.Store(&next)
}
