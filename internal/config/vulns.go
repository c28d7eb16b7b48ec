package config

import (
	"sort"
	"time"

	"github.com/vigil-soc/vigil/internal/vuln"
)

// VulnsConfig configures vulnerability tracking.
type VulnsConfig struct {
	// SLADays is the remediation deadline per severity in days (critical,
	// high, medium, low, info); a missing or zero entry has none.
	SLADays map[string]int `yaml:"sla_days"`
	// CheckInterval is how often overdue findings are turned into alerts.
	CheckInterval Duration `yaml:"check_interval"`
}

func defaultVulns() VulnsConfig {
	sla := map[string]int{}
	for s, d := range vuln.DefaultSLA() {
		sla[string(s)] = d
	}
	return VulnsConfig{SLADays: sla, CheckInterval: Duration{10 * time.Minute}}
}

// SLA returns the deadlines as the vuln package reads them.
func (v VulnsConfig) SLA() vuln.SLA {
	out := vuln.SLA{}
	for s, d := range v.SLADays {
		out[vuln.Severity(s)] = d
	}
	return out
}

func (c *Config) validateVulns(bad func(key, format string, args ...any)) {
	keys := make([]string, 0, len(c.Vulns.SLADays))
	for k := range c.Vulns.SLADays {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !vuln.Severity(k).Valid() {
			bad("vulns.sla_days."+k, "%q is not a severity (critical, high, medium, low, info)", k)
		}
		if c.Vulns.SLADays[k] < 0 {
			bad("vulns.sla_days."+k, "must not be negative")
		}
	}
	if c.Vulns.CheckInterval.Duration < time.Second {
		bad("vulns.check_interval", "must be at least 1s")
	}
}
