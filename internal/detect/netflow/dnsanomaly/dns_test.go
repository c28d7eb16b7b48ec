package dnsanomaly

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestTunnels: generated tunnels among 50 hosts' ordinary traffic are
// found, high, with the tunnelling host on top.
func TestTunnels(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, alphabet, qtype string
		rate                  float64
		min                   schema.Severity
	}{
		{"base32 TXT 1/s", base32Alpha, "TXT", 1, schema.SeverityHigh},
		{"hex TXT 5/s", hexAlpha, "TXT", 5, schema.SeverityHigh},
		{"base32 NULL 2/s", base32Alpha, "NULL", 2, schema.SeverityHigh},
		{"hex A 1/s", hexAlpha, "A", 1, schema.SeverityMedium},
		{"base32 CNAME 0.2/s", base32Alpha, "CNAME", 0.2, schema.SeverityHigh},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGen(1)
			g.background(50, t0, 3*time.Hour)
			tun := host(23)
			g.tunnel(tun, "exfil-tunnel.example", c.alphabet, c.qtype, c.rate, t0.Add(30*time.Minute), 2*time.Hour)
			d := newDriver(t, DefaultConfig())
			d.feed(g.sorted())
			d.advance(d.maxT.Add(time.Hour))
			sigs := byKey(d.sigs)["dns_tunnel|exfil-tunnel.example"]
			if len(sigs) == 0 {
				t.Fatalf("no signal; got:\n%s", summary(d.sigs))
			}
			b := best(sigs)
			if b.Severity < c.min || b.Host != tun || b.PeerName != "exfil-tunnel.example" {
				t.Fatalf("best signal %v host %v: %s %v", b.Severity, b.Host, b.Title, b.Facts)
			}
			if !strings.HasPrefix(fact(b, "top_hosts"), tun.String()+" (") {
				t.Errorf("top hosts %q", fact(b, "top_hosts"))
			}
			for _, s := range d.sigs {
				if s.Key != "dns_tunnel|exfil-tunnel.example" {
					t.Errorf("benign signal %s: %s", s.Key, s.Title)
				}
			}
			t.Logf("%s %v", b.Title, b.Facts)
		})
	}
}

// TestTunnelLookAlikes: CDN and cloud names (many distinct, short or low
// entropy) raise nothing; anti-virus hash lookups from most hosts raise
// nothing high — and without the prevalence factor they would score.
func TestTunnelLookAlikes(t *testing.T) {
	t.Parallel()
	g := newGen(2)
	g.background(50, t0, 4*time.Hour)
	g.avLookups(30, t0, 4*time.Hour)
	recs := g.sorted()
	noPrev := DefaultConfig()
	noPrev.Tunnel.Prevalence.Factor = 1
	for _, c := range []struct {
		name    string
		cfg     Config
		avScore float64 // the anti-virus domain's best score must be at least this
		avMax   float64 // and below this
	}{
		{"defaults", DefaultConfig(), 0, DefaultConfig().Tunnel.Severity.Low},
		{"prevalence off", noPrev, DefaultConfig().Tunnel.Severity.Low, DefaultConfig().Tunnel.Severity.High},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDriver(t, c.cfg)
			d.feed(recs)
			d.advance(d.maxT.Add(time.Hour))
			for _, s := range d.sigs {
				if s.PeerName != "av-vendor.example" {
					t.Errorf("signal for %s: %s %v", s.PeerName, s.Title, s.Facts)
				}
				if s.Severity >= schema.SeverityHigh {
					t.Errorf("high signal: %s", s.Title)
				}
			}
			av := best(byKey(d.sigs)["dns_tunnel|av-vendor.example"])
			if av.Score < c.avScore || av.Score >= c.avMax {
				t.Errorf("anti-virus domain scored %.3f, want in [%.2f, %.2f)", av.Score, c.avScore, c.avMax)
			}
			t.Logf("signals:\n%s", summary(d.sigs))
		})
	}
}

// TestDGA: NXDOMAIN bursts of random names are found; a retried typo, a
// misconfigured search domain and an ad-blocking resolver are not high.
func TestDGA(t *testing.T) {
	t.Parallel()
	bad := host(40)
	for _, c := range []struct {
		name string
		add  func(g *gen)
		min  schema.Severity // 0: no signal at all
		max  schema.Severity // highest severity allowed
	}{
		{"letters burst of 60", func(g *gen) { g.dga(bad, "abcdefghijklmnopqrstuvwxyz", 60, t0.Add(20*time.Minute), 3*time.Minute) },
			schema.SeverityHigh, schema.SeverityHigh},
		{"alphanumeric burst of 30", func(g *gen) {
			g.dga(bad, "abcdefghijklmnopqrstuvwxyz0123456789", 30, t0.Add(20*time.Minute), 4*time.Minute)
		}, schema.SeverityHigh, schema.SeverityHigh},
		{"slow trickle under the threshold", func(g *gen) { g.dga(bad, base32Alpha, 20, t0.Add(20*time.Minute), 8*time.Minute) }, 0, 0},
		{"retried typo", func(g *gen) {
			for i := range 40 {
				g.query(t0.Add(20*time.Minute+time.Duration(i)*5*time.Second), bad, "wwww.gooogle-mail.example", "A", "NXDOMAIN")
			}
		}, 0, 0},
		{"misconfigured search domain", func(g *gen) {
			for i := range 60 {
				n := []string{"www.news.example", "api.video.example", "cdn" + strconv.Itoa(i) + ".qzxv-edge.example",
					"login.sso.example"}[i%4]
				g.query(t0.Add(20*time.Minute+time.Duration(i)*3*time.Second), bad, n+".branch-office.corp.example", "A", "NXDOMAIN")
			}
		}, 0, 0},
		{"ad-blocking resolver", func(g *gen) { g.wordy(bad, 45, t0.Add(20*time.Minute), 3*time.Minute) }, 0, schema.SeverityMedium},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGen(3)
			g.background(20, t0, time.Hour)
			c.add(g)
			d := newDriver(t, DefaultConfig())
			d.feed(g.sorted())
			d.advance(d.maxT.Add(time.Hour))
			sigs := byKey(d.sigs)["dga|"+bad.String()]
			if len(d.sigs) != len(sigs) {
				t.Errorf("other signals:\n%s", summary(d.sigs))
			}
			b := best(sigs)
			if (c.min == 0 && c.max == 0 && len(sigs) > 0) || (c.min > 0 && b.Severity < c.min) || b.Severity > c.max {
				t.Fatalf("best %v (%.3f) %s %v; want between %v and %v", b.Severity, b.Score, b.Title, b.Facts, c.min, c.max)
			}
			if len(sigs) > 0 {
				t.Logf("%s %v", b.Title, b.Facts)
			}
		})
	}
}

