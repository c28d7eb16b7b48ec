package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/vuln"
)

// migrationVulns creates the vulnerability scans, the findings keyed by
// their dedup key with their open/fixed state, and the history of each
// finding (new, fixed, reopened), from which the open trend is counted.
const migrationVulns = `
CREATE TABLE vuln_scans (
	id        TEXT PRIMARY KEY,
	scanner   TEXT NOT NULL,
	format    TEXT NOT NULL DEFAULT '',
	file_name TEXT NOT NULL DEFAULT '',
	scanned   INTEGER NOT NULL,
	imported  INTEGER NOT NULL,
	targets   TEXT NOT NULL DEFAULT '[]',
	findings  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE vuln_findings (
	key        TEXT PRIMARY KEY,
	target     TEXT NOT NULL COLLATE NOCASE,
	asset_id   TEXT NOT NULL DEFAULT '',
	vuln_id    TEXT NOT NULL,
	severity   TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
	cvss       REAL NOT NULL DEFAULT 0,
	status     TEXT NOT NULL CHECK (status IN ('open', 'fixed')),
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	opened     INTEGER NOT NULL,
	fixed      INTEGER,
	reopened   INTEGER NOT NULL DEFAULT 0,
	scanners   TEXT NOT NULL DEFAULT '[]',
	last_scan  TEXT NOT NULL REFERENCES vuln_scans (id),
	detail     TEXT NOT NULL
);
CREATE INDEX vuln_findings_status ON vuln_findings (status, severity, opened);
CREATE INDEX vuln_findings_target ON vuln_findings (target, status);
CREATE INDEX vuln_findings_asset ON vuln_findings (asset_id) WHERE asset_id != '';
CREATE TABLE vuln_events (
	id       INTEGER PRIMARY KEY,
	key      TEXT NOT NULL REFERENCES vuln_findings (key) ON DELETE CASCADE,
	scan_id  TEXT NOT NULL REFERENCES vuln_scans (id),
	at       INTEGER NOT NULL,
	event    TEXT NOT NULL CHECK (event IN ('new', 'fixed', 'reopened')),
	severity TEXT NOT NULL
);
CREATE INDEX vuln_events_key ON vuln_events (key, at);
CREATE INDEX vuln_events_at ON vuln_events (at);
`

// Vulnerability finding states and history events.
const (
	VulnOpen     = "open"
	VulnFixed    = "fixed"
	VulnNew      = "new"
	VulnReopened = "reopened"
)

// ErrInvalidFinding marks a finding ImportScan cannot store; the error
// names the finding and the field.
var ErrInvalidFinding = errors.New("statedb: invalid vulnerability finding")

// VulnImportCounts says what one ImportScan did.
type VulnImportCounts struct {
	// ScanID identifies the stored scan.
	ScanID string `json:"scan_id"`
	// New findings were never seen before; StillOpen were open and seen
	// again; Reopened were fixed and came back; Fixed were open on a
	// covered target and absent from this scan.
	New       int `json:"new"`
	StillOpen int `json:"still_open"`
	Fixed     int `json:"fixed"`
	Reopened  int `json:"reopened"`
	// Late counts findings reported by a scan older than their fix; they
	// keep their state.
	Late int `json:"late"`
}

// VulnFinding is a tracked finding: the finding as last reported, with
// FirstSeen and LastSeen over all scans, and its state.
type VulnFinding struct {
	vuln.Finding
	Key     string `json:"key"`
	AssetID string `json:"asset_id,omitempty"`
	// Status is open or fixed.
	Status string `json:"status"`
	// Opened is when the current open period began: FirstSeen, or the last
	// reopening.
	Opened time.Time `json:"opened"`
	// FixedAt is when the finding was found fixed (zero while open).
	FixedAt time.Time `json:"fixed_at"`
	// Reopened counts how often it came back after a fix.
	Reopened int `json:"reopened"`
	// Scanners lists the scanners that have reported it.
	Scanners []string `json:"scanners"`
	// LastScan is the scan that last changed it.
	LastScan string `json:"last_scan"`
}

// TimeToRemediate returns how long the finding stayed open before it was
// found fixed, and 0 while it is open.
func (f *VulnFinding) TimeToRemediate() time.Duration {
	if f.Status != VulnFixed || f.FixedAt.IsZero() {
		return 0
	}
	return f.FixedAt.Sub(f.Opened)
}

