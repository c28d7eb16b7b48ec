package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// rateWindowMinutes is how many per-minute buckets the source rate covers
// (the current, partial minute and the four before it).
const rateWindowMinutes = 5

// minuteRetention is how many minutes of per-minute counters are kept.
const minuteRetention = 60

// unknownName stands in for an empty host or input.
const unknownName = "unknown"

// SourceDelta is what one ingest batch adds to a source (host × input):
// Events events and Bytes bytes, with event times FirstEvent..LastEvent,
// received at LastReceived.
type SourceDelta struct {
	Host, Input                         string
	Events                              int64
	FirstEvent, LastEvent, LastReceived time.Time
	Bytes                               int64
}

// Source is one host × input and what Vigil has received from it.
type Source struct {
	Host  string `json:"host"`
	Input string `json:"input"`
	// FirstSeen and LastSeen are receipt times of the first and last record,
	// accepted or rejected.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// FirstEventTime and LastEventTime are the earliest and latest event
	// times seen; zero when no event carried one.
	FirstEventTime time.Time `json:"first_event_time,omitzero"`
	LastEventTime  time.Time `json:"last_event_time,omitzero"`
	Events         int64     `json:"events"`
	Bytes          int64     `json:"bytes"`
	// ParseErrors is the total of ParseErrorsByReason.
	ParseErrors         int64            `json:"parse_errors"`
	ParseErrorsByReason map[string]int64 `json:"parse_errors_by_reason,omitempty"`
	// Rate is events per second over the last five minutes of receipt; see
	// DB.Sources.
	Rate float64 `json:"rate"`
}

// ApplySourceDeltas adds deltas to their sources in one transaction,
// creating sources on first sight: counts and bytes add up, first times take
// the minimum and last times the maximum. An empty host or input is recorded
// as "unknown"; a zero LastReceived is now. A delta with a negative count is
// skipped and reported in the returned error; the others are still applied.
func (d *DB) ApplySourceDeltas(ctx context.Context, deltas []SourceDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	now := d.now()
	srcs, mins, bad := sumDeltas(deltas, now)
	if len(srcs) > 0 {
		err := d.write(ctx, func(tx *sql.Tx) error {
			if err := execMulti(ctx, tx, upsertSourceHead, upsertSourceTail, 8, srcs); err != nil {
				return fmt.Errorf("statedb: upsert sources: %w", err)
			}
			if err := execMulti(ctx, tx, upsertMinuteHead, upsertMinuteTail, 4, mins); err != nil {
				return fmt.Errorf("statedb: count source minutes: %w", err)
			}
			return d.pruneMinutes(ctx, tx, now)
		})
		if err != nil {
			return err
		}
	}
	return errors.Join(bad...)
}

const (
	upsertSourceHead = `INSERT INTO sources
	(host, input, first_seen, last_seen, first_event, last_event, events, bytes)`
	upsertSourceTail = `ON CONFLICT (host, input) DO UPDATE SET
	first_seen  = min(first_seen, excluded.first_seen),
	last_seen   = max(last_seen, excluded.last_seen),
	first_event = min(coalesce(first_event, excluded.first_event), coalesce(excluded.first_event, first_event)),
	last_event  = max(coalesce(last_event, excluded.last_event), coalesce(excluded.last_event, last_event)),
	events      = events + excluded.events,
	bytes       = bytes + excluded.bytes`
	upsertMinuteHead = `INSERT INTO source_minutes (host, input, minute, events)`
	upsertMinuteTail = `ON CONFLICT (host, input, minute) DO UPDATE SET events = events + excluded.events`
)

// errBadDelta marks a delta that was skipped.
var errBadDelta = errors.New("bad source delta")

// sourceSum is the sum of a batch's deltas for one source.
type sourceSum struct {
	firstRecv, lastRecv   time.Time
	firstEvent, lastEvent time.Time
	events, bytes         int64
}

