package statedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-soc/vigil/internal/schema"
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

// FieldError is one invalid field of an asset.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Limits on asset fields.
const (
	maxHostname   = 253
	maxAssetText  = 1024
	maxAssetNotes = 16 << 10
	maxAssetList  = 256
)

// ValidateAsset returns a normalised copy of a (see Asset) or an error
// wrapping ErrInvalidAsset that names every invalid field.
func ValidateAsset(a Asset) (Asset, error) {
	out, errs := normaliseAsset(a)
	if len(errs) == 0 {
		return out, nil
	}
	parts := make([]string, len(errs))
	for i := range errs {
		parts[i] = errs[i].Error()
	}
	return out, fmt.Errorf("%w: %s", ErrInvalidAsset, strings.Join(parts, "; "))
}

// normaliseAsset trims and canonicalises a's fields and reports the invalid
// ones.
func normaliseAsset(a Asset) (Asset, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	a.Hostname = strings.TrimSpace(a.Hostname)
	if err := checkHostname(a.Hostname); err != nil {
		bad("hostname", "%v", err)
	}
	a.Addresses = normaliseList(a.Addresses, "addresses", NormalizeAddress, bad)
	if a.Hostname == "" && len(a.Addresses) == 0 {
		bad("hostname", "an asset needs a host name or at least one address")
	}
	var err error
	if a.MAC, err = NormalizeMAC(a.MAC); err != nil {
		bad("mac", "%v", err)
	}
	if a.Criticality, err = ParseCriticality(a.Criticality); err != nil {
		bad("criticality", "%v", err)
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"owner", &a.Owner, maxAssetText}, {"role", &a.Role, maxAssetText}, {"notes", &a.Notes, maxAssetNotes}} {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > f.max {
			bad(f.name, "longer than %d bytes", f.max)
		}
	}
	a.Tags = normaliseList(a.Tags, "tags", normaliseTag, bad)
	a.ExpectedSources = normaliseList(a.ExpectedSources, "expected_sources", NormalizeExpectedSource, bad)
	return a, errs
}

// normaliseList normalises each entry of list with norm, drops empty ones
// and duplicates (ignoring case), and reports bad entries. It never returns
// nil.
func normaliseList(list []string, field string, norm func(string) (string, error),
	bad func(field, format string, args ...any)) []string {
	out := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		n, err := norm(strings.TrimSpace(v))
		if err != nil {
			bad(field, "%v", err)
			continue
		}
		if n == "" || seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		out = append(out, n)
	}
	if len(out) > maxAssetList {
		bad(field, "more than %d entries", maxAssetList)
	}
	return out
}

// checkHostname reports whether h can be a host name: at most 253 bytes,
// no spaces, control characters or separators.
func checkHostname(h string) error {
	if len(h) > maxHostname {
		return fmt.Errorf("longer than %d bytes", maxHostname)
	}
	for _, r := range h {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == ';' || r == '/' {
			return fmt.Errorf("%q contains %q, not allowed in a host name", h, r)
		}
	}
	return nil
}

// ParseCriticality returns the canonical criticality of s (case and spaces
// ignored): low, medium, high or critical; empty means medium.
func ParseCriticality(s string) (string, error) {
	switch c := strings.ToLower(strings.TrimSpace(s)); c {
	case "":
		return CriticalityMedium, nil
	case CriticalityLow, CriticalityMedium, CriticalityHigh, CriticalityCritical:
		return c, nil
	}
	return "", fmt.Errorf("criticality %q must be low, medium, high or critical", s)
}

// CriticalityRank orders criticalities: low 1, medium 2, high 3, critical
// 4, anything else 0.
func CriticalityRank(c string) int {
	switch c {
	case CriticalityLow:
		return 1
	case CriticalityMedium:
		return 2
	case CriticalityHigh:
		return 3
	case CriticalityCritical:
		return 4
	}
	return 0
}

// NormalizeAddress returns the canonical form of an IP address or CIDR:
// IPv4-mapped IPv6 as IPv4, a full-length prefix as the plain address. A
// CIDR with host bits set ("10.0.0.5/24") and zoned addresses are errors.
// An empty s gives an empty result.
func NormalizeAddress(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		return a.Unmap().String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
		p = netip.PrefixFrom(addr, bits)
	}
	if p.Masked() != p {
		return "", fmt.Errorf("%q has host bits set: write the address %s or the network %s", s, addr, p.Masked())
	}
	if bits == addr.BitLen() {
		return addr.String(), nil
	}
	return p.String(), nil
}

