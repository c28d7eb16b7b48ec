package vuln

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Severity is a normalised finding severity: one of critical, high, medium,
// low or info.
type Severity string

// The normalised severities, from most to least severe.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists the normalised severities from most to least severe.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}
}

// Rank orders severities: critical 4, high 3, medium 2, low 1, info and
// anything unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Valid reports whether s is one of the normalised severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo:
		return true
	}
	return false
}

// ParseSeverity normalises a scanner's severity word or number. Words are
// compared without regard to case: critical/urgent, high/important,
// medium/moderate/warning, low/negligible, and info/informational/none/log/
// debug/unknown/empty. Nessus' numeric ratings 0-4 map to info..critical.
// It reports false for anything else.
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "urgent", "4":
		return SeverityCritical, true
	case "high", "important", "3":
		return SeverityHigh, true
	case "medium", "moderate", "warning", "2":
		return SeverityMedium, true
	case "low", "negligible", "1":
		return SeverityLow, true
	case "info", "informational", "information", "none", "log", "debug", "unknown", "false positive", "", "0":
		return SeverityInfo, true
	}
	return "", false
}

// FromCVSS maps a CVSS base score to a severity with the CVSS v3 rating
// bands: 9.0 and above critical, 7.0 high, 4.0 medium, above 0 low, and 0
// info.
func FromCVSS(score float64) Severity {
	switch {
	case score >= 9.0:
		return SeverityCritical
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityInfo
}

// parseScore reads a CVSS score; empty gives 0 and no error.
func parseScore(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 10 {
		return 0, fmt.Errorf("CVSS score %q is not a number from 0 to 10", s)
	}
	return v, nil
}

// SLA is the remediation deadline per severity, in days from the moment a
// finding opened. A severity without an entry (or with 0 days) has no
// deadline.
type SLA map[Severity]int

// DefaultSLA returns the default deadlines: critical 15 days, high 30,
// medium 90, low 180; info has none.
func DefaultSLA() SLA {
	return SLA{SeverityCritical: 15, SeverityHigh: 30, SeverityMedium: 90, SeverityLow: 180}
}

// Deadline returns when a finding of severity s opened at opened is due, and
// false when s has no deadline.
func (l SLA) Deadline(s Severity, opened time.Time) (time.Time, bool) {
	days := l[s]
	if days <= 0 {
		return time.Time{}, false
	}
	return opened.Add(time.Duration(days) * 24 * time.Hour), true
}
