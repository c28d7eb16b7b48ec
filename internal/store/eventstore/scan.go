package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-soc/vigil/internal/query"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Scan calls fn for every event in [from, to) that matches q (in Vigil's
// query language; "" matches all), partition by partition in time order,
// without paging: it is for background work that reads many events (the
// threat-intel retro-hunt). Events within a partition come in no set
// order. fn's event is valid only during the call; an error from fn stops
// the scan and is returned.
func (s *Store) Scan(ctx context.Context, from, to time.Time, q string, fn func(*schema.Event) error) error {
	cq, err := query.Compile(q, s.mapping)
	if err != nil {
		return fmt.Errorf("eventstore: scan: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("eventstore: scan: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only transaction
	parts, err := partitions(ctx, tx, from, to, true)
	if err != nil {
		return fmt.Errorf("eventstore: scan: %w", err)
	}
	vals := make([]any, s.layout.width)
	ptrs := make([]any, s.layout.width)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	dec := &decoder{}
	for _, p := range parts {
		cond, args := where(from, to, cq, nil, true)
		rows, err := tx.QueryContext(ctx, "SELECT "+s.layout.selectList()+" FROM "+p+" WHERE "+cond, args...)
		if err != nil {
			return fmt.Errorf("eventstore: scan %s: %w", p, err)
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("eventstore: scan %s: %w", p, err)
			}
			e, err := s.layout.event(vals, dec)
			if err == nil {
				err = fn(&e)
			}
			if err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("eventstore: scan %s: %w", p, err)
		}
	}
	return nil
}
