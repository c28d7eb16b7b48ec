package netflow

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Asset is what phase two knows about an address: its name, role and
// criticality. The asset inventory (a later issue) feeds the same type.
type Asset struct {
	Name        string
	Role        string
	Criticality string // low, medium, high, critical
}

// IntelHit is a known-bad destination found by threat intelligence.
type IntelHit struct {
	Indicator  string
	Source     string
	Confidence int
	// C2 marks command-and-control infrastructure.
	C2 bool
}

// Intel looks destinations up in threat intelligence. It may be nil.
type Intel interface {
	Lookup(addr netip.Addr, name string, at time.Time) (IntelHit, bool)
}

// HostAlerts counts a host's open alerts (from every detector) other than
// those of rule exceptRule: corroboration comes from a different
// detection, not from the same one repeating or measuring another metric.
// It may be nil; the engine then counts only its own recent alerts.
type HostAlerts interface {
	OpenAlerts(host, exceptRule string) int
}

// Hours are business hours in a time zone; outside them is off-hours.
type Hours struct {
	Start, End int // hours of day, [Start, End)
	Days       []time.Weekday
	Loc        *time.Location
}

// OffHours reports whether t falls outside business hours.
func (h Hours) OffHours(t time.Time) bool {
	loc := h.Loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	if !slices.Contains(h.Days, lt.Weekday()) {
		return true
	}
	return lt.Hour() < h.Start || lt.Hour() >= h.End
}

// phaseTwo adds context to a signal and decides the alert's severity.
type phaseTwo struct {
	internal   *flow.Set
	assets     map[netip.Addr]Asset
	adminHosts *flow.Set
	adminPorts map[uint16]bool
	hours      Hours
	prev       flow.PrevalenceReader
	intel      Intel
	hostAlerts HostAlerts
	// recent holds the engine's own alerts per host (event time), for
	// corroboration when HostAlerts is nil or lags.
	recent map[netip.Addr][]recentAlert
	// fleet counts, for the signals of one flush, the hosts showing each
	// baseline deviation (metric and hour).
	fleet map[string]int
}

type recentAlert struct {
	kind string
	at   time.Time
}

// corroborationWindow is how far back other alerts on a host count.
const corroborationWindow = 24 * time.Hour

// offHoursMatters reports whether off-hours raise a signal's priority:
// data leaving or new access at night does; a beacon or a DGA burst is as
// bad by day, and a busier evening of browsing is not a threat.
func offHoursMatters(s flow.Signal) bool {
	switch s.Kind {
	case flow.SignalBeacon, flow.SignalDGA:
		return false
	case flow.SignalBaseline:
		return strings.HasPrefix(s.Metric, "bytes_out")
	}
	return true
}

// fleetKey identifies "the same deviation in the same window".
func fleetKey(s flow.Signal) string { return s.Metric + "|" + s.Start.UTC().Format(time.RFC3339) }

// fleetMin is how many hosts must show the same deviation in the same hour
// for it to count as a fleet-wide change: 3, or 10% of the active hosts.
func (p *phaseTwo) fleetMin() int {
	pop := 0
	if p.prev != nil {
		pop = p.prev.Population()
	}
	return max(3, pop/10)
}

// rarityMatters reports whether a destination's rarity weighs on a kind.
func rarityMatters(kind string) bool {
	switch kind {
	case flow.SignalBeacon, flow.SignalExfil, flow.SignalDNSTunnel, flow.SignalNewTalker, flow.SignalLongConn:
		return true
	}
	return false
}

// alert turns a signal into an alert with both phases in its details.
func (p *phaseTwo) alert(s flow.Signal) schema.Alert {
	d := map[string]string{}
	phaseOne(s, d)
	sev := s.Severity
	if sev == 0 {
		sev = severityFromScore(s.Score)
	}
	up, down, why := p.adjust(s, d)
	adj := min(up, 2) - down
	final := clampSeverity(sev + schema.Severity(adj))
	if hit, ok := p.intelHit(s); ok {
		d["phase2.intel"] = fmt.Sprintf("%s (source %s, confidence %d)", hit.Indicator, hit.Source, hit.Confidence)
		d["phase2.intel.confidence"] = strconv.Itoa(hit.Confidence)
		d["phase2.intel.c2"] = strconv.FormatBool(hit.C2)
		why = append(why, "known-bad destination: at least high")
		final = max(final, schema.SeverityHigh)
	}
	d["phase2.adjustments"] = strings.Join(why, "; ")
	if len(why) == 0 {
		d["phase2.adjustments"] = "none"
	}
	d["phase2.severity"] = final.String()
	host := s.Host.String()
	if a, ok := p.assets[s.Host]; ok && a.Name != "" {
		host = a.Name
	}
	al := schema.Alert{
		RuleID: "vigil.network." + s.Kind, RuleName: s.Detector, Kind: s.Kind, Title: s.Title,
		Severity: final, Priority: schema.PriorityFromSeverity(final),
		FirstSeen: s.Start, LastSeen: s.End, Host: host, SourceIP: addrString(s.Host),
		DestinationIP: addrString(s.Peer), DestinationDomain: s.PeerName, Tags: s.Tags,
		EvidenceIDs: s.Evidence, DedupKey: "network|" + s.Key, Details: d,
	}
	if al.LastSeen.Before(al.FirstSeen) || al.LastSeen.IsZero() {
		al.LastSeen = al.FirstSeen
	}
	p.remember(s)
	return al
}

