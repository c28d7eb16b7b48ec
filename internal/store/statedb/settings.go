package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// GetSetting returns the value of the setting key, or ErrNotFound.
func (d *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("setting %q: %w", key, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("statedb: read setting %q: %w", key, err)
	}
	return v, nil
}

// SetSetting stores value under key, replacing any earlier value.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("statedb: empty setting key")
	}
	now := d.now()
	return d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, value, nsOf(now))
		if err != nil {
			return fmt.Errorf("statedb: store setting %q: %w", key, err)
		}
		return nil
	})
}
