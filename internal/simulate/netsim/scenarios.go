package netsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// The attacker's infrastructure. Addresses are from the RFC 5737
// documentation ranges, which no benign activity uses, so each is never
// seen before its scenario.
const (
	// The demo simulator's beacon: ws-03 to update-check.example.org.
	sniBeaconHost = "ws-03"
	sniBeaconName = "update-check.example.org"
	sniBeaconIP   = 203<<24 | 0<<16 | 113<<8 | 200
	// The demo simulator's first scanner.
	scannerIP    = 198<<24 | 51<<16 | 100<<8 | 201
	tunnelDomain = "cloud-syncer.net"
)

// plan holds what the scenario planner draws, in a fixed order, so the
// scenarios a run enables do not change the others.
type plan struct {
	g    *Generator
	rng  *rand.Rand
	pool []*hostInfo // workstations free for scenarios, shuffled
	c2   []uint32    // command-and-control addresses, shuffled
	drop []uint32    // exfiltration drop addresses, shuffled
}

func (p *plan) host() *hostInfo {
	h := p.pool[0]
	p.pool = p.pool[1:]
	return h
}

func (p *plan) take(list *[]uint32) uint32 {
	ip := (*list)[0]
	*list = (*list)[1:]
	return ip
}

// at returns the local time hours into the day offset days after the
// attack day, plus up to a minute so scenarios do not start on the second,
// in µs since the epoch.
func (p *plan) at(offset int, hours float64) int64 {
	return p.g.clock(p.g.attackDay(offset), hours) + secs(60*p.rng.Float64())
}

func (g *Generator) tm(us int64) time.Time { return time.UnixMicro(us).In(g.o.Start.Location()) }

// addScenarios plans every scenario, schedules the enabled ones and lists
// them in g.truth.
func (g *Generator) addScenarios() {
	p := &plan{g: g, rng: newRand(g.o.Seed, streamID("scenario-plan", 0))}
	for _, i := range g.net.ws {
		h := &g.net.hosts[i]
		if !h.admin && !h.dba && h.name != sniBeaconHost {
			p.pool = append(p.pool, h)
		}
	}
	p.rng.Shuffle(len(p.pool), func(i, j int) { p.pool[i], p.pool[j] = p.pool[j], p.pool[i] })
	for i := 1; i < 255; i++ {
		if i != 25 && i != 200 {
			p.c2 = append(p.c2, ip4(203, 0, 113, byte(i)))
		}
		if i != 25 && i != 26 && i != 201 {
			p.drop = append(p.drop, ip4(198, 51, 100, byte(i)))
		}
	}
	p.rng.Shuffle(len(p.c2), func(i, j int) { p.c2[i], p.c2[j] = p.c2[j], p.c2[i] })
	p.rng.Shuffle(len(p.drop), func(i, j int) { p.drop[i], p.drop[j] = p.drop[j], p.drop[i] })
	p.beacons()
	p.exfil()
	p.dns()
	p.newTalkers()
	p.scans()
	p.longSSH()
	p.spike()
}

// add schedules a (when the scenario is enabled) and records its truth.
func (p *plan) add(a activity, first int64, t Truth) {
	if !enabled(p.g.o.Scenarios, t.Scenario) {
		return
	}
	if t.Src.IsValid() {
		if h, ok := p.g.net.byIP(t.Src); ok {
			t.SrcName = h.name
		}
	}
	if t.Dst.IsValid() {
		if h, ok := p.g.net.byIP(t.Dst); ok {
			t.DstName = h.name
		}
	}
	p.g.schedule(a, first)
	p.g.truth = append(p.g.truth, t)
}

// beacons plans the jittered C2 beacons: five to addresses at periods from
// 30 s to an hour, and one to a named server through TLS.
func (p *plan) beacons() {
	for _, b := range []struct {
		name         string
		period       float64
		offset       int
		from, hours  float64 // local start hour and duration; 0 = to the end of the run
		port         uint16
		svc          string
		obase, rbase float64
	}{
		{ScenarioBeacon30s, 30, 0, 9, 4, 443, "ssl", 420, 180},
		{ScenarioBeacon60s, 60, 0, 13, 12, 8443, "ssl", 610, 240},
		{ScenarioBeacon300s, 300, 0, 10, 24, 80, "http", 350, 520},
		{ScenarioBeacon900s, 900, 0, 8, 48, 443, "ssl", 900, 310},
		{ScenarioBeacon3600s, 3600, 0, 0.5, 0, 443, "ssl", 1200, 640},
		{ScenarioBeaconSNI, 120, 0, 11, 24, 443, "ssl", 760, 1100},
	} {
		src, dst, sni := p.host(), p.take(&p.c2), ""
		if b.name == ScenarioBeaconSNI {
			h, _ := p.g.net.byName(sniBeaconHost)
			src, dst, sni = h, sniBeaconIP, sniBeaconName
		}
		start := p.at(b.offset, b.from)
		until := p.g.end
		if b.hours > 0 {
			until = min(until, start+secs(b.hours*3600))
		}
		first := start + secs(p.rng.Float64()*b.period)
		a := &beaconAct{src: src.ip, dst: dst, port: b.port, svc: b.svc, sni: sni, period: b.period, jitter: 0.2,
			until: until, ob: b.obase, rb: b.rbase, rng: newRand(p.g.o.Seed, streamID(b.name, 0)),
			fc: newFlowCtx(p.g.o.Seed, streamID(b.name+"-flows", 0), false)}
		desc := fmt.Sprintf("%s connects to %s:%d every %gs ± 20%% (uniform jitter)", src.name, addrOf(dst), b.port, b.period)
		if sni != "" {
			desc = fmt.Sprintf("%s resolves %s and connects to it over TLS every %gs ± 20%%", src.name, sni, b.period)
		}
		p.add(a, first, Truth{Scenario: b.name, Kind: flow.SignalBeacon, Src: addrOf(src.ip), Dst: addrOf(dst),
			Name: sni, Port: b.port, Proto: flow.ProtoTCP, Start: p.g.tm(first), End: p.g.tm(until),
			Period: time.Duration(b.period * float64(time.Second)), Jitter: 0.2, Description: desc})
	}
}