// phaseOne writes the signal's own figures.
func phaseOne(s flow.Signal, d map[string]string) {
	d["phase1.signal"] = s.Kind
	d["phase1.detector"] = s.Detector
	d["phase1.window"] = s.Start.UTC().Format(time.RFC3339) + " – " + s.End.UTC().Format(time.RFC3339)
	if s.Metric != "" {
		d["phase1.metric"] = s.Metric
		d["phase1.baseline"] = num(s.Baseline)
		d["phase1.current"] = num(s.Current)
		d["phase1.factor"] = num(s.Factor)
	}
	d["phase1.score"] = strconv.FormatFloat(s.Score, 'f', 2, 64)
	d["phase1.severity"] = s.Severity.String()
	for _, f := range s.Facts {
		d["phase1."+f.Key] = f.Value
	}
	if s.Port != 0 {
		d["phase1.port"] = strconv.Itoa(int(s.Port))
	}
}

// adjust applies the context rules and returns the steps up and down and
// the reasons, writing each context figure into d.
func (p *phaseTwo) adjust(s flow.Signal, d map[string]string) (up, down int, why []string) {
	external := s.Peer.IsValid() && !p.internal.Contains(s.Peer)
	if p.prev != nil && (s.Peer.IsValid() || s.PeerName != "") {
		n := p.prev.Hosts(s.Peer)
		if s.PeerName != "" {
			n = max(n, p.prev.HostsName(s.PeerName))
		}
		pop := p.prev.Population()
		d["phase2.prevalence"] = fmt.Sprintf("%d of %d internal hosts", n, pop)
		switch {
		case rarityMatters(s.Kind) && (external || s.PeerName != "") && n <= 1:
			up++
			why = append(why, "rare destination (+1)")
		case pop > 0 && n >= 3 && float64(n) >= 0.3*float64(pop):
			down++
			why = append(why, "destination common among hosts (-1)")
		}
	}
	if !s.Start.IsZero() && p.hours.OffHours(s.Start) {
		d["phase2.off_hours"] = "yes"
		if offHoursMatters(s) {
			up++
			why = append(why, "off-hours (+1)")
		}
	} else {
		d["phase2.off_hours"] = "no"
	}
	if n := p.fleet[fleetKey(s)]; s.Kind == flow.SignalBaseline && n >= p.fleetMin() {
		d["phase2.fleet_wide"] = fmt.Sprintf("%s deviated on %d hosts in the same hour", s.Metric, n)
		down += 2
		why = append(why, "fleet-wide change, not this host alone (-2)")
	}
	if crit := p.criticality(s); crit != "" {
		d["phase2.asset_criticality"] = crit
		if crit == "high" || crit == "critical" {
			up++
			why = append(why, crit+" asset (+1)")
		}
	}
	if s.Port != 0 && p.adminPorts[s.Port] && !p.adminHosts.Contains(s.Host) && s.Kind != flow.SignalScan {
		d["phase2.admin_protocol"] = fmt.Sprintf("port %d from a non-admin host", s.Port)
		up++
		why = append(why, "admin protocol from non-admin host (+1)")
	}
	if n := p.otherAlerts(s); n > 0 {
		d["phase2.open_alerts"] = strconv.Itoa(n)
		up++
		why = append(why, "host has other open alerts (+1)")
	} else {
		d["phase2.open_alerts"] = "0"
	}
	return up, down, why
}

// criticality returns the higher criticality of the host and peer assets.
func (p *phaseTwo) criticality(s flow.Signal) string {
	best, rank := "", 0
	for _, a := range []netip.Addr{s.Host, s.Peer} {
		if as, ok := p.assets[a]; ok {
			if r := critRank(as.Criticality); r > rank {
				best, rank = as.Criticality, r
			}
		}
	}
	return best
}

func critRank(c string) int {
	switch c {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}

func (p *phaseTwo) intelHit(s flow.Signal) (IntelHit, bool) {
	if p.intel == nil {
		return IntelHit{}, false
	}
	return p.intel.Lookup(s.Peer, s.PeerName, s.Start)
}

// otherAlerts counts the host's alerts of other kinds: the larger of the
// external count and the engine's own recent alerts.
func (p *phaseTwo) otherAlerts(s flow.Signal) int {
	n := 0
	for _, r := range p.recent[s.Host] {
		if r.kind != s.Kind && s.Start.Sub(r.at) <= corroborationWindow {
			n++
		}
	}
	if p.hostAlerts != nil {
		host := s.Host.String()
		if a, ok := p.assets[s.Host]; ok && a.Name != "" {
			host = a.Name
		}
		n = max(n, p.hostAlerts.OpenAlerts(host, "vigil.network."+s.Kind))
	}
	return n
}

// remember records the signal for corroboration and forgets old ones.
func (p *phaseTwo) remember(s flow.Signal) {
	rs := p.recent[s.Host]
	j := 0
	for _, r := range rs {
		if s.End.Sub(r.at) <= corroborationWindow && r.kind != s.Kind {
			rs[j] = r
			j++
		}
	}
	p.recent[s.Host] = append(rs[:j], recentAlert{kind: s.Kind, at: s.End})
}

// forget drops corroboration memory older than the window before t.
func (p *phaseTwo) forget(t time.Time) {
	for h, rs := range p.recent {
		j := 0
		for _, r := range rs {
			if t.Sub(r.at) <= corroborationWindow {
				rs[j] = r
				j++
			}
		}
		if j == 0 {
			delete(p.recent, h)
		} else {
			p.recent[h] = rs[:j]
		}
	}
}

func severityFromScore(s float64) schema.Severity {
	switch {
	case s >= 0.9:
		return schema.SeverityHigh
	case s >= 0.75:
		return schema.SeverityMedium
	case s >= 0.5:
		return schema.SeverityLow
	}
	return schema.SeverityInformational
}

func clampSeverity(s schema.Severity) schema.Severity {
	return min(max(s, schema.SeverityInformational), schema.SeverityCritical)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func num(f float64) string {
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
