package scan

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// span adds one flow record from src:sport to dst:dport lasting d.
func (g *gen) span(at time.Time, d time.Duration, src netip.Addr, sport uint16, dst netip.Addr, dport uint16) *flow.Record {
	r := g.conn(at, src, dst, dport, tcp, est)
	r.SrcPort, r.End = sport, at.Add(d)
	return r
}

// chunks adds a connection lasting total, cut into records of chunk as a
// flow exporter with that active timeout would, in both directions.
func (g *gen) chunks(at time.Time, total, chunk time.Duration, cl netip.Addr, cport uint16, sv netip.Addr, sport uint16) {
	for off := time.Duration(0); off < total; off += chunk {
		d := min(chunk, total-off)
		g.span(at.Add(off), d, cl, cport, sv, sport)
		g.span(at.Add(off+time.Second), d-time.Second, sv, sport, cl, cport)
	}
}

type wantLong struct {
	key   string
	n     int // signals
	sev   schema.Severity
	fact  string // "key=value" that must hold in the first signal
	title string // substring of the first title
}

func TestLongConnections(t *testing.T) {
	t.Parallel()
	ws, c2, web := addr("10.0.5.7"), addr("203.0.113.66"), addr("198.51.100.10")
	cases := []struct {
		name  string
		build func(g *gen)
		mod   func(*LongConfig)
		want  []wantLong
	}{
		{"one zeek record of three hours", func(g *gen) {
			g.span(t0, 3*time.Hour, ws, 50000, c2, 4444)
		}, nil, []wantLong{{"long_connection|10.0.5.7|203.0.113.66|tcp/4444", 1, schema.SeverityLow,
			"direction=outbound: the internal host opened it", "10.0.5.7 -> 203.0.113.66:4444/tcp open for 3h"}}},
		{"exporter chunks joined, signalled at 1h and 2h", func(g *gen) {
			g.chunks(t0, 150*time.Minute, 30*time.Minute, ws, 50001, c2, 8443)
		}, nil, []wantLong{{"long_connection|10.0.5.7|203.0.113.66|tcp/8443", 2, schema.SeverityLow,
			"records joined=3", "open for 1h"}}},
		{"five hours is medium; thresholds crossed within one batch signal once", func(g *gen) {
			g.chunks(t0, 5*time.Hour, time.Hour, ws, 50002, c2, 8443)
		}, nil, []wantLong{{"long_connection|10.0.5.7|203.0.113.66|tcp/8443", 2, schema.SeverityLow, "", "open for 2h"}}},
		{"idle gap longer than the stitch gap splits it", func(g *gen) {
			g.span(t0, 40*time.Minute, ws, 50003, c2, 22)
			g.span(t0.Add(50*time.Minute), 40*time.Minute, ws, 50003, c2, 22)
		}, nil, nil},
		{"short connections", func(g *gen) {
			for i := range 200 {
				g.span(t0.Add(time.Duration(i)*time.Minute), 30*time.Second, ws, uint16(40000+i), web, 443)
			}
		}, nil, nil},
		{"allow-listed port", func(g *gen) {
			g.span(t0, 3*time.Hour, ws, 50004, web, 5228)
		}, func(c *LongConfig) { c.AllowPorts = []uint16{5228} }, nil},
		{"allow-listed peer", func(g *gen) {
			g.span(t0, 3*time.Hour, ws, 50004, web, 5228)
		}, func(c *LongConfig) { c.AllowCIDRs = []string{"198.51.100.0/24"} }, nil},
		{"internal pair ignored by default", func(g *gen) {
			g.span(t0, 3*time.Hour, ws, 50005, addr("10.0.1.1"), 445)
		}, nil, nil},
		{"internal pair when asked", func(g *gen) {
			g.span(t0, 3*time.Hour, ws, 50005, addr("10.0.1.1"), 445)
		}, func(c *LongConfig) { c.Internal = true }, []wantLong{{"long_connection|10.0.5.7|10.0.1.1|tcp/445", 1,
			schema.SeverityLow, "", ""}}},
		{"inbound session to an internal server", func(g *gen) {
			g.span(t0, 2*time.Hour, c2, 51000, addr("10.0.0.22"), 22)
		}, nil, []wantLong{{"long_connection|10.0.0.22|203.0.113.66|tcp/22", 1, schema.SeverityLow,
			"direction=inbound: the peer opened it", "203.0.113.66 -> 10.0.0.22:22/tcp"}}},
		{"record the sensor saw the wrong way round", func(g *gen) {
			g.span(t0, 75*time.Minute, addr("74.125.133.188"), 5228, ws, 35874)
		}, nil, []wantLong{{"long_connection|10.0.5.7|74.125.133.188|tcp/5228", 1, schema.SeverityLow,
			"direction=outbound: the internal host opened it", "10.0.5.7 -> 74.125.133.188:5228/tcp"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &gen{rnd: 3}
			tc.build(g)
			sortRecs(g.recs)
			cfg := DefaultLongConfig()
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			l, err := NewLongConn(cfg, internalSet(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := byKey(run(l, g.recs, 3))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %d keys", sortedKeys(got), len(tc.want))
			}
			for _, w := range tc.want {
				checkLong(t, got[w.key], w)
			}
		})
	}
}

func checkLong(t *testing.T, ss []flow.Signal, w wantLong) {
	t.Helper()
	if len(ss) != w.n {
		t.Fatalf("%s: %d signals, want %d: %v", w.key, len(ss), w.n, titles(ss))
	}
	s := ss[0]
	if s.Kind != flow.SignalLongConn || s.Severity != w.sev || len(s.Evidence) == 0 || s.Current < 3600 {
		t.Errorf("%s: %+v", w.key, s)
	}
	if w.title != "" && !strings.Contains(s.Title, w.title) {
		t.Errorf("title %q, want %q", s.Title, w.title)
	}
	if k, v, ok := strings.Cut(w.fact, "="); ok && fact(s, k) != v {
		t.Errorf("fact %s = %q, want %q", k, fact(s, k), v)
	}
	if last := ss[len(ss)-1]; last.Current >= 4*3600 && last.Severity != schema.SeverityMedium {
		t.Errorf("%s: %v after %vs, want medium", w.key, last.Severity, last.Current)
	}
	for i := 1; i < len(ss); i++ {
		if ss[i].Current < 2*ss[i-1].Current*0.99 {
			t.Errorf("signal %d at %vs after %vs: not doubled", i, ss[i].Current, ss[i-1].Current)
		}
	}
}

func TestLongConnRarePeer(t *testing.T) {
	t.Parallel()
	prev := flow.NewPrevalence(7, 64)
	for i := range 20 {
		prev.Observe(nth("10.0.6.1", i), addr("198.51.100.10"), "", t0)
	}
	prev.Observe(addr("10.0.5.7"), addr("203.0.113.66"), "", t0)
	l, err := NewLongConn(DefaultLongConfig(), internalSet(t), prev)
	if err != nil {
		t.Fatal(err)
	}
	g := &gen{}
	g.span(t0, 90*time.Minute, addr("10.0.5.7"), 50000, addr("203.0.113.66"), 4444)
	g.span(t0, 90*time.Minute, addr("10.0.6.1"), 50000, addr("198.51.100.10"), 443)
	got := byKey(run(l, g.recs, 1))
	rare, common := got["long_connection|10.0.5.7|203.0.113.66|tcp/4444"], got["long_connection|10.0.6.1|198.51.100.10|tcp/443"]
	if len(rare) != 1 || len(common) != 1 {
		t.Fatalf("got %v", sortedKeys(got))
	}
	if rare[0].Severity != schema.SeverityMedium || common[0].Severity != schema.SeverityLow {
		t.Errorf("rare %v, common %v", rare[0].Severity, common[0].Severity)
	}
	if v := fact(rare[0], "internal hosts talking to the peer"); v != "1 of 21" {
		t.Errorf("prevalence fact %q", v)
	}
}

func TestLongConfigValidate(t *testing.T) {
	t.Parallel()
	bad := LongConfig{MinDuration: time.Second, StitchGap: -1, MinChunk: time.Hour, AllowPorts: []uint16{0},
		AllowCIDRs: []string{"nonsense"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"min_duration", "stitch_gap", "min_chunk", "max_sessions", "allow_ports", "allow_cidrs"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	def := DefaultLongConfig()
	if err := def.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
