package statedb

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// normaliseAlert checks a and fills defaults: dedup key, count, times,
// status and priority; evidence is capped.
func normaliseAlert(a schema.Alert, now time.Time) (schema.Alert, error) {
	switch {
	case a.Kind == "":
		return a, fmt.Errorf("%w: no kind", errBadAlert)
	case a.Severity < schema.SeverityInformational || a.Severity > schema.SeverityCritical:
		return a, fmt.Errorf("%w: severity %d out of range", errBadAlert, a.Severity)
	case a.Priority < 0 || a.Priority > 5:
		return a, fmt.Errorf("%w: priority %d out of range 1..5", errBadAlert, a.Priority)
	case a.Count < 0:
		return a, fmt.Errorf("%w: negative count %d", errBadAlert, a.Count)
	case a.Status != "" && !ValidStatus(a.Status):
		return a, fmt.Errorf("%w: status %q", errBadAlert, a.Status)
	}
	a.DedupKey = a.Key()
	a.Count = max(a.Count, 1)
	if a.Status == "" {
		a.Status = schema.StatusNew
	}
	if a.Priority == 0 {
		a.Priority = schema.PriorityFromSeverity(a.Severity)
	}
	switch {
	case a.FirstSeen.IsZero() && a.LastSeen.IsZero():
		a.FirstSeen, a.LastSeen = now, now
	case a.FirstSeen.IsZero():
		a.FirstSeen = a.LastSeen
	case a.LastSeen.IsZero():
		a.LastSeen = a.FirstSeen
	}
	if a.LastSeen.Before(a.FirstSeen) {
		a.FirstSeen, a.LastSeen = a.LastSeen, a.FirstSeen
	}
	a.EvidenceIDs = appendEvidence(nil, a.EvidenceIDs)
	a.Tags = appendNew(nil, a.Tags)
	return a, nil
}

// mergeAlert groups the new alert a into the stored alert prev. The
// identity (rule, title, host, addresses, user) stays prev's.
func mergeAlert(prev, a schema.Alert, now time.Time) schema.Alert {
	g := prev
	g.Count = prev.Count + a.Count
	if g.Count < prev.Count { // overflow
		g.Count = math.MaxInt64
	}
	if a.FirstSeen.Before(g.FirstSeen) {
		g.FirstSeen = a.FirstSeen
	}
	if a.LastSeen.After(g.LastSeen) {
		g.LastSeen = a.LastSeen
	}
	g.Severity = max(prev.Severity, a.Severity)
	g.Priority = min(prev.Priority, a.Priority)
	g.EvidenceIDs = appendEvidence(slices.Clone(prev.EvidenceIDs), a.EvidenceIDs)
	g.Tags = appendNew(slices.Clone(prev.Tags), a.Tags)
	if len(a.Details) > 0 {
		g.Details = make(map[string]string, len(prev.Details)+len(a.Details))
		for k, v := range prev.Details {
			g.Details[k] = v
		}
		for k, v := range a.Details {
			g.Details[k] = v
		}
	}
	g.Updated = now
	return g
}

