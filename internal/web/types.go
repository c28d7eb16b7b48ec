package web

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The shapes below are decoded from the API's JSON (docs/api.md); the
// console depends on the documented answers, not on the server's types.

// alert is one alert of GET /api/v1/alerts and /alerts/{id}.
type alert struct {
	ID                string            `json:"id"`
	RuleID            string            `json:"rule_id"`
	RuleName          string            `json:"rule_name"`
	Kind              string            `json:"kind"`
	Title             string            `json:"title"`
	Severity          json.RawMessage   `json:"severity"`
	Priority          int               `json:"priority"`
	FirstSeen         time.Time         `json:"first_seen"`
	LastSeen          time.Time         `json:"last_seen"`
	Created           time.Time         `json:"created"`
	Updated           time.Time         `json:"updated"`
	Host              string            `json:"host"`
	SourceIP          string            `json:"source_ip"`
	DestinationIP     string            `json:"destination_ip"`
	DestinationDomain string            `json:"destination_domain"`
	User              string            `json:"user"`
	Tags              []string          `json:"tags"`
	EvidenceIDs       []uint64          `json:"evidence_ids"`
	Status            string            `json:"status"`
	Count             int64             `json:"count"`
	Details           map[string]string `json:"details"`
	Assignee          string            `json:"assignee"`
	Disposition       string            `json:"disposition"`
	Reason            string            `json:"reason"`
}

// SeverityText returns the severity as the API spells it (a name or a
// number).
func (a alert) SeverityText() string {
	return strings.Trim(string(a.Severity), `"`)
}

// alertList is GET /api/v1/alerts.
type alertList struct {
	Alerts []alert `json:"alerts"`
	Next   string  `json:"next"`
}

// detection is one detection behind a host's risk.
type detection struct {
	RuleID   string          `json:"rule_id"`
	Title    string          `json:"title"`
	Kind     string          `json:"kind"`
	Severity json.RawMessage `json:"severity"`
	Alerts   int             `json:"alerts"`
	LastSeen time.Time       `json:"last_seen"`
	C2       bool            `json:"c2"`
}

// hostRisk is one host of GET /api/v1/hosts.
type hostRisk struct {
	Host        string      `json:"host"`
	AssetID     string      `json:"asset_id"`
	Role        string      `json:"role"`
	Criticality string      `json:"criticality"`
	Score       float64     `json:"score"`
	Level       string      `json:"level"`
	Why         []string    `json:"why"`
	C2          bool        `json:"c2"`
	Alerts      int         `json:"alerts"`
	Detections  []detection `json:"detections"`
	FirstSeen   time.Time   `json:"first_seen"`
	LastSeen    time.Time   `json:"last_seen"`
	Aliases     []string    `json:"aliases"`
	AlertIDs    []string    `json:"alert_ids"`
}

// edge is a who-talks-to-whom edge of the graph and of a host's peers.
type edge struct {
	Src       string    `json:"src"`
	Dst       string    `json:"dst"`
	BytesOut  int64     `json:"bytes_out"`
	BytesIn   int64     `json:"bytes_in"`
	Packets   int64     `json:"packets"`
	Conns     int64     `json:"connections"`
	Failed    int64     `json:"failed"`
	Ports     []int     `json:"ports"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// hostDetail is GET /api/v1/hosts/{id}.
type hostDetail struct {
	hostRisk
	Asset  map[string]any `json:"asset"`
	Open   []alert        `json:"open_alerts"`
	Peers  []edge         `json:"top_peers"`
	Window string         `json:"peers_window"`
}

// graphNode is a node of GET /api/v1/graph.
type graphNode struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Internal    bool   `json:"internal"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Criticality string `json:"criticality"`
	Hosts       int    `json:"hosts"`
	BytesOut    int64  `json:"bytes_out"`
	BytesIn     int64  `json:"bytes_in"`
	Conns       int64  `json:"connections"`
	Peers       int    `json:"peers"`
}

// graphAnswer is GET /api/v1/graph.
type graphAnswer struct {
	Nodes []graphNode `json:"nodes"`
	Edges []edge      `json:"edges"`
}

