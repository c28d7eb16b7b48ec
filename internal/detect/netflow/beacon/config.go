package beacon

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Config tunes the beacon analyzer. The zero value is not usable; start
// from DefaultConfig. Every default is documented in the package doc.
type Config struct {
	// Window is the rolling span of event time a pair is scored over.
	Window time.Duration `yaml:"window"`
	// Interval is how often (in event time) the pairs are scored; scoring
	// boundaries are whole multiples of it since the Unix epoch.
	Interval time.Duration `yaml:"interval"`
	// MinConnections is how many connections a pair needs inside the window
	// to be scored.
	MinConnections int `yaml:"min_connections"`
	// MaxTimestamps caps the connection samples kept per pair; beyond it the
	// pair is sampled (every 2nd, 4th, ... connection is kept).
	MaxTimestamps int `yaml:"max_timestamps"`
	// MaxPairs caps the pairs tracked; the longest idle are evicted first.
	MaxPairs int `yaml:"max_pairs"`
	// MaxEvidence caps the event IDs a signal carries (at most 20).
	MaxEvidence int `yaml:"max_evidence"`
	// PerPort keys address pairs by destination port as well.
	PerPort bool `yaml:"per_port"`
	// Names tracks (source, server name) pairs from TLS SNI and HTTP Host.
	Names bool `yaml:"names"`
	// DNS tracks (source, query name) pairs from DNS queries.
	DNS bool `yaml:"dns"`
	// SkipInternal ignores connections to internal destinations.
	SkipInternal bool `yaml:"skip_internal"`
	// ContinuationGap: a flow record from the same source port that starts
	// within this gap after the pair's previous record ended continues that
	// connection (an exporter's active timeout split it) and is not counted
	// as a new one. Zero disables the merge.
	ContinuationGap time.Duration `yaml:"continuation_gap"`

	// Weights of the four component scores.
	Weights Weights `yaml:"weights"`
	// HistogramBin is the smallest bin of the connection-count histogram.
	HistogramBin time.Duration `yaml:"histogram_bin"`
	// BinMinConnections widens the histogram bins (in whole multiples of
	// HistogramBin) until each is expected to hold at least this many
	// connections at the pair's period.
	BinMinConnections int `yaml:"bin_min_connections"`
	// ModeSensitivity is the width of a bar-height class in the bimodal
	// histogram fit, as a share of the tallest bar.
	ModeSensitivity float64 `yaml:"mode_sensitivity"`
	// BimodalMinBins is how many non-empty bins the bimodal fit needs.
	BimodalMinBins int `yaml:"bimodal_min_bins"`
	// BimodalOutliers is how many bins the bimodal fit may leave out.
	BimodalOutliers int `yaml:"bimodal_outliers"`
	// DurationMin is how much time the non-empty bins must cover for the
	// duration score to count.
	DurationMin time.Duration `yaml:"duration_min"`
	// DurationIdeal is the run of consecutive non-empty bins that gives a
	// full consistency score.
	DurationIdeal time.Duration `yaml:"duration_ideal"`
	// ActiveSpan also judges the histogram and duration over a pair's
	// active span (first to last connection) when it kept connecting at its
	// period for long enough; the better of that and the window judgement
	// counts. Off, the window judgement alone counts (RITA's scoring).
	ActiveSpan bool `yaml:"active_span"`
	// DurationFloor is the shortest active span a span judgement accepts,
	// however short the period.
	DurationFloor time.Duration `yaml:"duration_floor"`
	// DurationPeriods is how many periods a span judgement needs the pair
	// to be active for (at least DurationFloor, at most DurationMin).
	// DurationMin and DurationIdeal are scaled down by the same factor.
	DurationPeriods int `yaml:"duration_periods"`
	// SpanMinFill is the smallest ratio of the median to the mean interval
	// (how densely the pair filled its span at its period) for a span
	// judgement; bursty or heavy-tailed traffic falls below it.
	SpanMinFill float64 `yaml:"span_min_fill"`

	// Prevalence scales down destinations many internal hosts contact.
	Prevalence Prevalence `yaml:"prevalence"`
	// AllowCIDRs are destination ranges never scored.
	AllowCIDRs []string `yaml:"allow_cidrs"`
	// AllowNames are name suffixes (whole labels) never scored.
	AllowNames []string `yaml:"allow_names"`
	// Severity maps the final score to a proposed severity.
	Severity Thresholds `yaml:"severity"`
}

