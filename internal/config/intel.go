package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/intel/feed"
)

// IntelConfig configures threat intelligence: the sources polled and the
// retro-hunt over stored events when new indicators arrive.
type IntelConfig struct {
	Enabled bool `yaml:"enabled"`
	// RetroHuntDays is how far back new indicators are searched for.
	RetroHuntDays int `yaml:"retro_hunt_days"`
	// DefaultInterval is the poll interval of sources that set none.
	DefaultInterval Duration      `yaml:"default_interval"`
	Sources         []IntelSource `yaml:"sources"`
}

// IntelSource is one source: the feed's settings (kind, url or path,
// auth, format options; see docs/intel.md) and the decay of indicators
// the feed gives no expiry.
type IntelSource struct {
	feed.Config `yaml:",inline"`
	// Decay ages out indicators without valid_until: their confidence
	// falls linearly to zero over this period after the feed last listed
	// them (e.g. "30d"; empty: never).
	Decay feed.Duration `yaml:"decay"`
}

// EnrichConfig configures event enrichment beyond the asset inventory.
type EnrichConfig struct {
	GeoIP GeoIPConfig `yaml:"geoip"`
}

// GeoIPConfig names MaxMind-format databases (GeoLite2/GeoIP2 City or
// Country for *.geo.*, ASN for *.as.*). Empty paths disable that lookup.
type GeoIPConfig struct {
	City    string `yaml:"city"`
	Country string `yaml:"country"`
	ASN     string `yaml:"asn"`
	// CacheSize bounds the per-address lookup cache.
	CacheSize int `yaml:"cache_size"`
}

// RiskConfig tunes host risk.
type RiskConfig struct {
	// WindowDays is how far back open alerts count toward host risk.
	WindowDays int `yaml:"window_days"`
	// HalfLife halves a detection's weight in the score.
	HalfLife Duration `yaml:"half_life"`
}

func defaultIntel() IntelConfig {
	return IntelConfig{Enabled: true, RetroHuntDays: 30, DefaultInterval: Duration{time.Hour}}
}

func (c *Config) validateIntel(bad func(key, format string, args ...any)) {
	in := c.Intel
	if in.RetroHuntDays < 0 {
		bad("intel.retro_hunt_days", "must be 0 (no retro-hunt) or more")
	}
	if in.DefaultInterval.Duration < time.Minute {
		bad("intel.default_interval", "must be at least 1m")
	}
	names := map[string]bool{}
	for i, s := range in.Sources {
		key := fmt.Sprintf("intel.sources.%d", i)
		if names[s.Name] {
			bad(key, "duplicate source name %q", s.Name)
		}
		names[s.Name] = true
		if err := s.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				bad(key, "%s", line)
			}
		}
		if s.Decay.Duration < 0 {
			bad(key+".decay", "must not be negative")
		}
	}
	if c.Enrich.GeoIP.CacheSize < 0 {
		bad("enrich.geoip.cache_size", "must not be negative")
	}
	if c.Risk.WindowDays < 1 {
		bad("risk.window_days", "must be at least 1")
	}
	if c.Risk.HalfLife.Duration <= 0 {
		bad("risk.half_life", "must be greater than zero")
	}
}
