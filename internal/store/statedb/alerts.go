package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// MaxEvidenceIDs is the most evidence event IDs an alert keeps; later ones
// of a grouped alert are not added.
const MaxEvidenceIDs = 100

// errBadAlert marks an alert that was skipped.
var errBadAlert = errors.New("bad alert")

// alertColumns are the alerts columns in the order scanAlert reads and
// alertArgs writes them.
const alertColumns = `id, dedup_key, rule_id, rule_name, kind, title, severity, priority,
	first_seen, last_seen, created, updated, host, source_ip, destination_ip, destination_domain,
	user_name, tags, evidence_ids, status, count, details, assignee, disposition, reason`

// upsertAlertTail makes a multi-row INSERT of alert rows update the grouped
// ones: only what grouping changes is written.
const upsertAlertTail = `ON CONFLICT (id) DO UPDATE SET
	severity = excluded.severity, priority = excluded.priority,
	first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated = excluded.updated,
	tags = excluded.tags, evidence_ids = excluded.evidence_ids, count = excluded.count,
	details = excluded.details`

// alertColumnCount is how many columns alertColumns names.
const alertColumnCount = 25

// UpsertAlerts stores alerts, grouping each with an existing unresolved
// alert of the same Key() whose LastSeen is within window of its FirstSeen
// (event time; out-of-order alerts whose span overlaps the existing one,
// widened by window, group too). Grouping adds the counts (a Count of 0 is
// 1), widens FirstSeen..LastSeen, appends new evidence IDs up to
// MaxEvidenceIDs, adds new tags and details, keeps the higher severity and
// the more urgent priority, and sets Updated. Otherwise a new alert is made
// with a new ID and status "new" (or the alert's own status). Alerts later
// in the slice group with earlier ones. It returns the stored alerts, in
// order. An invalid alert is skipped and reported in the returned error; the
// others are still stored.
func (d *DB) UpsertAlerts(ctx context.Context, alerts []schema.Alert, window time.Duration) ([]schema.Alert, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	var out []schema.Alert
	var bad []error
	err := d.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, bad, err = d.upsertAlerts(ctx, tx, alerts, window)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, errors.Join(bad...)
}

// upsertAlerts is UpsertAlerts inside tx. It returns the stored alerts, the
// errors of skipped ones, and an error that must abort the transaction.
//
// It works on the whole batch at once: one query loads every stored alert
// the batch could group with, grouping happens in memory in slice order,
// and one multi-row upsert writes the new and changed alerts.
func (d *DB) upsertAlerts(ctx context.Context, tx *sql.Tx, alerts []schema.Alert,
	window time.Duration) ([]schema.Alert, []error, error) {
	now := d.now().UTC()
	window = max(window, 0)
	batch := make([]schema.Alert, 0, len(alerts))
	var bad []error
	for i := range alerts {
		a, err := normaliseAlert(alerts[i], now)
		if err != nil {
			bad = append(bad, fmt.Errorf("statedb: alert %d (%s): %w", i, alerts[i].RuleID, err))
			continue
		}
		batch = append(batch, a)
	}
	if len(batch) == 0 {
		return nil, bad, nil
	}
	groups, err := loadGroups(ctx, tx, batch, window)
	if err != nil {
		return nil, nil, err
	}
	out := make([]schema.Alert, 0, len(batch))
	var dirty []*schema.Alert
	seen := make(map[*schema.Alert]bool)
	for _, a := range batch {
		g := pickGroup(groups[a.DedupKey], &a, window)
		if g != nil {
			*g = mergeAlert(*g, a, now)
		} else {
			a.ID, a.Created, a.Updated = newID(now), now, now
			g = &a
			groups[a.DedupKey] = append(groups[a.DedupKey], g)
		}
		if !seen[g] {
			seen[g] = true
			dirty = append(dirty, g)
		}
		out = append(out, roundTimes(*g))
	}
	if err := writeAlerts(ctx, tx, dirty); err != nil {
		return nil, nil, err
	}
	return out, bad, nil
}

