package timeexpr

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"now", now, false},
		{"now-15m", now.Add(-15 * time.Minute), false},
		{"-2h", now.Add(-2 * time.Hour), false},
		{"now+1h", now.Add(time.Hour), false},
		{"now-7d", now.Add(-7 * 24 * time.Hour), false},
		{"2026-11-19T08:30:00Z", time.Date(2026, 11, 19, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-19T08:30:00+02:00", time.Date(2026, 11, 19, 6, 30, 0, 0, time.UTC), false},
		{"2026-11-19", time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), false},
		{"1700000000", time.Unix(1700000000, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"now-xyz", time.Time{}, true},
	}
	for _, c := range cases {
		got, err := Parse(c.in, now)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}
