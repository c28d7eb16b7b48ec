package risk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// AlertSource returns open alerts (statedb.DB implements it).
type AlertSource interface {
	OpenAlertsSince(ctx context.Context, since time.Time, limit int) ([]schema.Alert, error)
}

// Service computes host risk from the stored alerts on request, so the
// ranking always reflects the alerts' current status.
type Service struct {
	Alerts AlertSource
	// Assets returns the current asset lookup (it may change); nil or a
	// nil result means no inventory.
	Assets func() AssetLookup
	// Window is how far back open alerts count (default 30 days).
	Window  time.Duration
	Options Options
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// maxRiskAlerts bounds the alerts one ranking reads.
const maxRiskAlerts = 200_000

// Hosts ranks every host with open alerts, highest risk first.
func (s *Service) Hosts(ctx context.Context) ([]HostRisk, error) {
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now()
	}
	win := s.Window
	if win <= 0 {
		win = 30 * 24 * time.Hour
	}
	alerts, err := s.Alerts.OpenAlertsSince(ctx, now.Add(-win), maxRiskAlerts)
	if err != nil {
		return nil, fmt.Errorf("risk: %w", err)
	}
	var assets AssetLookup
	if s.Assets != nil {
		assets = s.Assets()
	}
	return Compute(alerts, assets, now, s.Options), nil
}

// Host returns one host's risk by its name, one of its aliases (an
// address or host name its alerts carry), its asset id, or any name or
// address of its asset.
func (s *Service) Host(ctx context.Context, id string) (HostRisk, bool, error) {
	all, err := s.Hosts(ctx)
	if err != nil {
		return HostRisk{}, false, err
	}
	var as schema.Asset
	if s.Assets != nil {
		if l := s.Assets(); l != nil {
			as, _ = l.AssetFor(id)
		}
	}
	for _, h := range all {
		if h.Host == id || (h.AssetID != "" && h.AssetID == id) || slices.Contains(h.Aliases, id) ||
			(as.Name != "" && h.Host == as.Name) {
			return h, true, nil
		}
	}
	return HostRisk{}, false, nil
}

// ErrBadSort is returned by SortHosts for an unknown order.
var ErrBadSort = errors.New("sort: want risk, name or last_seen")

// SortHosts orders hosts by risk (as Hosts returns them; "" too), name or
// last_seen (newest first).
func SortHosts(hs []HostRisk, by string) error {
	switch by {
	case "", "risk":
	case "name":
		slices.SortFunc(hs, func(a, b HostRisk) int { return strings.Compare(a.Host, b.Host) })
	case "last_seen":
		slices.SortFunc(hs, func(a, b HostRisk) int {
			return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Host, b.Host))
		})
	default:
		return ErrBadSort
	}
	return nil
}
