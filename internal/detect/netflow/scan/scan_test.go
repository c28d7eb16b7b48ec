package scan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

const (
	tcp  = flow.ProtoTCP
	udp  = flow.ProtoUDP
	icmp = flow.ProtoICMP
	est  = flow.StateEstablished
	att  = flow.StateAttempt
	rej  = flow.StateRejected
)

// background adds a day's worth of ordinary traffic between start and end:
// clients browsing, resolving and using internal services.
func background(g *gen, start, end time.Time) {
	for at := start; at.Before(end); at = at.Add(7 * time.Second) {
		c := nth("10.0.5.1", int(g.next()%40))
		switch g.next() % 4 {
		case 0:
			g.conn(at, c, nth("198.51.100.1", int(g.next()%30)), 443, tcp, est)
		case 1:
			g.conn(at, c, addr("10.0.0.53"), 53, udp, est)
		case 2:
			g.conn(at, c, nth("10.0.1.1", int(g.next()%5)), 445, tcp, est)
		default:
			st := est
			if g.next()%50 == 0 {
				st = att // the odd failure
			}
			g.conn(at, c, nth("203.0.113.1", int(g.next()%60)), 443, tcp, st)
		}
	}
}

// probes adds n probes from src, one every step from at; target(i) names
// the host and port of probe i and state(i) its outcome.
func probes(g *gen, at time.Time, step time.Duration, n int, src netip4, target func(i int) (string, uint16),
	proto uint8, state func(i int) flow.State) {
	for i := range n {
		h, p := target(i)
		g.conn(at.Add(time.Duration(i)*step), addr(string(src)), addr(h), p, proto, state(i))
	}
}

type netip4 string

func hostN(base string, port uint16) func(int) (string, uint16) {
	return func(i int) (string, uint16) { return nth(base, i).String(), port }
}

func portN(host string, first uint16) func(int) (string, uint16) {
	return func(i int) (string, uint16) { return host, first + uint16(i) }
}

func always(s flow.State) func(int) flow.State { return func(int) flow.State { return s } }

// every returns s for every k-th probe and other otherwise.
func every(k int, s, other flow.State) func(int) flow.State {
	return func(i int) flow.State {
		if i%k == 0 {
			return s
		}
		return other
	}
}

type wantSig struct {
	key string
	sev schema.Severity
	min float64 // least Current of the first signal
}

