package netsim

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// streamOptions is the run TestStream checks: 30 hosts over ten days
// (about 1.7 M records), or two days in -short mode and under the race
// detector.
func streamOptions() Options {
	if testing.Short() || raceEnabled {
		return Options{Seed: 11, Hosts: 30, Days: 2, AttackDay: 1}
	}
	return Options{Seed: 11, Hosts: 30, Days: 10}
}

// tally is what TestStream gathers in its one pass over the run.
type tally struct {
	n, maxQueue, maxSlab int
	perDay               []Counts
	match, wide, flows   []int         // per truth: records matched, matched over the whole run, flows matched
	starts               [][]time.Time // per truth: flow start times
	bad                  []string      // scenario records with the wrong shape
	wsHour               [2][24]int    // browsing flows from workstations by [workday][hour]
	siteHosts            map[netip.Addr]map[netip.Addr]bool
	spikeHours           map[int]int // connections of the spike host by hour since the start
}

// TestStream runs one generator through Vigil's real Zeek JSON mapper and
// flow.FromEvent and checks the stream: order, that every record maps and
// reads back with what the generator meant, the ground truth against the
// records, the office rhythm, site popularity, and bounded memory. It prints
// the volume per day.
func TestStream(t *testing.T) {
	t.Parallel()
	g := mustNew(t, streamOptions())
	all := append(g.Truth(), g.Benign()...)
	if len(g.Truth()) != len(Scenarios()) {
		t.Fatalf("Truth has %d entries, want one per scenario (%d)", len(g.Truth()), len(Scenarios()))
	}
	ty := &tally{perDay: make([]Counts, g.o.Days), siteHosts: map[netip.Addr]map[netip.Addr]bool{},
		spikeHours: map[int]int{}}
	ty.match, ty.wide, ty.flows = make([]int, len(all)), make([]int, len(all)), make([]int, len(all))
	ty.starts = make([][]time.Time, len(all))
	net := g.Network()
	start := time.Now()
	var last time.Time
	drive(t, g, func(s *seen) {
		ty.n++
		if s.r.Time.Before(last) || s.r.Time.Before(g.Start()) || !s.r.Time.Before(g.End()) {
			t.Fatalf("record %d at %v is out of order (previous %v) or outside the run", ty.n, s.r.Time, last)
		}
		last = s.r.Time
		checkRecord(t, s)
		ty.observe(g, all, s, &net)
	})
	t.Logf("%d records mapped and checked in %v", ty.n, time.Since(start).Round(time.Millisecond))
	logVolume(t, g, ty)
	t.Run("truth", func(t *testing.T) { checkTruth(t, g, all, ty) })
	t.Run("rhythm", func(t *testing.T) { checkRhythm(t, ty) })
	t.Run("spike", func(t *testing.T) { checkSpike(t, g, all[len(Scenarios())-1], ty) })
	t.Run("popularity", func(t *testing.T) { checkPopularity(t, ty, len(net.Hosts)-9) })
	t.Run("memory", func(t *testing.T) {
		t.Logf("largest queue %d entries, record slab %d", ty.maxQueue, ty.maxSlab)
		if lim := 40 * g.o.Hosts; ty.maxQueue > lim || ty.maxSlab > lim {
			t.Errorf("queue %d / slab %d exceed %d (40 per host)", ty.maxQueue, ty.maxSlab, lim)
		}
	})
}

// checkRecord checks that the mapped event and its flow view say what the
// generator meant.
func checkRecord(t *testing.T, s *seen) {
	r, ev, fr := s.src, &s.ev, &s.fr
	if !ev.Timestamp.Equal(s.r.Time) || s.r.Time.UnixMicro() != r.at {
		t.Fatalf("ts: event %v, record %v, generator %d\n%s", ev.Timestamp, s.r.Time, r.at, s.r.JSON)
	}
	want := func(ok bool, what string) {
		if !ok {
			t.Fatalf("%s wrong: flow %+v\n%s", what, *fr, s.r.JSON)
		}
	}
	if r.log == logSSL {
		want(s.has == (r.name != ""), "flow view of an ssl record")
		want(!s.has || (fr.Kind == flow.KindApp && fr.Name == r.name), "ssl server name")
		return
	}
	want(s.has, "flow view")
	want(fr.Src == addrOf(r.src) && fr.Dst == addrOf(r.dst) && fr.SrcPort == r.sport && fr.DstPort == r.dport,
		"endpoints")
	if r.log == logDNS {
		want(fr.Kind == flow.KindDNS && fr.Name == r.name && fr.QType == qtypeName(r.qtype) &&
			fr.RCode == rcodeName(r.rcode), "dns query")
		want((r.ansKind == ansNone) == (len(ev.DNS.Answers) == 0), "dns answers")
		return
	}
	want(fr.Kind == flow.KindFlow && fr.Proto == r.proto && fr.State == flowState(r.state) &&
		fr.Service == r.svc, "kind, proto, state or service")
	want(fr.PktsOut == r.op && fr.PktsIn == r.rp, "packets")
	if r.op+r.rp > 1 {
		want(fr.BytesOut == r.ob && fr.BytesIn == r.rb, "bytes")
		d := fr.Duration() - time.Duration(r.end-r.at)*time.Microsecond
		want(d >= -time.Microsecond && d <= time.Microsecond, "duration")
	} else {
		want(fr.Bytes() == 0 && fr.Duration() == 0, "one-packet connection")
	}
}

