package beacon

import (
	"math"
	"slices"
)

// minIQR is the smallest inter-quartile range (seconds for intervals, bytes
// for sizes) for which Bowley skewness is computed; below it the spread is
// too small for the skew to mean anything and it counts as 0 (symmetric).
const minIQR = 10

// minSizeBand is the smallest width, in bytes, of the band the size mode
// share is measured in.
const minSizeBand = 16

// result holds every figure of one pair's score, for the signal's facts.
type result struct {
	samples, conns, stride int
	zeroIntervals          int
	first, last            int64 // first and last connection (Unix seconds)

	period                float64 // median interval per connection, seconds
	q1, q2, q3, p5, p95   float64 // of the stored intervals
	tsSkew, tsMAD         float64
	tsSkewScore, tsMADSco float64
	tsScore               float64

	sizesKnown              bool
	sizeMedian, sizeMAD     float64
	sizeSkew, sizeMode      float64
	dsSkewScore, dsMADScore float64
	dsScore                 float64
	judgement                       // histogram and duration, as judged
	coverage                float64 // (last − first) over the window length
	activeSpan              int64   // last − first, seconds
	fill                    float64 // median over mean non-zero interval

	raw        float64 // weighted total before prevalence
	prevHosts  int
	population int
	prevFactor float64
	total      float64
}

// jitter is half the 5th-95th percentile spread of the intervals relative
// to their median: ±20% uniform jitter reads about ±18%.
func (r *result) jitter() float64 {
	if r.q2 <= 0 {
		return 0
	}
	return (r.p95 - r.p5) / 2 / r.q2
}

// scorer computes scores with reusable scratch buffers. It is not safe for
// concurrent use.
type scorer struct {
	cfg     *Config
	ivals   []uint32
	sizes   []uint32
	counts  []int
	classes []int
}

// score rates the sorted packed connections of one pair inside
// [winStart, end). stride is how many connections each sample stands for.
// It reports false when there are fewer than three non-zero intervals.
func (s *scorer) score(conns []uint64, stride int, winStart, end int64) (result, bool) {
	r := result{samples: len(conns), conns: len(conns) * stride, stride: stride,
		first: unpackTime(conns[0]), last: unpackTime(conns[len(conns)-1])}
	s.ivals, s.sizes = s.ivals[:0], s.sizes[:0]
	for i, c := range conns {
		s.sizes = append(s.sizes, unpackSize(c))
		if i == 0 {
			continue
		}
		d := unpackTime(c) - unpackTime(conns[i-1])
		if d <= 0 {
			r.zeroIntervals++
			continue
		}
		s.ivals = append(s.ivals, uint32(min(d, math.MaxUint32)))
	}
	if len(s.ivals) < 3 {
		return r, false
	}
	s.timestampScore(&r)
	s.sizeScore(&r)
	s.histogramScore(&r, conns, winStart, end)
	w := s.cfg.Weights
	num := w.Timestamp*r.tsScore + w.Histogram*r.histScore + w.Duration*r.durScore
	den := w.Timestamp + w.Histogram + w.Duration
	if r.sizesKnown {
		num += w.Size * r.dsScore
		den += w.Size
	}
	r.raw = num / den
	return r, true
}

// timestampScore: the mean of the Bowley-skew score and the MAD score of
// the intervals.
func (s *scorer) timestampScore(r *result) {
	slices.Sort(s.ivals)
	x := s.ivals
	r.p5, r.q1, r.q2, r.q3, r.p95 = quantile(x, 0.05), quantile(x, 0.25), quantile(x, 0.5), quantile(x, 0.75), quantile(x, 0.95)
	r.period = r.q2 / float64(r.stride)
	r.tsSkew = bowley(r.q1, r.q2, r.q3)
	r.tsSkewScore = 1 - math.Abs(r.tsSkew)
	r.tsMAD = madSorted(x, r.q2)
	r.tsMADSco = madScore(r.tsMAD, r.q2)
	r.tsScore = (r.tsSkewScore + r.tsMADSco) / 2
}

// sizeScore: the mean of the Bowley-skew score, the MAD score and the
// mode share of the connection sizes. Sizes are unknown (all zero) for
// name pairs, which carry no counters; the component is then left out.
func (s *scorer) sizeScore(r *result) {
	x := s.sizes
	slices.Sort(x)
	if x[len(x)-1] == 0 {
		return
	}
	r.sizesKnown = true
	q1, q2, q3 := quantile(x, 0.25), quantile(x, 0.5), quantile(x, 0.75)
	r.sizeMedian = q2
	r.sizeSkew = bowley(q1, q2, q3)
	r.dsSkewScore = 1 - math.Abs(r.sizeSkew)
	r.sizeMAD = madSorted(x, q2)
	r.dsMADScore = madScore(r.sizeMAD, q2)
	r.sizeMode = densestShare(x, uint32(max(minSizeBand, q2/20)))
	r.dsScore = (r.dsSkewScore + r.dsMADScore + r.sizeMode) / 3
}

// quantile is the p-quantile of sorted x by linear interpolation between
// order statistics (Hyndman-Fan type 7).
func quantile(x []uint32, p float64) float64 {
	h := float64(len(x)-1) * p
	i := int(h)
	if i >= len(x)-1 {
		return float64(x[len(x)-1])
	}
	return float64(x[i]) + (h-float64(i))*(float64(x[i+1])-float64(x[i]))
}

// bowley is the quartile skewness (Q1+Q3-2·Q2)/(Q3-Q1), or 0 when the
// inter-quartile range is under minIQR or the median sits on a quartile.
func bowley(q1, q2, q3 float64) float64 {
	den := q3 - q1
	if den < minIQR || q2 == q1 || q2 == q3 {
		return 0
	}
	return max(-1, min(1, (q1+q3-2*q2)/den))
}

// madScore is 1 - MAD/median, floored at 0 (0 when the median is under 1).
func madScore(mad, median float64) float64 {
	if median < 1 {
		return 0
	}
	return max(0, 1-mad/median)
}

// madSorted is the median absolute deviation of sorted x about m, found by
// merging the deviations on either side of m in increasing order.
func madSorted(x []uint32, m float64) float64 {
	n := len(x)
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if float64(x[mid]) < m {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i, j := lo-1, lo
	var a, b float64
	for k := 0; k <= n/2; k++ {
		var d float64
		if i >= 0 && (j >= n || m-float64(x[i]) <= float64(x[j])-m) {
			d = m - float64(x[i])
			i--
		} else {
			d = float64(x[j]) - m
			j++
		}
		if k == (n-1)/2 {
			a = d
		}
		if k == n/2 {
			b = d
		}
	}
	return (a + b) / 2
}

// densestShare is the largest share of sorted x that lies within a band
// of the given width.
func densestShare(x []uint32, width uint32) float64 {
	best, i := 0, 0
	for j := range x {
		for x[j]-x[i] > width {
			i++
		}
		best = max(best, j-i+1)
	}
	return float64(best) / float64(len(x))
}

// coefVar is the coefficient of variation (population standard deviation
// over the mean) of counts summing to total.
func coefVar(counts []int, total int) float64 {
	mean := float64(total) / float64(len(counts))
	var ss float64
	for _, c := range counts {
		d := float64(c) - mean
		ss += d * d
	}
	return math.Sqrt(ss/float64(len(counts))) / mean
}
