package risk

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type assetMap map[string]schema.Asset

func (m assetMap) AssetFor(h string) (schema.Asset, bool) { a, ok := m[h]; return a, ok }

func alert(host, rule string, sev schema.Severity, age time.Duration) schema.Alert {
	return schema.Alert{ID: host + "/" + rule + "/" + strconv.Itoa(int(age)), Host: host, RuleID: rule, Title: rule, Kind: schema.KindSigma,
		Severity: sev, FirstSeen: now.Add(-age), LastSeen: now.Add(-age), Status: schema.StatusNew}
}

func c2(host string) schema.Alert {
	a := alert(host, "vigil.intel.ip", schema.SeverityMedium, time.Hour)
	a.Kind = schema.KindIOC
	a.Details = map[string]string{"indicator.c2": "true"}
	return a
}

// TestMatrixOrder builds the seed's cases and checks their order: multiple
// detections with high severity first, any C2 contact at least high, then a
// single high, multiple low, single low. Volume must not reorder them: the
// "multiple low" host has many more alerts than the "single high" one.
func TestMatrixOrder(t *testing.T) {
	t.Parallel()
	var alerts []schema.Alert
	alerts = append(alerts,
		alert("multi-high", "r1", schema.SeverityHigh, time.Hour), alert("multi-high", "r2", schema.SeverityLow, time.Hour),
		alert("single-high", "r1", schema.SeverityHigh, 2*time.Hour),
		alert("single-low", "r3", schema.SeverityLow, time.Hour),
		c2("c2-only"),
	)
	for i := range 40 {
		alerts = append(alerts, alert("multi-low", "r"+strconv.Itoa(10+i%8), schema.SeverityMedium, time.Duration(i)*time.Minute))
	}
	got := Compute(alerts, nil, now, Options{})
	var order []string
	levels := map[string]string{}
	for _, h := range got {
		order = append(order, h.Host)
		levels[h.Host] = h.Level
	}
	// The C2 host and the single-high host are both "high"; within a level
	// contact with known C2 comes first.
	want := []string{"multi-high", "c2-only", "single-high", "multi-low", "single-low"}
	if !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	wantLevels := map[string]string{"multi-high": "critical", "single-high": "high", "c2-only": "high",
		"multi-low": "medium", "single-low": "low"}
	for h, l := range wantLevels {
		if levels[h] != l {
			t.Errorf("%s: level %s, want %s", h, levels[h], l)
		}
	}
	if !strings.HasPrefix(got[1].Why[0], "contact with known C2") || !got[1].C2 {
		t.Errorf("C2 host does not say so: %+v", got[1])
	}
	// Subnet-wide alerts are no host's risk.
	sub := alert("10.0.3.0", "vigil.network.baseline", schema.SeverityCritical, 0)
	sub.Details = map[string]string{"phase1.entity": "subnet 10.0.3.0/24"}
	if got := Compute([]schema.Alert{sub}, nil, now, Options{}); len(got) != 0 {
		t.Errorf("subnet alert made a host: %+v", got)
	}
}

// TestC2WithOtherDetections keeps a C2 host with a second high detection
// critical, and merges alerts about an asset's name and address.
func TestC2WithOtherDetections(t *testing.T) {
	t.Parallel()
	assets := assetMap{"10.0.0.5": {ID: "a1", Name: "db01", Criticality: "critical"}, "db01": {ID: "a1", Name: "db01", Criticality: "critical"}}
	a := c2("10.0.0.5")
	a.Severity = schema.SeverityHigh
	got := Compute([]schema.Alert{a, alert("db01", "r1", schema.SeverityHigh, time.Hour), alert("ws9", "r1", schema.SeverityHigh, time.Hour)},
		assets, now, Options{})
	if len(got) != 2 || got[0].Host != "db01" || got[0].Level != "critical" || got[0].Alerts != 2 || len(got[0].Aliases) != 2 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Score <= got[1].Score {
		t.Fatal("critical asset scored no higher")
	}
}

