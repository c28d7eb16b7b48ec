package statedb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// MaxDeadLetterRaw is the most bytes of a rejected record kept in a dead
// letter; longer records are cut and flagged Truncated.
const MaxDeadLetterRaw = 8 << 10

// maxDetail is the most bytes of a reject's error text kept.
const maxDetail = 1 << 10

// Dead letter listing limits.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// DeadLetter is a stored rejected record.
type DeadLetter struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Input  string    `json:"input"`
	Source string    `json:"source"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
	// Raw is the record, at most MaxDeadLetterRaw bytes of it.
	Raw []byte `json:"raw"`
	// RawLen is the length of the record as received.
	RawLen    int64 `json:"raw_len"`
	Truncated bool  `json:"truncated"`
}

// DeadLetterFilter selects dead letters. Empty fields match everything.
type DeadLetterFilter struct {
	Source string
	Input  string
	Reason string
	// BeforeID, when positive, returns only dead letters older than that ID
	// (for paging: pass the last ID of the previous page).
	BeforeID int64
	// Limit is the most returned: 100 when zero, at most 1000.
	Limit int
}

// pendingReject is a reject whose Raw may already be cut; rawLen is the
// length as received.
type pendingReject struct {
	r      ingest.Reject
	rawLen int
}

// AddDeadLetters stores rejected records (raw bytes capped at
// MaxDeadLetterRaw) and adds them to their sources' parse-error counters, in
// one transaction, then prunes the oldest dead letters beyond the limit.
func (d *DB) AddDeadLetters(ctx context.Context, rs []ingest.Reject) error {
	ps := make([]pendingReject, len(rs))
	for i, r := range rs {
		ps[i] = pendingReject{r: r, rawLen: len(r.Raw)}
		if len(r.Raw) > MaxDeadLetterRaw {
			ps[i].r.Raw = r.Raw[:MaxDeadLetterRaw]
		}
	}
	return d.addRejects(ctx, ps, nil)
}

// reasonKey names one parse-error counter: source host × input × reason.
type reasonKey struct{ host, input, reason string }

// reasonTally is a count of rejects and the latest of their times.
type reasonTally struct {
	n    int64
	last time.Time
}

// addRejects stores ps as dead letters and adds them, plus the counted-only
// rejects in extra, to the parse-error counters, in one transaction.
func (d *DB) addRejects(ctx context.Context, ps []pendingReject, extra []parseErrorCount) error {
	if len(ps) == 0 && len(extra) == 0 {
		return nil
	}
	now := d.now()
	tally := make(map[reasonKey]reasonTally)
	return d.write(ctx, func(tx *sql.Tx) error {
		clear(tally)
		if err := insertDeadLetters(ctx, tx, ps, now, tally); err != nil {
			return err
		}
		for _, c := range extra {
			k := reasonKey{orUnknown(c.host), orUnknown(c.input), reasonOrInvalid(c.reason)}
			t := tally[k]
			t.n += c.n
			t.last = latest(t.last, now)
			tally[k] = t
		}
		for k, t := range tally {
			if err := addParseErrors(ctx, tx, parseErrorCount{k.host, k.input, k.reason, t.n}, t.last); err != nil {
				return err
			}
		}
		return d.pruneDeadLetters(ctx, tx)
	})
}

// insertDeadLetters inserts ps and counts them into tally.
func insertDeadLetters(ctx context.Context, tx *sql.Tx, ps []pendingReject, now time.Time,
	tally map[reasonKey]reasonTally) error {
	if len(ps) == 0 {
		return nil
	}
	args := make([]any, 0, len(ps)*8)
	for i := range ps {
		r := &ps[i].r
		t := r.Time
		if t.IsZero() {
			t = now
		}
		k := reasonKey{orUnknown(r.Source), orUnknown(r.Input), reasonOrInvalid(r.Reason)}
		raw := r.Raw
		if raw == nil {
			raw = []byte{}
		}
		args = append(args, nsOf(t), k.input, k.host, k.reason, capText(r.Detail, maxDetail),
			raw, ps[i].rawLen, ps[i].rawLen > len(raw))
		c := tally[k]
		c.n++
		c.last = latest(c.last, t)
		tally[k] = c
	}
	err := execMulti(ctx, tx, `INSERT INTO dead_letters (time, input, source, reason, detail, raw, raw_len, truncated)`,
		"", 8, args)
	if err != nil {
		return fmt.Errorf("statedb: insert dead letters: %w", err)
	}
	return nil
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// reasonOrInvalid returns reason, or "invalid" (what parse.Reason gives for
// an error without a reason) when it is empty.
func reasonOrInvalid(reason string) string {
	if reason == "" {
		return "invalid"
	}
	return reason
}

// pruneDeadLetters keeps the newest deadLetterLimit dead letters. IDs only
// grow and only the oldest are deleted, so the remaining IDs are contiguous
// and one range delete does it.
func (d *DB) pruneDeadLetters(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx,
		`DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?`, d.deadLetterLimit)
	if err != nil {
		return fmt.Errorf("statedb: prune dead letters: %w", err)
	}
	return nil
}

// DeadLetters returns dead letters matching f, newest first.
func (d *DB) DeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"source", f.Source}, {"input", f.Input}, {"reason", f.Reason}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT id, time, input, source, reason, detail, raw, raw_len, truncated FROM dead_letters`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, listLimit(f.Limit))
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("statedb: list dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var dl DeadLetter
		var t sql.NullInt64
		if err := rows.Scan(&dl.ID, &t, &dl.Input, &dl.Source, &dl.Reason, &dl.Detail, &dl.Raw,
			&dl.RawLen, &dl.Truncated); err != nil {
			return nil, fmt.Errorf("statedb: scan dead letter: %w", err)
		}
		dl.Time = fromNS(t)
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: list dead letters: %w", err)
	}
	return out, nil
}

// listLimit applies the default and the maximum to a requested limit.
func listLimit(n int) int {
	switch {
	case n <= 0:
		return defaultListLimit
	case n > maxListLimit:
		return maxListLimit
	}
	return n
}

// capText cuts s to at most n bytes without splitting a UTF-8 sequence.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
