package netsim

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Truth is one entry of the ground truth: an injected scenario, or a benign
// look-alike an analytic must not report at high severity.
type Truth struct {
	// Scenario is the scenario or benign activity name (Scenario*,
	// Benign*).
	Scenario string
	// Kind is the flow.Signal* kind a detection of it has; Also lists
	// further kinds that are also right about it (an exfiltration is also a
	// bytes-out baseline deviation).
	Kind string
	Also []string
	// Benign marks a look-alike.
	Benign bool
	// Src is the originating host; the zero Addr means every internal host
	// (the benign services all hosts use). SrcName is its host name when
	// internal.
	Src     netip.Addr
	SrcName string
	// Dst is the other side when there is one; DstName its host name when
	// internal.
	Dst     netip.Addr
	DstName string
	// Name is the TLS server or DNS name, or the registered domain of a DNS
	// tunnel or CDN.
	Name string
	// Targets is the range a scan or sweep probes.
	Targets netip.Prefix
	// Port is the destination port; PortMax, when set, ends a range
	// starting at Port (a vertical scan).
	Port, PortMax uint16
	// Proto is the transport (flow.ProtoTCP, ...).
	Proto uint8
	// Start and End bound the activity: every record of it has Start ≤ ts ≤
	// End.
	Start, End time.Time
	// Period and Jitter describe periodic activity: the mean interval and
	// the uniform jitter as a fraction of it (0.2 = ±20%).
	Period time.Duration
	Jitter float64
	// Bytes is the volume sent (exfiltration, a night's backup).
	Bytes int64
	// Count is the planned number of events (connections, queries, probes)
	// when it is fixed in advance; 0 when it depends on timing.
	Count int
	// Description says what happens, in a sentence.
	Description string
}

// Kinds returns Kind and Also.
func (t *Truth) Kinds() []string { return append([]string{t.Kind}, t.Also...) }

// Matches reports whether r is one of the records the entry describes.
// Records are matched by source, time, and the kind's own key: the
// destination and port of a flow, the name of a lookup or TLS server, the
// registered domain of a tunnel, the targets of a scan.
func (t *Truth) Matches(r *flow.Record) bool {
	if r.Start.Before(t.Start) || r.Start.After(t.End) {
		return false
	}
	if t.Src.IsValid() && r.Src != t.Src {
		return false
	}
	switch t.Kind {
	case flow.SignalBeacon:
		if t.Name != "" && (r.Kind == flow.KindDNS || r.Kind == flow.KindApp) {
			return r.Name == t.Name
		}
		return r.Kind == flow.KindFlow && r.Dst == t.Dst && (t.Port == 0 || r.DstPort == t.Port)
	case flow.SignalDNSTunnel:
		return r.Kind == flow.KindDNS && nameUnder(r.Name, t.Name)
	case flow.SignalDGA:
		return r.Kind == flow.KindDNS && r.RCode == "NXDOMAIN"
	case flow.SignalScan:
		if r.Kind != flow.KindFlow || (t.Proto != 0 && r.Proto != t.Proto) {
			return false
		}
		if t.Targets.IsValid() {
			return t.Targets.Contains(r.Dst) && t.portMatches(r.DstPort)
		}
		return r.Dst == t.Dst && t.portMatches(r.DstPort)
	case flow.SignalBaseline:
		if t.Dst.IsValid() && r.Kind == flow.KindFlow {
			return r.Dst == t.Dst
		}
		if t.Name != "" {
			return r.Name == t.Name
		}
		return !t.Dst.IsValid()
	}
	// Exfiltration, long connections, new talkers: one flow key.
	return r.Kind == flow.KindFlow && r.Dst == t.Dst && t.portMatches(r.DstPort)
}

func (t *Truth) portMatches(p uint16) bool {
	if t.PortMax > 0 {
		return p >= t.Port && p <= t.PortMax
	}
	return t.Port == 0 || p == t.Port
}

// nameUnder reports whether name is domain or a name below it.
func nameUnder(name, domain string) bool {
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// SignalSlack is how far outside [Start, End] a signal's window may lie and
// still match: analytics report when their windows close.
const SignalSlack = 2 * time.Hour

// MatchesSignal reports whether s is a finding about this entry: its kind is
// Kind or in Also, its host is one of the entry's endpoints (or any host
// for an entry of every host), its peer or peer name agree when both sides
// name one, and its window overlaps [Start-SignalSlack, End+SignalSlack]
// (a zero window always overlaps). Use it to count true positives against
// Truth and false positives against Benign.
func (t *Truth) MatchesSignal(s *flow.Signal) bool {
	if s.Kind != t.Kind && !slices.Contains(t.Also, s.Kind) {
		return false
	}
	if !s.Start.IsZero() && s.Start.After(t.End.Add(SignalSlack)) {
		return false
	}
	if !s.End.IsZero() && s.End.Before(t.Start.Add(-SignalSlack)) {
		return false
	}
	if s.Host.IsValid() && t.Src.IsValid() && !t.isEndpoint(s.Host) {
		return false
	}
	if !s.Host.IsValid() && s.PeerName == "" {
		return false
	}
	if s.Peer.IsValid() && (t.Dst.IsValid() || t.Targets.IsValid()) && !t.isEndpoint(s.Peer) {
		return false
	}
	if s.PeerName != "" && t.Name != "" {
		return nameUnder(s.PeerName, t.Name) || nameUnder(t.Name, s.PeerName)
	}
	return true
}

// isEndpoint reports whether a is the entry's source, destination or in
// its targets.
func (t *Truth) isEndpoint(a netip.Addr) bool {
	switch {
	case !a.IsValid():
		return false
	case a == t.Src, a == t.Dst:
		return true
	case t.Targets.IsValid() && t.Targets.Contains(a):
		return true
	}
	return false
}
