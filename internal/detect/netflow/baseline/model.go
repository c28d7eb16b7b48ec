package baseline

import (
	"time"
)

// madScale turns a MAD into a consistent estimate of the standard deviation
// of normally distributed data.
const madScale = 1.4826

// maxWeeks bounds Config.Weeks; dailySamples is how many previous days of
// the same hour of day pad the sample while fewer than N weeks exist.
const (
	maxWeeks     = 12
	dailySamples = 6
)

// hourCtx is what every entity closing the same hour shares: the hour, its
// local labels and the absolute hours of its reference samples.
type hourCtx struct {
	h      int32
	local  time.Time
	how    int // hour of week, 0 = Monday 00:00 local
	off    bool
	nWeeks int
	weeks  [maxWeeks]int32     // same local hour of week, 1..N weeks earlier
	days   [dailySamples]int32 // same local hour of day, 1..6 days earlier
}

func hourStart(h int32) time.Time { return time.Unix(int64(h)*3600, 0).UTC() }

// floorHour returns the absolute UTC hour of t (floor division).
func floorHour(t time.Time) int64 {
	s := t.Unix()
	h := s / 3600
	if s%3600 < 0 {
		h--
	}
	return h
}

// newHourCtx computes the context of absolute hour h. Reference hours are
// found on the local calendar, so that after a daylight-saving change the
// same wall-clock hour is compared.
func (a *Analyzer) newHourCtx(h int32) hourCtx {
	t := hourStart(h).In(a.loc)
	x := hourCtx{h: h, local: t, nWeeks: a.cfg.Weeks}
	x.how = hourOfWeek(t)
	x.off = !onHours(t, a.cfg.BusinessHours.Start, a.cfg.BusinessHours.End, a.days)
	y, mo, d := t.Date()
	hh, mm := t.Hour(), t.Minute()
	for k := range x.nWeeks {
		x.weeks[k] = int32(floorHour(time.Date(y, mo, d-7*(k+1), hh, mm, 0, 0, a.loc)))
	}
	for k := range dailySamples {
		x.days[k] = int32(floorHour(time.Date(y, mo, d-(k+1), hh, mm, 0, 0, a.loc)))
	}
	return x
}

// hourOfWeek returns 0 for Monday 00:00 up to 167 for Sunday 23:00.
func hourOfWeek(t time.Time) int { return (int(t.Weekday())+6)%7*24 + t.Hour() }

// label returns "Tue 14:00 UTC" for the hour's local start.
func (x *hourCtx) label() string { return x.local.Format("Mon 15:04 MST") }

// window returns "Tue 14:00–15:00 UTC" for the hour.
func (x *hourCtx) window() string {
	return x.local.Format("Mon 15:04") + "–" + x.local.Add(time.Hour).Format("15:04 MST")
}

// estimate is a robust baseline: the weighted median and MAD of the
// reference samples, and how many weekly samples there were.
type estimate struct {
	med, mad float64
	weeks    int // weekly samples found
	days     int // daily samples used (0 once N weeks exist)
	ok       bool
}

type sample struct{ v, w float64 }

// estimate computes the baseline of metric m for the hour in x from hist,
// using only hours before bound. Weekly samples weigh 1 each; while fewer
// than N (w of them) exist, the daily samples share a weight of N-w.
func (a *Analyzer) estimate(hist *history, m int, x *hourCtx, bound int32) estimate {
	var buf [maxWeeks + dailySamples]sample
	s := buf[:0]
	for _, hr := range x.weeks[:x.nWeeks] {
		if v, ok := hist.value(hr, m, bound); ok {
			s = append(s, sample{v, 1})
		}
	}
	w := len(s)
	est := estimate{weeks: w}
	if w < x.nWeeks {
		n := 0
		for _, hr := range x.days {
			if v, ok := hist.value(hr, m, bound); ok {
				s = append(s, sample{v, 0})
				n++
			}
		}
		for i := w; i < len(s); i++ {
			s[i].w = float64(x.nWeeks-w) / float64(n)
		}
		est.days = n
	}
	if len(s) == 0 {
		return est
	}
	est.med, est.mad = medianMAD(s)
	est.ok = true
	return est
}

// medianMAD returns the weighted median of s and the weighted median of
// the absolute deviations from it. s is reordered.
func medianMAD(s []sample) (med, mad float64) {
	sortSamples(s)
	med = weightedMedian(s)
	for i := range s {
		d := s[i].v - med
		if d < 0 {
			d = -d
		}
		s[i].v = d
	}
	sortSamples(s)
	return med, weightedMedian(s)
}

// weightedMedian returns the value where the cumulative weight of the
// sorted samples reaches half the total; on an exact tie between two
// samples it returns their mean (the usual median for equal weights).
func weightedMedian(s []sample) float64 {
	total := 0.0
	for _, x := range s {
		total += x.w
	}
	half, cum := total/2, 0.0
	const eps = 1e-9
	for i, x := range s {
		cum += x.w
		if cum > half+eps {
			return x.v
		}
		if cum > half-eps && i+1 < len(s) {
			return (x.v + s[i+1].v) / 2
		}
	}
	return s[len(s)-1].v
}

// sortSamples sorts by value (insertion sort: at most 18 samples).
func sortSamples(s []sample) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].v < s[j-1].v; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