// ImportScan stores a parsed scan and its findings in one transaction:
// unseen keys are new, open ones move their last seen time, fixed ones seen
// again are reopened, and open findings on a target the scan covers that
// this scanner has reported before but the scan does not contain are marked
// fixed at the scan's time (its import time when the report has none).
// assetOf maps a target (then the finding's host name) to an asset id, ""
// when none; it may be nil.
func (d *DB) ImportScan(ctx context.Context, scan vuln.Scan, findings []vuln.Finding,
	assetOf func(target string) string) (VulnImportCounts, error) {
	if scan.Scanner == "" {
		return VulnImportCounts{}, fmt.Errorf("%w: scan has no scanner", ErrInvalidFinding)
	}
	findings = vuln.Dedup(findings)
	for i, f := range findings {
		if f.Target == "" || f.VulnID == "" || !f.Severity.Valid() {
			return VulnImportCounts{}, fmt.Errorf("%w: finding %d (%q on %q): needs a target, an id and a valid severity, has severity %q",
				ErrInvalidFinding, i, f.VulnID, f.Target, f.Severity)
		}
	}
	now := d.now().UTC()
	at := scan.Time.UTC()
	if scan.Time.IsZero() {
		at = now
	}
	c := VulnImportCounts{ScanID: newID(now)}
	mapAsset := assetMapper(assetOf)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := insertVulnScan(ctx, tx, c.ScanID, scan, at, now, len(findings)); err != nil {
			return err
		}
		seen := make(map[string]bool, len(findings))
		for i := range findings {
			f := &findings[i]
			key := f.Key()
			seen[key] = true
			if err := upsertVuln(ctx, tx, &c, vulnWrite{scan: c.ScanID, scanner: scan.Scanner, at: at,
				key: key, asset: mapAsset(f), f: f}); err != nil {
				return err
			}
		}
		return fixAbsent(ctx, tx, &c, scan, at, seen)
	})
	if err != nil {
		return VulnImportCounts{}, err
	}
	return c, nil
}

// assetMapper wraps assetOf with a cache per target and a fallback on the
// host name.
func assetMapper(assetOf func(string) string) func(f *vuln.Finding) string {
	cache := map[string]string{}
	lookup := func(s string) string {
		if s == "" || assetOf == nil {
			return ""
		}
		id, ok := cache[s]
		if !ok {
			id = assetOf(s)
			cache[s] = id
		}
		return id
	}
	return func(f *vuln.Finding) string {
		if id := lookup(f.Target); id != "" {
			return id
		}
		return lookup(f.Hostname)
	}
}

