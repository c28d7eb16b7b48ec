package beacon

import (
	"math"
	"slices"
	"time"
)

// spanMinBins is how many bins a span judgement aims for: its bins are
// narrowed (down to BinMinConnections periods) until the active span holds
// at least this many.
const spanMinBins = 6

// judgement is a pair's histogram and duration scores as judged over one
// stretch of time: the window, or the pair's active span.
type judgement struct {
	span                       bool  // judged over the active span, not the window
	binWidth                   int64 // seconds
	bins, nonEmpty, longestRun int
	cv, cvScore, bimodal       float64
	histScore                  float64
	need, ideal                int64 // duration_min and duration_ideal as applied, seconds
	consistency                float64
	durScore                   float64
}

// secs is d in whole seconds.
func secs(d time.Duration) int64 { return int64(d / time.Second) }

// histogramScore fills the histogram and duration scores. They are judged
// over the window (bins ending at the boundary) and, when the pair
// qualifies (see spanNeed), over its active span (bins from its first
// connection); the judgement with the higher weighted sum counts, the
// window's on a tie.
func (s *scorer) histogramScore(r *result, conns []uint64, winStart, end int64) {
	cfg := s.cfg
	if end > winStart {
		r.coverage = min(1, float64(r.last-r.first)/float64(end-winStart))
	}
	r.activeSpan = r.last - r.first
	if r.activeSpan > 0 {
		r.fill = r.q2 * float64(len(s.ivals)) / float64(r.activeSpan)
	}
	unit := secs(cfg.HistogramBin)
	minBin := int64(math.Ceil(float64(cfg.BinMinConnections) * r.q2)) // bin_min_connections samples
	w := unit * max(1, (minBin+unit-1)/unit)
	win := judgement{binWidth: w, need: secs(cfg.DurationMin), ideal: secs(cfg.DurationIdeal)}
	if nb := (end - winStart) / w; nb >= 1 {
		s.judge(&win, r, conns, end-nb*w, nb)
	}
	r.judgement = win
	need, ideal, ok := s.spanNeed(r)
	if !ok {
		return
	}
	sp := judgement{span: true, need: need, ideal: ideal,
		binWidth: max(minBin, min(w, r.activeSpan/spanMinBins), 1)}
	s.judge(&sp, r, conns, r.first, r.activeSpan/sp.binWidth)
	wt := cfg.Weights
	if wt.Histogram*sp.histScore+wt.Duration*sp.durScore > wt.Histogram*win.histScore+wt.Duration*win.durScore {
		r.judgement = sp
	}
}

// spanNeed returns the active span a pair needs to be judged over it (the
// scaled duration_min) and the scaled duration_ideal, and reports whether
// the pair qualifies: active_span is on, the pair's active span is at
// least need, and its median interval is at least span_min_fill of its
// mean interval (it kept connecting at its period through the span).
func (s *scorer) spanNeed(r *result) (need, ideal int64, ok bool) {
	cfg := s.cfg
	dmin := secs(cfg.DurationMin)
	need = min(dmin, max(secs(cfg.DurationFloor), int64(math.Ceil(float64(cfg.DurationPeriods)*r.period))))
	ideal = secs(cfg.DurationIdeal)
	if dmin > 0 {
		ideal = max(1, ideal*need/dmin)
	}
	ok = cfg.ActiveSpan && r.activeSpan > 0 && r.activeSpan >= need && r.fill >= cfg.SpanMinFill
	return need, ideal, ok
}

// judge counts the connections in nb bins of j.binWidth from start and
// fills j's histogram score (flatness or two-level fit) and duration score
// (coverage and consistency, once the non-empty bins cover j.need).
func (s *scorer) judge(j *judgement, r *result, conns []uint64, start, nb int64) {
	if nb < 1 {
		return
	}
	j.bins = int(nb)
	end := start + nb*j.binWidth
	s.counts = slices.Grow(s.counts[:0], j.bins)[:j.bins]
	clear(s.counts)
	for _, c := range conns {
		if t := unpackTime(c); t >= start && t < end {
			s.counts[(t-start)/j.binWidth]++
		}
	}
	run, maxc, total := 0, 0, 0
	for _, c := range s.counts {
		total += c
		maxc = max(maxc, c)
		if c == 0 {
			run = 0
			continue
		}
		j.nonEmpty++
		run++
		j.longestRun = max(j.longestRun, run)
	}
	if j.bins >= 3 && total > 0 {
		j.cv = coefVar(s.counts, total)
		j.cvScore = max(0, 1-j.cv)
	}
	j.bimodal = s.bimodalFit(j.nonEmpty, maxc)
	j.histScore = max(j.cvScore, j.bimodal)
	if int64(j.nonEmpty)*j.binWidth >= j.need {
		j.consistency = min(1, float64(int64(j.longestRun)*j.binWidth)/float64(j.ideal))
		j.durScore = max(r.coverage, j.consistency)
	}
}

// bimodalFit is the share of non-empty bins whose heights fall in the two
// most common height classes (class width: ModeSensitivity of the tallest
// bar), after leaving out BimodalOutliers bins. It tolerates beacons that
// switch between two rates (busy and idle hours).
func (s *scorer) bimodalFit(nonEmpty, maxc int) float64 {
	cfg := s.cfg
	if nonEmpty < cfg.BimodalMinBins {
		return 0
	}
	width := max(1, int(math.Ceil(float64(maxc)*cfg.ModeSensitivity)))
	s.classes = s.classes[:0]
	for _, c := range s.counts {
		if c > 0 {
			s.classes = append(s.classes, c/width)
		}
	}
	slices.Sort(s.classes)
	top1, top2, run := 0, 0, 0
	for i, c := range s.classes {
		run++
		if i+1 < len(s.classes) && s.classes[i+1] == c {
			continue
		}
		if run > top1 {
			top1, top2 = run, top1
		} else if run > top2 {
			top2 = run
		}
		run = 0
	}
	den := max(nonEmpty-cfg.BimodalOutliers, 1)
	return min(1, float64(top1+top2)/float64(den))
}
