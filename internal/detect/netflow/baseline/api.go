package baseline

import (
	"math"
	"net/netip"
	"time"
)

// HourPoint is one hour of a host's or subnet's metric, for charts: the
// value in one of the last 168 closed hours and the baseline that applies
// to that hour of the week at its next occurrence.
type HourPoint struct {
	// Start is the hour's start (UTC); HourOfWeek its local hour of the
	// week, 0 = Monday 00:00 in the configured zone.
	Start      time.Time `json:"start"`
	HourOfWeek int       `json:"hour_of_week"`
	// Actual is the metric's value in the hour; Known is false for hours
	// before the entity's first traffic (or older than the history kept).
	Actual float64 `json:"actual"`
	Known  bool    `json:"known"`
	// Baseline and MAD are the weighted median and MAD of the samples for
	// this hour of the week (the hour itself and the weeks before it), and
	// Weeks how many weekly samples there are.
	Baseline float64 `json:"baseline"`
	MAD      float64 `json:"mad"`
	Weeks    int     `json:"weeks"`
	// AlertAbove is the least value that would raise a signal in this hour
	// of the week (for bytes_out_unexplained: an exfiltration signal before
	// weights); 0 while the entity is learning or has no baseline.
	AlertAbove float64 `json:"alert_above"`
}

// Baseline returns the last 168 closed hours of metric (one of Metrics)
// for an internal host, oldest first, with the baseline of each hour of
// the week; nil for an unknown host or metric. It is safe to call while
// the engine runs.
func (a *Analyzer) Baseline(host netip.Addr, metric string) []HourPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.hosts[keyOf(host.Unmap())]
	if e == nil {
		return nil
	}
	return a.points(e, metric)
}

// SubnetBaseline is Baseline for a subnet (its prefix at the configured
// length, e.g. 10.1.2.0/24).
func (a *Analyzer) SubnetBaseline(subnet netip.Prefix, metric string) []HourPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.subnets[keyOf(subnet.Masked().Addr())]
	if e == nil || e.prefix != subnet.Masked() {
		return nil
	}
	return a.points(e, metric)
}

func (a *Analyzer) points(e *entity, metric string) []HourPoint {
	m := metricIndex(metric)
	if m < 0 || !a.started {
		return nil
	}
	out := make([]HourPoint, 0, 168)
	for r := a.open - 168; r < a.open; r++ {
		x := a.newHourCtx(r)
		p := HourPoint{Start: hourStart(r), HourOfWeek: x.how}
		p.Actual, p.Known = e.hist.value(r, m, a.open)
		y, mo, d := x.local.Date()
		next := int32(floorHour(time.Date(y, mo, d+7, x.local.Hour(), x.local.Minute(), 0, 0, a.loc)))
		nx := a.newHourCtx(next)
		est := a.estimate(&e.hist, m, &nx, a.open)
		if est.ok {
			p.Baseline, p.MAD, p.Weeks = est.med, est.mad, est.weeks
			if e.hist.First != noHour && next-e.hist.First >= a.learn {
				p.AlertAbove = a.alertAbove(m, est)
			}
		}
		out = append(out, p)
	}
	return out
}

// alertAbove returns the least value of metric m that passes every test
// against est.
func (a *Analyzer) alertAbove(m int, est estimate) float64 {
	if m == mUnexplained {
		div := math.Max(est.med, float64(a.cfg.Exfil.Floor))
		return math.Max(a.threshold(est), math.Max(float64(a.cfg.Exfil.MinBytes), div*a.cfg.Exfil.MinFactor))
	}
	return math.Max(a.threshold(est), math.Max(a.minCur[m], math.Max(est.med, a.floor[m])*a.cfg.MinFactor))
}
