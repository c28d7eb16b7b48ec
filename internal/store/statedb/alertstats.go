package statedb

import (
	"context"
	"fmt"
	"time"
)

// AlertStats summarises alerts for the overview.
type AlertStats struct {
	// Hours are the hour starts (unix seconds) of ByPriority's columns.
	Hours []int64 `json:"hours"`
	// ByPriority[p-1][i] counts alerts of priority p last seen in hour i.
	ByPriority [5][]int64 `json:"by_priority"`
	// OpenByStatus counts alerts not resolved, by status.
	OpenByStatus map[string]int64 `json:"open_by_status"`
}

// AlertStats counts alerts last seen in the hours of [from, to) by priority,
// and open alerts by status.
func (d *DB) AlertStats(ctx context.Context, from, to time.Time) (AlertStats, error) {
	var st AlertStats
	first, last := from.Truncate(time.Hour), to.Truncate(time.Hour)
	for h := first; !h.After(last); h = h.Add(time.Hour) {
		st.Hours = append(st.Hours, h.Unix())
	}
	for p := range st.ByPriority {
		st.ByPriority[p] = make([]int64, len(st.Hours))
	}
	rows, err := d.db.QueryContext(ctx, `SELECT last_seen / 3600000000000, priority, count(*) FROM alerts
WHERE last_seen >= ? AND last_seen < ? GROUP BY 1, 2`, nsOf(first), nsOf(to))
	if err != nil {
		return st, fmt.Errorf("statedb: alert stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hour, prio, n int64
		if err := rows.Scan(&hour, &prio, &n); err != nil {
			return st, fmt.Errorf("statedb: alert stats: %w", err)
		}
		i := int(hour - first.Unix()/3600)
		if prio >= 1 && prio <= 5 && i >= 0 && i < len(st.Hours) {
			st.ByPriority[prio-1][i] += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("statedb: alert stats: %w", err)
	}
	st.OpenByStatus = map[string]int64{}
	srows, err := d.db.QueryContext(ctx, `SELECT status, count(*) FROM alerts WHERE status <> 'resolved' GROUP BY status`)
	if err != nil {
		return st, fmt.Errorf("statedb: alert stats: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var s string
		var n int64
		if err := srows.Scan(&s, &n); err != nil {
			return st, fmt.Errorf("statedb: alert stats: %w", err)
		}
		st.OpenByStatus[s] = n
	}
	return st, srows.Err()
}
