// Package timeexpr reads the time expressions the API and CLI accept:
// RFC 3339 stamps, dates, epoch seconds and relative times like now-1h.
package timeexpr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parse reads s relative to now. The empty string gives the zero time.
// Accepted: "now", "now-15m", "-15m", "now+1h", "2026-11-20T10:00:00Z" (any
// RFC 3339), "2026-11-20T10:00:00" (UTC), "2026-11-20" (UTC midnight),
// epoch seconds "1700000000", and durations with a "d" (days) unit.
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if s == "now" {
		return now, nil
	}
	rel := strings.TrimPrefix(s, "now")
	if rel != "" && (rel[0] == '-' || rel[0] == '+') && (rel != s || s[0] == '-') {
		d, err := ParseDuration(rel[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid relative time %q: %w", s, err)
		}
		if rel[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC 3339, a date, epoch seconds or now-1h", s)
}

// ParseDuration is time.ParseDuration plus a "d" unit for days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
