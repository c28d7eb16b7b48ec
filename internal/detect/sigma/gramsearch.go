package sigma

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
)

// gramSearch finds a large set of needles in short texts with a small
// memory footprint, where a DFA's tables would not stay in the cache: each
// needle is anchored on one of its grams, and one pass over the text tests
// every position against three small filters (byte table, 2-gram bitmap,
// 4-gram Bloom filter) that stay in the cache; a needle is compared with
// the text only when its anchor occurs there.
//
// Needles of one byte are found by a table on the byte; of two or three
// bytes by their first two bytes (an exact 2-gram bitmap); longer ones by
// their rarest 4-gram (a Bloom filter on its hash, then a table of the
// grams and the needles anchored on them). Grams are read with every
// byte's 0x20 bit set, so that letters of either case read alike (a few
// other pairs of bytes too, which only costs a comparison).
type gramSearch struct {
	texts []string
	ids   []int32
	fold  bool

	one     [256]bool // folded bytes that are one-byte needles
	oneList [][]int32 // by folded byte
	two     [1 << 16 / 64]uint64
	twoTab  gramTable // needles of two or three bytes by their first two
	bloom   [1 << gramBloomBits / 64]uint64
	four    gramTable // longer needles by their anchor
	has1    bool
	has2    bool
	has4    bool
}

// gramBloomBits is log2 of the 4-gram Bloom filter's size in bits.
const gramBloomBits = 17

// gramEntry is a needle anchored on a 4-gram at off.
type gramEntry struct {
	gram   uint32
	off    int32
	needle int32
}

// gramTable holds gram entries sorted by gram, indexed by an
// open-addressing table from a gram (keys) to its run of entries
// (entries[runs[i]:ends[i]]; runs[i] < 0 marks a free slot).
type gramTable struct {
	entries []gramEntry
	keys    []uint32
	runs    []int32
	ends    []int32
	mask    uint32
}

// newGramSearch builds the search of needles (lower-case, with their ids).
func newGramSearch(needles []string, ids []int32, fold bool) *gramSearch {
	g := &gramSearch{texts: needles, ids: ids, fold: fold, oneList: make([][]int32, 256)}
	usage := map[uint32]int{}
	var entries, twos []gramEntry
	order := make([]int, len(needles))
	for i := range order {
		order[i] = i
	}
	// Anchor short needles first, so long ones can avoid their grams.
	slices.SortStableFunc(order, func(a, b int) int { return len(needles[a]) - len(needles[b]) })
	for _, i := range order {
		s := needles[i]
		switch {
		case len(s) == 1:
			c := s[0] | 0x20
			g.one[c], g.has1 = true, true
			g.oneList[c] = append(g.oneList[c], int32(i))
		case len(s) <= 3:
			k := uint16(s[0]|0x20) | uint16(s[1]|0x20)<<8
			g.two[k>>6] |= 1 << (k & 63)
			twos = append(twos, gramEntry{gram: uint32(k), needle: int32(i)})
			g.has2 = true
		default:
			off := bestGram(s, usage)
			w := gramAt(s, off)
			usage[w]++
			h := gramHash(w)
			g.bloom[h>>6] |= 1 << (h & 63)
			entries = append(entries, gramEntry{gram: w, off: int32(off), needle: int32(i)})
			g.has4 = true
		}
	}
	g.four = newGramTable(entries)
	g.twoTab = newGramTable(twos)
	return g
}

// gramAt reads the folded 4-gram of s at i.
func gramAt(s string, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[i:]), 4)) | 0x20202020
}

// gramHash hashes a 4-gram into the Bloom filter.
func gramHash(w uint32) uint32 { return w * 0x9e3779b1 >> (32 - gramBloomBits) }

// bestGram picks the offset of the 4-gram of s least likely to occur in
// ordinary text (by byteCommonness) and least used as an anchor already.
func bestGram(s string, usage map[uint32]int) int {
	best, bestScore := 0, -1
	for off := 0; off+4 <= len(s); off++ {
		score := 8 * usage[gramAt(s, off)]
		for j := off; j < off+4; j++ {
			score += byteCommonness(s[j])
		}
		if bestScore < 0 || score < bestScore {
			best, bestScore = off, score
		}
	}
	return best
}