// observe adds one record to the tally.
func (ty *tally) observe(g *Generator, all []Truth, s *seen, net *Network) {
	ty.maxQueue, ty.maxSlab = max(ty.maxQueue, len(g.q)), max(ty.maxSlab, len(g.slab))
	day, hour := g.dayOf(s.src.at)
	c := &ty.perDay[day]
	c.Records++
	c.JSONBytes += int64(len(s.r.JSON))
	switch s.src.log {
	case logConn:
		c.Conn++
		c.WireBytes += s.src.ob + s.src.rb
	case logDNS:
		c.DNS++
	case logSSL:
		c.SSL++
	}
	if !s.has {
		return
	}
	fr := &s.fr
	ty.observeTruth(g, all, fr)
	if fr.Kind == flow.KindFlow && fr.Src == all[len(Scenarios())-1].Src {
		ty.spikeHours[int((s.src.at-g.days[0])/3600e6)]++
	}
	if fr.Kind == flow.KindFlow && net.SitesPrefix.Contains(fr.Dst) && strings.HasPrefix(s.ev.Source.IP, "10.10.3.") {
		wd := 0
		if g.workday(day) {
			wd = 1
		}
		ty.wsHour[wd][int(hour)]++
		if ty.siteHosts[fr.Dst] == nil {
			ty.siteHosts[fr.Dst] = map[netip.Addr]bool{}
		}
		ty.siteHosts[fr.Dst][fr.Src] = true
	}
}

// observeTruth counts the record against every truth entry and checks the
// shape of scenario records.
func (ty *tally) observeTruth(g *Generator, all []Truth, fr *flow.Record) {
	for i := range all {
		tr := &all[i]
		if tr.Src.IsValid() && fr.Src != tr.Src {
			continue
		}
		wide := *tr
		wide.Start, wide.End = g.Start(), g.End()
		if !wide.Matches(fr) {
			continue
		}
		ty.wide[i]++
		if !tr.Matches(fr) {
			continue
		}
		ty.match[i]++
		if fr.Kind == flow.KindFlow {
			ty.flows[i]++
			if !tr.Benign {
				ty.starts[i] = append(ty.starts[i], fr.Start)
			}
		}
		switch tr.Scenario {
		case ScenarioDNSTunnel:
			label, _, _ := strings.Cut(fr.Name, ".")
			if fr.QType != "TXT" || len(label) < 50 || len(label) > 60 {
				ty.bad = append(ty.bad, "tunnel query "+fr.Name+" "+fr.QType)
			}
		case ScenarioDGA:
			if !strings.HasSuffix(fr.Name, ".com") && !strings.HasSuffix(fr.Name, ".net") {
				ty.bad = append(ty.bad, "dga name "+fr.Name)
			}
		}
	}
}

// checkTruth checks every truth entry against the records it matched.
func checkTruth(t *testing.T, g *Generator, all []Truth, ty *tally) {
	for _, bad := range ty.bad {
		t.Errorf("scenario record: %s", bad)
	}
	for i, tr := range all {
		m, flows := ty.match[i], ty.flows[i]
		t.Logf("%-19s %-15s %-6v records %7d flows %7d  %s", tr.Scenario, tr.Kind, tr.Benign, m, flows, tr.Description)
		if m == 0 {
			t.Errorf("%s: no record matches %+v", tr.Scenario, tr)
			continue
		}
		if !tr.Benign && tr.Kind != flow.SignalBaseline && ty.wide[i] != m {
			t.Errorf("%s: %d records match outside [%v, %v]", tr.Scenario, ty.wide[i]-m, tr.Start, tr.End)
		}
		primary := flows
		if tr.Kind == flow.SignalDGA {
			primary = m
		}
		if tr.Count > 0 && primary != tr.Count {
			t.Errorf("%s: %d records, truth says %d", tr.Scenario, primary, tr.Count)
		}
		if tr.Kind == flow.SignalBeacon && !tr.Benign {
			checkBeacon(t, tr, ty.starts[i])
		}
	}
	checkBenignVolumes(t, g, all, ty)
}

// checkBeacon checks a beacon's connections: their number and the period
// and jitter the truth states.
func checkBeacon(t *testing.T, tr Truth, starts []time.Time) {
	p := tr.Period.Seconds()
	want := tr.End.Sub(tr.Start).Seconds() / p
	if n := float64(len(starts)); n < 0.85*want || n > 1.15*want+1 {
		t.Errorf("%s: %d connections, want about %.0f", tr.Scenario, len(starts), want)
	}
	var iv []float64
	for k := 1; k < len(starts); k++ {
		d := starts[k].Sub(starts[k-1]).Seconds()
		if d < p*(1-tr.Jitter)-1 || d > p*(1+tr.Jitter)+1 {
			t.Errorf("%s: interval %.1fs outside the stated %.0fs ± %.0f%%", tr.Scenario, d, p, 100*tr.Jitter)
		}
		iv = append(iv, d)
	}
	slices.Sort(iv)
	if med := iv[len(iv)/2]; math.Abs(med-p) > 0.1*p {
		t.Errorf("%s: median interval %.1fs, period %.0fs", tr.Scenario, med, p)
	}
}

