package web

import (
	"net/http"
	"net/url"
	"time"
)

// finding is one vulnerability finding as GET /api/v1/vulns answers it.
type finding struct {
	Key          string    `json:"key"`
	Target       string    `json:"target"`
	Hostname     string    `json:"hostname"`
	AssetID      string    `json:"asset_id"`
	VulnID       string    `json:"vuln_id"`
	Title        string    `json:"title"`
	Severity     string    `json:"severity"`
	CVSS         float64   `json:"cvss"`
	Package      string    `json:"package"`
	Installed    string    `json:"installed_version"`
	FixedVersion string    `json:"fixed_version"`
	Status       string    `json:"status"`
	Opened       time.Time `json:"opened"`
	FixedAt      time.Time `json:"fixed_at"`
	Reopened     int       `json:"reopened"`
	Scanners     []string  `json:"scanners"`
	Due          time.Time `json:"due"`
	Overdue      bool      `json:"overdue"`
	AgeDays      int       `json:"age_days"`
}

// vulnEvent is one change of a finding's state.
type vulnEvent struct {
	At       time.Time `json:"at"`
	Event    string    `json:"event"`
	ScanID   string    `json:"scan_id"`
	Severity string    `json:"severity"`
}

// vulnsView is the vulnerabilities page's data: overdue findings first,
// then every open one by severity and age, the open trend, and the history
// of one finding when asked for.
type vulnsView struct {
	Overdue  []finding
	Open     []finding
	BySev    map[string]int
	Trend    []trendPoint
	Key      string
	Finding  *finding
	History  []vulnEvent
	TTRHours float64
}

type trendPoint struct {
	Day  time.Time `json:"day"`
	Open int       `json:"open"`
}

func (c *Console) vulnsData(r *http.Request, _ *session) (any, error) {
	v := vulnsView{BySev: map[string]int{}, Key: r.URL.Query().Get("key")}
	var over, open struct {
		Findings []finding `json:"findings"`
	}
	if err := c.get(r, "/api/v1/vulns", url.Values{"overdue": {"true"}}, &over); err != nil {
		return v, err
	}
	if err := c.get(r, "/api/v1/vulns", url.Values{"status": {"open"}}, &open); err != nil {
		return v, err
	}
	v.Overdue, v.Open = over.Findings, open.Findings
	for _, f := range v.Open {
		v.BySev[f.Severity]++
	}
	var tr struct {
		Points []trendPoint `json:"points"`
	}
	if err := c.get(r, "/api/v1/vulns/trend", url.Values{"days": {"30"}}, &tr); err != nil {
		return v, err
	}
	v.Trend = tr.Points
	if v.Key == "" {
		return v, nil
	}
	var h struct {
		Finding  finding     `json:"finding"`
		Events   []vulnEvent `json:"events"`
		TTRHours float64     `json:"time_to_remediate_hours"`
	}
	if err := c.get(r, "/api/v1/vulns/history", url.Values{"key": {v.Key}}, &h); err != nil {
		return v, err
	}
	v.Finding, v.History, v.TTRHours = &h.Finding, h.Events, h.TTRHours
	return v, nil
}