// Weights are the relative weights of the component scores; they need not
// sum to 1 (the total is divided by their sum).
type Weights struct {
	Timestamp float64 `yaml:"timestamp"`
	Size      float64 `yaml:"size"`
	Histogram float64 `yaml:"histogram"`
	Duration  float64 `yaml:"duration"`
}

// Prevalence says when a destination counts as common and by how much its
// score is scaled.
type Prevalence struct {
	// Share of the active internal population at or above which a
	// destination is common.
	Share float64 `yaml:"share"`
	// Hosts: a destination contacted by at least this many internal hosts
	// is common whatever the population.
	Hosts int `yaml:"hosts"`
	// MinPopulation is the smallest population the Share rule applies to,
	// so that one host in a two-host network is not "common".
	MinPopulation int `yaml:"min_population"`
	// Factor multiplies the score of a common destination.
	Factor float64 `yaml:"factor"`
}

// Thresholds map a score in [0, 1] to a severity: at or above High is
// high, at or above Medium medium, at or above Low low; below Low no
// signal is raised.
type Thresholds struct {
	Low    float64 `yaml:"low"`
	Medium float64 `yaml:"medium"`
	High   float64 `yaml:"high"`
}

// maxInterval is the longest scoring interval accepted.
const maxInterval = 7 * 24 * time.Hour

// MaxEvidenceLimit is the largest MaxEvidence accepted.
const MaxEvidenceLimit = 20

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Window:            24 * time.Hour,
		Interval:          time.Hour,
		MinConnections:    20,
		MaxTimestamps:     2000,
		MaxPairs:          500000,
		MaxEvidence:       10,
		PerPort:           true,
		Names:             true,
		DNS:               true,
		SkipInternal:      true,
		ContinuationGap:   2 * time.Second,
		Weights:           Weights{Timestamp: 0.25, Size: 0.25, Histogram: 0.25, Duration: 0.25},
		HistogramBin:      time.Hour,
		BinMinConnections: 4,
		ModeSensitivity:   0.05,
		BimodalMinBins:    11,
		BimodalOutliers:   1,
		DurationMin:       6 * time.Hour,
		DurationIdeal:     12 * time.Hour,
		ActiveSpan:        true,
		DurationFloor:     time.Hour,
		DurationPeriods:   100,
		SpanMinFill:       0.5,
		Prevalence:        Prevalence{Share: 0.3, Hosts: 100, MinPopulation: 10, Factor: 0.5},
		Severity:          Thresholds{Low: 0.7, Medium: 0.8, High: 0.9},
	}
}

// Validate reports every bad value, naming its yaml key.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Interval < time.Second || c.Interval > maxInterval || c.Interval%time.Second != 0 {
		bad("interval %v must be a whole number of seconds between 1s and %v", c.Interval, maxInterval)
	}
	if c.Window < c.Interval || c.Window%time.Second != 0 {
		bad("window %v must be whole seconds and at least the interval (%v)", c.Window, c.Interval)
	}
	if c.MinConnections < 4 {
		bad("min_connections %d must be at least 4", c.MinConnections)
	}
	if c.MaxTimestamps < 16 || c.MaxTimestamps < c.MinConnections {
		bad("max_timestamps %d must be at least 16 and at least min_connections (%d)", c.MaxTimestamps, c.MinConnections)
	}
	if c.MaxPairs < 1 {
		bad("max_pairs %d must be positive", c.MaxPairs)
	}
	if c.MaxEvidence < 0 || c.MaxEvidence > MaxEvidenceLimit {
		bad("max_evidence %d must be between 0 and %d", c.MaxEvidence, MaxEvidenceLimit)
	}
	if c.ContinuationGap < 0 {
		bad("continuation_gap %v must not be negative", c.ContinuationGap)
	}
	errs = append(errs, c.Weights.validate()...)
	if c.HistogramBin < time.Second || c.HistogramBin%time.Second != 0 || c.HistogramBin > c.Window {
		bad("histogram_bin %v must be whole seconds, at least 1s and at most the window", c.HistogramBin)
	}
	if c.BinMinConnections < 1 {
		bad("bin_min_connections %d must be at least 1", c.BinMinConnections)
	}
	if !(c.ModeSensitivity > 0 && c.ModeSensitivity <= 1) {
		bad("mode_sensitivity %v must be in (0, 1]", c.ModeSensitivity)
	}
	if c.BimodalMinBins < 3 {
		bad("bimodal_min_bins %d must be at least 3", c.BimodalMinBins)
	}
	if c.BimodalOutliers < 0 || c.BimodalOutliers >= c.BimodalMinBins {
		bad("bimodal_outliers %d must be between 0 and bimodal_min_bins-1", c.BimodalOutliers)
	}
	if c.DurationMin < 0 || c.DurationMin > c.Window {
		bad("duration_min %v must be between 0 and the window", c.DurationMin)
	}
	if c.DurationIdeal <= 0 || c.DurationIdeal > c.Window {
		bad("duration_ideal %v must be positive and at most the window", c.DurationIdeal)
	}
	if c.DurationFloor < 0 || c.DurationFloor > c.Window || c.DurationFloor%time.Second != 0 {
		bad("duration_floor %v must be whole seconds between 0 and the window", c.DurationFloor)
	}
	if c.DurationPeriods < 0 {
		bad("duration_periods %d must not be negative", c.DurationPeriods)
	}
	if !(c.SpanMinFill >= 0 && c.SpanMinFill <= 1) {
		bad("span_min_fill %v must be in [0, 1]", c.SpanMinFill)
	}
	errs = append(errs, c.Prevalence.validate()...)
	if _, err := flow.NewSet(c.AllowCIDRs); err != nil {
		bad("allow_cidrs: %w", err)
	}
	for _, n := range c.AllowNames {
		if strings.Trim(n, ". ") == "" {
			bad("allow_names: %q is empty", n)
		}
	}
	errs = append(errs, c.Severity.validate("severity")...)
	if len(errs) > 0 {
		return fmt.Errorf("beacon: config: %w", errors.Join(errs...))
	}
	return nil
}

func (w Weights) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{"timestamp", w.Timestamp}, {"size", w.Size}, {"histogram", w.Histogram}, {"duration", w.Duration}} {
		if !(f.v >= 0 && f.v <= 1) {
			errs = append(errs, fmt.Errorf("weights.%s %v must be in [0, 1]", f.name, f.v))
		}
	}
	if w.Timestamp+w.Histogram+w.Duration <= 0 {
		errs = append(errs, errors.New("weights: timestamp, histogram and duration must not all be 0"))
	}
	return errs
}

func (p Prevalence) validate() []error {
	var errs []error
	if !(p.Share > 0 && p.Share <= 1) {
		errs = append(errs, fmt.Errorf("prevalence.share %v must be in (0, 1]", p.Share))
	}
	if p.Hosts < 2 {
		errs = append(errs, fmt.Errorf("prevalence.hosts %d must be at least 2", p.Hosts))
	}
	if p.MinPopulation < 1 {
		errs = append(errs, fmt.Errorf("prevalence.min_population %d must be at least 1", p.MinPopulation))
	}
	if !(p.Factor >= 0 && p.Factor <= 1) {
		errs = append(errs, fmt.Errorf("prevalence.factor %v must be in [0, 1]", p.Factor))
	}
	return errs
}

func (t Thresholds) validate(key string) []error {
	var errs []error
	if !(t.Low > 0 && t.Low <= t.Medium && t.Medium <= t.High && t.High <= 1) {
		errs = append(errs, fmt.Errorf("%s: need 0 < low (%v) <= medium (%v) <= high (%v) <= 1", key, t.Low, t.Medium, t.High))
	}
	return errs
}
