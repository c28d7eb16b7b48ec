package scan

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// ringHops is how many hops of history each contact keeps; the slow window
// may use at most maxSlowHops of them, the rest is slack for records that
// run ahead of the watermark.
const (
	ringHops    = 64
	maxSlowHops = 48
)

// Config tunes the scan detector. Durations are written as "5m", "1h".
type Config struct {
	// Window is the span of the fast detection. It slides by half its
	// length (a hopping window), so a burst no longer than half the window
	// is always seen whole. Default 5m.
	Window time.Duration `yaml:"window"`
	// HorizontalMinHosts is how many distinct hosts one source must probe
	// on one port and protocol within Window. Default 25.
	HorizontalMinHosts int `yaml:"horizontal_min_hosts"`
	// VerticalMinPorts is how many distinct ports one source must probe on
	// one host within Window. Default 25.
	VerticalMinPorts int `yaml:"vertical_min_ports"`
	// SweepMinHosts is how many distinct hosts one source must send ICMP
	// requests to within Window. Default 25.
	SweepMinHosts int `yaml:"sweep_min_hosts"`
	// MinFailedRatio is the share of those targets that must have failed
	// (no answer, refused) for the fast detection. Default 0.3.
	MinFailedRatio float64 `yaml:"min_failed_ratio"`
	// HighFailedRatio is the failed share at or above which a scan from an
	// internal host of internal targets is proposed as high severity
	// rather than medium. Default 0.6.
	HighFailedRatio float64 `yaml:"high_failed_ratio"`
	// SlowWindow is the span of the slow-scan detection, which counts only
	// failed targets; 0 disables it. At most 24 times Window. Default 1h.
	SlowWindow time.Duration `yaml:"slow_window"`
	// SlowMinFailed is how many distinct failed targets (hosts for
	// horizontal scans and sweeps, ports for vertical scans) within
	// SlowWindow make a slow scan. Default 30.
	SlowMinFailed int `yaml:"slow_min_failed"`
	// Quiet is how long a scan must stay below its thresholds before it
	// counts as over; until then later windows of it raise a signal only
	// when its targets have doubled. Default 6h.
	Quiet time.Duration `yaml:"quiet"`
	// IgnoreSources are CIDRs or addresses of sanctioned scanners
	// (vulnerability scanners, monitoring) whose probes are not counted.
	IgnoreSources []string `yaml:"ignore_sources"`
	// IgnoreTargets are CIDRs or addresses whose probes are not counted
	// (honeypots, sinkholes).
	IgnoreTargets []string `yaml:"ignore_targets"`
	// MaxContactsPerSource caps the distinct (target, port) contacts kept
	// per source; further ones are dropped and counted. Default 4096.
	MaxContactsPerSource int `yaml:"max_contacts_per_source"`
	// MaxContacts caps the contacts kept in total. Default 2,000,000.
	MaxContacts int `yaml:"max_contacts"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Window:               5 * time.Minute,
		HorizontalMinHosts:   25,
		VerticalMinPorts:     25,
		SweepMinHosts:        25,
		MinFailedRatio:       0.3,
		HighFailedRatio:      0.6,
		SlowWindow:           time.Hour,
		SlowMinFailed:        30,
		Quiet:                6 * time.Hour,
		MaxContactsPerSource: 4096,
		MaxContacts:          2_000_000,
	}
}

// hop returns the hop length: half the window.
func (c *Config) hop() time.Duration { return c.Window / 2 }

// slowHops returns how many hops the slow window spans (0 when disabled).
func (c *Config) slowHops() int64 {
	h := c.hop()
	if c.SlowWindow <= 0 || h <= 0 {
		return 0
	}
	return int64((c.SlowWindow + h - 1) / h)
}

// quietHops returns the quiet period in hops.
func (c *Config) quietHops() int64 {
	h := c.hop()
	if h <= 0 {
		return 0
	}
	return int64((c.Quiet + h - 1) / h)
}

// Validate reports every bad value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Window < 2*time.Second {
		bad("window %v is shorter than 2s", c.Window)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"horizontal_min_hosts", c.HorizontalMinHosts}, {"vertical_min_ports", c.VerticalMinPorts},
		{"sweep_min_hosts", c.SweepMinHosts}, {"max_contacts_per_source", c.MaxContactsPerSource},
		{"max_contacts", c.MaxContacts}} {
		if v.n < 2 {
			bad("%s %d is below 2", v.name, v.n)
		}
	}
	if c.MinFailedRatio < 0 || c.MinFailedRatio > 1 {
		bad("min_failed_ratio %v is outside 0..1", c.MinFailedRatio)
	}
	if c.HighFailedRatio < 0 || c.HighFailedRatio > 1 {
		bad("high_failed_ratio %v is outside 0..1", c.HighFailedRatio)
	}
	if c.SlowWindow < 0 {
		bad("slow_window %v is negative", c.SlowWindow)
	}
	if c.SlowWindow > 0 {
		if c.SlowWindow < c.Window {
			bad("slow_window %v is shorter than window %v", c.SlowWindow, c.Window)
		} else if c.Window >= 2*time.Second && c.slowHops() > maxSlowHops {
			bad("slow_window %v is longer than 24 times window %v", c.SlowWindow, c.Window)
		}
		if c.SlowMinFailed < 2 {
			bad("slow_min_failed %d is below 2", c.SlowMinFailed)
		}
	}
	if c.Quiet < c.Window || c.Quiet < c.SlowWindow {
		bad("quiet %v is shorter than window %v or slow_window %v", c.Quiet, c.Window, c.SlowWindow)
	}
	if _, err := flow.NewSet(c.IgnoreSources); err != nil {
		bad("ignore_sources: %w", err)
	}
	if _, err := flow.NewSet(c.IgnoreTargets); err != nil {
		bad("ignore_targets: %w", err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("scan config: %w", errors.Join(errs...))
	}
	return nil
}
