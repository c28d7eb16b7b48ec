package silence

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// t0 is a Monday; importedAt is when an import read the logs (days later,
// so the events are not live).
var (
	t0         = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	importedAt = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

// assets is an inventory keyed by host name.
type assets map[string]schema.Asset

func (a assets) AssetFor(host string) (schema.Asset, bool) {
	as, ok := a[host]
	return as, ok
}

// ev is an event of host × input at ts, received at recv.
func ev(host, input string, ts, recv time.Time) schema.Event {
	e := schema.Event{Timestamp: ts, Received: recv, Input: input}
	e.Host.Name = host
	return e
}

// steady returns events of a source every gap (± jitter) in [from, to).
func steady(rng *rand.Rand, host, input string, from, to time.Time, gap, jitter time.Duration) []schema.Event {
	var out []schema.Event
	for t := from; t.Before(to); {
		out = append(out, ev(host, input, t, importedAt))
		j := time.Duration(0)
		if jitter > 0 {
			j = time.Duration(rng.Int64N(int64(2*jitter))) - jitter
		}
		t = t.Add(gap + j)
	}
	return out
}

// merge orders the events of several sources by time, as an import of
// interleaved logs delivers them.
func merge(parts ...[]schema.Event) []schema.Event {
	var all []schema.Event
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.SortStableFunc(all, func(a, b schema.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	return all
}

// run feeds evs in batches and returns the alerts.
func run(d *Detector, evs []schema.Event, batch int) []schema.Alert {
	var out []schema.Alert
	for len(evs) > 0 {
		n := min(batch, len(evs))
		d.Detect(evs[:n], func(a schema.Alert) { out = append(out, a) })
		evs = evs[n:]
	}
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func mustDur(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}
