package netsim

import (
	"math"
	"math/rand/v2"
)

// span is a stretch of time in µs since the epoch.
type span struct{ from, to int64 }

// addBackground adds the activity that always runs: people at their
// workstations and the servers' own traffic.
func (g *Generator) addBackground() {
	for _, i := range g.net.ws {
		h := &g.net.hosts[i]
		u := &userAct{h: h, day: -1, rng: newRand(g.o.Seed, streamID("user", i)),
			fc: newFlowCtx(g.o.Seed, streamID("user-flows", i), h.linux)}
		u.zipf = rand.NewZipf(u.rng, 1.2, 2, uint64(len(g.net.sites)-1))
		g.schedule(u, g.days[0])
	}
	for i := range g.net.hosts {
		h := &g.net.hosts[i]
		switch h.role {
		case RoleWeb:
			in := &inboundAct{web: h, rng: newRand(g.o.Seed, streamID("inbound", i)),
				fc: newFlowCtx(g.o.Seed, streamID("inbound-flows", i), false)}
			in.clients = rand.NewZipf(in.rng, 1.1, 4, 32000)
			g.schedule(in, g.days[0]+secs(in.rng.Float64()*30))
			app := &appDBAct{web: h, rng: newRand(g.o.Seed, streamID("appdb", i)),
				fc: newFlowCtx(g.o.Seed, streamID("appdb-flows", i), true)}
			g.schedule(app, g.days[0]+secs(app.rng.Float64()*30))
		case RoleMail:
			m := &mailAct{mail: h, rng: newRand(g.o.Seed, streamID("mail", i)),
				fc: newFlowCtx(g.o.Seed, streamID("mail-flows", i), true)}
			g.schedule(m, g.days[0]+secs(m.rng.Float64()*120))
		}
	}
}

// load is the public web site's relative load at a local time: low at
// night, highest mid-afternoon, half on weekends.
func (g *Generator) load(day int, hour float64) float64 {
	l := 0.08 + 0.92*math.Exp(-math.Pow((hour-14)/4.5, 2)) //nolint:staticcheck // x*x would change the golden stream
	if !g.workday(day) {
		l *= 0.5
	}
	return l
}

// userAct is the person at one workstation: sessions on working days
// (arrival around 08:30, lunch, leaving 17:00–18:30), now and then an
// evening or weekend session, and within a session a heavy-tailed stream of
// page visits and internal work.
type userAct struct {
	h     *hostInfo
	rng   *rand.Rand
	zipf  *rand.Zipf
	fc    flowCtx
	cache dnsCache
	day   int
	sess  [4]span
	ns    int
	si    int
	logon bool
}

func (u *userAct) fire(g *Generator, now int64) int64 {
	for u.si >= u.ns || now >= u.sess[u.si].to {
		if u.si < u.ns {
			u.si++
			u.logon = false
			continue
		}
		u.day++
		if u.day >= g.o.Days {
			return -1
		}
		u.plan(g)
	}
	s := u.sess[u.si]
	if now < s.from {
		return s.from
	}
	if !u.logon {
		u.logon = true
		g.logon(&u.fc, u.rng, &u.cache, u.h, now)
	} else {
		u.visit(g, now)
	}
	return now + thinkTime(u.rng, g.o.BrowseScale)
}

// thinkTime is the pause before a person's next action: mostly short
// clicks within a burst, sometimes minutes of reading.
func thinkTime(rng *rand.Rand, scale float64) int64 {
	var s float64
	if rng.Float64() < 0.7 {
		s = 2 + rng.ExpFloat64()*18
	} else {
		s = min(lognormal(rng, 150, 0.9), 3600)
	}
	return secs(s / scale)
}

// plan decides the sessions of u.day.
func (u *userAct) plan(g *Generator) {
	u.ns, u.si, u.logon = 0, 0, false
	r := u.rng
	add := func(from, to float64) {
		if to > from && u.ns < len(u.sess) {
			u.sess[u.ns] = span{g.clock(u.day, from), g.clock(u.day, to)}
			u.ns++
		}
	}
	if g.workday(u.day) {
		if r.Float64() >= 0.06 { // not ill or on leave
			arrive := min(max(8.5+0.35*r.NormFloat64(), 7.25), 10)
			lunch := 12 + r.Float64()
			add(arrive, lunch)
			add(lunch+uniform(r, 0.5, 1), 17+1.5*r.Float64())
		}
		if r.Float64() < 0.12 {
			e := 20 + r.Float64()
			add(e, e+uniform(r, 0.3, 1.5))
		}
	} else if r.Float64() < 0.12 {
		s := 13 + 4*r.Float64()
		add(s, s+uniform(r, 0.5, 2))
	}
}