// source is a row of GET /api/v1/sources.
type source struct {
	Host                string           `json:"host"`
	Input               string           `json:"input"`
	FirstSeen           time.Time        `json:"first_seen"`
	LastSeen            time.Time        `json:"last_seen"`
	LastEventTime       time.Time        `json:"last_event_time"`
	Events              int64            `json:"events"`
	Bytes               int64            `json:"bytes"`
	ParseErrors         int64            `json:"parse_errors"`
	ParseErrorsByReason map[string]int64 `json:"parse_errors_by_reason"`
	Rate                float64          `json:"rate"`
}

// intelSource is a row of GET /api/v1/intel/sources.
type intelSource struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	LastAttempt time.Time `json:"last_attempt"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error"`
	Failures    int       `json:"failures"`
	Indicators  int       `json:"indicators"`
	Problems    int       `json:"problems"`
}

// overview is GET /api/v1/overview.
type overview struct {
	EventsPerSec float64 `json:"events_per_sec"`
	FlowsPerSec  float64 `json:"flows_per_sec"`
	Series       struct {
		Minutes []int64   `json:"minutes"`
		Events  []float64 `json:"events"`
		Flows   []float64 `json:"flows"`
	} `json:"series"`
	AlertsByPriority struct {
		Hours []int64   `json:"hours"`
		P1    []float64 `json:"p1"`
		P2    []float64 `json:"p2"`
		P3    []float64 `json:"p3"`
		P4    []float64 `json:"p4"`
		P5    []float64 `json:"p5"`
	} `json:"alerts_by_priority"`
	OpenByStatus map[string]int `json:"open_by_status"`
	// Alerts is the served form of the alert figures: hours, by_priority
	// (one row per priority 1..5) and open_by_status.
	Alerts struct {
		Hours        []int64        `json:"hours"`
		ByPriority   [][]float64    `json:"by_priority"`
		OpenByStatus map[string]int `json:"open_by_status"`
	} `json:"alerts"`
	TopHosts    []hostRisk    `json:"top_hosts"`
	Intel       []intelSource `json:"intel"`
	Sources     []source      `json:"sources"`
	SourcesSeen int           `json:"sources_seen"`
}

// normalize fills the documented fields from the served alert figures
// when only those are present.
func (o *overview) normalize() {
	a := &o.AlertsByPriority
	if len(a.Hours) == 0 && len(o.Alerts.Hours) > 0 {
		a.Hours = o.Alerts.Hours
		rows := []*[]float64{&a.P1, &a.P2, &a.P3, &a.P4, &a.P5}
		for i, row := range o.Alerts.ByPriority {
			if i < len(rows) {
				*rows[i] = row
			}
		}
	}
	if len(o.OpenByStatus) == 0 {
		o.OpenByStatus = o.Alerts.OpenByStatus
	}
}

// inputHealth is the sources of one input summed.
type inputHealth struct {
	Input                      string
	Sources                    int
	Events, ParseErrors, Bytes int64
	Rate                       float64
	LastSeen                   time.Time
}

// inputsOf sums sources per input, busiest first.
func inputsOf(ss []source) []inputHealth {
	by := map[string]*inputHealth{}
	var order []string
	for _, s := range ss {
		h := by[s.Input]
		if h == nil {
			h = &inputHealth{Input: s.Input}
			by[s.Input] = h
			order = append(order, s.Input)
		}
		h.Sources++
		h.Events += s.Events
		h.ParseErrors += s.ParseErrors
		h.Bytes += s.Bytes
		h.Rate += s.Rate
		if s.LastSeen.After(h.LastSeen) {
			h.LastSeen = s.LastSeen
		}
	}
	out := make([]inputHealth, 0, len(order))
	for _, in := range order {
		out = append(out, *by[in])
	}
	slices.SortStableFunc(out, func(a, b inputHealth) int { return cmp.Compare(b.Events, a.Events) })
	return out
}

// timelineEvent is one entry of GET /api/v1/alerts/{id}/timeline.
type timelineEvent struct {
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Text  string    `json:"text"`
}

// rule is a row of GET /api/v1/rules.
type rule struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Level   string   `json:"level"`
	Enabled bool     `json:"enabled"`
	Hits    int64    `json:"hits"`
	Path    string   `json:"path"`
	Tags    []string `json:"tags"`
}

// ruleError is a rule file that did not load.
type ruleError struct {
	Path   string `json:"path"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// auditEntry is a row of GET /api/v1/audit.
type auditEntry struct {
	ID         json.RawMessage `json:"id"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	Remote     string          `json:"remote"`
}

// topValue is one value of GET /api/v1/events/top.
type topValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}