// sumDeltas adds up deltas per source and per source minute, in first-seen
// order, and returns them as rows for upsertSource* and upsertMinute*, with
// the errors of skipped deltas.
func sumDeltas(deltas []SourceDelta, now time.Time) (srcs, mins []any, bad []error) {
	type minuteKey struct {
		src    [2]string
		minute int64
	}
	var order [][2]string
	var minOrder []minuteKey
	sums := make(map[[2]string]*sourceSum)
	minutes := make(map[minuteKey]int64)
	for i := range deltas {
		sd := &deltas[i]
		if sd.Events < 0 || sd.Bytes < 0 {
			bad = append(bad, fmt.Errorf("statedb: %w for %s/%s: negative events (%d) or bytes (%d)",
				errBadDelta, sd.Host, sd.Input, sd.Events, sd.Bytes))
			continue
		}
		k := [2]string{orUnknown(sd.Host), orUnknown(sd.Input)}
		recv := sd.LastReceived
		if recv.IsZero() {
			recv = now
		}
		s := sums[k]
		if s == nil {
			s = &sourceSum{firstRecv: recv, lastRecv: recv}
			sums[k] = s
			order = append(order, k)
		}
		s.add(sd, recv)
		if sd.Events > 0 {
			mk := minuteKey{k, unixMinute(recv)}
			if _, ok := minutes[mk]; !ok {
				minOrder = append(minOrder, mk)
			}
			minutes[mk] += sd.Events
		}
	}
	for _, k := range order {
		s := sums[k]
		srcs = append(srcs, k[0], k[1], nsOf(s.firstRecv), nsOf(s.lastRecv), toNS(s.firstEvent), toNS(s.lastEvent),
			s.events, s.bytes)
	}
	for _, mk := range minOrder {
		mins = append(mins, mk.src[0], mk.src[1], mk.minute, minutes[mk])
	}
	return srcs, mins, bad
}

// add adds one delta, received at recv, to s.
func (s *sourceSum) add(sd *SourceDelta, recv time.Time) {
	s.events += sd.Events
	s.bytes += sd.Bytes
	if recv.Before(s.firstRecv) {
		s.firstRecv = recv
	}
	if recv.After(s.lastRecv) {
		s.lastRecv = recv
	}
	for _, t := range [2]time.Time{sd.FirstEvent, sd.LastEvent} {
		if t.IsZero() {
			continue
		}
		if s.firstEvent.IsZero() || t.Before(s.firstEvent) {
			s.firstEvent = t
		}
		if t.After(s.lastEvent) {
			s.lastEvent = t
		}
	}
}

// pruneMinutes drops per-minute counters older than minuteRetention, at most
// once per minute of the clock.
func (d *DB) pruneMinutes(ctx context.Context, tx *sql.Tx, now time.Time) error {
	m := unixMinute(now)
	if d.lastPrune.Load() == m {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM source_minutes WHERE minute < ?`, m-minuteRetention); err != nil {
		return fmt.Errorf("statedb: prune source minutes: %w", err)
	}
	d.lastPrune.Store(m)
	return nil
}

// AddParseErrors adds n rejected records of the given reason to the source
// host × input, creating the source if needed. A rejected record counts as
// receipt: it moves the source's LastSeen. An empty reason is "invalid".
func (d *DB) AddParseErrors(ctx context.Context, host, input, reason string, n int64) error {
	if n <= 0 {
		return nil
	}
	now := d.now()
	return d.write(ctx, func(tx *sql.Tx) error {
		return addParseErrors(ctx, tx, parseErrorCount{host, input, reason, n}, now)
	})
}

// parseErrorCount is n rejects of one reason from one source.
type parseErrorCount struct {
	host, input, reason string
	n                   int64
}

// addParseErrors records c, received at t, inside tx.
func addParseErrors(ctx context.Context, tx *sql.Tx, c parseErrorCount, t time.Time) error {
	host, input, reason := orUnknown(c.host), orUnknown(c.input), reasonOrInvalid(c.reason)
	ns := nsOf(t)
	_, err := tx.ExecContext(ctx, `
INSERT INTO sources (host, input, first_seen, last_seen, parse_errors) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (host, input) DO UPDATE SET
	first_seen   = min(first_seen, excluded.first_seen),
	last_seen    = max(last_seen, excluded.last_seen),
	parse_errors = parse_errors + excluded.parse_errors`, host, input, ns, ns, c.n)
	if err != nil {
		return fmt.Errorf("statedb: count parse errors for %s/%s: %w", host, input, err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO source_errors (host, input, reason, count) VALUES (?, ?, ?, ?)
ON CONFLICT (host, input, reason) DO UPDATE SET count = count + excluded.count`, host, input, reason, c.n)
	if err != nil {
		return fmt.Errorf("statedb: count parse errors for %s/%s/%s: %w", host, input, reason, err)
	}
	return nil
}