// appendEvidence appends the IDs of add not yet in ids, up to
// MaxEvidenceIDs in all.
func appendEvidence(ids, add []uint64) []uint64 {
	for _, id := range add {
		if len(ids) >= MaxEvidenceIDs {
			break
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// appendNew appends the strings of add not yet in l.
func appendNew(l, add []string) []string {
	for _, s := range add {
		if !slices.Contains(l, s) {
			l = append(l, s)
		}
	}
	return l
}

// alertJSON encodes the JSON text columns of a.
func alertJSON(a *schema.Alert) (tags, evidence, details string, err error) {
	enc := func(v any, empty string) string {
		if err != nil {
			return ""
		}
		b, e := json.Marshal(v)
		if e != nil {
			err = fmt.Errorf("statedb: encode alert %s: %w", a.ID, e)
		}
		if string(b) == "null" {
			return empty
		}
		return string(b)
	}
	tags, details = enc(a.Tags, "[]"), enc(a.Details, "{}")
	return tags, encodeIDs(a.EvidenceIDs), details, err
}

// encodeIDs writes ids as a JSON array of numbers.
func encodeIDs(ids []uint64) string {
	b := make([]byte, 0, 2+len(ids)*12)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, id, 10)
	}
	return string(append(b, ']'))
}

// decodeIDs reads a JSON array of unsigned integers. The compact form
// encodeIDs writes is read directly; anything else goes through
// encoding/json.
func decodeIDs(s string) ([]uint64, error) {
	inner, ok := strings.CutPrefix(s, "[")
	if inner, ok2 := strings.CutSuffix(inner, "]"); ok && ok2 {
		if inner == "" {
			return nil, nil
		}
		ids := make([]uint64, 0, strings.Count(inner, ",")+1)
		for f := range strings.SplitSeq(inner, ",") {
			id, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return decodeIDsJSON(s)
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	return decodeIDsJSON(s)
}

func decodeIDsJSON(s string) ([]uint64, error) {
	var ids []uint64
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// alertArgs returns a's column values in alertColumns order.
func alertArgs(a *schema.Alert) ([]any, error) {
	tags, ev, details, err := alertJSON(a)
	if err != nil {
		return nil, err
	}
	return []any{a.ID, a.DedupKey, a.RuleID, a.RuleName, a.Kind, a.Title, int(a.Severity), a.Priority,
		nsOf(a.FirstSeen), nsOf(a.LastSeen), nsOf(a.Created), nsOf(a.Updated), a.Host, a.SourceIP,
		a.DestinationIP, a.DestinationDomain, a.User, tags, ev, a.Status, a.Count, details,
		a.Assignee, a.Disposition, a.Reason}, nil
}

// scanAlert reads one alerts row in alertColumns order; sql.ErrNoRows
// becomes ErrNotFound.
func scanAlert(s scanner) (schema.Alert, error) {
	var a schema.Alert
	var sev int
	var fs, ls, created, updated sql.NullInt64
	var tags, ev, details string
	err := s.Scan(&a.ID, &a.DedupKey, &a.RuleID, &a.RuleName, &a.Kind, &a.Title, &sev, &a.Priority,
		&fs, &ls, &created, &updated, &a.Host, &a.SourceIP, &a.DestinationIP, &a.DestinationDomain,
		&a.User, &tags, &ev, &a.Status, &a.Count, &details, &a.Assignee, &a.Disposition, &a.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("statedb: scan alert: %w", err)
	}
	a.Severity = schema.Severity(sev)
	a.FirstSeen, a.LastSeen, a.Created, a.Updated = fromNS(fs), fromNS(ls), fromNS(created), fromNS(updated)
	if err := decodeAlertJSON(&a, tags, ev, details); err != nil {
		return a, err
	}
	return a, nil
}

// decodeAlertJSON reads the JSON text columns into a; empty lists and maps
// read back as nil.
func decodeAlertJSON(a *schema.Alert, tags, ev, details string) error {
	if tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
			return fmt.Errorf("statedb: alert %s tags: %w", a.ID, err)
		}
	}
	ids, err := decodeIDs(ev)
	if err != nil {
		return fmt.Errorf("statedb: alert %s evidence ids: %w", a.ID, err)
	}
	a.EvidenceIDs = ids
	if details != "{}" {
		if err := json.Unmarshal([]byte(details), &a.Details); err != nil {
			return fmt.Errorf("statedb: alert %s details: %w", a.ID, err)
		}
	}
	return nil
}

// roundTimes returns a with its times as they read back from the database:
// UTC, without a monotonic clock reading.
func roundTimes(a schema.Alert) schema.Alert {
	a.FirstSeen, a.LastSeen = fromNS(toNS(a.FirstSeen)), fromNS(toNS(a.LastSeen))
	a.Created, a.Updated = fromNS(toNS(a.Created)), fromNS(toNS(a.Updated))
	return a
}