// NormalizeMAC returns a MAC address in lower-case colon form; empty stays
// empty.
func NormalizeMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a MAC address", s)
	}
	return hw.String(), nil
}

// normaliseTag checks one tag.
func normaliseTag(s string) (string, error) {
	if len(s) > 128 {
		return "", fmt.Errorf("tag %q is longer than 128 bytes", s[:32]+"...")
	}
	if strings.ContainsAny(s, ",;\n\r\t") {
		return "", fmt.Errorf("tag %q contains a separator", s)
	}
	return s, nil
}

// expectedInputs are the input kinds an expected source may name.
var expectedInputs = []string{schema.InputSyslog, schema.InputNDJSON, schema.InputBulk, schema.InputZeek,
	schema.InputSuricata, schema.InputWinlogbeat, schema.InputEVTX, schema.InputNetflow}

// NormalizeExpectedSource checks an expected source, "input" or
// "input:stream" (see Asset), and returns it with the input in lower case.
func NormalizeExpectedSource(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	in, stream, qualified := strings.Cut(s, ":")
	in = strings.ToLower(in)
	if !slices.Contains(expectedInputs, in) {
		return "", fmt.Errorf("expected source %q: input %q must be one of %s", s, in,
			strings.Join(expectedInputs, ", "))
	}
	if !qualified {
		return in, nil
	}
	if stream == "" || strings.ContainsFunc(stream, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == ';'
	}) {
		return "", fmt.Errorf("expected source %q: the stream after %q must be a non-empty name without spaces", s, in+":")
	}
	return in + ":" + stream, nil
}

// ExpectedInput returns the input kind of an expected source
// ("winlogbeat:Security" gives "winlogbeat").
func ExpectedInput(s string) string {
	in, _, _ := strings.Cut(s, ":")
	return in
}

// sameAsset reports whether a and b hold the same inventory data (ID and
// times aside).
func sameAsset(a, b Asset) bool {
	return a.Hostname == b.Hostname && slices.Equal(a.Addresses, b.Addresses) && a.MAC == b.MAC &&
		a.Owner == b.Owner && a.Role == b.Role && a.Criticality == b.Criticality &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.ExpectedSources, b.ExpectedSources) && a.Notes == b.Notes
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

// ImportKey says how ImportAssets finds the existing asset a row updates.
type ImportKey string

// Import keys.
const (
	// ImportByHostname matches rows to assets by host name (ignoring
	// case); a row without one is matched by its first address.
	ImportByHostname ImportKey = "hostname"
	// ImportByAddress matches rows to the asset holding the row's first
	// address; a row without addresses is matched by host name.
	ImportByAddress ImportKey = "address"
)

