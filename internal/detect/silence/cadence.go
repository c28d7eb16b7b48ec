package silence

import (
	"math"
	"time"
)

// Gap histogram: bin 0 holds gaps under a second, bin i > 0 gaps in
// [2^((i-1)/4), 2^(i/4)) seconds, the last bin everything longer (about
// two weeks and up). Each gap is weighted by its length, so a quantile
// reads "the share of the observed time spent waiting no longer than
// this": a source that sends bursts of a hundred events once an hour has a
// p99 of an hour, not of the milliseconds inside its bursts.
const (
	gapBins       = 82
	binsPerDouble = 4
	// gapHorizon bounds the weight the histogram holds: past it, every bin
	// is halved, so old cadence fades out over a few weeks.
	gapHorizon = 14 * 24 * 3600.0
)

// cadence is a source's learned inter-arrival distribution.
type cadence struct {
	Bins  [gapBins]float64
	Total float64
	Gaps  int64
}

// gapBin returns the bin of a gap.
func gapBin(g time.Duration) int {
	s := g.Seconds()
	if s < 1 {
		return 0
	}
	i := 1 + int(math.Floor(math.Log2(s)*binsPerDouble))
	return min(i, gapBins-1)
}

// binUpper returns the upper edge of bin i.
func binUpper(i int) time.Duration {
	if i == 0 {
		return time.Second
	}
	return time.Duration(math.Pow(2, float64(i)/binsPerDouble) * float64(time.Second))
}

// add learns one gap.
func (c *cadence) add(g time.Duration) {
	if g < 0 {
		return
	}
	w := max(g.Seconds(), 1e-3)
	c.Bins[gapBin(g)] += w
	c.Total += w
	c.Gaps++
	if c.Total > gapHorizon {
		for i := range c.Bins {
			c.Bins[i] /= 2
		}
		c.Total /= 2
	}
}

// quantile returns the upper edge of the bin where the time-weighted
// distribution reaches q (0 < q ≤ 1); 0 without gaps.
func (c *cadence) quantile(q float64) time.Duration {
	if c.Total <= 0 {
		return 0
	}
	want := q * c.Total
	acc := 0.0
	for i, w := range c.Bins {
		acc += w
		if acc >= want {
			return binUpper(i)
		}
	}
	return binUpper(gapBins - 1)
}

// median returns the time-weighted median gap, the "expected cadence".
func (c *cadence) median() time.Duration { return c.quantile(0.5) }
