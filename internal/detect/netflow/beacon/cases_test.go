package beacon

import (
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestPrevalenceMakesSharedServicesLow: NTP and a monitoring agent on every
// host are perfectly periodic; without prevalence they score high, with it
// they raise nothing.
func TestPrevalenceMakesSharedServicesLow(t *testing.T) {
	t.Parallel()
	g := newGen(3)
	g.ntp(20, ntpServers, 24*time.Hour)
	g.monitoring(20, monitorIP, "agent.monitor.example", 24*time.Hour)
	recs := g.sorted()
	internal, _ := flow.NewSet(flow.DefaultInternal())
	for _, c := range []struct {
		name    string
		prev    bool
		minHigh int // pairs scoring high
		maxSigs int
	}{
		{"without prevalence", false, 40, -1},
		{"with prevalence", true, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, DefaultConfig())
			if !c.prev {
				var err error
				if d.a, err = New(DefaultConfig(), internal, nil); err != nil {
					t.Fatal(err)
				}
			}
			d.feed(recs)
			d.advance(d.maxT)
			high := map[string]bool{}
			for _, s := range d.sigs {
				if s.Severity >= schema.SeverityHigh {
					high[s.Key] = true
				}
			}
			if len(high) < c.minHigh || (c.maxSigs >= 0 && len(d.sigs) > c.maxSigs) {
				t.Fatalf("%d pairs high, %d signals; want at least %d high and at most %d signals",
					len(high), len(d.sigs), c.minHigh, c.maxSigs)
			}
		})
	}
}

// TestDefaultsCatch: the default window (24h, 20 connections) catches
// hourly beacons but not two-hourly ones; a 48h window catches those.
func TestDefaultsCatch(t *testing.T) {
	t.Parallel()
	long := DefaultConfig()
	long.Window = 48 * time.Hour
	for _, c := range []struct {
		name   string
		cfg    Config
		period time.Duration
		found  bool
	}{
		{"1h period, default window", DefaultConfig(), time.Hour, true},
		{"2h period, default window", DefaultConfig(), 2 * time.Hour, false},
		{"2h period, 48h window", long, 2 * time.Hour, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGen(4)
			g.ntp(hosts, ntpServers, 72*time.Hour)
			bc := beaconCase{host: 7, dst: ext("203.0.113.9"), port: 443, period: c.period}
			g.beacon(host(7), bc.dst, 443, "", c.period, 0.2, t0, 72*time.Hour, fixedSize(640))
			d := newDriver(t, c.cfg)
			d.feed(g.sorted())
			d.advance(d.maxT)
			sigs := byKey(d.sigs)[beaconKey(bc)]
			if (len(sigs) > 0) != c.found {
				t.Fatalf("%d signals, want found=%v", len(sigs), c.found)
			}
			for _, s := range sigs {
				p, _ := strconv.ParseFloat(fact(s, "period_s"), 64)
				if abs(p-c.period.Seconds()) > 0.1*c.period.Seconds() {
					t.Errorf("period %v, want %v", p, c.period)
				}
			}
		})
	}
}

