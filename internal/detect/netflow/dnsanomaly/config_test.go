package dnsanomaly

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConfigYAML: the documented keys decode over the defaults.
func TestConfigYAML(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	src := `
tunnel:
  window: 30m
  min_distinct: 100
  rate_high: 131072
  weights: {length: 0.25, entropy: 0.25, rate: 0.25, type: 0.25}
  prevalence: {days: 3, hosts: 50}
  severity: {low: 0.55, medium: 0.7, high: 0.85}
dga:
  enabled: false
  window: 20m
  step: 10m
  min_names: 40
allow_suffixes: [arpa, local, corp.example]
max_evidence: 20
`
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tc, g := cfg.Tunnel, cfg.DGA
	if tc.Window != 30*time.Minute || tc.MinDistinct != 100 || tc.RateHigh != 131072 || tc.Weights.Type != 0.25 ||
		tc.Prevalence.Days != 3 || tc.Prevalence.Hosts != 50 || tc.Prevalence.Share != 0.3 || tc.Severity.High != 0.85 ||
		g.Enabled || g.Window != 20*time.Minute || g.Step != 10*time.Minute || g.MinNames != 40 || g.Samples != 5 ||
		len(cfg.AllowSuffixes) != 3 || cfg.MaxEvidence != 20 || !tc.Enabled {
		t.Fatalf("decoded %+v", cfg)
	}
}
