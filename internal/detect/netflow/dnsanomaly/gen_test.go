package dnsanomaly

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

// t0 is the start of every generated scenario: a Monday, 00:00 UTC.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

var resolver = netip.MustParseAddr("10.0.0.53")

type gen struct {
	rng  *rand.Rand
	recs []flow.Record
	id   uint64
}

func newGen(seed uint64) *gen { return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))} }

func host(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 2, byte(i)}) }

// query appends a query record (and, for NXDOMAIN, the answer as its own
// record, like Suricata logs them).
func (g *gen) query(t time.Time, src netip.Addr, name, qtype, rcode string) {
	g.id++
	g.recs = append(g.recs, flow.Record{Kind: flow.KindDNS, EventID: g.id, Start: t, End: t, Src: src, Dst: resolver,
		SrcPort: uint16(1024 + g.rng.IntN(60000)), DstPort: 53, Proto: flow.ProtoUDP, Name: name, QType: qtype})
	g.id++
	g.recs = append(g.recs, flow.Record{Kind: flow.KindDNS, EventID: g.id, Start: t.Add(20 * time.Millisecond),
		End: t.Add(20 * time.Millisecond), Src: src, Dst: resolver, DstPort: 53, Proto: flow.ProtoUDP, Name: name,
		QType: qtype, RCode: rcode, Answer: true})
}

func (g *gen) chunk(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	base32Alpha = "abcdefghijklmnopqrstuvwxyz234567"
	hexAlpha    = "0123456789abcdef"
)

// tunnel: data chunks in one or two 50–60 character labels, at rate
// queries per second (±50%), for dur.
func (g *gen) tunnel(src netip.Addr, domain, alphabet, qtype string, rate float64, start time.Time, dur time.Duration) {
	for t := start; t.Before(start.Add(dur)); t = t.Add(time.Duration((0.5 + g.rng.Float64()) / rate * float64(time.Second))) {
		name := g.chunk(alphabet, 50+g.rng.IntN(11))
		if g.rng.IntN(2) == 0 {
			name += "." + g.chunk(alphabet, 50+g.rng.IntN(11))
		}
		g.query(t, src, name+".t."+domain, qtype, "NOERROR")
	}
}

// background: every host looks up popular names (A/AAAA/HTTPS), CDN edge
// names with many short distinct labels, and cloud host names.
func (g *gen) background(hosts int, start time.Time, dur time.Duration) {
	popular := []string{"www.news.example", "mail.corp-mail.example", "api.video.example", "login.sso.example",
		"update.os-vendor.example", "www.search.example", "static.social.example", "time.ntp.example"}
	for h := 1; h <= hosts; h++ {
		for t := start.Add(time.Duration(g.rng.IntN(60)) * time.Second); t.Before(start.Add(dur)); t = t.Add(time.Duration(5+g.rng.IntN(55)) * time.Second) {
			switch g.rng.IntN(4) {
			case 0:
				g.query(t, host(h), "e"+strconv.Itoa(1000+g.rng.IntN(9000))+".dscb.edge-cdn.example", "A", "NOERROR")
			case 1:
				g.query(t, host(h), "img-"+strconv.Itoa(g.rng.IntN(400))+".static.cdn-images.example", "AAAA", "NOERROR")
			case 2:
				ip := [4]int{54, g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)}
				g.query(t, host(h), "ec2-"+strconv.Itoa(ip[0])+"-"+strconv.Itoa(ip[1])+"-"+strconv.Itoa(ip[2])+"-"+
					strconv.Itoa(ip[3])+".compute-1.cloud-provider.example", "A", "NOERROR")
			default:
				g.query(t, host(h), popular[g.rng.IntN(len(popular))], []string{"A", "AAAA", "HTTPS"}[g.rng.IntN(3)], "NOERROR")
			}
		}
	}
}

