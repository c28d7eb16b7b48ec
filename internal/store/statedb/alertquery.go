package statedb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// ErrBadCursor is returned by Alerts for a cursor it did not make.
var ErrBadCursor = errors.New("statedb: bad cursor")

// ErrInvalidStatus is returned by SetAlertStatus for an unknown status.
var ErrInvalidStatus = errors.New("statedb: invalid alert status (want new, acknowledged, investigating or resolved)")

// AlertFilter selects alerts. Empty fields match everything. Status, Kind,
// Host and RuleID take one value or several separated by commas
// ("new,acknowledged"), matching any of them.
type AlertFilter struct {
	// From and To bound LastSeen (event time): From <= LastSeen < To.
	From, To time.Time
	Status   string
	Kind     string
	Host     string
	RuleID   string
	// MinSeverity, when set, keeps alerts at least this severe.
	MinSeverity schema.Severity
	// Limit is the page size: 100 when zero, at most 1000.
	Limit int
	// Cursor continues a listing where the previous page ended; pass the
	// cursor Alerts returned.
	Cursor string
}

// ValidStatus reports whether status is an alert status.
func ValidStatus(status string) bool {
	switch status {
	case schema.StatusNew, schema.StatusAcknowledged, schema.StatusInvestigating, schema.StatusResolved:
		return true
	}
	return false
}

// Alerts returns the alerts matching f, newest first (by LastSeen, then ID),
// one page of them, and the cursor of the next page, empty after the last.
func (d *DB) Alerts(ctx context.Context, f AlertFilter) ([]schema.Alert, string, error) {
	where, args, err := alertWhere(f)
	if err != nil {
		return nil, "", err
	}
	limit := listLimit(f.Limit)
	q := `SELECT ` + alertColumns + ` FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_seen DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("statedb: list alerts: %w", err)
	}
	defer rows.Close()
	out := make([]schema.Alert, 0, min(limit, 64))
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("statedb: list alerts: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(nsOf(last.LastSeen), last.ID)
	}
	return out, next, nil
}

// alertWhere builds the WHERE terms and arguments of f.
func alertWhere(f AlertFilter) ([]string, []any, error) {
	var where []string
	var args []any
	if !f.From.IsZero() {
		where, args = append(where, "last_seen >= ?"), append(args, nsOf(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "last_seen < ?"), append(args, nsOf(f.To))
	}
	for _, c := range []struct{ col, v string }{
		{"status", f.Status}, {"kind", f.Kind}, {"host", f.Host}, {"rule_id", f.RuleID},
	} {
		vs := splitList(c.v)
		if len(vs) == 0 {
			continue
		}
		where = append(where, c.col+" IN (?"+strings.Repeat(", ?", len(vs)-1)+")")
		for _, v := range vs {
			args = append(args, v)
		}
	}
	if f.MinSeverity > 0 {
		where, args = append(where, "severity >= ?"), append(args, int(f.MinSeverity))
	}
	if f.Cursor != "" {
		ls, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, nil, err
		}
		where, args = append(where, "(last_seen, id) < (?, ?)"), append(args, ls, id)
	}
	return where, args, nil
}

// splitList splits a comma-separated filter value, dropping empty items and
// the spaces around items.
func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// encodeCursor makes the cursor after the alert with last_seen ls and id.
func encodeCursor(ls int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ls, 10) + ":" + id))
}

// decodeCursor reads a cursor made by encodeCursor.
func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	lsText, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return 0, "", fmt.Errorf("%w: no separator", ErrBadCursor)
	}
	ls, err := strconv.ParseInt(lsText, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	if _, ok := idTime(id); !ok {
		return 0, "", fmt.Errorf("%w: bad alert id %q", ErrBadCursor, id)
	}
	return ls, id, nil
}

// Alert returns the alert with the given ID, or ErrNotFound.
func (d *DB) Alert(ctx context.Context, id string) (schema.Alert, error) {
	a, err := scanAlert(d.db.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, ErrNotFound) {
		return schema.Alert{}, fmt.Errorf("alert %q: %w", id, ErrNotFound)
	}
	return a, err
}

// SetAlertStatus moves the alert to status and sets its Updated time. A
// resolved alert no longer groups new repeats; they open a new alert.
func (d *DB) SetAlertStatus(ctx context.Context, id, status string) error {
	if !ValidStatus(status) {
		return fmt.Errorf("%w: %q", ErrInvalidStatus, status)
	}
	now := d.now()
	return d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, updated = ? WHERE id = ?`,
			status, nsOf(now), id)
		if err != nil {
			return fmt.Errorf("statedb: set alert status: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("statedb: set alert status: %w", err)
		} else if n == 0 {
			return fmt.Errorf("alert %q: %w", id, ErrNotFound)
		}
		return nil
	})
}

// OpenAlertCount returns how many of host's alerts are not resolved,
// leaving out those of rule exceptRule (the caller's own detection).
func (d *DB) OpenAlertCount(ctx context.Context, host, exceptRule string) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE host = ? AND status <> ? AND rule_id <> ?`,
		host, schema.StatusResolved, exceptRule).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("statedb: count open alerts: %w", err)
	}
	return n, nil
}

// OpenAlertsSince returns every alert not resolved whose last evidence is
// at or after since (event time), newest first, up to limit (all when 0):
// the input of host risk.
func (d *DB) OpenAlertsSince(ctx context.Context, since time.Time, limit int) ([]schema.Alert, error) {
	q := `SELECT ` + alertColumns + ` FROM alerts WHERE status <> ? AND last_seen >= ? ORDER BY last_seen DESC, id DESC`
	args := []any{schema.StatusResolved, nsOf(since)}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("statedb: open alerts: %w", err)
	}
	defer rows.Close()
	var out []schema.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: open alerts: %w", err)
	}
	return out, nil
}