// ImportResult counts what ImportAssets did, with the rows it refused.
type ImportResult struct {
	Created   int           `json:"created"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Errors    []ImportError `json:"errors,omitempty"`
}

// ImportError is one refused field or row of an import.
type ImportError struct {
	// Row is the row's index in the slice given to ImportAssets.
	Row int `json:"row"`
	// Field is the invalid field, empty for a problem of the whole row.
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ImportAssets applies rows to the inventory in one transaction, in order:
// a row matching an existing asset by key (see ImportKey) patches it
// (fields the row does not set are kept), any other row creates an asset.
// A row with an invalid field, with neither host name nor address,
// matching several assets by address, or taking another asset's host name
// is refused and reported in the result's Errors; the other rows are still
// applied. The error is for failures of the database itself, which apply
// nothing.
func (d *DB) ImportAssets(ctx context.Context, rows []AssetPatch, key ImportKey) (ImportResult, error) {
	if key != ImportByHostname && key != ImportByAddress {
		return ImportResult{}, fmt.Errorf("%w: import key %q must be hostname or address", ErrInvalidAsset, key)
	}
	var res ImportResult
	err := d.write(ctx, func(tx *sql.Tx) error {
		res = ImportResult{}
		now := d.now().UTC()
		for i := range rows {
			if err := d.importRow(ctx, tx, i, rows[i], key, now, &res); err != nil {
				return err
			}
		}
		if res.Created+res.Updated == 0 {
			return nil
		}
		return bumpAssetsVersion(ctx, tx)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importRow applies row i inside tx under a savepoint, so that a refused
// row leaves nothing behind, and counts the outcome in res. Its error
// aborts the import.
func (d *DB) importRow(ctx context.Context, tx *sql.Tx, i int, row AssetPatch, key ImportKey, now time.Time,
	res *ImportResult) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT asset_row`); err != nil {
		return fmt.Errorf("statedb: import row %d: %w", i, err)
	}
	outcome, rowErrs, err := applyImportRow(ctx, tx, row, key, now)
	if err == nil && len(rowErrs) == 0 {
		if _, err := tx.ExecContext(ctx, `RELEASE asset_row`); err != nil {
			return fmt.Errorf("statedb: import row %d: %w", i, err)
		}
		*outcome(res)++
		return nil
	}
	if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO asset_row; RELEASE asset_row`); rbErr != nil {
		return fmt.Errorf("statedb: import row %d: undo: %w", i, rbErr)
	}
	if err != nil && !errors.Is(err, ErrAssetConflict) {
		return fmt.Errorf("statedb: import row %d: %w", i, err)
	}
	if err != nil {
		rowErrs = append(rowErrs, FieldError{Field: "hostname", Reason: strings.TrimPrefix(err.Error(), "statedb: ")})
	}
	for _, fe := range rowErrs {
		res.Errors = append(res.Errors, ImportError{Row: i, Field: fe.Field, Reason: fe.Reason})
	}
	return nil
}

// applyImportRow finds the asset row matches by key and patches it, or
// creates one. It returns which counter to increment, the row's field
// errors (nothing written), or an error (a conflict or a database failure).
func applyImportRow(ctx context.Context, tx *sql.Tx, row AssetPatch, key ImportKey,
	now time.Time) (func(*ImportResult) *int, []FieldError, error) {
	id, by, ferrs, err := matchImportRow(ctx, tx, row, key)
	if err != nil || len(ferrs) > 0 {
		return nil, ferrs, err
	}
	var before Asset
	if id != "" {
		if before, err = getAsset(ctx, tx, id); err != nil {
			return nil, nil, err
		}
		if by == ImportByHostname {
			row.Hostname = &before.Hostname // matched ignoring case: keep the stored spelling
		}
	}
	after, errs := normaliseAsset(row.Apply(before))
	if len(errs) > 0 {
		return nil, errs, nil
	}
	if id != "" && sameAsset(before, after) {
		return func(r *ImportResult) *int { return &r.Unchanged }, nil, nil
	}
	after.Updated = now
	if id != "" {
		return func(r *ImportResult) *int { return &r.Updated }, nil, updateAsset(ctx, tx, after)
	}
	after.ID, after.Created = newID(now), now
	return func(r *ImportResult) *int { return &r.Created }, nil, insertAsset(ctx, tx, after)
}

// matchImportRow returns the ID of the asset row matches, "" when none
// does, and what it was matched by: key, or the other field when the row
// lacks key's. It reports a row with neither, or matching several assets.
func matchImportRow(ctx context.Context, tx *sql.Tx, row AssetPatch, key ImportKey) (string, ImportKey, []FieldError, error) {
	var host, addr string
	if row.Hostname != nil {
		host = strings.TrimSpace(*row.Hostname)
	}
	if row.Addresses != nil && len(*row.Addresses) > 0 {
		n, err := NormalizeAddress(strings.TrimSpace((*row.Addresses)[0]))
		if err != nil {
			return "", key, []FieldError{{Field: "addresses", Reason: err.Error()}}, nil
		}
		addr = n
	}
	by := key
	if key == ImportByHostname && host == "" {
		by = ImportByAddress
	} else if key == ImportByAddress && addr == "" {
		by = ImportByHostname
	}
	q, v := `SELECT id FROM assets WHERE hostname = ?`, host
	if by == ImportByAddress {
		q, v = `SELECT DISTINCT asset_id FROM asset_addresses WHERE address = ?`, addr
	}
	if v == "" {
		return "", by, []FieldError{{Field: "hostname", Reason: "empty, and the row has no address either: " +
			"a row needs a host name or an address"}}, nil
	}
	ids, err := queryStrings(ctx, tx, q, v)
	if err != nil {
		return "", by, nil, fmt.Errorf("statedb: match %s %q: %w", by, v, err)
	}
	switch len(ids) {
	case 0:
		return "", by, nil, nil
	case 1:
		return ids[0], by, nil, nil
	}
	return "", by, []FieldError{{Field: "addresses", Reason: fmt.Sprintf(
		"%s matches %d assets (%s); give the row a host name and import by host name", v, len(ids), strings.Join(ids, ", "))}}, nil
}

// queryStrings returns the first column of a query's rows.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