func insertVulnScan(ctx context.Context, tx *sql.Tx, id string, scan vuln.Scan, at, now time.Time, n int) error {
	targets, err := json.Marshal(append([]string{}, scan.Targets...))
	if err != nil {
		return fmt.Errorf("statedb: encode scan targets: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO vuln_scans (id, scanner, format, file_name, scanned, imported, targets, findings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, scan.Scanner, string(scan.Format), scan.FileName, nsOf(at), nsOf(now), string(targets), n)
	if err != nil {
		return fmt.Errorf("statedb: insert vulnerability scan: %w", err)
	}
	return nil
}

// vulnWrite is one finding of a scan being stored.
type vulnWrite struct {
	scan, scanner, key, asset string
	at                        time.Time
	f                         *vuln.Finding
}

// upsertVuln inserts, refreshes or reopens one finding.
func upsertVuln(ctx context.Context, tx *sql.Tx, c *VulnImportCounts, w vulnWrite) error {
	detail, err := json.Marshal(w.f)
	if err != nil {
		return fmt.Errorf("statedb: encode finding %s: %w", w.key, err)
	}
	var (
		status   string
		fixed    sql.NullInt64
		scanners string
	)
	err = tx.QueryRowContext(ctx, `SELECT status, fixed, scanners FROM vuln_findings WHERE key = ?`, w.key).
		Scan(&status, &fixed, &scanners)
	if errors.Is(err, sql.ErrNoRows) {
		c.New++
		return insertVuln(ctx, tx, w, string(detail))
	}
	if err != nil {
		return fmt.Errorf("statedb: read finding %s: %w", w.key, err)
	}
	list, err := addScanner(scanners, w.scanner)
	if err != nil {
		return fmt.Errorf("statedb: finding %s: %w", w.key, err)
	}
	ns := nsOf(w.at)
	if status == VulnFixed && fixed.Int64 >= ns {
		c.Late++
		_, err = tx.ExecContext(ctx, `UPDATE vuln_findings SET last_seen = max(last_seen, ?), scanners = ? WHERE key = ?`,
			ns, list, w.key)
		return wrapVulnErr(err, w.key)
	}
	_, err = tx.ExecContext(ctx, `UPDATE vuln_findings SET severity = ?, cvss = ?, detail = ?, scanners = ?,
		last_seen = max(last_seen, ?), last_scan = ?, asset_id = CASE WHEN ? != '' THEN ? ELSE asset_id END,
		status = 'open', fixed = NULL, opened = CASE WHEN status = 'fixed' THEN ? ELSE opened END,
		reopened = reopened + (status = 'fixed') WHERE key = ?`,
		string(w.f.Severity), w.f.CVSS, string(detail), list, ns, w.scan, w.asset, w.asset, ns, w.key)
	if err != nil {
		return wrapVulnErr(err, w.key)
	}
	if status == VulnOpen {
		c.StillOpen++
		return nil
	}
	c.Reopened++
	return insertVulnEvent(ctx, tx, w.key, w.scan, w.at, VulnReopened, w.f.Severity)
}

func insertVuln(ctx context.Context, tx *sql.Tx, w vulnWrite, detail string) error {
	list, err := addScanner("[]", w.scanner)
	if err != nil {
		return err
	}
	ns := nsOf(w.at)
	_, err = tx.ExecContext(ctx, `INSERT INTO vuln_findings (key, target, asset_id, vuln_id, severity, cvss, status,
		first_seen, last_seen, opened, scanners, last_scan, detail) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)`,
		w.key, w.f.Target, w.asset, w.f.VulnID, string(w.f.Severity), w.f.CVSS, ns, ns, ns, list, w.scan, detail)
	if err != nil {
		return wrapVulnErr(err, w.key)
	}
	return insertVulnEvent(ctx, tx, w.key, w.scan, w.at, VulnNew, w.f.Severity)
}

func insertVulnEvent(ctx context.Context, tx *sql.Tx, key, scan string, at time.Time, event string, sev vuln.Severity) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO vuln_events (key, scan_id, at, event, severity) VALUES (?, ?, ?, ?, ?)`,
		key, scan, nsOf(at), event, string(sev))
	if err != nil {
		return fmt.Errorf("statedb: record %s event of finding %s: %w", event, key, err)
	}
	return nil
}

func wrapVulnErr(err error, key string) error {
	if err != nil {
		return fmt.Errorf("statedb: write finding %s: %w", key, err)
	}
	return nil
}

// addScanner adds scanner to a JSON list of scanners.
func addScanner(list, scanner string) (string, error) {
	var names []string
	if err := json.Unmarshal([]byte(list), &names); err != nil {
		return "", fmt.Errorf("decode scanners %q: %w", list, err)
	}
	if !slices.Contains(names, scanner) {
		names = append(names, scanner)
	}
	b, err := json.Marshal(names)
	if err != nil {
		return "", fmt.Errorf("encode scanners: %w", err)
	}
	return string(b), nil
}

// fixAbsent marks fixed the open findings on the scan's targets that this
// scanner reported before, that were last seen before the scan, and that
// the scan does not contain.
func fixAbsent(ctx context.Context, tx *sql.Tx, c *VulnImportCounts, scan vuln.Scan, at time.Time, seen map[string]bool) error {
	type gone struct {
		key, sev string
	}
	var fixed []gone
	for _, target := range scan.Targets {
		rows, err := tx.QueryContext(ctx, `SELECT key, severity, scanners FROM vuln_findings
			WHERE target = ? AND status = 'open' AND last_seen < ?`, target, nsOf(at))
		if err != nil {
			return fmt.Errorf("statedb: open findings of %q: %w", target, err)
		}
		for rows.Next() {
			var g gone
			var scanners string
			if err := rows.Scan(&g.key, &g.sev, &scanners); err != nil {
				rows.Close()
				return fmt.Errorf("statedb: read open finding of %q: %w", target, err)
			}
			var names []string
			if err := json.Unmarshal([]byte(scanners), &names); err != nil {
				rows.Close()
				return fmt.Errorf("statedb: finding %s: decode scanners: %w", g.key, err)
			}
			if !seen[g.key] && slices.Contains(names, scan.Scanner) {
				seen[g.key] = true // a target listed twice fixes it once
				fixed = append(fixed, g)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("statedb: open findings of %q: %w", target, err)
		}
	}
	for _, g := range fixed {
		if _, err := tx.ExecContext(ctx, `UPDATE vuln_findings SET status = 'fixed', fixed = ?, last_scan = ? WHERE key = ?`,
			nsOf(at), c.ScanID, g.key); err != nil {
			return wrapVulnErr(err, g.key)
		}
		if err := insertVulnEvent(ctx, tx, g.key, c.ScanID, at, VulnFixed, vuln.Severity(g.sev)); err != nil {
			return err
		}
		c.Fixed++
	}
	return nil
}
