package silence

import "time"

// hoursPerWeek is the number of hour-of-week slots.
const hoursPerWeek = 7 * 24

const (
	// alphaAll smooths the all-hours baseline (about a day of memory);
	// alphaSlot the per-hour-of-week one (a few weeks).
	alphaAll  = 0.08
	alphaSlot = 0.3
	// slotWeeks is how many samples an hour-of-week slot needs before its
	// own baseline is used: only then can it show that volume varies over
	// the week.
	slotWeeks = 2
)

// volume is a source's hourly event counts: the open hour and the
// baselines learned from closed ones.
type volume struct {
	Hour  int64 // Unix hour of the open bucket; 0 before the first event
	Count int64
	All   float64 // EWMA of hourly counts over all hours
	Hours int     // closed hours learned
	Slot  [hoursPerWeek]float32
	SlotN [hoursPerWeek]uint8
}

// closedHour is one hour that closed: its count against its baseline.
type closedHour struct {
	Start    time.Time
	Count    int64
	Baseline float64
	Slot     int
	Judged   bool // enough history to judge
}

func unixHour(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 3599) / 3600
	}
	return s / 3600
}

// slotOf returns the hour-of-week slot (Monday 00:00 UTC is 0) of a Unix
// hour.
func slotOf(h int64) int {
	// The Unix epoch was a Thursday: slot 3*24.
	s := (h + 3*24) % hoursPerWeek
	if s < 0 {
		s += hoursPerWeek
	}
	return int(s)
}

// baseline returns the expected count of an hour: its slot's own baseline
// once the slot has history, else the all-hours one. The second result is
// false while the source has too little history.
func (v *volume) baseline(slot, minHours int) (float64, bool) {
	if v.Hours < minHours {
		return 0, false
	}
	if v.SlotN[slot] >= slotWeeks {
		return float64(v.Slot[slot]), true
	}
	return v.All, true
}

// learn folds a closed hour's count into the baselines.
func (v *volume) learn(slot int, n int64) {
	x := float64(n)
	if v.Hours == 0 {
		v.All = x
	} else {
		v.All += alphaAll * (x - v.All)
	}
	v.Hours++
	if v.SlotN[slot] == 0 {
		v.Slot[slot] = float32(x)
	} else {
		v.Slot[slot] += float32(alphaSlot * (x - float64(v.Slot[slot])))
	}
	if v.SlotN[slot] < 255 {
		v.SlotN[slot]++
	}
}

// advance closes every hour before hour h (a Unix hour) and returns them
// for judging; learn says whether to learn them. Gaps of more than a week
// close only the open hour and restart counting.
func (v *volume) advance(h int64, minHours int, learn func(closedHour) bool) []closedHour {
	if v.Hour == 0 || h <= v.Hour {
		if v.Hour == 0 {
			v.Hour = h
		}
		return nil
	}
	var out []closedHour
	last := min(h, v.Hour+hoursPerWeek)
	for hr := v.Hour; hr < last; hr++ {
		n := int64(0)
		if hr == v.Hour {
			n = v.Count
		}
		slot := slotOf(hr)
		base, ok := v.baseline(slot, minHours)
		c := closedHour{Start: time.Unix(hr*3600, 0).UTC(), Count: n, Baseline: base, Slot: slot, Judged: ok}
		out = append(out, c)
		if learn(c) {
			v.learn(slot, n)
		}
	}
	v.Hour, v.Count = h, 0
	return out
}