var scanCases = []struct {
	name  string
	build func(g *gen)
	mod   func(*Config)
	want  []wantSig
}{
	{"external horizontal scan, nothing answers", func(g *gen) {
		probes(g, t0.Add(10*time.Minute), 500*time.Millisecond, 100, "203.0.113.7", hostN("10.1.0.1", 445), tcp, always(att))
	}, nil, []wantSig{{"scan|horizontal|203.0.113.7|tcp/445", schema.SeverityLow, 100}}},
	{"external horizontal scan, some hosts answer", func(g *gen) {
		probes(g, t0.Add(10*time.Minute), 500*time.Millisecond, 100, "203.0.113.7", hostN("10.1.0.1", 22), tcp, every(10, est, rej))
	}, nil, []wantSig{{"scan|horizontal|203.0.113.7|tcp/22", schema.SeverityMedium, 100}}},
	{"internal horizontal scan of internal hosts", func(g *gen) {
		probes(g, t0.Add(20*time.Minute), 200*time.Millisecond, 200, "10.0.0.5", hostN("10.1.0.1", 445), tcp, every(10, est, att))
	}, nil, []wantSig{{"scan|horizontal|10.0.0.5|tcp/445", schema.SeverityHigh, 200}}},
	{"internal host scanning the internet for telnet", func(g *gen) {
		probes(g, t0.Add(20*time.Minute), time.Second, 64, "192.168.2.12", hostN("100.128.0.1", 23), tcp, always(att))
	}, nil, []wantSig{{"scan|horizontal|192.168.2.12|tcp/23", schema.SeverityMedium, 64}}},
	{"external vertical scan", func(g *gen) {
		probes(g, t0.Add(30*time.Minute), 100*time.Millisecond, 200, "198.51.100.9", portN("10.0.0.20", 1), tcp, always(rej))
	}, nil, []wantSig{{"scan|vertical|198.51.100.9|10.0.0.20/tcp", schema.SeverityLow, 200}}},
	{"internal vertical scan", func(g *gen) {
		probes(g, t0.Add(30*time.Minute), 20*time.Millisecond, 1000, "10.0.0.7", portN("10.0.0.30", 1), tcp, every(300, est, rej))
	}, nil, []wantSig{{"scan|vertical|10.0.0.7|10.0.0.30/tcp", schema.SeverityHigh, 1000}}},
	{"ICMP sweep of an internal range", func(g *gen) {
		probes(g, t0.Add(40*time.Minute), 300*time.Millisecond, 100, "10.0.0.8", hostN("10.2.0.1", 0), icmp, every(3, est, att))
	}, nil, []wantSig{{"scan|sweep|10.0.0.8|icmp", schema.SeverityHigh, 100}}},
	{"IPv6 horizontal scan", func(g *gen) {
		probes(g, t0.Add(40*time.Minute), 300*time.Millisecond, 60, "fd00::5", hostN("fd00::1:0", 22), tcp, always(att))
	}, nil, []wantSig{{"scan|horizontal|fd00::5|tcp/22", schema.SeverityHigh, 60}}},
	{"slow horizontal scan", func(g *gen) {
		probes(g, t0.Add(10*time.Minute), 90*time.Second, 80, "10.0.0.9", hostN("10.3.0.1", 22), tcp, always(att))
	}, nil, []wantSig{{"scan|horizontal|10.0.0.9|tcp/22", schema.SeverityMedium, 30}}},
	{"slow scan detection disabled", func(g *gen) {
		probes(g, t0.Add(10*time.Minute), 90*time.Second, 80, "10.0.0.9", hostN("10.3.0.1", 22), tcp, always(att))
	}, func(c *Config) { c.SlowWindow = 0 }, nil},
	{"grid scan raises at most three signals per kind", func(g *gen) {
		for p := range 10 {
			probes(g, t0.Add(50*time.Minute+time.Duration(p)*time.Second), 10*time.Millisecond, 50,
				"10.0.0.11", hostN("10.4.0.1", uint16(8000+p)), tcp, always(att))
		}
	}, nil, []wantSig{{"scan|horizontal|10.0.0.11|tcp/8000", schema.SeverityHigh, 50},
		{"scan|horizontal|10.0.0.11|tcp/8001", schema.SeverityHigh, 50},
		{"scan|horizontal|10.0.0.11|tcp/8002", schema.SeverityHigh, 50}}},
	// Benign look-alikes: none may reach high.
	{"browser opening many sites", func(g *gen) {
		probes(g, t0.Add(time.Hour), 2*time.Second, 64, "10.0.0.50", hostN("151.101.0.1", 443), tcp, always(est))
	}, nil, nil},
	{"monitoring server pinging every host each minute", func(g *gen) {
		for m := range 30 {
			probes(g, t0.Add(time.Hour+time.Duration(m)*time.Minute), 100*time.Millisecond, 200, "10.0.0.60",
				hostN("10.1.0.1", 0), icmp, always(est))
		}
	}, nil, nil},
	{"nightly backup with laptops switched off", func(g *gen) {
		probes(g, t0.Add(time.Hour), time.Second, 100, "10.0.0.70", hostN("10.5.0.1", 9102), tcp, every(5, att, est))
		probes(g, t0.Add(time.Hour+2*time.Minute), time.Second, 100, "10.0.0.70", hostN("10.5.0.101", 9102), tcp,
			func(i int) flow.State {
				if i%5 < 2 {
					return att
				}
				return est
			})
	}, nil, []wantSig{{"scan|horizontal|10.0.0.70|tcp/9102", schema.SeverityMedium, 25}}},
	{"passive FTP data connections", func(g *gen) {
		probes(g, t0.Add(time.Hour), 3*time.Second, 40, "10.0.0.80", portN("203.0.113.80", 40000), tcp, always(est))
	}, nil, nil},
	{"SSDP announcements the sensor saw the wrong way round", func(g *gen) {
		for i := range 300 {
			r := g.conn(t0.Add(time.Hour+time.Duration(i)*time.Second), addr("10.0.0.90"), addr("10.0.0.91"),
				uint16(33000+i*97%30000), udp, att)
			r.SrcPort = 1900
		}
	}, nil, nil},
	{"resolver asking authoritative servers", func(g *gen) {
		probes(g, t0.Add(time.Hour), 500*time.Millisecond, 150, "10.0.0.53", hostN("192.0.2.1", 53), udp, every(20, att, est))
	}, nil, nil},
	{"company-wide update burst", func(g *gen) {
		for i := range 200 {
			g.conn(t0.Add(time.Hour+time.Duration(i)*time.Second), nth("10.0.5.1", i), addr("10.0.0.200"), 443, tcp, est)
		}
	}, nil, nil},
	{"sanctioned scanner is ignored", func(g *gen) {
		probes(g, t0.Add(10*time.Minute), 100*time.Millisecond, 500, "10.0.0.100", hostN("10.1.0.1", 443), tcp, always(att))
	}, func(c *Config) { c.IgnoreSources = []string{"10.0.0.96/28"} }, nil},
}

func TestScans(t *testing.T) {
	t.Parallel()
	for _, tc := range scanCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &gen{rnd: 1}
			background(g, t0, t0.Add(3*time.Hour))
			tc.build(g)
			sortRecs(g.recs)
			a := newScan(t, tc.mod)
			sigs := run(a, g.recs, 500)
			if err := a.consistent(); err != nil {
				t.Fatal(err)
			}
			got := byKey(sigs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d scans %v, want %d", len(got), sortedKeys(got), len(tc.want))
			}
			for _, w := range tc.want {
				ss := got[w.key]
				if len(ss) == 0 {
					t.Fatalf("no signal %q; got %v", w.key, sortedKeys(got))
				}
				checkSignal(t, ss[0])
				if ss[0].Severity != w.sev || ss[0].Current < w.min {
					t.Errorf("%s: severity %v current %v, want %v and at least %v (%s)",
						w.key, ss[0].Severity, ss[0].Current, w.sev, w.min, ss[0].Title)
				}
			}
		})
	}
}

