package statedb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/vuln"
)

// VulnFilter selects findings. Zero fields do not filter.
type VulnFilter struct {
	// Status is open or fixed.
	Status string
	// Severities keeps findings of these severities.
	Severities []vuln.Severity
	// AssetID and Target keep one asset's or one target's findings.
	AssetID string
	Target  string
	// Overdue keeps open findings past their SLA deadline at Now (the
	// database clock when zero); severities without a deadline are never
	// overdue.
	Overdue bool
	SLA     vuln.SLA
	Now     time.Time
	// Limit caps the result (0: no cap).
	Limit int
}

// vulnColumns are the columns scanVuln reads, in order.
const vulnColumns = `key, asset_id, status, first_seen, last_seen, opened, fixed, reopened, scanners, last_scan, detail`

// Findings returns the findings that match f, most severe first and the
// longest open first within a severity.
func (d *DB) Findings(ctx context.Context, f VulnFilter) ([]VulnFinding, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if len(f.Severities) > 0 {
		add("severity IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Severities)), ", ")+")", anySlice(f.Severities)...)
	}
	if f.AssetID != "" {
		add("asset_id = ?", f.AssetID)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Overdue {
		cond, a := overdueCond(f.SLA, f.Now, d.now())
		add(cond, a...)
	}
	q := `SELECT ` + vulnColumns + ` FROM vuln_findings`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
		WHEN 'low' THEN 3 ELSE 4 END, opened, key`
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return d.queryVulns(ctx, q, args...)
}

// queryVulns runs a query selecting vulnColumns.
func (d *DB) queryVulns(ctx context.Context, q string, args ...any) ([]VulnFinding, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("statedb: query findings: %w", err)
	}
	defer rows.Close()
	var out []VulnFinding
	for rows.Next() {
		v, err := scanVuln(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: query findings: %w", err)
	}
	return out, nil
}

// anySlice converts severities to query arguments.
func anySlice(ss []vuln.Severity) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// overdueCond builds the SQL condition for open findings past their SLA
// deadline at now (fallback when now is zero).
func overdueCond(sla vuln.SLA, now, fallback time.Time) (string, []any) {
	if now.IsZero() {
		now = fallback
	}
	var ors []string
	var args []any
	for _, s := range vuln.Severities() {
		if days := sla[s]; days > 0 {
			ors = append(ors, "(severity = ? AND opened <= ?)")
			args = append(args, string(s), nsOf(now.Add(-time.Duration(days)*24*time.Hour)))
		}
	}
	if len(ors) == 0 {
		return "0", nil
	}
	return "status = 'open' AND (" + strings.Join(ors, " OR ") + ")", args
}

// scanVuln reads one row of vulnColumns.
func scanVuln(rows *sql.Rows) (VulnFinding, error) {
	var (
		v                          VulnFinding
		first, last, opened, fixed sql.NullInt64
		scanners, detail           string
	)
	if err := rows.Scan(&v.Key, &v.AssetID, &v.Status, &first, &last, &opened, &fixed, &v.Reopened,
		&scanners, &v.LastScan, &detail); err != nil {
		return VulnFinding{}, fmt.Errorf("statedb: read finding: %w", err)
	}
	if err := json.Unmarshal([]byte(detail), &v.Finding); err != nil {
		return VulnFinding{}, fmt.Errorf("statedb: finding %s: decode detail: %w", v.Key, err)
	}
	if err := json.Unmarshal([]byte(scanners), &v.Scanners); err != nil {
		return VulnFinding{}, fmt.Errorf("statedb: finding %s: decode scanners: %w", v.Key, err)
	}
	v.FirstSeen, v.LastSeen, v.Opened, v.FixedAt = fromNS(first), fromNS(last), fromNS(opened), fromNS(fixed)
	return v, nil
}

// VulnEvent is one change of a finding's state.
type VulnEvent struct {
	At       time.Time     `json:"at"`
	Event    string        `json:"event"`
	ScanID   string        `json:"scan_id"`
	Severity vuln.Severity `json:"severity"`
}

// FindingHistory returns the finding with key and its state changes (new,
// fixed, reopened) oldest first, or ErrNotFound.
func (d *DB) FindingHistory(ctx context.Context, key string) (VulnFinding, []VulnEvent, error) {
	vs, err := d.queryVulns(ctx, `SELECT `+vulnColumns+` FROM vuln_findings WHERE key = ?`, key)
	if err != nil {
		return VulnFinding{}, nil, err
	}
	if len(vs) == 0 {
		return VulnFinding{}, nil, fmt.Errorf("finding %s: %w", key, ErrNotFound)
	}
	v := vs[0]
	rows, err := d.db.QueryContext(ctx, `SELECT at, event, scan_id, severity FROM vuln_events WHERE key = ? ORDER BY at, id`, key)
	if err != nil {
		return VulnFinding{}, nil, fmt.Errorf("statedb: history of finding %s: %w", key, err)
	}
	defer rows.Close()
	var evs []VulnEvent
	for rows.Next() {
		var e VulnEvent
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Event, &e.ScanID, &e.Severity); err != nil {
			return VulnFinding{}, nil, fmt.Errorf("statedb: history of finding %s: %w", key, err)
		}
		e.At = fromNS(at)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return VulnFinding{}, nil, fmt.Errorf("statedb: history of finding %s: %w", key, err)
	}
	return v, evs, nil
}

// VulnTrendPoint is the number of open findings at the end of a UTC day.
type VulnTrendPoint struct {
	Day  time.Time `json:"day"`
	Open int       `json:"open"`
}

// maxTrendDays bounds the range OpenTrend answers.
const maxTrendDays = 3660

// OpenTrend returns, for each UTC day from from's day to to's day, how many
// findings were open at the end of that day according to their history.
func (d *DB) OpenTrend(ctx context.Context, from, to time.Time) ([]VulnTrendPoint, error) {
	day := 24 * time.Hour
	start, end := from.UTC().Truncate(day), to.UTC().Truncate(day)
	n := int(end.Sub(start)/day) + 1
	if n < 1 || n > maxTrendDays {
		return nil, fmt.Errorf("statedb: open trend from %s to %s: range must cover 1 to %d days", from, to, maxTrendDays)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT at, CASE event WHEN 'fixed' THEN -1 ELSE 1 END FROM vuln_events
		WHERE at < ? ORDER BY at`, nsOf(end.Add(day)))
	if err != nil {
		return nil, fmt.Errorf("statedb: open trend: %w", err)
	}
	defer rows.Close()
	out := make([]VulnTrendPoint, n)
	for i := range out {
		out[i].Day = start.Add(time.Duration(i) * day)
	}
	open, i := 0, 0
	for rows.Next() {
		var at, delta int64
		if err := rows.Scan(&at, &delta); err != nil {
			return nil, fmt.Errorf("statedb: open trend: %w", err)
		}
		for ; i < n && at >= nsOf(out[i].Day.Add(day)); i++ {
			out[i].Open = open
		}
		open += int(delta)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: open trend: %w", err)
	}
	for ; i < n; i++ {
		out[i].Open = open
	}
	return out, nil
}