// visit does one thing at the workstation.
func (u *userAct) visit(g *Generator, now int64) {
	p := u.rng.Float64()
	switch {
	case p < 0.70:
		g.webVisit(&u.fc, u.rng, u.zipf, &u.cache, u.h.ip, now)
	case p < 0.80:
		g.fileShare(&u.fc, u.rng, &u.cache, u.h.ip, now)
	case p < 0.85:
		web := g.net.role(RoleWeb)
		t := g.resolveA(&u.fc, u.rng, &u.cache, now, u.h.ip, nameIntranet, web.ip, 3600)
		g.tls(&u.fc, t+300, u.h.ip, web.ip, 443, nameIntranet, secs(uniform(u.rng, 0.1, 5)),
			int64(uniform(u.rng, 500, 3000)), int64(lognormal(u.rng, 40000, 1.2)))
	case p < 0.91:
		mail := g.net.role(RoleMail)
		t := g.resolveA(&u.fc, u.rng, &u.cache, now, u.h.ip, nameMail, mail.ip, 3600)
		g.tls(&u.fc, t+300, u.h.ip, mail.ip, 993, nameMail, secs(uniform(u.rng, 0.5, 30)),
			int64(lognormal(u.rng, 3000, 1.5)), int64(lognormal(u.rng, 30000, 1.8)))
	case p < 0.94:
		dc := g.net.role(RoleDC)
		g.tcp(&u.fc, now, u.h.ip, dc.ip, 389, "", secs(uniform(u.rng, 0.01, 0.5)),
			int64(uniform(u.rng, 300, 2000)), int64(uniform(u.rng, 500, 8000)))
	case u.h.admin:
		g.adminSSH(&u.fc, u.rng, u.h.ip, now)
	case u.h.dba:
		db := g.net.role(RoleDB)
		g.tcp(&u.fc, now, u.h.ip, db.ip, 5432, "", secs(uniform(u.rng, 1, 600)),
			int64(lognormal(u.rng, 5000, 1.5)), int64(lognormal(u.rng, 200000, 1.5)))
	default:
		g.webVisit(&u.fc, u.rng, u.zipf, &u.cache, u.h.ip, now)
	}
}

// logon is what a Windows workstation does when its user logs on: find a
// domain controller, get Kerberos tickets, read group policy over SMB.
func (g *Generator) logon(f *flowCtx, rng *rand.Rand, c *dnsCache, h *hostInfo, now int64) {
	dc := g.net.role(RoleDC)
	t := g.lookup(f, rng, now, h.ip, rec{name: "_ldap._tcp.dc._msdcs." + Domain, qtype: qtSRV,
		ansKind: ansText, ans: dc.fqdn, ttl: 600})
	t = g.resolveA(f, rng, c, t+500, h.ip, dc.fqdn, dc.ip, 1200)
	for range 2 {
		g.conn(f, rec{at: t, end: t + secs(uniform(rng, 0.001, 0.01)), src: h.ip, dst: dc.ip, dport: 88,
			proto: protoUDP, state: stSF, svc: "krb", ob: int64(uniform(rng, 1200, 1600)),
			rb: int64(uniform(rng, 1300, 1700)), op: 1, rp: 1})
		t += secs(uniform(rng, 0.005, 0.05))
	}
	g.tcp(f, t, h.ip, dc.ip, 389, "", secs(uniform(rng, 0.02, 0.3)), int64(uniform(rng, 800, 3000)),
		int64(uniform(rng, 2000, 12000)))
	g.tcp(f, t+secs(0.3), h.ip, dc.ip, 445, "smb", secs(uniform(rng, 0.5, 5)), int64(uniform(rng, 3000, 9000)),
		int64(lognormal(rng, 60000, 0.8)))
}

// webVisit is one page view: a lookup unless cached, a few TLS
// connections to the site, and assets from its CDN.
func (g *Generator) webVisit(f *flowCtx, rng *rand.Rand, z *rand.Zipf, c *dnsCache, src uint32, now int64) {
	s := &g.net.sites[z.Uint64()]
	t := g.resolveA(f, rng, c, now, src, s.name, s.ip, s.ttl) + 200
	for range 1 + min(int(rng.ExpFloat64()*0.8), 5) {
		rb := int64(min(lognormal(rng, 30000, 1.6), 4e8))
		g.tls(f, t, src, s.ip, 443, s.name, secs(0.05+float64(rb)/4e6+rng.ExpFloat64()*3),
			int64(300+lognormal(rng, 900, 0.7)), rb)
		t += secs(uniform(rng, 0.005, 0.4))
	}
	if s.cdn < 0 || !enabled(g.o.Benign, BenignCDN) {
		return
	}
	cd := &g.net.cdns[s.cdn]
	for k := range 1 + rng.IntN(len(s.assets)) {
		name := s.assets[k]
		ip := cd.edges[hashName(name)%uint64(len(cd.edges))]
		t = g.resolveA(f, rng, c, t, src, name, ip, 60) + 200
		rb := int64(min(lognormal(rng, 80000, 1.4), 4e8))
		g.tls(f, t, src, ip, 443, name, secs(0.05+float64(rb)/8e6+rng.ExpFloat64()), int64(uniform(rng, 400, 1500)), rb)
	}
}

