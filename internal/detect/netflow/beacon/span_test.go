package beacon

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// burst plants connections every period·(1 ± jitter) from day two at from
// for dur, on a background of NTP polling, runs both days and returns the
// planted pair's signals.
func burst(t *testing.T, cfg Config, seed uint64, from, dur, period time.Duration, jitter float64,
	size func(*rand.Rand) int64) []seenSignal {
	t.Helper()
	g := newGen(seed)
	g.ntp(10, ntpServers, 48*time.Hour)
	g.beacon(host(7), ext("203.0.113.9"), 443, "", period, jitter, t0.Add(24*time.Hour+from), dur, size)
	d := newDriver(t, cfg)
	d.feed(g.sorted())
	d.advance(d.maxT.Add(time.Hour))
	var out []seenSignal
	for _, s := range byKey(d.sigs)["beacon|10.0.1.7|203.0.113.9|443"] {
		p, _ := strconv.ParseFloat(fact(s, "period_s"), 64)
		out = append(out, seenSignal{score: s.Score, sev: s.Severity, period: p, over: fact(s, "judged_over")})
	}
	return out
}

// seenSignal is what the short-lived cases read from a signal.
type seenSignal struct {
	score  float64
	sev    schema.Severity
	period float64
	over   string
}

// TestShortLivedBeacons: a pair that beacons regularly for a few hours and
// stops is judged over its active span and found; short bursts of a few
// dozen to a few hundred regular connections (a download in chunks, a
// call's keepalives) stay below medium, and so does a beacon with a long
// silence inside its span. With active_span off (RITA's window judgement
// alone) the four-hour beacon is missed.
func TestShortLivedBeacons(t *testing.T) {
	t.Parallel()
	windowOnly := DefaultConfig()
	windowOnly.ActiveSpan = false
	chunks := func(*rand.Rand) int64 { return 1 << 20 }
	for _, c := range []struct {
		name             string
		cfg              Config
		from, dur        time.Duration
		period           time.Duration
		jitter           float64
		found            bool
		minSev, belowSev schema.Severity // best severity at least minSev, below belowSev (0: no bound)
	}{
		{"4h every 30s ±20%", DefaultConfig(), 9 * time.Hour, 4 * time.Hour, 30 * time.Second, 0.2, true, schema.SeverityMedium, 0},
		{"4h every 30s ±20%, window only", windowOnly, 9 * time.Hour, 4 * time.Hour, 30 * time.Second, 0.2, false, 0, 0},
		{"2h every 60s ±20%", DefaultConfig(), 13 * time.Hour, 2 * time.Hour, time.Minute, 0.2, true, schema.SeverityLow, 0},
		{"update chunks every 2s for 3 min", DefaultConfig(), 10 * time.Hour, 3 * time.Minute, 2 * time.Second, 0.1, false, 0, schema.SeverityMedium},
		{"call keepalive every 5s for 15 min", DefaultConfig(), 10 * time.Hour, 15 * time.Minute, 5 * time.Second, 0.02, false, 0, schema.SeverityMedium},
		{"call keepalive every 20s for 15 min", DefaultConfig(), 10 * time.Hour, 15 * time.Minute, 20 * time.Second, 0.02, false, 0, schema.SeverityMedium},
		{"every 30s for 50 min", DefaultConfig(), 10 * time.Hour, 50 * time.Minute, 30 * time.Second, 0.2, false, 0, schema.SeverityMedium},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			size := fixedSize(640)
			if c.period < 5*time.Second {
				size = chunks
			}
			sigs := burst(t, c.cfg, 31, c.from, c.dur, c.period, c.jitter, size)
			var best seenSignal
			for _, s := range sigs {
				if s.score > best.score {
					best = s
				}
				if c.found && abs(s.period-c.period.Seconds()) > 0.1*c.period.Seconds() {
					t.Errorf("period %v, want %v within 10%%", s.period, c.period)
				}
			}
			t.Logf("%d signals, best %.3f %v over %q", len(sigs), best.score, best.sev, best.over)
			switch {
			case (len(sigs) > 0) != c.found:
				t.Fatalf("%d signals, want found=%v", len(sigs), c.found)
			case c.found && (best.sev < c.minSev || best.over != "active span"):
				t.Fatalf("best %v judged over %q, want at least %v over the active span", best.sev, best.over, c.minSev)
			case c.belowSev != 0 && len(sigs) > 0 && best.sev >= c.belowSev:
				t.Fatalf("best %v, want below %v", best.sev, c.belowSev)
			}
		})
	}
}

