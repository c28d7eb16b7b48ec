package baseline

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config tunes the baseline and exfiltration analyzer. The zero value is
// not usable; start from DefaultConfig.
type Config struct {
	// TimeZone names the zone (IANA, e.g. "Europe/Berlin") in which hours of
	// the week and business hours are read. Default "UTC".
	TimeZone string `yaml:"time_zone"`
	// Weeks is N, how many past weeks of the same hour of the week the
	// baseline uses. Default 4, at most 12.
	Weeks int `yaml:"weeks"`
	// LearningDays is how many days of data an entity needs before it can
	// raise signals. Default 7.
	LearningDays int `yaml:"learning_days"`
	// K is the number of scaled MADs above the median a value must exceed.
	// Default 5.
	K float64 `yaml:"k"`
	// MinFactor is the least current/max(baseline, floor) ratio that
	// alerts. Default 4.
	MinFactor float64 `yaml:"min_factor"`
	// Floor is, per metric, the least baseline the factor divides by.
	Floor Thresholds `yaml:"floor"`
	// MinCurrent is, per metric, the least current value that alerts.
	MinCurrent Thresholds `yaml:"min_current"`
	// SubnetPrefixV4 and SubnetPrefixV6 are the prefix lengths of the subnets
	// that get their own baselines (default 24 and 64); 0 turns subnet
	// baselines off for that family.
	SubnetPrefixV4 int `yaml:"subnet_prefix_v4"`
	SubnetPrefixV6 int `yaml:"subnet_prefix_v6"`
	// BusinessHours are the on-hours; traffic outside them is off-hours.
	BusinessHours BusinessHours `yaml:"business_hours"`
	// IdleDays is how long an entity without traffic is kept. Default 14.
	IdleDays int `yaml:"idle_days"`
	// MaxHosts and MaxSubnets bound the entities tracked (defaults 50,000
	// and 5,000); the longest idle go first when full.
	MaxHosts   int `yaml:"max_hosts"`
	MaxSubnets int `yaml:"max_subnets"`
	// Exfil tunes the exfiltration check.
	Exfil ExfilConfig `yaml:"exfil"`
}

// Thresholds holds one value per metric that raises deviation signals,
// in the metric's unit (bytes, packets, connections, distinct addresses or
// ports per hour).
type Thresholds struct {
	BytesOut    float64 `yaml:"bytes_out"`   // bytes sent
	BytesIn     float64 `yaml:"bytes_in"`    // bytes received
	Packets     float64 `yaml:"packets"`     // packets both ways
	Connections float64 `yaml:"connections"` // flows opened
	DstIPs      float64 `yaml:"dst_ips"`     // distinct destination addresses
	DstPorts    float64 `yaml:"dst_ports"`   // distinct destination ports
	ExtDsts     float64 `yaml:"ext_dsts"`    // distinct external destinations
}

func (t Thresholds) array() [numAlert]float64 {
	return [numAlert]float64{t.BytesOut, t.BytesIn, t.Packets, t.Connections, t.DstIPs, t.DstPorts, t.ExtDsts}
}

// BusinessHours are the on-hours of the week, in Config.TimeZone.
type BusinessHours struct {
	// Start and End are hours of the day, 0–24; the on-hours are
	// [Start, End), wrapping past midnight when Start > End. Default 7–19.
	Start int `yaml:"start"`
	End   int `yaml:"end"`
	// Days are the business days: mon, tue, wed, thu, fri, sat, sun.
	// Default mon–fri.
	Days []string `yaml:"days"`
}

// ExfilConfig tunes the exfiltration check and the pair histories.
type ExfilConfig struct {
	// Enabled turns the check on. Default true.
	Enabled bool `yaml:"enabled"`
	// MinBytes is the least unexplained volume, in bytes, that is reported.
	// Default 100 MB.
	MinBytes int64 `yaml:"min_bytes"`
	// Floor is the least residual baseline, in bytes per hour, the factor
	// divides by. Default 25 MB.
	Floor int64 `yaml:"floor"`
	// MinFactor is the least weighted factor that is reported. Default 4.
	MinFactor float64 `yaml:"min_factor"`
	// HighFactor and HighBytes: a weighted factor and unexplained volume at
	// or above both make the signal high. Defaults 100 and 1 GB.
	HighFactor float64 `yaml:"high_factor"`
	HighBytes  int64   `yaml:"high_bytes"`
	// RareWeight multiplies the factor for a destination no other internal
	// host contacted; it falls linearly to 1 at CommonHosts other hosts.
	// Defaults 2 and 5.
	RareWeight  float64 `yaml:"rare_weight"`
	CommonHosts int     `yaml:"common_hosts"`
	// OffHoursWeight multiplies the factor outside business hours. Default
	// 1.5.
	OffHoursWeight float64 `yaml:"off_hours_weight"`
	// PairsPerHost bounds the (host, peer) pairs, internal or external,
	// whose history is kept per host; PairMinBytes is the least hourly
	// volume that makes a pair worth tracking. Defaults 16 and 10 MB. The
	// pair histories explain routine transfers to deviations too.
	PairsPerHost int   `yaml:"pairs_per_host"`
	PairMinBytes int64 `yaml:"pair_min_bytes"`
	// PairTolerance: a pair's volume up to PairTolerance times the most it
	// carried at the same hour of day (±1 hour) in the last week is
	// routine. Default 2.
	PairTolerance float64 `yaml:"pair_tolerance"`
}

// DefaultConfig returns the defaults documented in the package doc.
func DefaultConfig() Config {
	return Config{
		TimeZone: "UTC", Weeks: 4, LearningDays: 7, K: 5, MinFactor: 4,
		Floor: Thresholds{BytesOut: 1e6, BytesIn: 1e6, Packets: 1000, Connections: 10,
			DstIPs: 5, DstPorts: 5, ExtDsts: 5},
		MinCurrent: Thresholds{BytesOut: 50e6, BytesIn: 200e6, Packets: 100_000, Connections: 200,
			DstIPs: 50, DstPorts: 50, ExtDsts: 30},
		SubnetPrefixV4: 24, SubnetPrefixV6: 64,
		BusinessHours: BusinessHours{Start: 7, End: 19, Days: []string{"mon", "tue", "wed", "thu", "fri"}},
		IdleDays:      14, MaxHosts: 50_000, MaxSubnets: 5_000,
		Exfil: ExfilConfig{Enabled: true, MinBytes: 100e6, Floor: 25e6, MinFactor: 4,
			HighFactor: 100, HighBytes: 1e9, RareWeight: 2, CommonHosts: 5, OffHoursWeight: 1.5,
			PairsPerHost: 16, PairMinBytes: 10e6, PairTolerance: 2},
	}
}

// parseDay reads a three-letter day name, case-insensitively.
func parseDay(s string) (time.Weekday, bool) {
	switch strings.ToLower(s) {
	case "sun":
		return time.Sunday, true
	case "mon":
		return time.Monday, true
	case "tue":
		return time.Tuesday, true
	case "wed":
		return time.Wednesday, true
	case "thu":
		return time.Thursday, true
	case "fri":
		return time.Friday, true
	case "sat":
		return time.Saturday, true
	}
	return 0, false
}

