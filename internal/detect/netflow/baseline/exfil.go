package baseline

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// peerVerdict is how the bytes a host exchanged with one peer in an hour
// compare with the pair's own history.
type peerVerdict struct {
	p        *peerCount
	internal bool
	// usual is the most the pair carried at this hour of day in the last
	// week, by direction; routine marks the directions whose bytes are
	// zero or at most PairTolerance times that (and not all zero).
	usual   [2]float64
	routine [2]bool
	// unexplained is what the host sent beyond the usual volume, when the
	// sent bytes are not routine.
	unexplained float64
}

// peerVerdicts holds one verdict per tracked peer of a host-hour.
type peerVerdicts struct {
	n int
	v [2 * numPeers]peerVerdict
}

// judgePeers compares each peer's bytes in hour h with its pair history.
func (a *Analyzer) judgePeers(e *entity, h int32, c *acc) peerVerdicts {
	var out peerVerdicts
	for _, t := range [2]*peerTable{c.ext, c.intl} {
		if t == nil {
			continue
		}
		for i := range t.peers[:t.n] {
			p := &t.peers[i]
			v := peerVerdict{p: p, internal: t == c.intl}
			if pr := e.findPair(p.Addr); pr != nil {
				v.usual = [2]float64{pr.usualMax(dirSent, h, h), pr.usualMax(dirRecv, h, h)}
			}
			tol := a.cfg.Exfil.PairTolerance
			known := v.usual[dirSent] > 0 || v.usual[dirRecv] > 0
			v.routine[dirSent] = known && float64(p.Sent) <= v.usual[dirSent]*tol
			v.routine[dirRecv] = known && float64(p.Recv) <= v.usual[dirRecv]*tol
			if !v.routine[dirSent] {
				v.unexplained = math.Max(float64(p.Sent)-v.usual[dirSent], 0)
			}
			out.v[out.n] = v
			out.n++
		}
	}
	return out
}

// routineVolume returns the bytes sent, bytes received and packets of the
// hour that pair histories explain (packets when both directions are).
func routineVolume(pv *peerVerdicts) [3]float64 {
	var r [3]float64
	for _, v := range pv.v[:pv.n] {
		if v.routine[dirSent] {
			r[0] += float64(v.p.Sent)
		}
		if v.routine[dirRecv] {
			r[1] += float64(v.p.Recv)
		}
		if v.routine[dirSent] && v.routine[dirRecv] {
			r[2] += float64(v.p.Pkts)
		}
	}
	return r
}

// residual returns the bytes sent to external peers in the hour that pair
// histories do not explain: all external bytes, less what routine pairs
// carried and less the usual volume of the others.
func residual(c *acc, pv *peerVerdicts) float64 {
	r := float64(c.extOut)
	for _, v := range pv.v[:pv.n] {
		switch {
		case v.internal:
		case v.routine[dirSent]:
			r -= float64(v.p.Sent)
		default:
			r -= v.usual[dirSent]
		}
	}
	return math.Max(r, 0)
}

func (e *entity) findPair(peer netip.Addr) *pair {
	for _, p := range e.pairs {
		if p.Peer == peer {
			return p
		}
	}
	return nil
}

