package schema

import (
	"fmt"
	"strings"
	"time"
)

// Alert kinds. Detections of later stages add their own.
const (
	KindBuiltin      = "builtin"
	KindSigma        = "sigma"
	KindBeacon       = "beacon"
	KindIOC          = "ioc"
	KindSourceSilent = "source_silent"
)

// Alert statuses, in workflow order.
const (
	StatusNew           = "new"
	StatusAcknowledged  = "acknowledged"
	StatusInvestigating = "investigating"
	StatusResolved      = "resolved"
)

// Dispositions of a resolved alert.
const (
	DispositionTruePositive       = "true_positive"
	DispositionBenignTruePositive = "benign_true_positive"
	DispositionFalsePositive      = "false_positive"
)

// ValidDisposition reports whether d is a disposition name.
func ValidDisposition(d string) bool {
	switch d {
	case DispositionTruePositive, DispositionBenignTruePositive, DispositionFalsePositive:
		return true
	}
	return false
}

// Severity is an alert's severity, from the rule or detector.
type Severity int

// Severities, lowest first. Their names follow Sigma's levels.
const (
	SeverityInformational Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"", "informational", "low", "medium", "high", "critical"}

// String returns the severity's name.
func (s Severity) String() string {
	if s < SeverityInformational || s > SeverityCritical {
		return "unknown"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name (Sigma levels, case-insensitive).
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(n, name) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want informational, low, medium, high or critical)", name)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Alert is a detection's finding, separate from the events that are its
// evidence. Alerts with the same DedupKey inside the store's grouping window
// are one alert whose Count and LastSeen grow.
type Alert struct {
	ID       string   `json:"id"`
	RuleID   string   `json:"rule_id"`
	RuleName string   `json:"rule_name"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Priority is 1 (most urgent) to 5; detections set it from severity until
	// the risk stage refines it.
	Priority int `json:"priority"`
	// FirstSeen and LastSeen are the event times of the first and last
	// evidence; Created is when the alert was stored.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`

	Host              string   `json:"host,omitempty"`
	SourceIP          string   `json:"source_ip,omitempty"`
	DestinationIP     string   `json:"destination_ip,omitempty"`
	DestinationDomain string   `json:"destination_domain,omitempty"`
	User              string   `json:"user,omitempty"`
	Tags              []string `json:"tags,omitempty"` // ATT&CK tags such as attack.t1110
	// EvidenceIDs are event IDs (Event.ID), capped by the store.
	EvidenceIDs []uint64 `json:"evidence_ids,omitempty"`
	Status      string   `json:"status"`
	// Assignee is the user working on the alert; Disposition (set when
	// resolved: DispositionTruePositive, ...) and Reason record the verdict.
	Assignee    string `json:"assignee,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Count       int64  `json:"count"`
	// DedupKey groups repeats; empty means rule id + host + source.ip.
	DedupKey string `json:"dedup_key"`
	// Details carries detector-specific facts (thresholds, counts, matched
	// fields) as a flat map for display.
	Details map[string]string `json:"details,omitempty"`
}

// PriorityFromSeverity maps a severity to the default priority 1..5.
func PriorityFromSeverity(s Severity) int {
	switch s {
	case SeverityCritical:
		return 1
	case SeverityHigh:
		return 2
	case SeverityMedium:
		return 3
	case SeverityLow:
		return 4
	}
	return 5
}

// Key returns the alert's dedup key, deriving the default when unset.
func (a *Alert) Key() string {
	if a.DedupKey != "" {
		return a.DedupKey
	}
	return a.Kind + "|" + a.RuleID + "|" + a.Host + "|" + a.SourceIP
}
