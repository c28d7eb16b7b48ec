package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// migrationTriage adds the analysts' workflow to alerts: who works on one,
// the verdict when resolved, and a timeline of every change and comment.
const migrationTriage = `
ALTER TABLE alerts ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN disposition TEXT NOT NULL DEFAULT ''
	CHECK (disposition IN ('', 'true_positive', 'benign_true_positive', 'false_positive'));
ALTER TABLE alerts ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_assignee ON alerts (assignee, last_seen, id);
CREATE TABLE alert_events (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	alert_id  TEXT    NOT NULL,
	time      INTEGER NOT NULL,
	actor     TEXT    NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('status', 'assign', 'comment')),
	from_text TEXT    NOT NULL DEFAULT '',
	to_text   TEXT    NOT NULL DEFAULT '',
	text      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
`

// Timeline event kinds.
const (
	TimelineCreated = "created"
	TimelineStatus  = "status"
	TimelineAssign  = "assign"
	TimelineComment = "comment"
)

// AlertPatch changes an alert's workflow fields; nil fields stay.
type AlertPatch struct {
	Status      *string `json:"status,omitempty"`
	Disposition *string `json:"disposition,omitempty"`
	Reason      *string `json:"reason,omitempty"`
	Assignee    *string `json:"assignee,omitempty"`
}

// TimelineEvent is one entry of an alert's timeline.
type TimelineEvent struct {
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to,omitempty"`
	Text  string    `json:"text,omitempty"`
}

// ErrInvalidPatch is returned for a workflow change that is not allowed.
var ErrInvalidPatch = errors.New("statedb: invalid alert change")

// apply returns a with p applied, checking the workflow rules: a known
// status; a disposition exactly when resolved (kept from before when the
// alert stays resolved); a reason only with a disposition.
func (p AlertPatch) apply(a schema.Alert) (schema.Alert, error) {
	if p.Status != nil {
		if !ValidStatus(*p.Status) {
			return a, fmt.Errorf("%w: unknown status %q", ErrInvalidPatch, *p.Status)
		}
		a.Status = *p.Status
	}
	if p.Disposition != nil {
		a.Disposition = *p.Disposition
	}
	if p.Reason != nil {
		a.Reason = *p.Reason
	}
	if p.Assignee != nil {
		a.Assignee = *p.Assignee
	}
	if a.Status != schema.StatusResolved {
		if p.Disposition != nil && *p.Disposition != "" {
			return a, fmt.Errorf("%w: a disposition needs status resolved", ErrInvalidPatch)
		}
		a.Disposition, a.Reason = "", ""
		return a, nil
	}
	if !schema.ValidDisposition(a.Disposition) {
		return a, fmt.Errorf("%w: resolving needs a disposition (true_positive, benign_true_positive, false_positive)",
			ErrInvalidPatch)
	}
	return a, nil
}

// UpdateAlert applies p to alert id as actor and records each change in
// the alert's timeline, in one transaction. It returns the alert before and
// after.
func (d *DB) UpdateAlert(ctx context.Context, id, actor string, p AlertPatch) (before, after schema.Alert, err error) {
	now := d.now()
	err = d.write(ctx, func(tx *sql.Tx) error {
		before, err = scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("alert %q: %w", id, err)
		}
		if after, err = p.apply(before); err != nil {
			return err
		}
		after.Updated = now
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, disposition = ?, reason = ?, assignee = ?,
updated = ? WHERE id = ?`, after.Status, after.Disposition, after.Reason, after.Assignee, nsOf(now), id); err != nil {
			return fmt.Errorf("statedb: update alert: %w", err)
		}
		return recordChanges(ctx, tx, id, actor, now, before, after)
	})
	return before, roundTimes(after), err
}

func recordChanges(ctx context.Context, tx *sql.Tx, id, actor string, now time.Time, before, after schema.Alert) error {
	if before.Status != after.Status || before.Disposition != after.Disposition {
		to := after.Status
		if after.Disposition != "" {
			to += " (" + after.Disposition + ")"
		}
		if err := addTimeline(ctx, tx, id, actor, now, TimelineStatus, before.Status, to, after.Reason); err != nil {
			return err
		}
	}
	if before.Assignee != after.Assignee {
		return addTimeline(ctx, tx, id, actor, now, TimelineAssign, before.Assignee, after.Assignee, "")
	}
	return nil
}

func addTimeline(ctx context.Context, tx *sql.Tx, id, actor string, at time.Time, kind, from, to, text string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO alert_events (alert_id, time, actor, kind, from_text, to_text, text)
VALUES (?, ?, ?, ?, ?, ?, ?)`, id, nsOf(at), actor, kind, from, to, text)
	if err != nil {
		return fmt.Errorf("statedb: alert timeline: %w", err)
	}
	return nil
}

// CommentAlert adds a comment by actor to alert id.
func (d *DB) CommentAlert(ctx context.Context, id, actor, text string) (TimelineEvent, error) {
	if text == "" {
		return TimelineEvent{}, fmt.Errorf("%w: empty comment", ErrInvalidPatch)
	}
	now := d.now()
	err := d.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alert %q: %w", id, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("statedb: comment: %w", err)
		}
		return addTimeline(ctx, tx, id, actor, now, TimelineComment, "", "", text)
	})
	return TimelineEvent{Time: fromNS(toNS(now)), Actor: actor, Kind: TimelineComment, Text: text}, err
}

// Timeline returns alert id's history, oldest first, starting with its
// creation.
func (d *DB) Timeline(ctx context.Context, id string) ([]TimelineEvent, error) {
	a, err := d.Alert(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []TimelineEvent{{Time: a.Created, Actor: "vigil", Kind: TimelineCreated, Text: a.Title}}
	rows, err := d.db.QueryContext(ctx, `SELECT time, actor, kind, from_text, to_text, text FROM alert_events
WHERE alert_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("statedb: timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e TimelineEvent
		var t sql.NullInt64
		if err := rows.Scan(&t, &e.Actor, &e.Kind, &e.From, &e.To, &e.Text); err != nil {
			return nil, fmt.Errorf("statedb: timeline: %w", err)
		}
		e.Time = fromNS(t)
		out = append(out, e)
	}
	return out, rows.Err()
}
