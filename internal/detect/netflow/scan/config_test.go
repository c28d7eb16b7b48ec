package scan

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name  string
		mod   func(*Config)
		names []string
	}{
		{"everything wrong", func(c *Config) {
			*c = Config{Window: time.Second, MinFailedRatio: 2, HighFailedRatio: -1, SlowWindow: -time.Minute,
				IgnoreSources: []string{"10.0.0.0/33"}, IgnoreTargets: []string{"x"}}
		}, []string{"window", "horizontal_min_hosts", "vertical_min_ports", "sweep_min_hosts",
			"max_contacts_per_source", "max_contacts", "min_failed_ratio", "high_failed_ratio", "slow_window",
			"quiet", "ignore_sources", "ignore_targets"}},
		{"slow window shorter than the window", func(c *Config) { c.SlowWindow = time.Minute },
			[]string{"slow_window 1m0s is shorter"}},
		{"slow window too long", func(c *Config) { c.SlowWindow = 3 * time.Hour },
			[]string{"slow_window 3h0m0s is longer than 24 times"}},
		{"slow threshold", func(c *Config) { c.SlowMinFailed = 1 }, []string{"slow_min_failed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, n := range tc.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error does not name %q: %v", n, err)
				}
			}
			if _, err := New(c, nil); err == nil {
				t.Error("New accepted a bad config")
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	src := `
window: 10m
horizontal_min_hosts: 50
min_failed_ratio: 0.5
slow_window: 2h
ignore_sources: [10.9.0.5, 10.9.1.0/24]
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if c.Window != 10*time.Minute || c.HorizontalMinHosts != 50 || c.MinFailedRatio != 0.5 ||
		c.SlowWindow != 2*time.Hour || len(c.IgnoreSources) != 2 || c.VerticalMinPorts != 25 {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	lsrc := "min_duration: 30m\nallow_ports: [443, 5228]\nallow_cidrs: [192.0.2.0/24]\n"
	l := DefaultLongConfig()
	if err := yaml.Unmarshal([]byte(lsrc), &l); err != nil {
		t.Fatal(err)
	}
	if l.MinDuration != 30*time.Minute || len(l.AllowPorts) != 2 || l.StitchGap != 5*time.Minute {
		t.Errorf("decoded %+v", l)
	}
}
