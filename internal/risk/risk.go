// Package risk ranks what matters first: it gives every alert a priority
// from its severity, the criticality of the asset it is about, the
// confidence of the threat intelligence behind it and corroboration by other
// detections on the same host; and it scores hosts by their open alerts.
//
// Host risk follows a fixed matrix before any arithmetic, so that its order
// cannot be bought with volume:
//
//	level     when
//	critical  two or more distinct detections, at least one high or critical
//	high      one high or critical detection, or any contact with known C2
//	medium    two or more distinct detections, all below high
//	low       one detection below high
//
// Within a level, hosts in contact with known C2 come first (+50). Open
// critical (3) and high (1) vulnerabilities of the host's asset add to the
// sum (at most 20). Then the
// score adds each distinct detection's weight (informational 1, low 2,
// medium 5, high 10, critical 20), halved for every HalfLife since its last
// evidence, scaled by the asset's criticality (low 0.75, medium 1, high 1.5,
// critical 2); half that sum counts, at most 49. The score is 100 × level +
// those points (at most 99), so the level always decides first.
//
// Alerts about a whole subnet (the network baselines per /24) are not any
// one host's risk and are left out.
package risk

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Levels of host risk, lowest first.
const (
	LevelNone = iota
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

var levelNames = [...]string{"none", "low", "medium", "high", "critical"}

// LevelName returns the name of a level.
func LevelName(l int) string {
	if l < 0 || l >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l]
}

// AssetLookup finds the inventory entry of a host name or address.
type AssetLookup interface {
	AssetFor(host string) (schema.Asset, bool)
}

// Options tune host risk.
type Options struct {
	// HalfLife halves a detection's weight (default 7 days).
	HalfLife time.Duration
	// Vulns, when set, raises the score of hosts with open critical (3
	// points each) and high (1 point each) vulnerabilities, at most 20.
	Vulns VulnLookup
}

// Detection is one distinct detection (rule) on a host.
type Detection struct {
	RuleID   string          `json:"rule_id"`
	Title    string          `json:"title"`
	Kind     string          `json:"kind"`
	Severity schema.Severity `json:"severity"`
	Alerts   int             `json:"alerts"`
	LastSeen time.Time       `json:"last_seen"`
	C2       bool            `json:"c2,omitempty"`
}

// HostRisk is a host's risk and why.
type HostRisk struct {
	// Host is the asset's name when the inventory knows the host, else the
	// host name or address the alerts carry.
	Host        string      `json:"host"`
	AssetID     string      `json:"asset_id,omitempty"`
	Role        string      `json:"role,omitempty"`
	Criticality string      `json:"criticality,omitempty"`
	Score       float64     `json:"score"`
	Level       string      `json:"level"`
	Why         []string    `json:"why"`
	C2          bool        `json:"c2"`
	Alerts      int         `json:"alerts"`
	Detections  []Detection `json:"detections"`
	FirstSeen   time.Time   `json:"first_seen"`
	LastSeen    time.Time   `json:"last_seen"`
	// Aliases are the host names and addresses merged into this host.
	Aliases []string `json:"aliases"`
	// AlertIDs are the open alerts behind the score, newest first.
	AlertIDs []string `json:"alert_ids"`
	// Vulns counts the host's open critical and high vulnerabilities.
	Vulns [2]int `json:"open_vulns"`
}

type hostAcc struct {
	HostRisk
	dets map[string]*Detection
}

// Compute scores every host that has one of the open alerts, highest risk
// first. Alerts about the same asset (by name or any of its addresses) are
// one host.
func Compute(alerts []schema.Alert, assets AssetLookup, now time.Time, o Options) []HostRisk {
	if o.HalfLife <= 0 {
		o.HalfLife = 7 * 24 * time.Hour
	}
	hosts := map[string]*hostAcc{}
	for i := range alerts {
		a := &alerts[i]
		if strings.HasPrefix(a.Details["phase1.entity"], "subnet ") {
			continue // about a whole network, not one host
		}
		h := hostFor(hosts, a, assets)
		h.add(a)
	}
	out := make([]HostRisk, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, h.finish(now, o))
	}
	slices.SortFunc(out, func(a, b HostRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Host, b.Host))
	})
	return out
}

func hostFor(hosts map[string]*hostAcc, a *schema.Alert, assets AssetLookup) *hostAcc {
	name := a.Host
	if name == "" {
		name = a.SourceIP
	}
	key, asset := name, schema.Asset{}
	if assets != nil {
		if as, ok := assets.AssetFor(name); ok {
			asset = as
			key = "asset:" + as.ID
			if as.ID == "" {
				key = "asset:" + as.Name
			}
		}
	}
	h, ok := hosts[key]
	if !ok {
		display := name
		if asset.Name != "" {
			display = asset.Name
		}
		h = &hostAcc{HostRisk: HostRisk{Host: display, AssetID: asset.ID, Role: asset.Role, Criticality: asset.Criticality},
			dets: map[string]*Detection{}}
		hosts[key] = h
	}
	if !slices.Contains(h.Aliases, name) {
		h.Aliases = append(h.Aliases, name)
	}
	// The alert's source address is the same host when the inventory says
	// it belongs to the same asset (not, say, the remote side of a logon).
	if ip := a.SourceIP; ip != "" && ip != name && asset.Name != "" && !slices.Contains(h.Aliases, ip) {
		if as, ok := assets.AssetFor(ip); ok && as.Name == asset.Name && as.ID == asset.ID {
			h.Aliases = append(h.Aliases, ip)
		}
	}
	return h
}

