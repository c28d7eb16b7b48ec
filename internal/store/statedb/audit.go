package statedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// auditDDL creates the audit log. Triggers make it append-only: rows can be
// inserted but never changed or removed.
const auditDDL = `
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	time        INTEGER NOT NULL,
	actor       TEXT    NOT NULL,
	actor_role  TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	before      TEXT,
	after       TEXT,
	remote_addr TEXT    NOT NULL
);
CREATE INDEX audit_log_time   ON audit_log (time, id);
CREATE INDEX audit_log_actor  ON audit_log (actor COLLATE NOCASE, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
`

// Audit paging bounds.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
	maxAuditField     = 256
	maxAuditJSON      = 1 << 20
)

// AuditEntry is one state-changing action: who did what to which object,
// from where, and the object before and after as JSON.
type AuditEntry struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`
	ActorRole  string          `json:"actor_role"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	RemoteAddr string          `json:"remote_addr"`
}

// AuditFilter selects audit entries. Empty fields match everything; times
// bound Time as [Since, Until).
type AuditFilter struct {
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Until      time.Time
	// BeforeID pages backwards: only entries with a smaller ID are
	// returned. Pass the previous page's Next.
	BeforeID int64
	// Limit is the page size: DefaultAuditLimit when 0, at most
	// MaxAuditLimit.
	Limit int
}

// AuditPage is one page of audit entries, newest first. Next is the
// BeforeID of the following page, 0 when there is none.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    int64        `json:"next,omitempty"`
}

// validateAudit checks an entry before it is stored.
func validateAudit(e AuditEntry) error {
	if strings.TrimSpace(e.Action) == "" || strings.TrimSpace(e.Actor) == "" {
		return errors.New("statedb: audit entry needs an actor and an action")
	}
	for _, f := range []string{e.Actor, e.ActorRole, e.Action, e.TargetType, e.TargetID, e.RemoteAddr} {
		if len(f) > maxAuditField {
			return fmt.Errorf("statedb: audit field longer than %d bytes", maxAuditField)
		}
	}
	for _, j := range []json.RawMessage{e.Before, e.After} {
		if len(j) > maxAuditJSON {
			return fmt.Errorf("statedb: audit before/after larger than %d bytes", maxAuditJSON)
		}
		if len(j) > 0 && !json.Valid(j) {
			return errors.New("statedb: audit before/after is not valid JSON")
		}
	}
	return nil
}

// nullJSON stores empty JSON as NULL.
func nullJSON(j json.RawMessage) sql.NullString {
	return sql.NullString{String: string(j), Valid: len(j) > 0}
}

// AppendAudit writes an entry to the audit log and returns it with its ID
// and, when e.Time is zero, the current time. The log is append-only.
func (d *DB) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if err := validateAudit(e); err != nil {
		return AuditEntry{}, err
	}
	if e.Time.IsZero() {
		e.Time = d.now()
	}
	e.Time = fromNS(toNS(e.Time))
	err := d.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (time, actor, actor_role, action, target_type,
target_id, before, after, remote_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			nsOf(e.Time), e.Actor, e.ActorRole, e.Action, e.TargetType, e.TargetID,
			nullJSON(e.Before), nullJSON(e.After), e.RemoteAddr)
		if err != nil {
			return err
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("statedb: append audit: %w", err)
	}
	return e, nil
}

// auditWhere builds the WHERE clause of f.
func auditWhere(f AuditFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.Actor != "" {
		add("actor = ? COLLATE NOCASE", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.TargetType != "" {
		add("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if !f.Since.IsZero() {
		add("time >= ?", nsOf(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", nsOf(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Audit returns a page of the audit entries matching f, newest first.
func (d *DB) Audit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	where, args := auditWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT id, time, actor, actor_role, action, target_type, target_id,
before, after, remote_addr FROM audit_log`+where+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("statedb: read audit log: %w", err)
	}
	defer rows.Close()
	page := AuditPage{Entries: []AuditEntry{}}
	for rows.Next() {
		var e AuditEntry
		var t sql.NullInt64
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.ActorRole, &e.Action, &e.TargetType, &e.TargetID,
			&before, &after, &e.RemoteAddr); err != nil {
			return AuditPage{}, fmt.Errorf("statedb: scan audit entry: %w", err)
		}
		e.Time = fromNS(t)
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("statedb: read audit log: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = page.Entries[limit-1].ID
	}
	return page, nil
}
