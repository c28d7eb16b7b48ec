package netsim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// addBenign adds the benign look-alikes the options enable and lists them
// in g.benign.
func (g *Generator) addBenign() {
	start, end := g.Start(), g.End()
	every := func(name, kind string, dst uint32, dname string, port uint16, proto uint8, period time.Duration,
		jitter float64, desc string) {
		g.benign = append(g.benign, Truth{Scenario: name, Kind: kind, Benign: true, Dst: addrOf(dst), Name: dname,
			Port: port, Proto: proto, Start: start, End: end, Period: period, Jitter: jitter, Description: desc})
	}
	if enabled(g.o.Benign, BenignNTP) {
		for i := range g.net.hosts {
			h := &g.net.hosts[i]
			for k, srv := range []uint32{ipNTP1, ipNTP2} {
				a := &ntpAct{src: h.ip, srv: srv, poll: 6, rng: newRand(g.o.Seed, streamID("ntp", 2*i+k)),
					fc: newFlowCtx(g.o.Seed, streamID("ntp-flows", 2*i+k), h.linux)}
				g.schedule(a, g.days[0]+secs(a.rng.Float64()*64))
			}
		}
		for _, srv := range []uint32{ipNTP1, ipNTP2} {
			every(BenignNTP, flow.SignalBeacon, srv, "", 123, flow.ProtoUDP, 1024*time.Second, 0.02,
				"every host polls this NTP server, every 64 s at boot rising to every 1024 s")
		}
	}
	if enabled(g.o.Benign, BenignMonitoring) {
		for i := range g.net.hosts {
			a := &periodicAct{src: g.net.hosts[i].ip, dst: ipMonitor, name: nameMonitor, period: 60, jitter: 2,
				rng: newRand(g.o.Seed, streamID("monitor", i)), ob: 1500, rb: 400,
				fc: newFlowCtx(g.o.Seed, streamID("monitor-flows", i), g.net.hosts[i].linux)}
			g.schedule(a, g.days[0]+secs(a.rng.Float64()*60))
		}
		every(BenignMonitoring, flow.SignalBeacon, ipMonitor, nameMonitor, 443, flow.ProtoTCP, time.Minute, 2.0/60,
			"the monitoring agent on every host posts to its SaaS collector every 60 s ± 2 s")
	}
	if enabled(g.o.Benign, BenignAVUpdate) {
		for i := range g.net.hosts {
			a := &periodicAct{src: g.net.hosts[i].ip, dst: ipAV, name: nameAV, period: 4 * 3600, jitter: 60,
				rng: newRand(g.o.Seed, streamID("av", i)), ob: 1000, rb: 5000, bulk: true,
				fc: newFlowCtx(g.o.Seed, streamID("av-flows", i), g.net.hosts[i].linux)}
			g.schedule(a, g.days[0]+secs(a.rng.Float64()*4*3600))
		}
		every(BenignAVUpdate, flow.SignalBeacon, ipAV, nameAV, 443, flow.ProtoTCP, 4*time.Hour, 60.0/(4*3600),
			"the anti-virus on every host checks for updates every 4 h ± 1 min and downloads definitions about daily")
	}
	if enabled(g.o.Benign, BenignBackup) {
		g.addBackups()
	}
	if enabled(g.o.Benign, BenignUpdateBurst) {
		g.addUpdateBurst()
	}
	if enabled(g.o.Benign, BenignCDN) {
		for _, c := range g.net.cdns {
			g.benign = append(g.benign, Truth{Scenario: BenignCDN, Kind: flow.SignalDNSTunnel, Benign: true,
				Name: c.domain, Start: start, End: end, Description: "web pages load assets from many short, " +
					"low-entropy subdomains of this CDN"})
		}
	}
}

// ntpAct is one host's NTP client polling one server: every 64 s at first,
// the interval doubling every four polls up to 1024 s, and now and then
// starting over.
type ntpAct struct {
	src, srv uint32
	poll     uint
	n        int
	rng      *rand.Rand
	fc       flowCtx
}

func (a *ntpAct) fire(g *Generator, now int64) int64 {
	rtt := secs(uniform(a.rng, 0.005, 0.04))
	g.conn(&a.fc, rec{at: now, end: now + rtt, src: a.src, dst: a.srv, sport: 123, dport: 123, proto: protoUDP,
		state: stSF, svc: "ntp", ob: 48, rb: 48, op: 1, rp: 1})
	a.n++
	if a.n%4 == 0 && a.poll < 10 {
		a.poll++
	}
	if a.rng.Float64() < 0.002 {
		a.poll = 6
	}
	return now + secs(float64(uint(1)<<a.poll)*uniform(a.rng, 0.98, 1.02))
}

// periodicAct is an agent on a host calling a service by name every period
// ± jitter seconds: the monitoring agent and the anti-virus update check.
type periodicAct struct {
	src, dst       uint32
	name           string
	period, jitter float64
	ob, rb         float64
	bulk           bool // download a large file about once a day
	rng            *rand.Rand
	fc             flowCtx
	cache          dnsCache
}