func TestDecay(t *testing.T) {
	t.Parallel()
	got := Compute([]schema.Alert{alert("old", "r1", schema.SeverityHigh, 14*24*time.Hour), alert("new", "r1", schema.SeverityHigh, 0)},
		nil, now, Options{})
	if got[0].Host != "new" || got[0].Score != 305 || got[1].Score != 301.3 {
		t.Fatalf("decay: %+v", got)
	}
}

func TestPriority(t *testing.T) {
	t.Parallel()
	assets := assetMap{"dc01": {Name: "dc01", Role: "domain controller", Criticality: "critical"}, "kiosk": {Name: "kiosk", Criticality: "low"}}
	open := func(host, except string) int {
		if host == "dc01" {
			return 3
		}
		return 0
	}
	p := &Prioritizer{Assets: assets, Open: open}
	tests := []struct {
		name string
		a    schema.Alert
		want int
	}{
		{"high on a critical asset with corroboration", alert("dc01", "r", schema.SeverityHigh, 0), 1},
		{"high on an unknown host", alert("ws1", "r", schema.SeverityHigh, 0), 2},
		{"medium on a low asset", alert("kiosk", "r", schema.SeverityMedium, 0), 3},
		{"low", alert("ws1", "r", schema.SeverityLow, 0), 4},
		{"informational", alert("ws1", "r", schema.SeverityInformational, 0), 5},
		{"low-confidence intel on a low asset", func() schema.Alert {
			a := alert("kiosk", "r", schema.SeverityMedium, 0)
			a.Details = map[string]string{"indicator.confidence": "20"}
			return a
		}(), 4},
	}
	for _, tc := range tests {
		a := tc.a
		p.Apply(&a)
		if tc.a.Host == "dc01" && (a.Details["asset.role"] != "domain controller" || a.Details["asset.criticality"] != "critical") {
			t.Errorf("%s: asset details %v", tc.name, a.Details)
		}
		if a.Priority != tc.want {
			t.Errorf("%s: priority %d (%s), want %d", tc.name, a.Priority, a.Details["priority.why"], tc.want)
		}
	}
}

type vulnMap map[string][2]int

func (m vulnMap) OpenVulns(h string) (int, int) { v := m[h]; return v[0], v[1] }

// TestVulnerableHostRanksHigher: of two hosts with the same detection, the
// one with open critical vulnerabilities scores higher and says why; its
// alerts get a more urgent priority.
func TestVulnerableHostRanksHigher(t *testing.T) {
	t.Parallel()
	vm := vulnMap{"db01": {2, 1}}
	got := Compute([]schema.Alert{alert("db01", "r1", schema.SeverityMedium, 0), alert("web01", "r1", schema.SeverityMedium, 0)},
		nil, now, Options{Vulns: vm})
	if got[0].Host != "db01" || got[0].Score <= got[1].Score || got[0].Vulns != [2]int{2, 1} ||
		!strings.Contains(strings.Join(got[0].Why, ";"), "2 critical and 1 high open vulnerabilities") {
		t.Fatalf("got %+v", got)
	}
	p := &Prioritizer{Vulns: vm}
	a, b := alert("db01", "r", schema.SeverityMedium, 0), alert("web01", "r", schema.SeverityMedium, 0)
	p.Apply(&a)
	p.Apply(&b)
	if a.Priority >= b.Priority {
		t.Fatalf("priorities %d (vulnerable) and %d", a.Priority, b.Priority)
	}
}

func TestSortHosts(t *testing.T) {
	t.Parallel()
	hs := []HostRisk{{Host: "b", LastSeen: now}, {Host: "a", LastSeen: now.Add(-time.Hour)}, {Host: "c", LastSeen: now.Add(time.Hour)}}
	names := func() string { return hs[0].Host + hs[1].Host + hs[2].Host }
	if err := SortHosts(hs, "name"); err != nil || names() != "abc" {
		t.Fatalf("by name: %s, %v", names(), err)
	}
	if err := SortHosts(hs, "last_seen"); err != nil || names() != "cba" {
		t.Fatalf("by last seen: %s, %v", names(), err)
	}
	if err := SortHosts(hs, "risk"); err != nil || names() != "cba" {
		t.Fatalf("by risk keeps the ranking: %s, %v", names(), err)
	}
	if err := SortHosts(hs, "size"); err == nil {
		t.Fatal("unknown order accepted")
	}
}
