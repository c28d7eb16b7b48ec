package silence

import (
	"fmt"
	"path"
	"time"
)

// Options tune the detector. Zero fields take the defaults below.
type Options struct {
	// K and Floor set the silence threshold: a source is silent once no
	// event came for max(K × its p99 gap, Floor).
	K     float64
	Floor time.Duration
	// MinEvents and MinHistory are how many events and how long a span a
	// source needs before it is judged at all.
	MinEvents  int
	MinHistory time.Duration
	// DropRatio flags an hour whose count is below DropRatio × the
	// baseline for that hour; MinHourly is the smallest baseline judged
	// and MinHours how many closed hours a source needs first.
	DropRatio float64
	MinHourly float64
	MinHours  int
	// ErrorRate and ErrorFactor flag a parse-error rate (rejected / all
	// records) at least ErrorRate and ErrorFactor × the source's usual
	// rate, over at least ErrorMinRecords records.
	ErrorRate       float64
	ErrorFactor     float64
	ErrorMinRecords int64
	// LiveSkew is how close to its receipt an event's time must be for its
	// source to count as live and be judged by the wall clock too.
	LiveSkew time.Duration
	// MaxSources caps the sources tracked; EvictAfter forgets a source
	// silent this long.
	MaxSources int
	EvictAfter time.Duration
	// Maintenance lists planned windows that suppress alerts.
	Maintenance []Window
}

// Defaults of Options.
const (
	DefaultK               = 4.0
	DefaultFloor           = 10 * time.Minute
	DefaultMinEvents       = 20
	DefaultMinHistory      = time.Hour
	DefaultDropRatio       = 0.1
	DefaultMinHourly       = 30.0
	DefaultMinHours        = 24
	DefaultErrorRate       = 0.05
	DefaultErrorFactor     = 5.0
	DefaultErrorMinRecords = 50
	DefaultLiveSkew        = 10 * time.Minute
	DefaultMaxSources      = 20000
	DefaultEvictAfter      = 30 * 24 * time.Hour
)

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	def := func(p *float64, v float64) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.K, DefaultK)
	def(&o.DropRatio, DefaultDropRatio)
	def(&o.MinHourly, DefaultMinHourly)
	def(&o.ErrorRate, DefaultErrorRate)
	def(&o.ErrorFactor, DefaultErrorFactor)
	defD(&o.Floor, DefaultFloor)
	defD(&o.MinHistory, DefaultMinHistory)
	defD(&o.LiveSkew, DefaultLiveSkew)
	defD(&o.EvictAfter, DefaultEvictAfter)
	if o.MinEvents <= 0 {
		o.MinEvents = DefaultMinEvents
	}
	if o.MinHours <= 0 {
		o.MinHours = DefaultMinHours
	}
	if o.ErrorMinRecords <= 0 {
		o.ErrorMinRecords = DefaultErrorMinRecords
	}
	if o.MaxSources <= 0 {
		o.MaxSources = DefaultMaxSources
	}
	return o
}

// Window is a planned maintenance window: the sources it covers (host
// globs and inputs; empty means all) and when, as one span (Start..End)
// and/or weekly recurring times.
type Window struct {
	Name   string
	Hosts  []string // path.Match globs
	Inputs []string
	// Start and End bound a one-off window (both set, or neither).
	Start, End time.Time
	Weekly     []Weekly
}

// Weekly is a recurring window on the given weekdays from From to To
// (offsets from midnight in Location; To before From runs past midnight).
type Weekly struct {
	Days     []time.Weekday
	From, To time.Duration
	Location *time.Location
}

// Validate reports a window that can never match or is malformed.
func (w Window) Validate() error {
	for _, h := range w.Hosts {
		if _, err := path.Match(h, ""); err != nil {
			return fmt.Errorf("host glob %q: %w", h, err)
		}
	}
	if w.Start.IsZero() != w.End.IsZero() {
		return fmt.Errorf("start and end go together")
	}
	if !w.Start.IsZero() && !w.End.After(w.Start) {
		return fmt.Errorf("end %s is not after start %s", w.End, w.Start)
	}
	if w.Start.IsZero() && len(w.Weekly) == 0 {
		return fmt.Errorf("needs start and end, or weekly times")
	}
	for _, wk := range w.Weekly {
		if len(wk.Days) == 0 || wk.From == wk.To || wk.From < 0 || wk.To < 0 ||
			wk.From >= 24*time.Hour || wk.To > 24*time.Hour {
			return fmt.Errorf("weekly window needs days and distinct from/to times within the day")
		}
	}
	return nil
}

// covers reports whether the window applies to the source host × input.
func (w *Window) covers(host, input string) bool {
	return matchAny(w.Hosts, host, true) && matchAny(w.Inputs, input, false)
}

func matchAny(pats []string, s string, glob bool) bool {
	if len(pats) == 0 {
		return true
	}
	for _, p := range pats {
		if p == s {
			return true
		}
		if ok, _ := path.Match(p, s); glob && ok {
			return true
		}
	}
	return false
}

// latestEnd returns the latest end among the window's occurrences that
// overlap (a, b].
func (w *Window) latestEnd(a, b time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	take := func(s, e time.Time) {
		if s.Before(b) && e.After(a) && (!found || e.After(best)) {
			best, found = e, true
		}
	}
	if !w.Start.IsZero() {
		take(w.Start, w.End)
	}
	for _, wk := range w.Weekly {
		loc := wk.Location
		if loc == nil {
			loc = time.UTC
		}
		lb := b.In(loc)
		// Occurrences start at most a day before they end, so the days
		// from b back eight cover every one that reaches into a week.
		for d := 0; d <= 8; d++ {
			day := time.Date(lb.Year(), lb.Month(), lb.Day()-d, 0, 0, 0, 0, loc)
			if !hasDay(wk.Days, day.Weekday()) {
				continue
			}
			s, e := day.Add(wk.From), day.Add(wk.To)
			if wk.To <= wk.From {
				e = e.AddDate(0, 0, 1)
			}
			take(s, e)
		}
	}
	return best, found
}

func hasDay(days []time.Weekday, d time.Weekday) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}