// beaconAct is a C2 implant calling home every period ± jitter.
type beaconAct struct {
	src, dst       uint32
	port           uint16
	svc, sni       string
	period, jitter float64
	until          int64
	ob, rb         float64
	rng            *rand.Rand
	fc             flowCtx
	cache          dnsCache
}

func (a *beaconAct) fire(g *Generator, now int64) int64 {
	t := now
	if a.sni != "" {
		t = g.resolveA(&a.fc, a.rng, &a.cache, now, a.src, a.sni, a.dst, 300) + 200
	}
	ob, rb := int64(a.ob*uniform(a.rng, 0.95, 1.05)), int64(a.rb*uniform(a.rng, 0.95, 1.05))
	if a.rng.Float64() < 0.03 { // a task: the implant fetches a module
		rb += int64(lognormal(a.rng, 20000, 1))
	}
	dur := secs(uniform(a.rng, 0.2, 1.5))
	if a.svc == "ssl" {
		g.tls(&a.fc, t, a.src, a.dst, a.port, a.sni, dur, ob, rb)
	} else {
		g.tcp(&a.fc, t, a.src, a.dst, a.port, a.svc, dur, ob, rb)
	}
	next := now + secs(a.period*(1+uniform(a.rng, -a.jitter, a.jitter)))
	if next > a.until {
		return -1
	}
	return next
}

// exfil plans the two exfiltrations: the database server at 03:00 the day
// after the attack day, a workstation at 21:30 the day after that; each
// 5–20 GB to a never-seen address in four to eight parallel uploads.
func (p *plan) exfil() {
	for _, e := range []struct {
		name   string
		src    *hostInfo
		offset int
		hour   float64
	}{
		{ScenarioExfilDB, p.g.net.role(RoleDB), 1, 3},
		{ScenarioExfilWS, p.host(), 2, 21.5},
	} {
		dst := p.take(&p.drop)
		total := uniform(p.rng, 5e9, 20e9)
		n := 4 + p.rng.IntN(5)
		a := &exfilAct{src: e.src.ip, dst: dst, rng: newRand(p.g.o.Seed, streamID(e.name, 0)),
			fc: newFlowCtx(p.g.o.Seed, streamID(e.name+"-flows", 0), e.src.linux)}
		start := p.at(e.offset, e.hour)
		var sum, end int64
		at := start
		for i := range n {
			b := int64(total / float64(n) * uniform(p.rng, 0.8, 1.2))
			if i == n-1 {
				b = int64(total) - sum
			}
			sum += b
			dur := secs(float64(b) / uniform(p.rng, 8e6, 15e6))
			a.at, a.bytes, a.dur = append(a.at, at), append(a.bytes, b), append(a.dur, dur)
			end = max(end, at+dur)
			at += secs(uniform(p.rng, 60, 240))
		}
		p.add(a, a.at[0], Truth{Scenario: e.name, Kind: flow.SignalExfil,
			Also: []string{flow.SignalBaseline, flow.SignalNewTalker}, Src: addrOf(e.src.ip), Dst: addrOf(dst), Port: 443, Proto: flow.ProtoTCP, Start: p.g.tm(start),
			End: p.g.tm(end), Bytes: sum, Count: n,
			Description: fmt.Sprintf("%s uploads %.1f GB to the never-seen %s:443 in %d TLS connections, off-hours",
				e.src.name, float64(sum)/1e9, addrOf(dst), n)})
	}
}

// exfilAct runs the uploads of one exfiltration.
type exfilAct struct {
	src, dst       uint32
	at, bytes, dur []int64
	k              int
	rng            *rand.Rand
	fc             flowCtx
}

func (a *exfilAct) fire(g *Generator, now int64) int64 {
	b := a.bytes[a.k]
	g.tls(&a.fc, now, a.src, a.dst, 443, "", a.dur[a.k], b, 8000+b/2000)
	a.k++
	if a.k >= len(a.at) {
		return -1
	}
	return a.at[a.k]
}
