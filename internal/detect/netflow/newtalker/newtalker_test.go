package newtalker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// t0 is the start of the synthetic traffic: a Monday 00:00 UTC.
var t0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

const (
	tcp = flow.ProtoTCP
	udp = flow.ProtoUDP
	day = 24 * time.Hour
)

var (
	dc    = netip.MustParseAddr("10.0.0.10")
	db    = netip.MustParseAddr("10.0.0.20")
	admin = netip.MustParseAddr("10.0.9.9")
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ws(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 5, byte(1 + i)}) }

func testConfig() Config {
	c := DefaultConfig()
	c.Sensitive = []Asset{
		{Address: "10.0.0.10", Name: "dc01", Role: "domain_controller"},
		{Address: "10.0.0.20", Name: "db01", Role: "database"},
		{Address: "10.0.0.30/31", Role: "hr"},
	}
	return c
}

type gen struct {
	recs []flow.Record
	id   uint64
}

// add adds a record in state st from src to dst:port at at.
func (g *gen) add(at time.Time, src, dst netip.Addr, port uint16, proto uint8, st flow.State) *flow.Record {
	g.id++
	r := flow.Record{Kind: flow.KindFlow, EventID: g.id, Start: at, End: at.Add(time.Second), Src: src, Dst: dst,
		SrcPort: uint16(50000 + g.id%10000), DstPort: port, Proto: proto, State: st,
		PktsOut: 6, PktsIn: 6, BytesOut: 800, BytesIn: 4000}
	switch st {
	case flow.StateAttempt:
		r.PktsIn, r.BytesIn = 0, 0
	case flow.StateReset:
		r.PktsOut, r.PktsIn, r.BytesOut, r.BytesIn = 1, 1, 60, 60
	}
	g.recs = append(g.recs, r)
	return &g.recs[len(g.recs)-1]
}

// routine adds ten days of ordinary traffic around the sensitive assets.
func routine(g *gen, days int) {
	est := flow.StateEstablished
	for d := range days {
		base := t0.Add(time.Duration(d) * day)
		for h := 8; h < 18; h++ {
			at := base.Add(time.Duration(h) * time.Hour)
			for i := range 20 {
				w := ws(i)
				m := time.Duration(i) * time.Minute
				g.add(at.Add(m), w, dc, 88, tcp, est)
				g.add(at.Add(m+time.Second), w, dc, 389, tcp, est)
				g.add(at.Add(m+2*time.Second), w, dc, 53, udp, est)
				g.add(at.Add(m+3*time.Second), w, dc, uint16(49152+(i*37+h*101+d)%16000), tcp, est)
				r := g.add(at.Add(m+4*time.Second), dc, w, uint16(51000+i), udp, est) // a DNS answer seen backwards
				r.SrcPort = 53
			}
			for i := range 3 {
				g.add(at.Add(time.Duration(i)*time.Minute), addr(fmt.Sprintf("10.0.1.%d", i+1)), db, 5432, tcp, est)
			}
		}
		g.add(base.Add(9*time.Hour), admin, dc, 3389, tcp, est)
		g.add(base.Add(2*time.Hour), db, addr("198.51.100.50"), 443, tcp, est)
		g.add(base.Add(3*time.Hour), dc, addr("203.0.113.123"), 123, udp, est)
	}
}

type wantSig struct {
	key string
	sev schema.Severity
}