// loadGroups returns the stored unresolved alerts of the batch's dedup keys
// whose spans, widened by window, reach the batch's span, by dedup key.
func loadGroups(ctx context.Context, tx *sql.Tx, batch []schema.Alert,
	window time.Duration) (map[string][]*schema.Alert, error) {
	lo, hi := batch[0].FirstSeen, batch[0].LastSeen
	var keys []string
	groups := make(map[string][]*schema.Alert)
	for i := range batch {
		if batch[i].FirstSeen.Before(lo) {
			lo = batch[i].FirstSeen
		}
		if batch[i].LastSeen.After(hi) {
			hi = batch[i].LastSeen
		}
		if _, ok := groups[batch[i].DedupKey]; !ok {
			groups[batch[i].DedupKey] = nil
			keys = append(keys, batch[i].DedupKey)
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), multiRowChunk)
		args := make([]any, 0, n+2)
		for _, k := range keys[:n] {
			args = append(args, k)
		}
		args = append(args, nsOf(lo.Add(-window)), nsOf(hi.Add(window)))
		rows, err := tx.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts
WHERE dedup_key IN (?`+strings.Repeat(", ?", n-1)+`) AND status != 'resolved'
	AND last_seen >= ? AND first_seen <= ?`, args...)
		if err != nil {
			return nil, fmt.Errorf("statedb: load alert groups: %w", err)
		}
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			groups[a.DedupKey] = append(groups[a.DedupKey], &a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("statedb: load alert groups: %w", err)
		}
		keys = keys[n:]
	}
	return groups, nil
}

// pickGroup returns the alert of cands that a groups into: unresolved, and
// its span widened by window overlaps a's span (in the usual in-order case:
// its LastSeen is no more than window before a's FirstSeen). The one seen
// last wins, ties going to the higher ID. It returns nil if there is none.
func pickGroup(cands []*schema.Alert, a *schema.Alert, window time.Duration) *schema.Alert {
	var best *schema.Alert
	lo, hi := a.FirstSeen.Add(-window), a.LastSeen.Add(window)
	for _, c := range cands {
		if c.Status == schema.StatusResolved || c.LastSeen.Before(lo) || c.FirstSeen.After(hi) {
			continue
		}
		if best == nil || c.LastSeen.After(best.LastSeen) || (c.LastSeen.Equal(best.LastSeen) && c.ID > best.ID) {
			best = c
		}
	}
	return best
}

// writeAlerts inserts or updates alerts with multi-row upserts.
func writeAlerts(ctx context.Context, tx *sql.Tx, alerts []*schema.Alert) error {
	args := make([]any, 0, len(alerts)*alertColumnCount)
	for _, a := range alerts {
		row, err := alertArgs(a)
		if err != nil {
			return err
		}
		args = append(args, row...)
	}
	err := execMulti(ctx, tx, `INSERT INTO alerts (`+alertColumns+`)`, upsertAlertTail, alertColumnCount, args)
	if err != nil {
		return fmt.Errorf("statedb: write alerts: %w", err)
	}
	return nil
}

// ApplyDetections upserts alerts as UpsertAlerts does and records that the
// detection consumer has processed the ingest log up to seq, in one
// transaction: after a crash the consumer resumes from the checkpoint and
// every alert is counted exactly once. A seq at or below the stored
// checkpoint has been applied before and is ignored. Invalid alerts are
// skipped and reported in the returned error; the rest and the checkpoint
// are still committed.
func (d *DB) ApplyDetections(ctx context.Context, consumer string, seq uint64, alerts []schema.Alert,
	window time.Duration) error {
	if consumer == "" {
		return errors.New("statedb: apply detections: empty consumer name")
	}
	if seq > math.MaxInt64 {
		return fmt.Errorf("statedb: apply detections: sequence %d out of range", seq)
	}
	var bad []error
	err := d.write(ctx, func(tx *sql.Tx) error {
		cp, err := checkpoint(ctx, tx, consumer)
		if err != nil {
			return err
		}
		if seq <= cp {
			d.log.Debug("detections already applied", "consumer", consumer, "seq", seq, "checkpoint", cp)
			return nil
		}
		if _, bad, err = d.upsertAlerts(ctx, tx, alerts, window); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consumer_checkpoints (consumer, seq, updated) VALUES (?, ?, ?)
ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated = excluded.updated`,
			consumer, int64(seq), nsOf(d.now()))
		if err != nil {
			return fmt.Errorf("statedb: store checkpoint of %s: %w", consumer, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(bad...)
}

// ConsumerCheckpoint returns the last ingest log sequence the consumer
// applied, 0 if it has applied none.
func (d *DB) ConsumerCheckpoint(ctx context.Context, consumer string) (uint64, error) {
	return checkpoint(ctx, d.db, consumer)
}

// checkpoint reads a consumer's checkpoint through q.
func checkpoint(ctx context.Context, q querier, consumer string) (uint64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT seq FROM consumer_checkpoints WHERE consumer = ?`, consumer).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("statedb: read checkpoint of %s: %w", consumer, err)
	}
	return uint64(seq), nil
}
