package netsim

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

// FuzzGenerate checks that any options either fail validation with an
// error or give a stream whose records are ordered, map through the Zeek
// mapper and have a flow view (but ssl records without a server name).
func FuzzGenerate(f *testing.F) {
	f.Add(uint64(1), 30, 3, 1, 2000, 1.0, 0)
	f.Add(uint64(99), 60, 10, 8, 50, 0.3, 600)
	f.Add(uint64(0), 29, 0, -1, 0, -1.0, -30)
	f.Add(uint64(7), 200, 2, 2, 60000, 100.0, 1440)
	f.Fuzz(func(t *testing.T, seed uint64, hosts, days, attack, sites int, scale float64, tzMinutes int) {
		if hosts > 500 || days > 3 {
			t.Skip("bounded to keep each input fast")
		}
		start := time.Date(2026, 10, 24, 0, 0, 0, 0, time.FixedZone("sim", (tzMinutes%1440)*60))
		g, err := New(Options{Start: start, Seed: seed, Hosts: hosts, Days: days, AttackDay: attack, Sites: sites,
			BrowseScale: scale})
		if err != nil {
			return
		}
		m := zeek.NewMapper()
		var ev schema.Event
		var fr flow.Record
		var last time.Time
		for i := 0; i < 3000; i++ {
			r, ok := g.Next()
			if !ok {
				break
			}
			if err := m.Map(r.JSON, r.Log, time.Time{}, &ev); err != nil {
				t.Fatalf("record does not map: %v\n%s", err, r.JSON)
			}
			if r.Time.Before(last) || r.Time.Before(g.Start()) {
				t.Fatalf("record at %v after %v, run from %v", r.Time, last, g.Start())
			}
			last = r.Time
			if !flow.FromEvent(&ev, &fr) && r.Log != LogSSL {
				t.Fatalf("no flow view: %s", r.JSON)
			}
		}
	})
}