// checkBenignVolumes checks the look-alikes happen as often as stated.
func checkBenignVolumes(t *testing.T, g *Generator, all []Truth, ty *tally) {
	hosts, days := float64(g.o.Hosts), float64(g.o.Days)
	for i, tr := range all {
		f := float64(ty.flows[i])
		var lo, hi float64
		switch tr.Scenario {
		case BenignMonitoring:
			lo, hi = 0.99*hosts*days*1440, 1.01*hosts*days*1440
		case BenignAVUpdate:
			lo, hi = hosts*(days*6-1), hosts*days*6*1.4
		case BenignNTP:
			lo, hi = hosts*days*86400/1024, hosts*days*86400/64
		case BenignBackup:
			lo, hi = 4*days, 4*days
		default:
			continue
		}
		if f < lo || f > hi {
			t.Errorf("%s to %v: %.0f flows, want %.0f–%.0f", tr.Scenario, tr.Dst, f, lo, hi)
		}
	}
}

// checkRhythm checks the office rhythm of browsing: busy working hours,
// quiet nights and weekends.
func checkRhythm(t *testing.T, ty *tally) {
	wd := ty.wsHour[1]
	day, night := wd[10]+wd[11]+wd[14]+wd[15], wd[2]+wd[3]+wd[4]+wd[5]
	t.Logf("workday browsing flows by hour: %v", wd)
	t.Logf("weekend browsing flows by hour: %v", ty.wsHour[0])
	if day < 20*max(night, 1) {
		t.Errorf("workday 10–12 and 14–16: %d flows, 02–06: %d; want a strong diurnal rhythm", day, night)
	}
	var we, wk int
	for h := range 24 {
		we, wk = we+ty.wsHour[0][h], wk+wd[h]
	}
	if we > 0 && we*3 > wk {
		t.Errorf("weekend browsing %d flows against %d on workdays; want quiet weekends", we, wk)
	}
}

// checkPopularity checks that site popularity is heavy-tailed: a few sites
// most workstations visit, many that few do.
func checkPopularity(t *testing.T, ty *tally, ws int) {
	var counts []int
	for _, hs := range ty.siteHosts {
		counts = append(counts, len(hs))
	}
	slices.Sort(counts)
	few := 0
	for _, c := range counts {
		if c <= 2 {
			few++
		}
	}
	top := counts[len(counts)-1]
	t.Logf("%d sites visited; most popular by %d of %d workstations; %d by at most two", len(counts), top, ws, few)
	if top < ws*8/10 || few*4 < len(counts) {
		t.Errorf("popularity is not heavy-tailed: top site %d/%d hosts, %d of %d sites by ≤ 2 hosts",
			top, ws, few, len(counts))
	}
}

// logVolume prints the volume per day.
func logVolume(t *testing.T, g *Generator, ty *tally) {
	for d, c := range ty.perDay {
		t.Logf("day %2d %-9s records %8d (conn %7d, dns %6d, ssl %7d)  JSON %6.1f MB  wire %7.1f GB",
			d+1, time.Weekday(g.wd[d]), c.Records, c.Conn, c.DNS, c.SSL, float64(c.JSONBytes)/1e6,
			float64(c.WireBytes)/1e9)
	}
	c := g.Counts()
	t.Logf("total  records %d (%.0f per day), JSON %.1f MB (%.0f bytes per record)", c.Records,
		float64(c.Records)/float64(g.o.Days), float64(c.JSONBytes)/1e6, float64(c.JSONBytes)/float64(c.Records))
}

// checkSpike checks the spike host opens about ten times its usual
// connections in the spike hour: its median over the same hour of the
// working days before.
func checkSpike(t *testing.T, g *Generator, tr Truth, ty *tally) {
	if tr.Scenario != ScenarioSpike {
		t.Fatalf("the last truth entry is %s, not the spike", tr.Scenario)
	}
	at := int(tr.Start.Sub(g.Start()).Hours())
	var before []int
	for h := at % 24; h < at; h += 24 {
		if g.workday(h / 24) {
			before = append(before, ty.spikeHours[h])
		}
	}
	if len(before) == 0 {
		t.Skip("no working day before the spike to compare with")
	}
	slices.Sort(before)
	usual := float64(max(before[len(before)/2], 1))
	f := float64(ty.spikeHours[at]) / usual
	t.Logf("spike host: %d connections in the spike hour, usually %.0f (×%.1f); same hour before: %v",
		ty.spikeHours[at], usual, f, before)
	if f < 7 || f > 14 {
		t.Errorf("the spike is ×%.1f, want about ×10", f)
	}
}