// TestPairKinds: what is tracked and what is skipped.
func TestPairKinds(t *testing.T) {
	t.Parallel()
	c2 := ext("203.0.113.50")
	mk := func(kind flow.Kind, src, dst netip.Addr, name string, answer bool) func(*gen, time.Time) {
		return func(g *gen, ts time.Time) {
			g.id++
			g.recs = append(g.recs, flow.Record{Kind: kind, EventID: g.id, Start: ts, End: ts, Src: src, Dst: dst,
				SrcPort: g.port(), DstPort: 443, BytesOut: 300, BytesIn: 900, Name: name, QType: "A", Answer: answer})
		}
	}
	allow := DefaultConfig()
	allow.AllowCIDRs = []string{"203.0.113.0/24"}
	allow.AllowNames = []string{"Example.ORG."}
	keepInternal := DefaultConfig()
	keepInternal.SkipInternal = false
	noPort := DefaultConfig()
	noPort.PerPort = false
	for _, c := range []struct {
		name string
		cfg  Config
		rec  func(*gen, time.Time)
		key  string // "" = no signal expected
	}{
		{"flow to external", DefaultConfig(), mk(flow.KindFlow, host(5), c2, "", false), "beacon|10.0.1.5|203.0.113.50|443"},
		{"flow without port", noPort, mk(flow.KindFlow, host(5), c2, "", false), "beacon|10.0.1.5|203.0.113.50|0"},
		{"flow to allowed range", allow, mk(flow.KindFlow, host(5), c2, "", false), ""},
		{"flow to internal", DefaultConfig(), mk(flow.KindFlow, host(5), host(9), "", false), ""},
		{"flow to internal, kept", keepInternal, mk(flow.KindFlow, host(5), host(9), "", false), "beacon|10.0.1.5|10.0.1.9|443"},
		{"inbound from external", DefaultConfig(), mk(flow.KindFlow, c2, host(5), "", false), ""},
		{"tls name", DefaultConfig(), mk(flow.KindApp, host(5), c2, "c2.example.net", false), "beacon|10.0.1.5|name|c2.example.net"},
		{"tls name allowed", allow, mk(flow.KindApp, host(5), ext("198.51.100.1"), "cdn.example.org", false), ""},
		{"dns query", DefaultConfig(), mk(flow.KindDNS, host(5), host(1), "c2.example.net", false), "beacon|10.0.1.5|dns|c2.example.net"},
		{"dns answers only", DefaultConfig(), mk(flow.KindDNS, host(5), host(1), "c2.example.net", true), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGen(5)
			for ts := t0; ts.Before(t0.Add(30 * time.Hour)); ts = ts.Add(time.Duration(54+g.rng.IntN(13)) * time.Second) {
				c.rec(g, ts)
			}
			d := newDriver(t, c.cfg)
			d.feed(g.sorted())
			d.advance(d.maxT)
			got := byKey(d.sigs)
			if c.key == "" {
				if len(d.sigs) != 0 {
					t.Fatalf("want no signal, got %q", d.sigs[0].Key)
				}
				return
			}
			if len(got[c.key]) == 0 || len(got) != 1 {
				t.Fatalf("want signals for %q only, got %v", c.key, keys(got))
			}
			s := got[c.key][0]
			if strings.Contains(c.key, "|dns|") && !strings.HasPrefix(s.Title, "DNS beacon") {
				t.Errorf("title %q", s.Title)
			}
		})
	}
}

func keys(m map[string][]flow.Signal) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSplitLongFlowIsNotABeacon: an exporter with a 60 s active timeout
// reports one long connection as back-to-back records from the same source
// port; they are merged, not scored as a 60 s beacon. Disabling the merge
// shows the records alone would score.
func TestSplitLongFlowIsNotABeacon(t *testing.T) {
	t.Parallel()
	g := newGen(6)
	for ts := t0; ts.Before(t0.Add(26 * time.Hour)); ts = ts.Add(time.Minute) {
		g.flowRec(ts, host(5), ext("203.0.113.77"), 50123, 443, 40000, time.Minute-500*time.Millisecond)
	}
	recs := g.sorted()
	noMerge := DefaultConfig()
	noMerge.ContinuationGap = 0
	for _, c := range []struct {
		name string
		cfg  Config
		want int
	}{{"merged", DefaultConfig(), 0}, {"merge disabled", noMerge, 1}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, c.cfg)
			d.feed(recs)
			d.advance(d.maxT)
			if n := len(byKey(d.sigs)); n != c.want {
				t.Fatalf("%d keys signalled, want %d", n, c.want)
			}
			if c.want == 0 && d.a.Counts().Merged == 0 {
				t.Fatal("no record was merged")
			}
		})
	}
}

// TestSamplingKeepsPeriod: a 10 s beacon overflows a 256-sample buffer
// many times over; the sampled pair still reports the 10 s period.
func TestSamplingKeepsPeriod(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxTimestamps = 256
	g := newGen(7)
	g.beacon(host(8), ext("203.0.113.8"), 443, "", 10*time.Second, 0.2, t0, 25*time.Hour, fixedSize(333))
	d := newDriver(t, cfg)
	d.feed(g.sorted())
	d.advance(d.maxT)
	sigs := byKey(d.sigs)["beacon|10.0.1.8|203.0.113.8|443"]
	if len(sigs) == 0 {
		t.Fatal("no signal")
	}
	s := sigs[len(sigs)-1]
	p, _ := strconv.ParseFloat(fact(s, "period_s"), 64)
	stride, _ := strconv.Atoi(fact(s, "sampling_stride"))
	conns, _ := strconv.Atoi(fact(s, "connections"))
	if abs(p-10) > 1 || stride < 16 || conns < 7000 || conns > 10000 {
		t.Fatalf("period %v stride %d connections %d", p, stride, conns)
	}
	if st := d.a.Stats(); st.Entities["samples"] > 256 {
		t.Fatalf("%d samples kept, cap 256", st.Entities["samples"])
	}
}