// Sources returns every source, ordered by host and input.
//
// Rate is computed from the per-minute receipt counters (source_minutes,
// keyed by the minute of each batch's LastReceived): the events counted in
// the current minute and the four before it, divided by the seconds from the
// start of the oldest of those minutes until now. The span is therefore
// between four and five minutes, and a burst received in the current minute
// counts at once instead of waiting for the minute to close. A source that
// started less than five minutes ago is averaged over the whole span, so its
// rate ramps up.
func (d *DB) Sources(ctx context.Context) ([]Source, error) {
	now := d.now()
	nowMin := unixMinute(now)
	startMin := nowMin - (rateWindowMinutes - 1)
	span := now.Sub(time.Unix(startMin*60, 0)).Seconds()
	// One read transaction: the totals and the per-reason counts come from
	// the same snapshot.
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("statedb: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to undo
	rows, err := tx.QueryContext(ctx, `
SELECT s.host, s.input, s.first_seen, s.last_seen, s.first_event, s.last_event,
	s.events, s.bytes, s.parse_errors,
	coalesce((SELECT sum(m.events) FROM source_minutes m
		WHERE m.host = s.host AND m.input = s.input AND m.minute BETWEEN ? AND ?), 0)
FROM sources s ORDER BY s.host, s.input`, startMin, nowMin)
	if err != nil {
		return nil, fmt.Errorf("statedb: list sources: %w", err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		var s Source
		var fs, ls, fe, le sql.NullInt64
		var recent int64
		if err := rows.Scan(&s.Host, &s.Input, &fs, &ls, &fe, &le, &s.Events, &s.Bytes,
			&s.ParseErrors, &recent); err != nil {
			return nil, fmt.Errorf("statedb: scan source: %w", err)
		}
		s.FirstSeen, s.LastSeen, s.FirstEventTime, s.LastEventTime = fromNS(fs), fromNS(ls), fromNS(fe), fromNS(le)
		if span > 0 {
			s.Rate = float64(recent) / span
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: list sources: %w", err)
	}
	if err := fillReasons(ctx, tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fillReasons sets ParseErrorsByReason of the sources in ss (sorted by host,
// input).
func fillReasons(ctx context.Context, q querier, ss []Source) error {
	idx := make(map[[2]string]int, len(ss))
	for i := range ss {
		idx[[2]string{ss[i].Host, ss[i].Input}] = i
	}
	rows, err := q.QueryContext(ctx, `SELECT host, input, reason, count FROM source_errors`)
	if err != nil {
		return fmt.Errorf("statedb: list parse errors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var host, input, reason string
		var n int64
		if err := rows.Scan(&host, &input, &reason, &n); err != nil {
			return fmt.Errorf("statedb: scan parse errors: %w", err)
		}
		i, ok := idx[[2]string{host, input}]
		if !ok {
			continue // cannot happen inside one snapshot; be lenient anyway
		}
		if ss[i].ParseErrorsByReason == nil {
			ss[i].ParseErrorsByReason = make(map[string]int64)
		}
		ss[i].ParseErrorsByReason[reason] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("statedb: list parse errors: %w", err)
	}
	return nil
}

// unixMinute returns the minutes since the Unix epoch of t.
func unixMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 59) / 60
	}
	return s / 60
}

// orUnknown returns s, or "unknown" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return unknownName
	}
	return s
}
