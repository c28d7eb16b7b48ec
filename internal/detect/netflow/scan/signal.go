package scan

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Caps on what a signal lists.
const (
	maxEvidence = 20
	maxSamples  = 10
)

// signal builds the signal of group g of source s at boundary e. others is
// how many more groups of the same kind fired with it.
func (a *Analyzer) signal(s *source, e int64, g *agg, rep *report, others int) flow.Signal {
	wh := a.windowHops(g)
	start, end := time.Unix(0, (e-wh)*a.hopNs).UTC(), time.Unix(0, e*a.hopNs).UTC()
	samples, evidence := a.collect(s, e, g)
	t := g.scope()
	n, failed := t.n, t.failed
	share := float64(failed) / float64(max(n, 1))
	min := a.threshold(g)
	sig := flow.Signal{
		Kind: flow.SignalScan, Detector: Name, Host: s.addr,
		Start: start, End: end, Current: float64(n), Evidence: evidence,
		Metric:   metric(g, s),
		Score:    score(float64(n)/float64(min), share),
		Severity: a.severity(s, g, share),
		Key:      key(s, g),
		Tags:     tags(s, g),
	}
	switch g.key.kind {
	case kindHorizontal:
		sig.Port = g.key.port
	case kindVertical:
		sig.Peer = addrOf(g.key.dst)
	}
	sig.Title = title(s, g, n, share, time.Duration(wh*a.hopNs))
	sig.Facts = a.facts(s, g, rep, factFigures{n: n, failed: failed, share: share, min: min,
		window: time.Duration(wh * a.hopNs), samples: samples, others: others})
	return sig
}

type factFigures struct {
	n, failed int32
	share     float64
	min       int
	window    time.Duration
	samples   string
	others    int
}

func (a *Analyzer) facts(s *source, g *agg, rep *report, f factFigures) []flow.Fact {
	speed, thr := "fast", fmt.Sprintf("at least %d %s, at least %.0f%% failed", f.min, unit(g), 100*a.cfg.MinFailedRatio)
	if g.isSlow {
		speed, thr = "slow", fmt.Sprintf("at least %d failed %s", f.min, unit(g))
	}
	t := g.scope()
	facts := []flow.Fact{
		{Key: "scan", Value: g.key.kind.String()},
		{Key: "speed", Value: speed},
		{Key: "window", Value: fmtDur(f.window)},
		{Key: unit(g), Value: strconv.Itoa(int(f.n))},
		{Key: "failed", Value: fmt.Sprintf("%d (%.0f%%)", f.failed, 100*f.share)},
		{Key: "answered", Value: strconv.Itoa(int(t.answered))},
		{Key: "attempts", Value: strconv.FormatInt(t.attempts, 10)},
		{Key: "threshold", Value: thr},
		{Key: "first seen", Value: time.Unix(0, t.first).UTC().Format(time.RFC3339Nano)},
		{Key: "last seen", Value: time.Unix(0, t.last).UTC().Format(time.RFC3339Nano)},
		{Key: "scanning since", Value: time.Unix(0, rep.since).UTC().Format(time.RFC3339)},
		{Key: unit(g) + " since first signal", Value: strconv.Itoa(int(rep.total))},
		{Key: "source", Value: side(s.internal)},
		{Key: "internal targets", Value: strconv.Itoa(int(t.internal))},
		{Key: "sample " + unit(g), Value: f.samples},
	}
	if f.others > 0 {
		facts = append(facts, flow.Fact{Key: "other " + g.key.kind.String() + " scans at this time",
			Value: strconv.Itoa(f.others)})
	}
	return facts
}

// collect returns up to maxSamples of g's targets (ports for a vertical
// scan), smallest first, and up to maxEvidence event IDs.
func (a *Analyzer) collect(s *source, e int64, g *agg) (string, []uint64) {
	want := stFast
	if g.isSlow {
		want = stSlowFail
	}
	var addrs []netip.Addr
	var ports []int
	var ev []uint64
	for _, i := range s.list {
		c := &a.cs[i]
		if !g.member(c) || a.status(c, e)&want == 0 {
			continue
		}
		if g.key.kind == kindVertical {
			ports = append(ports, int(c.k.t.port))
		} else {
			addrs = append(addrs, addrOf(c.k.t.dst))
		}
		if c.event != 0 {
			ev = append(ev, c.event)
		}
	}
	slices.Sort(ev)
	ev = slices.Compact(ev)
	if len(ev) > maxEvidence {
		ev = ev[:maxEvidence:maxEvidence]
	}
	var parts []string
	if g.key.kind == kindVertical {
		slices.Sort(ports)
		for _, p := range ports[:min(len(ports), maxSamples)] {
			parts = append(parts, strconv.Itoa(p))
		}
	} else {
		slices.SortFunc(addrs, netip.Addr.Compare)
		for _, ad := range addrs[:min(len(addrs), maxSamples)] {
			parts = append(parts, ad.String())
		}
	}
	return strings.Join(parts, ", "), ev
}