// TestGappedBurstsNotSpanJudged: ten minutes every 30 s at 09:00 and again
// at 11:00 span two hours but fill a sixth of it; the pair is judged over
// the window and raises nothing.
func TestGappedBurstsNotSpanJudged(t *testing.T) {
	t.Parallel()
	g := newGen(32)
	g.ntp(10, ntpServers, 48*time.Hour)
	for _, at := range []time.Duration{33 * time.Hour, 35 * time.Hour} {
		g.beacon(host(7), ext("203.0.113.9"), 443, "", 30*time.Second, 0.2, t0.Add(at), 10*time.Minute, fixedSize(640))
	}
	d := newDriver(t, DefaultConfig())
	d.a.cfg.Severity.Low = 0.01 // see every score
	d.feed(g.sorted())
	d.advance(d.maxT.Add(time.Hour))
	sigs := byKey(d.sigs)["beacon|10.0.1.7|203.0.113.9|443"]
	if len(sigs) == 0 {
		t.Fatal("the pair was never scored")
	}
	for _, s := range sigs {
		if s.Score >= DefaultConfig().Severity.Low || fact(s, "judged_over") != "window" {
			t.Fatalf("score %.3f judged over %q (span fill %s)", s.Score, fact(s, "judged_over"), fact(s, "span_fill"))
		}
	}
}

// TestBrowsingStaysQuiet: people browsing (heavy-tailed gaps, bursts of
// page loads) over three days are never judged over their active span:
// their median interval is far below their mean. With the analyzer running
// since midnight (NTP on every host) no browsing pair reaches low even
// before prevalence. Started by the browsing itself at 08:00 the window
// judgement alone (unchanged from RITA's) already scores some pairs above
// low before prevalence, so there only the span judgement is checked.
func TestBrowsingStaysQuiet(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		ntp      bool
		checkRaw bool
	}{{"running since midnight", true, true}, {"fresh start at 08:00", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGen(22)
			if c.ntp {
				g.ntp(hosts, ntpServers, 72*time.Hour)
			}
			for h := 1; h <= 12; h++ {
				g.browsing(h, sites, siteNames, 3)
			}
			d := newDriver(t, DefaultConfig())
			d.a.cfg.Severity.Low = 0.01 // see every score
			d.feed(g.sorted())
			d.advance(d.maxT.Add(time.Hour))
			top, pairs := 0.0, map[string]bool{}
			for _, s := range d.sigs {
				if s.Port == 123 {
					continue // NTP
				}
				// The raw score, before prevalence: twelve hosts browsing
				// the same sites can make them common.
				raw, err := strconv.ParseFloat(fact(s, "score_raw"), 64)
				if err != nil {
					t.Fatal(err)
				}
				pairs[s.Key] = true
				top = max(top, raw)
				if (c.checkRaw && raw >= DefaultConfig().Severity.Low) || fact(s, "judged_over") != "window" {
					t.Errorf("%s at %v: raw score %.3f judged over %q (span fill %s)", s.Key, s.End, raw,
						fact(s, "judged_over"), fact(s, "span_fill"))
				}
			}
			if len(pairs) < 50 {
				t.Fatalf("only %d browsing pairs scored", len(pairs))
			}
			t.Logf("%d pairs, top raw score %.3f", len(pairs), top)
		})
	}
}

// TestSpanNeed: the active span a span judgement needs is relative to the
// period, between duration_floor and duration_min, and duration_ideal
// scales with it.
func TestSpanNeed(t *testing.T) {
	t.Parallel()
	off := DefaultConfig()
	off.ActiveSpan = false
	for _, c := range []struct {
		name        string
		cfg         Config
		period      float64 // seconds
		span        int64
		fill        float64
		need, ideal time.Duration
		ok          bool
	}{
		{"2s, floor", DefaultConfig(), 2, 3 * 3600, 1, time.Hour, 2 * time.Hour, true},
		{"30s, floor", DefaultConfig(), 30, 3599, 1, time.Hour, 2 * time.Hour, false},
		{"60s, 100 periods", DefaultConfig(), 60, 2 * 3600, 1, 100 * time.Minute, 200 * time.Minute, true},
		{"120s, 100 periods", DefaultConfig(), 120, 3 * 3600, 1, 200 * time.Minute, 400 * time.Minute, false},
		{"5m, duration_min", DefaultConfig(), 300, 6 * 3600, 1, 6 * time.Hour, 12 * time.Hour, true},
		{"1h, duration_min", DefaultConfig(), 3600, 5 * 3600, 1, 6 * time.Hour, 12 * time.Hour, false},
		{"sparse", DefaultConfig(), 30, 4 * 3600, 0.3, time.Hour, 2 * time.Hour, false},
		{"off", off, 30, 4 * 3600, 1, time.Hour, 2 * time.Hour, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sc := scorer{cfg: &c.cfg}
			r := result{period: c.period, activeSpan: c.span, fill: c.fill}
			need, ideal, ok := sc.spanNeed(&r)
			if time.Duration(need)*time.Second != c.need || time.Duration(ideal)*time.Second != c.ideal || ok != c.ok {
				t.Fatalf("need %ds ideal %ds ok %v, want %v %v %v", need, ideal, ok, c.need, c.ideal, c.ok)
			}
		})
	}
}
