package sigma

import (
	"math/bits"
	"unsafe"
)

// strideSearch finds long needles in a text by sampling it: every
// occurrence of a needle covers a window of m bytes (the length of the
// shortest needle), and such a window holds, whole, the block of b bytes
// ending at exactly one position in every stride = m-b+1. So the search
// reads the block ending at every stride-th position and looks it up in a
// bitmap of the blocks the needles' windows hold; only a block found there
// is compared with those windows, and their needles with the text. The
// positions read do not depend on what was found before (unlike the shifts
// of a Boyer–Moore or Wu–Manber search), so the processor reads many of
// them at once. It replaces the DFA for needle sets whose shortest needle is
// long (keywords, hashes). Blocks are read with every byte's 0x20 bit set,
// so that letters of either case read alike (a few other pairs of bytes
// too, which only costs a comparison); needles are lower-case and compared
// with the text's ASCII letters folded when fold is set.
type strideSearch struct {
	m      int // window: the length of the shortest needle
	b      int // block length: 2, 4 or 8 bytes
	stride int
	// filter has a bit per block hash (the bits of fmask in its upper
	// half) of the blocks of the needles' windows; cands lists the windows
	// holding a block by the top bits of its hash from bshift, those of
	// bucket u at cands[start[u]:start[u+1]].
	filter []uint64
	fmask  uint64
	mul    uint64 // strideMul, kept in a register by the loops
	bshift uint8
	start  []uint32
	cands  []strideCand
	texts  []string
	ids    []int32
	fold   bool
}

// strideCand is a needle's window holding a block: the block (its bytes
// with the 0x20 bits set) and the offset in the needle where it ends.
// A needle's window is the run of m of its bytes least likely to occur in
// ordinary text (see rareWindow): any m bytes of a needle are in every
// occurrence of it, so they are as good a window as its first m, and rare
// ones are seldom met by chance.
type strideCand struct {
	block  uint64
	needle int32
	end    int32
}

// Stride search sizes: the filter has about strideFilterPer bits per block
// of the needles' windows, between 1<<strideMinBits and 1<<strideMaxBits;
// blocks are eight bytes from windows of strideWideWindow bytes, four from
// windows of strideMidWindow, else two. A group uses a stride search when
// its needles are at least strideMinWindow bytes long and at most
// strideMaxNeedles.
const (
	strideFilterPer  = 64
	strideMinBits    = 10
	strideMaxBits    = 17
	strideWideWindow = 20
	strideMidWindow  = 8
	strideMinWindow  = 6
	strideMaxNeedles = 2048
)

// foldByte lower-cases an ASCII letter.
func foldByte(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}

// newStrideSearch builds the search of needles (with their ids), each at
// least two bytes long.
func newStrideSearch(needles []string, ids []int32, fold bool) *strideSearch {
	k := &strideSearch{m: len(needles[0]), texts: needles, ids: ids, fold: fold, mul: strideMul}
	for _, s := range needles {
		k.m = min(k.m, len(s))
	}
	switch {
	case k.m >= strideWideWindow:
		k.b = 8
	case k.m >= strideMidWindow:
		k.b = 4
	default:
		k.b = 2
	}
	k.stride = k.m - k.b + 1
	blocks := len(needles) * k.stride
	fb := min(max(bits.Len(uint(strideFilterPer*blocks)), strideMinBits), strideMaxBits)
	bb := min(max(bits.Len(uint(blocks)), 4), fb)
	k.fmask, k.bshift = 1<<fb-1, uint8(64-bb)
	k.filter = make([]uint64, 1<<fb/64)
	buckets := make([][]strideCand, 1<<bb)
	for i, s := range needles {
		w0 := rareWindow(s, k.m)
		for end := w0 + k.b - 1; end < w0+k.m; end++ {
			w := k.blockAt(unsafe.Pointer(unsafe.StringData(s)), end)
			h := strideHash(w)
			f := h >> 32 & k.fmask
			k.filter[f>>6] |= 1 << (f & 63)
			u := h >> k.bshift
			buckets[u] = append(buckets[u], strideCand{block: w, needle: int32(i), end: int32(end)})
		}
	}
	k.start = make([]uint32, len(buckets)+1)
	for u, l := range buckets {
		k.start[u] = uint32(len(k.cands))
		k.cands = append(k.cands, l...)
	}
	k.start[len(buckets)] = uint32(len(k.cands))
	return k
}

