package dnsanomaly

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config tunes the DNS analyzer. Start from DefaultConfig; every default
// is documented in the package doc.
type Config struct {
	// Tunnel configures the per-domain tunnelling/exfiltration score.
	Tunnel TunnelConfig `yaml:"tunnel"`
	// DGA configures the per-host NXDOMAIN burst score.
	DGA DGAConfig `yaml:"dga"`
	// AllowSuffixes are name suffixes (whole labels) neither part looks
	// at: reverse lookups and link-local names by default.
	AllowSuffixes []string `yaml:"allow_suffixes"`
	// MaxEvidence caps the event IDs a signal carries (at most 20).
	MaxEvidence int `yaml:"max_evidence"`
}

// TunnelConfig tunes the tunnelling score of a registered domain.
type TunnelConfig struct {
	// Enabled turns the tunnelling part on.
	Enabled bool `yaml:"enabled"`
	// Window is the tumbling window the figures are counted over.
	Window time.Duration `yaml:"window"`
	// MinDistinct is how many distinct subdomains a domain needs in the
	// window to be scored.
	MinDistinct int `yaml:"min_distinct"`
	// MaxDomains caps the domains tracked per window; further domains are
	// counted but not tracked.
	MaxDomains int `yaml:"max_domains"`
	// LabelLow and LabelHigh bound the ramp of the mean length of each
	// query's longest subdomain label (characters) onto the length score.
	LabelLow  float64 `yaml:"label_low"`
	LabelHigh float64 `yaml:"label_high"`
	// EntropyLow and EntropyHigh bound the ramp of the mean Shannon
	// entropy of the subdomain part (bits per character).
	EntropyLow  float64 `yaml:"entropy_low"`
	EntropyHigh float64 `yaml:"entropy_high"`
	// RateLow and RateHigh bound the (logarithmic) ramp of the unique
	// subdomain bytes per hour.
	RateLow  float64 `yaml:"rate_low"`
	RateHigh float64 `yaml:"rate_high"`
	// Weights of the four component scores.
	Weights TunnelWeights `yaml:"weights"`
	// Prevalence scales down domains many internal hosts query.
	Prevalence Prevalence `yaml:"prevalence"`
	// TopHosts is how many top querying hosts a signal names.
	TopHosts int `yaml:"top_hosts"`
	// Severity maps the score to a proposed severity.
	Severity Thresholds `yaml:"severity"`
}

// TunnelWeights are the relative weights of the tunnelling components.
type TunnelWeights struct {
	Length  float64 `yaml:"length"`
	Entropy float64 `yaml:"entropy"`
	Rate    float64 `yaml:"rate"`
	Type    float64 `yaml:"type"`
}

// Prevalence says when a domain counts as common and by how much its
// score is scaled.
type Prevalence struct {
	// Days is the period the querying hosts are counted over.
	Days int `yaml:"days"`
	// Share of the querying population at or above which a domain is
	// common (when the population is at least MinPopulation).
	Share float64 `yaml:"share"`
	// Hosts: a domain queried by at least this many hosts is common.
	Hosts         int `yaml:"hosts"`
	MinPopulation int `yaml:"min_population"`
	// Factor multiplies the score of a common domain.
	Factor float64 `yaml:"factor"`
}

// DGAConfig tunes the NXDOMAIN burst score of a host.
type DGAConfig struct {
	// Enabled turns the DGA part on.
	Enabled bool `yaml:"enabled"`
	// Window is the span of event time a burst is counted over; windows
	// are evaluated every Step.
	Window time.Duration `yaml:"window"`
	Step   time.Duration `yaml:"step"`
	// MinNames is how many distinct NXDOMAIN names a host needs in the
	// window to be scored.
	MinNames int `yaml:"min_names"`
	// MaxNamesPerHost caps the names kept per host (oldest dropped).
	MaxNamesPerHost int `yaml:"max_names_per_host"`
	// MaxHosts caps the hosts tracked; further hosts are not tracked until
	// others expire.
	MaxHosts int `yaml:"max_hosts"`
	// Samples is how many example names a signal shows.
	Samples int `yaml:"samples"`
	// Severity maps the score to a proposed severity.
	Severity Thresholds `yaml:"severity"`
}

// Thresholds map a score to a severity: at or above High is high, at or
// above Medium medium, at or above Low low; below Low no signal.
type Thresholds struct {
	Low    float64 `yaml:"low"`
	Medium float64 `yaml:"medium"`
	High   float64 `yaml:"high"`
}

// MaxEvidenceLimit is the largest MaxEvidence accepted.
const MaxEvidenceLimit = 20

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Tunnel: TunnelConfig{
			Enabled: true, Window: time.Hour, MinDistinct: 50, MaxDomains: 200000,
			LabelLow: 12, LabelHigh: 40, EntropyLow: 3.0, EntropyHigh: 4.0,
			RateLow: 4 << 10, RateHigh: 64 << 10,
			Weights:    TunnelWeights{Length: 0.3, Entropy: 0.25, Rate: 0.3, Type: 0.15},
			Prevalence: Prevalence{Days: 7, Share: 0.3, Hosts: 20, MinPopulation: 10, Factor: 0.5},
			TopHosts:   3,
			Severity:   Thresholds{Low: 0.5, Medium: 0.65, High: 0.8},
		},
		DGA: DGAConfig{
			Enabled: true, Window: 10 * time.Minute, Step: 5 * time.Minute, MinNames: 25,
			MaxNamesPerHost: 500, MaxHosts: 100000, Samples: 5,
			Severity: Thresholds{Low: 0.4, Medium: 0.6, High: 0.8},
		},
		AllowSuffixes: []string{"arpa", "local"},
		MaxEvidence:   10,
	}
}

