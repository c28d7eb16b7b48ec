package risk

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// OpenAlerts counts a host's open alerts other than those of one rule
// (statedb.DB.OpenAlertCount behind a timeout).
type OpenAlerts func(host, exceptRule string) int

// Prioritizer sets every alert's priority (1 most urgent … 5) from
//
//	severity      informational 1, low 2, medium 3, high 4, critical 5 points
//	criticality   of the asset the alert is about: low −0.5, high +0.5, critical +1
//	intel         confidence of the indicator behind it: ≥ 80 +0.5, < 40 −0.5
//	corroboration other open alerts on the host: 1–2 +0.5, 3 or more +1
//	exposure      open critical or high vulnerabilities on the host: +0.5
//
// priority = 6 − the points rounded half up (a tie goes to the more urgent
// priority: one half-point step alone raises urgency but does not lower
// it), kept within 1..5. The
// reasons are written to the alert's details ("priority.why"), and so is
// the asset's name, role and criticality ("asset.*") when the inventory
// knows the host.
type Prioritizer struct {
	Assets AssetLookup
	Open   OpenAlerts
	// Vulns, when set, adds +0.5 for a host with open critical or high
	// vulnerabilities.
	Vulns VulnLookup
}

// VulnLookup counts the open critical and high vulnerability findings of
// the asset a host name or address belongs to.
type VulnLookup interface {
	OpenVulns(host string) (critical, high int)
}

// Apply sets a's priority and explains it.
func (p *Prioritizer) Apply(a *schema.Alert) {
	pts := float64(a.Severity)
	why := []string{"severity " + a.Severity.String()}
	as := p.asset(a)
	if a.Details == nil {
		a.Details = map[string]string{}
	}
	if as.Name != "" {
		a.Details["asset.name"] = as.Name
		if as.Role != "" {
			a.Details["asset.role"] = as.Role
		}
		if as.Criticality != "" {
			a.Details["asset.criticality"] = as.Criticality
		}
	}
	if crit := as.Criticality; crit != "" {
		adj := map[string]float64{"low": -0.5, "high": 0.5, "critical": 1}[crit]
		pts += adj
		why = append(why, fmt.Sprintf("asset criticality %s (%+.1f)", crit, adj))
	}
	if c, ok := intelConfidence(a); ok {
		switch {
		case c >= 80:
			pts += 0.5
			why = append(why, fmt.Sprintf("intel confidence %d (+0.5)", c))
		case c < 40:
			pts -= 0.5
			why = append(why, fmt.Sprintf("intel confidence %d (−0.5)", c))
		}
	}
	if p.Open != nil && a.Host != "" {
		switch n := p.Open(a.Host, a.RuleID); {
		case n >= 3:
			pts++
			why = append(why, fmt.Sprintf("%d other open alerts on the host (+1)", n))
		case n >= 1:
			pts += 0.5
			why = append(why, fmt.Sprintf("%d other open alert(s) on the host (+0.5)", n))
		}
	}
	if p.Vulns != nil && a.Host != "" {
		if c, h := p.Vulns.OpenVulns(a.Host); c+h > 0 {
			pts += 0.5
			why = append(why, fmt.Sprintf("host has %d critical and %d high open vulnerabilities (+0.5)", c, h))
		}
	}
	a.Priority = min(5, max(1, 6-int(math.Floor(pts+0.5))))
	a.Details["priority.why"] = strings.Join(why, "; ")
}

// asset finds the inventory entry of the alert's host (by name, else by
// its source address); the zero Asset when there is none.
func (p *Prioritizer) asset(a *schema.Alert) schema.Asset {
	if p.Assets == nil {
		return schema.Asset{}
	}
	for _, h := range []string{a.Host, a.SourceIP} {
		if h == "" {
			continue
		}
		if as, ok := p.Assets.AssetFor(h); ok {
			return as
		}
	}
	return schema.Asset{}
}

// intelConfidence reads the confidence of the indicator behind an alert:
// an ioc alert's own, or the one a network alert's context found.
func intelConfidence(a *schema.Alert) (int, bool) {
	s := a.Details["indicator.confidence"]
	if s == "" {
		s = a.Details["phase2.intel.confidence"]
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 0 {
		return 0, false
	}
	return c, true
}