// byteCommonness rates how common a (lower-case) byte is in Windows command
// lines, paths and messages: 0 for rare bytes up to 9 for the commonest.
func byteCommonness(c byte) int {
	switch c {
	case ' ', 'e', '\\', 's', 't', 'o', 'i', 'a', 'r', 'n':
		return 9
	case '.', 'c', 'l', 'm', 'd', 'p', 'w', 'u', ':', '-', '/', '"':
		return 7
	case 'h', 'g', 'f', 'b', 'x', 'y', 'v', '0', '1', '2', '3', '_', '=', ',':
		return 5
	case '4', '5', '6', '7', '8', '9', 'k', '(', ')', '\'', ';':
		return 3
	}
	return 0
}

// newGramTable indexes entries by gram.
func newGramTable(entries []gramEntry) gramTable {
	slices.SortFunc(entries, func(a, b gramEntry) int {
		if a.gram != b.gram {
			if a.gram < b.gram {
				return -1
			}
			return 1
		}
		return int(a.needle - b.needle)
	})
	var distinct []uint32
	for i, e := range entries {
		if i == 0 || e.gram != entries[i-1].gram {
			distinct = append(distinct, e.gram)
		}
	}
	size := 1 << bits.Len(uint(2*len(distinct)+1))
	t := gramTable{entries: entries, keys: make([]uint32, size), runs: make([]int32, size),
		ends: make([]int32, size), mask: uint32(size - 1)}
	for i := range t.runs {
		t.runs[i] = -1
	}
	for i := 0; i < len(entries); {
		j := i
		for j < len(entries) && entries[j].gram == entries[i].gram {
			j++
		}
		slot := gramSlot(entries[i].gram) & t.mask
		for t.runs[slot] >= 0 {
			slot = (slot + 1) & t.mask
		}
		t.keys[slot], t.runs[slot], t.ends[slot] = entries[i].gram, int32(i), int32(j)
		i = j
	}
	return t
}

func gramSlot(w uint32) uint32 { return (w * 0x85ebca6b) ^ (w >> 13) }

// lookup returns the entries anchored on gram w.
func (t *gramTable) lookup(w uint32) []gramEntry {
	for slot := gramSlot(w) & t.mask; t.runs[slot] >= 0; slot = (slot + 1) & t.mask {
		if t.keys[slot] == w {
			return t.entries[t.runs[slot]:t.ends[slot]]
		}
	}
	return nil
}

// scan reports every needle occurring in text to st.
func (g *gramSearch) scan(text string, st *evalState) {
	n := len(text)
	b := unsafe.Slice(unsafe.StringData(text), n)
	i := 0
	for ; i+4 <= n; i++ {
		w := binary.LittleEndian.Uint32(b[i:]) | 0x20202020
		if g.has1 && g.one[byte(w)] {
			g.check1(text, i, byte(w), st)
		}
		if k := uint16(w); g.has2 && g.two[k>>6]&(1<<(k&63)) != 0 {
			g.check(text, i, g.twoTab.lookup(uint32(k)), st)
		}
		if h := gramHash(w); g.has4 && g.bloom[h>>6]&(1<<(h&63)) != 0 {
			g.check(text, i, g.four.lookup(w), st)
		}
	}
	for ; i < n; i++ {
		c := b[i] | 0x20
		if g.has1 && g.one[c] {
			g.check1(text, i, c, st)
		}
		if i+1 < n {
			if k := uint16(c) | uint16(b[i+1]|0x20)<<8; g.has2 && g.two[k>>6]&(1<<(k&63)) != 0 {
				g.check(text, i, g.twoTab.lookup(uint32(k)), st)
			}
		}
	}
}

// check1 verifies the one-byte needles of folded byte c at text[i].
func (g *gramSearch) check1(text string, i int, c byte, st *evalState) {
	for _, n := range g.oneList[c] {
		if g.equalAt(text, i, g.texts[n]) {
			st.hitNeedle(g.ids[n])
		}
	}
}

// check verifies needles anchored at text[i].
func (g *gramSearch) check(text string, i int, es []gramEntry, st *evalState) {
	for _, e := range es {
		if start := i - int(e.off); start >= 0 && g.equalAt(text, start, g.texts[e.needle]) {
			st.hitNeedle(g.ids[e.needle])
		}
	}
}

// equalAt reports whether text holds s at i (ASCII letters folded when the
// search folds).
func (g *gramSearch) equalAt(text string, i int, s string) bool {
	return equalAt(text, i, s, g.fold)
}

// size returns the search's approximate memory in bytes.
//
//nolint:unused // memory accounting for the engine metrics
func (g *gramSearch) size() int {
	n := len(g.two)*8 + len(g.bloom)*8 + 256
	for _, t := range []*gramTable{&g.twoTab, &g.four} {
		n += 12*len(t.entries) + 12*len(t.keys)
	}
	return n
}