// TestBoundedPairs: MaxPairs caps the table, evicting the idlest.
func TestBoundedPairs(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.MaxPairs = 100
	g := newGen(8)
	for i := range 5000 {
		g.flowRec(t0.Add(time.Duration(i)*time.Second), host(1+i%40), netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 40000, 443, 100, 0)
	}
	d := newDriver(t, cfg)
	d.feed(g.sorted())
	st := d.a.Stats()
	if n := st.Entities["pairs_addr"]; n > 100 || n == 0 {
		t.Fatalf("%d pairs, cap 100", n)
	}
	if d.a.Counts().Evicted == 0 {
		t.Fatal("nothing evicted")
	}
	// Two days later every pair has expired.
	d.advance(t0.Add(72 * time.Hour))
	if n := d.a.Stats().Entities["pairs_addr"]; n != 0 {
		t.Fatalf("%d pairs left after the window passed", n)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"window shorter than interval", func(c *Config) { c.Window = 30 * time.Minute }, []string{"window"}},
		{"interval fraction", func(c *Config) { c.Interval = 1500 * time.Millisecond }, []string{"interval"}},
		{"few connections", func(c *Config) { c.MinConnections = 2 }, []string{"min_connections"}},
		{"small buffer", func(c *Config) { c.MaxTimestamps = 10 }, []string{"max_timestamps"}},
		{"evidence", func(c *Config) { c.MaxEvidence = 21 }, []string{"max_evidence"}},
		{"weights", func(c *Config) { c.Weights = Weights{Size: 1} }, []string{"weights"}},
		{"negative weight", func(c *Config) { c.Weights.Histogram = -1 }, []string{"weights.histogram"}},
		{"prevalence", func(c *Config) { c.Prevalence = Prevalence{Share: 2, Hosts: 1, Factor: 3} },
			[]string{"prevalence.share", "prevalence.hosts", "prevalence.min_population", "prevalence.factor"}},
		{"severity order", func(c *Config) { c.Severity = Thresholds{Low: 0.9, Medium: 0.8, High: 0.7} }, []string{"severity"}},
		{"cidr", func(c *Config) { c.AllowCIDRs = []string{"10.0.0.0/33", "x"} }, []string{"allow_cidrs", "10.0.0.0/33", `"x"`}},
		{"active span", func(c *Config) { c.DurationFloor = -time.Second; c.DurationPeriods = -1; c.SpanMinFill = 1.5 },
			[]string{"duration_floor", "duration_periods", "span_min_fill"}},
		{"several at once", func(c *Config) { c.MaxPairs = 0; c.ModeSensitivity = 0; c.DurationIdeal = 0 },
			[]string{"max_pairs", "mode_sensitivity", "duration_ideal"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			c.mod(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			internal, _ := flow.NewSet(nil)
			if _, err := New(cfg, internal, nil); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
	if _, err := New(DefaultConfig(), nil, nil); err == nil {
		t.Error("New accepted nil internal networks")
	}
}

// TestOutOfOrderWithinLateness: records shuffled within 90 s (less than
// the 2 min lateness the driver allows) give the same signals as sorted
// input, apart from the evidence IDs (the most recent arrivals). Pairs
// that are not sampled are compared exactly (a sampled pair keeps every
// 2nd arrival, so its samples depend on the order).
func TestOutOfOrderWithinLateness(t *testing.T) {
	t.Parallel()
	sorted := scenario(14, 1, beaconCases[1:4])
	shuffled := slices.Clone(sorted)
	g := newGen(15)
	for i := 0; i < len(shuffled); {
		j := i
		for j < len(shuffled) && shuffled[j].Start.Sub(shuffled[i].Start) < 90*time.Second {
			j++
		}
		g.rng.Shuffle(j-i, func(a, b int) { shuffled[i+a], shuffled[i+b] = shuffled[i+b], shuffled[i+a] })
		i = j
	}
	run := func(recs []flow.Record) []flow.Signal {
		d := newDriver(t, DefaultConfig())
		d.feed(recs)
		d.advance(t0.Add(25 * time.Hour))
		for i := range d.sigs {
			d.sigs[i].Evidence = nil
		}
		return d.sigs
	}
	a, b := run(sorted), run(shuffled)
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Logf("first difference at %d:\n%+v\n%+v", i, a[i], b[i])
			break
		}
	}
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("sorted input gave %d signals, shuffled %d (or they differ)", len(a), len(b))
	}
}
