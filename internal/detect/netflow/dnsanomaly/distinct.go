package dnsanomaly

import (
	"math"
	"math/bits"
	"slices"
)

// exactLimit is how many distinct values a counter keeps exactly before it
// switches to a HyperLogLog sketch.
const exactLimit = 64

// hllBits is the sketch's precision: 2^10 registers (1 KiB), a standard
// error of about 3.3%.
const hllBits = 10

// distinct counts distinct 64-bit hashes: exactly up to exactLimit, then
// with a HyperLogLog sketch.
type distinct struct {
	exact []uint64
	hll   []uint8
}

// add counts h and reports whether it is known to be new (always false
// once the counter is a sketch).
func (d *distinct) add(h uint64) bool {
	if d.hll != nil {
		d.addHLL(h)
		return false
	}
	if slices.Contains(d.exact, h) {
		return false
	}
	if len(d.exact) < exactLimit {
		d.exact = append(d.exact, h)
		return true
	}
	d.hll = make([]uint8, 1<<hllBits)
	for _, x := range d.exact {
		d.addHLL(x)
	}
	d.exact = nil
	d.addHLL(h)
	return false
}

func (d *distinct) addHLL(h uint64) {
	i := h >> (64 - hllBits)
	rank := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1)) + 1)
	if rank > d.hll[i] {
		d.hll[i] = rank
	}
}

// exactMode reports whether the count is exact.
func (d *distinct) exactMode() bool { return d.hll == nil }

// count returns the (estimated) number of distinct hashes.
func (d *distinct) count() float64 {
	if d.hll == nil {
		return float64(len(d.exact))
	}
	m := float64(len(d.hll))
	var sum float64
	zeros := 0
	for _, r := range d.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting for small counts
	}
	return est
}

// bytes estimates the memory the counter holds.
func (d *distinct) bytes() int64 { return int64(cap(d.exact))*8 + int64(cap(d.hll)) }

// hash64 is FNV-1a followed by a 64-bit finaliser (from MurmurHash3), so
// that every bit of the result depends on every input byte. It is stable
// across processes, which saved state relies on.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// textStats are the character statistics of one string.
type textStats struct {
	entropy          float64 // Shannon entropy, bits per character
	letters, vowels  int
	digits           int
	maxConsonantRun  int
	labels, maxLabel int
	labelChars       int // characters in labels (dots excluded)
}

// entropyTable holds c·log2(c) and log2(c) for the character counts and
// lengths a name can have.
type entropyTable struct {
	clog, log [256]float64
}

func newEntropyTable() *entropyTable {
	var t entropyTable
	for c := 1; c < len(t.clog); c++ {
		t.log[c] = math.Log2(float64(c))
		t.clog[c] = float64(c) * t.log[c]
	}
	return &t
}

// stats computes the statistics of s (at most 255 bytes; dots separate
// labels and are not counted as characters). counts is scratch space that
// is left zeroed.
func (t *entropyTable) stats(s string, counts *[256]uint8) textStats {
	var st textStats
	run, label := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			st.labels++
			st.maxLabel = max(st.maxLabel, label)
			label, run = 0, 0
			continue
		}
		label++
		st.labelChars++
		counts[c]++
		switch {
		case c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u':
			st.letters++
			st.vowels++
			run = 0
		case c >= 'a' && c <= 'z':
			st.letters++
			run++
			st.maxConsonantRun = max(st.maxConsonantRun, run)
		case c >= '0' && c <= '9':
			st.digits++
			run = 0
		default:
			run = 0
		}
	}
	if len(s) > 0 {
		st.labels++
		st.maxLabel = max(st.maxLabel, label)
	}
	if n := st.labelChars; n > 0 {
		var sum float64
		for i := 0; i < len(s); i++ {
			if c := counts[s[i]]; c > 0 {
				sum += t.clog[c]
				counts[s[i]] = 0
			}
		}
		st.entropy = t.log[min(n, 255)] - sum/float64(n)
	}
	return st
}

// ramp maps x linearly from [lo, hi] onto [0, 1], clamped.
func ramp(x, lo, hi float64) float64 {
	if hi <= lo {
		if x >= hi {
			return 1
		}
		return 0
	}
	return max(0, min(1, (x-lo)/(hi-lo)))
}