// exfil emits an exfiltration signal for every external peer, and for the
// hour's total, whose unexplained volume is far above the host's residual
// baseline for the hour, weighted for rare peers and off-hours.
func (a *Analyzer) exfil(e *entity, h int32, x *hourCtx, c *acc, pv *peerVerdicts, resid float64) {
	cfg := &a.cfg.Exfil
	if resid < float64(cfg.MinBytes) {
		return
	}
	est := a.estimate(&e.hist, mUnexplained, x, h)
	out := a.estimate(&e.hist, mBytesOut, x, h)
	div := math.Max(est.med, float64(cfg.Floor))
	gate := a.threshold(est)
	offW := 1.0
	if x.off {
		offW = cfg.OffHoursWeight
	}
	signalled := 0.0
	for _, v := range sortVerdicts(pv) {
		if v.internal || v.routine[dirSent] || v.unexplained < float64(cfg.MinBytes) || v.unexplained <= gate {
			continue
		}
		rare, hosts := a.rareWeight(v.p)
		w := v.unexplained / div * rare * offW
		if w < cfg.MinFactor {
			continue
		}
		a.emit(a.exfilSignal(e, x, c, exfilFigures{peer: v.p, bytes: float64(v.p.Sent), usual: v.usual[dirSent],
			unexplained: v.unexplained, est: est, out: out.med, div: div, rare: rare, hosts: hosts, offW: offW, weighted: w}))
		signalled += v.unexplained
	}
	if resid <= gate || signalled >= resid/2 {
		return
	}
	if w := resid / div * offW; w >= cfg.MinFactor {
		a.emit(a.exfilSignal(e, x, c, exfilFigures{bytes: float64(c.extOut), unexplained: resid,
			est: est, out: out.med, div: div, rare: 1, hosts: -1, offW: offW, weighted: w}))
	}
}

// sortVerdicts returns the verdicts, the largest unexplained volume first.
func sortVerdicts(pv *peerVerdicts) []peerVerdict {
	s := pv.v[:pv.n]
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].unexplained > s[j-1].unexplained; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// rareWeight returns the weight for a peer that few other internal hosts
// contact, and how many internal hosts contacted it; -1 when no prevalence
// is known. The host itself is among them when it opened a flow to the
// peer (the engine counts internal-to-external flows).
func (a *Analyzer) rareWeight(p *peerCount) (float64, int) {
	if a.prev == nil {
		return 1, -1
	}
	n := a.prev.Hosts(p.Addr)
	others := float64(n)
	if p.Opened {
		others = float64(max(n-1, 0))
	}
	cfg := &a.cfg.Exfil
	return 1 + (cfg.RareWeight-1)*math.Max(0, 1-others/float64(cfg.CommonHosts)), n
}

// exfilFigures are the numbers behind one exfiltration signal.
type exfilFigures struct {
	peer                      *peerCount // nil for the hour's total
	bytes, usual, unexplained float64
	est                       estimate
	out                       float64 // the host's bytes_out median for the hour
	div, rare, offW, weighted float64
	hosts                     int
}

func (a *Analyzer) exfilSignal(e *entity, x *hourCtx, c *acc, f exfilFigures) flow.Signal {
	cfg := &a.cfg.Exfil
	factor := f.unexplained / f.div
	score := math.Max(0, math.Min(1, math.Log10(f.weighted)/3))
	sev := schema.SeverityLow
	switch {
	case f.weighted >= cfg.HighFactor && f.unexplained >= float64(cfg.HighBytes):
		sev = schema.SeverityHigh
	case f.weighted >= math.Sqrt(cfg.MinFactor*cfg.HighFactor):
		sev = schema.SeverityMedium
	}
	window := x.window()
	s := flow.Signal{
		Kind: flow.SignalExfil, Detector: Name, Host: e.addr,
		Start: hourStart(x.h), End: hourStart(x.h + 1),
		Metric: MetricUnexplained, Baseline: f.div, Current: f.unexplained, Factor: round3(factor),
		Score: round3(score), Severity: sev, Tags: []string{"attack.exfiltration", "attack.t1048", "attack.t1030"},
	}
	to := "to external destinations"
	if f.peer != nil {
		s.Peer = f.peer.Addr
		to = "to " + f.peer.Addr.String()
		s.Key = "exfil|" + e.addr.String() + "|" + f.peer.Addr.String()
	} else {
		s.Key = "exfil|" + e.addr.String() + "|total"
	}
	s.Title = fmt.Sprintf("%s sent %s %s in %s, %s unexplained: %.0f× its usual unexplained volume of %s (weighted %.0f×)",
		e.addr, fmtBytes(f.bytes), to, window, fmtBytes(f.unexplained), factor, fmtBytes(f.div), f.weighted)
	s.Facts = a.exfilFacts(x, c, &f)
	s.Evidence = exfilEvidence(c, f.peer)
	return s
}

