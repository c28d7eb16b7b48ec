package silence

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Episode states recorded in an alert's details ("state").
const (
	StateSilent    = "silent"
	StateDropped   = "dropped"
	StateErrors    = "errors"
	StateRecovered = "recovered"
)

// DedupKey returns the dedup key of a source's alerts of one rule: every
// alert of an episode, its recovery included, groups into one.
func DedupKey(rule, host, input string) string {
	_, host, input = sourceKey(host, input)
	return schema.KindSourceSilent + "|" + rule + "|" + host + "|" + input
}

// severity follows the criticality of the source's asset: critical and
// high carry over, anything else (or no asset) is medium.
func (d *Detector) severity(host, fallback string) schema.Severity {
	crit := fallback
	if d.assets != nil {
		if as, ok := d.assets.AssetFor(host); ok && as.Criticality != "" {
			crit = as.Criticality
		}
	}
	switch crit {
	case "critical":
		return schema.SeverityCritical
	case "high":
		return schema.SeverityHigh
	}
	return schema.SeverityMedium
}

// newAlert builds the common part of a source's alert.
func (d *Detector) newAlert(host, input, crit, rule, name, title string, first, last time.Time,
	details map[string]string) schema.Alert {
	sev := d.severity(host, crit)
	details["source.host"] = host
	details["source.input"] = input
	if last.Before(first) {
		last = first
	}
	return schema.Alert{RuleID: rule, RuleName: name, Kind: schema.KindSourceSilent, Title: title,
		Severity: sev, Priority: schema.PriorityFromSeverity(sev), FirstSeen: first.UTC(), LastSeen: last.UTC(),
		Host: host, Count: 1, DedupKey: DedupKey(rule, host, input), Details: details}
}

func dur(x time.Duration) string { return x.Round(time.Second).String() }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// cadenceDetails describes what the source usually does.
func (d *Detector) cadenceDetails(s *source, det map[string]string) map[string]string {
	det["last_event"] = stamp(s.Last)
	det["expected_cadence"] = dur(s.Cad.median())
	det["p99_gap"] = dur(s.Cad.quantile(0.99))
	det["threshold"] = dur(d.threshold(s))
	det["events_seen"] = strconv.FormatInt(s.Events, 10)
	return det
}

// silentAlert is the alert of a silence judged at now with nothing
// received since `since`.
func (d *Detector) silentAlert(s *source, since, now time.Time) schema.Alert {
	det := d.cadenceDetails(s, map[string]string{"state": StateSilent, "silent_for": dur(now.Sub(since)),
		"judged_at": stamp(now), "clock": "event"})
	d.st.Alerts[RuleSilent]++
	return d.newAlert(s.Host, s.Input, s.Criticality, RuleSilent, "Log source silent",
		fmt.Sprintf("Log source %s/%s went silent", s.Host, s.Input), s.Last, now, det)
}

// recovered is the alert recording that s spoke again at ts.
func (d *Detector) recovered(s *source, ts time.Time) schema.Alert {
	det := d.cadenceDetails(s, map[string]string{"state": StateRecovered, "silent_for": dur(ts.Sub(s.Last)),
		"recovered_at": stamp(ts), "clock": "event"})
	d.st.Alerts[RuleSilent]++
	return d.newAlert(s.Host, s.Input, s.Criticality, RuleSilent, "Log source silent",
		fmt.Sprintf("Log source %s/%s went silent", s.Host, s.Input), s.Last, ts, det)
}

// dropAlert is the alert of an hour far below its baseline.
func (d *Detector) dropAlert(s *source, c closedHour) schema.Alert {
	d.st.Alerts[RuleVolumeDrop]++
	det := map[string]string{"state": StateDropped, "hour_start": stamp(c.Start),
		"hour_of_week": strconv.Itoa(c.Slot), "baseline": fmt.Sprintf("%.1f", c.Baseline),
		"current": strconv.FormatInt(c.Count, 10), "drop_ratio": fmt.Sprintf("%g", d.o.DropRatio),
		"last_event": stamp(s.Last)}
	return d.newAlert(s.Host, s.Input, s.Criticality, RuleVolumeDrop, "Log source volume drop",
		fmt.Sprintf("Log volume of %s/%s dropped to %d events/hour (baseline %.0f)", s.Host, s.Input,
			c.Count, c.Baseline), c.Start, c.Start.Add(time.Hour), det)
}

// dropRecovered records that s's volume came back with hour c.
func (d *Detector) dropRecovered(s *source, c closedHour) schema.Alert {
	d.st.Alerts[RuleVolumeDrop]++
	ep := s.Drop
	det := map[string]string{"state": StateRecovered, "recovered_at": stamp(c.Start),
		"low_for": dur(c.Start.Sub(ep.Since)), "low_hours": strconv.Itoa(ep.Hours),
		"baseline": fmt.Sprintf("%.1f", c.Baseline), "current": strconv.FormatInt(c.Count, 10)}
	return d.newAlert(s.Host, s.Input, s.Criticality, RuleVolumeDrop, "Log source volume drop",
		fmt.Sprintf("Log volume of %s/%s dropped", s.Host, s.Input), ep.Since, c.Start.Add(time.Hour), det)
}
