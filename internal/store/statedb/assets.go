package statedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// migrationAssets creates the asset inventory: one row per asset, its
// addresses (IPs or CIDRs, in the order given) for lookups, and a version
// counter that every inventory write moves. Host names are unique,
// compared without regard to case.
const migrationAssets = `
CREATE TABLE assets (
	id               TEXT PRIMARY KEY,
	hostname         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	mac              TEXT NOT NULL DEFAULT '',
	owner            TEXT NOT NULL DEFAULT '',
	role             TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	criticality      TEXT NOT NULL DEFAULT 'medium'
		CHECK (criticality IN ('low', 'medium', 'high', 'critical')),
	tags             TEXT NOT NULL DEFAULT '[]',
	expected_sources TEXT NOT NULL DEFAULT '[]',
	notes            TEXT NOT NULL DEFAULT '',
	created          INTEGER NOT NULL,
	updated          INTEGER NOT NULL
);
CREATE UNIQUE INDEX assets_hostname ON assets (hostname) WHERE hostname != '';
CREATE TABLE asset_addresses (
	asset_id TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
	address  TEXT    NOT NULL,
	pos      INTEGER NOT NULL,
	PRIMARY KEY (asset_id, address)
) WITHOUT ROWID;
CREATE INDEX asset_addresses_address ON asset_addresses (address);
CREATE TABLE asset_version (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	version INTEGER NOT NULL
);
INSERT INTO asset_version (one, version) VALUES (1, 0);
`

// Asset criticalities, from least to most critical.
const (
	CriticalityLow      = "low"
	CriticalityMedium   = "medium"
	CriticalityHigh     = "high"
	CriticalityCritical = "critical"
)

// Asset inventory errors.
var (
	// ErrInvalidAsset marks an asset with an invalid field; the error names
	// the field.
	ErrInvalidAsset = errors.New("statedb: invalid asset")
	// ErrAssetConflict is returned when a write would give two assets the
	// same host name.
	ErrAssetConflict = errors.New("statedb: asset conflict")
)

// Asset is one entry of the asset inventory.
//
// Addresses are single IPs ("10.0.0.5", "2001:db8::5") or CIDRs
// ("10.0.8.0/24"); IPv4-mapped IPv6 addresses are stored as IPv4 and a /32
// or /128 as the plain address. ExpectedSources lists the log sources the
// asset should send, each an input kind ("winlogbeat", "syslog", "zeek",
// "suricata", "netflow", "evtx", "ndjson", "bulk") optionally qualified
// by a stream after a colon ("winlogbeat:Security" for a Windows channel,
// "zeek:conn" for a Zeek log); the input part is what a source (host ×
// input) is matched on.
type Asset struct {
	ID              string    `json:"id"`
	Hostname        string    `json:"hostname"`
	Addresses       []string  `json:"addresses"`
	MAC             string    `json:"mac,omitempty"`
	Owner           string    `json:"owner,omitempty"`
	Role            string    `json:"role,omitempty"`
	Criticality     string    `json:"criticality"`
	Tags            []string  `json:"tags"`
	ExpectedSources []string  `json:"expected_sources"`
	Notes           string    `json:"notes,omitempty"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
}

// AssetPatch changes some fields of an asset: nil fields are kept, set
// fields replace the asset's (an empty value clears the field; an empty
// criticality means medium).
type AssetPatch struct {
	Hostname        *string   `json:"hostname,omitempty"`
	Addresses       *[]string `json:"addresses,omitempty"`
	MAC             *string   `json:"mac,omitempty"`
	Owner           *string   `json:"owner,omitempty"`
	Role            *string   `json:"role,omitempty"`
	Criticality     *string   `json:"criticality,omitempty"`
	Tags            *[]string `json:"tags,omitempty"`
	ExpectedSources *[]string `json:"expected_sources,omitempty"`
	Notes           *string   `json:"notes,omitempty"`
}

// Apply returns a with the patch's set fields replaced.
func (p AssetPatch) Apply(a Asset) Asset {
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setL := func(dst *[]string, v *[]string) {
		if v != nil {
			*dst = slices.Clone(*v)
		}
	}
	setS(&a.Hostname, p.Hostname)
	setL(&a.Addresses, p.Addresses)
	setS(&a.MAC, p.MAC)
	setS(&a.Owner, p.Owner)
	setS(&a.Role, p.Role)
	setS(&a.Criticality, p.Criticality)
	setL(&a.Tags, p.Tags)
	setL(&a.ExpectedSources, p.ExpectedSources)
	setS(&a.Notes, p.Notes)
	return a
}

// AssetFilter selects assets. Empty fields select everything.
type AssetFilter struct {
	// Query matches, ignoring case, a substring of the host name, an
	// address, the MAC, owner, role, a tag or the notes.
	Query string
	// Role and Tag match exactly, ignoring case.
	Role string
	Tag  string
	// Criticality is low, medium, high or critical.
	Criticality string
	// Limit caps the assets returned (0: all).
	Limit int
}

// assetSelect reads the columns scanAsset expects, addresses in their
// stored order as a JSON array.
const assetSelect = `SELECT a.id, a.hostname, a.mac, a.owner, a.role, a.criticality, a.tags,
	a.expected_sources, a.notes, a.created, a.updated,
	(SELECT json_group_array(address) FROM
		(SELECT address FROM asset_addresses WHERE asset_id = a.id ORDER BY pos))
FROM assets a`

// assetOrder sorts the most critical first, then by host name.
const assetOrder = ` ORDER BY CASE a.criticality WHEN 'critical' THEN 0 WHEN 'high' THEN 1
	WHEN 'medium' THEN 2 ELSE 3 END, a.hostname, a.id`

// Assets returns the assets f selects, the most critical first, then by
// host name.
func (d *DB) Assets(ctx context.Context, f AssetFilter) ([]Asset, error) {
	var where []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + escapeLike(q) + "%"
		where = append(where, `(a.hostname LIKE ?1 ESCAPE '\' OR a.mac LIKE ?1 ESCAPE '\'
	OR a.owner LIKE ?1 ESCAPE '\' OR a.role LIKE ?1 ESCAPE '\' OR a.notes LIKE ?1 ESCAPE '\'
	OR EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value LIKE ?1 ESCAPE '\')
	OR EXISTS (SELECT 1 FROM asset_addresses x WHERE x.asset_id = a.id AND x.address LIKE ?1 ESCAPE '\'))`)
		args = append(args, like)
	}
	add := func(cond, v string) {
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("?%d", len(args)+1)))
		args = append(args, v)
	}
	if f.Role != "" {
		add(`a.role = ?`, strings.TrimSpace(f.Role))
	}
	if f.Tag != "" {
		add(`EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = ? COLLATE NOCASE)`, strings.TrimSpace(f.Tag))
	}
	if f.Criticality != "" {
		c, err := ParseCriticality(f.Criticality)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidAsset, err)
		}
		add(`a.criticality = ?`, c)
	}
	q := assetSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += assetOrder
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryAssets(ctx, d.db, q, args...)
}