// fileShare is work on the file server: mostly reads, sometimes a save.
func (g *Generator) fileShare(f *flowCtx, rng *rand.Rand, c *dnsCache, src uint32, now int64) {
	fs := g.net.role(RoleFileServer)
	t := g.resolveA(f, rng, c, now, src, fs.fqdn, fs.ip, 1200) + 300
	ob, rb := int64(lognormal(rng, 8000, 1.2)), int64(lognormal(rng, 150000, 1.8))
	if rng.Float64() < 0.15 {
		ob, rb = rb, ob
	}
	g.tcp(f, t, src, fs.ip, 445, "smb", secs(0.05+float64(ob+rb)/20e6+rng.ExpFloat64()*10), ob, rb)
}

// adminSSH is an administrator's ssh session through the bastion to a
// Linux server.
func (g *Generator) adminSSH(f *flowCtx, rng *rand.Rand, src uint32, now int64) {
	b := g.net.role(RoleBastion)
	dur := secs(min(lognormal(rng, 600, 1), 4*3600))
	g.tcp(f, now, src, b.ip, 22, "ssh", dur, int64(lognormal(rng, 60000, 1)), int64(lognormal(rng, 300000, 1)))
	var linux []*hostInfo
	for i := range g.net.hosts {
		if h := &g.net.hosts[i]; h.linux && h.role != RoleBastion && h.role != RoleWorkstation {
			linux = append(linux, h)
		}
	}
	dst := linux[rng.IntN(len(linux))]
	g.tcp(f, now+secs(uniform(rng, 3, 20)), b.ip, dst.ip, 22, "ssh", dur/2, int64(lognormal(rng, 40000, 1)),
		int64(lognormal(rng, 200000, 1)))
}

// inboundAct is the Internet visiting one public web server.
type inboundAct struct {
	web     *hostInfo
	rng     *rand.Rand
	clients *rand.Zipf
	fc      flowCtx
}

func (a *inboundAct) fire(g *Generator, now int64) int64 {
	client := ip4(198, 19, 128, 0) + 1 + uint32(a.clients.Uint64())
	rb := int64(min(lognormal(a.rng, 20000, 1.5), 5e7))
	g.tls(&a.fc, now, client, a.web.ip, 443, nameWebsite, secs(0.05+float64(rb)/2e6+a.rng.ExpFloat64()*2),
		int64(uniform(a.rng, 500, 3000)), rb)
	d, h := g.dayOf(now)
	return now + secs(a.rng.ExpFloat64()/(0.15*g.load(d, h)))
}

// appDBAct is a web server's application querying the database.
type appDBAct struct {
	web *hostInfo
	rng *rand.Rand
	fc  flowCtx
}

func (a *appDBAct) fire(g *Generator, now int64) int64 {
	db := g.net.role(RoleDB)
	g.tcp(&a.fc, now, a.web.ip, db.ip, 5432, "", secs(uniform(a.rng, 0.5, 30)),
		int64(lognormal(a.rng, 4000, 1.2)), int64(lognormal(a.rng, 40000, 1.5)))
	d, h := g.dayOf(now)
	return now + secs(uniform(a.rng, 10, 50)/g.load(d, h))
}

// mailAct is the mail server receiving and sending mail.
type mailAct struct {
	mail *hostInfo
	rng  *rand.Rand
	fc   flowCtx
}

func (a *mailAct) fire(g *Generator, now int64) int64 {
	size := int64(min(lognormal(a.rng, 20000, 1.5), 3e7))
	dur := secs(0.3 + float64(size)/1e6 + a.rng.ExpFloat64())
	if a.rng.Float64() < 0.6 {
		src := g.net.mailPeer[a.rng.IntN(len(g.net.mailPeer))]
		if a.rng.Float64() < 0.4 {
			src = g.net.mx[a.rng.IntN(len(g.net.mx))]
		}
		g.tcp(&a.fc, now, src, a.mail.ip, 25, "smtp", dur, size, int64(uniform(a.rng, 400, 900)))
	} else {
		dst := g.net.mx[a.rng.IntN(len(g.net.mx))]
		g.tcp(&a.fc, now, a.mail.ip, dst, 25, "smtp", dur, size, int64(uniform(a.rng, 400, 900)))
	}
	d, h := g.dayOf(now)
	return now + secs(a.rng.ExpFloat64()*180/g.load(d, h))
}
