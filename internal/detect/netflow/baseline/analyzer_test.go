package baseline

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// stepHost adds a host that sends 200 MB (4 × 50 MB) to dst at 14:00 every
// day and 5–10 MB in every other hour; on jumpDay at 14:00 it sends mult
// times the usual 14:00 volume instead.
func (g *gen) stepHost(host, dst netip.Addr, days, jumpDay, mult int) {
	hours(day(1), day(days+1), func(h time.Time) {
		if h.Hour() != 14 {
			g.add(h.Add(g.minute()), host, dst, 443, 5_000_000+g.rng.Int64N(5_000_000), 100_000)
			return
		}
		n := 4
		if h.YearDay() == day(jumpDay).YearDay() {
			n = 4 * mult
		}
		for i := range n {
			g.add(h.Add(time.Duration(i)*time.Minute), host, dst, 443, 50_000_000, 1_000_000)
		}
	})
}

// smallTalker opens 3 small connections an hour, and 15 at 14:00 on
// jumpDay.
func (g *gen) smallTalker(host, dst netip.Addr, days, jumpDay int) {
	hours(day(1), day(days+1), func(h time.Time) {
		n := 3
		if h.Hour() == 14 && h.YearDay() == day(jumpDay).YearDay() {
			n = 15
		}
		for range n {
			g.add(h.Add(g.minute()), host, dst, 443, 1_000_000, 200_000)
		}
	})
}

func TestDeviation(t *testing.T) {
	t.Parallel()
	g := newGen(1)
	const days = 12
	hosts := []struct {
		name    string
		host    netip.Addr
		jumpDay int
		mult    int
		talker  bool
		want    bool
	}{
		{"6x jump on day 9", ip("10.0.1.6"), 9, 6, false, true},
		{"6x jump inside learning", ip("10.0.1.5"), 5, 6, false, false},
		{"3x jump is below min_factor", ip("10.0.1.7"), 9, 3, false, false},
		{"3 to 15 connections is below min_current", ip("10.0.1.8"), 9, 5, true, false},
	}
	for i, h := range hosts {
		dst := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)})
		if h.talker {
			g.smallTalker(h.host, dst, days, h.jumpDay)
		} else {
			g.stepHost(h.host, dst, days, h.jumpDay, h.mult)
		}
	}
	e := newEngine(t, DefaultConfig())
	e.run(g.sorted(), time.Time{})
	e.flush(day(days + 1))
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			got := signalsFor(e.sigs, h.host, flow.SignalBaseline)
			if !h.want {
				if len(got) > 0 {
					t.Fatalf("want no deviation, got %+v", got[0])
				}
				return
			}
			i := slices.IndexFunc(got, func(s flow.Signal) bool { return s.Metric == MetricBytesOut })
			if i < 0 {
				t.Fatalf("no bytes_out deviation among %d signals", len(got))
			}
			checkJump(t, got[i], h.host)
		})
	}
}

func checkJump(t *testing.T, s flow.Signal, host netip.Addr) {
	t.Helper()
	start := at(9, 14, 0)
	if !s.Start.Equal(start) || !s.End.Equal(start.Add(time.Hour)) {
		t.Errorf("window [%v, %v), want [%v, +1h)", s.Start, s.End, start)
	}
	if s.Current != 1.2e9 {
		t.Errorf("current %v, want 1.2e9", s.Current)
	}
	if math.Abs(s.Baseline-2e8)/2e8 > 5e-4 {
		t.Errorf("baseline %v, want 2e8 (within the 0.05%% storage error)", s.Baseline)
	}
	if math.Abs(s.Factor-6) > 0.01 {
		t.Errorf("factor %v, want 6", s.Factor)
	}
	if fact(s, "weeks_of_history") != "1" || fact(s, "mad") != "0" || fact(s, "k") != "5" {
		t.Errorf("facts %+v", s.Facts)
	}
	if s.Key != "baseline|"+host.String()+"|bytes_out" || s.Host != host || s.Kind != flow.SignalBaseline {
		t.Errorf("key %q host %v kind %q", s.Key, s.Host, s.Kind)
	}
	if len(s.Evidence) == 0 || len(s.Evidence) > maxEvidence || !slices.Contains(s.Tags, "attack.t1048") {
		t.Errorf("evidence %v tags %v", s.Evidence, s.Tags)
	}
	if s.Severity != schema.SeverityLow {
		t.Errorf("severity %v, want low for a 6x jump", s.Severity)
	}
	if !strings.Contains(s.Title, "1.2 GB") || !strings.Contains(s.Title, "6.0×") {
		t.Errorf("title %q", s.Title)
	}
}

// weeklyHost is busy on weekdays 08–18 (about 300 connections to 60–80
// external addresses, 300 MB out) and nearly silent otherwise.
func (g *gen) weeklyHost(host netip.Addr, from, to time.Time) {
	hours(from, to, func(h time.Time) {
		wd := h.Weekday()
		if wd == time.Saturday || wd == time.Sunday || h.Hour() < 8 || h.Hour() >= 18 {
			for range 5 {
				g.add(h.Add(g.minute()), host, commonDst(g.rng.IntN(20)), 443, 200_000, 400_000)
			}
			return
		}
		n := 250 + g.rng.IntN(100)
		per := g.vary(300_000_000, 0.2) / int64(n)
		ndst := 60 + g.rng.IntN(20)
		for range n {
			d := g.rng.IntN(ndst)
			dst := netip.AddrFrom4([4]byte{198, 51, byte(100 + d/250), byte(1 + d%250)})
			g.add(h.Add(g.minute()), host, dst, uint16(443+g.rng.IntN(3)), per, 3*per)
		}
	})
}

func TestWeeklyPatternMondayMorning(t *testing.T) {
	t.Parallel()
	g := newGen(2)
	host := ip("10.0.2.7")
	// Three weeks from a Wednesday, so the learning period ends midweek and
	// the first Monday after it has a single weekly sample.
	g.weeklyHost(host, day(3), day(24))
	e := newEngine(t, DefaultConfig())
	e.run(g.sorted(), time.Time{})
	e.flush(day(24))
	if got := signalsFor(e.sigs, host, ""); len(got) > 0 {
		t.Fatalf("want no signal, got %d, first %s", len(got), got[0].Title)
	}
	// The Mondays were judged against a real baseline.
	pts := e.a.Baseline(host, MetricConnections)
	if len(pts) != 168 {
		t.Fatalf("%d points", len(pts))
	}
	for _, p := range pts {
		if p.Start.Equal(at(22, 9, 0)) {
			if p.Weeks < 2 || p.Baseline < 250 || p.AlertAbove <= p.Baseline || !p.Known || p.Actual < 250 {
				t.Fatalf("Monday 09:00: %+v", p)
			}
			return
		}
	}
	t.Fatal("Monday 09:00 of week 4 not among the points")
}
