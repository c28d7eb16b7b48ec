package dnsanomaly

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// nxEntry is one distinct NXDOMAIN name a host asked for.
type nxEntry struct {
	T    int64
	H    uint64 // hash of the full name
	Dom  uint64 // hash of its registered domain
	Rnd  float32
	Name string
}

// nxHost holds a host's recent NXDOMAIN names, in arrival order.
type nxHost struct {
	ents []nxEntry
	ids  ring
}

func (h *nxHost) bytes() int64 {
	b := int64(64 + cap(h.ents)*48 + cap(h.ids.IDs)*8)
	for i := range h.ents {
		b += int64(len(h.ents[i].Name))
	}
	return b
}

// observeNX records an NXDOMAIN name for its host.
func (a *Analyzer) observeNX(r *flow.Record, t int64, n *name) {
	g := &a.cfg.DGA
	step, win := int64(g.Step.Seconds()), int64(g.Window.Seconds())
	if !a.dgaStarted {
		a.dgaStarted, a.dgaNext = true, boundaryAfter(t, step)
	}
	if t < a.dgaNext-win {
		a.counts.Late++
		return
	}
	h := a.hosts[r.Src]
	if h == nil {
		if len(a.hosts) >= g.MaxHosts {
			a.counts.HostsDropped++
			return
		}
		h = &nxHost{}
		a.hosts[r.Src] = h
	}
	h.ids.add(r.EventID, a.cfg.MaxEvidence)
	hash := hash64(n.full)
	for i := range h.ents {
		if h.ents[i].H == hash {
			h.ents[i].T = max(h.ents[i].T, t)
			return
		}
	}
	if len(h.ents) >= g.MaxNamesPerHost {
		k := max(1, len(h.ents)/4)
		h.ents = append(h.ents[:0], h.ents[k:]...)
	}
	h.ents = append(h.ents, nxEntry{T: t, H: hash, Dom: hash64(n.reg), Name: strings.Clone(n.full),
		Rnd: float32(a.randomness(n))})
}

// randomness rates how machine-generated the distinguishing label of a name
// looks, from 0 to 1: the label left of the public suffix (or the single
// label). Labels under 6 characters rate 0. It is a weighted sum of
//
//	0.30 low vowel ratio      ramp(0.40 − vowels/letters, 0, 0.22)
//	0.20 consonant runs       ramp(longest run, 3, 6)
//	0.20 digits among letters ramp(digits/length, 0.1, 0.3)
//	0.15 length               ramp(length, 8, 16)
//	0.15 character entropy    ramp(bits per character, 2.8, 3.5)
func (a *Analyzer) randomness(n *name) float64 {
	label := n.reg
	if n.registered {
		label = label[:strings.IndexByte(label, '.')]
	} else if i := strings.IndexByte(label, '.'); i >= 0 {
		label = label[:i]
	}
	st := a.et.stats(label, &a.scratch)
	l := float64(st.labelChars)
	if l < 6 {
		return 0
	}
	var fV, fD float64
	if st.letters > 0 {
		fV = ramp(0.4-float64(st.vowels)/float64(st.letters), 0, 0.22)
		if st.digits > 0 {
			fD = ramp(float64(st.digits)/l, 0.1, 0.3)
		}
	}
	fC := ramp(float64(st.maxConsonantRun), 3, 6)
	fL := ramp(l, 8, 16)
	fH := ramp(st.entropy, 2.8, 3.5)
	return 0.3*fV + 0.2*fC + 0.2*fD + 0.15*fL + 0.15*fH
}

// advanceDGA evaluates every DGA window ending at or before w.
func (a *Analyzer) advanceDGA(w int64, emit func(flow.Signal)) {
	if !a.dgaStarted {
		return
	}
	g := &a.cfg.DGA
	step, win := int64(g.Step.Seconds()), int64(g.Window.Seconds())
	for a.dgaNext <= w {
		a.evaluateDGA(a.dgaNext, emit)
		a.dgaNext += step
		oldest, ok := a.expireNX(a.dgaNext - win)
		if !ok {
			a.dgaNext = max(a.dgaNext, boundaryAfter(w, step))
			return
		}
		if oldest >= a.dgaNext {
			a.dgaNext = boundaryAfter(oldest, step) // skip empty windows
		}
	}
}

// expireNX drops names older than floor and hosts left without names, and
// returns the oldest name's time.
func (a *Analyzer) expireNX(floor int64) (oldest int64, ok bool) {
	oldest = math.MaxInt64
	for k, h := range a.hosts {
		h.ents = slices.DeleteFunc(h.ents, func(e nxEntry) bool { return e.T < floor })
		if len(h.ents) == 0 {
			delete(a.hosts, k)
			continue
		}
		for i := range h.ents {
			oldest = min(oldest, h.ents[i].T)
		}
		ok = true
	}
	return oldest, ok
}

// dgaFigures are the figures of one host's window.
type dgaFigures struct {
	names, domains   int
	domainShare      float64
	meanRnd          float64
	sDiv, sRnd, sVol float64
	score            float64
	samples          []string
}

// evaluateDGA scores every host over the window ending at end.
func (a *Analyzer) evaluateDGA(end int64, emit func(flow.Signal)) {
	g := &a.cfg.DGA
	from := end - int64(g.Window.Seconds())
	hosts := make([]netip.Addr, 0, 8)
	for k, h := range a.hosts {
		if len(h.ents) >= g.MinNames {
			hosts = append(hosts, k)
		}
	}
	slices.SortFunc(hosts, netip.Addr.Compare)
	for _, k := range hosts {
		h := a.hosts[k]
		if f, ok := a.dgaScore(h, from, end); ok && f.score >= g.Severity.Low {
			emit(a.dgaSignal(k, h, &f, from, end))
		}
	}
}

func (a *Analyzer) dgaScore(h *nxHost, from, end int64) (dgaFigures, bool) {
	g := &a.cfg.DGA
	var f dgaFigures
	a.hashes = a.hashes[:0]
	var in []*nxEntry
	for i := range h.ents {
		if e := &h.ents[i]; e.T >= from && e.T < end {
			a.hashes = append(a.hashes, e.Dom)
			f.meanRnd += float64(e.Rnd)
			in = append(in, e)
		}
	}
	f.names = len(in)
	if f.names < g.MinNames {
		return f, false
	}
	slices.Sort(a.hashes)
	f.domains = len(slices.Compact(a.hashes))
	f.meanRnd /= float64(f.names)
	f.domainShare = float64(f.domains) / float64(f.names)
	f.sDiv = ramp(f.domainShare, 0.2, 0.8)
	f.sRnd = ramp(f.meanRnd, 0.3, 0.55)
	f.sVol = ramp(float64(f.names), float64(g.MinNames), 4*float64(g.MinNames))
	f.score = math.Round(f.sDiv*f.sRnd*(0.8+0.2*f.sVol)*1000) / 1000
	slices.SortFunc(in, func(x, y *nxEntry) int { return cmp.Or(cmp.Compare(y.Rnd, x.Rnd), strings.Compare(x.Name, y.Name)) })
	for _, e := range in[:min(len(in), g.Samples)] {
		f.samples = append(f.samples, e.Name)
	}
	return f, true
}

func (a *Analyzer) dgaSignal(host netip.Addr, h *nxHost, f *dgaFigures, from, end int64) flow.Signal {
	title := "DGA-like NXDOMAIN burst from " + host.String() + ": " + strconv.Itoa(f.names) + " names across " +
		strconv.Itoa(f.domains) + " domains in " + humanDur(end-from)
	if len(f.samples) > 0 {
		title += " (e.g. " + strings.Join(f.samples[:min(3, len(f.samples))], ", ") + ")"
	}
	return flow.Signal{
		Kind: flow.SignalDGA, Detector: Name, Title: title, Host: host,
		Start: time.Unix(from, 0).UTC(), End: time.Unix(end, 0).UTC(),
		Metric: "nxdomain_names", Current: float64(f.names),
		Score: f.score, Severity: severity(a.cfg.DGA.Severity, f.score),
		Facts: []flow.Fact{
			{Key: "nxdomain_names", Value: strconv.Itoa(f.names)},
			{Key: "registered_domains", Value: strconv.Itoa(f.domains)},
			{Key: "domain_share", Value: pct(f.domainShare)},
			{Key: "mean_randomness", Value: num(f.meanRnd, 3)},
			{Key: "samples", Value: strings.Join(f.samples, ", ")},
			{Key: "score_domains", Value: num(f.sDiv, 3)},
			{Key: "score_randomness", Value: num(f.sRnd, 3)},
			{Key: "score_volume", Value: num(f.sVol, 3)},
			{Key: "score", Value: num(f.score, 3)},
		},
		Evidence: h.ids.list(),
		Key:      "dga|" + host.String(),
		Tags:     []string{"attack.command_and_control", "attack.t1568.002"},
	}
}
