package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