// IsC2 reports whether an alert is about contact with known
// command-and-control infrastructure.
func IsC2(a *schema.Alert) bool {
	return (a.Kind == schema.KindIOC && a.Details["indicator.c2"] == "true") ||
		(a.Details["phase2.intel"] != "" && a.Details["phase2.intel.c2"] == "true")
}

func (h *hostAcc) add(a *schema.Alert) {
	h.Alerts++
	h.AlertIDs = append(h.AlertIDs, a.ID)
	if h.FirstSeen.IsZero() || a.FirstSeen.Before(h.FirstSeen) {
		h.FirstSeen = a.FirstSeen
	}
	if a.LastSeen.After(h.LastSeen) {
		h.LastSeen = a.LastSeen
	}
	d, ok := h.dets[a.RuleID]
	if !ok {
		d = &Detection{RuleID: a.RuleID, Title: a.Title, Kind: a.Kind}
		h.dets[a.RuleID] = d
	}
	d.Alerts++
	if a.Severity > d.Severity {
		d.Severity, d.Title = a.Severity, a.Title
	}
	if a.LastSeen.After(d.LastSeen) {
		d.LastSeen = a.LastSeen
	}
	if IsC2(a) {
		d.C2, h.C2 = true, true
	}
}

var sevWeight = map[schema.Severity]float64{schema.SeverityInformational: 1, schema.SeverityLow: 2,
	schema.SeverityMedium: 5, schema.SeverityHigh: 10, schema.SeverityCritical: 20}

// CriticalityFactor scales risk by asset criticality (unknown is medium).
func CriticalityFactor(c string) float64 {
	switch c {
	case "low":
		return 0.75
	case "high":
		return 1.5
	case "critical":
		return 2
	}
	return 1
}

func (h *hostAcc) finish(now time.Time, o Options) HostRisk {
	r := h.HostRisk
	var top schema.Severity
	sum := 0.0
	for _, d := range h.dets {
		r.Detections = append(r.Detections, *d)
		top = max(top, d.Severity)
		age := max(0, now.Sub(d.LastSeen))
		sum += sevWeight[d.Severity] * math.Exp2(-float64(age)/float64(o.HalfLife))
	}
	slices.SortFunc(r.Detections, func(a, b Detection) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), b.LastSeen.Compare(a.LastSeen), strings.Compare(a.RuleID, b.RuleID))
	})
	n := len(r.Detections)
	level := matrixLevel(n, top, r.C2)
	if o.Vulns != nil {
		if c, hi := o.Vulns.OpenVulns(r.Host); c+hi > 0 {
			sum += math.Min(20, float64(3*c+hi))
			r.Vulns = [2]int{c, hi}
			h.Vulns = r.Vulns
		}
	}
	sum *= CriticalityFactor(r.Criticality)
	within := math.Min(49, sum/2)
	if r.C2 {
		within += 50
	}
	r.Score = float64(level)*100 + math.Round(within*10)/10
	r.Level = LevelName(level)
	r.Why = h.why(n, top, level)
	return r
}

func matrixLevel(distinct int, top schema.Severity, c2 bool) int {
	high := top >= schema.SeverityHigh
	level := LevelLow
	switch {
	case distinct >= 2 && high:
		level = LevelCritical
	case high:
		level = LevelHigh
	case distinct >= 2:
		level = LevelMedium
	}
	if c2 && level < LevelHigh {
		level = LevelHigh
	}
	return level
}

func (h *hostAcc) why(distinct int, top schema.Severity, level int) []string {
	var why []string
	if h.C2 {
		for _, d := range h.dets {
			if d.C2 {
				why = append(why, "contact with known C2: "+d.Title)
			}
		}
		slices.Sort(why)
	}
	plural := "detection"
	if distinct != 1 {
		plural = "detections"
	}
	why = append(why, fmt.Sprintf("%d distinct %s, highest severity %s → %s", distinct, plural, top, LevelName(level)))
	if h.Criticality != "" {
		why = append(why, "asset criticality "+h.Criticality+fmt.Sprintf(" (×%.2g)", CriticalityFactor(h.Criticality)))
	}
	if v := h.Vulns; v[0]+v[1] > 0 {
		why = append(why, fmt.Sprintf("%d critical and %d high open vulnerabilities", v[0], v[1]))
	}
	return why
}