// rareWindow returns the offset in s of its run of m bytes least likely to
// occur in ordinary text, by byteCommonness.
func rareWindow(s string, m int) int {
	best, bestScore := 0, -1
	for off := 0; off+m <= len(s); off++ {
		score := 0
		for j := off; j < off+m; j++ {
			score += byteCommonness(foldByte(s[j]))
		}
		if bestScore < 0 || score < bestScore {
			best, bestScore = off, score
		}
	}
	return best
}

// strideHash hashes a block (a multiplicative hash: its top bits).
func strideHash(w uint64) uint64 { return w * strideMul }

// strideMul is the multiplier of strideHash.
const strideMul = 0x9e3779b97f4a7c15

// blockAt reads the block ending at p[end] with the 0x20 bits set (an
// unaligned load, without bounds checks); end must be at least b-1 and
// inside the text.
func (k *strideSearch) blockAt(p unsafe.Pointer, end int) uint64 {
	p = unsafe.Add(p, end-k.b+1)
	switch k.b {
	case 8:
		return *(*uint64)(p) | 0x2020202020202020
	case 4:
		return uint64(*(*uint32)(p) | 0x20202020)
	}
	return uint64(*(*uint16)(p) | 0x2020)
}

// scan reports every needle occurring in text to st.
func (k *strideSearch) scan(text string, st *evalState) {
	if len(text) < k.m {
		return
	}
	base := unsafe.Pointer(unsafe.StringData(text))
	for p := k.b - 1; ; p += k.stride {
		var w uint64
		switch k.b {
		case 8:
			p, w = next[uint64](k, base, p, len(text))
		case 4:
			p, w = next[uint32](k, base, p, len(text))
		default:
			p, w = next[uint16](k, base, p, len(text))
		}
		if p >= len(text) {
			return
		}
		k.check(text, p, w, st)
	}
}

// block is the type of a stride search's blocks.
type block interface{ uint16 | uint32 | uint64 }

// next returns the first sampled position from p on whose block (of type
// B) is in the filter, and the block, or n. It is not inlined into scan,
// so that its loop, which calls nothing, keeps everything in registers.
//
//go:noinline
func next[B block](k *strideSearch, base unsafe.Pointer, p, n int) (int, uint64) {
	filter, mask, stride, mul := unsafe.Pointer(unsafe.SliceData(k.filter)), k.fmask, k.stride, k.mul
	back := int(unsafe.Sizeof(B(0))) - 1
	spaces := ^B(0) / 255 * 0x20 // 0x20 in every byte
	for ; p < n; p += stride {
		w := uint64(*(*B)(unsafe.Add(base, p-back)) | spaces)
		// fmask keeps the index inside the filter: no bounds check.
		if i := w * mul >> 32 & mask; *(*uint64)(unsafe.Add(filter, i>>6*8))&(1<<(i&63)) != 0 {
			return p, w
		}
	}
	return n, 0
}

// check compares the windows holding block w, which ends at text[p], with
// the text.
func (k *strideSearch) check(text string, p int, w uint64, st *evalState) {
	u := strideHash(w) >> k.bshift
	for _, c := range k.cands[k.start[u]:k.start[u+1]] {
		if c.block != w {
			continue
		}
		if i := p - int(c.end); i >= 0 && k.equalAt(text, i, k.texts[c.needle]) {
			st.hitNeedle(k.ids[c.needle])
		}
	}
}

// equalAt reports whether text holds s at i (ASCII letters folded when the
// search folds).
func (k *strideSearch) equalAt(text string, i int, s string) bool {
	return equalAt(text, i, s, k.fold)
}

// equalAt reports whether text holds s at i, with the ASCII letters of the
// text folded when fold is set (s is then lower-case).
func equalAt(text string, i int, s string, fold bool) bool {
	if i+len(s) > len(text) {
		return false
	}
	t := text[i : i+len(s)]
	if !fold {
		return t == s
	}
	for j := 0; j < len(s); j++ {
		if foldByte(t[j]) != s[j] {
			return false
		}
	}
	return true
}
