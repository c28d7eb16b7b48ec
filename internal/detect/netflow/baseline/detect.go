package baseline

import (
	"fmt"
	"math"
	"strconv"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// finish closes hour h for entity e: checks the hour against its
// baselines, updates the host's pair history and stores the hour.
func (a *Analyzer) finish(e *entity, h int32, x *hourCtx) {
	c := e.acc[h&1]
	if c == nil || c.hour != h {
		return
	}
	vals := c.values()
	var pv peerVerdicts
	routine := c.routine
	if !e.isSubnet() {
		pv = a.judgePeers(e, h, c)
		vals[mUnexplained] = residual(c, &pv)
		routine = routineVolume(&pv)
		if s := e.subnet; s != nil && s.acc[h&1] != nil && s.acc[h&1].hour == h {
			for i, v := range routine {
				s.acc[h&1].routine[i] += v
			}
		}
	}
	if e.hist.First != noHour && h-e.hist.First >= a.learn {
		a.deviations(e, x, c, &vals, routine)
		if a.cfg.Exfil.Enabled && !e.isSubnet() {
			a.exfil(e, h, x, c, &pv, vals[mUnexplained])
		}
	}
	if !e.isSubnet() {
		a.updatePairs(e, h, c)
	}
	var codes [numMetrics]uint16
	for m, v := range vals {
		codes[m] = encode(uint64(math.Max(v, 0)))
	}
	e.hist.write(h, &codes)
	e.acc[h&1] = nil
	a.pool.putAcc(c)
}

// deviations emits a baseline signal for every metric of the hour that is
// far above its baseline. Volumes (bytes, packets) are judged without what
// routine pairs (the nightly backup) explain.
func (a *Analyzer) deviations(e *entity, x *hourCtx, c *acc, vals *[numMetrics]float64, routine [3]float64) {
	for m := range numAlert {
		cur := vals[m]
		judged := cur
		switch m {
		case mBytesOut:
			judged -= routine[0]
		case mBytesIn:
			judged -= routine[1]
		case mPackets:
			judged -= routine[2]
		}
		if judged <= 0 || judged < a.minCur[m] {
			continue
		}
		est := a.estimate(&e.hist, m, x, x.h)
		if !est.ok {
			continue
		}
		den := math.Max(est.med, a.floor[m])
		if judged <= a.threshold(est) || judged/den < a.cfg.MinFactor {
			continue
		}
		a.emit(a.deviationSignal(e, m, x, c, judged, cur-judged, est, judged/den))
	}
}

// threshold returns median + K·1.4826·MAD.
func (a *Analyzer) threshold(est estimate) float64 {
	return est.med + a.cfg.K*madScale*est.mad
}

// deviationSignal builds the signal for metric m: cur is the judged value
// (what routine pairs do not explain), routine what they explain.
func (a *Analyzer) deviationSignal(e *entity, m int, x *hourCtx, c *acc, cur, routine float64, est estimate, factor float64) flow.Signal {
	name := metricName(m)
	score := metricWeight(m) * math.Min(1, math.Log10(factor)/2)
	who, key := e.addr.String(), "baseline|"+e.addr.String()+"|"+name
	if e.isSubnet() {
		who, key = "subnet "+e.prefix.String(), "baseline|subnet|"+e.prefix.String()+"|"+name
	}
	value := fmtValue(m, cur)
	if routine > 0 {
		value += " beyond routine transfers (" + fmtValue(m, cur+routine) + " in all)"
	}
	s := flow.Signal{
		Kind: flow.SignalBaseline, Detector: Name, Host: e.addr,
		Title: fmt.Sprintf("%s %s %s in %s: %.1f× its baseline of %s", who, name, value,
			x.window(), factor, fmtValue(m, est.med)),
		Start: hourStart(x.h), End: hourStart(x.h + 1),
		Metric: name, Baseline: est.med, Current: cur, Factor: round3(factor),
		Score: round3(score), Severity: severityOf(score), Key: key, Tags: tagsOf(m),
		Facts: []flow.Fact{
			{Key: "entity", Value: who},
			{Key: "hour_of_week", Value: x.label()},
			{Key: "median", Value: num(est.med)},
			{Key: "mad", Value: num(est.mad)},
			{Key: "k", Value: num(a.cfg.K)},
			{Key: "threshold", Value: num(a.threshold(est))},
			{Key: "floor", Value: num(a.floor[m])},
			{Key: "min_factor", Value: num(a.cfg.MinFactor)},
			{Key: "weeks_of_history", Value: strconv.Itoa(est.weeks)},
			{Key: "daily_samples", Value: strconv.Itoa(est.days)},
			{Key: "off_hours", Value: strconv.FormatBool(x.off)},
		},
		Evidence: evidence(c, m >= mConns && m <= mExtDsts),
	}
	if routine > 0 {
		s.Facts = append(s.Facts, flow.Fact{Key: "explained_by_routine_pairs", Value: num(routine)},
			flow.Fact{Key: "total_value", Value: num(cur + routine)})
	}
	return s
}

// severityOf maps a score to the proposed severity.
func severityOf(score float64) schema.Severity {
	switch {
	case score >= 0.8:
		return schema.SeverityHigh
	case score >= 0.5:
		return schema.SeverityMedium
	case score >= 0.25:
		return schema.SeverityLow
	}
	return schema.SeverityInformational
}

// tagsOf returns the ATT&CK tags of a deviation in metric m.
func tagsOf(m int) []string {
	switch m {
	case mBytesOut:
		return []string{"attack.exfiltration", "attack.t1048", "attack.t1030"}
	case mBytesIn:
		return []string{"attack.command_and_control", "attack.t1105"}
	case mPackets:
		return []string{"attack.impact", "attack.t1498"}
	}
	return []string{"attack.discovery", "attack.t1046"}
}

// evidence returns up to maxEvidence event IDs: the flows that added new
// destinations first when distinct counts deviate, then the largest flows.
func evidence(c *acc, freshFirst bool) []uint64 {
	out := make([]uint64, 0, maxEvidence)
	addID := func(id uint64) {
		if len(out) < maxEvidence && id != 0 && !containsID(out, id) {
			out = append(out, id)
		}
	}
	if freshFirst {
		for _, id := range c.fresh[:c.nFresh] {
			addID(id)
		}
	}
	for _, f := range sortedRefs(c.top[:c.nTop]) {
		addID(f.ID)
	}
	if !freshFirst {
		for _, id := range c.fresh[:c.nFresh] {
			addID(id)
		}
	}
	return out
}

func containsID(s []uint64, id uint64) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// sortedRefs returns a copy of refs, largest first (ties by ID).
func sortedRefs(refs []flowRef) []flowRef {
	out := append([]flowRef(nil), refs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Bytes > out[j-1].Bytes ||
			out[j].Bytes == out[j-1].Bytes && out[j].ID < out[j-1].ID); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// fmtValue formats a value of metric m: bytes in decimal units, counts as
// integers.
func fmtValue(m int, v float64) string {
	if isBytes(m) {
		return fmtBytes(v)
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// fmtBytes formats a byte count with a decimal unit ("2.4 GB").
func fmtBytes(v float64) string {
	units := [...]string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// num formats a figure for a Fact, to at most 3 decimals.
func num(v float64) string {
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return strconv.FormatFloat(round3(v), 'f', -1, 64)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
