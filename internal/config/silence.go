package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/detect/silence"
)

// SilenceConfig configures the detection of log sources that went silent,
// dropped in volume or started failing to parse (see
// internal/detect/silence).
type SilenceConfig struct {
	Enabled bool `yaml:"enabled"`
	// K and Floor: a source is silent after max(k × its p99 gap, floor)
	// without events.
	K     float64  `yaml:"k"`
	Floor Duration `yaml:"floor"`
	// MinEvents and MinHistory: the history a source needs before it is
	// judged.
	MinEvents  int      `yaml:"min_events"`
	MinHistory Duration `yaml:"min_history"`
	// DropRatio: an hour below drop_ratio × its baseline is a volume drop,
	// for baselines of at least min_hourly events after min_hours hours.
	DropRatio float64 `yaml:"drop_ratio"`
	MinHourly float64 `yaml:"min_hourly"`
	MinHours  int     `yaml:"min_hours"`
	// ErrorRate, ErrorFactor and ErrorMinRecords: a parse-error rate of at
	// least error_rate and error_factor × the usual one, over at least
	// error_min_records records, is a jump.
	ErrorRate       float64 `yaml:"error_rate"`
	ErrorFactor     float64 `yaml:"error_factor"`
	ErrorMinRecords int64   `yaml:"error_min_records"`
	// LiveSkew: sources whose events arrive within this of their event
	// time are live and judged by the wall clock too.
	LiveSkew Duration `yaml:"live_skew"`
	// MaxSources caps the sources tracked; EvictAfter forgets sources
	// silent this long.
	MaxSources int      `yaml:"max_sources"`
	EvictAfter Duration `yaml:"evict_after"`
	// CheckInterval is how often live sources are judged by the wall clock
	// and parse-error counters read.
	CheckInterval Duration `yaml:"check_interval"`
	// Maintenance lists planned windows during which sources may be quiet.
	Maintenance []MaintenanceWindow `yaml:"maintenance"`
}

// MaintenanceWindow is a planned window: the sources it covers (host
// globs and input names; empty: all) and a one-off span (start, end as RFC
// 3339 times) and/or weekly recurring times.
type MaintenanceWindow struct {
	Name   string         `yaml:"name"`
	Hosts  []string       `yaml:"hosts"`
	Inputs []string       `yaml:"inputs"`
	Start  string         `yaml:"start"`
	End    string         `yaml:"end"`
	Weekly []WeeklyWindow `yaml:"weekly"`
}

// WeeklyWindow recurs on days (mon … sun) from "HH:MM" to "HH:MM" in
// timezone (default UTC); to before from runs past midnight.
type WeeklyWindow struct {
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Timezone string   `yaml:"timezone"`
}

func defaultSilence() SilenceConfig {
	return SilenceConfig{Enabled: true, K: silence.DefaultK, Floor: Duration{silence.DefaultFloor},
		MinEvents: silence.DefaultMinEvents, MinHistory: Duration{silence.DefaultMinHistory},
		DropRatio: silence.DefaultDropRatio, MinHourly: silence.DefaultMinHourly, MinHours: silence.DefaultMinHours,
		ErrorRate: silence.DefaultErrorRate, ErrorFactor: silence.DefaultErrorFactor,
		ErrorMinRecords: silence.DefaultErrorMinRecords, LiveSkew: Duration{silence.DefaultLiveSkew},
		MaxSources: silence.DefaultMaxSources, EvictAfter: Duration{silence.DefaultEvictAfter},
		CheckInterval: Duration{30 * time.Second}}
}

// Options returns the detector's options; the configuration must be
// valid.
func (c SilenceConfig) Options() (silence.Options, error) {
	o := silence.Options{K: c.K, Floor: c.Floor.Duration, MinEvents: c.MinEvents, MinHistory: c.MinHistory.Duration,
		DropRatio: c.DropRatio, MinHourly: c.MinHourly, MinHours: c.MinHours, ErrorRate: c.ErrorRate,
		ErrorFactor: c.ErrorFactor, ErrorMinRecords: c.ErrorMinRecords, LiveSkew: c.LiveSkew.Duration,
		MaxSources: c.MaxSources, EvictAfter: c.EvictAfter.Duration}
	for i, m := range c.Maintenance {
		w, err := m.window()
		if err != nil {
			return o, fmt.Errorf("silence.maintenance.%d: %w", i, err)
		}
		o.Maintenance = append(o.Maintenance, w)
	}
	return o, nil
}

