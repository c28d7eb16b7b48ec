package silence

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

const (
	// alphaErr smooths a source's usual parse-error rate.
	alphaErr = 0.2
	// minErrWindows is how many windows of records a source needs before
	// its error rate is judged.
	minErrWindows = 3
)

// SourceCounts is what the sources table says about one source: receipt
// of its last record (accepted or rejected) and its running totals.
type SourceCounts struct {
	Host, Input         string
	LastSeen            time.Time
	Events, ParseErrors int64
}

// errStat follows one source's parse-error rate.
type errStat struct {
	Host, Input       string
	Init              bool
	PrevEvents, PrevX int64
	AccEvents, AccX   int64
	Base              float64
	Windows           int
	Ep                episode
}

// WallCheck is one wall-clock check's input.
type WallCheck struct {
	// Now is the wall clock; Listening is when the node started receiving:
	// a source cannot be known silent for longer.
	Now, Listening time.Time
	// Counts is the sources table.
	Counts []SourceCounts
	// Backlog says the detection stage has not caught up with the ingest
	// log: events the sources sent may be waiting there, so no source is
	// judged silent (parse errors still are).
	Backlog bool
}

// CheckWall judges sources by the wall clock: every live source that
// received nothing (neither in the detector's events nor in the counts)
// since max(its last receipt, w.Listening) for longer than its threshold
// is silent, and parse-error rates are computed from the counts' growth
// since the previous call. It returns the alerts to store; their episodes
// are marked alerted, so the event-time path does not raise them again.
func (d *Detector) CheckWall(w WallCheck) []schema.Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []schema.Alert
	emit := func(a schema.Alert) {
		a.Details["clock"] = "wall"
		out = append(out, a)
	}
	lastSeen := make(map[string]time.Time, len(w.Counts))
	for _, c := range w.Counts {
		k, host, input := sourceKey(c.Host, c.Input)
		lastSeen[k] = c.LastSeen
		d.checkErrors(k, host, input, c, w.Now, emit)
	}
	if w.Backlog {
		return out
	}
	for k, s := range d.st.Sources {
		if !s.Live {
			continue
		}
		since := later(later(s.LastRecv, lastSeen[k]), w.Listening)
		d.judgeSilence(s, since, w.Now, emit)
	}
	return out
}

// checkErrors adds one reading of a source's counters and judges its
// parse-error rate once enough records arrived.
func (d *Detector) checkErrors(k, host, input string, c SourceCounts, now time.Time, emit func(schema.Alert)) {
	e := d.st.Errors[k]
	if e == nil {
		if len(d.st.Errors) >= d.o.MaxSources {
			return
		}
		e = &errStat{Host: host, Input: input}
		d.st.Errors[k] = e
	}
	de, dx := c.Events-e.PrevEvents, c.ParseErrors-e.PrevX
	e.PrevEvents, e.PrevX = c.Events, c.ParseErrors
	if !e.Init || de < 0 || dx < 0 {
		// First reading, or counters that went back (a new state
		// database): start from here.
		e.Init, e.AccEvents, e.AccX = true, 0, 0
		return
	}
	e.AccEvents += de
	e.AccX += dx
	total := e.AccEvents + e.AccX
	if total < d.o.ErrorMinRecords {
		return
	}
	rate := float64(e.AccX) / float64(total)
	d.judgeErrors(e, rate, total, now, emit)
	e.AccEvents, e.AccX = 0, 0
}

// judgeErrors judges one window's parse-error rate against the usual one.
func (d *Detector) judgeErrors(e *errStat, rate float64, records int64, now time.Time, emit func(schema.Alert)) {
	limit := max(d.o.ErrorRate, d.o.ErrorFactor*e.Base)
	high := e.Windows >= minErrWindows && rate >= limit
	switch {
	case high && !e.Ep.Open:
		e.Ep = episode{Open: true, Since: now, Baseline: e.Base, Current: rate}
		src := &source{Host: e.Host, Input: e.Input}
		if d.inWindow(src, now.Add(-time.Second), now) {
			e.Ep.Suppressed = true
			d.st.Suppressed++
			return
		}
		e.Ep.Alerted = true
		emit(d.errorAlert(e, rate, records, now, StateErrors))
	case high:
		e.Ep.Current = max(e.Ep.Current, rate)
	case e.Ep.Open && rate < limit/2:
		if e.Ep.Alerted {
			emit(d.errorAlert(e, rate, records, now, StateRecovered))
		}
		e.Ep = episode{}
	case !e.Ep.Open:
		if e.Windows == 0 {
			e.Base = rate
		} else {
			e.Base += alphaErr * (rate - e.Base)
		}
		e.Windows++
	}
}

// errorAlert is the alert (or its recovery) of a parse-error jump.
func (d *Detector) errorAlert(e *errStat, rate float64, records int64, now time.Time, state string) schema.Alert {
	d.st.Alerts[RuleParseErrors]++
	det := map[string]string{"state": state, "error_rate": fmt.Sprintf("%.4f", rate),
		"baseline_rate": fmt.Sprintf("%.4f", e.Ep.Baseline), "records": strconv.FormatInt(records, 10),
		"peak_rate": fmt.Sprintf("%.4f", e.Ep.Current), "since": stamp(e.Ep.Since)}
	if state == StateRecovered {
		det["recovered_at"] = stamp(now)
		det["errors_for"] = dur(now.Sub(e.Ep.Since))
	}
	crit := ""
	if k, _, _ := sourceKey(e.Host, e.Input); d.st.Sources[k] != nil {
		crit = d.st.Sources[k].Criticality
	}
	return d.newAlert(e.Host, e.Input, crit, RuleParseErrors, "Log source parse errors",
		fmt.Sprintf("Parse errors of %s/%s jumped to %.1f%% (usually %.1f%%)", e.Host, e.Input, 100*e.Ep.Current,
			100*e.Ep.Baseline), e.Ep.Since, now, det)
}
