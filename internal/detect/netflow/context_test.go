package netflow

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

type intelList map[netip.Addr]IntelHit

func (l intelList) Lookup(a netip.Addr, _ string, _ time.Time) (IntelHit, bool) {
	h, ok := l[a]
	return h, ok
}

// TestPhaseTwo checks each context rule on hand-built signals.
func TestPhaseTwo(t *testing.T) {
	t.Parallel()
	internal, _ := flow.NewSet(flow.DefaultInternal())
	admins, _ := flow.NewSet([]string{"10.0.9.9"})
	ws := netip.MustParseAddr("10.0.1.5")
	db := netip.MustParseAddr("10.0.2.10")
	rare := netip.MustParseAddr("203.0.113.7")
	cdn := netip.MustParseAddr("198.51.100.1")
	bad := netip.MustParseAddr("192.0.2.66")
	// Wednesday 2026-11-18 is a working day; 14:00 is business hours.
	work := time.Date(2026, 11, 18, 14, 0, 0, 0, time.UTC)
	night := time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)

	cases := []struct {
		name   string
		sig    flow.Signal
		want   schema.Severity
		reason string
	}{
		{"rare destination", flow.Signal{Kind: flow.SignalBeacon, Host: ws, Peer: rare, Severity: schema.SeverityMedium, Start: work, Key: "a"},
			schema.SeverityHigh, "rare destination"},
		{"common destination", flow.Signal{Kind: flow.SignalBeacon, Host: ws, Peer: cdn, Severity: schema.SeverityMedium, Start: work, Key: "b"},
			schema.SeverityLow, "common among hosts"},
		{"off-hours exfil to rare", flow.Signal{Kind: flow.SignalExfil, Host: ws, Peer: rare, Severity: schema.SeverityMedium, Start: night, Key: "c"},
			schema.SeverityCritical, "off-hours"},
		{"critical asset, admin port", flow.Signal{Kind: flow.SignalNewTalker, Host: ws, Peer: db, Port: 3389, Severity: schema.SeverityLow, Start: work, Key: "d"},
			schema.SeverityHigh, "admin protocol"},
		{"admin host is not penalised", flow.Signal{Kind: flow.SignalNewTalker, Host: netip.MustParseAddr("10.0.9.9"), Peer: netip.MustParseAddr("10.0.3.3"), Port: 3389, Severity: schema.SeverityLow, Start: work, Key: "e"},
			schema.SeverityLow, "none"},
		{"known bad at least high", flow.Signal{Kind: flow.SignalScan, Host: ws, Peer: bad, Severity: schema.SeverityLow, Start: work, Key: "f"},
			schema.SeverityHigh, "known-bad"},
		{"upward steps capped at two", flow.Signal{Kind: flow.SignalExfil, Host: ws, Peer: rare, Port: 22, Severity: schema.SeverityLow, Start: night, Key: "g"},
			schema.SeverityHigh, "off-hours"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prev := flow.NewPrevalence(7, 64)
			for i := range 10 {
				h := netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)})
				prev.Observe(h, cdn, "", work.Add(-time.Hour))
			}
			prev.Observe(ws, rare, "", work.Add(-time.Hour))
			p := &phaseTwo{internal: internal, adminHosts: admins, adminPorts: map[uint16]bool{3389: true, 22: true},
				assets: map[netip.Addr]Asset{db: {Name: "db01", Role: "database", Criticality: "critical"}},
				hours:  Hours{Start: 7, End: 19, Days: []time.Weekday{1, 2, 3, 4, 5}}, prev: prev,
				intel:  intelList{bad: {Indicator: "192.0.2.66", Source: "test-feed", Confidence: 90}},
				recent: map[netip.Addr][]recentAlert{}}
			a := p.alert(tc.sig)
			if a.Severity != tc.want {
				t.Errorf("severity = %v, want %v (details %v)", a.Severity, tc.want, a.Details)
			}
			if a.Priority != schema.PriorityFromSeverity(tc.want) {
				t.Errorf("priority = %d", a.Priority)
			}
			if !strings.Contains(a.Details["phase2.adjustments"], tc.reason) {
				t.Errorf("adjustments %q do not mention %q", a.Details["phase2.adjustments"], tc.reason)
			}
			if a.Details["phase1.signal"] != tc.sig.Kind || a.Kind != tc.sig.Kind || a.DedupKey != "network|"+tc.sig.Key {
				t.Errorf("phase one not carried: %+v", a)
			}
		})
	}
}

// TestCorroboration raises a second, different finding on the same host.
func TestCorroboration(t *testing.T) {
	t.Parallel()
	internal, _ := flow.NewSet(flow.DefaultInternal())
	ws := netip.MustParseAddr("10.0.1.5")
	t0 := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	p := &phaseTwo{internal: internal, hours: Hours{Start: 0, End: 24, Days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}},
		recent: map[netip.Addr][]recentAlert{}}
	first := p.alert(flow.Signal{Kind: flow.SignalScan, Host: ws, Severity: schema.SeverityMedium, Start: t0, End: t0, Key: "scan"})
	again := p.alert(flow.Signal{Kind: flow.SignalScan, Host: ws, Severity: schema.SeverityMedium, Start: t0.Add(time.Hour), End: t0.Add(time.Hour), Key: "scan"})
	other := p.alert(flow.Signal{Kind: flow.SignalBeacon, Host: ws, Metric: "connections", Baseline: 10, Current: 100, Factor: 10,
		Severity: schema.SeverityMedium, Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Key: "base"})
	late := p.alert(flow.Signal{Kind: flow.SignalBaseline, Host: ws, Severity: schema.SeverityMedium,
		Start: t0.Add(48 * time.Hour), End: t0.Add(49 * time.Hour), Key: "base2"})
	if first.Severity != schema.SeverityMedium || again.Severity != schema.SeverityMedium {
		t.Errorf("a repeat of the same finding corroborated itself: %v %v", first.Severity, again.Severity)
	}
	if other.Severity != schema.SeverityHigh || other.Details["phase2.open_alerts"] != "1" {
		t.Errorf("second finding: %v %v", other.Severity, other.Details)
	}
	if other.Details["phase1.baseline"] != "10" || other.Details["phase1.factor"] != "10" {
		t.Errorf("deviation figures missing: %v", other.Details)
	}
	if late.Severity != schema.SeverityMedium {
		t.Errorf("alerts two days old still corroborate: %v", late.Details)
	}
}
