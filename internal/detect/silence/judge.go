package silence

import (
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// maxDropHours is how long a volume drop may last before its level is
// accepted as the new normal and the baselines start over.
const maxDropHours = hoursPerWeek

// maxVolumeGap is the largest p99 gap of a source whose hourly volume is
// judged.
const maxVolumeGap = 10 * time.Minute

// sweep judges every source of clock class c and input: closes the hours
// its clock passed, opens silences, and evicts sources dead for longer than
// EvictAfter before the class watermark wm.
func (d *Detector) sweep(c int, input string, wm time.Time, emit func(schema.Alert)) {
	for k, s := range d.st.Sources {
		if classOf(s.Live) != c || s.Input != input {
			continue
		}
		if wm.Sub(s.Last) > d.o.EvictAfter {
			delete(d.st.Sources, k)
			d.st.Evicted++
			continue
		}
		// The source's own clock: its last event advanced by how far the
		// watermark of its own input moved since that event arrived. Each
		// kind of log is its own clock: a replay of ten days of one kind
		// (as a sensor's history sent at once) says nothing about another,
		// so a lone source of its kind is judged by the wall clock only.
		clock := s.Last.Add(max(0, d.st.InputWM[inputKey(c, s.Input)].Sub(s.InRefWM)))
		d.closeHours(s, unixHour(clock), emit)
		d.judgeSilence(s, s.Last, clock, emit)
	}
}

// judgeSilence opens or advances s's silence episode given that nothing
// arrived from it since `since` until now, emitting the alert once.
func (d *Detector) judgeSilence(s *source, since, now time.Time, emit func(schema.Alert)) {
	if s.Silent.Alerted || !d.ready(s) {
		return
	}
	thr := d.threshold(s)
	if now.Sub(since) <= thr {
		return
	}
	if !s.Silent.Open {
		s.Silent = episode{Open: true, Since: s.Last}
	}
	// Silence inside a maintenance window, or not yet threshold-long after
	// its end, is planned.
	if ref := d.windowEnd(s, since, now); now.Sub(ref) <= thr {
		if !s.Silent.Suppressed {
			s.Silent.Suppressed = true
			d.st.Suppressed++
		}
		return
	}
	s.Silent.Alerted = true
	emit(d.silentAlert(s, since, now))
}

// windowEnd returns the later of since and the end of the last
// maintenance window covering s that overlaps (since, now].
func (d *Detector) windowEnd(s *source, since, now time.Time) time.Time {
	ref := since
	for i := range d.o.Maintenance {
		w := &d.o.Maintenance[i]
		if !w.covers(s.Host, s.Input) {
			continue
		}
		if e, ok := w.latestEnd(since, now); ok && e.After(ref) {
			ref = e
		}
	}
	return ref
}

// inWindow reports whether a maintenance window covering s overlaps
// [from, to).
func (d *Detector) inWindow(s *source, from, to time.Time) bool {
	return d.windowEnd(s, from, to).After(from)
}

// closeHours closes s's hours before Unix hour h and judges their volume.
func (d *Detector) closeHours(s *source, h int64, emit func(schema.Alert)) {
	s.Vol.advance(h, d.o.MinHours, func(c closedHour) bool {
		if s.Silent.Open {
			return false // a silence is not volume to learn
		}
		return d.judgeHour(s, c, emit)
	})
}

// judgeHour judges one closed hour and reports whether to learn it.
func (d *Detector) judgeHour(s *source, c closedHour, emit func(schema.Alert)) bool {
	// Hourly counts say little about a source whose gaps reach a sizeable
	// part of an hour (hourly bursts, say): only fine-grained ones are
	// judged.
	low := c.Judged && c.Baseline >= d.o.MinHourly && float64(c.Count) < d.o.DropRatio*c.Baseline &&
		s.Cad.quantile(0.99) <= maxVolumeGap
	ep := &s.Drop
	switch {
	case low && !ep.Open:
		*ep = episode{Open: true, Since: c.Start, Hours: 1, Baseline: c.Baseline, Current: float64(c.Count)}
		if d.inWindow(s, c.Start, c.Start.Add(time.Hour)) {
			ep.Suppressed = true
			d.st.Suppressed++
			return false
		}
		ep.Alerted = true
		emit(d.dropAlert(s, c))
		return false
	case low:
		ep.Hours++
		ep.Current = float64(c.Count)
		if ep.Hours >= maxDropHours {
			s.Vol = volume{Hour: s.Vol.Hour, Count: s.Vol.Count}
			*ep = episode{}
		}
		return false
	case ep.Open && c.Judged && float64(c.Count) >= 2*d.o.DropRatio*c.Baseline:
		if ep.Alerted {
			emit(d.dropRecovered(s, c))
		}
		*ep = episode{}
	}
	return true
}
