package beacon

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

const hosts = 50

var (
	ntpServers = []netip.Addr{ext("192.0.2.123"), ext("192.0.2.124")}
	monitorIP  = ext("198.51.100.10")
	sites      = []netip.Addr{ext("203.0.113.80"), ext("203.0.113.81"), ext("203.0.113.82"), ext("203.0.113.83"),
		ext("203.0.113.84"), ext("203.0.113.85"), ext("203.0.113.86"), ext("203.0.113.87")}
	siteNames = []string{"news.example", "mail.example", "video.example", "shop.example",
		"wiki.example", "social.example", "search.example", "maps.example"}
)

// beaconCase is one planted beacon.
type beaconCase struct {
	name   string
	host   int
	dst    netip.Addr
	port   uint16
	sni    string
	period time.Duration
	size   func(*rand.Rand) int64
}

var beaconCases = []beaconCase{
	{"30s", 31, ext("203.0.113.30"), 443, "", 30 * time.Second, fixedSize(900)},
	{"60s", 32, ext("203.0.113.60"), 443, "c2-60.example", time.Minute, fixedSize(1200)},
	{"300s", 33, ext("203.0.113.61"), 8443, "", 5 * time.Minute, fixedSize(700)},
	{"900s", 34, ext("203.0.113.62"), 443, "c2-900.example", 15 * time.Minute, fixedSize(3000)},
	{"3600s", 35, ext("203.0.113.63"), 443, "", time.Hour, fixedSize(500)},
	{"300s random sizes", 36, ext("203.0.113.64"), 80, "",
		5 * time.Minute, func(r *rand.Rand) int64 { return 200 + r.Int64N(4800) }},
}

// scenario: two days of NTP, a monitoring agent and office browsing on 50
// hosts, plus the planted beacons with ±20% uniform jitter.
func scenario(seed uint64, days int, beacons []beaconCase) []flow.Record {
	g := newGen(seed)
	dur := time.Duration(days) * 24 * time.Hour
	g.ntp(hosts, ntpServers, dur)
	g.monitoring(hosts, monitorIP, "agent.monitor.example", dur)
	for h := 1; h <= 12; h++ {
		g.browsing(h, sites, siteNames, days)
	}
	for _, b := range beacons {
		g.beacon(host(b.host), b.dst, b.port, b.sni, b.period, 0.2, t0, dur, b.size)
	}
	return g.sorted()
}

func beaconKey(b beaconCase) string {
	return "beacon|" + host(b.host).String() + "|" + b.dst.String() + "|" + strconv.Itoa(int(b.port))
}

func TestScenarioBeaconsAndBenign(t *testing.T) {
	t.Parallel()
	recs := scenario(1, 2, beaconCases)
	d := newDriver(t, DefaultConfig())
	d.feed(recs)
	d.advance(d.maxT)
	got := byKey(d.sigs)
	for _, b := range beaconCases {
		sigs := got[beaconKey(b)]
		if len(sigs) == 0 {
			t.Errorf("%s beacon: no signal", b.name)
			continue
		}
		best := sigs[0]
		for _, s := range sigs {
			p, err := strconv.ParseFloat(fact(s, "period_s"), 64)
			if err != nil || abs(p-b.period.Seconds()) > 0.1*b.period.Seconds() {
				t.Errorf("%s beacon: period %q at %v, want %v within 10%%", b.name, fact(s, "period_s"), s.End, b.period)
			}
			if s.Score > best.Score {
				best = s
			}
		}
		t.Logf("%s: %d signals, best %.3f %v: %s", b.name, len(sigs), best.Score, best.Severity, best.Title)
		want := schema.SeverityHigh
		if strings.Contains(b.name, "random sizes") {
			want = schema.SeverityMedium
		}
		if best.Severity < want {
			t.Errorf("%s beacon: best severity %v, want at least %v", b.name, best.Severity, want)
		}
		if b.sni != "" && len(got["beacon|"+host(b.host).String()+"|name|"+b.sni]) == 0 {
			t.Errorf("%s beacon: no signal for the server name %s", b.name, b.sni)
		}
	}
	planted := map[string]bool{}
	for _, b := range beaconCases {
		planted[host(b.host).String()] = true
	}
	for k, sigs := range got {
		if planted[sigs[0].Host.String()] {
			continue
		}
		for _, s := range sigs {
			if s.Severity >= schema.SeverityHigh {
				t.Errorf("benign %s: %v signal %q score %.3f", k, s.Severity, s.Title, s.Score)
			}
		}
		t.Logf("benign %s: %d signals, e.g. %.3f %s", k, len(sigs), sigs[0].Score, sigs[0].Title)
	}
	st := d.a.Stats()
	t.Logf("stats %v, %d bytes, counts %+v", st.Entities, st.Bytes, d.a.Counts())
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestTitleAndFacts(t *testing.T) {
	t.Parallel()
	b := beaconCases[1]
	d := newDriver(t, DefaultConfig())
	d.feed(scenario(2, 1, []beaconCase{b}))
	d.advance(d.maxT)
	sigs := byKey(d.sigs)[beaconKey(b)]
	if len(sigs) == 0 {
		t.Fatal("no signal")
	}
	s := sigs[len(sigs)-1]
	if !strings.HasPrefix(s.Title, "beacon every ~60s (±") || !strings.HasSuffix(s.Title, "from 10.0.1.32 to 203.0.113.60:443") {
		t.Errorf("title %q", s.Title)
	}
	if s.Kind != flow.SignalBeacon || s.Detector != Name || s.Host != host(32) || s.Peer != b.dst || s.Port != 443 {
		t.Errorf("signal %+v", s)
	}
	if len(s.Evidence) == 0 || len(s.Evidence) > 10 {
		t.Errorf("evidence %v", s.Evidence)
	}
	for _, k := range []string{"period_s", "jitter", "connections", "coverage", "score_timestamp", "score_size",
		"score_histogram", "score_duration", "prevalence_hosts", "population", "score"} {
		if fact(s, k) == "" {
			t.Errorf("fact %s missing", k)
		}
	}
	if !strings.Contains(strings.Join(s.Tags, ","), "attack.t1071") {
		t.Errorf("tags %v", s.Tags)
	}
	t.Logf("%s %v", s.Title, s.Facts)
}
