package netsim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"

	"github.com/vigil-soc/vigil/internal/flow"
)

const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// stepsAct runs do at each of the times in at, in order: a scenario whose
// steps are all planned in advance.
type stepsAct struct {
	at []int64
	k  int
	do func(g *Generator, k int, now int64)
}

func (a *stepsAct) fire(g *Generator, now int64) int64 {
	a.do(g, a.k, now)
	a.k++
	if a.k >= len(a.at) {
		return -1
	}
	return a.at[a.k]
}

// dns plans the DNS tunnel (an hour of TXT queries with 50–60 character
// base32 labels, 1–5 per second, the day after the attack day at 14:00) and
// the DGA burst (200 random .com/.net names answered NXDOMAIN within five
// minutes, two days after the attack day at 11:00).
func (p *plan) dns() {
	res := p.g.net.role(RoleDNS)
	h := p.host()
	start := p.at(1, 14)
	until := start + secs(3600)
	t := &tunnelAct{src: h.ip, until: until, rng: newRand(p.g.o.Seed, streamID(ScenarioDNSTunnel, 0)),
		fc: newFlowCtx(p.g.o.Seed, streamID(ScenarioDNSTunnel+"-flows", 0), false)}
	p.add(t, start, Truth{Scenario: ScenarioDNSTunnel, Kind: flow.SignalDNSTunnel, Also: []string{flow.SignalBaseline},
		Src: addrOf(h.ip), Dst: addrOf(res.ip), Name: tunnelDomain, Port: 53, Proto: flow.ProtoUDP,
		Start: p.g.tm(start), End: p.g.tm(until),
		Description: fmt.Sprintf("%s sends TXT queries with 50–60 character base32 labels under %s, "+
			"1–5 per second for an hour", h.name, tunnelDomain)})

	h = p.host()
	start = p.at(2, 11)
	rng := newRand(p.g.o.Seed, streamID(ScenarioDGA, 0))
	fc := newFlowCtx(p.g.o.Seed, streamID(ScenarioDGA+"-flows", 0), false)
	d := &stepsAct{}
	for i, at := 0, start; i < 200; i++ {
		d.at = append(d.at, at)
		at += secs(uniform(rng, 0.3, 1.5))
	}
	src := h.ip
	d.do = func(g *Generator, _ int, now int64) {
		g.lookup(&fc, rng, now, src, rec{name: dgaName(rng), qtype: qtA, rcode: rcNX})
	}
	p.add(d, start, Truth{Scenario: ScenarioDGA, Kind: flow.SignalDGA, Also: []string{flow.SignalBaseline},
		Src: addrOf(h.ip), Dst: addrOf(res.ip), Port: 53, Proto: flow.ProtoUDP, Start: p.g.tm(start),
		End: p.g.tm(d.at[len(d.at)-1]), Count: len(d.at),
		Description: h.name + " resolves 200 random .com and .net names, all NXDOMAIN, within five minutes"})
}

// dgaName returns a random-looking domain name.
func dgaName(rng *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 0, 24)
	for range 8 + rng.IntN(9) {
		if rng.IntN(10) == 0 {
			b = append(b, chars[26+rng.IntN(10)])
		} else {
			b = append(b, chars[rng.IntN(26)])
		}
	}
	if rng.IntN(2) == 0 {
		return string(append(b, ".com"...))
	}
	return string(append(b, ".net"...))
}

// tunnelAct is a DNS tunnel client: TXT queries carrying data in base32.
type tunnelAct struct {
	src   uint32
	until int64
	rng   *rand.Rand
	fc    flowCtx
	buf   []byte
}

