package beacon

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
window: 48h
interval: 30m
min_connections: 12
per_port: false
continuation_gap: 0s
weights: {timestamp: 0.4, size: 0.1, histogram: 0.25, duration: 0.25}
prevalence: {share: 0.5, hosts: 40, min_population: 20, factor: 0.25}
allow_cidrs: [192.0.2.0/24]
allow_names: [updates.example.com]
severity: {low: 0.6, medium: 0.75, high: 0.85}
active_span: false
duration_floor: 90m
duration_periods: 60
span_min_fill: 0.7
`
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Window != 48*time.Hour || cfg.Interval != 30*time.Minute || cfg.MinConnections != 12 || cfg.PerPort ||
		cfg.ContinuationGap != 0 || cfg.Weights.Timestamp != 0.4 || cfg.Prevalence.Factor != 0.25 ||
		len(cfg.AllowCIDRs) != 1 || cfg.AllowNames[0] != "updates.example.com" || cfg.Severity.High != 0.85 ||
		cfg.MaxTimestamps != 2000 || !cfg.Names || cfg.ActiveSpan || cfg.DurationFloor != 90*time.Minute ||
		cfg.DurationPeriods != 60 || cfg.SpanMinFill != 0.7 {
		t.Fatalf("decoded %+v", cfg)
	}
}
