package intel

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// EventScanner streams stored events (eventstore.Store implements it).
type EventScanner interface {
	Scan(ctx context.Context, from, to time.Time, q string, fn func(*schema.Event) error) error
}

// AlertWriter stores alerts, grouping repeats (statedb.DB implements it).
type AlertWriter interface {
	UpsertAlerts(ctx context.Context, alerts []schema.Alert, window time.Duration) ([]schema.Alert, error)
}

// HuntStore hands out indicators not yet retro-hunted (statedb.DB).
type HuntStore interface {
	IntelUnhunted(ctx context.Context, limit int) ([]Indicator, error)
	MarkHunted(ctx context.Context, ins []Indicator) error
}

// RetroHunt searches the stored events of the last Days days for
// indicators that were added since the last hunt, and raises alerts marked
// retrospective for past contacts. An indicator's valid_from does not
// limit the hunt (the point is to find contacts made before it was
// published); revocation and valid_until still do.
type RetroHunt struct {
	Store  HuntStore
	Events EventScanner
	Alerts AlertWriter
	// Days is how far back to search; Window groups repeats as the
	// detection stage does.
	Days    int
	Window  time.Duration
	Metrics *Metrics
	// Prioritize, when set, refines each alert before it is stored, as
	// the detection stage does for live alerts.
	Prioritize func(*schema.Alert)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var _ Hunter = (*RetroHunt)(nil)

// huntBatch is how many new indicators one pass over the events hunts.
const huntBatch = 500000

// Hunt runs until every new indicator is hunted and returns how many
// alerts it raised or grew.
func (r *RetroHunt) Hunt(ctx context.Context) (int, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	total := 0
	for {
		ins, err := r.Store.IntelUnhunted(ctx, huntBatch)
		if err != nil || len(ins) == 0 {
			return total, err
		}
		t := now()
		b := NewBuilder()
		for i := range ins {
			ins[i].ValidFrom = time.Time{}
			b.Add(&ins[i], t)
		}
		n, err := r.pass(ctx, b.Build(), t.Add(-time.Duration(r.Days)*24*time.Hour), t)
		total += n
		if err != nil {
			return total, err
		}
		if err := r.Store.MarkHunted(ctx, ins); err != nil {
			return total, err
		}
		if len(ins) < huntBatch {
			return total, nil
		}
	}
}

// pass scans [from, to) once with m.
func (r *RetroHunt) pass(ctx context.Context, m *Matcher, from, to time.Time) (int, error) {
	var pending []schema.Alert
	var hits []Hit
	total := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if _, err := r.Alerts.UpsertAlerts(ctx, pending, r.Window); err != nil {
			return fmt.Errorf("intel: retro-hunt alerts: %w", err)
		}
		total += len(pending)
		pending = pending[:0]
		return nil
	}
	err := r.Events.Scan(ctx, from, to, "", func(ev *schema.Event) error {
		hits = m.Match(ev, hits[:0])
		for _, h := range hits {
			r.Metrics.hit(h.Source, true)
			a := AlertFor(ev, h, true)
			if r.Prioritize != nil {
				r.Prioritize(&a)
			}
			pending = append(pending, a)
		}
		if len(pending) >= 500 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("intel: retro-hunt: %w", err)
	}
	return total, flush()
}