// escapeLike escapes LIKE's wildcards (and the escape character) in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// queryAssets runs an assetSelect query and scans its rows.
func queryAssets(ctx context.Context, q querier, query string, args ...any) ([]Asset, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("statedb: list assets: %w", err)
	}
	defer rows.Close()
	out := []Asset{}
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statedb: list assets: %w", err)
	}
	return out, nil
}

// scanAsset reads one row of assetSelect.
func scanAsset(row interface{ Scan(...any) error }) (Asset, error) {
	var a Asset
	var tags, expected string
	var addrs sql.NullString
	var created, updated sql.NullInt64
	if err := row.Scan(&a.ID, &a.Hostname, &a.MAC, &a.Owner, &a.Role, &a.Criticality, &tags, &expected,
		&a.Notes, &created, &updated, &addrs); err != nil {
		return Asset{}, fmt.Errorf("statedb: scan asset: %w", err)
	}
	a.Created, a.Updated = fromNS(created), fromNS(updated)
	a.Addresses, a.Tags, a.ExpectedSources = []string{}, []string{}, []string{}
	for _, f := range []struct {
		name, text string
		dst        *[]string
	}{{"addresses", addrs.String, &a.Addresses}, {"tags", tags, &a.Tags}, {"expected_sources", expected, &a.ExpectedSources}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return Asset{}, fmt.Errorf("statedb: asset %s: read %s: %w", a.ID, f.name, err)
		}
	}
	return a, nil
}

// Asset returns the asset with the given ID, or an error wrapping
// ErrNotFound.
func (d *DB) Asset(ctx context.Context, id string) (Asset, error) {
	return getAsset(ctx, d.db, id)
}

// getAsset reads one asset through q.
func getAsset(ctx context.Context, q querier, id string) (Asset, error) {
	a, err := scanAsset(q.QueryRowContext(ctx, assetSelect+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Asset{}, fmt.Errorf("asset %q: %w", id, ErrNotFound)
	}
	return a, err
}

// AssetsVersion returns the inventory's version: a counter that every
// transaction changing the inventory increments, so that readers holding
// a copy know when to reload it.
func (d *DB) AssetsVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := d.db.QueryRowContext(ctx, `SELECT version FROM asset_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("statedb: read assets version: %w", err)
	}
	return v, nil
}

// bumpAssetsVersion increments the inventory version inside tx.
func bumpAssetsVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE asset_version SET version = version + 1`); err != nil {
		return fmt.Errorf("statedb: bump assets version: %w", err)
	}
	return nil
}