func (a *periodicAct) fire(g *Generator, now int64) int64 {
	t := g.resolveA(&a.fc, a.rng, &a.cache, now, a.src, a.name, a.dst, 300) + 200
	rb := int64(a.rb * uniform(a.rng, 0.85, 1.15))
	g.tls(&a.fc, t, a.src, a.dst, 443, a.name, secs(uniform(a.rng, 0.1, 0.4)), int64(a.ob*uniform(a.rng, 0.9, 1.1)), rb)
	if a.bulk && a.rng.IntN(6) == 0 {
		rb := int64(uniform(a.rng, 10e6, 40e6))
		g.tls(&a.fc, t+secs(0.5), a.src, a.dst, 443, a.name, secs(float64(rb)/5e6), int64(uniform(a.rng, 2000, 5000)), rb)
	}
	return now + secs(a.period+uniform(a.rng, -a.jitter, a.jitter))
}

// addBackups adds the nightly backups: the file server (20–60 GB) and the
// database (5–12 GB) to the backup server at 02:00 ± 15 min.
func (g *Generator) addBackups() {
	bk := g.net.role(RoleBackup)
	for i, src := range []struct {
		role   string
		lo, hi float64
	}{{RoleFileServer, 20e9, 60e9}, {RoleDB, 5e9, 12e9}} {
		h := g.net.role(src.role)
		a := &backupAct{src: h.ip, dst: bk.ip, lo: src.lo, hi: src.hi, rng: newRand(g.o.Seed, streamID("backup", i)),
			fc: newFlowCtx(g.o.Seed, streamID("backup-flows", i), h.linux)}
		g.schedule(a, a.nightly(g, 0))
		g.benign = append(g.benign, Truth{Scenario: BenignBackup, Kind: flow.SignalExfil, Also: []string{flow.SignalBaseline},
			Benign: true, Src: addrOf(h.ip), SrcName: h.name, Dst: addrOf(bk.ip), DstName: bk.name, Port: 9103,
			Proto: flow.ProtoTCP, Start: g.Start(), End: g.End(), Bytes: int64((src.lo + src.hi) / 2),
			Description: h.name + " backs up to " + bk.name + " every night at 02:00 ± 15 min in four streams"})
	}
}

// backupAct is one server's nightly backup.
type backupAct struct {
	src, dst uint32
	lo, hi   float64
	day      int
	rng      *rand.Rand
	fc       flowCtx
}

func (a *backupAct) nightly(g *Generator, day int) int64 {
	return g.clock(day, 2+uniform(a.rng, -0.25, 0.25))
}

func (a *backupAct) fire(g *Generator, now int64) int64 {
	total := uniform(a.rng, a.lo, a.hi)
	t := now
	for range 4 {
		b := int64(total / 4 * uniform(a.rng, 0.9, 1.1))
		g.tcp(&a.fc, t, a.src, a.dst, 9103, "", secs(float64(b)/uniform(a.rng, 30e6, 40e6)), b, 4096+b/100000)
		t += secs(uniform(a.rng, 0.1, 2))
	}
	a.day++
	if a.day >= g.o.Days {
		return -1
	}
	return a.nightly(g, a.day)
}

// addUpdateBurst adds the company-wide update: on the day after the attack
// day every host downloads about 500 MB from one CDN address between 10:00
// and 11:00.
func (g *Generator) addUpdateBurst() {
	rng := newRand(g.o.Seed, streamID("update-burst", 0))
	day := g.attackDay(1)
	from, to := g.clock(day, 10), g.clock(day, 11)
	a := &burstAct{rng: rng, fc: newFlowCtx(g.o.Seed, streamID("update-burst-flows", 0), false)}
	for i := range g.net.hosts {
		a.at = append(a.at, from+int64(rng.Float64()*float64(to-from)))
		a.src = append(a.src, g.net.hosts[i].ip)
	}
	// Hosts start in time order; which host starts when stays random.
	order := make([]int, len(a.at))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return int(a.at[x] - a.at[y]) })
	at, src := slices.Clone(a.at), slices.Clone(a.src)
	for i, o := range order {
		a.at[i], a.src[i] = at[o], src[o]
	}
	g.schedule(a, a.at[0])
	g.benign = append(g.benign, Truth{Scenario: BenignUpdateBurst, Kind: flow.SignalBaseline,
		Also: []string{flow.SignalExfil}, Benign: true, Dst: addrOf(ipUpdateCDN), Name: nameUpdateCDN, Port: 443,
		Proto: flow.ProtoTCP, Start: time.UnixMicro(from).In(g.o.Start.Location()),
		End: time.UnixMicro(to + secs(600)).In(g.o.Start.Location()), Bytes: 500e6, Count: len(a.at),
		Description: "every host downloads about 500 MB from one CDN address within one hour"})
}

// burstAct runs the update burst, one host per run.
type burstAct struct {
	at  []int64
	src []uint32
	k   int
	rng *rand.Rand
	fc  flowCtx
}

func (a *burstAct) fire(g *Generator, now int64) int64 {
	var c dnsCache
	src := a.src[a.k]
	t := g.resolveA(&a.fc, a.rng, &c, now, src, nameUpdateCDN, ipUpdateCDN, 300) + 200
	rb := int64(uniform(a.rng, 475e6, 525e6))
	g.tls(&a.fc, t, src, ipUpdateCDN, 443, nameUpdateCDN, secs(float64(rb)/uniform(a.rng, 2e6, 10e6)),
		int64(uniform(a.rng, 2000, 6000)), rb)
	a.k++
	if a.k >= len(a.at) {
		return -1
	}
	return a.at[a.k]
}
