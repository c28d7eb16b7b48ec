package vuln

import (
	"testing"
	"time"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in   string
		want Severity
		ok   bool
	}{
		{"CRITICAL", SeverityCritical, true},
		{"4", SeverityCritical, true},
		{"High", SeverityHigh, true},
		{" important ", SeverityHigh, true},
		{"Moderate", SeverityMedium, true},
		{"2", SeverityMedium, true},
		{"Negligible", SeverityLow, true},
		{"Log", SeverityInfo, true},
		{"None", SeverityInfo, true},
		{"UNKNOWN", SeverityInfo, true},
		{"", SeverityInfo, true},
		{"severe", "", false},
		{"5", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseSeverity(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromCVSS(t *testing.T) {
	tests := []struct {
		score float64
		want  Severity
	}{{10, SeverityCritical}, {9.0, SeverityCritical}, {8.9, SeverityHigh}, {7.0, SeverityHigh},
		{6.9, SeverityMedium}, {4.0, SeverityMedium}, {3.9, SeverityLow}, {0.1, SeverityLow}, {0, SeverityInfo}}
	for _, tt := range tests {
		if got := FromCVSS(tt.score); got != tt.want {
			t.Errorf("FromCVSS(%v) = %q, want %q", tt.score, got, tt.want)
		}
	}
}

func TestSLADeadline(t *testing.T) {
	opened := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sla := DefaultSLA()
	tests := []struct {
		sev  Severity
		want time.Time
		ok   bool
	}{
		{SeverityCritical, opened.AddDate(0, 0, 15), true},
		{SeverityHigh, opened.AddDate(0, 0, 30), true},
		{SeverityInfo, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := sla.Deadline(tt.sev, opened)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("Deadline(%s) = %v, %v; want %v, %v", tt.sev, got, ok, tt.want, tt.ok)
		}
	}
	for i, s := range Severities() {
		if !s.Valid() || s.Rank() != 4-i {
			t.Errorf("severity %q: valid %v rank %d", s, s.Valid(), s.Rank())
		}
	}
	if Severity("bad").Valid() {
		t.Error("bad severity is valid")
	}
}
