package dnsanomaly

import "strings"

// splitCacheSize is how many names each generation of the split cache
// holds.
const splitCacheSize = 16384

// splitCache remembers how names split at their registered domain, since
// a public-suffix lookup costs about ten times a map lookup (and
// allocates). It holds two generations: when the current one is full it
// becomes the previous one, and names found there are carried over, so
// names in steady use stay cached while the size stays bounded.
type splitCache struct {
	cur, prev map[string]split
}

// split is where a cached name splits: reg = name[Reg:], sub =
// name[:Sub].
type split struct {
	Reg, Sub   uint8
	Registered bool
}

func newSplitCache() *splitCache {
	return &splitCache{cur: make(map[string]split, splitCacheSize)}
}

// get returns the split of s, computing and remembering it when needed.
func (c *splitCache) get(s string) (name, bool) {
	sp, ok := c.cur[s]
	if !ok {
		if sp, ok = c.prev[s]; ok {
			c.put(s, sp)
		}
	}
	if ok {
		return name{full: s, reg: s[sp.Reg:], sub: s[:sp.Sub], registered: sp.Registered}, true
	}
	n, valid := splitName(s)
	if !valid {
		return n, false
	}
	c.put(s, split{Reg: uint8(len(s) - len(n.reg)), Sub: uint8(len(n.sub)), Registered: n.registered})
	return n, true
}

func (c *splitCache) put(s string, sp split) {
	if len(c.cur) >= splitCacheSize {
		c.prev, c.cur = c.cur, make(map[string]split, splitCacheSize)
	}
	c.cur[strings.Clone(s)] = sp
}

// bytes estimates the memory the cache holds.
func (c *splitCache) bytes() int64 {
	var b int64
	for _, m := range []map[string]split{c.cur, c.prev} {
		for k := range m {
			b += int64(len(k)) + 40
		}
	}
	return b
}