// Validate reports every bad value, naming its yaml key.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	t := c.Tunnel
	if t.Window < time.Second || t.Window%time.Second != 0 {
		bad("tunnel.window %v must be whole seconds, at least 1s", t.Window)
	}
	if t.MinDistinct < 1 {
		bad("tunnel.min_distinct %d must be at least 1", t.MinDistinct)
	}
	if t.MaxDomains < 1 {
		bad("tunnel.max_domains %d must be positive", t.MaxDomains)
	}
	if !(t.LabelLow >= 0 && t.LabelLow < t.LabelHigh) {
		bad("tunnel.label_low %v must be at least 0 and below tunnel.label_high %v", t.LabelLow, t.LabelHigh)
	}
	if !(t.EntropyLow >= 0 && t.EntropyLow < t.EntropyHigh) {
		bad("tunnel.entropy_low %v must be at least 0 and below tunnel.entropy_high %v", t.EntropyLow, t.EntropyHigh)
	}
	if !(t.RateLow > 0 && t.RateLow < t.RateHigh) {
		bad("tunnel.rate_low %v must be positive and below tunnel.rate_high %v", t.RateLow, t.RateHigh)
	}
	w := t.Weights
	for _, f := range []struct {
		k string
		v float64
	}{{"length", w.Length}, {"entropy", w.Entropy}, {"rate", w.Rate}, {"type", w.Type}} {
		if !(f.v >= 0 && f.v <= 1) {
			bad("tunnel.weights.%s %v must be in [0, 1]", f.k, f.v)
		}
	}
	if w.Length+w.Entropy+w.Rate+w.Type <= 0 {
		bad("tunnel.weights must not all be 0")
	}
	errs = append(errs, t.Prevalence.validate()...)
	if t.TopHosts < 1 || t.TopHosts > 8 {
		bad("tunnel.top_hosts %d must be between 1 and 8", t.TopHosts)
	}
	errs = append(errs, t.Severity.validate("tunnel.severity")...)
	errs = append(errs, c.DGA.validate()...)
	for _, s := range c.AllowSuffixes {
		if strings.Trim(s, ". ") == "" {
			bad("allow_suffixes: %q is empty", s)
		}
	}
	if c.MaxEvidence < 0 || c.MaxEvidence > MaxEvidenceLimit {
		bad("max_evidence %d must be between 0 and %d", c.MaxEvidence, MaxEvidenceLimit)
	}
	if len(errs) > 0 {
		return fmt.Errorf("dnsanomaly: config: %w", errors.Join(errs...))
	}
	return nil
}

func (g DGAConfig) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if g.Step < time.Second || g.Step%time.Second != 0 {
		bad("dga.step %v must be whole seconds, at least 1s", g.Step)
	}
	if g.Window < g.Step || g.Window%time.Second != 0 {
		bad("dga.window %v must be whole seconds and at least dga.step (%v)", g.Window, g.Step)
	}
	if g.MinNames < 2 {
		bad("dga.min_names %d must be at least 2", g.MinNames)
	}
	if g.MaxNamesPerHost < g.MinNames {
		bad("dga.max_names_per_host %d must be at least dga.min_names (%d)", g.MaxNamesPerHost, g.MinNames)
	}
	if g.MaxHosts < 1 {
		bad("dga.max_hosts %d must be positive", g.MaxHosts)
	}
	if g.Samples < 0 || g.Samples > 20 {
		bad("dga.samples %d must be between 0 and 20", g.Samples)
	}
	return append(errs, g.Severity.validate("dga.severity")...)
}

func (p Prevalence) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Days < 1 {
		bad("tunnel.prevalence.days %d must be at least 1", p.Days)
	}
	if !(p.Share > 0 && p.Share <= 1) {
		bad("tunnel.prevalence.share %v must be in (0, 1]", p.Share)
	}
	if p.Hosts < 2 || p.Hosts > 1000 {
		bad("tunnel.prevalence.hosts %d must be between 2 and 1000", p.Hosts)
	}
	if p.MinPopulation < 1 {
		bad("tunnel.prevalence.min_population %d must be at least 1", p.MinPopulation)
	}
	if !(p.Factor >= 0 && p.Factor <= 1) {
		bad("tunnel.prevalence.factor %v must be in [0, 1]", p.Factor)
	}
	return errs
}

func (t Thresholds) validate(key string) []error {
	if !(t.Low > 0 && t.Low <= t.Medium && t.Medium <= t.High && t.High <= 1) {
		return []error{fmt.Errorf("%s: need 0 < low (%v) <= medium (%v) <= high (%v) <= 1", key, t.Low, t.Medium, t.High)}
	}
	return nil
}