// avLookups: an anti-virus product on hosts 1..n looks up file hashes
// (32 + 8 hex characters) under one reputation domain, a few a minute.
func (g *gen) avLookups(n int, start time.Time, dur time.Duration) {
	for h := 1; h <= n; h++ {
		for t := start.Add(time.Duration(g.rng.IntN(30)) * time.Second); t.Before(start.Add(dur)); t = t.Add(time.Duration(10+g.rng.IntN(30)) * time.Second) {
			g.query(t, host(h), g.chunk(hexAlpha, 32)+"."+g.chunk(hexAlpha, 8)+".v4.rep.av-vendor.example", "A", "NOERROR")
		}
	}
}

var dgaTLDs = []string{"com", "net", "org", "info", "biz", "ru", "top", "xyz"}

// dga: n random names (alphabet, 10–16 characters) under random TLDs
// within spread, all NXDOMAIN.
func (g *gen) dga(src netip.Addr, alphabet string, n int, start time.Time, spread time.Duration) {
	for range n {
		name := g.chunk(alphabet, 10+g.rng.IntN(7)) + "." + dgaTLDs[g.rng.IntN(len(dgaTLDs))]
		g.query(start.Add(time.Duration(g.rng.Int64N(int64(spread)))), src, name, "A", "NXDOMAIN")
	}
}

// wordy: n NXDOMAIN names made of one or two common words (an ad-blocking
// resolver refusing tracker domains on a busy page).
func (g *gen) wordy(src netip.Addr, n int, start time.Time, spread time.Duration) {
	words := []string{"track", "pixel", "analytics", "stats", "ads", "media", "beacon", "metric", "tag", "cloud",
		"insight", "data", "serve", "click", "view", "promo", "target", "audience", "social", "share", "widget",
		"sync", "counter", "collect", "smart", "adserver", "measure", "report"}
	for range n {
		name := words[g.rng.IntN(len(words))]
		if g.rng.IntN(3) > 0 {
			name += words[g.rng.IntN(len(words))]
		}
		name = []string{"", "cdn.", "px."}[g.rng.IntN(3)] + name + "." + []string{"com", "net", "io"}[g.rng.IntN(3)]
		g.query(start.Add(time.Duration(g.rng.Int64N(int64(spread)))), src, name, "A", "NXDOMAIN")
	}
}

func (g *gen) sorted() []flow.Record {
	slices.SortStableFunc(g.recs, func(a, b flow.Record) int { return a.Start.Compare(b.Start) })
	return g.recs
}

type driver struct {
	a     *Analyzer
	maxT  time.Time
	next  time.Time
	sigs  []flow.Signal
	batch time.Duration
}

func newDriver(t testing.TB, cfg Config) *driver {
	t.Helper()
	internal, err := flow.NewSet(flow.DefaultInternal())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, internal, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &driver{a: a, batch: time.Minute}
}

// feed gives the analyzer the records with Advance(max − 2 min) after
// every minute of event time, like the engine.
func (d *driver) feed(recs []flow.Record) {
	for i := range recs {
		r := &recs[i]
		if d.next.IsZero() {
			d.next = r.Start.Add(d.batch)
		}
		if r.Start.After(d.next) {
			d.advance(d.maxT.Add(-2 * time.Minute))
			d.next = r.Start.Add(d.batch)
		}
		if r.Start.After(d.maxT) {
			d.maxT = r.Start
		}
		d.a.Observe(r)
	}
}

func (d *driver) advance(w time.Time) {
	d.a.Advance(w, func(s flow.Signal) { d.sigs = append(d.sigs, s) })
}

func fact(s flow.Signal, key string) string {
	for _, f := range s.Facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func byKey(sigs []flow.Signal) map[string][]flow.Signal {
	m := map[string][]flow.Signal{}
	for _, s := range sigs {
		m[s.Key] = append(m[s.Key], s)
	}
	return m
}

func best(sigs []flow.Signal) flow.Signal {
	var b flow.Signal
	for _, s := range sigs {
		if s.Score > b.Score {
			b = s
		}
	}
	return b
}

func summary(sigs []flow.Signal) string {
	var b strings.Builder
	for k, s := range byKey(sigs) {
		bs := best(s)
		b.WriteString(k + ": " + strconv.Itoa(len(s)) + " signals, best " + num(bs.Score, 3) + " " + bs.Severity.String() + "\n")
	}
	return b.String()
}