// TestSignalContents checks titles, keys, facts, evidence and tags.
func TestSignalContents(t *testing.T) {
	t.Parallel()
	g := newGen(4)
	g.tunnel(host(9), "data-pipe.example", base32Alpha, "TXT", 2, t0, 70*time.Minute)
	g.dga(host(10), "abcdefghijklmnopqrstuvwxyz", 50, t0.Add(10*time.Minute), 2*time.Minute)
	d := newDriver(t, DefaultConfig())
	d.feed(g.sorted())
	d.advance(d.maxT.Add(time.Hour))
	m := byKey(d.sigs)
	tun, dga := m["dns_tunnel|data-pipe.example"], m["dga|10.0.2.10"]
	if len(tun) != 2 || len(dga) == 0 {
		t.Fatalf("signals:\n%s", summary(d.sigs))
	}
	s := tun[0]
	if !strings.HasPrefix(s.Title, "possible DNS tunnel to data-pipe.example: ") || !strings.Contains(s.Title, "top host 10.0.2.9") ||
		s.Start != t0 || s.End != t0.Add(time.Hour) || s.Metric != "unique_subdomain_bytes_per_hour" || s.Current <= 0 {
		t.Errorf("tunnel signal %+v", s)
	}
	for _, k := range []string{"queries", "distinct_subdomains", "bytes_per_hour", "mean_label_len", "max_label_len",
		"entropy_bits", "data_type_share", "qtype_txt", "top_hosts", "prevalence_hosts", "score"} {
		if fact(s, k) == "" {
			t.Errorf("tunnel fact %s missing", k)
		}
	}
	if q, _ := strconv.Atoi(fact(s, "queries")); q < 5000 || q > 9500 {
		t.Errorf("queries %d, want about 7200", q)
	}
	x := dga[0]
	if !strings.HasPrefix(x.Title, "DGA-like NXDOMAIN burst from 10.0.2.10: 50 names across ") ||
		fact(x, "nxdomain_names") != "50" || len(strings.Split(fact(x, "samples"), ", ")) != 5 {
		t.Errorf("dga signal %s %v", x.Title, x.Facts)
	}
	for _, s := range d.sigs {
		if len(s.Evidence) == 0 || len(s.Evidence) > 10 || len(s.Tags) < 2 {
			t.Errorf("%s: evidence %v tags %v", s.Key, s.Evidence, s.Tags)
		}
	}
}

// TestOutOfOrderWithinLateness: records shuffled within 60 s give the same
// findings as sorted input: same keys, windows and severities, scores
// within 0.01 (the unique-bytes figure is exact only for the first 64
// distinct subdomains to arrive, so it may move slightly).
func TestOutOfOrderWithinLateness(t *testing.T) {
	t.Parallel()
	sorted := mixed(16)
	shuffled := slices.Clone(sorted)
	g := newGen(17)
	for i := 0; i < len(shuffled); {
		j := i
		for j < len(shuffled) && shuffled[j].Start.Sub(shuffled[i].Start) < time.Minute {
			j++
		}
		g.rng.Shuffle(j-i, func(a, b int) { shuffled[i+a], shuffled[i+b] = shuffled[i+b], shuffled[i+a] })
		i = j
	}
	run := func(recs []flow.Record) []flow.Signal {
		d := newDriver(t, DefaultConfig())
		d.feed(recs)
		d.advance(t0.Add(5 * time.Hour))
		return d.sigs
	}
	a, b := run(sorted), run(shuffled)
	if len(a) < 3 || len(a) != len(b) {
		t.Fatalf("sorted input gave %d signals, shuffled %d:\n%s\nvs\n%s", len(a), len(b), summary(a), summary(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Key != y.Key || !x.Start.Equal(y.Start) || !x.End.Equal(y.End) || x.Severity != y.Severity ||
			x.Score-y.Score > 0.01 || y.Score-x.Score > 0.01 || x.Host != y.Host {
			t.Errorf("signal %d differs:\n%s %v %.3f\n%s %v %.3f", i, x.Title, x.Severity, x.Score, y.Title, y.Severity, y.Score)
		}
	}
}
