package sigma

import (
	"math/bits"
	"unsafe"
)

// skipSearch finds needles in a text by Wu and Manber's shift table: it
// looks at the last block of bytes (four, or two for short windows) of a
// window as long as the shortest needle and, unless they end the first
// bytes of some needle, skips ahead by up to the window length less the
// block length. It replaces the DFA for needle sets whose shortest needle
// is long (keywords, hashes), which it reads several bytes at a time.
// Needles are lower-case and the text is compared with ASCII letters folded
// when fold is set. Blocks are hashed with every byte's 0x20 bit set (so
// letters of either case hash alike, and a few other pairs of bytes too,
// which only costs a check).
type skipSearch struct {
	m int // window: the length of the shortest needle
	b int // block length: 4, or 2 for windows below skipWideWindow
	// shift holds, by block hash, how far the window may move; cands the
	// needles (indexes) by the hash of the block ending their window, those
	// of hash h at cands[start[h]:start[h+1]]. The tables have 1<<bits
	// entries, few enough for the needles to stay in the first-level cache.
	shift []uint8
	start []uint16
	cands []int32
	hsh   uint32 // 32 - bits: the hash is the top bits of a product
	texts []string
	ids   []int32
	fold  bool
}

const (
	skipMinBits    = 8
	skipMaxBits    = 13
	skipWideWindow = 8
	// skipMinWindow is the shortest needle for which a group uses a skip
	// search; skipMaxNeedles the most needles.
	skipMinWindow  = 6
	skipMaxNeedles = 2048
	skipMaxWindow  = 64
)

// foldByte lower-cases an ASCII letter.
func foldByte(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}

// blockHash hashes the block of k ending at text[pos].
func (k *skipSearch) blockHash(text string, pos int) uint32 {
	var w uint32
	if k.b == 4 {
		// pos >= 3 as windows are at least skipWideWindow bytes long; an
		// unaligned load, without bounds checks.
		w = *(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.StringData(text)), pos-3))
	} else {
		w = uint32(text[pos-1]) | uint32(text[pos])<<8
	}
	return (w | 0x20202020) * 0x9e3779b1 >> k.hsh
}

// newSkipSearch builds the shift table of needles (with their ids).
func newSkipSearch(needles []string, ids []int32, fold bool) *skipSearch {
	return newSkipSearchBits(needles, ids, fold, 0)
}

// newSkipSearchBits is newSkipSearch with the log2 of the table size given
// (0: chosen by the number of needles).
func newSkipSearchBits(needles []string, ids []int32, fold bool, tableBits int) *skipSearch {
	k := &skipSearch{m: skipMaxWindow, texts: needles, ids: ids, fold: fold}
	for _, s := range needles {
		k.m = min(k.m, len(s))
	}
	k.b = 2
	if k.m >= skipWideWindow {
		k.b = 4
	}
	// About one table entry in eight holds a block of a needle's window.
	tb := bits.Len(uint(8 * len(needles) * (k.m - k.b + 1)))
	tb = min(max(tb, skipMinBits), skipMaxBits)
	if tableBits > 0 {
		tb = tableBits
	}
	size := 1 << tb
	k.hsh = uint32(32 - tb)
	k.shift = make([]uint8, size)
	k.start = make([]uint16, size+1)
	for i := range k.shift {
		k.shift[i] = uint8(k.m - k.b + 1)
	}
	buckets := make([][]int32, size)
	for i, s := range needles {
		for q := k.b - 1; q < k.m; q++ {
			h := k.blockHash(s, q)
			k.shift[h] = min(k.shift[h], uint8(k.m-1-q))
		}
		h := k.blockHash(s, k.m-1)
		buckets[h] = append(buckets[h], int32(i))
	}
	for h, b := range buckets {
		k.start[h] = uint16(len(k.cands))
		k.cands = append(k.cands, b...)
	}
	k.start[size] = uint16(len(k.cands))
	return k
}

// scan reports every needle occurring in text to st. A long text is read
// as four interleaved streams: windows starting in each quarter of it, so
// that the table loads of one overlap those of the others.
func (k *skipSearch) scan(text string, st *evalState) {
	n, m := len(text), k.m
	if n < skipSplitMin {
		k.scanRange(text, m-1, n, st)
		return
	}
	// Stream j handles the windows starting in [q*j, q*(j+1)), which end
	// at positions [q*j+m-1, q*(j+1)+m-1).
	q := n / 4
	p0, p1, p2, p3 := m-1, q+m-1, 2*q+m-1, 3*q+m-1
	e0, e1, e2 := p1, p2, p3
	for p0 < e0 && p1 < e1 && p2 < e2 && p3 < n {
		h0, h1, h2, h3 := k.blockHash(text, p0), k.blockHash(text, p1), k.blockHash(text, p2), k.blockHash(text, p3)
		s0, s1, s2, s3 := k.shift[h0], k.shift[h1], k.shift[h2], k.shift[h3]
		if s0|s1|s2|s3 == 0 || s0 == 0 || s1 == 0 || s2 == 0 || s3 == 0 {
			s0, s1, s2, s3 = k.checkZero(text, p0, h0, s0, st), k.checkZero(text, p1, h1, s1, st),
				k.checkZero(text, p2, h2, s2, st), k.checkZero(text, p3, h3, s3, st)
		}
		p0 += int(s0)
		p1 += int(s1)
		p2 += int(s2)
		p3 += int(s3)
	}
	k.scanRange(text, p0, e0, st)
	k.scanRange(text, p1, e1, st)
	k.scanRange(text, p2, e2, st)
	k.scanRange(text, p3, n, st)
}

// checkZero checks the window ending at pos when its shift is zero and
// returns the shift to take.
func (k *skipSearch) checkZero(text string, pos int, h uint32, shift uint8, st *evalState) uint8 {
	if shift != 0 {
		return shift
	}
	k.check(text, pos, h, st)
	return 1
}

// skipSplitMin is the text length from which scan reads four streams.
const skipSplitMin = 256

// scanRange reports the needles whose windows end in [pos, end).
func (k *skipSearch) scanRange(text string, pos, end int, st *evalState) {
	end = min(end, len(text))
	for pos < end {
		h := k.blockHash(text, pos)
		if sh := k.shift[h]; sh != 0 {
			pos += int(sh)
			continue
		}
		k.check(text, pos, h, st)
		pos++
	}
}

// check verifies the needles whose window ends at pos with block hash h.
func (k *skipSearch) check(text string, pos int, h uint32, st *evalState) {
	start := pos - k.m + 1
	for _, c := range k.cands[k.start[h]:k.start[h+1]] {
		if s := k.texts[c]; k.equalAt(text, start, s) {
			st.hitNeedle(k.ids[c])
		}
	}
}

// equalAt reports whether text holds s at i (ASCII letters folded when the
// search folds). The bytes past the window are compared first: the window
// itself often matches (its last block did), the rest tells needles apart.
func (k *skipSearch) equalAt(text string, i int, s string) bool {
	if i+len(s) > len(text) {
		return false
	}
	t := text[i : i+len(s)]
	if !k.fold {
		return t == s
	}
	return equalFoldFrom(t, s, k.m) && equalFoldFrom(t[:k.m], s[:k.m], 0)
}

// equalFoldFrom reports whether t[from:] equals lower-case s[from:] with
// the ASCII letters of t folded.
func equalFoldFrom(t, s string, from int) bool {
	for j := from; j < len(s); j++ {
		if foldByte(t[j]) != s[j] {
			return false
		}
	}
	return true
}