func TestNewTalkers(t *testing.T) {
	t.Parallel()
	est := flow.StateEstablished
	after := t0.Add(8*day + 10*time.Hour)
	cases := []struct {
		name  string
		build func(g *gen)
		want  []wantSig
	}{
		{"routine traffic only", func(*gen) {}, nil},
		{"workstation opens RDP to the domain controller after learning", func(g *gen) {
			g.add(after, ws(6), dc, 3389, tcp, est)
			g.add(after.Add(time.Hour), ws(6), dc, 3389, tcp, est) // the same pair again
		}, []wantSig{{"new_talker|pair|10.0.5.7|10.0.0.10|tcp/3389", schema.SeverityMedium}}},
		{"the same before learning ends, then again after", func(g *gen) {
			g.add(t0.Add(3*day), ws(7), dc, 3389, tcp, est)
			g.add(after, ws(7), dc, 3389, tcp, est)
		}, nil},
		{"the database starts answering on a new port", func(g *gen) {
			g.add(after, addr("10.0.1.1"), db, 8080, tcp, est)
			g.add(after.Add(time.Hour), addr("10.0.1.2"), db, 8080, tcp, est) // within the grace period
			g.add(after.Add(2*day), addr("10.0.1.3"), db, 8080, tcp, est)     // after it
		}, []wantSig{{"new_talker|service|10.0.0.20|serve|tcp/8080", schema.SeverityLow},
			{"new_talker|pair|10.0.1.3|10.0.0.20|tcp/8080", schema.SeverityLow}}},
		{"failed attempts are no talk", func(g *gen) {
			g.add(after, ws(8), db, 22, tcp, flow.StateAttempt)
			g.add(after, ws(8), db, 23, tcp, flow.StateRejected)
			g.add(after, ws(8), db, 3389, tcp, flow.StateReset) // refused, read as reset
		}, nil},
		{"an external client reaches the database", func(g *gen) {
			g.add(after, addr("198.51.100.7"), db, 5432, tcp, est)
			g.add(after.Add(time.Minute), addr("198.51.100.8"), db, 5432, tcp, est)
		}, []wantSig{{"new_talker|service|10.0.0.20|serve_external|tcp/5432", schema.SeverityMedium}}},
		{"an external client reaches RDP on the domain controller", func(g *gen) {
			g.add(after, addr("192.0.2.5"), dc, 3389, tcp, est)
		}, []wantSig{{"new_talker|service|10.0.0.10|serve_external|tcp/3389", schema.SeverityHigh}}},
		{"the database connects out to a new port, and to a new address on a known one", func(g *gen) {
			g.add(after, db, addr("203.0.113.66"), 4444, tcp, est)
			g.add(after, db, addr("198.51.100.51"), 443, tcp, est)
		}, []wantSig{{"new_talker|service|10.0.0.20|out|tcp/4444", schema.SeverityMedium}}},
		{"the domain controller answers on a new dynamic RPC port", func(g *gen) {
			g.add(after, ws(3), dc, 65000, tcp, est)
		}, nil},
		{"a sensitive asset first seen late learns on its own clock", func(g *gen) {
			hr := addr("10.0.0.31")
			g.add(after, ws(2), hr, 443, tcp, est)
			g.add(after.Add(2*day), ws(3), hr, 22, tcp, est)
			g.add(after.Add(8*day), ws(4), hr, 22, tcp, est)
		}, []wantSig{{"new_talker|pair|10.0.5.5|10.0.0.31|tcp/22", schema.SeverityMedium}}},
		{"the domain controller talks to a new internal server", func(g *gen) {
			g.add(after, dc, addr("10.0.7.7"), 445, tcp, est)
		}, []wantSig{{"new_talker|pair|10.0.0.10|10.0.7.7|tcp/445", schema.SeverityMedium}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &gen{}
			routine(g, 12)
			tc.build(g)
			sortRecs(g.recs)
			sigs := run(t, newAnalyzer(t, testConfig()), g.recs, 1000)
			if len(sigs) != len(tc.want) {
				t.Fatalf("got %v, want %d signals", titles(sigs), len(tc.want))
			}
			for i, w := range tc.want {
				s := sigs[i]
				checkSignal(t, s)
				if s.Key != w.key || s.Severity != w.sev {
					t.Errorf("signal %d: %s %v (%s), want %s %v", i, s.Key, s.Severity, s.Title, w.key, w.sev)
				}
			}
		})
	}
}