// Validate reports every bad value, each named by its YAML key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("baseline: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		bad("time_zone", "unknown time zone %q", c.TimeZone)
	}
	if c.Weeks < 1 || c.Weeks > 12 {
		bad("weeks", "must be 1 to 12, not %d", c.Weeks)
	}
	if c.LearningDays < 0 || c.LearningDays > 365 {
		bad("learning_days", "must be 0 to 365, not %d", c.LearningDays)
	}
	if !(c.K >= 0) {
		bad("k", "must be 0 or more, not %v", c.K)
	}
	if !(c.MinFactor >= 1) {
		bad("min_factor", "must be 1 or more, not %v", c.MinFactor)
	}
	floor, minc := c.Floor.array(), c.MinCurrent.array()
	for i := range numAlert {
		if !(floor[i] > 0) {
			bad("floor."+metricName(i), "must be greater than zero, not %v", floor[i])
		}
		if !(minc[i] >= 0) {
			bad("min_current."+metricName(i), "must be 0 or more, not %v", minc[i])
		}
	}
	if c.SubnetPrefixV4 < 0 || c.SubnetPrefixV4 > 32 {
		bad("subnet_prefix_v4", "must be 0 (off) to 32, not %d", c.SubnetPrefixV4)
	}
	if c.SubnetPrefixV6 < 0 || c.SubnetPrefixV6 > 128 {
		bad("subnet_prefix_v6", "must be 0 (off) to 128, not %d", c.SubnetPrefixV6)
	}
	c.BusinessHours.validate(bad)
	if c.IdleDays < 1 {
		bad("idle_days", "must be 1 or more, not %d", c.IdleDays)
	}
	if c.MaxHosts < 1 {
		bad("max_hosts", "must be 1 or more, not %d", c.MaxHosts)
	}
	if c.MaxSubnets < 1 {
		bad("max_subnets", "must be 1 or more, not %d", c.MaxSubnets)
	}
	c.Exfil.validate(bad)
	return errors.Join(errs...)
}

func (b *BusinessHours) validate(bad func(key, format string, args ...any)) {
	if b.Start < 0 || b.Start > 24 {
		bad("business_hours.start", "must be an hour 0 to 24, not %d", b.Start)
	}
	if b.End < 0 || b.End > 24 {
		bad("business_hours.end", "must be an hour 0 to 24, not %d", b.End)
	}
	if b.Start == b.End {
		bad("business_hours.end", "must differ from start (%d)", b.Start)
	}
	for i, d := range b.Days {
		if _, ok := parseDay(d); !ok {
			bad(fmt.Sprintf("business_hours.days.%d", i), "%q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
	}
}

func (x *ExfilConfig) validate(bad func(key, format string, args ...any)) {
	pos := []struct {
		key string
		v   float64
	}{
		{"exfil.min_bytes", float64(x.MinBytes)}, {"exfil.floor", float64(x.Floor)},
		{"exfil.high_bytes", float64(x.HighBytes)}, {"exfil.pair_min_bytes", float64(x.PairMinBytes)},
		{"exfil.min_factor", x.MinFactor}, {"exfil.high_factor", x.HighFactor},
		{"exfil.common_hosts", float64(x.CommonHosts)}, {"exfil.pairs_per_host", float64(x.PairsPerHost)},
	}
	for _, p := range pos {
		if !(p.v > 0) {
			bad(p.key, "must be greater than zero, not %v", p.v)
		}
	}
	for _, w := range []struct {
		key string
		v   float64
	}{{"exfil.rare_weight", x.RareWeight}, {"exfil.off_hours_weight", x.OffHoursWeight},
		{"exfil.pair_tolerance", x.PairTolerance}} {
		if !(w.v >= 1) {
			bad(w.key, "must be 1 or more, not %v", w.v)
		}
	}
	if x.PairsPerHost > 256 {
		bad("exfil.pairs_per_host", "must be at most 256, not %d", x.PairsPerHost)
	}
}

// location returns the configured zone (UTC when it cannot be loaded;
// Validate reports that).
func (c *Config) location() *time.Location {
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// businessDays returns the business days as a bit set by time.Weekday.
func (b *BusinessHours) businessDays() uint8 {
	var m uint8
	for _, d := range b.Days {
		if wd, ok := parseDay(d); ok {
			m |= 1 << wd
		}
	}
	return m
}

// onHours reports whether local time t is within business hours.
func onHours(t time.Time, start, end int, days uint8) bool {
	if days&(1<<t.Weekday()) == 0 {
		return false
	}
	h := t.Hour()
	if start < end {
		return h >= start && h < end
	}
	return h >= start || h < end
}
