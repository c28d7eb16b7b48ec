package beacon

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// scoreAt scores every pair over the window ending at boundary end and
// emits, in key order, the signals of those scoring at least Severity.Low.
func (a *Analyzer) scoreAt(end int64, emit func(flow.Signal)) {
	winStart := max(end-int64(a.cfg.Window.Seconds()), a.first)
	if winStart >= end {
		return
	}
	a.out = a.out[:0]
	for k, p := range a.pairs {
		if len(p.conns)*int(p.stride) < a.cfg.MinConnections {
			continue
		}
		w := p.window(winStart, end)
		if len(w)*int(p.stride) < a.cfg.MinConnections {
			continue
		}
		a.counts.Scored++
		r, ok := a.sc.score(w, int(p.stride), winStart, end)
		if !ok {
			continue
		}
		a.applyPrevalence(&k, &r)
		if r.total < a.cfg.Severity.Low {
			continue
		}
		kk := k
		a.out = append(a.out, scored{key: &kk, p: p, r: r})
	}
	slices.SortFunc(a.out, func(x, y scored) int { return compareKeys(x.key, y.key) })
	for i := range a.out {
		emit(a.signal(&a.out[i], winStart, end))
	}
	clear(a.out)
}

// applyPrevalence scales the raw score down when the destination is
// common among internal hosts.
func (a *Analyzer) applyPrevalence(k *pairKey, r *result) {
	r.prevFactor = 1
	if a.prev != nil {
		if k.kind == kindAddr {
			r.prevHosts = a.prev.Hosts(k.dst)
		} else {
			r.prevHosts = a.prev.HostsName(k.name)
		}
		r.population = a.prev.Population()
		pc := a.cfg.Prevalence
		common := r.prevHosts >= pc.Hosts ||
			(r.population >= pc.MinPopulation && float64(r.prevHosts) >= pc.Share*float64(r.population))
		if common {
			r.prevFactor = pc.Factor
		}
	}
	r.total = math.Round(r.raw*r.prevFactor*1000) / 1000
}

func compareKeys(x, y *pairKey) int {
	return cmp.Or(cmp.Compare(x.kind, y.kind), x.src.Compare(y.src), x.dst.Compare(y.dst),
		cmp.Compare(x.port, y.port), cmp.Compare(x.name, y.name))
}

func (a *Analyzer) severity(score float64) schema.Severity {
	switch t := a.cfg.Severity; {
	case score >= t.High:
		return schema.SeverityHigh
	case score >= t.Medium:
		return schema.SeverityMedium
	}
	return schema.SeverityLow
}

// signal builds the signal of one scored pair.
func (a *Analyzer) signal(s *scored, winStart, end int64) flow.Signal {
	k, r := s.key, &s.r
	sig := flow.Signal{
		Kind: flow.SignalBeacon, Detector: Name, Host: k.src, PeerName: k.name, Port: k.port,
		Start: time.Unix(r.first, 0).UTC(), End: time.Unix(end, 0).UTC(),
		Metric: "beacon_score", Current: r.total, Score: r.total, Severity: a.severity(r.total),
		Facts: facts(r, winStart, end), Evidence: s.p.evidence(),
		Tags: []string{"attack.command_and_control", "attack.t1071"},
	}
	every := "beacon every ~" + humanPeriod(r.period) + " (±" + pct(r.jitter()) + ") from " + k.src.String()
	switch k.kind {
	case kindAddr:
		sig.Peer = k.dst
		to := k.dst.String()
		if a.cfg.PerPort {
			to = netip.AddrPortFrom(k.dst, k.port).String()
		}
		sig.Title = every + " to " + to
		sig.Key = "beacon|" + k.src.String() + "|" + k.dst.String() + "|" + strconv.Itoa(int(k.port))
		if k.port == 80 || k.port == 443 || k.port == 8080 || k.port == 8443 {
			sig.Tags = append(sig.Tags, "attack.t1071.001")
		}
	case kindApp:
		sig.Title = every + " to " + k.name
		sig.Key = "beacon|" + k.src.String() + "|name|" + k.name
		sig.Tags = append(sig.Tags, "attack.t1071.001")
	case kindDNS:
		sig.Title = "DNS " + every + " querying " + k.name
		sig.Key = "beacon|" + k.src.String() + "|dns|" + k.name
		sig.Tags = append(sig.Tags, "attack.t1071.004")
	}
	return sig
}