func (a *Analyzer) exfilFacts(x *hourCtx, c *acc, f *exfilFigures) []flow.Fact {
	prev := "unknown"
	if f.hosts >= 0 {
		prev = strconv.Itoa(f.hosts) + " internal hosts"
		if a.prev != nil {
			prev += " of " + strconv.Itoa(a.prev.Population()) + " active"
		}
	}
	facts := []flow.Fact{
		{Key: "bytes_sent", Value: num(f.bytes)},
		{Key: "external_bytes_in_hour", Value: num(float64(c.extOut))},
	}
	if f.peer != nil {
		facts = append(facts, flow.Fact{Key: "pair_usual_max", Value: num(f.usual)},
			flow.Fact{Key: "destination_prevalence", Value: prev})
	}
	return append(facts,
		flow.Fact{Key: "unexplained_bytes", Value: num(f.unexplained)},
		flow.Fact{Key: "residual_median", Value: num(f.est.med)},
		flow.Fact{Key: "residual_mad", Value: num(f.est.mad)},
		flow.Fact{Key: "bytes_out_median", Value: num(f.out)},
		flow.Fact{Key: "divisor", Value: num(f.div)},
		flow.Fact{Key: "factor", Value: num(round3(f.unexplained / f.div))},
		flow.Fact{Key: "rare_weight", Value: num(round3(f.rare))},
		flow.Fact{Key: "off_hours", Value: strconv.FormatBool(x.off) + " (" + x.label() + ")"},
		flow.Fact{Key: "off_hours_weight", Value: num(f.offW)},
		flow.Fact{Key: "weighted_factor", Value: num(round3(f.weighted))},
		flow.Fact{Key: "weeks_of_history", Value: strconv.Itoa(f.est.weeks)},
	)
}

// exfilEvidence returns the largest flows to the peer, or for the total the
// largest flows of the hour.
func exfilEvidence(c *acc, p *peerCount) []uint64 {
	if p == nil {
		return evidence(c, false)
	}
	out := make([]uint64, 0, peerIDs)
	for _, f := range sortedRefs(p.Flows[:p.N]) {
		out = append(out, f.ID)
	}
	return out
}

// updatePairs adds the hour's bytes to the host's pair histories, tracking
// a new pair when it carried at least PairMinBytes and the table has room
// or holds a pair that matters less.
func (a *Analyzer) updatePairs(e *entity, h int32, c *acc) {
	for _, t := range [2]*peerTable{c.ext, c.intl} {
		if t == nil {
			continue
		}
		for i := range t.peers[:t.n] {
			p := &t.peers[i]
			pr := e.findPair(p.Addr)
			if pr == nil {
				if p.Sent+p.Recv < uint64(a.cfg.Exfil.PairMinBytes) {
					continue
				}
				if pr = a.admitPair(e, p.Addr, t == c.intl, p.Sent+p.Recv, h); pr == nil {
					continue
				}
			}
			pr.write(h, p.Sent, p.Recv)
		}
	}
}

func (a *Analyzer) admitPair(e *entity, peer netip.Addr, internal bool, b uint64, h int32) *pair {
	np := &pair{Peer: peer, Internal: internal, First: noHour, Last: noHour}
	if len(e.pairs) < a.cfg.Exfil.PairsPerHost {
		e.pairs = append(e.pairs, np)
		return np
	}
	mi, mw := -1, math.Inf(1)
	for i, p := range e.pairs {
		if w := p.weight(h - 1); w < mw {
			mi, mw = i, w
		}
	}
	if mi < 0 || mw >= float64(b) {
		return nil
	}
	e.pairs[mi] = np
	return np
}