func checkSignal(t *testing.T, s flow.Signal) {
	t.Helper()
	if s.Kind != flow.SignalNewTalker || s.Detector != Name || s.Title == "" || len(s.Evidence) != 1 ||
		len(s.Tags) != 2 || !strings.HasPrefix(s.Tags[1], "attack.t") || s.Score <= 0 || s.Score > 1 {
		t.Errorf("incomplete signal %+v", s)
	}
	for _, k := range []string{"asset", "peer", "service", "learning ended", "first seen"} {
		if v := fact(s, k); v == "" {
			t.Errorf("%s: no fact %q", s.Key, k)
		}
	}
}

func TestSignalText(t *testing.T) {
	t.Parallel()
	g := &gen{}
	routine(g, 9)
	r := g.add(t0.Add(8*day+11*time.Hour), ws(6), dc, 3389, tcp, flow.StateEstablished)
	r.Service = "rdp"
	sortRecs(g.recs)
	sigs := run(t, newAnalyzer(t, testConfig()), g.recs, 500)
	if len(sigs) != 1 {
		t.Fatalf("signals %v", titles(sigs))
	}
	s := sigs[0]
	if want := "first tcp/3389 (rdp) connection from 10.0.5.7 to dc01 (10.0.0.10)"; s.Title != want {
		t.Errorf("title %q, want %q", s.Title, want)
	}
	for k, v := range map[string]string{"asset name": "dc01", "asset role": "domain_controller", "asset is": "server",
		"peer is": "internal", "admin port": "true", "learning ended": "2025-03-10T03:00:00Z", "internal peers known": "82"} {
		if got := fact(s, k); got != v {
			t.Errorf("fact %s = %q, want %q", k, got, v)
		}
	}
	if s.Host != dc || s.Peer != ws(6) || s.Port != 3389 {
		t.Errorf("host %v peer %v port %d", s.Host, s.Peer, s.Port)
	}
}

func TestPairCap(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.MaxPairsPerAsset = 64
	c.Learning, c.NewServiceGrace = 0, 0
	a := newAnalyzer(t, c)
	g := &gen{}
	for i := range 200 {
		g.add(t0.Add(time.Duration(i)*time.Hour), netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(1 + i%250)}), db,
			5432, tcp, flow.StateEstablished)
	}
	sigs := run(t, a, g.recs, 10)
	st := a.Stats()
	evicted, _ := a.Dropped()
	if st.Entities["pairs"] > 64 || evicted == 0 || st.Entities["assets"] != 1 {
		t.Errorf("stats %+v, evicted %d", st, evicted)
	}
	if len(sigs) != 200 { // the first is a new service, the rest new pairs
		t.Errorf("%d signals", len(sigs))
	}
}

func newAnalyzer(t testing.TB, c Config) *Analyzer {
	t.Helper()
	set, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(c, set)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sortRecs(rs []flow.Record) {
	slices.SortStableFunc(rs, func(x, y flow.Record) int { return x.Start.Compare(y.Start) })
}

func run(t testing.TB, an flow.Analyzer, recs []flow.Record, batch int) []flow.Signal {
	t.Helper()
	var out []flow.Signal
	emit := func(s flow.Signal) { out = append(out, s) }
	var maxT time.Time
	for i := range recs {
		an.Observe(&recs[i])
		if recs[i].Start.After(maxT) {
			maxT = recs[i].Start
		}
		if (i+1)%batch == 0 {
			an.Advance(maxT.Add(-2*time.Minute), emit)
		}
	}
	an.Advance(maxT, emit)
	return out
}

func fact(s flow.Signal, k string) string {
	for _, f := range s.Facts {
		if f.Key == k {
			return f.Value
		}
	}
	return ""
}

func titles(ss []flow.Signal) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%s [%v] %s", s.Start.Format(time.DateTime), s.Severity, s.Title)
	}
	return out
}

func netipFrom(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }
