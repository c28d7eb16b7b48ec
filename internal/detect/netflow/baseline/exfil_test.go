package baseline

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// office adds n workstations 10.0.1.10, 10.0.1.11, ...
func (g *gen) office(n int, from, to time.Time) {
	for i := range n {
		g.workstation(netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)}), from, to)
	}
}

// server adds the file server's own traffic (update checks to a common
// CDN address) and its nightly backup to dst: 50 GB ±10% in two flows at
// 02:05 and 02:40, and on every third night 5 GB more at 03:10 when the
// backup runs long.
func (g *gen) server(server, dst netip.Addr, days int) {
	hours(day(1), day(days+1), func(h time.Time) {
		for range 2 {
			g.add(h.Add(g.minute()), server, commonDst(3), 443, g.vary(1_000_000, 0.3), g.vary(20_000_000, 0.3))
		}
		if h.Hour() != 2 {
			return
		}
		total := g.vary(50_000_000_000, 0.1)
		g.add(h.Add(5*time.Minute), server, dst, 873, total*6/10, 50_000_000)
		g.add(h.Add(40*time.Minute), server, dst, 873, total*4/10, 30_000_000)
		if h.YearDay()%3 == 0 {
			g.add(h.Add(70*time.Minute), server, dst, 873, 5_000_000_000, 5_000_000)
		}
	})
}

type backupCase struct {
	name    string
	backup  netip.Addr
	exfilAt time.Time // zero: no exfiltration
}

// backupDays is the length of the backup scenarios.
const backupDays = 14

// buildBackup adds the office, the file server with its backup and, when
// the case says so, the exfiltration.
func buildBackup(g *gen, c backupCase) {
	server, thief := ip("10.0.0.10"), ip("203.0.113.66")
	g.office(30, day(1), day(backupDays+1))
	g.server(server, c.backup, backupDays)
	if !c.exfilAt.IsZero() {
		g.add(c.exfilAt, server, thief, 443, 20_000_000_000, 2_000_000)
	}
}

func runBackup(t testing.TB, c backupCase, restartAt []time.Time) *engine {
	g := newGen(3)
	buildBackup(g, c)
	return runScenario(t, g, restartAt, day(backupDays+1))
}

// runScenario feeds the generated records through an engine, restarting
// it from saved state at each of restartAt, and flushes at end.
func runScenario(t testing.TB, g *gen, restartAt []time.Time, end time.Time) *engine {
	recs := g.sorted()
	e := newEngine(t, DefaultConfig())
	for _, r := range restartAt {
		e.run(recs, r)
		e.restart()
	}
	e.run(recs, time.Time{})
	e.flush(end)
	return e
}

func TestBackupAndExfil(t *testing.T) {
	t.Parallel()
	server, thief := ip("10.0.0.10"), ip("203.0.113.66")
	cases := []backupCase{
		{"nightly backup to an internal server", ip("10.0.9.9"), time.Time{}},
		{"nightly backup to an external server", ip("198.51.100.20"), time.Time{}},
		{"20 GB to a new address at 03:00, internal backup", ip("10.0.9.9"), at(12, 3, 20)},
		{"20 GB to a new address at 03:00, external backup", ip("198.51.100.20"), at(12, 3, 20)},
		{"20 GB to a new address inside the backup hour", ip("198.51.100.20"), at(12, 2, 30)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := runBackup(t, c, nil)
			if c.exfilAt.IsZero() {
				for _, s := range e.sigs {
					if s.Host == server || s.Host == c.backup || s.Severity >= schema.SeverityHigh {
						t.Errorf("unexpected signal: %s (%v)", s.Title, s.Severity)
					}
				}
				return
			}
			hour := c.exfilAt.Truncate(time.Hour)
			var found bool
			for _, s := range e.sigs {
				if s.Kind == flow.SignalExfil && s.Peer == thief {
					found = true
					checkExfil(t, s, server, hour)
				} else if s.Severity >= schema.SeverityHigh && (s.Host != server || !s.Start.Equal(hour)) {
					t.Errorf("unexpected high signal: %s", s.Title)
				}
				if s.Kind == flow.SignalExfil && s.Peer == c.backup {
					t.Errorf("the backup raised exfiltration: %s", s.Title)
				}
			}
			if !found {
				t.Fatalf("no exfiltration signal among %d signals", len(e.sigs))
			}
		})
	}
}

func checkExfil(t *testing.T, s flow.Signal, server netip.Addr, hour time.Time) {
	t.Helper()
	if s.Host != server || !s.Start.Equal(hour) || !s.End.Equal(hour.Add(time.Hour)) {
		t.Errorf("host %v window %v–%v", s.Host, s.Start, s.End)
	}
	if s.Severity != schema.SeverityHigh {
		t.Errorf("severity %v, want high: %s", s.Severity, s.Title)
	}
	if s.Current != 20e9 || s.Metric != MetricUnexplained || s.Baseline < 25e6 || s.Factor < 100 {
		t.Errorf("metric %s current %v baseline %v factor %v", s.Metric, s.Current, s.Baseline, s.Factor)
	}
	if fact(s, "rare_weight") != "2" || fact(s, "off_hours_weight") != "1.5" ||
		!strings.HasPrefix(fact(s, "off_hours"), "true") || fact(s, "pair_usual_max") != "0" {
		t.Errorf("facts %+v", s.Facts)
	}
	if s.Key != "exfil|10.0.0.10|203.0.113.66" || len(s.Evidence) != 1 {
		t.Errorf("key %q evidence %v", s.Key, s.Evidence)
	}
}

// burst adds a company-wide update: every workstation downloads 500 MB
// from one CDN address in the same hour.
func (g *gen) burst(n int, hour time.Time, cdn netip.Addr) {
	for i := range n {
		host := netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)})
		g.add(hour.Add(g.minute()), host, cdn, 443, 12_000_000, 500_000_000)
	}
}

func TestUpdateBurstIsNotHigh(t *testing.T) {
	t.Parallel()
	const days = 12
	g := newGen(4)
	g.office(40, day(1), day(days+1))
	g.burst(40, at(10, 10, 0), commonDst(7))
	e := newEngine(t, DefaultConfig())
	e.run(g.sorted(), time.Time{})
	e.flush(day(days + 1))
	if high := highOrAbove(e.sigs); len(high) > 0 {
		t.Fatalf("%d high signals, first: %s", len(high), high[0].Title)
	}
	// The burst is visible, at medium at most.
	n := 0
	for _, s := range e.sigs {
		if s.Metric == MetricBytesIn && s.Start.Equal(at(10, 10, 0)) {
			n++
		}
	}
	if n < 40 {
		t.Errorf("%d bytes_in deviations for the burst hour, want the 40 hosts", n)
	}
}