// window converts the configured window.
func (m MaintenanceWindow) window() (silence.Window, error) {
	w := silence.Window{Name: m.Name, Hosts: m.Hosts, Inputs: m.Inputs}
	var err error
	if m.Start != "" {
		if w.Start, err = time.Parse(time.RFC3339, m.Start); err != nil {
			return w, fmt.Errorf("start %q: want an RFC 3339 time", m.Start)
		}
	}
	if m.End != "" {
		if w.End, err = time.Parse(time.RFC3339, m.End); err != nil {
			return w, fmt.Errorf("end %q: want an RFC 3339 time", m.End)
		}
	}
	for j, wk := range m.Weekly {
		x, err := wk.weekly()
		if err != nil {
			return w, fmt.Errorf("weekly.%d: %w", j, err)
		}
		w.Weekly = append(w.Weekly, x)
	}
	if err := w.Validate(); err != nil {
		return w, err
	}
	return w, nil
}

// dayName reads a day name (mon or monday, any case).
func dayName(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// weekly converts the configured weekly times.
func (wk WeeklyWindow) weekly() (silence.Weekly, error) {
	var out silence.Weekly
	for _, d := range wk.Days {
		day, ok := dayName(d)
		if !ok {
			return out, fmt.Errorf("day %q: want mon, tue, wed, thu, fri, sat or sun", d)
		}
		out.Days = append(out.Days, day)
	}
	var err error
	if out.From, err = clockTime(wk.From); err != nil {
		return out, fmt.Errorf("from: %w", err)
	}
	if out.To, err = clockTime(wk.To); err != nil {
		return out, fmt.Errorf("to: %w", err)
	}
	tz := wk.Timezone
	if tz == "" {
		tz = "UTC"
	}
	if out.Location, err = time.LoadLocation(tz); err != nil {
		return out, fmt.Errorf("unknown time zone %q", tz)
	}
	return out, nil
}

// clockTime reads "HH:MM" (24:00 allowed) as an offset from midnight.
func clockTime(s string) (time.Duration, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || len(s) != 5 || h < 0 || m < 0 || m > 59 ||
		h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func (c *Config) validateSilence(bad func(key, format string, args ...any)) {
	s := c.Silence
	if !s.Enabled {
		return
	}
	checks := []struct {
		key, want string
		ok        bool
	}{
		{"silence.k", "> 0", s.K > 0}, {"silence.floor", "> 0", s.Floor.Duration > 0},
		{"silence.min_events", "> 0", s.MinEvents > 0}, {"silence.min_history", "> 0", s.MinHistory.Duration > 0},
		{"silence.drop_ratio", "between 0 and 1", s.DropRatio > 0 && s.DropRatio < 1},
		{"silence.min_hourly", "> 0", s.MinHourly > 0}, {"silence.min_hours", "> 0", s.MinHours > 0},
		{"silence.error_rate", "in (0, 1]", s.ErrorRate > 0 && s.ErrorRate <= 1},
		{"silence.error_factor", ">= 1", s.ErrorFactor >= 1},
		{"silence.error_min_records", "> 0", s.ErrorMinRecords > 0},
		{"silence.live_skew", "> 0", s.LiveSkew.Duration > 0}, {"silence.max_sources", "> 0", s.MaxSources > 0},
		{"silence.evict_after", "> 0", s.EvictAfter.Duration > 0},
		{"silence.check_interval", "at least 1s", s.CheckInterval.Duration >= time.Second},
	}
	for _, x := range checks {
		if !x.ok {
			bad(x.key, "must be %s", x.want)
		}
	}
	for i, m := range s.Maintenance {
		if _, err := m.window(); err != nil {
			bad(fmt.Sprintf("silence.maintenance.%d", i), "%v", err)
		}
	}
}