// checkSignal checks what every scan signal must carry.
func checkSignal(t *testing.T, s flow.Signal) {
	t.Helper()
	if s.Kind != flow.SignalScan || s.Detector != Name || s.Title == "" || s.Metric == "" || s.Key == "" {
		t.Errorf("incomplete signal %+v", s)
	}
	if len(s.Evidence) == 0 || len(s.Evidence) > maxEvidence {
		t.Errorf("%s: %d evidence IDs", s.Key, len(s.Evidence))
	}
	if !s.End.After(s.Start) || s.Score <= 0 || s.Score > 1 || len(s.Tags) == 0 {
		t.Errorf("%s: window %v..%v score %v tags %v", s.Key, s.Start, s.End, s.Score, s.Tags)
	}
	if !strings.HasPrefix(s.Tags[1], "attack.t") {
		t.Errorf("%s: tags %v", s.Key, s.Tags)
	}
	if fact(s, "scan") == "" || fact(s, "threshold") == "" || fact(s, "failed") == "" {
		t.Errorf("%s: facts %v", s.Key, s.Facts)
	}
}

func TestGridScanCountsOtherPorts(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 1}
	for p := range 10 {
		probes(g, t0.Add(time.Duration(p)*time.Second), 10*time.Millisecond, 50, "10.0.0.11",
			hostN("10.4.0.1", uint16(8000+p)), tcp, always(att))
	}
	sortRecs(g.recs)
	sigs := run(newScan(t, nil), g.recs, 100)
	if len(sigs) != 3 {
		t.Fatalf("%d signals, want 3", len(sigs))
	}
	for _, s := range sigs {
		if v := fact(s, "other horizontal scans at this time"); v != "9" {
			t.Errorf("%s: other scans %q, want 9", s.Key, v)
		}
	}
}

// A scan that goes on for half an hour groups under one key and raises a
// signal only when its target count has doubled.
func TestLongScanGroups(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 1}
	probes(g, t0, 3*time.Second, 600, "192.0.2.50", hostN("10.6.0.1", 3389), tcp, always(att))
	sigs := run(newScan(t, nil), g.recs, 50)
	keys := byKey(sigs)
	if len(keys) != 1 {
		t.Fatalf("keys %v", sortedKeys(keys))
	}
	if len(sigs) < 2 || len(sigs) > 6 {
		t.Fatalf("%d signals for one scan, want 2..6", len(sigs))
	}
	for i := 1; i < len(sigs); i++ {
		prev, cur := fact(sigs[i-1], "hosts since first signal"), fact(sigs[i], "hosts since first signal")
		var p, c int
		fmt.Sscan(prev, &p)
		fmt.Sscan(cur, &c)
		if c < 2*p {
			t.Errorf("signal %d: %d hosts after %d: not doubled", i, c, p)
		}
	}
}

// Slightly out-of-order records, any batching and a sparse watermark give
// the same signals as ordered records advanced often.
func TestOrderAndBatching(t *testing.T) {
	t.Parallel()
	g := &gen{rnd: 7}
	background(g, t0, t0.Add(4*time.Hour))
	for _, tc := range scanCases {
		if tc.mod == nil {
			tc.build(g)
		}
	}
	sortRecs(g.recs)
	want := run(newScan(t, nil), g.recs, 1)
	if len(want) < 8 {
		t.Fatalf("only %d signals", len(want))
	}
	shuffled := append([]flow.Record(nil), g.recs...)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range shuffled { // swap records less than a minute apart
		j := i + rng.IntN(20)
		if j < len(shuffled) && shuffled[j].Start.Sub(shuffled[i].Start) < time.Minute {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		}
	}
	for _, v := range []struct {
		name  string
		recs  []flow.Record
		batch int
	}{{"batches of 1000", g.recs, 1000}, {"one batch", g.recs, len(g.recs) + 1}, {"shuffled", shuffled, 1}} {
		got := run(newScan(t, nil), v.recs, v.batch)
		if d := diffSignals(want, got); d != "" {
			t.Errorf("%s: %s", v.name, d)
		}
	}
}

func diffSignals(want, got []flow.Signal) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d signals, want %d: got %v want %v", len(got), len(want), titles(got), titles(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Key != g.Key || w.Title != g.Title || !w.End.Equal(g.End) || w.Severity != g.Severity ||
			fmt.Sprint(w.Facts) != fmt.Sprint(g.Facts) || fmt.Sprint(w.Evidence) != fmt.Sprint(g.Evidence) {
			return fmt.Sprintf("signal %d:\n got %s %v %v\nwant %s %v %v", i, g.Title, g.End, g.Facts, w.Title, w.End, w.Facts)
		}
	}
	return ""
}

func titles(ss []flow.Signal) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.End.Format("15:04:05") + " " + s.Title
	}
	return out
}
