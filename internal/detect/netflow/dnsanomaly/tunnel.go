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
	"github.com/vigil-soc/vigil/internal/schema"
)

// Query type classes that carry data in tunnels.
const (
	typeTXT = iota
	typeNULL
	typeCNAME
	typeMX
	typeOther // ANY, KEY, private and unknown types
	nTypes
)

// typeName names a query type class.
func typeName(k int) string {
	return [nTypes]string{"TXT", "NULL", "CNAME", "MX", "other"}[k]
}

// dataType classifies a query type; -1 for ordinary lookups (A, AAAA,
// HTTPS, PTR, SRV, ...).
func dataType(q string) int {
	switch q {
	case "TXT", "16":
		return typeTXT
	case "NULL", "10":
		return typeNULL
	case "CNAME", "5":
		return typeCNAME
	case "MX", "15":
		return typeMX
	case "ANY", "*", "255", "KEY", "25", "PRIVATE":
		return typeOther
	}
	if strings.HasPrefix(q, "TYPE") || (q != "" && q[0] >= '0' && q[0] <= '9') {
		return typeOther // an unnamed type
	}
	return -1
}

// tunnelWindow holds one tumbling window's per-domain figures.
type tunnelWindow struct {
	start   int64
	doms    map[string]*domStats
	dropped int
}

// hostCount is one querying host's count (space-saving top list).
type hostCount struct {
	Host netip.Addr
	N    uint32
}

// maxHosts is how many querying hosts a domain keeps counts for.
const maxHosts = 8

// domStats are one registered domain's figures in a window.
type domStats struct {
	queries    uint32
	sub        distinct
	newBytes   uint64 // subdomain bytes of queries known to be new
	newCount   uint32 // how many were known to be new
	subBytes   uint64 // subdomain bytes of every query with a subdomain
	withSub    uint32 // queries with a subdomain
	statN      uint32 // subdomains the text figures were taken from
	labelChars uint64
	labels     uint32
	maxLabel   int
	longestSum uint64 // sum over queries of the query's longest label
	entropySum float64
	types      [nTypes]uint32
	hosts      []hostCount
	hostsOver  bool // more hosts than maxHosts queried
	ids        ring
	first      int64
	last       int64
}

func (d *domStats) bytes() int64 {
	return 200 + d.sub.bytes() + int64(cap(d.hosts))*32 + int64(cap(d.ids.IDs))*8
}

// observeTunnel counts one query for its registered domain.
func (a *Analyzer) observeTunnel(r *flow.Record, t int64, n *name) {
	size := int64(a.cfg.Tunnel.Window.Seconds())
	start := t - t%size
	if start < a.closedUntil {
		a.counts.Late++
		return
	}
	w := a.wins[start]
	if w == nil {
		w = &tunnelWindow{start: start, doms: map[string]*domStats{}}
		a.wins[start] = w
	}
	d := w.doms[n.reg]
	if d == nil {
		if len(w.doms) >= a.cfg.Tunnel.MaxDomains {
			w.dropped++
			a.counts.DomainsDropped++
			return
		}
		d = &domStats{first: t, last: t}
		w.doms[strings.Clone(n.reg)] = d
	}
	d.queries++
	d.first, d.last = min(d.first, t), max(d.last, t)
	d.addHost(r.Src)
	d.ids.add(r.EventID, a.cfg.MaxEvidence)
	if k := dataType(r.QType); k >= 0 {
		d.types[k]++
	}
	if n.sub == "" {
		return
	}
	d.withSub++
	d.subBytes += uint64(len(n.sub))
	if d.sub.add(hash64(n.sub)) {
		d.newBytes += uint64(len(n.sub))
		d.newCount++
	} else if d.sub.exactMode() {
		return // a repeat: its text figures are already counted
	}
	d.statN++
	st := a.et.stats(n.sub, &a.scratch)
	d.labelChars += uint64(st.labelChars)
	d.labels += uint32(st.labels)
	d.maxLabel = max(d.maxLabel, st.maxLabel)
	d.longestSum += uint64(st.maxLabel)
	d.entropySum += st.entropy
}

// addHost counts a query from h, keeping the top maxHosts (space-saving:
// a new host replaces the least counted one and inherits its count).
func (d *domStats) addHost(h netip.Addr) {
	low := 0
	for i := range d.hosts {
		if d.hosts[i].Host == h {
			d.hosts[i].N++
			return
		}
		if d.hosts[i].N < d.hosts[low].N {
			low = i
		}
	}
	if len(d.hosts) < maxHosts {
		d.hosts = append(d.hosts, hostCount{Host: h, N: 1})
		return
	}
	d.hostsOver = true
	d.hosts[low] = hostCount{Host: h, N: d.hosts[low].N + 1}
}

// tunnelFigures are the figures and scores of one domain's window.
type tunnelFigures struct {
	distinct, uniqueBytes, rate   float64
	meanLabel, longest            float64
	entropy, meanSub              float64
	dataShare                     float64
	sLen, sEnt, sRate, sType, raw float64
	prevHosts, population         int
	prevFactor, score             float64
	estimated                     bool
}

func (a *Analyzer) tunnelScore(reg string, d *domStats) tunnelFigures {
	c := &a.cfg.Tunnel
	f := tunnelFigures{distinct: d.sub.count(), estimated: !d.sub.exactMode()}
	if d.withSub > 0 {
		f.meanSub = float64(d.subBytes) / float64(d.withSub)
	}
	if d.statN > 0 {
		f.entropy = d.entropySum / float64(d.statN)
		f.longest = float64(d.longestSum) / float64(d.statN)
	}
	if d.labels > 0 {
		f.meanLabel = float64(d.labelChars) / float64(d.labels)
	}
	f.uniqueBytes = float64(d.newBytes) + max(0, f.distinct-float64(d.newCount))*f.meanSub
	f.rate = f.uniqueBytes * 3600 / c.Window.Seconds()
	var data uint32
	for _, n := range d.types {
		data += n
	}
	f.dataShare = float64(data) / float64(d.queries)
	f.sLen = ramp(f.longest, c.LabelLow, c.LabelHigh)
	f.sEnt = ramp(f.entropy, c.EntropyLow, c.EntropyHigh)
	f.sRate = ramp(math.Log2(max(f.rate, 1)), math.Log2(c.RateLow), math.Log2(c.RateHigh))
	f.sType = f.dataShare
	w := c.Weights
	f.raw = (w.Length*f.sLen + w.Entropy*f.sEnt + w.Rate*f.sRate + w.Type*f.sType) / (w.Length + w.Entropy + w.Rate + w.Type)
	f.prevHosts, f.population, f.prevFactor = a.domainPrevalence(reg)
	f.score = math.Round(f.raw*f.prevFactor*1000) / 1000
	return f
}

// domainPrevalence returns how many hosts query reg, the population and
// the factor to apply: tunnel.prevalence.factor when the analyzer's own
// count or the engine's says the domain is common.
func (a *Analyzer) domainPrevalence(reg string) (hosts, pop int, factor float64) {
	p := a.cfg.Tunnel.Prevalence
	common := func(h, n int) bool { return h >= p.Hosts || (n >= p.MinPopulation && float64(h) >= p.Share*float64(n)) }
	hosts, pop, factor = a.dom.HostsName(reg), a.dom.Population(), 1
	isCommon := common(hosts, pop)
	if a.prev != nil {
		if h, n := a.prev.HostsName(reg), a.prev.Population(); common(h, n) {
			isCommon = true
			hosts, pop = max(hosts, h), max(pop, n)
		}
	}
	if isCommon {
		factor = p.Factor
	}
	return hosts, pop, factor
}

// closeTunnelWindows scores and drops the windows ending at or before w.
func (a *Analyzer) closeTunnelWindows(w int64, emit func(flow.Signal)) {
	size := int64(a.cfg.Tunnel.Window.Seconds())
	var starts []int64
	for s := range a.wins {
		if s+size <= w {
			starts = append(starts, s)
		}
	}
	slices.Sort(starts)
	for _, s := range starts {
		win := a.wins[s]
		regs := make([]string, 0, len(win.doms))
		for reg, d := range win.doms {
			if d.sub.count() >= float64(a.cfg.Tunnel.MinDistinct) {
				regs = append(regs, reg)
			}
		}
		slices.Sort(regs)
		for _, reg := range regs {
			d := win.doms[reg]
			if f := a.tunnelScore(reg, d); f.score >= a.cfg.Tunnel.Severity.Low {
				emit(a.tunnelSignal(reg, d, &f, s, s+size))
			}
		}
		delete(a.wins, s)
		a.closedUntil = max(a.closedUntil, s+size)
	}
}

func severity(t Thresholds, score float64) schema.Severity {
	switch {
	case score >= t.High:
		return schema.SeverityHigh
	case score >= t.Medium:
		return schema.SeverityMedium
	}
	return schema.SeverityLow
}

func (a *Analyzer) tunnelSignal(reg string, d *domStats, f *tunnelFigures, start, end int64) flow.Signal {
	hosts := slices.Clone(d.hosts)
	slices.SortFunc(hosts, func(x, y hostCount) int { return cmp.Or(cmp.Compare(y.N, x.N), x.Host.Compare(y.Host)) })
	hosts = hosts[:min(len(hosts), a.cfg.Tunnel.TopHosts)]
	top := make([]string, len(hosts))
	for i, h := range hosts {
		top[i] = h.Host.String() + " (" + strconv.Itoa(int(h.N)) + ")"
	}
	title := "possible DNS tunnel to " + reg + ": " + strconv.Itoa(int(math.Round(f.distinct))) + " unique subdomains in " +
		humanDur(end-start) + " (~" + humanBytes(f.rate) + "/h), longest labels ~" + num(f.longest, 0) + " chars, entropy " +
		num(f.entropy, 1) + " bits"
	if f.dataShare >= 0.05 {
		title += ", " + pct(f.dataShare) + " TXT/NULL/CNAME/MX"
	}
	title += "; top host " + hosts[0].Host.String()
	facts := []flow.Fact{
		{Key: "queries", Value: strconv.Itoa(int(d.queries))},
		{Key: "distinct_subdomains", Value: num(f.distinct, 0) + estimatedNote(f.estimated)},
		{Key: "unique_subdomain_bytes", Value: num(f.uniqueBytes, 0)},
		{Key: "bytes_per_hour", Value: num(f.rate, 0)},
		{Key: "mean_subdomain_len", Value: num(f.meanSub, 1)},
		{Key: "mean_longest_label_len", Value: num(f.longest, 1)},
		{Key: "mean_label_len", Value: num(f.meanLabel, 1)},
		{Key: "max_label_len", Value: strconv.Itoa(d.maxLabel)},
		{Key: "entropy_bits", Value: num(f.entropy, 2)},
		{Key: "data_type_share", Value: pct(f.dataShare)},
	}
	for i, n := range d.types {
		if n > 0 {
			facts = append(facts, flow.Fact{Key: "qtype_" + strings.ToLower(typeName(i)), Value: strconv.Itoa(int(n))})
		}
	}
	hostsIn := strconv.Itoa(len(d.hosts))
	if d.hostsOver {
		hostsIn = "more than " + strconv.Itoa(maxHosts)
	}
	facts = append(facts,
		flow.Fact{Key: "hosts_in_window", Value: hostsIn},
		flow.Fact{Key: "top_hosts", Value: strings.Join(top, ", ")},
		flow.Fact{Key: "prevalence_hosts", Value: strconv.Itoa(f.prevHosts)},
		flow.Fact{Key: "population", Value: strconv.Itoa(f.population)},
		flow.Fact{Key: "prevalence_factor", Value: num(f.prevFactor, 2)},
		flow.Fact{Key: "score_length", Value: num(f.sLen, 3)},
		flow.Fact{Key: "score_entropy", Value: num(f.sEnt, 3)},
		flow.Fact{Key: "score_rate", Value: num(f.sRate, 3)},
		flow.Fact{Key: "score_type", Value: num(f.sType, 3)},
		flow.Fact{Key: "score_raw", Value: num(f.raw, 3)},
		flow.Fact{Key: "score", Value: num(f.score, 3)})
	return flow.Signal{
		Kind: flow.SignalDNSTunnel, Detector: Name, Title: title, Host: hosts[0].Host, PeerName: reg,
		Start: time.Unix(start, 0).UTC(), End: time.Unix(end, 0).UTC(),
		Metric: "unique_subdomain_bytes_per_hour", Current: math.Round(f.rate),
		Score: f.score, Severity: severity(a.cfg.Tunnel.Severity, f.score), Facts: facts, Evidence: d.ids.list(),
		Key:  "dns_tunnel|" + reg,
		Tags: []string{"attack.command_and_control", "attack.t1071.004", "attack.exfiltration", "attack.t1048"},
	}
}

func estimatedNote(est bool) string {
	if est {
		return " (estimated)"
	}
	return ""
}

func num(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 0, 64) + "%" }

func humanDur(s int64) string { return (time.Duration(s) * time.Second).String() }

// humanBytes writes a byte count as "812 B", "3.4 KB", "1.2 MB" (powers
// of 1024).
func humanBytes(b float64) string {
	switch {
	case b < 1024:
		return num(b, 0) + " B"
	case b < 1<<20:
		return num(b/1024, 1) + " KB"
	}
	return num(b/(1<<20), 1) + " MB"
}