func (a *tunnelAct) fire(g *Generator, now int64) int64 {
	b := a.buf[:0]
	for range 50 + a.rng.IntN(11) {
		b = append(b, base32Alphabet[a.rng.IntN(32)])
	}
	b = append(b, '.')
	b = append(b, tunnelDomain...)
	name := string(b)
	n := 16 + a.rng.IntN(49)
	b = append(b[:0], "TXT "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	for range n {
		b = append(b, base32Alphabet[a.rng.IntN(32)])
	}
	a.buf = b
	g.lookup(&a.fc, a.rng, now, a.src, rec{name: name, qtype: qtTXT, ansKind: ansText, ans: string(b)})
	next := now + secs(uniform(a.rng, 0.2, 1.0))
	if next >= a.until {
		return -1
	}
	return next
}

// newTalkers plans a workstation opening RDP to the domain controller for
// the first time (the day after the attack day, 16:20) and one connecting to
// the database server on a port it never served (two days after, 10:15).
func (p *plan) newTalkers() {
	dc, db := p.g.net.role(RoleDC), p.g.net.role(RoleDB)
	h := p.host()
	rng := newRand(p.g.o.Seed, streamID(ScenarioNewTalkerRDP, 0))
	fc := newFlowCtx(p.g.o.Seed, streamID(ScenarioNewTalkerRDP+"-flows", 0), false)
	at := p.at(1, 16+20.0/60)
	dur := secs(uniform(rng, 25, 40) * 60)
	var cache dnsCache
	src := h.ip
	rdp := &stepsAct{at: []int64{at}, do: func(g *Generator, _ int, now int64) {
		t := g.resolveA(&fc, rng, &cache, now, src, dc.fqdn, dc.ip, 1200) + 500
		g.tcp(&fc, t, src, dc.ip, 3389, "rdp", dur, int64(uniform(rng, 2e6, 5e6)), int64(uniform(rng, 20e6, 60e6)))
	}}
	p.add(rdp, at, Truth{Scenario: ScenarioNewTalkerRDP, Kind: flow.SignalNewTalker, Src: addrOf(h.ip),
		Dst: addrOf(dc.ip), Port: 3389, Proto: flow.ProtoTCP, Start: p.g.tm(at), End: p.g.tm(at + dur), Count: 1,
		Description: h.name + " opens an RDP session to the domain controller " + dc.name + " for the first time"})

	h = p.host()
	rng2 := newRand(p.g.o.Seed, streamID(ScenarioNewTalkerDBPort, 0))
	fc2 := newFlowCtx(p.g.o.Seed, streamID(ScenarioNewTalkerDBPort+"-flows", 0), false)
	start := p.at(2, 10.25)
	st := &stepsAct{at: []int64{start, start + secs(190), start + secs(440)}}
	src2 := h.ip
	st.do = func(g *Generator, _ int, now int64) {
		g.tcp(&fc2, now, src2, db.ip, 4444, "", secs(uniform(rng2, 30, 120)), int64(uniform(rng2, 1e4, 1e5)),
			int64(uniform(rng2, 1e6, 5e6)))
	}
	p.add(st, start, Truth{Scenario: ScenarioNewTalkerDBPort, Kind: flow.SignalNewTalker, Src: addrOf(h.ip),
		Dst: addrOf(db.ip), Port: 4444, Proto: flow.ProtoTCP, Start: p.g.tm(start),
		End: p.g.tm(st.at[len(st.at)-1]), Count: len(st.at),
		Description: h.name + " connects three times to the database server " + db.name + " on port 4444, " +
			"which it never served before"})
}

// probe is one scan probe's target and outcome.
type probe struct {
	dst   uint32
	port  uint16
	state uint8
	op    int64
	rp    int64
}

// scanAct sends planned probes, one per run.
type scanAct struct {
	src   uint32
	proto uint8
	sport uint16
	at    []int64
	pr    []probe
	k     int
	rng   *rand.Rand
	fc    flowCtx
}

func (a *scanAct) fire(g *Generator, now int64) int64 {
	pr := a.pr[a.k]
	c := rec{at: now, src: a.src, dst: pr.dst, sport: a.sport, dport: pr.port, proto: a.proto, state: pr.state,
		op: pr.op, rp: pr.rp}
	switch {
	case pr.state == stSF:
		c.ob, c.rb = int64(uniform(a.rng, 150, 250)), int64(uniform(a.rng, 200, 300))
		c.op, c.rp = tcpPackets(c.ob, c.rb)
		c.svc = "smb"
		c.end = now + secs(uniform(a.rng, 0.005, 0.03))
	case pr.op+pr.rp > 1:
		c.end = now + secs(uniform(a.rng, 0.0002, 0.002))
		if pr.state == stS0 {
			c.end = now + secs(1) // a retransmitted SYN
		}
	}
	g.conn(&a.fc, c)
	a.k++
	if a.k >= len(a.at) {
		return -1
	}
	return a.at[a.k]
}

// scans plans an internal horizontal scan of port 445 across the first
// workstation /24 (the day after the attack day, 11:00), an external
// vertical scan of web-01's ports 1–1024 (the attack day, 22:00) and an
// ICMP sweep of the infrastructure /24 (two days after, 15:00).
func (p *plan) scans() {
	h := p.host()
	a := &scanAct{src: h.ip, proto: protoTCP, rng: newRand(p.g.o.Seed, streamID(ScenarioScanHorizontal, 0)),
		fc: newFlowCtx(p.g.o.Seed, streamID(ScenarioScanHorizontal+"-flows", 0), false)}
	for i := 1; i < 255; i++ {
		dst := ip4(10, 10, 3, byte(i))
		if dst == h.ip {
			continue
		}
		pr := probe{dst: dst, port: 445, state: stS0, op: 1}
		if _, live := p.g.net.byIP(addrOf(dst)); live {
			pr.op = 2
			if a.rng.Float64() < 0.3 {
				pr.state = stSF
			}
		}
		a.pr = append(a.pr, pr)
	}
	p.addScan(ScenarioScanHorizontal, a, 1, 11, 0.2, 0.6, Truth{Src: addrOf(h.ip),
		Targets: netip.MustParsePrefix("10.10.3.0/24"), Port: 445, Proto: flow.ProtoTCP,
		Description: h.name + " probes port 445 on every address of 10.10.3.0/24"})

	web := p.g.net.role(RoleWeb)
	v := &scanAct{src: scannerIP, proto: protoTCP, rng: newRand(p.g.o.Seed, streamID(ScenarioScanVertical, 0)),
		fc: newFlowCtx(p.g.o.Seed, streamID(ScenarioScanVertical+"-flows", 0), true)}
	v.sport = uint16(40000 + v.rng.IntN(20000))
	for _, port := range v.rng.Perm(1024) {
		pr := probe{dst: web.ip, port: uint16(port + 1), state: stREJ, op: 1, rp: 1}
		if pr.port == 22 || pr.port == 80 || pr.port == 443 {
			pr.state, pr.op = stRSTO, 2
		}
		v.pr = append(v.pr, pr)
	}
	p.addScan(ScenarioScanVertical, v, 0, 22, 0.05, 0.15, Truth{Src: addrOf(scannerIP), Dst: addrOf(web.ip),
		Port: 1, PortMax: 1024, Proto: flow.ProtoTCP,
		Description: "the Internet host " + addrOf(scannerIP).String() + " SYN-scans ports 1–1024 of " + web.name})

	h = p.host()
	s := &scanAct{src: h.ip, proto: protoICMP, sport: 8, rng: newRand(p.g.o.Seed, streamID(ScenarioScanSweep, 0)),
		fc: newFlowCtx(p.g.o.Seed, streamID(ScenarioScanSweep+"-flows", 0), false)}
	for i := 1; i < 255; i++ {
		pr := probe{dst: ip4(10, 10, 2, byte(i)), state: stOTH, op: 1}
		if _, live := p.g.net.byIP(addrOf(pr.dst)); live {
			pr.rp = 1
		}
		s.pr = append(s.pr, pr)
	}
	p.addScan(ScenarioScanSweep, s, 2, 15, 0.02, 0.1, Truth{Src: addrOf(h.ip),
		Targets: netip.MustParsePrefix("10.10.2.0/24"), Proto: flow.ProtoICMP,
		Description: h.name + " sends ICMP echo requests to every address of 10.10.2.0/24"})
}

// addScan times a's probes from hour on the day offset days after the
// attack day, lo–hi seconds apart, and adds it.
func (p *plan) addScan(name string, a *scanAct, offset int, hour, lo, hi float64, t Truth) {
	at := p.at(offset, hour)
	for range a.pr {
		a.at = append(a.at, at)
		at += secs(uniform(a.rng, lo, hi))
	}
	t.Scenario, t.Kind, t.Also = name, flow.SignalScan, []string{flow.SignalBaseline, flow.SignalNewTalker}
	t.Start, t.End, t.Count = p.g.tm(a.at[0]), p.g.tm(a.at[len(a.at)-1]), len(a.at)
	p.add(a, a.at[0], t)
}

// longSSH plans a six-hour ssh session from a workstation to an external
// host, starting at 19:00 on the attack day.
func (p *plan) longSSH() {
	h, dst := p.host(), p.take(&p.c2)
	rng := newRand(p.g.o.Seed, streamID(ScenarioLongSSH, 0))
	fc := newFlowCtx(p.g.o.Seed, streamID(ScenarioLongSSH+"-flows", 0), false)
	at := p.at(0, 19)
	dur := secs(6 * 3600)
	src := h.ip
	a := &stepsAct{at: []int64{at}, do: func(g *Generator, _ int, now int64) {
		g.tcp(&fc, now, src, dst, 22, "ssh", dur, int64(uniform(rng, 3e6, 5e6)), int64(uniform(rng, 20e6, 40e6)))
	}}
	p.add(a, at, Truth{Scenario: ScenarioLongSSH, Kind: flow.SignalLongConn, Src: addrOf(h.ip), Dst: addrOf(dst),
		Port: 22, Proto: flow.ProtoTCP, Start: p.g.tm(at), End: p.g.tm(at + dur), Count: 1,
		Description: h.name + " keeps an ssh session to " + addrOf(dst).String() + " open for six hours"})
}

// spike plans a workstation browsing ten times its usual rate for an hour,
// two days after the attack day at 14:00.
func (p *plan) spike() {
	h := p.host()
	start := p.at(2, 14)
	a := &spikeAct{src: h.ip, until: start + secs(3600), rng: newRand(p.g.o.Seed, streamID(ScenarioSpike, 0)),
		fc: newFlowCtx(p.g.o.Seed, streamID(ScenarioSpike+"-flows", 0), false)}
	a.zipf = rand.NewZipf(a.rng, 1.2, 2, uint64(len(p.g.net.sites)-1))
	p.add(a, start, Truth{Scenario: ScenarioSpike, Kind: flow.SignalBaseline, Src: addrOf(h.ip),
		Start: p.g.tm(start), End: p.g.tm(a.until + secs(60)),
		Description: h.name + " opens about ten times its usual number of connections for an hour"})
}

// spikeRate is how many times a person's browsing rate the spike adds on
// top of the host's own, so that its connections are about ten times
// usual (browsing makes most but not all of a workstation's connections).
const spikeRate = 11

// spikeAct adds spikeRate times a person's browsing to a host.
type spikeAct struct {
	src   uint32
	until int64
	rng   *rand.Rand
	zipf  *rand.Zipf
	fc    flowCtx
	cache dnsCache
}

func (a *spikeAct) fire(g *Generator, now int64) int64 {
	g.webVisit(&a.fc, a.rng, a.zipf, &a.cache, a.src, now)
	next := now + thinkTime(a.rng, spikeRate*g.o.BrowseScale)
	if next >= a.until {
		return -1
	}
	return next
}