// facts lists every figure behind the score, in display order.
func facts(r *result, winStart, end int64) []flow.Fact {
	f := []flow.Fact{
		{Key: "period_s", Value: num(r.period, 1)},
		{Key: "jitter", Value: "±" + pct(r.jitter())},
		{Key: "interval_mad_ratio", Value: num(r.tsMAD/max(r.q2, 1), 3)},
		{Key: "connections", Value: strconv.Itoa(r.conns)},
		{Key: "samples", Value: strconv.Itoa(r.samples)},
		{Key: "sampling_stride", Value: strconv.Itoa(r.stride)},
		{Key: "window", Value: (time.Duration(end-winStart) * time.Second).String()},
		{Key: "coverage", Value: pct(r.coverage)},
		{Key: "score_timestamp", Value: num(r.tsScore, 3)},
		{Key: "interval_skew", Value: num(r.tsSkew, 3)},
		{Key: "interval_mad_s", Value: num(r.tsMAD/float64(r.stride), 1)},
		{Key: "score_size", Value: sizeScoreText(r)},
		{Key: "size_median_bytes", Value: num(r.sizeMedian, 0)},
		{Key: "size_mad_bytes", Value: num(r.sizeMAD, 0)},
		{Key: "size_mode_share", Value: pct(r.sizeMode)},
		{Key: "score_histogram", Value: num(r.histScore, 3)},
		{Key: "histogram_bin", Value: (time.Duration(r.binWidth) * time.Second).String()},
		{Key: "histogram_cv", Value: num(r.cv, 3)},
		{Key: "histogram_bimodal_fit", Value: num(r.bimodal, 3)},
		{Key: "score_duration", Value: num(r.durScore, 3)},
		{Key: "active_bins", Value: strconv.Itoa(r.nonEmpty) + "/" + strconv.Itoa(r.bins)},
		{Key: "judged_over", Value: judgedOver(r)},
		{Key: "active_span", Value: (time.Duration(r.activeSpan) * time.Second).String()},
		{Key: "span_fill", Value: num(r.fill, 3)},
		{Key: "duration_required", Value: (time.Duration(r.need) * time.Second).String()},
		{Key: "prevalence_hosts", Value: strconv.Itoa(r.prevHosts)},
		{Key: "population", Value: strconv.Itoa(r.population)},
		{Key: "prevalence_factor", Value: num(r.prevFactor, 2)},
		{Key: "score_raw", Value: num(r.raw, 3)},
		{Key: "score", Value: num(r.total, 3)},
	}
	return f
}

// judgedOver names the stretch the histogram and duration were judged
// over.
func judgedOver(r *result) string {
	if r.span {
		return "active span"
	}
	return "window"
}

func sizeScoreText(r *result) string {
	if !r.sizesKnown {
		return "n/a (no byte counts)"
	}
	return num(r.dsScore, 3)
}

func num(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 0, 64) + "%" }

// humanPeriod writes a period in seconds as "45s", "15m", "2.5h".
func humanPeriod(s float64) string {
	switch {
	case s < 100:
		return strconv.FormatFloat(s, 'f', 0, 64) + "s"
	case s < 100*60:
		return trimZero(strconv.FormatFloat(s/60, 'f', 1, 64)) + "m"
	}
	return trimZero(strconv.FormatFloat(s/3600, 'f', 1, 64)) + "h"
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