// member reports whether c belongs to g.
func (g *agg) member(c *contact) bool {
	if c.k.t.proto != g.key.proto {
		return false
	}
	switch g.key.kind {
	case kindHorizontal:
		return c.k.t.port == g.key.port
	case kindVertical:
		return c.k.t.dst == g.key.dst
	}
	return true
}

func (a *Analyzer) threshold(g *agg) int {
	switch {
	case g.isSlow:
		return a.cfg.SlowMinFailed
	case g.key.kind == kindVertical:
		return a.cfg.VerticalMinPorts
	case g.key.kind == kindSweep:
		return a.cfg.SweepMinHosts
	}
	return a.cfg.HorizontalMinHosts
}

// severity proposes: high for an internal host probing mostly internal
// targets with a failed share of at least HighFailedRatio in the fast
// window (reconnaissance for lateral movement); medium for other scans by
// internal hosts and for external scans that internal targets answered;
// low for the rest (the background scanning every public address sees).
func (a *Analyzer) severity(s *source, g *agg, share float64) schema.Severity {
	t := g.scope()
	internalTargets := t.n > 0 && 2*t.internal >= t.n
	switch {
	case s.internal && internalTargets && !g.isSlow && share >= a.cfg.HighFailedRatio:
		return schema.SeverityHigh
	case s.internal:
		return schema.SeverityMedium
	case t.answeredInternal > 0:
		return schema.SeverityMedium
	}
	return schema.SeverityLow
}

// score grows with the multiple of the threshold (log scale) and the
// failed share: 0.7 at the threshold with every target failed, 1 at four
// times it.
func score(multiple, share float64) float64 {
	v := 0.4 + 0.2*math.Log2(math.Max(multiple, 1)) + 0.3*share
	return math.Round(math.Min(1, v)*1000) / 1000
}

func key(s *source, g *agg) string {
	switch g.key.kind {
	case kindHorizontal:
		return fmt.Sprintf("scan|horizontal|%s|%s/%d", s.addr, protoLabel(g.key.proto), g.key.port)
	case kindVertical:
		return fmt.Sprintf("scan|vertical|%s|%s/%s", s.addr, addrOf(g.key.dst), protoLabel(g.key.proto))
	}
	return fmt.Sprintf("scan|sweep|%s|%s", s.addr, protoLabel(g.key.proto))
}

func tags(s *source, g *agg) []string {
	switch {
	case !s.internal:
		return []string{"attack.reconnaissance", "attack.t1595"}
	case g.key.kind == kindSweep:
		return []string{"attack.discovery", "attack.t1018"}
	}
	return []string{"attack.discovery", "attack.t1046"}
}

func title(s *source, g *agg, n int32, share float64, w time.Duration) string {
	prefix := ""
	if g.isSlow {
		prefix = "slow "
	}
	switch g.key.kind {
	case kindHorizontal:
		return fmt.Sprintf("%shorizontal scan from %s: %s/%d on %d hosts in %s, %.0f%% failed",
			prefix, s.addr, protoLabel(g.key.proto), g.key.port, n, fmtDur(w), 100*share)
	case kindVertical:
		return fmt.Sprintf("%svertical scan from %s: %d %s ports on %s in %s, %.0f%% failed",
			prefix, s.addr, n, protoLabel(g.key.proto), addrOf(g.key.dst), fmtDur(w), 100*share)
	}
	return fmt.Sprintf("%shost sweep from %s: ICMP requests to %d hosts in %s, %.0f%% unanswered",
		prefix, s.addr, n, fmtDur(w), 100*share)
}

func metric(g *agg, s *source) string {
	verb := "probed"
	if g.isSlow {
		verb = "failed"
	}
	switch g.key.kind {
	case kindHorizontal:
		return fmt.Sprintf("distinct hosts %s on %s/%d", verb, protoLabel(g.key.proto), g.key.port)
	case kindVertical:
		return fmt.Sprintf("distinct %s ports %s on %s", protoLabel(g.key.proto), verb, addrOf(g.key.dst))
	}
	if g.isSlow {
		return "distinct hosts not answering ICMP requests"
	}
	return "distinct hosts sent ICMP requests"
}

func unit(g *agg) string {
	if g.key.kind == kindVertical {
		return "ports"
	}
	return "hosts"
}

func side(internal bool) string {
	if internal {
		return "internal"
	}
	return "external"
}

func addrOf(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

func protoLabel(p uint8) string {
	if p == protoSCTP {
		return "sctp"
	}
	return flow.ProtoName(p)
}

// fmtDur writes a duration without zero trailing units: 5m, 1h, 1h30m.
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