// CreateAsset validates a and stores it as a new asset with a new ID and
// the current time as Created and Updated, and returns it as stored. A host
// name another asset has already is an ErrAssetConflict.
func (d *DB) CreateAsset(ctx context.Context, a Asset) (Asset, error) {
	a, err := ValidateAsset(a)
	if err != nil {
		return Asset{}, err
	}
	now := d.now().UTC()
	a.ID, a.Created, a.Updated = newID(now), now, now
	err = d.write(ctx, func(tx *sql.Tx) error {
		if err := insertAsset(ctx, tx, a); err != nil {
			return err
		}
		return bumpAssetsVersion(ctx, tx)
	})
	if err != nil {
		return Asset{}, err
	}
	return a, nil
}

// UpdateAsset applies p to the asset id and returns it before and after
// the change. When p changes nothing, nothing is written and after equals
// before.
func (d *DB) UpdateAsset(ctx context.Context, id string, p AssetPatch) (before, after Asset, err error) {
	err = d.write(ctx, func(tx *sql.Tx) error {
		if before, err = getAsset(ctx, tx, id); err != nil {
			return err
		}
		after, err = ValidateAsset(p.Apply(before))
		if err != nil {
			return err
		}
		if sameAsset(before, after) {
			after = before
			return nil
		}
		after.Updated = d.now().UTC()
		if err := updateAsset(ctx, tx, after); err != nil {
			return err
		}
		return bumpAssetsVersion(ctx, tx)
	})
	if err != nil {
		return Asset{}, Asset{}, err
	}
	return before, after, nil
}

// DeleteAsset deletes the asset id and returns it as it was.
func (d *DB) DeleteAsset(ctx context.Context, id string) (Asset, error) {
	var a Asset
	err := d.write(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = getAsset(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assets WHERE id = ?`, id); err != nil {
			return fmt.Errorf("statedb: delete asset %s: %w", id, err)
		}
		return bumpAssetsVersion(ctx, tx)
	})
	if err != nil {
		return Asset{}, err
	}
	return a, nil
}

// checkHostnameFree returns ErrAssetConflict when an asset other than id
// has the host name h.
func checkHostnameFree(ctx context.Context, tx *sql.Tx, h, id string) error {
	if h == "" {
		return nil
	}
	var other string
	err := tx.QueryRowContext(ctx, `SELECT id FROM assets WHERE hostname = ? AND id != ?`, h, id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("statedb: check host name %q: %w", h, err)
	}
	return fmt.Errorf("%w: host name %q belongs to asset %s", ErrAssetConflict, h, other)
}

// insertAsset stores a new, validated asset inside tx.
func insertAsset(ctx context.Context, tx *sql.Tx, a Asset) error {
	if err := checkHostnameFree(ctx, tx, a.Hostname, a.ID); err != nil {
		return err
	}
	tags, expected := jsonList(a.Tags), jsonList(a.ExpectedSources)
	_, err := tx.ExecContext(ctx, `INSERT INTO assets (id, hostname, mac, owner, role, criticality, tags,
	expected_sources, notes, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Hostname, a.MAC, a.Owner, a.Role, a.Criticality, tags, expected, a.Notes,
		nsOf(a.Created), nsOf(a.Updated))
	if err != nil {
		return fmt.Errorf("statedb: insert asset %s: %w", a.ID, err)
	}
	return insertAddresses(ctx, tx, a)
}

// updateAsset rewrites a validated asset's row and addresses inside tx.
func updateAsset(ctx context.Context, tx *sql.Tx, a Asset) error {
	if err := checkHostnameFree(ctx, tx, a.Hostname, a.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE assets SET hostname = ?, mac = ?, owner = ?, role = ?,
	criticality = ?, tags = ?, expected_sources = ?, notes = ?, updated = ? WHERE id = ?`,
		a.Hostname, a.MAC, a.Owner, a.Role, a.Criticality, jsonList(a.Tags), jsonList(a.ExpectedSources),
		a.Notes, nsOf(a.Updated), a.ID)
	if err != nil {
		return fmt.Errorf("statedb: update asset %s: %w", a.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM asset_addresses WHERE asset_id = ?`, a.ID); err != nil {
		return fmt.Errorf("statedb: update asset %s addresses: %w", a.ID, err)
	}
	return insertAddresses(ctx, tx, a)
}

// insertAddresses stores a's addresses in order inside tx.
func insertAddresses(ctx context.Context, tx *sql.Tx, a Asset) error {
	args := make([]any, 0, 3*len(a.Addresses))
	for i, addr := range a.Addresses {
		args = append(args, a.ID, addr, i)
	}
	if err := execMulti(ctx, tx, `INSERT INTO asset_addresses (asset_id, address, pos)`, "", 3, args); err != nil {
		return fmt.Errorf("statedb: store asset %s addresses: %w", a.ID, err)
	}
	return nil
}

// jsonList encodes a list of strings as a JSON array ("[]" for none).
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always encodes
	return string(b)
}
